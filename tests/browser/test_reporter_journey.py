"""A reporter files a vulnerability report to Stalwart, as a person does it in a browser."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import Report
from tests.browser.helpers import sent_emails, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded():
    call_command("seed_projects", stdout=io.StringIO())


def test_reporter_files_a_report_with_a_proof_of_concept(
    page, live_server, seeded, mailoutbox, tmp_path
):
    reporter = UserFactory(email="reporter@example.org")
    poc = tmp_path / "poc.py"
    poc.write_text("print('smuggled')\n")

    sign_in(page, live_server, reporter)
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Stalwart").click()
    expect(page.get_by_role("heading", name="How to report a vulnerability")).to_be_visible()
    page.get_by_role("link", name="Report a vulnerability privately").click()

    expect(page.get_by_role("heading", name="Report a vulnerability to Stalwart")).to_be_visible()
    page.get_by_label("Title").fill("SMTP smuggling in the relay")
    page.get_by_label("Vulnerability type").fill("SMTP smuggling")
    page.get_by_label("0.13.x").check()
    page.get_by_label("Affected components").fill("smtp-inbound")
    page.get_by_label("Steps to reproduce").fill("Send a bare LF dot LF inside DATA.")
    page.get_by_label("Impact").fill("Spoofed mail from any local sender.")
    page.get_by_label("Attachments").set_input_files(poc)
    # "we'll credit you in our GitHub Security Advisories (unless you prefer to remain anonymous)"
    expect(page.get_by_text("we'll credit you in our GitHub Security Advisories")).to_be_visible()
    expect(page.get_by_label("By name")).to_be_checked()  # credited unless they choose otherwise
    page.get_by_label("Name to credit").fill("Ada Lovelace")
    page.get_by_role("button", name="Submit report").click()

    tracking_id = f"STW-{timezone.now().year}-0001"
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    expect(page.get_by_text(tracking_id)).to_be_visible()

    report = Report.objects.get(tracking_id=tracking_id)
    assert (report.reporter, report.project.slug, report.title) == (
        reporter,
        "stalwart",
        "SMTP smuggling in the relay",
    )
    assert report.affected_versions == ["0.13.x"]
    (attachment,) = report.attachments.all()
    assert attachment.name == "poc.py"
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"print('smuggled')\n"

    (received,) = sent_emails(mailoutbox, to=reporter.email, subject="Report received")
    assert received.subject == f"[{tracking_id}] Report received"
    assert f"{live_server.url}/reports/{tracking_id}/" in received.body

    # The reporter follows the report from the confirmation page and finds the file there.
    page.get_by_role("link", name="Follow the report").click()
    expect(page.get_by_role("heading", name=tracking_id)).to_be_visible()
    expect(page.get_by_role("link", name="poc.py")).to_be_visible()
