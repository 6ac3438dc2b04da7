"""Keyboard alone: a reporter files a Stalwart report, and a maintainer comments on it and
acknowledges it, with Tab, typing, Space and Enter only; every stop of the keyboard shows where
the focus is.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Project
from reports.models import Comment, Report, State
from tests.browser.helpers import filed_stalwart_report, member_of, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Whether the focused element shows it: an outline (site.css's :focus-visible ring) or
# Bootstrap's focus shadow on form controls and buttons.
FOCUS_SHOWN = """() => {
  const element = document.activeElement;
  if (!element || element === document.body || !element.matches(":focus-visible")) return false;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""
MAX_TABS = 120


def tab_to(page, target):
    """Press Tab until `target` has the focus (failing past MAX_TABS), checking that each element
    the focus passes shows it.
    """
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        assert page.evaluate(FOCUS_SHOWN), f"focus not visible on {focused}"
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} was not reached with {MAX_TABS} presses of Tab")


@pytest.fixture
def stalwart():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


def test_reporter_files_a_report_by_keyboard(page, live_server, stalwart):
    reporter = UserFactory(email="reporter@example.org")
    sign_in(page, live_server, reporter)
    page.goto("/projects/stalwart/report/")
    # The skip link is the first stop and leads past the navigation.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")

    for label, text in [
        ("Title", "SMTP smuggling in the relay"),
        ("Vulnerability type", "SMTP smuggling"),
    ]:
        tab_to(page, page.get_by_label(label))
        page.keyboard.type(text)
    tab_to(page, page.get_by_label("0.13.x"))
    page.keyboard.press("Space")
    for label, text in [
        ("Affected components", "smtp-inbound"),
        ("Steps to reproduce", "Send a bare LF dot LF inside DATA."),
        ("Impact", "Spoofed mail from any local sender."),
    ]:
        tab_to(page, page.get_by_label(label))
        page.keyboard.type(text)
    # "By name" is chosen already; the radio group is one stop, then the name.
    tab_to(page, page.get_by_label("Name to credit"))
    page.keyboard.type("Ada Lovelace")
    tab_to(page, page.get_by_role("button", name="Submit report"))
    page.keyboard.press("Enter")

    tracking_id = f"STW-{timezone.now().year}-0001"
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    expect(page.get_by_text(tracking_id)).to_be_visible()
    report = Report.objects.get(tracking_id=tracking_id)
    assert (report.title, report.affected_versions, report.impact) == (
        "SMTP smuggling in the relay",
        ["0.13.x"],
        "Spoofed mail from any local sender.",
    )
    assert report.credit_preferences.get().name == "Ada Lovelace"


def test_maintainer_comments_and_acknowledges_by_keyboard(page, live_server, stalwart):
    maintainer = member_of(stalwart, "maintainer@example.org")
    report = filed_stalwart_report(stalwart)
    sign_in(page, live_server, maintainer)
    page.goto(f"/reports/{report.tracking_id}/")

    tab_to(page, page.get_by_role("textbox", name="Comment"))
    page.keyboard.type("Reproduced on **0.13.2**.")
    # The Write / Preview tabs: back to "Write", the arrow key opens "Preview", and back.
    page.keyboard.press("Shift+Tab")
    comment_field = page.locator("#div_id_body")
    expect(comment_field.get_by_role("tab", name="Write")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(comment_field.get_by_role("tab", name="Preview")).to_be_focused()
    preview = comment_field.get_by_role("tabpanel", name="Preview")
    expect(preview.locator("strong")).to_have_text("0.13.2")
    page.keyboard.press("ArrowLeft")
    expect(comment_field.get_by_role("tabpanel", name="Write")).to_be_visible()
    expect(preview).to_be_hidden()
    tab_to(page, page.get_by_role("button", name="Comment", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator(".card-body strong", has_text="0.13.2")).to_be_visible()
    assert Comment.objects.get(report=report).body == "Reproduced on **0.13.2**."

    acknowledge = page.locator("summary").filter(has_text=re.compile(r"^Acknowledge$"))
    tab_to(page, acknowledge)
    page.keyboard.press("Enter")  # opens the panel
    panel = page.locator("details[open]").filter(has=acknowledge)
    tab_to(page, panel.get_by_role("textbox"))
    page.keyboard.type("Thanks, we are on it.")
    tab_to(page, panel.get_by_role("button", name="Acknowledge"))
    page.keyboard.press("Enter")

    expect(page.get_by_text("Thanks, we are on it.")).to_be_visible()
    report.refresh_from_db()
    assert report.state == State.ACKNOWLEDGED
