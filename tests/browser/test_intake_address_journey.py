"""A superuser gives a project an intake address on its admin page, typed as people type it;
mail to that address then becomes one of the project's reports (the real gateway)."""

import pytest
from playwright.sync_api import expect

from inbox import gateway
from reports.models import Report
from tests.browser.helpers import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = (
    b"From: Reporter <reporter@example.net>\r\n"
    b"To: security@acme.example.org\r\n"
    b"Subject: Heap overflow in the parser\r\n"
    b"Message-ID: <intake-address-journey@example.net>\r\n"
    b"\r\n"
    b"The parser overflows on a long literal.\r\n"
)


def test_a_superuser_adds_an_intake_address_and_mail_to_it_files_a_report(
    page, live_server, project, settings, tmp_path
):
    settings.ATTACHMENT_ROOT = tmp_path
    root = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    sign_in(page, live_server, root)

    page.goto(live_server.url + "/admin/")
    page.locator("tr.model-project").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project.name, exact=True).click()
    page.get_by_role("button", name="Add another Intake address").click()
    page.locator("input[name='intake_addresses-0-address']").fill("Security@Acme.example.org")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.get_by_text("was changed successfully")).to_be_visible()
    expect(page.locator("input[name='intake_addresses-0-address']")).to_have_value(
        "security@acme.example.org"
    )
    delivery = gateway.ingest(MESSAGE)

    assert delivery.status == gateway.DELIVERED
    report = Report.objects.get()
    assert (report.project, report.title) == (project, "Heap overflow in the parser")
