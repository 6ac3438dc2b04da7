"""Markdown fields in the browser: the syntax hint, the Write / Preview tabs rendered by the server
(static/js/markdown-preview.js under the site's CSP), and the same form without the script.
"""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Project
from reports import services
from reports.models import Comment, Report
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.helpers import sign_in
from tests.factories import UserFactory
from tests.signin import PASSWORD, prepare

pytestmark = pytest.mark.django_db(transaction=True)

HINT = "Markdown: **bold**, `code`, ```fenced blocks```, [links](https://…); HTML is removed."
STEPS = (
    "Send a **bare LF** through `smtp-inbound`:\n\n```\nDATA\n.\n```\n\n"
    "See [RFC 5321](https://www.rfc-editor.org/rfc/rfc5321)."
    '<script>document.title = "owned"</script>'
)


@pytest.fixture
def stalwart():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


def test_reporter_previews_markdown_then_files_it(page, live_server, stalwart):
    reporter = UserFactory(email="reporter@example.org")
    sign_in(page, live_server, reporter)
    page.goto("/projects/stalwart/report/")
    page.get_by_label("Title").fill("SMTP smuggling in the relay")
    page.get_by_label("Vulnerability type").fill("SMTP smuggling")
    page.get_by_label("0.13.x").check()
    page.get_by_label("Affected components").fill("smtp-inbound")
    page.get_by_label("Impact").fill("Spoofed mail from any local sender.")

    field = page.locator("#div_id_steps_to_reproduce")
    text_area = field.get_by_label("Steps to reproduce")
    expect(field.get_by_text(HINT)).to_be_visible()
    text_area.fill(STEPS)
    field.get_by_role("tab", name="Preview").click()
    preview = field.get_by_role("tabpanel", name="Preview")
    expect(preview.locator("strong")).to_have_text("bare LF")
    expect(preview.locator("p code")).to_have_text("smtp-inbound")
    expect(preview.locator("pre code")).to_have_text("DATA\n.\n")
    link = preview.get_by_role("link", name="RFC 5321")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(preview.locator("script")).to_have_count(0)
    expect(text_area).to_be_hidden()
    expect(field.get_by_role("tab", name="Preview")).to_have_attribute("aria-selected", "true")

    field.get_by_role("tab", name="Write").click()
    expect(text_area).to_be_visible()
    expect(text_area).to_be_focused()
    expect(text_area).to_have_value(STEPS)
    page.get_by_label("Name to credit").fill("Ada Lovelace")
    page.get_by_role("button", name="Submit report").click()

    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    page.get_by_role("link", name="Follow the report").click()
    steps = page.locator("dt:has-text('Steps to reproduce') + dd")
    expect(steps.locator("strong")).to_have_text("bare LF")
    expect(steps.locator("pre code")).to_have_text("DATA\n.\n")
    assert page.title() != "owned"
    report = Report.objects.get(tracking_id=f"STW-{timezone.now().year}-0001")
    assert report.steps_to_reproduce.replace("\r\n", "\n") == STEPS  # browsers post CRLF


def test_comment_form_works_without_the_script(browser, live_server, stalwart, browser_problems):
    """Progressive enhancement: no script, no tabs; the hint is there and the form posts."""
    reporter = UserFactory(email="reporter@example.org")
    prepare(reporter)
    report = services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={"title": "Open relay", "affected_versions": ["0.13.x"], "impact": "Spam."},
    )
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(reporter.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/reports/{report.tracking_id}/")
        field = page.locator("#div_id_body")
        expect(field.get_by_text(HINT)).to_be_visible()
        expect(field.get_by_role("tab")).to_have_count(0)  # hidden: nothing to click
        field.get_by_label("Comment").fill("Also reachable on **port 587**.")
        page.get_by_role("button", name="Comment", exact=True).click()
        expect(page.locator(".card-body strong")).to_have_text("port 587")
    finally:
        context.close()
    assert Comment.objects.get(report=report).body == "Also reachable on **port 587**."
    assert not browser_problems
