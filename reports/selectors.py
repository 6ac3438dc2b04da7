"""Reads of reports, always through Report.objects.visible_to (DESIGN §3)."""

import dataclasses
import datetime

from django.core import signing
from django.db.models import F, Q

from projects.models import Membership, Project
from reports.models import OPEN_STATES, Attachment, Comment, Report, ReportEvent

CURSOR_SALT = "reports.queue.cursor"


class BadCursorError(Exception):
    pass


@dataclasses.dataclass
class QueuePage:
    reports: list
    next_cursor: str | None


def encode_cursor(report):
    due = report.next_due.isoformat() if report.next_due else ""
    return signing.dumps([due, report.pk], salt=CURSOR_SALT, compress=True)


def decode_cursor(cursor):
    try:
        due, pk = signing.loads(cursor, salt=CURSOR_SALT)
        return (datetime.datetime.fromisoformat(due) if due else None), int(pk)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadCursorError("This page link is not valid; start from the first page.") from error


def report_queue(*, user, now, project=None, state="", severity="", overdue=False, cursor=None,
                 page_size=25):  # fmt: skip
    """The user's reports and their projects' queue, soonest deadline first (nulls last).

    Keyset pagination on (next_due, id): each page is one indexed range scan, however deep.
    """
    reports = Report.objects.visible_to(user).select_related("project")
    if project is not None:
        reports = reports.filter(project=project)
    if state == "open":
        reports = reports.filter(state__in=OPEN_STATES)
    elif state:
        reports = reports.filter(state=state)
    if severity:
        reports = reports.filter(severity=severity)
    if overdue:
        reports = reports.filter(next_due__lt=now)
    if cursor:
        due, pk = decode_cursor(cursor)
        if due is None:
            reports = reports.filter(next_due__isnull=True, pk__gt=pk)
        else:
            reports = reports.filter(
                Q(next_due__gt=due) | Q(next_due=due, pk__gt=pk) | Q(next_due__isnull=True)
            )
    rows = list(reports.order_by(F("next_due").asc(nulls_last=True), "pk")[: page_size + 1])
    next_cursor = encode_cursor(rows[page_size - 1]) if len(rows) > page_size else None
    return QueuePage(reports=rows[:page_size], next_cursor=next_cursor)


def queue_projects(user):
    """Projects to filter the portal by: those the user is a member of, or has reported to."""
    if user.is_superuser:
        return Project.objects.order_by("name")
    member_of = Membership.objects.filter(user=user).values("project_id")
    reported_to = Report.objects.filter(reporter=user).values("project_id")
    return Project.objects.filter(Q(pk__in=member_of) | Q(pk__in=reported_to)).order_by("name")


@dataclasses.dataclass
class TimelineEntry:
    at: datetime.datetime
    event: ReportEvent | None = None
    comment: Comment | None = None


def timeline(report, *, include_internal):
    """Events and comments in order; internal ones only for members."""
    events = report.events.select_related("actor")
    comments = report.comments.select_related("author")
    if not include_internal:
        events = events.filter(public=True)
        comments = comments.filter(internal=False)
    entries = [TimelineEntry(at=e.created_at, event=e) for e in events]
    entries += [TimelineEntry(at=c.created_at, comment=c) for c in comments]
    return sorted(entries, key=lambda entry: entry.at)


def attachments(report):
    return list(Attachment.objects.filter(report=report).select_related("uploaded_by"))


def member_ids(report):
    return set(
        Membership.objects.filter(project_id=report.project_id).values_list("user_id", flat=True)
    )
