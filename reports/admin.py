"""Admin: the same visibility and the same rules as the site (DESIGN §3).

Staff who are not superusers see only the reports of the projects they are members of (their
queue). Everything a service owns is read-only here: reports, comments, events and attachments
are never added, changed or deleted in the admin, also not by superusers. Changes are admin
actions that take the site's actions: each checks the site's rule (reports.access) for the user
on each report and calls the same service; anything else links to the report's page.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from projects.access import ADMIN, TRIAGER, remember_roles
from projects.admin import NOBODY, MemberProjectsOnly, ReadOnlyInline, is_superuser
from reports import forms, services
from reports.access import ACTIONS, access_for, can_unblock_senders, member_may
from reports.models import Attachment, BlockedSender, Comment, Report, ReportEvent, Viewer
from reports.postback import form_errors

# Rows the admin shows and never writes: the services (and the audit trail) own them.
READ_ONLY = {"view": TRIAGER, "add": NOBODY, "change": NOBODY, "delete": NOBODY}


def site_action(*, name, description, access_of, form_for, perform, actions=ACTIONS):
    """An admin action taking the site's action `name` (from the `actions` table) on each
    selected row. A first POST shows the site's form for it (`form_for(row, data)`); applying it
    checks, row by row, the site's rule for the user (`access_of(viewer, row).allows(name)`) and
    calls the same service as the site (`perform(row, form, by)`).
    """

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        rows = list(queryset)
        if not rows:  # "select all" on an empty list
            return None
        applying = "apply" in request.POST
        form = form_for(rows[0], request.POST if applying else None)
        if not applying or not form.is_valid():
            return TemplateResponse(
                request,
                "admin/site_action.html",
                {
                    **modeladmin.admin_site.each_context(request),
                    "title": description,
                    "opts": modeladmin.model._meta,
                    "rows": rows,
                    "form": form,
                    "action": name,
                    "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        viewer = Viewer.of(request.user)
        done = 0
        for row in rows:
            access = access_of(viewer, row)
            if not access.allows(name):
                refusal = f"{row}: you may not {description.lower()} here."
                modeladmin.message_user(request, refusal, messages.ERROR)
                continue
            form = form_for(row, request.POST)
            try:
                if not form.is_valid():
                    raise services.ReportError(form_errors(form))
                perform(row, form, request.user)
            except services.ReportError as error:
                modeladmin.message_user(request, f"{row}: {error}", messages.WARNING)
            else:
                done += 1
        modeladmin.message_user(request, f"{description}: {done} of {len(rows)} done.")
        return None

    action.__name__ = name
    action.site_rule = (name, actions)
    return action


class SiteActions:
    """Offers only the site actions the user may take in at least one of their projects; the
    rule is checked again on each row when the action runs.
    """

    def get_actions(self, request):
        actions = super().get_actions(request)
        if is_superuser(request.user):
            roles = {ADMIN}
        else:
            roles = set(remember_roles(request.user).values())
        return {key: entry for key, entry in actions.items() if self._may_take(entry[0], roles)}

    @staticmethod
    def _may_take(action, roles):
        if not hasattr(action, "site_rule"):
            return True
        name, table = action.site_rule
        return any(member_may(name, role, table) for role in roles)


def report_access(viewer, report):
    return access_for(viewer, report)


def _transition(name):
    def perform(report, form, by):
        options = {key: value for key, value in form.cleaned_data.items() if key != "message"}
        message = form.cleaned_data["message"]
        services.transition(report=report, by=by, name=name, message=message, **options)

    return site_action(
        name=name,
        description=services.LABELS[name],
        access_of=report_access,
        form_for=lambda report, data: forms.transition_form(name, report, data),
        perform=perform,
    )


def _score(report, form, by):
    services.set_cvss_vector(report=report, by=by, vector=form.cleaned_data["vector"])


# The transitions the site lets members take (the reporter side's and disclosing are not here).
TRANSITION_ACTIONS = [_transition(name) for name in services.TRANSITIONS if member_may(name, ADMIN)]
SCORE_ACTION = site_action(
    name="score",
    description="Set the CVSS vector",
    access_of=report_access,
    form_for=lambda report, data: forms.CvssForm(data, initial={"vector": report.cvss_vector}),
    perform=_score,
)

SPAM_ACTION = site_action(
    name="mark_spam",
    description="Mark as spam",
    access_of=report_access,
    form_for=lambda report, data: forms.SpamForm(data),  # one form for every row chosen
    perform=lambda report, form, by: services.mark_spam(report=report, by=by),
)


def site_link(url, text):
    return format_html('<a href="{}">{}</a>', url, text)


class CommentInline(ReadOnlyInline, admin.StackedInline):
    model = Comment
    fields = ("author", "internal", "body", "created_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        # Each comment's title names its report (Comment.__str__): no query per comment.
        return super().get_queryset(request).select_related("author", "report")


class EventInline(ReadOnlyInline, admin.TabularInline):
    model = ReportEvent
    fields = ("created_at", "actor", "kind", "from_state", "to_state", "public", "message")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Report)
class ReportAdmin(SiteActions, MemberProjectsOnly, admin.ModelAdmin):
    """Reports of the user's projects, read-only; the lifecycle and scoring are site actions.
    Collaborators are managed on the report's page (reports.services.invite_collaborator).
    """

    project_roles = READ_ONLY
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
    list_filter = (
        ("project", admin.RelatedOnlyFieldListFilter),
        "state",
        "severity",
        "cve_request_needed",
    )
    search_fields = ("tracking_id", "title")
    list_select_related = ("project",)
    ordering = ("next_due", "id")
    exclude = ("year", "sequence", "state_before_pause", "paused_for_at_triage", "last_update_at")
    readonly_fields = ("on_the_site",)
    inlines = (EventInline, CommentInline)
    actions = (*TRANSITION_ACTIONS, SCORE_ACTION, SPAM_ACTION)

    @admin.display(description="On the site")
    def on_the_site(self, obj):
        url = reverse("reports:detail", args=[obj.tracking_id])
        return site_link(url, "Open the report: comments, collaborators, attachments")


class ReportRowAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Rows of a report (comments, events, attachments): read-only, with a link to the report."""

    project_field = "report__project_id"
    project_roles = READ_ONLY

    @admin.display(description="On the site")
    def on_the_site(self, obj):
        url = reverse("reports:detail", args=[obj.report.tracking_id])
        return site_link(url, obj.report.tracking_id)


@admin.register(Comment)
class CommentAdmin(ReportRowAdmin):
    """Comments are append-only: written on the report's page (reports.services.add_comment),
    never edited here; internal ones are seen by members only.
    """

    list_display = ("report", "author", "internal", "created_at")
    list_filter = ("internal",)
    list_select_related = ("report", "author")
    fields = ("report", "author", "internal", "body", "created_at", "on_the_site")
    readonly_fields = fields


@admin.register(ReportEvent)
class ReportEventAdmin(ReportRowAdmin):
    """The audit trail is append-only: no add, change or delete, also for superusers."""

    list_display = ("report", "kind", "from_state", "to_state", "actor", "public", "created_at")
    list_filter = ("kind", "public")
    list_select_related = ("report", "actor")
    readonly_fields = ("on_the_site",)


@admin.register(Attachment)
class AttachmentAdmin(ReportRowAdmin):
    """Attachments are evidence: uploaded on the report's page, never changed here."""

    list_display = ("name", "report", "size", "uploaded_by", "created_at")
    list_select_related = ("report", "uploaded_by")
    fields = ("report", "uploaded_by", "name", "size", "download")
    readonly_fields = fields

    @admin.display(description="File")
    def download(self, obj):
        # Through the permission-checked view: the file has no public URL.
        return site_link(
            reverse("reports:download", args=[obj.report.tracking_id, obj.pk]), "Download"
        )


@admin.register(BlockedSender)
class BlockedSenderAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Addresses a project takes no reports from (a report of theirs was marked as spam on the
    site): listed to the project's members, never written here; the project's admins lift a
    block with the "unblock" action (reports.services.unblock_sender).
    """

    project_roles = READ_ONLY
    list_display = ("email", "project", "report", "blocked_by", "created_at")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("email",)
    list_select_related = ("project", "report", "blocked_by")
    ordering = ("-created_at", "id")
    fields = ("email", "project", "report", "blocked_by", "created_at")
    readonly_fields = fields
    actions = ("unblock",)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._admin_somewhere(request.user):
            actions.pop("unblock", None)
        return actions

    @staticmethod
    def _admin_somewhere(user):
        if is_superuser(user):
            return True
        return ADMIN in set(remember_roles(user).values())

    @admin.action(description="Unblock: take their reports again")
    def unblock(self, request, queryset):
        done = 0
        rows = list(queryset.select_related("project"))
        for block in rows:
            if not can_unblock_senders(request.user, block.project):
                refusal = f"{block.email}: only the admins of {block.project.name} unblock it."
                self.message_user(request, refusal, messages.ERROR)
                continue
            try:
                services.unblock_sender(project=block.project, email=block.email, by=request.user)
            except services.ReportError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"Unblocked {done} of {len(rows)}.")
