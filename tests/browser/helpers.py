"""What a user does in the browser, and what the tests read behind the scenes.

Locators go by role, label and text, as a person reads the page: templates and URLs may move.
"""

import time

from playwright.sync_api import expect

from projects.access import needs_second_factor
from tests.signin import PASSWORD, enroll_totp, totp_code


def sign_in(page, live_server, user):
    """Sign in through allauth's login form, reached from the start page's "Sign in" link. A
    project member or staff user then passes the second factor with the current code of a fresh
    authenticator (allauth refuses a code used before), as tests/signin.py does.
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
