"""A maintainer of Stalwart works a new report in the browser: second factor, queue, report,
acknowledgment, incident checklist.
"""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from projects.models import Project
from reports.models import State
from tests.browser.helpers import (
    QUEUE_NAV,
    filed_stalwart_report,
    follow_nav,
    member_of,
    sign_in,
    unfold,
)

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_TASK = "Reproduce the vulnerability in test environment"  # of Stalwart's checklist


@pytest.fixture
def stalwart():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def filed(stalwart):
    """A report filed earlier by a reporter, through the intake service."""
    return filed_stalwart_report(stalwart)


def test_maintainer_acknowledges_and_starts_the_checklist(page, live_server, stalwart, filed):
    maintainer = member_of(stalwart, "maintainer@example.org")
    sign_in(page, live_server, maintainer)
    follow_nav(page, QUEUE_NAV)
    page.get_by_role("link", name=filed.tracking_id).click()
    expect(page.get_by_role("heading", name=filed.tracking_id)).to_be_visible()
    expect(page.get_by_text("New", exact=True)).to_be_visible()

    unfold(page, "Acknowledge").get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Acknowledged", exact=True).first).to_be_visible()
    expect(page.get_by_text("New", exact=True)).to_have_count(0)
    filed.refresh_from_db()
    assert filed.state == State.ACKNOWLEDGED

    page.get_by_role("button", name="Start the incident checklist").click()
    expect(page.get_by_role("heading", name="Incident checklist")).to_be_visible()
    expect(page.get_by_text("0 of 71 done.")).to_be_visible()
    page.get_by_label(FIRST_TASK).check()
    page.get_by_role("button", name="Save the checklist").click()
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(page.get_by_text("1 of 71 done.")).to_be_visible()
    expect(page.get_by_label(FIRST_TASK)).to_be_checked()

    page.get_by_role("link", name=filed.tracking_id).click()
    expect(page.get_by_text("Checklist: 1 of 71 done.")).to_be_visible()
