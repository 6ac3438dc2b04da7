"""Disclosure figures on reports' pages, owned here (reports never imports advisories): the
report page's panel and the queue's checklist column.
"""

from django import template

from advisories import forms, selectors, services
from advisories.access import DisclosureAccess
from reports.models import CLOSED_STATES, OPEN_STATES

register = template.Library()


@register.inclusion_tag("advisories/_incident_panel.html")
def incident_panel(report_access):
    """Checklist progress, disclosure date and proposals, the fix review, advisory state: four
    queries.
    """
    access = DisclosureAccess(report_access)
    report = access.report
    disclosure, advisory = selectors.disclosure_of(report)
    can = access.can
    return {
        "can": can,
        "report": report,
        "disclosure": disclosure,
        "upcoming": report.state not in CLOSED_STATES and disclosure and disclosure.due,
        "proposals": list(report.disclosure_proposals.all()[:5]),
        "fix_reviews": list(report.fix_reviews.select_related("attachment")[:3]),
        "reviews_fix": report.revision.reporter_reviews_fix,
        "advisory": advisory if access.can_read(advisory) else None,
        # Open states include "fixed", which waits for its disclosure.
        "can_propose": can["propose_disclosure"] and report.state in OPEN_STATES,
        "can_draft": can["edit_advisory"]
        and advisory is None
        and report.state in services.DRAFTABLE,
        "reporter_side": not access.is_member,
        "propose_form": forms.DisclosureProposalForm(),
        "response_form": forms.DisclosureResponseForm(),
        "release_form": forms.FixReleaseForm(
            initial=disclosure
            and {"fix_version": disclosure.fix_version, "released_on": disclosure.fix_released_on}
        ),
        "fix_form": forms.FixShareForm(report=report, auto_id="id_fix_%s"),
        "fix_response_form": forms.FixResponseForm(auto_id="id_fixanswer_%s"),
    }


@register.simple_tag
def checklist_progress(reports, viewer):
    """{report id: "3/12"} for the page's reports with a started checklist in the viewer's own
    projects (checklist progress is internal): one query per page at most.
    """
    members_of = {pk for pk in {report.project_id for report in reports} if viewer.role_in(pk)}
    mine = [report for report in reports if report.project_id in members_of]
    progress = selectors.checklist_progress(mine) if mine else {}
    return {pk: f"{done}/{total}" for pk, (done, total) in progress.items()}
