"""What a user does in the browser, and what the tests read behind the scenes.

Locators go by role, label and text, as a person reads the page: templates and URLs may move.
"""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from playwright.sync_api import expect

PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory's


def sign_in(page, live_server, email, password=PASSWORD, totp_secret=None):
    """Sign in through allauth's login form, reached from the start page's "Sign in" link; with
    `totp_secret`, pass the second factor with the current code of that authenticator.
    """
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret is not None:
        expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
        page.get_by_label("Code").fill(totp_code(totp_secret))
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


def enroll_totp(user):
    """Give `user` a TOTP authenticator the way allauth's activation does; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret):
    """The authenticator app's current code. allauth accepts only the current period
    (MFA_TOTP_TOLERANCE 0), so a code about to expire is not handed out: wait for the next one.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


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
