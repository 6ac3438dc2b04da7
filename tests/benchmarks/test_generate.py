"""The benchmark dataset is what the product would have written (benchmarks/generate.py).

Generated small (300 reports, 4 projects) into the test database, then read back through the
product's own reads: visibility (Report.objects.visible_to and guardian), the SLA clocks, the
disclosure date, the reminder planners (sync changes nothing), the audit trail against the
states, and the tracking counters (filing one more report continues them). PostgreSQL only:
the generator writes with COPY.
"""

import datetime as dt
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from advisories.models import Disclosure
from benchmarks import generate as generator
from projects.models import Membership, Project
from reports import reminders, sla
from reports.models import (
    CLOSED_STATES,
    Comment,
    Invitation,
    Reminder,
    Report,
    ReportEvent,
    ReportUserObjectPermission,
    TrackingCounter,
)
from reports.services import file_report

pytestmark = pytest.mark.services

REPORTS, PROJECTS, HEAVY, DUE = 300, 4, 40, 10


@pytest.fixture
def generated(db):
    now = timezone.now().replace(microsecond=0)
    counts = generator.generate(
        reports=REPORTS, projects=PROJECTS, seed=7, now=now, heavy_reporter=HEAVY, due_reminders=DUE
    )
    return now, counts


def test_generator_refuses_a_database_without_copy(db, monkeypatch):
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    with pytest.raises(RuntimeError, match="PostgreSQL's COPY"):
        generator.generate(reports=10, projects=3)


def test_the_script_refuses_sqlite_before_creating_anything(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/nothing.sqlite3")
    monkeypatch.setattr("sys.argv", ["generate.py", "--reports", "10"])
    with pytest.raises(SystemExit, match="PostgreSQL's COPY"):
        generator.main()


def test_shape(generated):
    _, counts = generated
    assert Report.objects.count() == counts["reports"] == REPORTS
    assert Project.objects.count() == PROJECTS
    sizes = dict(
        Report.objects.values_list("project__slug")
        .annotate(n=Count("pk"))
        .values_list("project__slug", "n")
    )
    assert REPORTS * generator.BIG_SHARE <= sizes["stalwart"] <= REPORTS * generator.BIG_SHARE + 4
    heavy = Report.objects.filter(reporter__email="heavy-reporter@bench.example").count()
    assert HEAVY / 2 <= heavy <= HEAVY * 2
    # Every state of a report's life is there, open and closed (disclosed needs an advisory).
    states = set(Report.objects.values_list("state", flat=True))
    assert {"new", "acknowledged", "triaged", "fixing", "fixed", "needs_info"} <= states
    assert states & CLOSED_STATES
    assert Disclosure.objects.count() == REPORTS
    assert counts["collaborator permissions"] == ReportUserObjectPermission.objects.count() > 0
    # Members of every project, with roles; one member of several projects.
    roles = Membership.objects.values_list("project_id", "role")
    assert {role for _, role in roles} == {"admin", "maintainer", "triager"}
    assert {project for project, _ in roles} == set(Project.objects.values_list("pk", flat=True))
    assert Membership.objects.filter(user__email="many@bench.example").count() == PROJECTS


def test_each_report_is_seen_by_its_reporter_members_and_collaborators_only(generated):
    members = defaultdict(set)
    for user_id, project_id in Membership.objects.values_list("user_id", "project_id"):
        members[user_id].add(project_id)
    # Collaborators from the audit trail: who joined which report.
    joined = defaultdict(set)
    for report_id, actor_id in ReportEvent.objects.filter(kind="collaborator_added").values_list(
        "report_id", "actor_id"
    ):
        joined[actor_id].add(report_id)
    reports = list(Report.objects.values_list("pk", "reporter_id", "project_id"))
    for user in get_user_model().objects.all():
        expected = {
            pk
            for pk, reporter_id, project_id in reports
            if reporter_id == user.pk or project_id in members[user.pk] or pk in joined[user.pk]
        }
        seen = set(Report.objects.visible_to(user).values_list("pk", flat=True))
        assert seen == expected, user.email
    stranger = get_user_model().objects.create_user(username="nobody", email="nobody@example.org")
    assert not Report.objects.visible_to(stranger).exists()


def test_collaborators_hold_guardian_permissions_as_the_invitation_grants_them(generated):
    holders = set(ReportUserObjectPermission.objects.values_list("user_id", flat=True))
    assert holders
    for helper in get_user_model().objects.filter(pk__in=holders):
        shared = set(
            ReportEvent.objects.filter(kind="collaborator_added", actor=helper).values_list(
                "report_id", flat=True
            )
        )
        guardian = get_objects_for_user(
            helper, "reports.view_report", klass=Report, accept_global_perms=False
        )
        assert set(guardian.values_list("pk", flat=True)) == shared
        assert set(Report.objects.visible_to(helper).values_list("pk", flat=True)) == shared
        # Each through an invitation to the helper's address, accepted before it expired.
        accepted = Invitation.objects.filter(email=helper.email, accepted_at__isnull=False)
        assert set(accepted.values_list("report_id", flat=True)) == shared
        assert all(i.created_at < i.accepted_at <= i.expires_at for i in accepted)
    # Invitations never accepted grant nothing.
    for invitation in Invitation.objects.filter(accepted_at__isnull=True):
        assert not ReportUserObjectPermission.objects.filter(
            content_object=invitation.report, user__email=invitation.email
        ).exists()


def test_deadlines_and_disclosure_dates_are_the_services(generated):
    reports = Report.objects.select_related("revision", "project", "disclosure")
    for report in reports:
        stored = {name: getattr(report, name) for name in (*sla.DEADLINE_FIELDS, "next_due")}
        assert stored == sla.deadlines(report), report.tracking_id
        assert report.disclosure.due == report.disclosure.compute_due(), report.tracking_id
    # Some clocks are open, some passed: the queue has deadlines to sort by.
    assert reports.filter(next_due__lt=timezone.now()).exists()
    assert reports.filter(next_due__gt=timezone.now()).exists()


def test_the_audit_trail_tells_each_reports_state_and_milestones(generated):
    events = defaultdict(list)
    for event in ReportEvent.objects.order_by("created_at", "id"):
        events[event.report_id].append(event)
    updates = defaultdict(list)
    for comment in Comment.objects.filter(internal=False, by_member=True):
        updates[comment.report_id].append(comment.created_at)
    for report in Report.objects.all():
        trail = events[report.pk]
        assert trail[0].kind == "created"
        assert (trail[0].actor_id, trail[0].to_state) == (report.reporter_id, "new")
        assert trail[0].created_at == report.created_at
        moves = [e for e in trail if e.kind == "transition"]
        state = "new"
        for move in moves:
            assert move.from_state == state, report.tracking_id
            state = move.to_state
        assert state == report.state, report.tracking_id
        at = {move.to_state: move.created_at for move in moves}
        first_response = next(
            (m.created_at for m in moves if m.to_state in {"acknowledged", "triaged"}), None
        )
        assert report.acknowledged_at == first_response
        assert report.triaged_at == at.get("triaged")
        assert report.fixed_at == at.get("fixed")
        assert report.closed_at == (at[report.state] if report.state in CLOSED_STATES else None)
        assert report.paused_at == (at["needs_info"] if report.state == "needs_info" else None)
        assert report.last_update_at == max(
            [report.created_at, *(m.created_at for m in moves), *updates[report.pk]]
        )
        if report.state == "duplicate":
            assert report.duplicate_of.project_id == report.project_id
            assert report.duplicate_of.created_at < report.created_at


def test_reminders_are_what_the_planners_want_with_a_backlog_due(generated):
    now, counts = generated

    def rows():
        fields = ("report_id", "kind", "due_at", "send_at", "sent_at")
        return set(Reminder.objects.values_list(*fields))

    before = rows()
    sent_and_wanted = []
    for report in Report.objects.select_related("revision", "project"):
        wanted = {(p.kind, p.due_at) for p in reminders.planned(report, now=now)}
        kept = {(kind, due): sent for kind, due, sent in report.reminders.values_list(
            "kind", "due_at", "sent_at"
        )}  # fmt: skip
        assert wanted <= set(kept), report.tracking_id
        sent_and_wanted += [due for key, due in kept.items() if key in wanted and due]
        reminders.sync(report, now=now)
    assert rows() == before  # nothing to add, nothing stale

    pending = Reminder.objects.filter(sent_at__isnull=True)
    due = pending.filter(send_at__lte=now)
    assert due.count() == counts["due reminders (backlog)"] == DUE
    # The backlog is the latest of what came due and is still wanted: the sweep sent the rest.
    backlog_from = min(due.values_list("send_at", flat=True))
    assert (
        Reminder.objects.filter(sent_at__isnull=False, send_at__lt=backlog_from).count()
        >= len(sent_and_wanted)
        > 0
    )
    assert not Reminder.objects.filter(
        sent_at__in=sent_and_wanted, send_at__gt=backlog_from
    ).exists()
    assert not pending.filter(report__state__in=CLOSED_STATES).exists()
    assert all(
        sent_at >= send_at
        for send_at, sent_at in Reminder.objects.filter(sent_at__isnull=False).values_list(
            "send_at", "sent_at"
        )
    )
    assert pending.filter(send_at__gt=now).exists()  # warnings still to come


def test_tracking_ids_are_unique_and_filing_continues_the_counter(generated):
    seen = set()
    last = defaultdict(int)
    for project, prefix, year, sequence, tracking_id in Report.objects.values_list(
        "project_id", "project__tracking_prefix", "year", "sequence", "tracking_id"
    ):
        assert tracking_id == f"{prefix}-{year}-{sequence:04d}"
        seen.add(tracking_id)
        last[project, year] = max(last[project, year], sequence)
    assert len(seen) == REPORTS
    counters = {(c.project_id, c.year): c.last for c in TrackingCounter.objects.all()}
    assert counters == dict(last)
    for project in Project.objects.filter(slug__in=["stalwart", "bench-000"]):
        year = timezone.now().year
        before = counters.get((project.pk, year), 0)
        reporter = get_user_model().objects.get(email="reporter1@bench.example")
        report = file_report(
            project=project,
            reporter=reporter,
            fields={"title": "One more", "description": "After the generated history."},
        )
        assert report.sequence == before + 1
        assert report.tracking_id == f"{project.tracking_prefix}-{year}-{before + 1:04d}"
        assert report.pk == max(Report.objects.values_list("pk", flat=True))
    # The identity sequences continue after the copied rows, for every table written.
    user = get_user_model().objects.create_user(username="new", email="new@example.org")
    assert user.pk > max(get_user_model().objects.exclude(pk=user.pk).values_list("pk", flat=True))


def test_the_same_seed_gives_the_same_data(db):
    now = timezone.now().replace(microsecond=0)

    def run(seed):
        with transaction.atomic():
            generator.generate(reports=60, projects=4, seed=seed, now=now, due_reminders=2)
            made = list(
                Report.objects.order_by("pk").values_list(
                    "tracking_id", "reporter__email", "state", "created_at", "next_due", "title"
                )
            )
            transaction.set_rollback(True)
        return made

    first = run(3)
    assert len(first) == 60
    assert first[0][3] >= now - dt.timedelta(days=3 * 366)
    assert run(3) == first
    assert run(4) != first
