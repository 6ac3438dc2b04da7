"""End of support (issue item 6): members are reminded 30 days before a series of the matrix in
force reaches its end of support, once per series, and the project page and the intake form
follow the date by themselves (supported on the end date, no longer supported the day after).

Time is frozen; the projects app's end-of-support reminders are swept directly, their emails go
through the outbox and are delivered by the on-commit task, run inline here. The beat sweep
reaches them through the reminder registry (the last test).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from mailer.models import OutboundEmail
from projects.models import EndOfSupportNotice, Membership
from projects.reminders import END_OF_SUPPORT
from reports import tasks
from tests.factories import (
    MembershipFactory,
    PolicyRevisionFactory,
    ProjectFactory,
    SupportedVersionFactory,
    UserFactory,
)
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
TODAY = T0.date()
DAY = dt.timedelta(days=1)
ENDS_IN_30 = TODAY + 30 * DAY  # 2026-12-31: due for the reminder today
ENDS_IN_31 = TODAY + 31 * DAY  # 2027-01-01: due tomorrow
INTAKE = ["vulnerability_type", "affected_versions", "steps_to_reproduce", "impact"]


@pytest.fixture(autouse=True)
def _notice_days(settings):
    settings.END_OF_SUPPORT_NOTICE_DAYS = 30  # the default, pinned: the dates above depend on it


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def matrix(revision, *rows):
    for order, (series, supported, end) in enumerate(rows):
        SupportedVersionFactory(
            revision=revision, series=series, order=order, supported=supported, end_of_support=end
        )


@pytest.fixture
def stalwart(db):
    """A Stalwart-like project: a superseded revision and the one in force, each with a matrix."""
    project = ProjectFactory(slug="stalwart", name="Stalwart", tracking_prefix="STW")
    older = PolicyRevisionFactory(
        project=project, effective_from=dt.date(2025, 6, 20), intake_required=INTAKE
    )
    # Superseded: its rows are not the matrix any more, whatever their dates.
    matrix(older, ("0.10.x", True, TODAY + 10 * DAY), ("0.12.x", True, ENDS_IN_30))
    current = PolicyRevisionFactory(
        project=project, effective_from=dt.date(2025, 7, 16), intake_required=INTAKE
    )
    matrix(
        current,
        ("0.13.x", True, None),
        ("0.12.x", True, ENDS_IN_30),
        ("0.11.x", True, ENDS_IN_31),
        ("< 0.11", False, None),
    )
    return project


@pytest.fixture
def team(stalwart):
    """Stalwart's members, one per role, and a member whose account was deactivated."""
    users = [
        MembershipFactory(
            project=stalwart, role=role, user=UserFactory(email=f"{role}@stw.example")
        ).user
        for role in Membership.Role.values
    ]
    MembershipFactory(project=stalwart, user=UserFactory(email="gone@stw.example", is_active=False))
    return users


@pytest.fixture
def retired(db):
    """An inactive project whose matrix has a series ending within the window."""
    project = ProjectFactory(slug="retired", name="Retired", active=False)
    revision = PolicyRevisionFactory(project=project)
    matrix(revision, ("2.x", True, TODAY + 5 * DAY))
    MembershipFactory(project=project, user=UserFactory(email="admin@retired.example"))
    return project


def remind(capture):
    """One run of the reminder, with the delivery it enqueues on commit run inline."""
    with capture(execute=True):
        return END_OF_SUPPORT.sweep(now=timezone.now())


def subject(series, end):
    return f"[Stalwart] {series} reaches its end of support on {end:%Y-%m-%d}"


def member_emails(team):
    return sorted(user.email for user in team)


# --- The reminder -------------------------------------------------------------------------------


def test_members_are_reminded_30_days_ahead_once(
    stalwart, team, retired, clock, mailoutbox, reporter, django_capture_on_commit_callbacks
):
    assert remind(django_capture_on_commit_callbacks) == 1
    assert sorted(m.to[0] for m in mailoutbox) == member_emails(team)  # one each, active only
    for message in mailoutbox:
        assert len(message.to) == 1
        assert message.subject == subject("0.12.x", ENDS_IN_30)
        assert "Stalwart 0.12.x reaches its end of support on 2026-12-31." in message.body
        assert f"{settings.SITE_URL}/projects/stalwart/" in message.body
    rows = OutboundEmail.objects.all()
    assert sorted(rows.values_list("to", flat=True)) == member_emails(team)
    assert all(row.sent_at == T0 for row in rows)
    version = EndOfSupportNotice.objects.get().version
    assert {row.about for row in rows} == {f"projects.supportedversion:{version.pk}"}
    (notice,) = EndOfSupportNotice.objects.select_related("version__revision")
    assert (notice.version.series, notice.version.revision.effective_from, notice.sent_at) == (
        "0.12.x",
        dt.date(2025, 7, 16),
        T0,
    )

    # Once only: the same day, later the same day (beat sweeps every minute) and the next days.
    assert remind(django_capture_on_commit_callbacks) == 0
    clock.move_to(T0 + dt.timedelta(hours=5))
    assert remind(django_capture_on_commit_callbacks) == 0
    assert len(mailoutbox) == len(team)
    assert OutboundEmail.objects.count() == len(team)


def test_a_series_31_days_ahead_is_reminded_the_next_day(
    stalwart, team, clock, mailoutbox, django_capture_on_commit_callbacks
):
    remind(django_capture_on_commit_callbacks)
    assert {m.subject for m in mailoutbox} == {subject("0.12.x", ENDS_IN_30)}

    clock.move_to(T0 + DAY)
    assert remind(django_capture_on_commit_callbacks) == 1
    assert {m.subject for m in mailoutbox} == {
        subject("0.12.x", ENDS_IN_30),
        subject("0.11.x", ENDS_IN_31),
    }
    assert sorted(m.to[0] for m in mailoutbox if "0.11.x" in m.subject) == member_emails(team)
    clock.move_to(T0 + 2 * DAY)
    assert remind(django_capture_on_commit_callbacks) == 0


def test_a_series_already_past_its_end_or_without_date_is_not_reminded(
    stalwart, team, clock, mailoutbox, django_capture_on_commit_callbacks
):
    # On 2027-01-05 both dated series have ended (never reminded, as the sweep never ran); a
    # late reminder about an end that is already past would be noise.
    clock.move_to(T0 + 35 * DAY)
    assert remind(django_capture_on_commit_callbacks) == 0
    assert not mailoutbox


def test_superseded_revisions_and_inactive_projects_are_ignored(
    stalwart, team, retired, clock, mailoutbox, django_capture_on_commit_callbacks
):
    remind(django_capture_on_commit_callbacks)
    subjects = {m.subject for m in mailoutbox}
    assert subjects == {subject("0.12.x", ENDS_IN_30)}  # not 0.10.x of the older revision
    assert "admin@retired.example" not in {m.to[0] for m in mailoutbox}
    reminded = EndOfSupportNotice.objects.values_list(
        "version__revision__effective_from", "version__series"
    )
    assert list(reminded) == [(dt.date(2025, 7, 16), "0.12.x")]

    # Days later, closer to the end of the older revision's 0.10.x: still nothing about it.
    clock.move_to(T0 + 5 * DAY)
    remind(django_capture_on_commit_callbacks)
    assert not any("0.10.x" in m.subject or "Retired" in m.subject for m in mailoutbox)


def test_a_new_revision_repeating_the_series_and_date_does_not_remind_again(
    stalwart, team, clock, mailoutbox, django_capture_on_commit_callbacks
):
    """Once per series: publishing a new revision (say, to add 0.14.x) that keeps 0.12.x and its
    end date must not tell the members a second time.
    """
    remind(django_capture_on_commit_callbacks)
    newer = PolicyRevisionFactory(
        project=stalwart, effective_from=TODAY + 2 * DAY, intake_required=INTAKE
    )
    matrix(newer, ("0.14.x", True, None), ("0.12.x", True, ENDS_IN_30))
    clock.move_to(T0 + 2 * DAY)
    assert remind(django_capture_on_commit_callbacks) == 0
    assert [m.subject for m in mailoutbox].count(subject("0.12.x", ENDS_IN_30)) == len(team)


def test_an_extended_end_of_support_is_reminded_again_before_the_new_date(
    stalwart, team, clock, mailoutbox, django_capture_on_commit_callbacks
):
    remind(django_capture_on_commit_callbacks)
    extended = ENDS_IN_30 + 60 * DAY
    newer = PolicyRevisionFactory(
        project=stalwart, effective_from=TODAY + 2 * DAY, intake_required=INTAKE
    )
    matrix(newer, ("0.12.x", True, extended))
    clock.move_to(T0 + 2 * DAY)
    assert remind(django_capture_on_commit_callbacks) == 0
    clock.move_to(dt.datetime.combine(extended - 30 * DAY, dt.time(9), dt.UTC))
    assert remind(django_capture_on_commit_callbacks) == 1
    assert {m.subject for m in mailoutbox} == {
        subject("0.12.x", ENDS_IN_30),
        subject("0.12.x", extended),
    }


def test_the_beat_sweep_runs_the_reminder(
    stalwart, team, clock, mailoutbox, django_capture_on_commit_callbacks
):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-reminders"]["task"] == (
        "reports.tasks.sweep_reminders"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_reminders.delay().get() == 1
    assert EndOfSupportNotice.objects.count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == member_emails(team)


# --- The project page and the intake form follow the date ---------------------------------------


def project_page_status(series):
    body = Client().get("/projects/stalwart/").content.decode()
    match = re.search(rf"<td>{re.escape(series)}</td>\s*<td>(Supported|Not supported)</td>", body)
    assert match, f"no row for {series}"
    return match[1]


def intake_choices(reporter):
    client = Client()
    client.sign_in(reporter)
    response = client.get("/projects/stalwart/report/")
    assert response.status_code == 200
    choices = dict(response.context["form"].fields["affected_versions"].choices)
    body = response.content.decode()
    for label in choices.values():
        assert escape(label) in body
    return choices


@pytest.mark.parametrize(
    ("on", "label", "status"),
    [
        (ENDS_IN_30 - DAY, "0.12.x", "Supported"),
        (ENDS_IN_30, "0.12.x", "Supported"),
        (ENDS_IN_30 + DAY, "0.12.x (no longer supported)", "Not supported"),
        (ENDS_IN_30 + 400 * DAY, "0.12.x (no longer supported)", "Not supported"),
    ],
)
def test_the_series_is_supported_until_its_end_date_inclusive(
    stalwart, reporter, on, label, status
):
    with time_machine.travel(dt.datetime.combine(on, dt.time(23, 59), dt.UTC), tick=False):
        choices = intake_choices(reporter)
        assert choices["0.12.x"] == label
        assert choices["0.13.x"] == "0.13.x"  # no end date: supported
        assert choices["< 0.11"] == "< 0.11 (no longer supported)"
        assert "0.10.x" not in choices  # the superseded revision's matrix
        assert project_page_status("0.12.x") == status
        assert project_page_status("0.13.x") == "Supported"


def test_the_day_after_starts_at_midnight_utc(stalwart, reporter):
    with time_machine.travel(dt.datetime.combine(ENDS_IN_30 + DAY, dt.time(0, 0, 1), dt.UTC)):
        assert intake_choices(reporter)["0.12.x"] == "0.12.x (no longer supported)"
        assert project_page_status("0.12.x") == "Not supported"
