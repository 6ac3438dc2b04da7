"""SLA clocks: the one function that turns a report and its policy revision into deadlines.

Clocks run from the filing time, shifted by the time spent waiting for the reporter (needs_info
pauses every clock). Each clock stops at its milestone: acknowledgment, detailed response
(triage), fix. The update clock restarts at every status update. Closed and paused reports have
no open deadline. The disclosure date is not an SLA clock: advisories.models.Disclosure owns it.
"""

import datetime

from reports.models import CLOSED_STATES, State

DEADLINE_FIELDS = ("ack_due", "detail_due", "next_update_due", "resolve_due")


def hours(n):
    return datetime.timedelta(hours=n)


def days(n):
    return datetime.timedelta(days=n)


def deadlines(report):
    """{field: datetime | None} for DEADLINE_FIELDS plus next_due, from the report's revision."""
    due = dict.fromkeys((*DEADLINE_FIELDS, "next_due"))
    if report.state in CLOSED_STATES or report.state == State.NEEDS_INFO:
        return due
    policy = report.revision
    start = report.created_at + report.paused_for
    if policy.ack_hours and report.acknowledged_at is None:
        due["ack_due"] = start + hours(policy.ack_hours)
    if policy.detail_hours and report.triaged_at is None:
        due["detail_due"] = start + hours(policy.detail_hours)
    if report.fixed_at is None:
        if policy.update_days:
            due["next_update_due"] = report.last_update_at + days(policy.update_days)
        if policy.resolve_days:
            due["resolve_due"] = start + days(policy.resolve_days)
        elif policy.fix_days and report.triaged_at is not None:
            paused_since_triage = report.paused_for - report.paused_for_at_triage
            due["resolve_due"] = report.triaged_at + paused_since_triage + days(policy.fix_days)
    open_clocks = [due[name] for name in DEADLINE_FIELDS if due[name] is not None]
    due["next_due"] = min(open_clocks, default=None)
    return due


def apply_deadlines(report):
    """Set the deadline columns; returns their names for save(update_fields=...)."""
    for name, value in deadlines(report).items():
        setattr(report, name, value)
    return [*DEADLINE_FIELDS, "next_due"]
