"""Build a large, realistic dataset on PostgreSQL for the benchmarks: many projects, a long history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        DJANGO_DEBUG=1 .venv/bin/python benchmarks/generate.py --reports 1000000 --keep

Creates the database `--database` (default disclosure_bench_gen) on the server DATABASE_URL names
(the database in the URL itself is never touched), migrates it, seeds the three real projects,
adds the other projects with their members, and writes reports with their whole history through
COPY: states reached by the lifecycle services' own rules, deadlines from reports.sla, reminders
planned by the registered planners at each step and sent by a sweep that kept up (except the
latest --due-reminders, a backlog), comments, the audit trail, disclosures, collaborators with
their invitations and guardian rows. Without --keep the database is dropped at the end. See
benchmarks/README.md.
"""

import argparse
import bisect
import contextlib
import datetime as dt
import functools
import heapq
import io
import json
import os
import random
import sys
import time
from urllib.parse import urlsplit

BENCH_DATABASE = "disclosure_bench_gen"
CHUNK = 10_000  # reports per COPY round (and per transaction)
BIG_SHARE = 0.15  # of the reports, in the big project (Stalwart): ~150,000 of 1,000,000
SEED_SHARE = 0.002  # each of the two seed projects whose policy is only days old
COLLABORATED = 0.02  # reports with an accepted collaborator (guardian row)
INVITED_ONLY = 0.003  # reports with an invitation never accepted (pending or expired)
SEVERITIES = (("low", 25), ("medium", 40), ("high", 25), ("critical", 7), ("none", 3))
CLOSURES = ("not_applicable", "out_of_scope", "informative", "duplicate")
# SLA promises of the generated projects, in turn: like Stalwart, like TeamMail, like
# mailtri-router, and one whose policy promises nothing.
POLICIES = (
    {"ack_hours": 24, "detail_hours": 72, "update_days": 7, "resolve_days": 90,
     "disclosure_days_after_report": 90, "early_disclosure_if_exploited": True},
    {"ack_hours": 336, "detail_hours": 336, "fix_days": 14, "disclosure_days_after_release": 7},
    {"ack_hours": 24, "detail_hours": 72},
    {},
)  # fmt: skip
SAMPLE_TEXT = (
    "buffer overflow in the parser lets a remote attacker read memory beyond the message "
    "header when a crafted MIME boundary is sent; authentication bypass through a race in "
    "session renewal; the SMTP listener accepts unbounded pipelined commands and exhausts "
    "memory; path traversal in the attachment store writes outside the spool directory; "
    "cross-site scripting in the web admin through an unescaped folder name; TLS certificate "
    "names are compared case-sensitively; denial of service with deeply nested JSON"
)
WORDS = SAMPLE_TEXT.split()


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=50, help="including the three seeded")
    parser.add_argument("--database", default=BENCH_DATABASE, help="created (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
    parser.add_argument("--years", type=float, default=3, help="length of the history")
    parser.add_argument(
        "--heavy-reporter", type=int, default=500, help="reports of the one prolific reporter"
    )
    parser.add_argument(
        "--due-reminders",
        type=int,
        default=None,
        help="reminders due and not yet sent (default: one per 100 reports)",
    )
    options = parser.parse_args(argv)
    if options.reports < 1 or options.projects < 3:
        parser.error("give at least one report and three projects (the seeded ones)")
    return options


def main():
    options = arguments()
    if urlsplit(os.environ.get("DATABASE_URL", "")).scheme not in {
        "postgres",
        "postgresql",
        "pgsql",
    }:
        sys.exit(
            "generate.py writes with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL server "
            "(e.g. postgres://postgres@127.0.0.1:5432/postgres); the database --database is "
            "created there."
        )
    from harness import private_database, set_up_django

    remove = private_database(options.database)
    try:
        set_up_django()
        from django.core.management import call_command

        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated {options.database} in {time.perf_counter() - began:.1f} s")
        counts = generate(
            reports=options.reports,
            projects=options.projects,
            seed=options.seed,
            years=options.years,
            heavy_reporter=options.heavy_reporter,
            due_reminders=options.due_reminders,
            progress=True,
        )
        seconds = counts.pop("seconds")
        print(f"total {time.perf_counter() - began:.1f} s (migrate included)")
        for phase, spent in seconds.items():
            print(f"  {phase:<40} {spent:>8.1f} s")
        for table, count in counts.items():
            print(f"  {table:<40} {count:>10,}")
        print(f"database size: {database_size()}")
    finally:
        from django.db import connections

        connections.close_all()
        if options.keep:
            print(f"kept database {options.database}")
        else:
            remove()


def database_size():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


# --- Writing rows with COPY ---------------------------------------------------------------------

# The tables COPY fills (the few rows of projects and members go through the ORM).
BULK_TABLES = (
    "auth_user", "account_emailaddress", "reports_report", "reports_reportevent",
    "reports_comment", "reports_reminder", "advisories_disclosure",
    "reports_reportuserobjectpermission", "reports_invitation",
)  # fmt: skip


@contextlib.contextmanager
def indexes_built_after(tables):
    """Drop the secondary indexes, unique and foreign-key constraints of `tables` while COPY
    fills them, and make them again from their own definitions afterwards: one sort per index
    and one join per foreign key instead of an index update (a full-text vector for the search
    indexes) and a deferred lookup per row. Re-adding the constraints checks every row written.
    Primary keys stay.
    """
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
            FROM pg_constraint
            WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
            ORDER BY contype = 'f' DESC
            """,
            [list(tables)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes i
            WHERE schemaname = current_schema() AND tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = format('%%I', i.indexname)::regclass)
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
        with transaction.atomic():
            # Inside a caller's transaction (the tests) rows written before have their foreign
            # keys checked now: PostgreSQL alters no table with checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, name, _, _ in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The full-text (GIN) indexes build several times faster with room to sort in.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _ in reversed(constraints):
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class Table:
    """Rows of one model, gathered and written with COPY; columns the caller does not set get the
    model's defaults. `ids`: the caller gives the ids (rows other rows point to)."""

    def __init__(self, model, *, ids=False):
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.generated and (ids or not f.primary_key or f.remote_field)
        ]
        self.model = model
        self.columns = ", ".join(f'"{f.column}"' for f in fields)
        self.position = {f.attname: n for n, f in enumerate(fields)}
        self.json = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        self.template = [
            json.dumps(f.get_default()) if f.attname in self.json else f.get_default()
            for f in fields
        ]
        self.rows = []
        self.written = 0

    def add(self, **values):
        row = self.template.copy()
        position = self.position
        for name, value in values.items():
            row[position[name]] = json.dumps(value) if name in self.json else value
        self.rows.append(row)

    def flush(self, cursor):
        if not self.rows:
            return
        statement = f'COPY "{self.model._meta.db_table}" ({self.columns}) FROM STDIN'
        with cursor.copy(statement) as copy:
            for row in self.rows:
                copy.write_row(row)
        self.written += len(self.rows)
        self.rows = []


class Progress:
    """A one-line progress bar on stderr (no dependency for a counter and a rate)."""

    def __init__(self, total, *, enabled):
        self.total, self.enabled, self.began, self.done = total, enabled, time.perf_counter(), 0

    def advance(self, count):
        self.done += count
        if not self.enabled or not count:
            return
        elapsed = time.perf_counter() - self.began
        rate = self.done / elapsed if elapsed else 0
        left = (self.total - self.done) / rate if rate else 0
        bar = "#" * int(30 * self.done / self.total)
        sys.stderr.write(
            f"\rreports [{bar:<30}] {self.done:>10,}/{self.total:,} {rate:8,.0f}/s "
            f"{elapsed:6.0f} s, {left:5.0f} s left"
        )
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --- The report as the services see it ----------------------------------------------------------


class Draft:
    """The attributes of a Report that the lifecycle handlers (reports.services.HANDLERS), the SLA
    clocks (reports.sla) and the reminder planners read and write: the generator runs the
    product's own rules on it instead of copies of them."""

    cvss_vector = ""
    severity_override_reason = ""
    duplicate_of = None

    def __init__(self, *, pk, project, revision, created_at):
        self.pk = pk
        self.project = project
        self.project_id = project.pk
        self.revision = revision
        self.created_at = created_at
        self.last_update_at = created_at
        self.state = "new"
        self.severity = ""
        self.resolution_reason = ""
        self.acknowledged_at = self.acknowledged_on_time = None
        self.triaged_at = self.fixed_at = self.closed_at = self.paused_at = None
        self.paused_for = self.paused_for_at_triage = dt.timedelta()
        self.state_before_pause = ""
        self.ack_due = self.detail_due = self.next_update_due = None
        self.resolve_due = self.next_due = None

    @property
    def severity_is_override(self):
        return bool(self.severity_override_reason)


class Disclosed:
    """What advisories.models.Disclosure.compute_due reads (no agreed date, no release yet)."""

    agreed_on = None
    fix_released_on = None

    def __init__(self, report):
        self.report = report


def disclosure_plan(due, *, state, now):
    """advisories.reminders.DisclosureReminders.plan without its query: the date is known here.
    tests/benchmarks/test_generate.py checks the rows against the registered planners."""
    from advisories.reminders import WARNINGS, Kind
    from reports.models import CLOSED_STATES
    from reports.reminders import Planned

    if state in CLOSED_STATES or due is None:
        return []
    plan = [
        Planned(kind, due, due - dt.timedelta(days=days))
        for days, kind in WARNINGS.items()
        if due - dt.timedelta(days=days) > now
    ]
    plan.append(Planned(Kind.DISCLOSURE_DUE, due, due))
    return plan


class Reminders:
    """A report's Reminder rows as reports.reminders.sync leaves them at each service call, with
    a sweep that sends each as its time comes (every minute, as beat runs it)."""

    def __init__(self, draft, disclosure_due):
        self.draft, self.disclosure_due, self.rows = draft, disclosure_due, {}

    def plan(self, now):
        from reports.reminders import SLA

        draft = self.draft
        return [
            *SLA.plan(draft, now=now),
            *disclosure_plan(self.disclosure_due, state=draft.state, now=now),
        ]

    def sweep_until(self, now):
        for row in self.rows.values():
            if row[2] is None and row[1] <= now:
                row[2] = min(row[1] + dt.timedelta(seconds=30), now)

    def sync(self, now):
        self.sweep_until(now)
        wanted = {(p.kind, p.due_at): p for p in self.plan(now)}
        for key in [k for k, row in self.rows.items() if row[2] is None and k not in wanted]:
            del self.rows[key]
        for key, planned in wanted.items():
            self.rows.setdefault(key, [planned.kind, planned.send_at, None, planned.due_at])


# --- The data -----------------------------------------------------------------------------------


def generate(*, reports, projects, seed=1, now=None, years=3, heavy_reporter=500,
             due_reminders=None, progress=False):  # fmt: skip
    """Fill the current (migrated, PostgreSQL) database; returns {table: rows written}, with
    the seconds each phase took under "seconds".

    Deterministic for a seed and a `now`. Seeds the three real projects first (seed_projects).
    """
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        raise RuntimeError(
            f"The generator writes with PostgreSQL's COPY; this database is {connection.vendor}."
        )
    seconds = {}
    began = time.perf_counter()

    def lap(phase):
        nonlocal began
        seconds[phase] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()

    rng = random.Random(seed)
    now = (now or timezone.now()).replace(microsecond=0)
    start = now - dt.timedelta(days=round(365 * years))
    call_command("seed_projects", stdout=io.StringIO())
    world = World(rng=rng, now=now, start=start)
    world.make_projects(projects)
    world.backlog_size = max(1, reports // 100) if due_reminders is None else due_reminders
    lap("projects and members (ORM)")
    with indexes_built_after(BULK_TABLES):
        world.make_people(reports, heavy_reporter=min(heavy_reporter, max(1, reports // 10)))
        lap("reporters and collaborators (COPY)")
        world.write_reports(reports, progress=Progress(reports, enabled=progress))
        lap("reports and their history (COPY)")
    lap("indexes and constraints")
    world.finish()
    lap("counters, sequences, backlog, ANALYZE")
    seconds["copy (within the above)"] = round(world.copy_seconds, 1)
    return world.counts() | {"seconds": seconds}


class World:
    def __init__(self, *, rng, now, start):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission

        self.rng, self.now, self.start = rng, now, start
        self.user_model = get_user_model()
        self.view_report = Permission.objects.get(
            codename="view_report", content_type__app_label="reports"
        ).pk
        self.backlog = []  # (send_at, reminder id) of due reminders the planners still want
        self.counters = {}  # (project id, year) -> last tracking number
        self.last_report = {}  # project id -> (id, tracking id) of its latest report
        self.sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
            for _ in range(400)
        ]

    # Projects and people (few rows: the ORM) ----------------------------------------------------

    def make_projects(self, count):
        from projects.models import Membership, PolicyRevision, Project

        made = []
        for n in range(count - Project.objects.count()):
            policy = POLICIES[n % len(POLICIES)]
            made.append(
                (
                    Project(
                        slug=f"bench-{n:03d}",
                        name=f"Bench project {n}",
                        tracking_prefix="B" + letters(n),
                        security_email=f"security@bench-{n:03d}.example",
                        backup_email=f"backup@bench-{n:03d}.example" if n % 3 == 0 else "",
                        backup_after_hours=48 if n % 3 == 0 else None,
                        cve_threshold=4 if n % 2 == 0 else None,
                    ),
                    policy,
                )
            )
        Project.objects.bulk_create([project for project, _ in made])
        PolicyRevision.objects.bulk_create(
            PolicyRevision(
                project=project,
                effective_from=self.start.date(),
                intake_required=["description"],
                **policy,
            )
            for project, policy in made
        )
        self.projects = list(Project.objects.order_by("pk"))
        self.revisions = {p.pk: [] for p in self.projects}
        for revision in PolicyRevision.objects.prefetch_related("versions").order_by(
            "effective_from"
        ):
            self.revisions[revision.project_id].append(revision)
        self.big = next(p for p in self.projects if p.slug == "stalwart")
        # Members: the big project has a team, the others a few people each; one maintainer
        # works in ten projects besides (the queue of a member of many projects).
        users = self.user_model.objects
        self.members = {}
        memberships = []
        roles = {"admin": 1, "maintainer": 1, "triager": 2}
        for project in self.projects:
            team = {"admin": 2, "maintainer": 4, "triager": 6} if project == self.big else roles
            people = []
            for role, size in team.items():
                for k in range(size):
                    email = f"{role}{k}.{project.slug}@bench.example"
                    people.append((self.user_model(username=email, email=email), role))
            users.bulk_create([user for user, _ in people])
            memberships += [Membership(user=u, project=project, role=r) for u, r in people]
            self.members[project.pk] = [user for user, _ in people]
        several = users.create_user(username="many@bench.example", email="many@bench.example")
        for project in self.projects[:10]:
            memberships.append(Membership(user=several, project=project, role="maintainer"))
            self.members[project.pk].append(several)
        Membership.objects.bulk_create(memberships)
        self.emails = {u.pk: u.email for people in self.members.values() for u in people}

    def make_people(self, reports, *, heavy_reporter):
        """Reporters (one prolific, the rest from one to a few hundred reports each) and the
        people invited to collaborate, with their verified addresses: COPY, they are many."""
        from allauth.account.models import EmailAddress

        rng = self.rng
        first = (self.user_model.objects.order_by("-pk").values_list("pk", flat=True).first()) + 1
        reporters = max(2, reports // 5)
        helpers = max(1, int(reports * (COLLABORATED + INVITED_ONLY) / 3))
        users = Table(self.user_model, ids=True)
        addresses = Table(EmailAddress)
        for pk, email in self.emails.items():  # the members
            addresses.add(user_id=pk, email=email, verified=True, primary=True)
        self.reporter_ids = range(first, first + reporters)
        self.helper_ids = range(first + reporters, first + reporters + helpers)
        for pk in range(first, first + reporters + helpers):
            if pk == first:
                email = "heavy-reporter@bench.example"
            elif pk < first + reporters:
                email = f"reporter{pk - first}@bench.example"
            else:
                email = f"helper{pk - first - reporters}@bench.example"
            self.emails[pk] = email
            users.add(
                id=pk,
                password="!" + rng.randbytes(20).hex(),  # unusable, as make_password(None)
                username=email,
                email=email,
                is_active=True,
                is_staff=False,
                is_superuser=False,
                first_name="",
                last_name="",
                date_joined=self.start,
            )
            addresses.add(user_id=pk, email=email, verified=True, primary=True)
        self.heavy_share = heavy_reporter / reports
        began = time.perf_counter()
        with connection_cursor() as cursor:
            users.flush(cursor)
            addresses.flush(cursor)
        self.copy_seconds += time.perf_counter() - began
        self.tables = {"users": users, "addresses": addresses}

    def reporter(self):
        rng = self.rng
        if rng.random() < self.heavy_share:
            return self.reporter_ids[0]
        # A long tail: most reporters file once or twice, a few file hundreds.
        return self.reporter_ids[1 + int((len(self.reporter_ids) - 1) * rng.random() ** 1.5)]

    # Reports ------------------------------------------------------------------------------------

    def arrivals(self, reports):
        """(created_at, project) of every report in filing order: each project's share spread
        over the time its policy has been in force, filing growing with time."""
        others = [p for p in self.projects if p != self.big]
        # Projects whose policy came into force within the history (two seeds: days ago), or
        # is not in force yet (none).
        yesterday = self.now.date() - dt.timedelta(days=1)
        others = [p for p in others if self.revisions[p.pk][0].effective_from <= yesterday]
        young = [p for p in others if self.revisions[p.pk][0].effective_from > self.start.date()]
        shares = {self.big: BIG_SHARE, **dict.fromkeys(young, SEED_SHARE)}
        rest = [p for p in others if p not in young]
        # A few big, many small; none as big as the big one (at 50 projects: 7 % down to 1 %).
        weights = [1 / (n + 1) ** 0.5 for n in range(len(rest))]
        left = 1 - sum(shares.values())
        shares.update({p: left * w / sum(weights) for p, w in zip(rest, weights, strict=True)})
        counts = {p: int(reports * share) for p, share in shares.items()}
        counts[self.big] += reports - sum(counts.values())
        streams = [self.times(p, n) for p, n in counts.items() if n]
        return heapq.merge(*streams, key=lambda pair: pair[0])

    def times(self, project, count):
        began = dt.datetime.combine(self.revisions[project.pk][0].effective_from, dt.time(), dt.UTC)
        began = max(began, self.start)
        span = (self.now - dt.timedelta(minutes=1) - began).total_seconds()
        rng = random.Random(self.rng.random())
        for n in range(count):
            share = ((n + rng.random()) / count) ** 0.7  # density grows with time
            yield began + dt.timedelta(seconds=int(span * share)), project

    def write_reports(self, total, *, progress):
        from advisories.models import Disclosure
        from reports.models import (
            Comment,
            Invitation,
            Reminder,
            Report,
            ReportEvent,
            ReportUserObjectPermission,
        )

        tables = {
            "reports": Table(Report, ids=True),
            "events": Table(ReportEvent),
            "comments": Table(Comment),
            "reminders": Table(Reminder, ids=True),
            "disclosures": Table(Disclosure, ids=True),
            "collaborator permissions": Table(ReportUserObjectPermission),
            "invitations": Table(Invitation),
        }
        self.tables.update(tables)
        self.next_report = (
            Report.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ) + 1
        self.next_reminder = (
            Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ) + 1
        pending = 0
        for created_at, project in self.arrivals(total):
            self.report(created_at, project, tables)
            pending += 1
            if pending == CHUNK:
                self.flush(tables)
                progress.advance(pending)
                pending = 0
        self.flush(tables)
        progress.advance(pending)

    def flush(self, tables):
        from django.db import transaction

        began = time.perf_counter()
        with transaction.atomic(), connection_cursor() as cursor:
            for table in tables.values():
                table.flush(cursor)
        self.copy_seconds += time.perf_counter() - began

    def report(self, created_at, project, tables):
        from advisories.models import Disclosure
        from reports import sla

        rng, now = self.rng, self.now
        pk = self.next_report
        self.next_report += 1
        revisions = self.revisions[project.pk]
        day = created_at.date()
        revision = revisions[bisect.bisect_right([r.effective_from for r in revisions], day) - 1]
        year = created_at.year
        sequence = self.counters.get((project.pk, year), 0) + 1
        self.counters[project.pk, year] = sequence
        tracking_id = f"{project.tracking_prefix}-{year}-{sequence:04d}"
        reporter = self.reporter()
        draft = Draft(pk=pk, project=project, revision=revision, created_at=created_at)
        sla.apply_deadlines(draft)
        due = Disclosure.compute_due(Disclosed(draft))
        reminders = Reminders(draft, due)
        reminders.sync(created_at)
        events = tables["events"]
        events.add(
            report_id=pk, actor_id=reporter, kind="created", to_state="new", from_state="",
            message="", public=True, by_member=False, data={}, created_at=created_at,
        )  # fmt: skip
        members = self.members[project.pk]
        member_ids = {m.pk for m in members}
        steps = self.lifecycle(draft)
        end, pauses = self.closed_and_paused(steps)
        timeline = sorted(
            [(moment, 0, step) for moment, *step in steps]
            + [(moment, 1, comment) for moment, *comment in self.comments(created_at, end, pauses)],
            key=lambda entry: (entry[0], entry[1]),
        )
        for moment, is_comment, entry in timeline:
            if is_comment:
                internal, by_member = entry
                tables["comments"].add(
                    report_id=pk, author_id=rng.choice(members).pk if by_member else reporter,
                    body=self.text(1, 4), internal=internal, by_member=by_member,
                    created_at=moment,
                )  # fmt: skip
                if by_member and not internal:
                    # reports.services.add_comment: a status update; the clocks move.
                    draft.last_update_at = moment
                    sla.apply_deadlines(draft)
                    reminders.sync(moment)
                continue
            name, actor, message, options = entry
            if name == "provide_info":  # the answer, by a comment (add_comment)
                tables["comments"].add(
                    report_id=pk, author_id=reporter, body=message, internal=False,
                    by_member=False, created_at=moment,
                )  # fmt: skip
                message = "Answered in a comment."
            from_state = draft.state
            data = self.transition(draft, name, moment, message, options)
            actor_id = reporter if actor is None else actor.pk
            events.add(
                report_id=pk, actor_id=actor_id, kind="transition", from_state=from_state,
                to_state=draft.state, message=message, public=True,
                by_member=actor_id in member_ids, data=data or {}, created_at=moment,
            )  # fmt: skip
            reminders.sync(moment)
            if name == "triage" and rng.random() < 0.6:
                assignee = rng.choice(members)
                draft.assignee_id = assignee.pk
                events.add(
                    report_id=pk, actor_id=assignee.pk, kind="assignment", from_state="",
                    to_state="", message=f"Assigned to {assignee.email}", public=False,
                    by_member=True, data={"from": None, "to": assignee.pk},
                    created_at=moment + dt.timedelta(minutes=5),
                )  # fmt: skip
        self.collaborators(draft, reporter, end, tables)
        reminders.sweep_until(now)
        wanted = {(p.kind, p.due_at) for p in reminders.plan(now)}
        for key, (kind, send_at, sent_at, due_at) in reminders.rows.items():
            reminder_id = self.next_reminder
            self.next_reminder += 1
            tables["reminders"].add(
                id=reminder_id, report_id=pk, kind=kind, due_at=due_at, send_at=send_at,
                sent_at=sent_at,
            )  # fmt: skip
            if sent_at is not None and key in wanted:
                # Still wanted now: had the sweep not caught up, it would be due (the backlog).
                self.keep_latest((send_at, reminder_id))
        tables["disclosures"].add(report_id=pk, due=due, updated_at=created_at)
        self.write_report(draft, tables, tracking_id, year, sequence, reporter)
        self.last_report[project.pk] = (pk, tracking_id)

    def keep_latest(self, item):
        if len(self.backlog) < self.backlog_size:
            heapq.heappush(self.backlog, item)
        elif item > self.backlog[0]:
            heapq.heapreplace(self.backlog, item)

    backlog_size = 0
    copy_seconds = 0

    def lifecycle(self, draft):
        """The report's history as (time, transition, actor, message, options), cut at now.

        Acknowledged, sometimes asked for information, then closed or triaged, fixed in most
        cases; the reporter withdraws a few, and a few are never answered. Durations are drawn
        from exponential distributions (means of hours to weeks), whatever the policy promises:
        some clocks are kept, some broken.
        """
        rng, now = self.rng, self.now
        members = self.members[draft.project_id]
        steps, t = [], draft.created_at

        def after(mean_hours):
            nonlocal t
            t = t + dt.timedelta(seconds=int(rng.expovariate(1 / (mean_hours * 3600))) + 60)
            return t <= now

        def member():
            return rng.choice(members)

        roll = rng.random()
        if roll < 0.02:
            if after(24 * 10):
                steps.append((t, "withdraw", None, self.text(1, 2), {}))
            return steps
        if roll < 0.05:
            return steps  # never answered: the queue's overdue acknowledgments
        if rng.random() < 0.75:
            if not after(18):
                return steps
            steps.append((t, "acknowledge", member(), "", {}))
            if rng.random() < 0.04:
                return steps  # acknowledged, then left: the detailed response is overdue
        if rng.random() < 0.12:
            if not after(48):
                return steps
            steps.append((t, "request_info", member(), self.text(1, 2), {}))
            if rng.random() < 0.2:
                return steps  # never answered: waits for the reporter
            if not after(24 * 4):
                return steps
            steps.append((t, "provide_info", None, self.text(1, 3), {}))
        if rng.random() < 0.3:
            if not after(24 * 3):
                return steps
            resolution = rng.choice(CLOSURES)
            options = {"resolution": resolution}
            if resolution == "duplicate":
                if draft.project_id not in self.last_report:
                    options["resolution"] = "not_applicable"
                else:
                    earlier, tracking_id = self.last_report[draft.project_id]
                    options["duplicate_of"] = Earlier(earlier, draft.project_id, tracking_id)
            steps.append((t, "close", member(), self.text(1, 2), options))
            return steps
        if not after(24 * 3):
            return steps
        severity = rng.choices(*zip(*SEVERITIES, strict=True))[0]
        steps.append((t, "triage", member(), self.text(2, 4), {"severity": severity}))
        if rng.random() < 0.7:
            if not after(24 * 5):
                return steps
            steps.append((t, "start_fix", member(), "", {}))
        if rng.random() < 0.85:
            if not after(24 * 25):
                return steps
            steps.append((t, "mark_fixed", member(), self.text(1, 1), {}))
        return steps

    def transition(self, draft, name, moment, message, options):
        """reports.services.transition on the draft: the same handler, pause and adherence rules."""
        from reports import sla
        from reports.models import CLOSED_STATES
        from reports.services import HANDLERS, TRANSITIONS

        if draft.state not in TRANSITIONS[name]:
            raise RuntimeError(f"generator bug: {name} from {draft.state}")
        to_state, data = HANDLERS[name](draft, now=moment, message=message, **options)
        if draft.state == "needs_info":
            draft.paused_for += moment - draft.paused_at
            draft.paused_at = None
            draft.state_before_pause = ""
        if (
            to_state in CLOSED_STATES | {"needs_info"}
            and draft.acknowledged_at is None
            and draft.ack_due is not None
            and moment > draft.ack_due
        ):
            draft.acknowledged_on_time = False
        draft.state = str(to_state)
        draft.last_update_at = moment
        sla.apply_deadlines(draft)
        return data

    def closed_and_paused(self, steps):
        """When the report's history ends (its closure, else now) and its needs-info pauses."""
        end, pauses = self.now, []
        for n, (moment, name, *_) in enumerate(steps):
            if name == "request_info":
                resumed = steps[n + 1][0] if n + 1 < len(steps) else self.now
                pauses.append((moment, resumed))
            if name in {"close", "withdraw"}:
                end = moment
        return end, pauses

    def comments(self, began, end, pauses):
        """(time, internal, by member) of the report's comments, none while the reporter is
        asked for information (the reporter's answer then is the provide_info transition)."""
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 5), weights=(30, 25, 20, 15, 10))[0]
        span = (end - began).total_seconds()
        found = []
        for _ in range(count):
            moment = began + dt.timedelta(seconds=int(span * rng.random()))
            if any(start <= moment <= stop for start, stop in pauses):
                continue
            kind = rng.random()
            found.append((moment, kind < 0.3, kind < 0.7))  # internal, by a member
        return sorted(found)

    def collaborators(self, draft, reporter, end, tables):
        """An invitation by the reporter, accepted by most: reports.services.invite_collaborator
        and accept_invitation (_grant), with their events and the guardian row."""
        from django.conf import settings

        rng = self.rng
        roll = rng.random()
        if roll >= COLLABORATED + INVITED_ONLY:
            return
        span = (end - draft.created_at).total_seconds()
        invited = draft.created_at + dt.timedelta(seconds=int(span * rng.random() * 0.5))
        helper = self.helper_ids[int(len(self.helper_ids) * rng.random())]
        email = self.emails[helper]
        expires = invited + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
        accepted = invited + dt.timedelta(seconds=int(rng.expovariate(1 / 3600 / 20)) + 60)
        if roll >= COLLABORATED or accepted > min(expires, self.now):
            accepted = None
        tables["invitations"].add(
            report_id=draft.pk, email=email, token=rng.randbytes(24).hex(),
            invited_by_id=reporter, created_at=invited, expires_at=expires,
            accepted_at=accepted, revoked_at=None,
        )  # fmt: skip
        events = tables["events"]
        events.add(
            report_id=draft.pk, actor_id=reporter, kind="collaborator_invited", from_state="",
            to_state="", message=email, public=True, by_member=False, data={},
            created_at=invited,
        )  # fmt: skip
        if accepted is None:
            return
        tables["collaborator permissions"].add(
            user_id=helper, permission_id=self.view_report, content_object_id=draft.pk
        )
        events.add(
            report_id=draft.pk, actor_id=helper, kind="collaborator_added", from_state="",
            to_state="", message=email, public=True, by_member=False, data={},
            created_at=accepted,
        )  # fmt: skip

    def write_report(self, draft, tables, tracking_id, year, sequence, reporter):
        rng = self.rng
        revision = draft.revision
        series = self.series(revision)
        affected = (rng.choice(series),) if series and rng.random() < 0.8 else ()
        day = draft.created_at.date()
        tables["reports"].add(
            id=draft.pk,
            project_id=draft.project_id,
            revision_id=revision.pk,
            tracking_id=tracking_id,
            year=year,
            sequence=sequence,
            reporter_id=reporter,
            title=self.text(1, 1)[:200],
            state=draft.state,
            severity=draft.severity,
            assignee_id=getattr(draft, "assignee_id", None),
            vulnerability_type=rng.choice(WORDS),
            affected_versions=list(affected),
            unsupported_versions=self.unsupported(revision, affected, day),
            affected_components=rng.choice(WORDS),
            description=self.text(3, 8),
            steps_to_reproduce=self.text(2, 5),
            impact=self.text(1, 3),
            resolution_reason=draft.resolution_reason,
            duplicate_of_id=draft.duplicate_of.pk if draft.duplicate_of else None,
            created_at=draft.created_at,
            acknowledged_at=draft.acknowledged_at,
            acknowledged_on_time=draft.acknowledged_on_time,
            triaged_at=draft.triaged_at,
            fixed_at=draft.fixed_at,
            closed_at=draft.closed_at,
            last_update_at=draft.last_update_at,
            paused_at=draft.paused_at,
            paused_for=draft.paused_for,
            paused_for_at_triage=draft.paused_for_at_triage,
            state_before_pause=draft.state_before_pause,
            ack_due=draft.ack_due,
            detail_due=draft.detail_due,
            next_update_due=draft.next_update_due,
            resolve_due=draft.resolve_due,
            next_due=draft.next_due,
            updated_at=max(draft.last_update_at, draft.closed_at or draft.created_at),
        )

    def text(self, least, most):
        rng = self.rng
        return " ".join(rng.choices(self.sentences, k=rng.randint(least, most)))

    @functools.cache  # noqa: B019 -- one World per run
    def series(self, revision):
        return [v.series for v in revision.versions.all()]

    @functools.cache  # noqa: B019 -- one World per run
    def unsupported(self, revision, affected, day):
        """PolicyRevision.unsupported_series, once per revision, choice and day."""
        return revision.unsupported_series(affected, on=day)

    # After the reports --------------------------------------------------------------------------

    def finish(self):
        """Counters, sequences, the reminder backlog, statistics."""
        from django.db import transaction

        from reports.models import TrackingCounter

        with transaction.atomic(), connection_cursor() as cursor:
            TrackingCounter.objects.bulk_create(
                TrackingCounter(project_id=project_id, year=year, last=last)
                for (project_id, year), last in self.counters.items()
            )
            if self.backlog:
                cursor.execute(
                    "UPDATE reports_reminder SET sent_at = NULL WHERE id = ANY(%s)",
                    [[reminder_id for _, reminder_id in self.backlog]],
                )
            # Rows written with their ids: the identity sequences continue after them.
            for table in self.tables.values():
                name, column = table.model._meta.db_table, table.model._meta.pk.column
                cursor.execute(
                    f'SELECT setval(pg_get_serial_sequence(%s, %s), max("{column}")) '  # noqa: S608 -- names from the model's meta
                    f'FROM "{name}" HAVING max("{column}") IS NOT NULL',
                    [f'"{name}"', column],
                )
            cursor.execute("ANALYZE")

    def counts(self):
        return {name: table.written for name, table in self.tables.items()} | {
            "due reminders (backlog)": len(self.backlog)
        }


class Earlier:
    """An earlier report, as _close checks a duplicate's target."""

    def __init__(self, pk, project_id, tracking_id):
        self.pk, self.project_id, self.tracking_id = pk, project_id, tracking_id


def letters(n):
    """0 -> "AA", 1 -> "AB", ...: tracking prefixes for generated projects."""
    return chr(65 + n // 26 % 26) + chr(65 + n % 26)


def connection_cursor():
    from django.db import connection

    return connection.cursor()


if __name__ == "__main__":
    main()
