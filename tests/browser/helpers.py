"""What a user does in the browser, and what the tests read behind the scenes.

Locators go by role, label and text, as a person reads the page: templates and URLs may move.
"""

import io
import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from projects.access import needs_second_factor
from projects.models import Membership, Project
from reports import services
from tests.factories import MembershipFactory, UserFactory
from tests.signin import PASSWORD, enroll_totp, totp_code

# The words the journeys depend on that other work may change, each in one place.
# The members' nav item to their projects' report queue.
QUEUE_NAV = "Queue"
# The reporter's nav item to the reports they filed.
MY_REPORTS_NAV = "My reports"

# The advisory form's CWE field, labelled by the model's verbose name.
CWE_LABEL = "CWE"

# Where the journeys leave their screenshots (var/ is ignored by git).
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "e2e"


# A Stalwart report as its reporter types it in the intake form (labels -> values).
STALWART_REPORT = {
    "Title": "SMTP smuggling in the relay",
    "Vulnerability type": "SMTP smuggling",
    "Affected components": "smtp-inbound",
    "Steps to reproduce": "Send a bare LF dot LF inside DATA.",
    "Impact": "Spoofed mail from any local sender.",
}


def seeded_project(slug):
    """Seed the three projects with their real policies, as `make run` does; return one."""
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug=slug)


def member_of(project, email, role=Membership.Role.MAINTAINER):
    """A new user holding `role` in `project`."""
    return MembershipFactory(project=project, user=UserFactory(email=email), role=role).user


def open_stalwart_intake(page):
    """From the start page to Stalwart's report form, as the policy page leads there."""
    follow_nav(page, "Projects")
    page.get_by_role("link", name="Stalwart").click()
    page.get_by_role("link", name="Report a vulnerability privately").click()
    expect(page.get_by_role("heading", name="Report a vulnerability to Stalwart")).to_be_visible()


def fill_stalwart_intake(page, *, credit_name):
    """Type STALWART_REPORT into the form, affecting 0.13.x, credited by name."""
    for label, value in STALWART_REPORT.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("0.13.x").check()
    page.get_by_label("Name to credit").fill(credit_name)


def sign_in(page, live_server, user, *, shot=None):
    """Sign in through allauth's login form, reached from the start page's "Sign in" link. A
    project member or staff user then passes the second factor with the current code of a fresh
    authenticator (allauth refuses a code used before), as tests/signin.py does. `shot` (a
    Screenshots) takes the second-factor step.
    """
    secret = enroll_totp(user) if needs_second_factor(user) else None
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if secret is not None:
        expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
        page.get_by_label("Code").fill(totp_code(secret))
        if shot is not None:
            shot(page, "second-factor")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def unfold(page, summary):
    """Open the <details> panel whose summary reads `summary` (the report page's actions) and
    return it, so its own form can be filled and its button clicked.
    """
    panel = page.get_by_role("group").filter(has=page.get_by_text(summary, exact=True))
    # The summary comes first; the panel's submit button often repeats its text.
    panel.get_by_text(summary, exact=True).first.click()
    return panel


def sent_emails(mailoutbox, *, to, subject="", timeout=5.0):
    """Emails delivered to `to` whose subject contains `subject`.

    The live server writes them to the outbox and delivers them after commit, in its own thread,
    through the in-process Celery task into pytest-django's `mailoutbox`; normally before the
    response, but wait a little rather than race the server.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mailoutbox if to in m.to and subject in m.subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def sign_out(page):
    unfold_nav(page)
    page.get_by_role("button", name="Sign out").click()
    # Wait for the signed-out page before unfolding its menu: unfolding at once can look at the
    # page being left (its menu already open) and leave the new one folded.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    unfold_nav(page)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def open_report(page, tracking_id, *, nav=MY_REPORTS_NAV):
    """Follow the nav link to the list (QUEUE_NAV for members), then the report's tracking ID."""
    follow_nav(page, nav)
    page.get_by_role("link", name=tracking_id).click()
    expect(page.get_by_role("heading", name=tracking_id)).to_be_visible()


def act(page, summary, button=None, *, optional=(), **fields):
    """Unfold an action of the report page, fill its fields by label (underscores for spaces;
    a <select> by its option's text), click its button. Fields named in `optional` are filled
    only where the form has them.
    """
    panel = unfold(page, summary)
    for name, value in fields.items():
        label = name.replace("_", " ")
        field = panel.get_by_label(label)
        if label in optional and field.count() == 0:
            continue
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    panel.get_by_role("button", name=button or summary).click()


def status_line(page):
    """The line under a report's heading: its state, severity, who filed it and when."""
    return page.get_by_role("heading", level=1).locator("xpath=following-sibling::p[1]")


class Screenshots:
    """Numbered full-page screenshots of a journey's steps, var/e2e/<journey>-NN-<step>.png, for
    a person to look through; a journey's earlier run's are removed first.
    """

    def __init__(self, journey):
        self.journey = journey
        self.taken = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{journey}-[0-9][0-9]-*.png"):
            old.unlink()

    def __call__(self, page, step):
        assert re.fullmatch(r"[a-z0-9-]+", step), step
        path = SCREENSHOTS / f"{self.journey}-{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


def reload_until_visible(page, locator, *, timeout=15.0):
    """Reload the page until `locator` shows: for what a worker computes after the response (the
    CVSS score: in-process in the tests, a real Celery worker in production).
    """
    deadline = time.monotonic() + timeout
    while not locator.is_visible() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    expect(locator).to_be_visible()


def report_detail(page, term):
    """The value a report page shows under `term` in its description list."""
    return page.get_by_text(term, exact=True).locator("xpath=self::dt/following-sibling::dd[1]")


PHONE = {"width": 390, "height": 844}


def on_a_phone(page):
    """Make the page phone-sized (390 px wide, as the issue measures): the nav folds into its
    menu button.
    """
    page.set_viewport_size(PHONE)


def unfold_nav(page):
    """Open the nav's menu where it is folded (phone-sized pages); elsewhere do nothing."""
    toggle = page.get_by_role("button", name="Toggle navigation")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        # Bootstrap marks the toggle at once but slides the menu open for 350 ms ("collapsing");
        # a click on a busy machine could land while its buttons are still moving.
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))


def follow_nav(page, name):
    """Click a nav link, unfolding the phone-sized menu first when it is folded."""
    unfold_nav(page)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name=name, exact=True
    ).click()


def page_width(page):
    """How wide the page is laid out: more than the window means sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth")


def approve_advisory(page, identifier):
    """The reporter opens the advisory draft from the report page and approves it."""
    page.get_by_role("link", name=identifier).click()
    page.get_by_role("button", name="Approve the advisory").click()
    expect(page.get_by_text("Approved by the reporter")).to_be_visible()


def publish_now(page):
    """On the advisory's Publish page: confirm and publish."""
    page.get_by_label("Publish now").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("is published.")).to_be_visible()


def filed_stalwart_report(stalwart, reporter_email="reporter@example.org"):
    """A Stalwart report filed through the intake service (journeys that start after intake)."""
    return services.file_report(
        project=stalwart,
        reporter=UserFactory(email=reporter_email),
        fields={
            "title": "SMTP smuggling in the relay",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
