"""Disclosure-date reminders (advisories.reminders, swept by reports.sweep): the project's
maintainers and admins (who may propose another date or publish) hear a week and a day before a
report's disclosure date and when it passes unpublished, so the advisory goes out on time or a
new date is agreed. Neither triagers nor the reporter side are nagged about the maintainers'
homework.

Time is frozen at T0, when every seeded policy is in force.
"""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from advisories import services as advisory_services
from advisories.models import Disclosure
from advisories.reminders import Kind
from projects.models import Membership, Project
from reports import services, sweep
from reports.models import Reminder, State
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
KINDS = set(Kind)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}


@pytest.fixture
def members(seeded):
    """A maintainer and a triager in each seeded project."""
    found = {}
    for slug, project in seeded.items():
        found[slug] = [
            MembershipFactory(project=project, role=role).user
            for role in (Membership.Role.MAINTAINER, Membership.Role.TRIAGER)
        ]
    return found


def file(project, reporter):
    return services.file_report(project=project, reporter=reporter, fields={"title": "Relay"})


def planned(report):
    """{kind: (send_at, due_at)} of the report's pending disclosure reminders."""
    rows = Reminder.objects.filter(report=report, kind__in=KINDS, sent_at__isnull=True)
    return {row.kind: (row.send_at, row.due_at) for row in rows}


def sweep_at(clock, when, capture):
    clock.move_to(when)
    with capture(execute=True):
        return sweep.sweep()


def test_stalwart_maintainers_hear_a_week_and_a_day_before_and_on_the_day(
    seeded, members, clock, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    report = file(seeded["stalwart"], reporter)
    due = T0 + 90 * DAY  # "Typical timeline: 90 days from report to public disclosure"
    assert planned(report) == {
        Kind.DISCLOSURE_WARNING: (due - 7 * DAY, due),
        Kind.DISCLOSURE_TOMORROW: (due - DAY, due),
        Kind.DISCLOSURE_DUE: (due, due),
    }
    mailoutbox.clear()
    capture = django_capture_on_commit_callbacks

    sweep_at(clock, due - 7 * DAY - DAY, capture)
    assert not [m for m in mailoutbox if "Disclosure date" in m.subject]

    maintainer, triager = members["stalwart"]
    sweep_at(clock, due - 7 * DAY, capture)
    warned = [m for m in mailoutbox if "Disclosure date in a week" in m.subject]
    assert [m.to[0] for m in warned] == [maintainer.email]  # the triager cannot act on it
    for message in warned:
        assert message.subject == f"[{report.tracking_id}] Disclosure date in a week"
        assert "Planned disclosure: 2027-03-01." in message.body
        assert f"/reports/{report.tracking_id}/" in message.body

    sweep_at(clock, due, capture)
    reached = [m for m in mailoutbox if "Disclosure date reached" in m.subject]
    assert [m.to[0] for m in reached] == [maintainer.email]
    assert triager.email not in {m.to[0] for m in mailoutbox if "Disclosure" in m.subject}
    assert "The date has come and the advisory is not published: publish it" in reached[0].body
    assert reporter.email not in {m.to[0] for m in mailoutbox if "Disclosure" in m.subject}
    assert planned(report) == {}


def test_an_agreed_date_moves_the_reminders(seeded, members, clock, reporter):
    report = file(seeded["stalwart"], reporter)
    maintainer = members["stalwart"][0]
    proposal = advisory_services.propose_disclosure(
        report=report, by=maintainer, date=dt.date(2027, 1, 15), reason="Release on the 14th."
    )
    assert planned(report)[Kind.DISCLOSURE_DUE][1] == T0 + 90 * DAY  # not before the answer
    advisory_services.respond_to_disclosure(proposal=proposal, by=reporter, agree=True)
    agreed = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
    assert planned(report) == {
        Kind.DISCLOSURE_WARNING: (agreed - 7 * DAY, agreed),
        Kind.DISCLOSURE_TOMORROW: (agreed - DAY, agreed),
        Kind.DISCLOSURE_DUE: (agreed, agreed),
    }


def test_teammail_reminders_wait_for_the_fix_release(seeded, members, clock, reporter):
    report = file(seeded["teammail"], reporter)
    assert planned(report) == {}  # "One week after the release": no release, no date
    advisory_services.set_fix_release(
        report=report, by=members["teammail"][0], version="1.4.2", released_on=dt.date(2026, 12, 10)
    )
    due = dt.datetime(2026, 12, 17, tzinfo=dt.UTC)
    assert Disclosure.objects.get(pk=report.pk).due == due
    assert planned(report) == {
        Kind.DISCLOSURE_WARNING: (due - 7 * DAY, due),
        Kind.DISCLOSURE_TOMORROW: (due - DAY, due),
        Kind.DISCLOSURE_DUE: (due, due),
    }


def test_a_report_waiting_for_the_reporter_keeps_them(seeded, members, clock, reporter):
    report = file(seeded["stalwart"], reporter)
    services.transition(
        report=report, by=members["stalwart"][1], name="request_info", message="Which version?"
    )
    assert set(planned(report)) == KINDS


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("close", {"resolution": State.SPAM, "message": "Spam."}),
        ("withdraw", {"message": "My mistake."}),
    ],
)
def test_a_closed_report_has_none(seeded, members, clock, reporter, name, options):
    report = file(seeded["stalwart"], reporter)
    by = reporter if name == "withdraw" else members["stalwart"][0]
    services.transition(report=report, by=by, name=name, **options)
    assert planned(report) == {}
    clock.move_to(T0 + 100 * DAY)
    assert sweep.sweep() == 0
