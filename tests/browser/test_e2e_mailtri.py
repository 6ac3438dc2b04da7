"""End to end on mailtri-router's intake, whose policy asks for the environment: "Environment: OS,
Node.js version, AWS region, etc." (its seed makes them required extra fields). A reporter leaves
one out and is told, fills it and files; the maintainer reads the values on the report page.
Screenshots of every step: var/e2e/mailtri-NN-<step>.png.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import Report
from tests.browser.helpers import (
    QUEUE_NAV,
    Screenshots,
    member_of,
    open_report,
    report_detail,
    seeded_project,
    sign_in,
    sign_out,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The policy's extra fields: name, label on the form, the reporter's value.
ENVIRONMENT = [
    ("os", "Operating system", "Amazon Linux 2023"),
    ("nodejs_version", "Node.js version", "20.11.1"),
    ("aws_region", "AWS region", "eu-west-1"),
]
TITLE = "Header injection through the routing rule's subject"


@pytest.fixture
def mailtri():
    return seeded_project("mailtri-router")


def test_mailtri_router_intake_asks_for_the_environment_and_the_maintainer_reads_it(
    page, live_server, mailtri
):
    shot = Screenshots("mailtri")
    reporter = UserFactory(email="reporter@example.org")
    maintainer = member_of(mailtri, "maintainer@mailtri.com")
    tracking_id = f"MTR-{timezone.localdate().year}-0001"

    sign_in(page, live_server, reporter)
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="mailtri-router").click()
    page.get_by_role("link", name="Report a vulnerability privately").click()
    expect(
        page.get_by_role("heading", name="Report a vulnerability to mailtri-router")
    ).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Description").fill("A CRLF in the subject adds headers to routed mail.")
    page.get_by_label("Impact").fill("Forged Bcc: routed mail leaks to the attacker.")
    page.get_by_label("Affected components").fill("router/rules.js")
    page.get_by_label("Steps to reproduce").fill("Route a message whose subject holds CRLF Bcc:.")
    page.get_by_label("1.x.x").check()
    page.get_by_label("Name to credit").fill("Grace Hopper")
    # The operating system is left out.
    for _name, label, value in ENVIRONMENT[1:]:
        page.get_by_label(label).fill(value)
    shot(page, "intake-without-os")
    page.get_by_role("button", name="Submit report").click()

    # Refused, saying which field; nothing is filed and nothing typed is lost.
    os_field = page.get_by_label(ENVIRONMENT[0][1])
    expect(os_field).to_have_accessible_description("This field is required.")
    expect(page.get_by_text("This field is required.")).to_have_count(1)
    for _name, label, value in ENVIRONMENT[1:]:
        expect(page.get_by_label(label)).to_have_value(value)
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    assert not Report.objects.exists()
    shot(page, "intake-refused")

    os_field.fill(ENVIRONMENT[0][2])
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    expect(page.get_by_text(tracking_id)).to_be_visible()
    shot(page, "report-received")
    report = Report.objects.get(tracking_id=tracking_id)
    assert report.extra_fields == {name: value for name, _label, value in ENVIRONMENT}

    # The reporter's own page shows what was sent.
    page.get_by_role("link", name="Follow the report").click()
    for _name, label, value in ENVIRONMENT:
        expect(report_detail(page, label)).to_have_text(value)
    shot(page, "reporter-report")
    sign_out(page)

    # The maintainer reads the environment on the report page.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    for _name, label, value in ENVIRONMENT:
        expect(report_detail(page, label)).to_have_text(value)
    shot(page, "maintainer-report")
