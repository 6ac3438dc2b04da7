"""Reads of reports, always through Report.objects.visible_to (DESIGN §3)."""

import dataclasses
import datetime
import functools
import statistics
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery

from projects.access import member_projects
from projects.models import Project
from projects.precompiled import Precompiled
from reports import search as search_reports
from reports.models import (
    OPEN_STATES,
    Attachment,
    BlockedSender,
    Comment,
    CreditDisplay,
    CreditPreference,
    Report,
    ReportEvent,
    ReportUserObjectPermission,
    State,
    Viewer,
    may_see_reports,
)

CURSOR_SALT = "reports.queue.cursor"


class BadCursorError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Sort:
    """One order of the queue: a column (ties broken by id) and its index (Report.Meta)."""

    label: str
    column: str
    descending: bool = False
    nullable: bool = False  # nulls come last whatever the direction

    def order_by(self):
        column = F(self.column)
        key = column.desc(nulls_last=True) if self.descending else column.asc(nulls_last=True)
        return [key, "-pk" if self.by_newest_id else "pk"]

    @property
    def by_newest_id(self):
        # Age orders break ties on id in their own direction (one backward index scan).
        return self.column == "created_at" and self.descending

    def after(self, value, pk):
        """Rows after (value, pk) in this order: the keyset condition."""
        later = "lt" if self.descending else "gt"
        beyond = {f"pk__{'lt' if self.by_newest_id else 'gt'}": pk}
        if value is None:  # on the nulls, which come last: only the id goes on
            return Q(**{f"{self.column}__isnull": True}, **beyond)
        condition = Q(**{f"{self.column}__{later}": value}) | Q(**{self.column: value}, **beyond)
        if self.nullable:
            condition |= Q(**{f"{self.column}__isnull": True})
        return condition


# ?sort= values; the first is the default. Each has its index: report_next_due_idx,
# report_severity_rank_idx, report_created_idx (both directions).
SORTS = {
    "deadline": Sort("Deadline (soonest first)", "next_due", nullable=True),
    "severity": Sort("Severity (critical first)", "severity_rank", descending=True),
    "newest": Sort("Age (newest first)", "created_at", descending=True),
    "oldest": Sort("Age (oldest first)", "created_at"),
}
DEFAULT_SORT = "deadline"
SORT_CHOICES = [(key, order.label) for key, order in SORTS.items()]


@dataclasses.dataclass
class QueuePage:
    reports: list
    next_cursor: str | None


def encode_cursor(sort, report):
    """A signed page link for `sort`, after `report`: it carries the sort it was made for."""
    value = getattr(report, SORTS[sort].column)
    if isinstance(value, datetime.datetime):
        value = value.isoformat()
    # Not compressed: a link this short never comes out shorter (signing then keeps it as it is).
    return signing.dumps([sort, value, report.pk], salt=CURSOR_SALT)


def decode_cursor(cursor, sort):
    """(value, pk) of a page link made for `sort`; BadCursorError for anything else."""
    try:
        made_for, value, pk = signing.loads(cursor, salt=CURSOR_SALT)
        if made_for != sort:
            raise BadCursorError(
                "This page link belongs to another sort order; start from the first page."
            )
        if value is not None and SORTS[sort].column in {"next_due", "created_at"}:
            value = datetime.datetime.fromisoformat(value)
        elif value is not None:
            value = int(value)
        return value, int(pk)
    except (signing.BadSignature, ValueError, TypeError, KeyError) as error:
        raise BadCursorError("This page link is not valid; start from the first page.") from error


QUEUE, MINE = "queue", "mine"


class RowProject(NamedTuple):
    """A row's project: what the list prints of it (one per project, shared by its rows)."""

    pk: int
    slug: str
    name: str


class RowPerson(NamedTuple):
    """A row's assignee: what the list prints of them (one per person, shared by their rows)."""

    pk: int
    email: str
    display_name: str  # "" without a profile or a chosen name (projects.people)


class QueueRow(NamedTuple):
    """A row of the queue or of My reports: exactly the columns the list prints (the page
    templates/reports/report_list.html with report_tags.report_rows, the API's
    ReportRowSerializer), its row's access (project, reporter: reports.access) and its page
    link (encode_cursor), read as tuples rather than model instances: a page of 25 Report
    instances with their related rows and deferred fields cost more than its query.
    `project` and `assignee` read like the report's (`row.project.name`,
    `row.assignee.email`). Collaborator sharing is not part of a row: the list's only
    member-side column, the assignee, goes by the viewer's role in the project.
    """

    pk: int
    tracking_id: str
    title: str
    state: str
    severity: str
    severity_rank: int
    cvss_score: object  # Decimal or None
    cvss_severity: str
    cve_request_needed: bool
    reporter_cvss_score: object  # Decimal or None
    next_due: datetime.datetime | None
    created_at: datetime.datetime
    project_id: int
    reporter_id: int
    assignee_id: int | None
    checklist_done: int | None  # the advisory's incident checklist (None: no disclosure row)
    checklist_total: int | None
    project: RowProject
    assignee: RowPerson | None


# What QueueRow is read from: its own columns in order, then the project's and the assignee's.
# The checklist columns (advisories' incident tags) and the assignee's address and display name
# are each one row's column by a unique key (the report's disclosure, the assignee's user and
# profile): read by scalar subqueries (ROW_SUBQUERIES) rather than joins, which PostgreSQL
# plans in a quarter of the time (planning the joins cost it twice the page's execution). The
# project's columns are left out where the request knows the projects already
# (report_queue's `projects`): one join less to plan on every page.
ROW_COLUMNS = (
    "pk",
    "tracking_id",
    "title",
    "state",
    "severity",
    "severity_rank",
    "cvss_score",
    "cvss_severity",
    "cve_request_needed",
    "reporter_cvss_score",
    "next_due",
    "created_at",
    "project_id",
    "reporter_id",
    "assignee_id",
    "row_checklist_done",
    "row_checklist_total",
    "project__slug",
    "project__name",
    "row_assignee_email",
    "row_assignee_display_name",
)
PROJECT_COLUMNS = ("project__slug", "project__name")
OWN_COLUMNS = len(QueueRow._fields) - 2
PROJECT_ID, ASSIGNEE_ID = (
    QueueRow._fields.index("project_id"),
    QueueRow._fields.index("assignee_id"),
)


def row_subqueries():
    """ROW_COLUMNS' subqueries: {name: Subquery} of the one row each reads by a unique key (the
    report's disclosure, its assignee's user and profile; none when there is none)."""
    disclosures = Report._meta.get_field("disclosure").related_model._base_manager
    user_model = get_user_model()
    profiles = user_model._meta.get_field("profile").related_model._base_manager
    of_report = disclosures.filter(report_id=OuterRef("pk"))
    assignee = user_model._base_manager.filter(pk=OuterRef("assignee_id"))
    return {
        "row_checklist_done": Subquery(of_report.values("checklist_done")),
        "row_checklist_total": Subquery(of_report.values("checklist_total")),
        "row_assignee_email": Subquery(assignee.values("email")),
        "row_assignee_display_name": Subquery(
            profiles.filter(user_id=OuterRef("assignee_id")).values("display_name")
        ),
    }


@functools.cache
def row_query(*, with_project=True):
    """Report.objects.values_list(*ROW_COLUMNS), resolved once per process: a page clones it
    and adds its filters, rather than resolving the columns and their joins again (half of
    building the page's query). Never evaluated itself. Without the project's columns (and
    join) for callers that know the rows' projects (queue_rows' `projects`).
    """
    rows = Report.objects.annotate(**row_subqueries())
    if with_project:
        return rows.values_list(*ROW_COLUMNS)
    return rows.values_list(*(c for c in ROW_COLUMNS if c not in PROJECT_COLUMNS))


def queue_rows(reports, *, projects=None):
    """QueueRow of each of `reports` (row_query() filtered, ordered and sliced), one query.
    `projects`: {id: RowProject} of every project the rows can belong to, when they were read
    without their project's columns (row_query(with_project=False)).
    """
    known = projects is not None
    projects, people, rows, unknown = dict(projects or {}), {}, [], set()
    for values in reports:
        own = values[:OWN_COLUMNS]
        project_id, assignee_id = own[PROJECT_ID], own[ASSIGNEE_ID]
        if known:
            email, display_name = values[OWN_COLUMNS:]
            project = projects.get(project_id)
            if project is None:  # a report filed since the caller read the projects
                unknown.add(project_id)
        else:
            slug, name, email, display_name = values[OWN_COLUMNS:]
            project = projects.get(project_id)
            if project is None:
                project = projects[project_id] = RowProject(project_id, slug, name)
        assignee = None
        if assignee_id is not None:
            assignee = people.get(assignee_id)
            if assignee is None:
                assignee = people[assignee_id] = RowPerson(assignee_id, email, display_name or "")
        rows.append(QueueRow(*own, project, assignee))
    if unknown:
        for pk, slug, name in Project.objects.filter(pk__in=unknown).values_list(
            "pk", "slug", "name"
        ):
            projects[pk] = RowProject(pk, slug, name)
        rows = [row._replace(project=projects[row.project_id]) for row in rows]
    return rows


def queue_view(viewer, asked):
    """Which list `/reports/` shows: the queue (reports of the user's projects) for members and
    superusers unless they ask for their own ("mine"); everyone else has only their own.
    """
    if not viewer.has_queue:
        return MINE
    return MINE if asked == MINE else QUEUE


def list_viewer(user, asked):
    """(viewer, view) of `/reports/`. Only My reports lists by the reports shared with the user,
    so only it reads their ids; the queue's rows are its projects' reports
    (ReportQuerySet.of_viewers_projects): one query less.
    """
    viewer = Viewer.of(user, shared=False)
    view = queue_view(viewer, asked)
    return (Viewer.of(user) if view == MINE else viewer), view


def report_queue(*, user, now, viewer=None, view=QUEUE, project=None, state="", severity="",
                 overdue=False, assigned_to_me=False, search="", sort=DEFAULT_SORT, cursor=None,
                 page_size=25, projects=None):  # fmt: skip
    """A page of the reports `user` sees, in the `sort` order (SORTS), filtered, as QueueRows.

    `view`: QUEUE, the reports of the user's projects (all for superusers); MINE, those they
    filed or were invited to follow (Report.objects' of_viewers_projects and
    filed_by_or_shared_with: each one side of visible_to). Keyset pagination on (sort column,
    id): each page is one indexed range scan, however deep. `search` (reports.search): an exact
    tracking-ID match is shown first, on the first page, and the other matches follow in the
    sort order. `projects`: the list's filter projects (list_projects) as the caller read
    them, so that the rows need not join their projects (one join less to plan on every page).
    """
    known = None if projects is None else {p.pk: RowProject(p.pk, p.slug, p.name) for p in projects}
    if view != MINE:
        viewer = viewer or Viewer.of(user, shared=False)
    after = decode_cursor(cursor, sort) if cursor else None
    # The pages a member lands on and goes on to: the queue of their projects, page after page,
    # nothing else asked.
    filtered = project is not None or state or severity or overdue or assigned_to_me
    plain = (
        view == QUEUE
        and known is not None
        and not (filtered or search.strip())
        and viewer.roles
        and not viewer.sees_everything
        and may_see_reports(viewer.user)
    )
    # Their SQL once written (_compiled_once) is run without building the queryset again.
    rows = _plain_page(viewer, sort, page_size, after) if plain else None
    pinned = []
    if rows is None:
        rows_of = row_query(with_project=known is None)
        if view == MINE:
            if viewer is None or viewer.shared_ids is None:
                viewer = Viewer.of(user)
            reports = rows_of.filed_by_or_shared_with(viewer)
        else:
            reports = rows_of.of_viewers_projects(viewer)
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
        if assigned_to_me:
            reports = reports.filter(assignee=user)
        if search.strip():
            reports = search_reports.matching(reports, text=search, viewer=viewer)
            exact = Q(tracking_id=search_reports.tracking_id_of(search))
            if not cursor:
                pinned = queue_rows(reports.filter(exact), projects=known)
            reports = reports.exclude(exact)
        order = SORTS[sort]
        if after:
            reports = reports.filter(order.after(*after))
        page = reports.order_by(*order.order_by())[: page_size + 1]
        rows = _compiled_once(page, viewer, sort, after) if plain else page
    rows = queue_rows(rows, projects=known)
    next_cursor = encode_cursor(sort, rows[page_size - 1]) if len(rows) > page_size else None
    return QueuePage(reports=pinned + rows[:page_size], next_cursor=next_cursor)


# The SQL of the queue's plain pages (no filter or search: the page a member lands on and the
# pages after it) by (database, sort, number of projects, rows, cursor: none, on a null or on a
# value), written by the ORM once per process: compiling a page's query cost a third of its
# time, and a page after the first cost half as much again as the first. Its parameters are
# the member's project ids and the cursor's value and id (PlainPage.layout).
_PLAIN_PAGES = {}


@dataclasses.dataclass(frozen=True)
class PlainPage:
    compiled: Precompiled
    layout: tuple  # per parameter of its SQL, its place in the slots: the ids, value, id

    @classmethod
    def of(cls, compiled, ids, cursor):
        """`compiled` with the place of each of its parameters among the viewer's project `ids`
        and the `cursor`'s (value, id) as the database takes them (_slots); None when they are
        not the ids in order and then the cursor's (another shape than this expects: the ORM
        runs such pages). Raises AmbiguousPageError when one parameter could be either of the
        cursor's (its value is its id): nothing can be learned from that page."""
        params = compiled.params
        if params[: len(ids)] != ids:
            return None
        layout = list(range(len(ids)))
        for param in params[len(ids) :]:
            places = [len(ids) + n for n, value in enumerate(cursor) if value == param]
            if len(places) > 1:
                raise AmbiguousPageError
            if not places:
                return None
            layout.append(places[0])
        return cls(compiled, tuple(layout))

    def rows(self, slots):
        return self.compiled.rows(tuple(slots[n] for n in self.layout))


class AmbiguousPageError(Exception):
    pass


def _plain_key(viewer, sort, rows, after):
    cursor = None if after is None else ("null" if after[0] is None else "value")
    return (Report.objects.db, sort, len(viewer.roles), rows, cursor)


def _slots(viewer, sort, after):
    """The viewer's project ids, then the cursor's value and id as the database takes them
    (SQLite's datetimes are text)."""
    if after is None:
        return tuple(viewer.roles)
    value, pk = after
    if value is not None:
        field = Report._meta.get_field(SORTS[sort].column)
        value = field.get_db_prep_value(value, connections[Report.objects.db])
    return (*viewer.roles, value, pk)


def _plain_page(viewer, sort, page_size, after):
    """The rows of report_queue's plain page when its shape's SQL is written already (by
    _compiled_once), run with the viewer's project ids and the cursor; else None."""
    page = _PLAIN_PAGES.get(_plain_key(viewer, sort, page_size + 1, after))
    return None if page is None else page.rows(_slots(viewer, sort, after))


def _compiled_once(page, viewer, sort, after):
    """The rows of `page` (report_queue's plain page: of_viewers_projects, after the cursor,
    ordered and sliced), as its values_list gives them, run with the SQL compiled for the first
    page of its shape.
    """
    key = _plain_key(viewer, sort, page.query.high_mark, after)
    slots = _slots(viewer, sort, after)
    compiled = _PLAIN_PAGES.get(key, ())
    if compiled == ():
        ids = len(viewer.roles)
        try:
            compiled = PlainPage.of(Precompiled.of(page), slots[:ids], slots[ids:])
        except AmbiguousPageError:
            return page
        # Not the shape this expects (None): the ORM runs such pages, and is not asked again.
        _PLAIN_PAGES[key] = compiled
    return page if compiled is None else compiled.rows(slots)


@dataclasses.dataclass
class ProjectCounts:
    project: Project
    open: int
    overdue: int


def _counts_key(project_id):
    return f"reports:queue-counts:{project_id}"


def queue_counts(*, viewer, projects, now):
    """Open and overdue reports of each of `projects` where the viewer is a member: the queue's
    summary. Counted per project (one aggregate query for those not counted yet) and kept in
    the cache for QUEUE_COUNTS_SECONDS, shared by the project's members: counting a big
    project's open reports reads each of them (tens of thousands), so it is not done per page.
    A report's filing or any change of its state or deadlines forgets its project's counts
    (forget_queue_counts); only "overdue" can lag, by at most that long, as deadlines pass.
    """
    member_projects = [p for p in projects if viewer.role_in(p.pk)]
    if not member_projects:
        return []
    keys = {p.pk: _counts_key(p.pk) for p in member_projects}
    cached = cache.get_many(keys.values())
    counts = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in keys if pk not in counts]
    if missing:
        rows = (
            Report.objects.filter(project_id__in=missing, state__in=OPEN_STATES)
            .values("project_id")
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(next_due__lt=now)))
        )
        counted = {row["project_id"]: (row["open"], row["overdue"]) for row in rows}
        fresh = {pk: counted.get(pk, (0, 0)) for pk in missing}
        cache.set_many(
            {keys[pk]: value for pk, value in fresh.items()},
            timeout=settings.QUEUE_COUNTS_SECONDS,
        )
        counts |= fresh
    return [
        ProjectCounts(project=p, open=counts[p.pk][0], overdue=counts[p.pk][1])
        for p in member_projects
    ]


def forget_queue_counts(project_id):
    """After the transaction commits, the project's queue counts are counted again (they
    change with a filing and with any report's state or deadlines)."""
    transaction.on_commit(lambda: cache.delete(_counts_key(project_id)))


def list_projects(viewer, view):
    """queue_projects as a list, for the site's list page. The queue's are those where the
    viewer holds a role, read with the request's roles (projects.access.member_projects): no
    query of their own.
    """
    if view == QUEUE and not viewer.sees_everything:
        return member_projects(viewer.user)
    return list(queue_projects(viewer, view))


def queue_projects(viewer, view):
    """Projects to filter the list by: in the queue, those the user is a member of; in My
    reports, also those of the reports they filed or follow (every project of its rows). Only
    what the list uses of them (slug, name): not their descriptions and policy texts.
    """
    projects = Project.objects.only("slug", "name").order_by("name")
    if viewer.sees_everything:
        return projects
    mine = Q(pk__in=list(viewer.roles))
    if view == MINE:
        followed = Q(reporter=viewer.user)
        if viewer.shared_ids:
            followed |= Q(pk__in=viewer.shared_ids)
        mine |= Q(pk__in=Report.objects.filter(followed).values("project_id"))
    return projects.filter(mine)


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


def blocked_sender(project, email):
    """The block on `email` reporting to `project` (a report of theirs there was marked as
    spam), or None. Per project: a sender blocked by one project still reports to the others.
    """
    return (
        BlockedSender.objects.filter(project=project, email=email.strip().lower())
        .select_related("blocked_by__profile")
        .first()
    )


def sender_blocked(project, email):
    """Whether `project` refuses new reports from `email`, by the web form and by email."""
    return BlockedSender.objects.filter(project=project, email=email.strip().lower()).exists()


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
