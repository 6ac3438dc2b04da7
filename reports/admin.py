"""Admin: the same visibility as the site. Staff who are not superusers see only reports of the
projects they are members of (their queue); state changes go through reports.services.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from guardian.admin import GuardedModelAdmin

from projects.admin import MemberProjectsOnly
from reports import services
from reports.models import Attachment, Comment, Report, ReportEvent


class CommentInline(admin.StackedInline):
    model = Comment
    fields = ("author", "internal", "body", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = ReportEvent
    fields = ("created_at", "actor", "kind", "from_state", "to_state", "public", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(MemberProjectsOnly, GuardedModelAdmin):
    list_display = (
        "tracking_id",
        "title",
        "project",
        "state",
        "severity",
        "cvss_score",
        "cvss_severity",
        "cve_request_needed",
        "next_due",
        "created_at",
    )
    list_filter = ("project", "state", "severity", "cve_request_needed")
    search_fields = ("tracking_id", "title")
    list_select_related = ("project",)
    ordering = ("next_due", "id")
    readonly_fields = (
        "tracking_id", "project", "revision", "reporter", "state", "created_at", "acknowledged_at",
        "triaged_at", "fixed_at", "closed_at", "paused_at", "paused_for", "ack_due", "detail_due",
        "next_update_due", "resolve_due", "next_due", "duplicate_of",
        "reporter_cvss_vector", "reporter_cvss_score", "reporter_cvss_severity", "cvss_score",
        "cvss_severity", "cve_request_needed", "acknowledged_on_time",
    )  # fmt: skip
    exclude = ("year", "sequence", "state_before_pause", "paused_for_at_triage", "last_update_at")
    inlines = (EventInline, CommentInline)
    actions = ("acknowledge",)

    def has_add_permission(self, request):
        return False  # reports are filed through the intake

    @admin.action(description="Acknowledge the selected reports")
    def acknowledge(self, request, queryset):
        done = 0
        for report in queryset:
            try:
                services.transition(report=report, by=request.user, name="acknowledge")
            except services.ReportError as error:
                self.message_user(request, f"{report.tracking_id}: {error}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{done} report(s) acknowledged.")


@admin.register(Comment)
class CommentAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_field = "report__project_id"
    list_display = ("report", "author", "internal", "created_at")
    list_filter = ("internal",)
    list_select_related = ("report", "author")
    readonly_fields = ("report", "author", "created_at")


@admin.register(ReportEvent)
class ReportEventAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """The audit trail is append-only: no add, change or delete, also for superusers."""

    project_field = "report__project_id"

    list_display = ("report", "kind", "from_state", "to_state", "actor", "public", "created_at")
    list_filter = ("kind", "public")
    list_select_related = ("report", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attachment)
class AttachmentAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_field = "report__project_id"
    list_display = ("name", "report", "size", "uploaded_by", "created_at")
    list_select_related = ("report", "uploaded_by")
    fields = ("report", "uploaded_by", "name", "size", "download")
    readonly_fields = fields

    @admin.display(description="File")
    def download(self, obj):
        # Through the permission-checked view: the file has no public URL.
        url = reverse("reports:download", args=[obj.report.tracking_id, obj.pk])
        return format_html('<a href="{}">Download</a>', url)

    def has_add_permission(self, request):
        return False
