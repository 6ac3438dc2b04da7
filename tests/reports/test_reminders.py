"""Reminders (DESIGN §5): which reminders a Stalwart report's deadlines and disclosure date call
for, how they follow the lifecycle, the sweep that sends each of them once through the outbox,
and delivery.

Time is frozen; the sweep runs in-process (no worker: see test_worker.py for the real one).
"""

import datetime as dt
import gc
import io
import math
import re
import smtplib
import threading
import time
import types
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_init, pre_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import mailer.outbox
from advisories.reminders import Kind as DisclosureKind
from mailer.models import OutboundEmail
from projects.models import Membership, Project
from reports import reminders, services, sweep
from reports.models import Reminder, Report, ReportEvent, State
from reports.reminders import Kind
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import reminder_emails, share

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)  # the 2025-07-16 Stalwart policy is in force
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
BACKUP = "hello@stalw.art"
SENTINEL = "INTERNAL-SENTINEL-7f3a"  # only ever written in an internal comment

STALWART_REPORT = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x"],
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}

# What the seeded Stalwart policy (24 h / 72 h / 7 d / 90 d, backup after 48 h) calls for at
# filing, with REMINDER_LEAD_FRACTION = 0.25: kind -> (send_at, due_at).
STALWART_PLAN = {
    Kind.ACK_WARNING: (T0 + 18 * H, T0 + 24 * H),
    Kind.ACK_OVERDUE: (T0 + 24 * H, T0 + 24 * H),
    Kind.BACKUP_ESCALATION: (T0 + 48 * H, T0 + 48 * H),
    Kind.DETAIL_WARNING: (T0 + 54 * H, T0 + 72 * H),
    Kind.DETAIL_OVERDUE: (T0 + 72 * H, T0 + 72 * H),
    Kind.UPDATE_WARNING: (T0 + 7 * D - 42 * H, T0 + 7 * D),
    Kind.UPDATE_OVERDUE: (T0 + 7 * D, T0 + 7 * D),
    Kind.RESOLVE_WARNING: (T0 + 90 * D - 22 * D - 12 * H, T0 + 90 * D),
    Kind.RESOLVE_OVERDUE: (T0 + 90 * D, T0 + 90 * D),
}
# "Typical timeline: 90 days from report to public disclosure" (Stalwart's policy): members hear a
# week and a day before, and when it passes unpublished. Waiting for the reporter does not move it.
DISCLOSURE_PLAN = {
    DisclosureKind.DISCLOSURE_WARNING: (T0 + 83 * D, T0 + 90 * D),
    DisclosureKind.DISCLOSURE_TOMORROW: (T0 + 89 * D, T0 + 90 * D),
    DisclosureKind.DISCLOSURE_DUE: (T0 + 90 * D, T0 + 90 * D),
}


@pytest.fixture(autouse=True)
def _lead_fraction(settings):
    settings.REMINDER_LEAD_FRACTION = 0.25  # the default, pinned: the figures above depend on it


@pytest.fixture
def stalwart(db):
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def closes_unanswered(stalwart):
    """An instance where Stalwart's policy closes unanswered reports after 30 days. The published
    policy says no such thing and the seed leaves the rule off
    (test_the_seeded_policy_never_closes_an_unanswered_report): the closure is tested on a
    revision that sets it.
    """
    stalwart.revisions.update(needs_info_close_days=30)


@pytest.fixture
def team(stalwart):
    """Stalwart's members, one per role."""
    return types.SimpleNamespace(
        **{
            role: MembershipFactory(
                project=stalwart, role=role, user=UserFactory(email=f"{role}@stalw.example")
            ).user
            for role in Membership.Role.values
        }
    )


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def filed(stalwart, team, clock, reporter, collaborator):
    """A Stalwart report filed at T0, shared with a collaborator."""
    report = file(stalwart, reporter)
    share(report, by=reporter, with_user=collaborator)
    # The filing's own notifications are not under test: the outbox holds what the test causes.
    OutboundEmail.objects.all().delete()
    return fresh(report)


def file(project, reporter, title=STALWART_REPORT["title"]):
    fields = {**STALWART_REPORT, "title": title}
    return services.file_report(project=project, reporter=reporter, fields=fields)


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def act(report, name, by, **options):
    return services.transition(report=fresh(report), by=by, name=name, **options)


def pending(report):
    """{kind: (send_at, due_at)} of the reminders still to be sent."""
    rows = Reminder.objects.filter(report=report, sent_at__isnull=True)
    plan = {row.kind: (row.send_at, row.due_at) for row in rows}
    assert len(plan) == rows.count(), "two pending reminders of the same kind"
    return plan


def sent(report):
    return {
        row.kind: row.sent_at
        for row in Reminder.objects.filter(report=report, sent_at__isnull=False)
    }


def sweep_at(clock, when, **options):
    clock.move_to(when)
    return sweep.sweep(**options)


def outbox(kind=""):
    """Sorted (reminder kind, address) pairs of the outbox rows written for reminders whose kind
    starts with `kind`.
    """
    return sorted(
        (reminder.kind, email.to)
        for email, reminder in reminder_emails()
        if reminder.kind.startswith(kind)
    )


def members(team, *roles):
    return [getattr(team, role).email for role in roles or Membership.Role.values]


# --- What a report's deadlines call for ---------------------------------------------------------


def test_stalwart_report_plans_every_clock_the_backup_escalation_and_the_disclosure(filed):
    assert pending(filed) == STALWART_PLAN | DISCLOSURE_PLAN
    assert sent(filed) == {}


def test_acknowledging_drops_the_acknowledgment_reminders_and_restarts_the_update_clock(
    filed, team, clock
):
    assert sweep_at(clock, T0 + 19 * H) == 1  # the acknowledgment warning went out

    acked = T0 + 20 * H
    clock.move_to(acked)
    act(filed, "acknowledge", team.maintainer)

    plan = {k: v for k, v in STALWART_PLAN.items() if not k.startswith(("ack_", "backup_"))}
    plan |= DISCLOSURE_PLAN
    plan[Kind.UPDATE_WARNING] = (acked + 7 * D - 42 * H, acked + 7 * D)
    plan[Kind.UPDATE_OVERDUE] = (acked + 7 * D, acked + 7 * D)
    assert pending(filed) == plan
    # What was sent stays as history.
    assert sent(filed) == {Kind.ACK_WARNING: T0 + 19 * H}


def test_closing_drops_every_pending_reminder_and_keeps_the_sent_ones(filed, team, clock):
    assert sweep_at(clock, T0 + 55 * H) == 4
    assert set(sent(filed)) == {
        Kind.ACK_WARNING,
        Kind.ACK_OVERDUE,
        Kind.BACKUP_ESCALATION,
        Kind.DETAIL_WARNING,
    }

    clock.move_to(T0 + 60 * H)
    act(filed, "close", team.maintainer, resolution="informative", message="Works as documented.")

    assert pending(filed) == {}
    assert set(sent(filed)) == {
        Kind.ACK_WARNING,
        Kind.ACK_OVERDUE,
        Kind.BACKUP_ESCALATION,
        Kind.DETAIL_WARNING,
    }
    assert sweep_at(clock, T0 + 200 * D) == 0


# --- Waiting for the reporter -------------------------------------------------------------------


def test_the_seeded_policy_never_closes_an_unanswered_report(filed, team, clock):
    """Stalwart's policy promises "Status updates: Every 7 days until resolved" and says nothing
    of closing a report its reporter has not answered: the reporter is nudged, and the report
    waits; nothing warns of or performs a closure.
    """
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")
    assert pending(filed) == {Kind.INFO_NUDGE: (asked + 7 * D, asked + 7 * D), **DISCLOSURE_PLAN}
    assert sweep_at(clock, asked + 365 * D) == 4  # the nudge and the three disclosure reminders
    assert fresh(filed).state == State.NEEDS_INFO
    assert outbox("info_") == outbox(Kind.INFO_NUDGE)


@pytest.mark.usefixtures("closes_unanswered")
def test_needs_info_nudges_the_reporter_side_then_warns_then_withdraws(
    filed, team, clock, reporter, collaborator, client
):
    clock.move_to(T0 + 2 * H)
    act(filed, "acknowledge", team.maintainer)
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")

    # Every SLA clock is paused: the reporter-side reminders are planned, and the disclosure
    # date stays where it was.
    assert pending(filed) == {
        Kind.INFO_NUDGE: (asked + 7 * D, asked + 7 * D),
        Kind.INFO_CLOSE_WARNING: (asked + 23 * D, asked + 30 * D),
        Kind.INFO_AUTO_CLOSE: (asked + 30 * D, asked + 30 * D),
        **DISCLOSURE_PLAN,
    }
    reporter_side = sorted([reporter.email, collaborator.email])

    assert sweep_at(clock, asked + 7 * D - H) == 0
    assert sweep_at(clock, asked + 7 * D) == 1
    assert outbox() == [(Kind.INFO_NUDGE, address) for address in reporter_side]

    assert sweep_at(clock, asked + 23 * D - H) == 0
    assert sweep_at(clock, asked + 23 * D) == 1
    assert outbox(Kind.INFO_CLOSE_WARNING) == [
        (Kind.INFO_CLOSE_WARNING, address) for address in reporter_side
    ]
    assert fresh(filed).state == State.NEEDS_INFO

    closed = asked + 30 * D
    assert sweep_at(clock, closed) == 1
    report = fresh(filed)
    assert report.state == State.WITHDRAWN
    assert report.closed_at == closed
    assert "no answer to the request for information within 30 days" in report.resolution_reason
    event = ReportEvent.objects.filter(report=report).last()
    assert (event.kind, event.actor, event.from_state, event.to_state, event.public) == (
        ReportEvent.Kind.TRANSITION,
        None,
        State.NEEDS_INFO,
        State.WITHDRAWN,
        True,
    )
    assert event.message == report.resolution_reason
    # The reporter sees why.
    client.sign_in(reporter)
    page = client.get(f"/reports/{report.tracking_id}/")
    assert page.status_code == 200
    assert "no answer to the request for information within 30 days" in page.content.decode()

    # No member ever got a reporter-side reminder; nothing is left to send.
    assert not set(members(team)) & {to for _, to in outbox()}
    assert pending(report) == {}
    assert sweep_at(clock, closed + 60 * D) == 0


@pytest.mark.usefixtures("closes_unanswered")
def test_the_auto_closure_is_kept_as_sent_history(filed, team, clock):
    """The closing reminder is the record that the sweep closed the report: it stays, sent."""
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")
    sweep_at(clock, asked + 7 * D)
    sweep_at(clock, asked + 23 * D)
    assert sweep_at(clock, asked + 30 * D) == 1

    assert sent(filed) == {
        Kind.INFO_NUDGE: asked + 7 * D,
        Kind.INFO_CLOSE_WARNING: asked + 23 * D,
        Kind.INFO_AUTO_CLOSE: asked + 30 * D,
    }


@pytest.mark.usefixtures("closes_unanswered")
def test_a_late_sweep_with_every_needs_info_reminder_due_withdraws_the_report(
    filed, team, clock, reporter, collaborator
):
    """Beat was down for a month: nudge, warning and closure of one report fall in one batch.

    The batch must still commit as a whole (the outbox rows written for the nudge and the warning
    name reminders that are kept as sent history), or every later sweep fails on the same batch.
    """
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")

    assert sweep_at(clock, asked + 31 * D) == 3

    connection.check_constraints()  # the deferred foreign keys, as the commit checks them
    assert outbox() == sorted(
        (kind, to)
        for kind in (Kind.INFO_NUDGE, Kind.INFO_CLOSE_WARNING)
        for to in (reporter.email, collaborator.email)
    )
    assert all(reminder.sent_at == asked + 31 * D for _, reminder in reminder_emails())
    assert fresh(filed).state == State.WITHDRAWN
    assert pending(filed) == {}
    assert sweep_at(clock, asked + 32 * D) == 0


@pytest.mark.usefixtures("closes_unanswered")
def test_answering_cancels_the_needs_info_reminders(filed, team, clock, reporter):
    clock.move_to(T0 + 2 * H)
    act(filed, "acknowledge", team.maintainer)
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")
    assert sweep_at(clock, asked + 7 * D) == 1  # the nudge went out

    answered = asked + 10 * D
    clock.move_to(answered)
    services.add_comment(
        report=fresh(filed),
        by=reporter,
        body="Relay with default config.",
        internal=False,
        by_member=False,
    )

    report = fresh(filed)
    assert report.state == State.ACKNOWLEDGED
    plan = pending(report)
    assert not {Kind.INFO_CLOSE_WARNING, Kind.INFO_AUTO_CLOSE, Kind.INFO_NUDGE} & set(plan)
    # The clocks resume, shifted by the 10 days spent waiting.
    assert plan[Kind.DETAIL_OVERDUE] == (T0 + 72 * H + 10 * D, T0 + 72 * H + 10 * D)
    assert sent(report) == {Kind.INFO_NUDGE: asked + 7 * D}

    sweep_at(clock, asked + 31 * D)
    assert fresh(filed).state == State.ACKNOWLEDGED
    assert outbox("info_") == outbox(Kind.INFO_NUDGE)


# --- The sweep and the outbox -------------------------------------------------------------------


def test_sweep_sends_each_due_reminder_once_through_the_outbox(
    filed, team, clock, reporter, collaborator, mailoutbox
):
    assert sweep_at(clock, T0 + 49 * H) == 3
    assert sweep.sweep() == 0
    assert sweep_at(clock, T0 + 50 * H) == 0

    assert sent(filed) == dict.fromkeys(
        [Kind.ACK_WARNING, Kind.ACK_OVERDUE, Kind.BACKUP_ESCALATION], T0 + 49 * H
    )
    everyone = members(team)
    assert outbox() == sorted(
        [(Kind.ACK_WARNING, to) for to in everyone]
        + [(Kind.ACK_OVERDUE, to) for to in everyone]
        + [(Kind.BACKUP_ESCALATION, to) for to in [BACKUP, *members(team, "admin")]]
    )
    assert not mailoutbox  # nothing leaves before delivery

    assert mailer.outbox.deliver_pending() == 8
    assert mailer.outbox.deliver_pending() == 0
    assert len(mailoutbox) == 8
    rows = {row.pk: row for row in OutboundEmail.objects.all()}
    reminder_of = {email.pk: reminder for email, reminder in reminder_emails()}
    assert all(row.sent_at == T0 + 50 * H for row in rows.values())

    url = f"{settings.SITE_URL}/reports/STW-2026-0001/"
    host = urlsplit(settings.SITE_URL).hostname
    for message in mailoutbox:
        (address,) = message.to
        assert address not in {reporter.email, collaborator.email}
        message_id = message.extra_headers["Message-ID"]
        match = re.fullmatch(rf"<outbound-(\d+)@{re.escape(host)}>", message_id)
        assert match, message_id
        row = rows[int(match[1])]
        assert message.message()["Message-ID"] == f"<outbound-{row.pk}@{host}>"
        assert row.to == address
        label = Kind(reminder_of[row.pk].kind).label
        assert message.subject == f"[STW-2026-0001] {label}"
        assert url in message.body
        assert label in message.body
        ((html, mimetype),) = message.alternatives
        assert mimetype == "text/html"
        assert f'href="{url}"' in html
    subjects = sorted({message.subject for message in mailoutbox})
    assert subjects == [
        "[STW-2026-0001] Acknowledgment due soon",
        "[STW-2026-0001] Acknowledgment overdue",
        "[STW-2026-0001] No acknowledgment: backup contact",
    ]


@pytest.mark.usefixtures("closes_unanswered")
def test_reporter_side_reminders_carry_no_internal_comment(
    filed, team, clock, reporter, collaborator, mailoutbox
):
    clock.move_to(T0 + H)
    services.add_comment(
        report=fresh(filed),
        by=team.maintainer,
        body=f"Exploitable: {SENTINEL}",
        internal=True,
        by_member=True,
    )
    asked = T0 + 3 * H
    clock.move_to(asked)
    act(filed, "request_info", team.maintainer, message="Which relay configuration do you run?")
    sweep_at(clock, asked + 7 * D)
    sweep_at(clock, asked + 23 * D)
    mailer.outbox.deliver_pending()

    reporter_side = {reporter.email, collaborator.email}
    waiting = {
        f"[{filed.tracking_id}] {Kind(kind).label}"
        for kind in (Kind.INFO_NUDGE, Kind.INFO_CLOSE_WARNING)
    }
    reminded = [m for m in mailoutbox if m.subject in waiting]
    assert sorted(m.to[0] for m in reminded) == sorted(2 * [*reporter_side])
    for message in mailoutbox:
        if not reporter_side & set(message.to):
            continue
        html = message.alternatives[0][0]
        assert SENTINEL not in message.subject + message.body + html
        assert f"/reports/{filed.tracking_id}/" in message.body


def test_sync_is_idempotent(filed, clock):
    before = list(Reminder.objects.filter(report=filed).values().order_by("pk"))
    reminders.sync(fresh(filed))
    reminders.sync(fresh(filed))
    assert list(Reminder.objects.filter(report=filed).values().order_by("pk")) == before

    sweep_at(clock, T0 + 25 * H)
    before = list(Reminder.objects.filter(report=filed).values().order_by("pk"))
    reminders.sync(fresh(filed))
    reminders.sync(fresh(filed))
    assert list(Reminder.objects.filter(report=filed).values().order_by("pk")) == before


def test_a_deadline_already_reminded_of_is_not_reminded_of_again(filed, team, clock):
    assert sweep_at(clock, T0 + 25 * H) == 2  # acknowledgment warning and overdue

    # Closed and reopened: the report is new again and its acknowledgment deadline is the same.
    clock.move_to(T0 + 26 * H)
    act(filed, "close", team.maintainer, resolution="informative", message="Works as designed.")
    clock.move_to(T0 + 27 * H)
    act(filed, "reopen", team.maintainer, message="The reporter found a second path.")
    # A member's public comment re-plans too; the acknowledgment deadline does not move.
    services.add_comment(
        report=fresh(filed),
        by=team.maintainer,
        body="Looking again.",
        internal=False,
        by_member=True,
    )
    assert fresh(filed).ack_due == T0 + 24 * H

    assert Kind.ACK_OVERDUE not in pending(filed)
    assert Reminder.objects.filter(report=filed, kind=Kind.ACK_OVERDUE).count() == 1
    assert sweep_at(clock, T0 + 28 * H) == 0
    assert outbox(Kind.ACK_OVERDUE) == sorted((Kind.ACK_OVERDUE, to) for to in members(team))


# --- Queries per batch --------------------------------------------------------------------------

# One batch of the sweep, inside the test's transaction:
#   1. SAVEPOINT
#   2. SELECT the batch's due reminders FOR UPDATE SKIP LOCKED, with report, project, revision
#      and reporter joined
#   3. SELECT the members of the batch's projects (email, role): who hears of each reminder
#      (the members with its role, else the security contact, reports.emails.project_side) is
#      decided from these and the project joined in 2, with no query of its own
#   (+1 SELECT of the collaborators when the batch holds reporter-side reminders)
#   4. SELECT the accounts of every address the batch writes to (their reply addresses)
#   5. SELECT the latest message sent to each recipient about each report, and
#   6. SELECT the latest message received from each (threading, mailer.outbox.thread)
#   7. INSERT the outbox rows (one bulk insert; on SQLite Django splits it every 76 rows). On
#      PostgreSQL a send of mailer.outbox.COPY_MIN_ROWS rows or more is a COPY instead, which
#      Django's query log does not see: it logs the COPY's SAVEPOINT and RELEASE, so a full
#      batch of 500 counts one query more, still constant (benchmarks/run.py's sweep section)
#   (+1 INSERT of the passed deadlines into the audit trail when the batch holds overdue
#   notices: one bulk insert, where the webhooks read them)
#   8. UPDATE the batch's reminders SET sent_at
#   9. RELEASE SAVEPOINT
# and a last round that finds nothing: SAVEPOINT, SELECT, RELEASE SAVEPOINT; then the other
# registered sources: end of support (SAVEPOINT, SELECT the series ending soon, RELEASE
# SAVEPOINT) and scheduled publications (SELECT the scheduled advisories whose date has come).
PER_BATCH = {"deadlines": 9, "nudges": 10}
# The batches holding overdue notices: the deadlines' are due at one time, so in one batch. On
# PostgreSQL they are written by COPY, which Django's query log does not show.
OVERDUE_INSERTS = {
    "deadlines": 0 if connection.vendor == "postgresql" else 1,
    "nudges": 0,
}
LAST_ROUND = 3 + 3 + 1


def due_reminders(kind, reports, *, project, team, clock, reporter, collaborator):
    """`reports` Stalwart reports filed at T0 and the time at which each has due reminders:
    three (acknowledgment warning and overdue, escalation) or one reporter-side nudge.
    """
    for n in range(reports):
        report = file(project, reporter, title=f"Report {n}")
        share(report, by=reporter, with_user=collaborator)
        if kind == "nudges":
            act(report, "request_info", team.maintainer, message="Which version?")
    if kind == "nudges":
        return T0 + 7 * D, reports
    return T0 + 49 * H, 3 * reports


@pytest.mark.parametrize("kind", ["deadlines", "nudges"])
@pytest.mark.parametrize("reports", [1, 10])
def test_one_batch_costs_the_same_queries_for_few_or_many_reminders(
    kind, reports, stalwart, team, clock, reporter, collaborator
):
    if kind == "nudges":
        reports *= 3  # 3 or 30 reminders, like the deadline case
    when, count = due_reminders(
        kind,
        reports,
        project=stalwart,
        team=team,
        clock=clock,
        reporter=reporter,
        collaborator=collaborator,
    )
    assert count in (3, 30)
    clock.move_to(when)
    rows = OutboundEmail.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert sweep.sweep(batch_size=1000) == count
    rows = OutboundEmail.objects.count() - rows
    expected = PER_BATCH[kind] + OVERDUE_INSERTS[kind] + LAST_ROUND + outbox_inserts(rows) - 1
    assert len(queries) == expected, "\n".join(q["sql"][:200] for q in queries.captured_queries)


def outbox_inserts(rows):
    """INSERT statements of one bulk insert of `rows` outbox rows: one on PostgreSQL; Django
    splits SQLite's at its assumed limit of 999 variables per statement (76 rows of 13 columns).
    """
    fields = [field for field in OutboundEmail._meta.concrete_fields if not field.primary_key]
    return math.ceil(rows / connection.ops.bulk_batch_size(fields, [None] * rows))


@pytest.mark.parametrize("enabled", [True, False])
def test_the_sweep_pauses_the_garbage_collector_and_leaves_it_as_it_was(
    enabled, filed, clock, monkeypatch
):
    during = []
    send = sweep._send
    monkeypatch.setattr(
        sweep, "_send", lambda *a, **k: during.append(gc.isenabled()) or send(*a, **k)
    )
    (gc.enable if enabled else gc.disable)()
    try:
        clock.move_to(T0 + 49 * H)
        assert sweep.sweep() > 0
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert during == [False]


def test_nothing_listens_to_the_initialisation_of_the_sweeps_instances():
    """The sweep makes its batch's reminders, reports and projects without __init__
    (reports.sweep._loaded), so no pre_init or post_init receiver would run for them.
    """
    for model in (Reminder, Report, Project):
        assert not pre_init.has_listeners(model)
        assert not post_init.has_listeners(model)


def test_a_batchs_instances_load_other_fields_on_access(stalwart, team, clock, reporter):
    """The batch holds a few columns of each row; any other loads when read, as a deferred
    field does (closing an unanswered report reads the report again anyway).
    """
    report = file(stalwart, reporter, title="Report")
    (reminder, *_), reporters = sweep._batch(
        Reminder.objects.filter(report=report).values_list(*sweep.BATCH_COLUMNS)
    )
    assert reporters == {report.pk: reporter.email}
    assert "cvss_vector" in reminder.report.get_deferred_fields()
    assert (reminder.report.title, reminder.report.project.name) == ("Report", stalwart.name)
    assert reminder.sent_at is None  # not read by the batch: loaded now
    assert reminder.report.state == Report.objects.get(pk=report.pk).state
    assert reminder.report.project.slug == "stalwart"


@pytest.mark.parametrize("kind", ["deadlines", "nudges"])
def test_queries_grow_by_a_constant_per_batch(
    kind, stalwart, team, clock, reporter, collaborator, django_assert_num_queries
):
    when, count = due_reminders(
        kind,
        10 if kind == "deadlines" else 30,
        project=stalwart,
        team=team,
        clock=clock,
        reporter=reporter,
        collaborator=collaborator,
    )
    assert count == 30
    clock.move_to(when)
    # 30 reminders in batches of 10: three full batches and the empty last round.
    with django_assert_num_queries(3 * PER_BATCH[kind] + OVERDUE_INSERTS[kind] + LAST_ROUND):
        assert sweep.sweep(batch_size=10) == 30
    assert not Reminder.objects.filter(sent_at__isnull=True, send_at__lte=when).exists()


def test_passed_deadlines_enter_the_audit_trail_with_the_notices(
    stalwart, team, clock, reporter, collaborator
):
    when, _ = due_reminders(
        "deadlines",
        2,
        project=stalwart,
        team=team,
        clock=clock,
        reporter=reporter,
        collaborator=collaborator,
    )
    clock.move_to(when)
    sweep.sweep()

    recorded = ReportEvent.objects.filter(kind=ReportEvent.Kind.DEADLINE_OVERDUE).order_by("pk")
    assert [
        (e.report, e.actor, e.message, e.public, e.by_member, e.from_state, e.to_state, e.data)
        for e in recorded
    ] == [
        (report, None, "Acknowledgment overdue", False, False, "", "", {
            "deadline": "ack_due", "due_at": report.ack_due.isoformat()
        })
        for report in Report.objects.order_by("ack_due", "pk")
    ]  # fmt: skip
    assert {e.created_at for e in recorded} == {timezone.now()}


# --- Delivery of the outbox ---------------------------------------------------------------------


@pytest.fixture
def unreachable(monkeypatch):
    """A mail server refusing `refused` addresses ("*" refuses everyone)."""
    refused = set()
    deliver = EmailBackend.send_messages

    def send_messages(self, messages):
        if any("*" in refused or address in refused for m in messages for address in m.to):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return deliver(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return refused


def test_failed_delivery_is_counted_and_retried_later(filed, team, clock, mailoutbox, unreachable):
    sweep_at(clock, T0 + 25 * H)  # acknowledgment warning and overdue, to the 3 members
    assert OutboundEmail.objects.count() == 6

    unreachable.add("*")
    assert mailer.outbox.deliver_pending() == 0
    assert not mailoutbox
    for row in OutboundEmail.objects.all():
        assert (row.sent_at, row.attempts) == (None, 1)
        assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"

    # The server is back for everyone but the triager.
    unreachable.clear()
    unreachable.add(team.triager.email)
    clock.move_to(T0 + 26 * H)
    assert mailer.outbox.deliver_pending() == 4
    failing = OutboundEmail.objects.filter(to=team.triager.email)
    assert [(r.sent_at, r.attempts) for r in failing] == [(None, 2), (None, 2)]
    delivered = OutboundEmail.objects.exclude(to=team.triager.email)
    assert {(r.sent_at, r.attempts) for r in delivered} == {(T0 + 26 * H, 1)}
    # A retried message is the same message: its Message-ID is the row's.
    assert sorted(m.extra_headers["Message-ID"] for m in mailoutbox) == sorted(
        mailer.outbox.message_id(row) for row in delivered
    )

    unreachable.clear()
    assert mailer.outbox.deliver_pending() == 2
    assert mailer.outbox.deliver_pending() == 0
    assert len(mailoutbox) == 6
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()


def test_messages_that_failed_too_often_are_left_alone(filed, clock, mailoutbox, unreachable):
    sweep_at(clock, T0 + 25 * H)
    given_up, retried, *_ = OutboundEmail.objects.order_by("pk")
    OutboundEmail.objects.filter(pk=given_up.pk).update(attempts=5, last_error="Err: refused")
    OutboundEmail.objects.filter(pk=retried.pk).update(attempts=4, last_error="Err: refused")

    assert mailer.outbox.deliver_pending(max_attempts=5) == 5
    given_up.refresh_from_db()
    assert (given_up.sent_at, given_up.attempts, given_up.last_error) == (None, 5, "Err: refused")
    retried.refresh_from_db()
    assert (retried.sent_at, retried.attempts) == (T0 + 25 * H, 4)
    assert mailer.outbox.message_id(given_up) not in {
        m.extra_headers["Message-ID"] for m in mailoutbox
    }

    # A row that fails its last allowed attempt is then given up too.
    unreachable.add("*")
    row = OutboundEmail.objects.create(to="x@example.org", subject="s", body="b")
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=4)
    assert mailer.outbox.deliver_pending(max_attempts=5) == 0
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 5)
    unreachable.clear()
    assert mailer.outbox.deliver_pending(max_attempts=5) == 0
    assert len(mailoutbox) == 5


# --- Sweeps racing the services (PostgreSQL row locks) ------------------------------------------


def race(monkeypatch, sweeping, service):
    """Run `sweeping` until it holds its batch's row locks, then `service` in another thread until
    it waits for a lock (or ends), then let the sweep go on. Returns {"sweep"|"service": error}.
    """
    locked, release = threading.Event(), threading.Event()
    looked_up = sweep.member_roles

    def members_once_locked(project_ids):
        locked.set()  # the batch is selected FOR UPDATE; hold it
        assert release.wait(30)
        return looked_up(project_ids)

    monkeypatch.setattr(sweep, "member_roles", members_once_locked)
    errors = {}

    def run(name, job):
        try:
            job()
        except Exception as error:  # reported by the test
            errors[name] = error
        finally:
            connection.close()

    sweeper = threading.Thread(target=run, args=("sweep", sweeping))
    sweeper.start()
    assert locked.wait(30)
    servicer = threading.Thread(target=run, args=("service", service))
    servicer.start()
    deadline = time.monotonic() + 30
    while servicer.is_alive() and not waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    sweeper.join(60)
    servicer.join(60)
    return errors


def waiting_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_acknowledging_while_the_sweep_sends_the_acknowledgment_reminders(
    stalwart, team, reporter, monkeypatch
):
    """The maintainer acknowledges while the sweep holds the report's due reminders: the
    acknowledgment must go through, and what the sweep sent stays, with its emails.
    """
    report = file(stalwart, reporter)
    errors = race(
        monkeypatch,
        lambda: sweep.sweep(now=report.created_at + 25 * H),
        lambda: act(report, "acknowledge", team.maintainer),
    )

    assert errors == {}
    assert fresh(report).state == State.ACKNOWLEDGED
    assert set(sent(report)) == {Kind.ACK_WARNING, Kind.ACK_OVERDUE}
    assert outbox() == sorted(
        (kind, to) for kind in (Kind.ACK_WARNING, Kind.ACK_OVERDUE) for to in members(team)
    )
    assert not set(pending(report)) & {Kind.ACK_OVERDUE, Kind.BACKUP_ESCALATION}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_unanswered")
def test_the_reporter_answers_while_the_sweep_closes_the_report(
    stalwart, team, reporter, monkeypatch
):
    """The answer and the automatic closure meet: whichever commits first wins and the other
    respects it. Answered first: the report is open again and the sweep must not close it.
    Closed first: the answer is kept as a comment on the closed report. Neither side may fail
    with a database error such as a deadlock.
    """
    report = file(stalwart, reporter)
    act(report, "request_info", team.maintainer, message="Which relay configuration do you run?")
    asked = fresh(report).paused_at
    Reminder.objects.filter(report=report).exclude(kind=Kind.INFO_AUTO_CLOSE).update(
        sent_at=asked + 7 * D
    )  # nudge and warning went out before; the closure alone is due

    errors = race(
        monkeypatch,
        lambda: sweep.sweep(now=asked + 30 * D),
        lambda: services.add_comment(
            report=fresh(report), by=reporter, body="Default relay config.", internal=False,
            by_member=False,
        ),
    )  # fmt: skip

    assert errors == {}
    report = fresh(report)
    assert report.comments.filter(body="Default relay config.").exists()
    moves = list(
        ReportEvent.objects.filter(report=report, kind=ReportEvent.Kind.TRANSITION)
        .exclude(to_state=State.NEEDS_INFO)
        .values_list("from_state", "to_state", "actor")
    )
    answered = [(State.NEEDS_INFO, State.NEW, reporter.pk)]
    closed = [(State.NEEDS_INFO, State.WITHDRAWN, None)]
    assert moves in (answered, closed)
    assert report.state == moves[-1][1]
