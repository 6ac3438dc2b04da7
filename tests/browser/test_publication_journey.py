"""A Stalwart advisory before its disclosure date, clicked through by its maintainer: scheduled
for the date and the schedule cancelled, publishing now refused without a reason, then published
early because it is exploited; the reporter reads the reason on the report.

Stalwart's policy: "we will publicly disclose the vulnerability 90 days after the initial report,
or earlier if the vulnerability is being actively exploited".
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from advisories import services as advisory_services
from advisories.models import Advisory
from projects.models import Project
from reports import services
from reports.models import State
from tests.browser.helpers import MY_REPORTS_NAV, follow_nav, member_of, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft():
    """A fixed Stalwart report, filed today, with a draft advisory naming its fixed version."""
    call_command("seed_projects", stdout=io.StringIO())
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = member_of(stalwart, "maintainer@example.org")
    reporter = UserFactory(email="reporter@example.org")
    report = services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={
            "title": "IMAP literal overflow",
            "vulnerability_type": "Memory exhaustion",
            "affected_versions": ["0.13.x"],
            "affected_components": "imap",
            "description": "A huge literal length is allocated up front.",
            "steps_to_reproduce": "APPEND with a {4294967295} literal.",
            "impact": "Any client exhausts the server's memory.",
        },
    )
    services.transition(
        report=report, by=maintainer, name="triage", severity="high", message="Confirmed."
    )
    services.transition(report=report, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    advisory_services.update_advisory(
        advisory=advisory, by=maintainer, fields={"fixed_versions": ["0.13.4"]}
    )
    return report, maintainer, reporter


def test_an_advisory_is_scheduled_then_published_early_with_the_reason(
    page, browser_problems, live_server, draft
):
    report, maintainer, reporter = draft
    due = (report.created_at + dt.timedelta(days=90)).date()

    sign_in(page, live_server, maintainer)
    page.goto(f"{live_server.url}/reports/{report.tracking_id}/advisory/")

    # Publish on the disclosure date: the beat sweep will do it; then change one's mind.
    page.get_by_role("button", name="Publish on the disclosure date").click()
    expect(
        page.get_by_text("Scheduled: it will be published on the disclosure date.")
    ).to_be_visible()
    assert Advisory.objects.get(report=report).scheduled
    page.get_by_role("button", name="Cancel the scheduled publication").click()
    expect(page.get_by_role("button", name="Publish on the disclosure date")).to_be_visible()
    assert not Advisory.objects.get(report=report).scheduled

    # Publish now: the page warns of the date, and refuses without the reason.
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text(f"The disclosure date is {due:%Y-%m-%d}.")).to_be_visible()
    page.get_by_label("Publish now").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Publishing earlier needs the reason")).to_be_visible()
    assert Advisory.objects.get(report=report).state == Advisory.State.DRAFT
    # The refusal answers 400, which Chromium logs; that one is expected.
    assert [problem for problem in browser_problems if "400 (Bad Request)" in problem]
    browser_problems.clear()

    # "... or earlier if the vulnerability is being actively exploited".
    page.get_by_label("Publish now").check()
    page.get_by_label("Before the disclosure date, because").select_option(
        label="It is being actively exploited"
    )
    page.get_by_label("What the reporter is told").fill("Attacks seen against public servers.")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("is published.")).to_be_visible()
    report.refresh_from_db()
    assert report.state == State.DISCLOSED
    page.get_by_role("button", name="Sign out").click()

    # The reporter is told why, on the report.
    sign_in(page, live_server, reporter)
    follow_nav(page, MY_REPORTS_NAV)
    page.get_by_role("link", name=report.tracking_id).click()
    expect(
        page.get_by_text(f"published before the disclosure date ({due:%Y-%m-%d})")
    ).to_be_visible()
    expect(page.get_by_text("Attacks seen against public servers.")).to_be_visible()
