"""The SLA dashboard (/projects/<slug>/sla/, members only) and the public acknowledgment adherence
figure on the project page. Every report is filed and moved through reports.services at frozen
times, so the milestones and deadlines are the ones the application computes itself.
"""

import datetime as dt

import pytest
import time_machine

from reports import selectors, services
from reports.models import Report
from tests.factories import PolicyRevisionFactory, ProjectFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
SLA = "/projects/acme/sla/"
PAGE = "/projects/acme/"


@pytest.fixture
def project(db):
    """Acme with every clock: acknowledge in 24 h, detailed response in 72 h, a status update
    every 7 days, resolution in 90 days.
    """
    project = ProjectFactory(slug="acme", name="Acme", tracking_prefix="ACME")
    PolicyRevisionFactory(
        project=project, ack_hours=24, detail_hours=72, update_days=7, resolve_days=90
    )
    return project


class Timeline:
    """Files a report at `at` and applies transitions at offsets from the filing time."""

    def __init__(self, project, reporter, member):
        self.project, self.reporter, self.member = project, reporter, member

    def report(self, at, *steps):
        with time_machine.travel(at, tick=False) as clock:
            report = services.file_report(
                project=self.project, reporter=self.reporter, fields={"title": f"Filed {at}"}
            )
            for offset, name, options in steps:
                clock.move_to(at + offset)
                services.transition(report=report, by=self.member, name=name, **options)
        return Report.objects.get(pk=report.pk)


ACK = "acknowledge", {}
TRIAGE = "triage", {"severity": "high", "message": "Confirmed."}
FIX = "mark_fixed", {}
ASK = "request_info", {"message": "Which version?"}
CLOSE = "close", {"resolution": "not_applicable", "message": "Not a bug."}


def step(offset, move):
    name, options = move
    return offset, name, options


@pytest.fixture
def timeline(project, reporter, maintainer):
    return Timeline(project, reporter, maintainer)


# --- Who sees the dashboard ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, project):
    response = client.get(SLA)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={SLA}"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("stranger", 404),
        ("reporter", 404),
        ("collaborator", 404),
        ("other_member", 404),
        ("triager", 200),
        ("maintainer", 200),
        ("project_admin", 200),
        ("superuser", 200),
    ],
)
def test_only_the_projects_members_see_the_dashboard(client, report, request, who, status):
    # `report` makes the reporter and the collaborator participants of an Acme report.
    client.sign_in(request.getfixturevalue(who))
    response = client.get(SLA)
    assert response.status_code == status
    if status == 200:
        assert "Acme: response commitments" in response.content.decode()


def test_unknown_and_inactive_projects_are_404(client, project, superuser):
    client.sign_in(superuser)
    assert client.get("/projects/nope/sla/").status_code == 404
    project.active = False
    project.save()
    assert client.get(SLA).status_code == 404


# --- Running and overdue clocks -----------------------------------------------------------------


@pytest.fixture
def busy(timeline, other_project, reporter, other_member):
    """Reports in every situation the dashboard counts, seen at NOW."""
    PolicyRevisionFactory(project=other_project)
    return {
        # New for 4 days: acknowledgment (due -3 d) and detailed response (due -1 d) overdue;
        # the update clock (+3 d) and resolution (+86 d) still run.
        "late": timeline.report(NOW - 4 * D),
        # Filed 2 hours ago: all four clocks run, none overdue.
        "fresh": timeline.report(NOW - 2 * H),
        # Triaged 10 days ago and silent since: the status update (due -3 d + 2 h) is overdue.
        "silent": timeline.report(NOW - 10 * D, step(H, ACK), step(2 * H, TRIAGE)),
        # Waiting for the reporter: every clock paused.
        "waiting": timeline.report(NOW - 5 * D, step(H, ACK), step(2 * H, ASK)),
        # Fixed: still open (not disclosed), but no clock runs.
        "fixed": timeline.report(NOW - 20 * D, step(H, TRIAGE), step(3 * D, FIX)),
        # Closed: neither open nor counted.
        "closed": timeline.report(NOW - 3 * D, step(H, CLOSE)),
        # Another project's overdue report is not Acme's business.
        "elsewhere": Timeline(other_project, reporter, other_member).report(NOW - 30 * D),
    }


EXPECTED_CLOCKS = [
    # label, running, overdue
    ("Acknowledgment", 2, 1),  # late (overdue), fresh
    ("Detailed response", 2, 1),  # late (overdue), fresh
    ("Status update", 3, 1),  # late, fresh, silent (overdue)
    ("Resolution", 3, 0),  # late, fresh, silent
]


def test_clock_counts_at_a_frozen_time(project, busy):
    dashboard = selectors.sla_dashboard(project=project, now=NOW)
    assert [(c.label, c.running, c.overdue) for c in dashboard.clocks] == EXPECTED_CLOCKS
    assert dashboard.open_reports == 5  # all but the closed one
    assert dashboard.waiting_for_reporter == 1


def test_overdue_is_strictly_past_the_deadline(project, timeline):
    timeline.report(NOW - 24 * H)  # acknowledgment due exactly now
    dashboard = selectors.sla_dashboard(project=project, now=NOW)
    assert (dashboard.clocks[0].running, dashboard.clocks[0].overdue) == (1, 0)
    later = selectors.sla_dashboard(project=project, now=NOW + dt.timedelta(seconds=1))
    assert (later.clocks[0].running, later.clocks[0].overdue) == (1, 1)


def test_the_page_shows_the_counts(client, project, busy, maintainer):
    client.sign_in(maintainer)
    with time_machine.travel(NOW, tick=False):
        response = client.get(SLA)
    assert response.status_code == 200
    body = response.content.decode()
    assert "5 open reports, 1 waiting for the reporter (clocks paused)." in body
    assert (
        '<tr><td>Status update</td><td>3</td><td class="text-danger fw-semibold">1</td></tr>'
    ) in body
    assert '<tr><td>Resolution</td><td>3</td><td class="">0</td></tr>' in body


# --- Medians over the last 90 days --------------------------------------------------------------


@pytest.fixture
def history(timeline):
    """Milestones at known spans from filing; one report entirely outside the 90 days."""
    timeline.report(NOW - 30 * D, step(2 * H, ACK), step(10 * H, TRIAGE), step(5 * D, FIX))
    timeline.report(NOW - 20 * D, step(4 * H, ACK), step(20 * H, TRIAGE), step(9 * D, FIX))
    timeline.report(NOW - 10 * D, step(6 * H, TRIAGE))  # triage acknowledges too
    timeline.report(NOW - 200 * D, step(40 * H, ACK), step(60 * H, TRIAGE), step(30 * D, FIX))
    timeline.report(NOW - 2 * H)  # no milestone yet


def test_medians_of_the_last_90_days(project, history):
    dashboard = selectors.sla_dashboard(project=project, now=NOW)
    assert dashboard.median_to_acknowledge == 4 * H  # 2 h, 4 h, 6 h
    assert dashboard.median_to_detail == 10 * H  # 10 h, 20 h, 6 h
    assert dashboard.median_to_resolve == 7 * D  # 5 d, 9 d: the mean of the middle two
    assert dashboard.milestones_counted == 3


def test_a_milestone_in_the_window_counts_for_an_older_report(project, timeline):
    # Filed 95 days ago, acknowledged 89 days ago: the acknowledgment is in the window.
    timeline.report(NOW - 95 * D, step(6 * D, ACK))
    timeline.report(NOW - 100 * D, step(H, ACK))  # acknowledged 100 days ago: outside
    dashboard = selectors.sla_dashboard(project=project, now=NOW)
    assert dashboard.median_to_acknowledge == 6 * D
    assert dashboard.median_to_detail is None


def test_no_milestones_no_medians(client, project, maintainer, timeline):
    timeline.report(NOW - H)
    dashboard = selectors.sla_dashboard(project=project, now=NOW)
    assert (dashboard.median_to_acknowledge, dashboard.median_to_detail) == (None, None)
    assert dashboard.median_to_resolve is None
    client.sign_in(maintainer)
    body = client.get(SLA).content.decode()
    assert '<dt class="col-sm-4">Time to fix</dt><dd class="col-sm-8">—</dd>' in body


def test_the_page_shows_the_medians(client, project, history, maintainer):
    client.sign_in(maintainer)
    with time_machine.travel(NOW, tick=False):
        body = client.get(SLA).content.decode()
    assert '<dt class="col-sm-4">Time to acknowledge</dt><dd class="col-sm-8">4 h</dd>' in body
    assert '<dt class="col-sm-4">Time to detailed response</dt><dd class="col-sm-8">10 h' in body
    assert '<dt class="col-sm-4">Time to fix</dt><dd class="col-sm-8">7.0 days</dd>' in body


def test_dashboard_query_count_is_constant(
    client, project, timeline, maintainer, django_assert_num_queries
):
    def add_reports(count):
        for n in range(count):
            timeline.report(NOW - (n + 1) * D, step(H, ACK), step(2 * H, TRIAGE), step(D, FIX))
            timeline.report(NOW - (n + 1) * H)

    client.sign_in(maintainer)
    # 1 user with their memberships (can_view_sla; disclosure.auth), 2 project, 3 clock counts
    # (one aggregate), 4 milestone times of the last 90 days. The session comes from the cache.
    add_reports(1)
    with django_assert_num_queries(4), time_machine.travel(NOW, tick=False):
        assert client.get(SLA).status_code == 200
    add_reports(10)
    with django_assert_num_queries(4), time_machine.travel(NOW, tick=False):
        assert client.get(SLA).status_code == 200


# --- Public adherence on the project page -------------------------------------------------------


def adherence(client):
    with time_machine.travel(NOW, tick=False):
        response = client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    return (
        body[body.index('id="adherence"') :].split("</p>")[0] if 'id="adherence"' in body else None
    )


def on_time(timeline, at):
    return timeline.report(at, step(2 * H, ACK))


def test_adherence_is_hidden_under_five_counted_reports(client, project, timeline):
    for n in range(4):
        on_time(timeline, NOW - (n + 2) * D)
    timeline.report(NOW - 2 * H)  # not yet due: not counted
    timeline.report(NOW - 10 * H)  # not yet due either
    for n in range(3):  # older than 12 months: not counted
        on_time(timeline, NOW - (400 + n) * D)
    assert selectors.acknowledgment_adherence(project=project, now=NOW) is None
    assert adherence(client) is None


def test_adherence_with_five_reports_four_in_time(client, project, timeline):
    for n in range(4):
        on_time(timeline, NOW - (n + 2) * D)
    timeline.report(NOW - 3 * D)  # never acknowledged, due 2 days ago: missed
    timeline.report(NOW - 2 * H)  # not yet due: left out
    timeline.report(NOW - 400 * D)  # missed, but more than 12 months ago
    timeline.report(NOW - 380 * D, step(3 * D, ACK))  # late, more than 12 months ago
    assert selectors.acknowledgment_adherence(project=project, now=NOW) == (80, 5)
    figure = adherence(client)
    assert "<strong>80%</strong> of the 5 reports of the last 12 months" in figure
    assert "within the promised 24 hours" in figure


def test_a_late_acknowledgment_is_a_miss(client, project, timeline):
    for n in range(3):
        on_time(timeline, NOW - (n + 2) * D)
    timeline.report(NOW - 10 * D, step(30 * H, ACK))  # acknowledged 6 h late
    timeline.report(NOW - 10 * D, step(2 * D, TRIAGE))  # the detailed response came late too
    timeline.report(NOW - 8 * D, step(23 * H, TRIAGE))  # triaged in time: acknowledged in time
    # 4 of 6, rounded to the nearest whole percent.
    assert selectors.acknowledgment_adherence(project=project, now=NOW) == (67, 6)
    assert "<strong>67%</strong> of the 6 reports" in adherence(client)


@pytest.mark.parametrize(
    "ending",
    [CLOSE, ("withdraw", {"message": "Nobody answered, I give up."})],
    ids=["closed", "withdrawn"],
)
def test_a_report_ended_unacknowledged_after_its_deadline_is_a_miss(project, timeline, ending):
    for n in range(4):
        on_time(timeline, NOW - (n + 2) * D)
    # Never acknowledged; closed 3 days after filing, 2 days past the 24 h promise. Closing
    # clears the open deadlines, but the promise was already broken: it must not drop out.
    ignored = timeline.report(NOW - 5 * D, step(3 * D, ending))
    assert ignored.acknowledged_at is None
    assert selectors.acknowledgment_adherence(project=project, now=NOW) == (80, 5)


def test_the_twelve_month_window(project, timeline):
    for n in range(5):
        on_time(timeline, NOW - (360 + n) * D)  # filed 360 to 364 days ago: in
    timeline.report(NOW - 366 * D)  # missed, filed 366 days ago: out
    assert selectors.acknowledgment_adherence(project=project, now=NOW) == (100, 5)
    assert selectors.acknowledgment_adherence(project=project, now=NOW + 2 * D) is None


def test_another_projects_reports_do_not_count(project, other_project, reporter, other_member):
    PolicyRevisionFactory(project=other_project)
    other = Timeline(other_project, reporter, other_member)
    for n in range(6):
        other.report(NOW - (n + 2) * D)
    assert selectors.acknowledgment_adherence(project=project, now=NOW) is None
    assert selectors.acknowledgment_adherence(project=other_project, now=NOW) == (0, 6)


def test_project_page_query_count_is_constant(client, project, timeline, django_assert_num_queries):
    # 1 project, 2 revision in force, 3 its versions, 4 acknowledgment adherence (one aggregate),
    # 5 revision history. Anonymous: no session or user query.
    for n in range(5):
        on_time(timeline, NOW - (n + 2) * D)
    with django_assert_num_queries(5):
        assert adherence(client) is not None
    for n in range(30):
        timeline.report(NOW - (n + 2) * D, *([step(2 * H, ACK)] if n % 2 else []))
    with django_assert_num_queries(5):
        assert "of the 35 reports" in adherence(client)
