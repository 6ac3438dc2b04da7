"""Reads of reports, always through Report.objects.visible_to (DESIGN §3)."""

import dataclasses
import datetime
import statistics

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, F, OuterRef, Q, Subquery

from projects.models import Project
from reports.models import (
    OPEN_STATES,
    Attachment,
    Comment,
    CreditDisplay,
    CreditPreference,
    Report,
    ReportEvent,
    ReportUserObjectPermission,
    State,
)

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


def report_queue(*, user, now, viewer=None, project=None, state="", severity="", overdue=False,
                 cursor=None, page_size=25):  # fmt: skip
    """The user's reports and their projects' queue, soonest deadline first (nulls last).

    Keyset pagination on (next_due, id): each page is one indexed range scan, however deep.
    """
    reports = Report.objects.visible_to(user, viewer=viewer).select_related("project")
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


def queue_projects(viewer):
    """Projects to filter the portal by: those the user is a member of, or has reported to."""
    if viewer.sees_everything:
        return Project.objects.order_by("name")
    reported_to = Report.objects.filter(reporter=viewer.user).values("project_id")
    return Project.objects.filter(Q(pk__in=list(viewer.roles)) | Q(pk__in=reported_to)).order_by(
        "name"
    )


@dataclasses.dataclass
class TimelineEntry:
    at: datetime.datetime
    event: ReportEvent | None = None
    comment: Comment | None = None


def timeline(report, *, include_internal):
    """Events and comments in order; internal ones only for members."""
    events = report.events.select_related("actor__profile")
    comments = report.comments.select_related("author__profile")
    if not include_internal:
        events = events.filter(public=True)
        comments = comments.filter(internal=False)
    entries = [TimelineEntry(at=e.created_at, event=e) for e in events]
    entries += [TimelineEntry(at=c.created_at, comment=c) for c in comments]
    return sorted(entries, key=lambda entry: entry.at)


@dataclasses.dataclass(frozen=True)
class CreditChoice:
    user: object
    display: str
    name: str
    handle: str

    def get_display_display(self):
        return CreditDisplay(self.display).label


def participants(report):
    """(the report's collaborators by email, {user id: CreditChoice} of the reporter and the
    collaborators who chose how to be credited), in one query.
    """
    shared = ReportUserObjectPermission.objects.filter(
        content_object=report, permission__codename="view_report"
    ).values("user_id")
    choice = CreditPreference.objects.filter(report=report, user=OuterRef("pk"))
    people = (
        get_user_model()
        .objects.filter(Q(pk__in=shared) | Q(pk=report.reporter_id))
        .select_related("profile")
        .annotate(
            credit_display=Subquery(choice.values("display")[:1]),
            credit_name=Subquery(choice.values("name")[:1]),
            credit_handle=Subquery(choice.values("handle")[:1]),
        )
        .order_by("email")
    )
    collaborators, credits = [], {}
    for person in people:
        if person.pk != report.reporter_id:
            collaborators.append(person)
        if person.credit_display:
            credits[person.pk] = CreditChoice(
                person, person.credit_display, person.credit_name, person.credit_handle
            )
    return collaborators, credits


def attachments(report):
    return list(Attachment.objects.filter(report=report).select_related("uploaded_by"))


CLOCK_COLUMNS = {
    "ack_due": "Acknowledgment",
    "detail_due": "Detailed response",
    "next_update_due": "Status update",
    "resolve_due": "Resolution",
}


@dataclasses.dataclass
class ClockRow:
    label: str
    running: int
    overdue: int


@dataclasses.dataclass
class SlaDashboard:
    clocks: list
    open_reports: int
    waiting_for_reporter: int
    median_to_acknowledge: datetime.timedelta | None
    median_to_detail: datetime.timedelta | None
    median_to_resolve: datetime.timedelta | None
    milestones_counted: int


def sla_dashboard(*, project, now):
    """Open reports by clock with overdue counts, and median times over the last 90 days.

    Two queries whatever the number of reports: one aggregate, one list of milestone times.
    """
    counts = {"open": Count("pk", filter=Q(state__in=OPEN_STATES)),
              "paused": Count("pk", filter=Q(state=State.NEEDS_INFO))}  # fmt: skip
    for column in CLOCK_COLUMNS:
        counts[f"{column}_running"] = Count("pk", filter=Q(**{f"{column}__isnull": False}))
        counts[f"{column}_overdue"] = Count("pk", filter=Q(**{f"{column}__lt": now}))
    totals = Report.objects.filter(project=project).aggregate(**counts)
    since = now - datetime.timedelta(days=90)
    rows = list(
        Report.objects.filter(project=project)
        .filter(Q(acknowledged_at__gte=since) | Q(triaged_at__gte=since) | Q(fixed_at__gte=since))
        .values_list("created_at", "acknowledged_at", "triaged_at", "fixed_at")
    )

    def median_after(index):
        spans = [row[index] - row[0] for row in rows if row[index] and row[index] >= since]
        return statistics.median(spans) if spans else None

    return SlaDashboard(
        clocks=[
            ClockRow(label, totals[f"{column}_running"], totals[f"{column}_overdue"])
            for column, label in CLOCK_COLUMNS.items()
        ],
        open_reports=totals["open"],
        waiting_for_reporter=totals["paused"],
        median_to_acknowledge=median_after(1),
        median_to_detail=median_after(2),
        median_to_resolve=median_after(3),
        milestones_counted=len(rows),
    )


ADHERENCE_MINIMUM = 5


def acknowledgment_adherence(*, project, now):
    """Share of the last 12 months' reports acknowledged within the promise, or None under
    ADHERENCE_MINIMUM reports (too few to mean anything). Reports not yet due are left out;
    unacknowledged ones past due count as missed.
    """
    since = now - datetime.timedelta(days=365)
    counted = Report.objects.filter(project=project, created_at__gte=since).aggregate(
        kept=Count("pk", filter=Q(acknowledged_on_time=True)),
        total=Count(
            "pk",
            filter=Q(acknowledged_on_time__isnull=False)
            | Q(acknowledged_at__isnull=True, ack_due__lt=now),
        ),
    )
    if counted["total"] < ADHERENCE_MINIMUM:
        return None
    return round(100 * counted["kept"] / counted["total"]), counted["total"]
