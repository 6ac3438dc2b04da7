"""When an advisory may be published (advisories.publication), as each seed policy promises, and
publication scheduled for the disclosure date, done by the beat sweep exactly once.

Time is frozen at T0 (all seed policies in force). Publishing goes through the publish page, as a
maintainer does it (confirmation included).
"""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from advisories import publication
from advisories import services as advisory_services
from advisories.models import Advisory, Disclosure
from projects.models import Membership, Project
from reports import services, sweep
from reports.models import Report, ReportEvent, State
from tests.factories import MembershipFactory
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
FIELDS = {
    "title": "SMTP smuggling in the relay",
    "affected_versions": ["0.13.x"],
    "vulnerability_type": "SMTP smuggling",
    "affected_components": "smtp-inbound",
    "description": "A bare LF ends DATA early.",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail.",
}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}


@pytest.fixture
def maintainer_of(seeded, maintainer):
    def member(slug):
        MembershipFactory(project=seeded[slug], user=maintainer, role=Membership.Role.MAINTAINER)
        return maintainer

    return member


def ready(slug, *, seeded, reporter, by, **fields):
    """A fixed report of `slug` with its advisory drafted, fixed versions named."""
    report = services.file_report(project=seeded[slug], reporter=reporter, fields=FIELDS)
    services.transition(report=report, by=by, name="triage", severity="high", message="Yes.")
    services.transition(report=fresh(report), by=by, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=fresh(report), by=by)
    return advisory_services.update_advisory(
        advisory=advisory, by=by, fields={"fixed_versions": ["0.13.4"], **fields}
    )


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def publish_page(advisory, by, **data):
    client = Client()
    client.sign_in(by)
    url = f"/reports/{advisory.report.tracking_id}/advisory/publish/"
    return client.post(url, {"confirm": "on", **data})


def state(advisory):
    advisory.refresh_from_db()
    return advisory.state


# --- Stalwart: "Typical timeline: 90 days from report to public disclosure", "Early disclosure:
# May occur if issue is being actively exploited" -------------------------------------------------


def test_stalwart_refuses_publication_before_the_date_without_a_reason(
    seeded, clock, reporter, maintainer_of
):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    response = publish_page(advisory, maintainer)
    assert response.status_code == 400
    assert "The disclosure date is 2027-03-01." in response.content.decode()
    # A reason alone, without telling the reporter anything, is not enough either.
    assert publish_page(advisory, maintainer, early_reason="exploited").status_code == 400
    assert state(advisory) == Advisory.State.DRAFT
    assert fresh(advisory.report).state == State.FIXED


def test_stalwart_publishes_early_when_exploited_and_tells_the_reporter(
    seeded, clock, reporter, maintainer_of, mailoutbox, django_capture_on_commit_callbacks
):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    note = "Exploitation seen on three public relays since Monday."
    with django_capture_on_commit_callbacks(execute=True):
        response = publish_page(advisory, maintainer, early_reason="exploited", early_note=note)
    assert response.status_code == 302
    assert state(advisory) == Advisory.State.PUBLISHED
    event = ReportEvent.objects.filter(report=advisory.report).latest("pk")
    assert event.public
    assert event.message == (
        f"Advisory {advisory.identifier} published before the disclosure date (2027-03-01): "
        f"it is being actively exploited. {note}"
    )
    told = [m for m in mailoutbox if m.to == [reporter.email] and note in m.body]
    assert told, "the reporter is told why it was published early"


def test_stalwart_publishes_on_the_date_without_a_reason(seeded, clock, reporter, maintainer_of):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    clock.move_to(T0 + 90 * DAY - dt.timedelta(seconds=1))
    assert publish_page(advisory, maintainer).status_code == 400
    clock.move_to(T0 + 90 * DAY)
    assert publish_page(advisory, maintainer).status_code == 302
    assert state(advisory) == Advisory.State.PUBLISHED


def test_a_date_the_reporter_agreed_to_is_the_date(seeded, clock, reporter, maintainer_of):
    """The reporter agreed to 2026-12-15: publish on 2026-12-01 is early, on the 15th it is not."""
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    proposal = advisory_services.propose_disclosure(
        report=advisory.report, by=maintainer, date=dt.date(2026, 12, 15), reason="Release day."
    )
    advisory_services.respond_to_disclosure(proposal=proposal, by=reporter, agree=True)
    response = publish_page(advisory, maintainer)
    assert "The disclosure date is 2026-12-15." in response.content.decode()
    clock.move_to(dt.datetime(2026, 12, 15, tzinfo=dt.UTC))
    assert publish_page(advisory, maintainer).status_code == 302


def test_mailtri_router_sets_no_delay(seeded, clock, reporter, maintainer_of):
    """mailtri-router's policy sets no disclosure delay: publishing needs only the confirmation."""
    maintainer = maintainer_of("mailtri-router")
    advisory = ready("mailtri-router", seeded=seeded, reporter=reporter, by=maintainer)
    assert Disclosure.objects.get(pk=advisory.report_id).due is None
    assert publish_page(advisory, maintainer).status_code == 302


# --- Scheduled publication ----------------------------------------------------------------------


def schedule_page(advisory, by, step="schedule"):
    client = Client()
    client.sign_in(by)
    return client.post(f"/reports/{advisory.report.tracking_id}/advisory/{step}/")


def test_a_scheduled_advisory_is_published_by_the_sweep_on_the_date_once(
    seeded, clock, reporter, maintainer_of, triager
):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    assert schedule_page(advisory, triager).status_code == 404  # not a member of Stalwart
    assert schedule_page(advisory, maintainer).status_code == 302
    advisory.refresh_from_db()
    assert advisory.scheduled
    page = Client()
    page.sign_in(maintainer)
    body = page.get(f"/reports/{advisory.report.tracking_id}/advisory/").content.decode()
    assert "it will be published on the disclosure date" in body

    clock.move_to(T0 + 90 * DAY - dt.timedelta(seconds=1))
    sweep.sweep()
    assert state(advisory) == Advisory.State.DRAFT
    clock.move_to(T0 + 90 * DAY)
    sweep.sweep()
    sweep.sweep()  # a second sweep finds it published
    assert state(advisory) == Advisory.State.PUBLISHED
    advisory.refresh_from_db()
    assert (advisory.published_at, advisory.scheduled) == (T0 + 90 * DAY, False)
    disclosed = ReportEvent.objects.filter(report=advisory.report, to_state=State.DISCLOSED)
    assert [(e.actor, e.message) for e in disclosed] == [
        (None, f"Advisory {advisory.identifier} published on the disclosure date, as scheduled.")
    ]


def test_scheduling_needs_everything_but_the_date(seeded, clock, reporter, maintainer_of):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    Advisory.objects.filter(pk=advisory.pk).update(fixed_versions=[])
    with pytest.raises(advisory_services.AdvisoryError, match="Name the fixed versions first"):
        publication.schedule(advisory=advisory, by=maintainer)
    advisory.refresh_from_db()
    assert not advisory.scheduled


def test_a_scheduled_advisory_that_can_no_longer_be_published_is_unscheduled(
    seeded, clock, reporter, maintainer_of
):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    publication.schedule(advisory=advisory, by=maintainer)
    Advisory.objects.filter(pk=advisory.pk).update(fixed_versions=[])  # withdrawn meanwhile
    clock.move_to(T0 + 90 * DAY)
    sweep.sweep()
    advisory.refresh_from_db()
    assert (advisory.state, advisory.scheduled) == (Advisory.State.DRAFT, False)
    event = ReportEvent.objects.filter(report=advisory.report).latest("pk")
    assert event.message.startswith(f"Scheduled publication of {advisory.identifier} cancelled.")
    assert "Name the fixed versions first." in event.message


def test_a_scheduled_publication_can_be_cancelled(seeded, clock, reporter, maintainer_of):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    schedule_page(advisory, maintainer)
    assert schedule_page(advisory, maintainer, "unschedule").status_code == 302
    clock.move_to(T0 + 91 * DAY)
    sweep.sweep()
    assert state(advisory) == Advisory.State.DRAFT


def test_the_schedule_follows_a_newly_agreed_date(seeded, clock, reporter, maintainer_of):
    maintainer = maintainer_of("stalwart")
    advisory = ready("stalwart", seeded=seeded, reporter=reporter, by=maintainer)
    publication.schedule(advisory=advisory, by=maintainer)
    proposal = advisory_services.propose_disclosure(
        report=advisory.report, by=maintainer, date=dt.date(2026, 12, 20), reason="Earlier."
    )
    advisory_services.respond_to_disclosure(proposal=proposal, by=reporter, agree=True)
    clock.move_to(dt.datetime(2026, 12, 20, 0, 1, tzinfo=dt.UTC))
    assert sweep.sweep() >= 1
    assert state(advisory) == Advisory.State.PUBLISHED
    assert timezone.localdate(advisory.published_at) == dt.date(2026, 12, 20)
