"""A triager of Stalwart marks a report as spam in the browser: the report closes, the members
see the sender blocked, and the sender's next report to Stalwart is refused.
"""

import pytest
from playwright.sync_api import expect

from reports.models import BlockedSender, Report
from tests.browser.helpers import (
    QUEUE_NAV,
    filed_stalwart_report,
    fill_stalwart_intake,
    member_of,
    open_report,
    open_stalwart_intake,
    seeded_project,
    sign_in,
    sign_out,
    unfold,
)

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRMATION = "Close as spam and block the reporter's address for this project"


def test_triager_marks_spam_and_the_sender_can_no_longer_report(page, live_server):
    stalwart = seeded_project("stalwart")
    filed = filed_stalwart_report(stalwart, reporter_email="spammer@example.org")
    triager = member_of(stalwart, "triager@example.org", role="triager")
    sign_in(page, live_server, triager)
    open_report(page, filed.tracking_id, nav=QUEUE_NAV)

    panel = unfold(page, "Mark as spam")
    expect(
        panel.get_by_text("spammer@example.org can no longer report to Stalwart")
    ).to_be_visible()
    panel.get_by_label(CONFIRMATION).check()
    panel.get_by_role("button", name="Mark as spam").click()

    expect(
        page.get_by_text("Closed as spam: spammer@example.org can no longer report")
    ).to_be_visible()
    expect(page.get_by_text("Closed: spam").first).to_be_visible()
    expect(page.get_by_text("Sender blocked.")).to_be_visible()
    expect(page.get_by_text("Mark as spam")).to_have_count(0)
    block = BlockedSender.objects.get()
    assert (block.project, block.email, block.blocked_by) == (
        stalwart,
        "spammer@example.org",
        triager,
    )

    sign_out(page)
    sign_in(page, live_server, filed.reporter)
    open_report(page, filed.tracking_id)
    expect(page.get_by_text("Closed: spam").first).to_be_visible()
    expect(page.get_by_text("Sender blocked.")).to_have_count(0)
    open_stalwart_intake(page)
    fill_stalwart_intake(page, credit_name="Spam Bot")
    page.get_by_role("button", name="Submit report").click()
    expect(
        page.get_by_text("Stalwart does not accept reports from spammer@example.org.")
    ).to_be_visible()
    assert Report.objects.filter(project=stalwart).count() == 1
