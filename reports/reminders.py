"""SLA reminders: which nags a report's deadlines call for, and the sweep that sends them.

Pending reminders are kept equal to what the report's current deadlines call for (`sync`, run by
every service that changes deadlines). The beat sweep locks due reminders set-based
(SELECT ... FOR UPDATE SKIP LOCKED, in batches), writes their emails to the outbox and marks them
sent in the same transaction: two sweeps never take the same reminder, and a sweep that dies
mid-batch rolls back whole, so its reminders are taken again by the next one. The unique
(report, kind, due_at) key keeps a deadline from being nagged about twice.
"""

import dataclasses
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from projects.models import Membership, SupportedVersion
from reports import emails
from reports.models import (
    CLOSED_STATES,
    EndOfSupportNotice,
    OutboundEmail,
    Reminder,
    ReportUserObjectPermission,
    State,
)

Kind = Reminder.Kind

# deadline column -> (window of the clock from the revision, warning kind, overdue kind)
CLOCKS = {
    "ack_due": (lambda p: datetime.timedelta(hours=p.ack_hours or 0), Kind.ACK_WARNING,
                Kind.ACK_OVERDUE),
    "detail_due": (lambda p: datetime.timedelta(hours=p.detail_hours or 0), Kind.DETAIL_WARNING,
                   Kind.DETAIL_OVERDUE),
    "next_update_due": (lambda p: datetime.timedelta(days=p.update_days or 0),
                        Kind.UPDATE_WARNING, Kind.UPDATE_OVERDUE),
    "resolve_due": (lambda p: datetime.timedelta(days=p.resolve_days or p.fix_days or 0),
                    Kind.RESOLVE_WARNING, Kind.RESOLVE_OVERDUE),
}  # fmt: skip
TO_REPORTER = {Kind.INFO_NUDGE, Kind.INFO_CLOSE_WARNING}
INFO_CLOSE_WARNING_DAYS = 7


@dataclasses.dataclass(frozen=True)
class Planned:
    kind: str
    due_at: datetime.datetime
    send_at: datetime.datetime


def planned(report, *, now):
    """The reminders the report's state and deadlines call for (sent or not)."""
    if report.state in CLOSED_STATES:
        return []
    if report.state == State.NEEDS_INFO:
        return _waiting_for_reporter(report)
    policy, project = report.revision, report.project
    plan = []
    lead = settings.REMINDER_LEAD_FRACTION
    for column, (window, warning, overdue) in CLOCKS.items():
        due = getattr(report, column)
        if due is None:
            continue
        warn_at = due - window(policy) * lead
        if warn_at > now:
            plan.append(Planned(warning, due, warn_at))
        plan.append(Planned(overdue, due, due))
    if report.ack_due is not None and project.backup_email and project.backup_after_hours:
        # Stalwart: "If no response within 48 hours, email hello@stalw.art".
        escalate = (
            report.created_at
            + report.paused_for
            + datetime.timedelta(hours=project.backup_after_hours)
        )
        plan.append(Planned(Kind.BACKUP_ESCALATION, escalate, escalate))
    return plan


def _waiting_for_reporter(report):
    policy, since = report.revision, report.paused_at
    nudge = since + datetime.timedelta(days=policy.needs_info_nudge_days)
    plan = [Planned(Kind.INFO_NUDGE, nudge, nudge)]
    if policy.needs_info_close_days:
        close = since + datetime.timedelta(days=policy.needs_info_close_days)
        warn = close - datetime.timedelta(days=INFO_CLOSE_WARNING_DAYS)
        if warn > nudge:
            plan.append(Planned(Kind.INFO_CLOSE_WARNING, close, warn))
        plan.append(Planned(Kind.INFO_AUTO_CLOSE, close, close))
    return plan


def sync(report, *, now=None):
    """Make the report's pending reminders what `planned` says; sent ones are history."""
    wanted = {(p.kind, p.due_at): p for p in planned(report, now=now or timezone.now())}
    pending = report.reminders.filter(sent_at__isnull=True)
    stale = [r.pk for r in pending if (r.kind, r.due_at) not in wanted]
    if stale:
        # Reminders a sweep holds right now are being sent: leave them (skip, don't wait, so a
        # service and a sweep never wait on each other).
        free = Reminder.objects.filter(pk__in=stale, sent_at__isnull=True).select_for_update(
            skip_locked=True
        )
        Reminder.objects.filter(pk__in=list(free.values_list("pk", flat=True))).delete()
    # ignore_conflicts: a reminder already sent for the same deadline is not made again.
    Reminder.objects.bulk_create(
        [Reminder(report=report, kind=p.kind, due_at=p.due_at, send_at=p.send_at)
         for p in wanted.values()],
        ignore_conflicts=True,
    )  # fmt: skip


def sweep(*, now=None, batch_size=None):
    """Send every reminder whose time has come; returns how many. Safe to run concurrently."""
    now = now or timezone.now()
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, send_at__lte=now)
                .select_related("report__project", "report__revision", "report__reporter")
                .order_by("send_at", "pk")[:batch_size]
            )
            if not batch:
                break
            total += _send(batch, now=now)
    if total:
        emails.deliver_after_commit()  # one delivery run for the whole sweep
    return total


def _send(batch, *, now):
    """Emails of one locked batch in the outbox, reminders marked sent: a constant number of
    queries per batch (auto-closures aside, which run the withdraw transition).
    """
    members = _members_by_project({r.report.project_id for r in batch})
    collaborators = _collaborators_by_report({r.report_id for r in batch if r.kind in TO_REPORTER})
    outbox, closing = [], []
    for reminder in batch:
        report = reminder.report
        if reminder.kind == Kind.INFO_AUTO_CLOSE:
            closing.append(reminder)
            continue
        if reminder.kind in TO_REPORTER:
            to = [report.reporter.email, *collaborators.get(report.pk, [])]
        elif reminder.kind == Kind.BACKUP_ESCALATION:
            to = [report.project.backup_email, *members[report.project_id]["admin"]]
        else:
            to = members[report.project_id]["all"]
        outbox += emails.compose(
            "reminder",
            report=report,
            subject=reminder.get_kind_display(),
            to=to,
            context={"reminder": reminder, "to_reporter": reminder.kind in TO_REPORTER},
            reminder=reminder,
        )
    OutboundEmail.objects.bulk_create(outbox)
    Reminder.objects.filter(pk__in=[r.pk for r in batch]).update(sent_at=now)
    # Last: closing re-plans the report's reminders, which drops its still-pending ones; the
    # batch's own are marked sent by now and stay as history.
    for reminder in closing:
        _auto_close(reminder)
    return len(batch)


def _members_by_project(project_ids):
    found = {pid: {"all": [], "admin": []} for pid in project_ids}
    rows = Membership.objects.filter(project_id__in=project_ids, user__is_active=True).values_list(
        "project_id", "role", "user__email"
    )
    for project_id, role, email in rows:
        found[project_id]["all"].append(email)
        if role == Membership.Role.ADMIN:
            found[project_id]["admin"].append(email)
    return found


def _collaborators_by_report(report_ids):
    if not report_ids:
        return {}
    users = get_user_model().objects.filter(is_active=True)
    rows = ReportUserObjectPermission.objects.filter(
        content_object_id__in=report_ids,
        permission__codename="view_report",
        user__in=users,
    ).values_list("content_object_id", "user__email")
    found = {}
    for report_id, email in rows:
        found.setdefault(report_id, []).append(email)
    return found


def _auto_close(reminder):
    """Withdraw the report if it still waits for the same answer. The reporter may have answered
    while this sweep held the reminder (re-planning skips held reminders rather than wait).
    """
    from reports import services  # services call sync() here

    report = services.lock_report(reminder.report)
    if report.state != State.NEEDS_INFO or (
        _waiting_for_reporter(report)[-1]
        != Planned(Kind.INFO_AUTO_CLOSE, reminder.due_at, reminder.due_at)
    ):
        return
    services.transition(
        report=report,
        by=None,
        name="withdraw",
        message=(
            f"Closed automatically: no answer to the request for information within "
            f"{report.revision.needs_info_close_days} days. Comment to have it reopened."
        ),
    )


def remind_end_of_support(*, today=None):
    """Tell each project's members, once, about series whose end of support is within
    END_OF_SUPPORT_NOTICE_DAYS, for the matrix of the revision in force. Returns how many.
    """
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.END_OF_SUPPORT_NOTICE_DAYS)
    with transaction.atomic():
        candidates = (
            SupportedVersion.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(supported=True, end_of_support__gte=today, end_of_support__lte=horizon,
                    end_of_support_notice__isnull=True, revision__project__active=True)
            # A later revision repeating the series and date was already announced.
            .exclude(Exists(EndOfSupportNotice.objects.filter(
                version__revision__project=OuterRef("revision__project"),
                version__series=OuterRef("series"),
                version__end_of_support=OuterRef("end_of_support"))))
            .select_related("revision__project")
        )  # fmt: skip
        due = [
            v for v in candidates if v.revision.project.revision_in_force(on=today) == v.revision
        ]
        if not due:
            return 0
        members = _members_by_project({v.revision.project_id for v in due})
        outbox = []
        for version in due:
            project = version.revision.project
            outbox += emails.compose_for_project(
                "end_of_support",
                project=project,
                subject=f"{version.series} reaches its end of support on "
                f"{version.end_of_support:%Y-%m-%d}",
                to=members[project.pk]["all"],
                context={"version": version},
            )
        OutboundEmail.objects.bulk_create(outbox)
        EndOfSupportNotice.objects.bulk_create(
            [EndOfSupportNotice(version=v, sent_at=timezone.now()) for v in due]
        )
        emails.deliver_after_commit()
    return len(due)
