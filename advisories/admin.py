"""Admin for disclosure work, scoped like the reports admin: staff who are not superusers see
only their projects. Publication goes through the site (advisories.services.publish), which
checks the review rule and moves the report to disclosed; the admin cannot publish.
"""

from django.contrib import admin

from advisories.models import Advisory, ChecklistTemplate, Credit, DisclosureProposal
from projects.admin import MemberProjectsOnly


class CreditInline(admin.TabularInline):
    model = Credit
    fields = ("type", "display", "name", "handle", "user")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Advisory)
class AdvisoryAdmin(MemberProjectsOnly, admin.ModelAdmin):
    list_display = ("identifier", "title", "project", "state", "cvss_score", "published_at")
    list_filter = ("project", "state")
    search_fields = ("identifier", "title", "cve_id", "ghsa_id")
    list_select_related = ("project",)
    readonly_fields = (
        "identifier",
        "report",
        "project",
        "state",
        "cvss_vector",
        "cvss_score",
        "cvss_severity",
        "reporter_approved_at",
        "published_at",
    )
    inlines = (CreditInline,)

    def has_add_permission(self, request):
        return False  # drafted from a report

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False  # published text is a public record
        return super().has_change_permission(request, obj)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(MemberProjectsOnly, admin.ModelAdmin):
    list_display = ("project", "updated_at")


@admin.register(DisclosureProposal)
class DisclosureProposalAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_field = "report__project_id"
    list_display = ("report", "proposed_date", "status", "proposed_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("report", "proposed_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # proposals and answers are part of the audit trail
