"""Words and feedback in the browser: a display name set on the account page names its owner on
a report; every action says what it did; a closed report offers no upload and no invitation;
report and intake pages fit a 390 px phone without horizontal scrolling.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from projects.models import Membership, Project
from reports import services
from tests.browser.helpers import sign_in, unfold
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 720}  # Playwright's default


@pytest.fixture
def stalwart():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def people(stalwart):
    reporter = UserFactory(email="ada@example.org")
    maintainer = MembershipFactory(
        project=stalwart,
        user=UserFactory(email="grace@example.org"),
        role=Membership.Role.MAINTAINER,
    ).user
    report = services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={
            "title": "Header injection in the relay with a rather long title for a phone",
            "vulnerability_type": "Header injection",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": "Send a header with a bare CR.",
            "impact": "Spoofed headers on relayed mail.",
        },
    )
    return reporter, maintainer, report


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def open_report(page, report, via="My reports"):
    """From the navigation: "My reports" for what the user filed, "Queue" for a member."""
    page.get_by_role("link", name=via).click()
    page.get_by_role("link", name=report.tracking_id).click()
    expect(page.get_by_role("heading", name=report.tracking_id)).to_be_visible()


def success(page, text):
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible()


def test_a_display_name_names_its_owner_and_every_action_says_what_it_did(
    page, live_server, people
):
    reporter, maintainer, report = people

    # The reporter chooses a display name on the account page, from the navigation.
    sign_in(page, live_server, reporter)
    page.get_by_role("link", name=reporter.email).click()
    expect(page.get_by_role("heading", name="Display name")).to_be_visible()
    page.get_by_label("Display name").fill("Ada Lovelace")
    page.get_by_role("button", name="Save").click()
    success(page, "Saved: others now see you as Ada Lovelace.")
    expect(page.get_by_label("Display name")).to_have_value("Ada Lovelace")

    open_report(page, report)
    page.get_by_label("Comment").fill("Any news on this?")
    page.get_by_role("button", name="Comment").click()
    success(page, "Comment posted.")
    expect(page.get_by_text("You · ")).to_be_visible()
    sign_out(page)

    # The maintainer sees who reported and who wrote, by name and address.
    sign_in(page, live_server, maintainer)
    open_report(page, report, via="Queue")
    expect(page.get_by_text("by Ada Lovelace (ada@example.org).")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace (ada@example.org) · ")).to_be_visible()

    unfold(page, "Acknowledge").get_by_role("button", name="Acknowledge").click()
    success(page, "Acknowledged: the reporter is told that the report was received.")
    page.get_by_label("Comment").fill("We are looking into it.")
    page.get_by_role("button", name="Comment").click()
    success(page, "Comment posted.")
    page.get_by_label("CVSS vector").fill("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    page.get_by_role("button", name="Set CVSS vector").click()
    success(page, "CVSS vector set: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.")

    # Closed as spam: no upload, no invitation, no advisory promised.
    expect(page.get_by_role("button", name="Upload")).to_be_visible()
    expect(page.get_by_role("button", name="Invite")).to_be_visible()
    panel = unfold(page, "Close")
    panel.get_by_label("Resolution").select_option(label="Closed: spam")
    panel.get_by_label("Message").fill("Not a vulnerability: a test message.")
    panel.get_by_role("button", name="Close").click()
    success(page, "Closed as spam.")
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    expect(page.get_by_role("button", name="Invite")).to_have_count(0)
    expect(page.get_by_role("button", name="Draft the advisory")).to_have_count(0)
    expect(page.get_by_text("No disclosure is planned for a closed report.")).to_be_visible()
    sign_out(page)

    # The reporter: the same, and no promise of an advisory draft.
    sign_in(page, live_server, reporter)
    open_report(page, report)
    expect(page.get_by_text("Stalwart security team · ").first).to_be_visible()
    expect(page.get_by_text("grace@example.org")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    expect(page.get_by_role("button", name="Invite")).to_have_count(0)
    expect(page.get_by_text("will share the advisory draft")).to_have_count(0)


def fits_a_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at {PHONE['width']} px"


def test_report_and_intake_pages_fit_a_phone(page, live_server, people):
    reporter, maintainer, report = people
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    for who, screenshot in (
        (maintainer, "report-390-maintainer.png"),
        (reporter, "report-390.png"),
    ):
        page.set_viewport_size(DESKTOP)  # the navigation is folded away on a phone
        sign_in(page, live_server, who)
        page.set_viewport_size(PHONE)
        page.goto(f"/reports/{report.tracking_id}/")
        expect(page.get_by_role("heading", name=report.tracking_id)).to_be_visible()
        fits_a_phone(page)
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
        page.set_viewport_size(DESKTOP)
        sign_out(page)

    sign_in(page, live_server, reporter)
    page.set_viewport_size(PHONE)
    for slug, name, screenshot in (
        ("stalwart", "Stalwart", "intake-390.png"),
        ("mailtri-router", "mailtri-router", "intake-390-mailtri-router.png"),
    ):
        page.goto(f"/projects/{slug}/report/")
        expect(
            page.get_by_role("heading", name=f"Report a vulnerability to {name}")
        ).to_be_visible()
        fits_a_phone(page)
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
        page.goto(f"/projects/{slug}/")
        fits_a_phone(page)
