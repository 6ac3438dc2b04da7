from django import template

from advisories import forms, selectors
from reports.models import OPEN_STATES

register = template.Library()


@register.inclusion_tag("advisories/_incident_panel.html")
def incident_panel(access):
    """The report page's disclosure panel: checklist progress, disclosure date and proposals,
    advisory state. Rendered by the reports template, owned here (reports/ never imports us).
    """
    report = access.report
    advisory = selectors.advisory_of(report)
    return {
        "access": access,
        "report": report,
        "proposals": list(report.disclosure_proposals.all()[:5]),
        "advisory": advisory if selectors.can_read_advisory(access, advisory) else None,
        # Open states include "fixed", which waits for its disclosure.
        "can_propose": access.allows("propose_disclosure") and report.state in OPEN_STATES,
        "can_respond": access.allows("respond_disclosure"),
        "can_checklist": access.allows("checklist"),
        "can_draft": access.allows("edit_advisory") and advisory is None,
        "propose_form": forms.DisclosureProposalForm(),
        "response_form": forms.DisclosureResponseForm(),
        "release_form": forms.FixReleaseForm(initial={"released_on": report.fix_released_on}),
    }
