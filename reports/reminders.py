"""Reminders about reports: what a report's dates call for (planning; reports.sweep sends).

Each app plans its own reminders and the glue registers the planners with reports.extensions:
this module plans the SLA clocks' warnings and overdue notices and the needs-info nudges;
advisories plans disclosure dates. `sync`, run by every service that changes a report's dates,
keeps the report's pending Reminder rows equal to what all planners call for. The unique
(report, kind, due_at) key keeps a date from being reminded of twice.
"""

import dataclasses
import datetime
import enum

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.access import ADMIN, TRIAGER
from reports import extensions
from reports.models import CLOSED_STATES, Reminder, State


class Audience(enum.Enum):
    # The project's members holding the kind's `minimum` role; while none does, its security
    # contact hears of it without content (reports.emails.project_side).
    MEMBERS = "members"
    ESCALATION = "escalation"  # the same, and the project's backup contact besides
    REPORTER_SIDE = "reporter_side"  # the reporter and the collaborators
    CLOSE = "close"  # no email: the report is closed (no answer to a request for information)


@dataclasses.dataclass(frozen=True)
class ReminderKind:
    label: str  # also the generic phrase of the notice to a contact: never the report's content
    audience: Audience
    template: str = "reminder"  # templates/emails/<template>.txt and .html
    minimum: str = TRIAGER  # the role that acts on it (MEMBERS and ESCALATION)


@dataclasses.dataclass(frozen=True)
class Planned:
    kind: str
    due_at: datetime.datetime
    send_at: datetime.datetime


class Kind(models.TextChoices):
    """The SLA reminders."""

    ACK_WARNING = "ack_warning", "Acknowledgment due soon"
    ACK_OVERDUE = "ack_overdue", "Acknowledgment overdue"
    BACKUP_ESCALATION = "backup_escalation", "No acknowledgment: backup contact"
    DETAIL_WARNING = "detail_warning", "Detailed response due soon"
    DETAIL_OVERDUE = "detail_overdue", "Detailed response overdue"
    UPDATE_WARNING = "update_warning", "Status update due soon"
    UPDATE_OVERDUE = "update_overdue", "Status update overdue"
    RESOLVE_WARNING = "resolve_warning", "Resolution due soon"
    RESOLVE_OVERDUE = "resolve_overdue", "Resolution overdue"
    INFO_NUDGE = "info_nudge", "Reporter reminded of the open question"
    INFO_CLOSE_WARNING = "info_close_warning", "Reporter warned of automatic closure"
    INFO_AUTO_CLOSE = "info_auto_close", "Closed: no answer from the reporter"


TO_REPORTER = {Kind.INFO_NUDGE, Kind.INFO_CLOSE_WARNING}
INFO_CLOSE_WARNING_DAYS = 7

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
# The notices that a deadline has passed: the sweep also records each in the audit trail
# (ReportEvent "deadline_overdue"), where the webhooks read it.
OVERDUE = {overdue: column for column, (_, _, overdue) in CLOCKS.items()}


def _audience(kind):
    if kind in TO_REPORTER:
        return Audience.REPORTER_SIDE
    if kind == Kind.BACKUP_ESCALATION:
        return Audience.ESCALATION
    if kind == Kind.INFO_AUTO_CLOSE:
        return Audience.CLOSE
    return Audience.MEMBERS


class SlaReminders:
    """The policy's response promises: warn members before each SLA deadline, tell them when it
    passes, escalate an unacknowledged report to the backup contact, and nudge a reporter who
    was asked for information (closing the report when the policy's wait is over).
    """

    # Everything a triager does answers the SLA clocks; the escalation is for the admins (and the
    # backup contact): the project itself has gone silent.
    kinds = {
        kind: ReminderKind(
            kind.label,
            _audience(kind),
            minimum=ADMIN if kind == Kind.BACKUP_ESCALATION else TRIAGER,
        )
        for kind in Kind
    }

    def plan(self, report, *, now):
        if report.state in CLOSED_STATES:
            return []
        if report.state == State.NEEDS_INFO:
            return waiting_for_reporter(report)
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


SLA = SlaReminders()


def waiting_for_reporter(report):
    """The nudges of a report paused for information, the automatic closure last."""
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


def planners():
    """The registered sources of reminders about reports."""
    return [source for source in extensions.reminder_sources() if hasattr(source, "plan")]


def kinds():
    """{kind: ReminderKind} over every registered planner."""
    return {kind: spec for source in planners() for kind, spec in source.kinds.items()}


def planned(report, *, now):
    """The reminders the report's state and dates call for (sent or not), from every planner."""
    return [entry for source in planners() for entry in source.plan(report, now=now)]


def sync(report, *, now=None, new=False):
    """Make the report's pending reminders what the planners say; sent ones are history.
    `new`: the report is being filed and has no reminder yet, so none can be stale.
    """
    wanted = {(p.kind, p.due_at): p for p in planned(report, now=now or timezone.now())}
    pending = () if new else report.reminders.filter(sent_at__isnull=True)
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
