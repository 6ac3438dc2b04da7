"""The report lifecycle (DESIGN §4): which transitions are valid from which state, why some are
refused, the SLA deadlines each seeded policy promises, the needs-info pause, and the audit trail.
"""

import datetime as dt
import io
import itertools

import pytest
import time_machine
from django.core.management import call_command

from projects.models import Project
from reports import services
from reports.models import CLOSURES, Report, ReportEvent, State
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)  # every seeded revision is in force
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)

DEADLINES = (
    "ack_due",
    "detail_due",
    "next_update_due",
    "resolve_due",
    "next_due",
)

# Valid options for each transition; `by` is the reporter for the reporter's own moves.
OPTIONS = {
    "acknowledge": {},
    "triage": {"severity": "high", "message": "Confirmed: the header parser overflows."},
    "start_fix": {},
    "mark_fixed": {},
    "request_info": {"message": "Which version do you run?"},
    "provide_info": {"message": "Version 2.1.3 on Debian."},
    "close": {"resolution": "not_applicable", "message": "The header is length-checked upstream."},
    "withdraw": {"message": "I misread the code, sorry."},
    "reopen": {"message": "The reporter sent a new proof of concept."},
    "disclose": {"message": "Advisory published."},
}
REPORTER_MOVES = {"provide_info", "withdraw"}
OPEN = {State.NEW, State.ACKNOWLEDGED, State.TRIAGED, State.FIXING}
# DESIGN §4, written out here so that a change to services.TRANSITIONS is a visible decision.
ALLOWED = {
    "acknowledge": {State.NEW},
    "triage": {State.NEW, State.ACKNOWLEDGED},
    "start_fix": {State.TRIAGED},
    "mark_fixed": {State.TRIAGED, State.FIXING},
    "request_info": OPEN,
    "provide_info": {State.NEEDS_INFO},
    "close": OPEN | {State.NEEDS_INFO},
    "withdraw": OPEN | {State.NEEDS_INFO},
    "reopen": {*CLOSURES, State.WITHDRAWN},
    "disclose": {State.FIXED},  # by publishing the advisory
}
TARGET = {
    "acknowledge": State.ACKNOWLEDGED,
    "triage": State.TRIAGED,
    "start_fix": State.FIXING,
    "mark_fixed": State.FIXED,
    "request_info": State.NEEDS_INFO,
    "close": State.NOT_APPLICABLE,
    "withdraw": State.WITHDRAWN,
    "disclose": State.DISCLOSED,
}


def file(project, reporter, title="Heap overflow in the header parser"):
    fields = {"title": title, "description": "A long header overflows.", "impact": "RCE."}
    return services.file_report(project=project, reporter=reporter, fields=fields)


def act(report, name, by, **options):
    """services.transition with the valid options of OPTIONS, overridable."""
    return services.transition(report=report, by=by, name=name, **{**OPTIONS[name], **options})


def fresh(report):
    return Report.objects.get(pk=report.pk)


def row(report):
    return Report.objects.filter(pk=report.pk).values().get()


def events(report):
    return ReportEvent.objects.filter(report=report)


def due(report):
    report = fresh(report)
    return {name: getattr(report, name) for name in DEADLINES}


# How each state is reached through the services.
PATHS = {
    State.NEW: [],
    State.ACKNOWLEDGED: ["acknowledge"],
    State.TRIAGED: ["triage"],
    State.FIXING: ["triage", "start_fix"],
    State.FIXED: ["triage", "mark_fixed"],
    State.DISCLOSED: ["triage", "mark_fixed", "disclose"],
    State.NEEDS_INFO: ["acknowledge", "request_info"],  # provide_info leads back to acknowledged
    State.WITHDRAWN: ["triage", "withdraw"],  # reopen leads back to triaged
    **{closure: ["close"] for closure in CLOSURES},  # closed while new: reopen leads to new
}


def put_in_state(state, *, project, reporter, member):
    report = file(project, reporter)
    for name in PATHS[state]:
        options = {}
        if name == "close":
            options["resolution"] = state
            if state == State.DUPLICATE:
                options["duplicate_of"] = file(project, reporter, title="The original report")
        act(report, name, reporter if name in REPORTER_MOVES else member, **options)
    report = fresh(report)
    assert report.state == state
    return report


def expected_target(name, state):
    if name == "provide_info":
        return State.ACKNOWLEDGED  # the state before the pause (PATHS)
    if name == "reopen":
        return State.TRIAGED if state == State.WITHDRAWN else State.NEW
    return TARGET[name]


# --- Transition table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "name"),
    list(itertools.product(State, services.TRANSITIONS)),
    ids=lambda value: str(value),
)
def test_transition_table(state, name, project, reporter, maintainer):
    report = put_in_state(state, project=project, reporter=reporter, member=maintainer)
    by = reporter if name in REPORTER_MOVES else maintainer
    before_row = row(report)
    before_events = list(events(report).values())
    if name not in ALLOWED:
        pytest.fail(f"services.TRANSITIONS has a new transition {name!r}: add it to ALLOWED")

    if state in ALLOWED[name]:
        result = act(report, name, by)
        target = expected_target(name, state)
        assert result.state == target
        assert fresh(report).state == target
        new_events = list(events(report).exclude(pk__in=[e["id"] for e in before_events]))
        assert len(new_events) == 1
        event = new_events[0]
        assert event.kind == ReportEvent.Kind.TRANSITION
        assert (event.from_state, event.to_state) == (state, target)
        assert event.actor == by
        assert event.message == OPTIONS[name].get("message", "")
        # Earlier events are untouched.
        assert list(events(report).filter(pk__in=[e["id"] for e in before_events]).values()) == (
            before_events
        )
    else:
        with pytest.raises(services.ReportError):
            act(report, name, by)
        assert row(report) == before_row
        assert list(events(report).values()) == before_events


def test_the_services_table_is_the_designed_one():
    assert services.TRANSITIONS == ALLOWED
    report = Report(state=State.ACKNOWLEDGED)
    assert services.allowed_transitions(report) == ["triage", "request_info", "close", "withdraw"]


# --- Reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["", "   \n"])
@pytest.mark.parametrize("resolution", [*CLOSURES])
def test_closing_without_a_reason_is_refused(resolution, message, project, reporter, maintainer):
    report = put_in_state(State.TRIAGED, project=project, reporter=reporter, member=maintainer)
    other = file(project, reporter, title="The original report")
    before_row, count = row(report), events(report).count()
    with pytest.raises(services.ReportError, match="reason"):
        act(report, "close", maintainer, resolution=resolution, message=message, duplicate_of=other)
    assert row(report) == before_row
    assert events(report).count() == count


@pytest.mark.parametrize("message", ["", "  "])
def test_withdrawing_without_a_reason_is_refused(message, project, reporter, maintainer):
    report = put_in_state(State.ACKNOWLEDGED, project=project, reporter=reporter, member=maintainer)
    before_row, count = row(report), events(report).count()
    with pytest.raises(services.ReportError, match="reason"):
        act(report, "withdraw", reporter, message=message)
    assert row(report) == before_row
    assert events(report).count() == count


@pytest.mark.parametrize("resolution", ["withdrawn", "disclosed", "fixed", "", "bogus"])
def test_closing_needs_a_member_closure(resolution, project, reporter, maintainer):
    report = file(project, reporter)
    with pytest.raises(services.ReportError):
        act(report, "close", maintainer, resolution=resolution)
    assert fresh(report).state == State.NEW
    assert events(report).count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [("triage", ""), ("request_info", " "), ("provide_info", ""), ("reopen", "")],
)
def test_other_transitions_that_need_a_message(name, message, project, reporter, maintainer):
    state = {"provide_info": State.NEEDS_INFO, "reopen": State.SPAM}.get(name, State.NEW)
    report = put_in_state(state, project=project, reporter=reporter, member=maintainer)
    before_row, count = row(report), events(report).count()
    with pytest.raises(services.ReportError):
        act(report, name, maintainer, message=message)
    assert row(report) == before_row
    assert events(report).count() == count


def test_duplicate_needs_a_report_of_the_same_project(project, reporter, maintainer):
    original = file(project, reporter, title="The original report")
    report = file(project, reporter)
    elsewhere_project = ProjectFactory(tracking_prefix="ELSE")
    PolicyRevisionFactory(project=elsewhere_project)
    elsewhere = file(elsewhere_project, reporter)
    before_row = row(report)

    for duplicate_of in (None, elsewhere, report, fresh(report)):
        with pytest.raises(services.ReportError):
            act(report, "close", maintainer, resolution="duplicate", duplicate_of=duplicate_of)
        assert row(report) == before_row
        assert events(report).count() == 1

    act(report, "close", maintainer, resolution="duplicate", duplicate_of=original)
    report = fresh(report)
    assert report.state == State.DUPLICATE
    assert report.duplicate_of == original
    assert report.closed_at is not None
    event = events(report).last()
    assert event.data == {"duplicate_of": original.tracking_id}
    assert (event.from_state, event.to_state) == (State.NEW, State.DUPLICATE)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([], State.NEW),
        (["acknowledge"], State.NEW),
        (["acknowledge", "request_info"], State.NEW),
        (["triage"], State.TRIAGED),
        (["acknowledge", "triage", "start_fix"], State.TRIAGED),
        (["triage", "request_info"], State.TRIAGED),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, list) else str(value),
)
@pytest.mark.parametrize("closing", ["spam", "duplicate", "withdraw"])
def test_reopen_returns_to_triaged_if_it_was_triaged_else_new(
    closing, path, expected, project, reporter, maintainer
):
    original = file(project, reporter, title="The original report")
    report = file(project, reporter)
    for name in path:
        act(report, name, maintainer)
    if closing == "withdraw":
        act(report, "withdraw", reporter)
    else:
        act(report, "close", maintainer, resolution=closing, duplicate_of=original)
    assert fresh(report).closed_at is not None

    act(report, "reopen", maintainer)
    report = fresh(report)
    assert report.state == expected
    assert report.closed_at is None
    assert report.resolution_reason == ""
    assert report.duplicate_of is None
    assert events(report).last().to_state == expected


# --- Deadlines of the seeded policies -----------------------------------------------------------


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def at(clock, when):
    clock.move_to(when)
    return when


def test_stalwart_deadlines(seeded, clock, reporter, maintainer):
    report = file(seeded["stalwart"], reporter)
    assert report.created_at == T0
    assert report.revision.effective_from == dt.date(2025, 7, 16)
    assert due(report) == {
        "ack_due": T0 + 24 * H,
        "detail_due": T0 + 72 * H,
        "next_update_due": T0 + 7 * D,
        "resolve_due": T0 + 90 * D,
        "next_due": T0 + 24 * H,
    }

    acked = at(clock, T0 + 10 * H)
    act(report, "acknowledge", maintainer)
    assert due(report) == {
        "ack_due": None,
        "detail_due": T0 + 72 * H,
        "next_update_due": acked + 7 * D,
        "resolve_due": T0 + 90 * D,
        "next_due": T0 + 72 * H,
    }

    triaged = at(clock, T0 + 30 * H)
    act(report, "triage", maintainer)
    assert due(report) == {
        "ack_due": None,
        "detail_due": None,
        "next_update_due": triaged + 7 * D,
        "resolve_due": T0 + 90 * D,
        "next_due": triaged + 7 * D,
    }

    commented = at(clock, T0 + 4 * D)
    services.add_comment(
        report=report, by=maintainer, body="Fix in review.", internal=False, by_member=True
    )
    assert fresh(report).next_update_due == commented + 7 * D
    assert fresh(report).next_due == commented + 7 * D

    at(clock, T0 + 6 * D)
    services.add_comment(
        report=report, by=maintainer, body="Internal note.", internal=True, by_member=True
    )
    assert fresh(report).next_update_due == commented + 7 * D
    at(clock, T0 + 8 * D)
    services.add_comment(
        report=report, by=reporter, body="Any news?", internal=False, by_member=False
    )
    assert fresh(report).next_update_due == commented + 7 * D
    assert fresh(report).state == State.TRIAGED

    started = at(clock, T0 + 9 * D)
    act(report, "start_fix", maintainer)
    assert fresh(report).next_update_due == started + 7 * D
    assert fresh(report).resolve_due == T0 + 90 * D

    at(clock, T0 + 20 * D)
    act(report, "mark_fixed", maintainer)
    assert due(report) == {
        "ack_due": None,
        "detail_due": None,
        "next_update_due": None,
        "resolve_due": None,
        "next_due": None,
    }


@pytest.mark.parametrize("slug", ["stalwart", "teammail", "mailtri-router"])
@pytest.mark.parametrize(
    "path",
    [
        ["close:not_applicable"],
        ["acknowledge", "close:out_of_scope"],
        ["triage", "close:informative"],
        ["triage", "start_fix", "close:spam"],
        ["request_info", "close:not_applicable"],
        ["triage", "withdraw"],
        ["request_info", "withdraw"],
    ],
    ids="-".join,
)
def test_closed_reports_have_no_deadline(slug, path, seeded, clock, reporter, maintainer):
    report = file(seeded[slug], reporter)
    for step in path:
        clock.shift(5 * H)
        name, _, resolution = step.partition(":")
        options = {"resolution": resolution} if resolution else {}
        act(report, name, reporter if name in REPORTER_MOVES else maintainer, **options)
    assert due(report) == dict.fromkeys(DEADLINES)

    # A member's public comment on a closed report opens no clock either.
    services.add_comment(
        report=report, by=maintainer, body="Thanks.", internal=False, by_member=True
    )
    assert due(report) == dict.fromkeys(DEADLINES)


def test_teammail_deadlines(seeded, clock, reporter, maintainer):
    report = file(seeded["teammail"], reporter)
    assert due(report) == {
        "ack_due": T0 + 14 * D,
        "detail_due": T0 + 14 * D,
        "next_update_due": None,
        "resolve_due": None,
        "next_due": T0 + 14 * D,
    }

    at(clock, T0 + 2 * D)
    act(report, "acknowledge", maintainer)
    assert due(report) == {
        **dict.fromkeys(DEADLINES),
        "detail_due": T0 + 14 * D,
        "next_due": T0 + 14 * D,
    }

    # No update clock: a member's public comment changes nothing.
    at(clock, T0 + 3 * D)
    services.add_comment(
        report=report, by=maintainer, body="Looking.", internal=False, by_member=True
    )
    assert fresh(report).next_update_due is None

    triaged = at(clock, T0 + 5 * D + 3 * H)
    act(report, "triage", maintainer)
    assert due(report) == {
        **dict.fromkeys(DEADLINES),
        "resolve_due": triaged + 14 * D,
        "next_due": triaged + 14 * D,
    }

    at(clock, T0 + 7 * D)
    act(report, "start_fix", maintainer)
    assert fresh(report).resolve_due == triaged + 14 * D

    at(clock, T0 + 10 * D)
    act(report, "mark_fixed", maintainer)
    assert due(report) == dict.fromkeys(DEADLINES)


def test_teammail_fix_clock_starts_at_triage_from_new(seeded, clock, reporter, maintainer):
    report = file(seeded["teammail"], reporter)
    triaged = at(clock, T0 + 13 * D)
    act(report, "triage", maintainer)
    assert due(report) == {
        **dict.fromkeys(DEADLINES),
        "resolve_due": triaged + 14 * D,
        "next_due": triaged + 14 * D,
    }


def test_mailtri_router_deadlines(seeded, clock, reporter, maintainer):
    report = file(seeded["mailtri-router"], reporter)
    assert due(report) == {
        **dict.fromkeys(DEADLINES),
        "ack_due": T0 + 24 * H,
        "detail_due": T0 + 72 * H,
        "next_due": T0 + 24 * H,
    }

    at(clock, T0 + 2 * H)
    act(report, "acknowledge", maintainer)
    assert due(report) == {
        **dict.fromkeys(DEADLINES),
        "detail_due": T0 + 72 * H,
        "next_due": T0 + 72 * H,
    }

    at(clock, T0 + 50 * H)
    services.add_comment(report=report, by=maintainer, body="Soon.", internal=False, by_member=True)
    act(report, "triage", maintainer)
    assert due(report) == dict.fromkeys(DEADLINES)
    act(report, "mark_fixed", maintainer)
    assert due(report) == dict.fromkeys(DEADLINES)


# --- The needs-info pause -----------------------------------------------------------------------


def resume(how, report, *, reporter):
    if how == "provide_info":
        act(report, "provide_info", reporter)
    else:
        services.add_comment(
            report=report, by=reporter, body="It is 2.1.3.", internal=False, by_member=False
        )


@pytest.mark.parametrize("how", ["provide_info", "reporter_comment"])
@pytest.mark.parametrize(
    "path", [[], ["acknowledge"], ["triage"], ["triage", "start_fix"]], ids="-".join
)
def test_needs_info_pauses_every_clock(how, path, seeded, clock, reporter, maintainer):
    report = file(seeded["stalwart"], reporter)
    for name in path:
        clock.shift(H)
        act(report, name, maintainer)
    state = fresh(report).state
    running = due(report)

    paused = at(clock, T0 + 5 * H)
    act(report, "request_info", maintainer)
    report = fresh(report)
    assert report.state == State.NEEDS_INFO
    assert report.state_before_pause == state
    assert report.paused_at == paused
    assert due(report) == dict.fromkeys(DEADLINES)

    # Member comments, public or internal, do not end the pause.
    clock.shift(D)
    services.add_comment(report=report, by=maintainer, body="Ping?", internal=False, by_member=True)
    services.add_comment(report=report, by=maintainer, body="Hm.", internal=True, by_member=True)
    assert fresh(report).state == State.NEEDS_INFO
    assert due(report) == dict.fromkeys(DEADLINES)

    resumed = at(clock, paused + 3 * D)
    resume(how, report, reporter=reporter)
    report = fresh(report)
    assert report.state == state
    assert report.paused_at is None
    assert report.state_before_pause == ""
    assert report.paused_for == 3 * D
    after = due(report)
    for name in ("ack_due", "detail_due", "resolve_due"):
        shifted = None if running[name] is None else running[name] + 3 * D
        assert after[name] == shifted, name
    assert after["next_update_due"] == resumed + 7 * D
    assert after["next_due"] == min(
        value for name, value in after.items() if value and name != "next_due"
    )
    event = events(report).last()
    assert (event.from_state, event.to_state, event.actor) == (State.NEEDS_INFO, state, reporter)


def test_two_pauses_add_up(seeded, clock, reporter, maintainer):
    report = file(seeded["stalwart"], reporter)
    at(clock, T0 + 5 * H)
    act(report, "request_info", maintainer)
    at(clock, T0 + 5 * H + 3 * D)
    resume("provide_info", report, reporter=reporter)
    assert fresh(report).ack_due == T0 + 3 * D + 24 * H

    at(clock, T0 + 3 * D + 10 * H)
    act(report, "request_info", maintainer)
    at(clock, T0 + 3 * D + 10 * H + 2 * D + 6 * H)
    resume("reporter_comment", report, reporter=reporter)
    report = fresh(report)
    assert report.state == State.NEW
    assert report.paused_for == 5 * D + 6 * H
    assert due(report) == {
        "ack_due": T0 + 5 * D + 6 * H + 24 * H,
        "detail_due": T0 + 5 * D + 6 * H + 72 * H,
        "next_update_due": T0 + 5 * D + 16 * H + 7 * D,
        "resolve_due": T0 + 5 * D + 6 * H + 90 * D,
        "next_due": T0 + 5 * D + 6 * H + 24 * H,
    }


def test_a_pause_ended_by_closing_counts_but_opens_no_clock(seeded, clock, reporter, maintainer):
    report = file(seeded["stalwart"], reporter)
    at(clock, T0 + 5 * H)
    act(report, "request_info", maintainer)
    at(clock, T0 + 5 * H + 3 * D)
    act(report, "close", maintainer, resolution="informative")
    report = fresh(report)
    assert report.paused_at is None
    assert report.paused_for == 3 * D
    assert due(report) == dict.fromkeys(DEADLINES)


def test_teammail_fix_clock_shifts_only_by_pauses_after_triage(seeded, clock, reporter, maintainer):
    report = file(seeded["teammail"], reporter)
    # A pause before triage shifts the answer clocks, not the fix clock to come.
    at(clock, T0 + 1 * H)
    act(report, "request_info", maintainer)
    at(clock, T0 + 1 * H + 2 * D)
    resume("provide_info", report, reporter=reporter)
    assert fresh(report).ack_due == T0 + 2 * D + 14 * D

    triaged = at(clock, T0 + 4 * D)
    act(report, "triage", maintainer)
    assert fresh(report).resolve_due == triaged + 14 * D

    at(clock, triaged + 1 * D)
    act(report, "request_info", maintainer)
    assert fresh(report).resolve_due is None
    at(clock, triaged + 4 * D)
    resume("reporter_comment", report, reporter=reporter)
    report = fresh(report)
    assert report.state == State.TRIAGED
    assert report.resolve_due == triaged + 3 * D + 14 * D

    at(clock, triaged + 5 * D)
    act(report, "start_fix", maintainer)
    at(clock, triaged + 6 * D)
    act(report, "request_info", maintainer)
    at(clock, triaged + 6 * D + 12 * H)
    resume("provide_info", report, reporter=reporter)
    report = fresh(report)
    assert report.state == State.FIXING
    assert report.resolve_due == triaged + 3 * D + 12 * H + 14 * D
    assert report.next_due == report.resolve_due


# --- Audit trail --------------------------------------------------------------------------------


def test_every_transition_is_audited_and_events_are_append_only(
    project, clock, reporter, maintainer, triager
):
    report = file(project, reporter)
    steps = [
        (triager, "acknowledge", State.NEW, State.ACKNOWLEDGED),
        (maintainer, "request_info", State.ACKNOWLEDGED, State.NEEDS_INFO),
        (reporter, "provide_info", State.NEEDS_INFO, State.ACKNOWLEDGED),
        (maintainer, "triage", State.ACKNOWLEDGED, State.TRIAGED),
        (maintainer, "close", State.TRIAGED, State.NOT_APPLICABLE),
        (triager, "reopen", State.NOT_APPLICABLE, State.TRIAGED),
        (maintainer, "start_fix", State.TRIAGED, State.FIXING),
        (reporter, "withdraw", State.FIXING, State.WITHDRAWN),
    ]
    history = list(events(report).values())
    assert [(e["kind"], e["to_state"], e["actor_id"]) for e in history] == [
        ("created", State.NEW, reporter.pk)
    ]
    for actor, name, source, target in steps:
        clock.shift(H)
        # A refused move in between writes nothing.
        with pytest.raises(services.ReportError):
            act(report, "start_fix" if source != State.TRIAGED else "provide_info", actor)
        assert list(events(report).values()) == history

        act(report, name, actor)
        now = list(events(report).values())
        assert len(now) == len(history) + 1
        assert now[: len(history)] == history  # nothing earlier was rewritten
        added = now[-1]
        assert added["kind"] == ReportEvent.Kind.TRANSITION
        assert (added["from_state"], added["to_state"]) == (source, target)
        assert added["actor_id"] == actor.pk
        assert added["created_at"] == dt.datetime.now(tz=dt.UTC)
        assert added["message"] == OPTIONS[name].get("message", "")
        history = now

    assert next(e["data"] for e in history if e["to_state"] == State.TRIAGED) == {
        "severity": "high"
    }
    # Comments are not events; they leave the trail alone.
    services.add_comment(
        report=report, by=maintainer, body="Noted.", internal=False, by_member=True
    )
    assert list(events(report).values()) == history


def test_events_name_their_actor_even_for_another_member(project, reporter, maintainer):
    someone = UserFactory()
    report = file(project, reporter)
    act(report, "acknowledge", someone)
    assert events(report).last().actor == someone
