"""The intake, report and queue pages on a phone (390 px wide, the issue's measure): no sideways
scrolling, asserted, with screenshots under var/e2e/mobile-NN-<step>.png.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports import services
from reports.models import State
from tests.browser.helpers import (
    MY_REPORTS_NAV,
    PHONE,
    QUEUE_NAV,
    STALWART_REPORT,
    Screenshots,
    act,
    fill_stalwart_intake,
    follow_nav,
    member_of,
    on_a_phone,
    open_stalwart_intake,
    page_width,
    seeded_project,
    sign_in,
    sign_out,
    status_line,
    unfold,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = STALWART_REPORT["Title"]


@pytest.fixture
def stalwart():
    return seeded_project("stalwart")


@pytest.fixture
def maintainer(stalwart):
    return member_of(stalwart, "maintainer@stalw.art")


def test_intake_and_report_fit_a_phone(page, live_server, stalwart, maintainer):
    shot = Screenshots("mobile")
    reporter = UserFactory(email="reporter@example.org")
    tracking_id = f"STW-{timezone.localdate().year}-0001"

    sign_in(page, live_server, reporter)
    on_a_phone(page)
    open_stalwart_intake(page)
    assert page_width(page) <= PHONE["width"]
    shot(page, "intake")
    fill_stalwart_intake(page, credit_name="Ada Lovelace")
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_text(tracking_id)).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    shot(page, "report-received")

    follow_nav(page, MY_REPORTS_NAV)
    page.get_by_role("link", name=tracking_id).click()
    expect(page.get_by_role("heading", name=tracking_id)).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    shot(page, "reporter-report")
    sign_out(page)

    # The maintainer's page of the same report carries the actions and forms.
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in(page, live_server, maintainer)
    on_a_phone(page)
    page.goto(f"/reports/{tracking_id}/")
    expect(page.get_by_role("heading", name=tracking_id)).to_be_visible()
    act(page, "Acknowledge")
    expect(status_line(page)).to_contain_text(State.ACKNOWLEDGED.label)
    assert page_width(page) <= PHONE["width"]
    shot(page, "maintainer-report")
    unfold(page, "Request information")  # the widest action: a form with a text area
    assert page_width(page) <= PHONE["width"]


def test_queue_fits_a_phone(page, live_server, stalwart, maintainer):
    shot = Screenshots("mobile-queue")
    report = services.file_report(
        project=stalwart,
        reporter=UserFactory(email="reporter@example.org"),
        fields={
            "title": TITLE,
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
    sign_in(page, live_server, maintainer)
    on_a_phone(page)
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("link", name=report.tracking_id)).to_be_visible()
    shot(page, "queue")
    assert page_width(page) <= PHONE["width"]
