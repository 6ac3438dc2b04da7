"""A report that arrived by email, in the browser: the reporter follows the acknowledgment's
sign-in link, asks for a code, enters it and reads their report; a maintainer sees which fields
the policy requires that the message lacked.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inbox import gateway
from reports.models import Report
from tests.browser.helpers import member_of, seeded_project, sent_emails, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = Path(__file__).resolve().parents[1] / "inbox" / "messages" / "plain.eml"


@pytest.fixture
def emailed(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    stalwart = seeded_project("stalwart")
    delivery = gateway.ingest(PLAIN.read_bytes())
    assert delivery.status == gateway.DELIVERED
    return stalwart, Report.objects.get()


def test_reporter_signs_in_by_code_from_the_acknowledgment(page, live_server, mailoutbox, emailed):
    _, report = emailed
    (ack,) = sent_emails(mailoutbox, to="ada@example.org", subject="Report received")
    link = re.search(r"^(http\S+/accounts/login/code/)$", ack.body, re.M).group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="Send me a sign-in code")).to_be_visible()
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Request Code").click()
    (mail,) = sent_emails(mailoutbox, to="ada@example.org", subject="Sign-In Code")
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.body, re.M).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    report_link = re.search(rf"^(http\S+/reports/{report.tracking_id}/)$", ack.body, re.M)
    page.goto(report_link.group(1))
    expect(page.get_by_role("heading", name=report.tracking_id)).to_be_visible()
    expect(page.get_by_text("Open relay in the SMTP submission listener").first).to_be_visible()
    expect(page.get_by_text("Arrived by email without fields")).to_have_count(0)


def test_maintainer_sees_the_fields_the_message_lacked(page, live_server, emailed):
    stalwart, report = emailed
    maintainer = member_of(stalwart, "grace@example.org")

    sign_in(page, live_server, maintainer)
    page.goto(f"{live_server.url}/reports/{report.tracking_id}/")

    flag = page.locator("#missing-fields")
    expect(flag).to_contain_text("Arrived by email without fields the policy requires")
    expect(flag.get_by_role("listitem")).to_have_text(
        [
            "Vulnerability type",
            "Affected version(s)",
            "Affected components",
            "Steps to reproduce",
            "Impact (what could an attacker achieve?)",
        ]
    )
