"""Admin for disclosure work, scoped like the reports admin: staff who are not superusers see
only their projects. Advisories, their credits and the disclosure proposals are read-only here:
the text is edited on the advisory's page (advisories.services.update_advisory, which asks the
reporter's approval again), and the admin's only action, sharing a draft for review, checks the
site's rule (advisories.access) and calls the same service. Publication goes through the site
(advisories.services.publish), which checks the review rule; the admin cannot publish. Nor
does it amend or withdraw: revisions are made on the site (advisories.revisions) and shown here.
"""

from django.contrib import admin
from django.urls import reverse

from advisories import services
from advisories.access import ACTIONS, DisclosureAccess
from advisories.models import (
    Advisory,
    AdvisoryRevision,
    ChecklistTemplate,
    Credit,
    DisclosureProposal,
)
from projects.admin import MemberProjectsOnly, ReadOnlyInline
from reports.access import access_for
from reports.admin import READ_ONLY, SiteActions, site_action, site_link
from reports.forms import MessageForm


class CreditInline(ReadOnlyInline, admin.TabularInline):
    # Participants choose their credit on the report page (reports.services.set_credit).
    model = Credit
    fields = ("type", "display", "name", "handle", "user")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class RevisionInline(ReadOnlyInline, admin.TabularInline):
    # Amended and withdrawn on the site (advisories.revisions); the history is never edited.
    model = AdvisoryRevision
    fields = ("number", "kind", "created_at", "created_by", "reason", "changes")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


def advisory_access(viewer, advisory):
    return DisclosureAccess(access_for(viewer, advisory.report))


class NoInputForm(MessageForm):
    """The confirmation of an action that takes no input."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["message"]


def _share(advisory, form, by):
    services.share_for_review(advisory=advisory, by=by)


SHARE_ACTION = site_action(
    name="edit_advisory",
    description="Share with the reporter for review",
    access_of=advisory_access,
    form_for=lambda advisory, data: NoInputForm(data),
    perform=_share,
    actions=ACTIONS,
)


@admin.register(Advisory)
class AdvisoryAdmin(SiteActions, MemberProjectsOnly, admin.ModelAdmin):
    project_roles = READ_ONLY
    list_display = (
        "identifier", "title", "project", "state", "cvss_score", "published_at", "withdrawn_at",
    )  # fmt: skip
    list_filter = (("project", admin.RelatedOnlyFieldListFilter), "state")
    search_fields = ("identifier", "title", "cve_id", "ghsa_id")
    list_select_related = ("project",)
    readonly_fields = ("on_the_site",)
    inlines = (CreditInline, RevisionInline)
    actions = (SHARE_ACTION,)

    @admin.display(description="On the site")
    def on_the_site(self, obj):
        url = reverse("advisories:advisory", args=[obj.report.tracking_id])
        return site_link(url, "Edit, share, publish, amend and withdraw on the advisory's page")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """A project's incident checklist: members read it, the project's admins write it."""

    list_display = ("project", "updated_at")
    list_select_related = ("project",)

    def get_readonly_fields(self, request, obj=None):
        # A template stays with its project: another project's is written by its admins.
        return ("project",) if obj is not None else ()


@admin.register(DisclosureProposal)
class DisclosureProposalAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Proposals and answers are part of the audit trail: read-only, also for superusers."""

    project_field = "report__project_id"
    project_roles = READ_ONLY
    list_display = ("report", "proposed_date", "status", "proposed_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("report", "proposed_by")
