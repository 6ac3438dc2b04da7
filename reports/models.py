"""Vulnerability reports: the private record shared by a reporter, collaborators and maintainers.

Nobody else may learn that a report exists: every read goes through `Report.objects.visible_to`
(or `reports.access`), and `state` is written only by the transitions in `reports.services`.
"""

import dataclasses
import datetime
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from projects.access import role_in, roles_of
from projects.models import PolicyRevision, Project


class State(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    TRIAGED = "triaged", "Triaged"
    FIXING = "fixing", "Fix in progress"
    FIXED = "fixed", "Fixed"
    DISCLOSED = "disclosed", "Disclosed"
    NEEDS_INFO = "needs_info", "Needs information from the reporter"
    DUPLICATE = "duplicate", "Closed: duplicate"
    NOT_APPLICABLE = "not_applicable", "Closed: not applicable"
    OUT_OF_SCOPE = "out_of_scope", "Closed: out of scope"
    INFORMATIVE = "informative", "Closed: informative"
    SPAM = "spam", "Closed: spam"
    WITHDRAWN = "withdrawn", "Closed: withdrawn by the reporter"


# Closures a member may choose; `withdrawn` belongs to the reporter.
CLOSURES = (
    State.DUPLICATE,
    State.NOT_APPLICABLE,
    State.OUT_OF_SCOPE,
    State.INFORMATIVE,
    State.SPAM,
)
CLOSED_STATES = frozenset((*CLOSURES, State.WITHDRAWN, State.DISCLOSED))
OPEN_STATES = frozenset(set(State) - CLOSED_STATES)


class Severity(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"

    @classmethod
    def of_cvss(cls, rating):
        """The severity of a CVSS qualitative rating ("None" .. "Critical"); "" for none."""
        rating = (rating or "").lower()
        return rating if rating in cls.values else ""


# Sorting by severity goes by rank (critical first), not by the text of the value; not yet rated
# ranks below "none".
SEVERITY_RANK = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.NONE: 1,
}


@dataclasses.dataclass(frozen=True)
class Viewer:
    """What a user is to reports, read once per request: their roles by project
    (projects.access) and the ids of the reports shared with them (collaborator permission).
    Both the visibility filter and the access object of one request are built from it.

    `shared_ids` is None when not read: access to one report then checks the collaborator
    permission inside the report's own query (ReportQuerySet.visible_to).
    """

    user: object
    roles: dict = dataclasses.field(default_factory=dict)
    shared_ids: frozenset | None = frozenset()

    @classmethod
    def of(cls, user, *, shared=True):
        if not user.is_authenticated or not user.is_active or user.is_superuser:
            return cls(user=user)
        if not shared:
            return cls(user=user, roles=roles_of(user), shared_ids=None)
        shared_ids = ReportUserObjectPermission.objects.filter(
            user=user, permission__codename="view_report"
        ).values_list("content_object_id", flat=True)
        return cls(user=user, roles=roles_of(user), shared_ids=frozenset(shared_ids))

    def role_in(self, project_id):
        """The role in the project: ADMIN for superusers, None for non-members."""
        return role_in(self.user, self.roles, project_id)

    def shares(self, report):
        """Whether `report` (loaded through visible_to with this viewer) is shared with them."""
        if self.shared_ids is None:
            return getattr(report, "shared_with_viewer", False)
        return report.pk in self.shared_ids

    @property
    def sees_everything(self):
        return self.user.is_active and self.user.is_superuser

    @property
    def has_queue(self):
        """Members of a project (any role) and superusers work a queue of reports."""
        return self.sees_everything or bool(self.roles)


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user, *, viewer=None):
        """Reports `user` may know exist (DESIGN §3), never guardian's generic join.

        Reporter, collaborator (view_report object permission), member of the report's project
        (any role), or superuser. Ids first for lists; with a viewer read without its shared ids
        (one report: reports.access) the permission is an EXISTS on its indexed rows, annotated
        as `shared_with_viewer`. Pass the request's `viewer` when it has been read already.
        """
        if not may_see_reports(user):
            return self.none()
        viewer = viewer or Viewer.of(user)
        if viewer.sees_everything:
            return self.all()
        reports, shared = self, Q(pk__in=viewer.shared_ids)
        if viewer.shared_ids is None:
            permission = ReportUserObjectPermission.objects.filter(
                content_object=OuterRef("pk"), user=user, permission__codename="view_report"
            )
            reports, shared = (
                self.annotate(shared_with_viewer=Exists(permission)),
                Q(shared_with_viewer=True),
            )
        return reports.filter(Q(reporter=user) | _of_projects(viewer) | shared)

    # The two lists of `/reports/` and the API, each one side of visible_to's rule and nothing
    # else: their rows are visible to the viewer by that side alone, so neither needs the whole
    # OR (nor, for the queue, the EXISTS on the collaborator permission).

    def of_viewers_projects(self, viewer):
        """The queue: the reports of the projects where the viewer is a member (any role), every
        report for superusers. visible_to's member rule alone: one `project_id IN (…)`.
        """
        user = viewer.user
        if not may_see_reports(user):
            return self.none()
        if viewer.sees_everything:
            return self.all()
        return self.filter(_of_projects(viewer))

    def filed_by_or_shared_with(self, viewer):
        """My reports: those the viewer filed or that are shared with them (collaborators).
        visible_to's reporter and collaborator rules, ids first: the viewer must carry its
        `shared_ids` (Viewer.of(user), not shared=False).
        """
        user = viewer.user
        if not may_see_reports(user):
            return self.none()
        if viewer.shared_ids is None:
            raise ValueError("My reports lists by the shared ids: read them (Viewer.of(user)).")
        return self.filter(Q(reporter=user) | Q(pk__in=viewer.shared_ids))


def may_see_reports(user):
    """Anonymous visitors and deactivated accounts see no report, whatever else holds."""
    return user.is_authenticated and user.is_active


def _of_projects(viewer):
    """visible_to's member rule: the report's project is one of the viewer's (any role)."""
    return Q(project_id__in=list(viewer.roles))


class Report(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reports")
    revision = models.ForeignKey(
        PolicyRevision,
        on_delete=models.PROTECT,
        related_name="reports",
        help_text="The policy in force when the report was filed; its deadlines follow it.",
    )
    tracking_id = models.CharField(
        verbose_name="tracking ID", max_length=32, unique=True, editable=False
    )
    year = models.PositiveSmallIntegerField(editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports"
    )
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    # The one severity lists filter and sort by. With a maintainers' CVSS vector it follows the
    # score (compute_cvss) unless overridden with a reason; without one it is set by hand.
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    severity_override_reason = models.TextField(
        blank=True,
        help_text="Why the severity differs from the maintainers' CVSS rating (members only); "
        "empty: it follows the CVSS score.",
    )
    # Computed by the database from `severity`, so it can never disagree with it; indexed for the
    # queue's severity order (reports.selectors.SORTS).
    severity_rank = models.GeneratedField(
        expression=Case(
            *(When(severity=value, then=Value(rank)) for value, rank in SEVERITY_RANK.items()),
            default=Value(0),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_reports",
        db_index=False,  # report_assignee_idx leads with it
        help_text="The project member working on it (reports.services.assign); members only.",
    )

    # The intake's standard fields (projects.intake.STANDARD_FIELDS), markdown.
    vulnerability_type = models.CharField(max_length=200, blank=True)
    affected_versions = models.JSONField(default=list, blank=True)
    affected_version = models.CharField(
        max_length=100,
        blank=True,
        help_text='The exact version the reporter found affected, e.g. "0.13.2"; its series is '
        "in affected_versions when the policy has a version matrix.",
    )
    unsupported_versions = models.JSONField(
        default=list,
        blank=True,
        help_text="Affected series out of support on the filing day, by the matrix of the "
        "report's revision (set at intake).",
    )
    affected_components = models.TextField(blank=True)
    description = models.TextField(blank=True)
    steps_to_reproduce = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    file_paths = models.TextField(blank=True)
    commit_branch = models.CharField(max_length=200, blank=True)
    configuration = models.TextField(blank=True)
    proof_of_concept = models.TextField(blank=True)
    suggested_fix = models.TextField(blank=True)
    extra_fields = models.JSONField(default=dict, blank=True)
    missing_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Fields the policy requires that the report arrived without (by email): "
        "their labels, shown to members and asked of the reporter.",
    )
    # CVSS: the reporter's suggestion is kept; the maintainers' vector is authoritative. Scores
    # are computed by a task (reports.tasks.compute_cvss) whenever a vector is saved.
    reporter_cvss_vector = models.CharField(
        verbose_name="reporter's CVSS vector", max_length=200, blank=True
    )
    reporter_cvss_score = models.DecimalField(
        verbose_name="reporter's CVSS score", max_digits=3, decimal_places=1, null=True, blank=True
    )
    reporter_cvss_severity = models.CharField(
        verbose_name="reporter's CVSS severity", max_length=10, blank=True
    )
    cvss_vector = models.CharField(verbose_name="CVSS vector", max_length=200, blank=True)
    cvss_score = models.DecimalField(
        verbose_name="CVSS score", max_digits=3, decimal_places=1, null=True, blank=True
    )
    cvss_severity = models.CharField(verbose_name="CVSS severity", max_length=10, blank=True)
    cvss_error = models.TextField(
        verbose_name="CVSS error",
        blank=True,
        help_text="Why a stored vector could not be scored; the sweep skips it.",
    )
    cve_request_needed = models.BooleanField(
        verbose_name="CVE request needed",
        default=False,
        help_text="The maintainers' CVSS score reaches the project's CVE threshold.",
    )

    # Closure.
    resolution_reason = models.TextField(blank=True, help_text="Shown to the reporter.")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    # Milestones that stop SLA clocks, and the needs-info pause.
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_on_time = models.BooleanField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField(
        help_text="Last status update to the reporter (public comment or transition)."
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_for = models.DurationField(default=datetime.timedelta)
    paused_for_at_triage = models.DurationField(
        default=datetime.timedelta, help_text="Pause already counted when the fix clock started."
    )
    state_before_pause = models.CharField(max_length=20, choices=State.choices, blank=True)

    # Deadlines (reports.sla.deadlines), recomputed by every transition; null = no open clock.
    ack_due = models.DateTimeField(
        verbose_name="acknowledgment due", null=True, blank=True, db_index=True
    )
    detail_due = models.DateTimeField(null=True, blank=True, db_index=True)
    next_update_due = models.DateTimeField(null=True, blank=True, db_index=True)
    resolve_due = models.DateTimeField(null=True, blank=True, db_index=True)
    next_due = models.DateTimeField(null=True, blank=True, help_text="Earliest open SLA deadline.")

    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "year", "sequence"], name="one_tracking_number_per_project_year"
            )
        ]
        indexes = [
            # The portal's sort (next due, nulls last, then id) and its filters.
            models.Index(fields=["next_due", "id"], name="report_next_due_idx"),
            models.Index(fields=["project", "state", "next_due"], name="report_project_state_idx"),
            models.Index(fields=["severity"], name="report_severity_idx"),
            # The queue's other orders (reports.selectors.SORTS) and "assigned to me".
            models.Index(fields=["-severity_rank", "id"], name="report_severity_rank_idx"),
            models.Index(fields=["created_at", "id"], name="report_created_idx"),
            # Each order within one project (a maintainer's queue, the project filter), and
            # My reports in the default order: a page is one range scan of these, not a walk
            # over every project's rows in that order (migration 0019 builds them online).
            models.Index(fields=["project", "next_due", "id"], name="report_project_due_idx"),
            models.Index(
                fields=["project", "-severity_rank", "id"], name="report_project_rank_idx"
            ),
            models.Index(fields=["project", "created_at", "id"], name="report_project_created_idx"),
            models.Index(fields=["reporter", "next_due", "id"], name="report_reporter_due_idx"),
            # My reports' project filter: the projects a reporter filed to, one probe each.
            models.Index(fields=["reporter", "project"], name="report_reporter_project_idx"),
            models.Index(fields=["assignee", "next_due"], name="report_assignee_idx"),
            models.Index(fields=["state"], name="report_state_idx"),
        ]

    def __str__(self):
        return f"{self.tracking_id}: {self.title}"

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def is_paused(self):
        return self.state == State.NEEDS_INFO

    @property
    def cvss_rating(self):
        """The Severity the maintainers' scored CVSS vector implies; "" while there is none."""
        return Severity.of_cvss(self.cvss_severity) if self.cvss_vector else ""

    @property
    def severity_is_override(self):
        return bool(self.severity_override_reason)

    @property
    def severity_follows_cvss(self):
        return bool(self.cvss_vector) and not self.severity_is_override

    def extra_field_items(self):
        """The project-specific intake answers as (label, value), labelled and ordered as the
        policy revision the report was filed under defines them ("Node.js version", not
        "nodejs_version"); an answer the revision no longer names keeps its stored name.
        """
        labels = {item["name"]: item["label"] for item in self.revision.intake_extra_fields}
        named = [
            (labels[name], self.extra_fields[name]) for name in labels if name in self.extra_fields
        ]
        unnamed = [
            (name.replace("_", " ").capitalize(), value)
            for name, value in self.extra_fields.items()
            if name not in labels
        ]
        return named + unnamed


class ReportUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian permissions: a collaborator holds `view_report` on the report."""

    content_object = models.ForeignKey(Report, on_delete=models.CASCADE)


class ReportGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Report, on_delete=models.CASCADE)


class TrackingCounter(models.Model):
    """Last tracking number given per project and year, locked while a report is filed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="one_counter_per_project_year")
        ]

    def __str__(self):
        return f"{self.project_id}/{self.year}: {self.last}"


class InvitationQuerySet(models.QuerySet):
    def pending(self, *, now):
        """Invitations that can still be accepted: not used, not revoked, not expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """An invitation to follow a report, sent to an address: accepted once, by whoever signs in
    with that address verified, before it expires; revocable until then.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.report_id}"


class CreditDisplay(models.TextChoices):
    NAME = "name", "By name"
    HANDLE = "handle", "By handle"
    ANONYMOUS = "anonymous", "Anonymously"


class CreditPreference(models.Model):
    """How a participant of a report (the reporter, a collaborator) wants to be credited when it
    is disclosed: chosen at intake by the reporter, changed until publication. Advisories credit
    people from these (advisories.services.publish); without one a collaborator is not credited.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="credit_preferences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    display = models.CharField(max_length=10, choices=CreditDisplay.choices)
    name = models.CharField(max_length=200, blank=True)
    handle = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="one_credit_choice_per_person")
        ]

    def __str__(self):
        return f"{self.user_id} on {self.report_id}: {self.display}"


class Comment(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    internal = models.BooleanField(
        default=False, help_text="Members only: never shown or sent to reporters."
    )
    by_member = models.BooleanField(
        default=False,
        help_text="Written for the project (a member at the time): the reporter side sees the "
        "security team, not the person.",
    )
    created_at = models.DateTimeField()
    # A reply by email: the message it came in (raw for audit; the body holds the trimmed text).
    inbound_email = models.OneToOneField(
        "mailer.InboundEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment",
        verbose_name="received by email",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["report", "created_at"], name="comment_report_idx")]
        # PostgreSQL also has a full-text index on the body (migration 0013, reports.search).

    def __str__(self):
        return f"{'Internal' if self.internal else 'Public'} comment on {self.report.tracking_id}"


class AttachmentStorage(FileSystemStorage):
    """ATTACHMENT_ROOT, outside static and media: files have no URL and are served only through
    the permission-checked download view. The location is read at use, not at import.
    """

    @property
    def base_location(self):
        return str(settings.ATTACHMENT_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Report attachments have no public URL; use reports:download.")


def attachment_storage():
    return AttachmentStorage()


class Attachment(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    file = models.FileField(storage=attachment_storage, upload_to="reports/%Y/%m/")
    name = models.CharField(max_length=255, help_text="The uploader's file name.")
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name


class ReportEvent(models.Model):
    """Append-only audit trail: who did what, when, from which state to which."""

    class Kind(models.TextChoices):
        CREATED = "created", "Report filed"
        TRANSITION = "transition", "State changed"
        SEVERITY = "severity", "Severity set"
        COLLABORATOR_ADDED = "collaborator_added", "Collaborator added"
        COLLABORATOR_INVITED = "collaborator_invited", "Collaborator invited"
        COLLABORATOR_REMOVED = "collaborator_removed", "Collaborator removed"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        ATTACHMENT = "attachment", "Attachment added"
        CVSS = "cvss", "CVSS vector set"
        ASSIGNMENT = "assignment", "Assignment"
        DISCLOSURE = "disclosure", "Disclosure"
        SENDER_UNBLOCKED = "sender_unblocked", "Sender unblocked"
        DEADLINE_OVERDUE = "deadline_overdue", "Deadline overdue"

    # Its index is event_report_idx (report, created_at): a second one on report alone cost every
    # event written its upkeep (a sweep writes thousands of overdue notices, issue 15).
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    message = models.TextField(blank=True)
    public = models.BooleanField(default=True, help_text="Shown to the reporter and collaborators.")
    by_member = models.BooleanField(
        default=False,
        help_text="Done for the project (a member at the time): the reporter side sees the "
        "security team, not the person.",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["report", "created_at"], name="event_report_idx")]

    def __str__(self):
        return f"{self.report_id} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class Reminder(models.Model):
    """One reminder of one date of a report, sent once: unique on (report, kind, due_at).

    Each app plans its own kinds (reports.reminders: SLA clocks; advisories: disclosure dates);
    pending reminders follow the report's dates (reports.reminders.sync) and the beat sweep
    (reports.sweep) sends those whose send_at has come and marks them in the same transaction.
    """

    # Its index is the unique (report, kind, due_at): a second one on report alone cost every
    # reminder planned, and every one the sweep marks sent, its upkeep (issue 15).
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    kind = models.CharField(max_length=30, help_text="Named by the app that planned it.")
    due_at = models.DateTimeField(help_text="The date this reminder is about.")
    send_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kind", "due_at"], name="one_reminder_per_deadline"
            )
        ]
        indexes = [
            # The sweep: pending reminders whose time has come, oldest first.
            models.Index(
                fields=["send_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="reminder_pending_idx",
            )
        ]

    def __str__(self):
        return f"{self.kind} for report {self.report_id}"


class BlockedSender(models.Model):
    """An address whose reports a project no longer takes, by the web form or by email: set when
    a member marks one of its reports as spam (reports.services.mark_spam), lifted by the
    project's admins (unblock_sender). Per project: another project still hears the sender.
    """

    # The unique (project, email) index serves lookups by project too.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.EmailField(help_text="Lower-case.")
    report = models.ForeignKey(
        Report,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The report marked as spam.",
    )
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Also the index of every intake's lookup (reports.selectors.sender_blocked).
            models.UniqueConstraint(fields=["project", "email"], name="one_block_per_sender"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="blocked_email_lower"),
        ]

    def __str__(self):
        return f"{self.email} (blocked)"
