"""A new maintainer meets the second-factor gate in the browser: sent to set one up, adds a
security key (Chromium's virtual authenticator stands in for the hardware), and from then on
signs in with password and key.

WebAuthn wants an https origin; the live server is http://localhost, so this test alone allows
the insecure origin (MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN, off in every other setting).
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from projects.models import Membership
from tests.browser.helpers import QUEUE_NAV, follow_nav
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.signin import PASSWORD, totp_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def security_key(page):
    """A virtual USB security key (CTAP2, resident keys, user verification) on the page."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def password_step(page, live_server, user):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_maintainer_adds_a_security_key_and_signs_in_with_it(
    page, live_server, settings, security_key
):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    maintainer = MembershipFactory(
        project=ProjectFactory(name="Stalwart"),
        user=UserFactory(email="maintainer@example.org"),
        role=Membership.Role.MAINTAINER,
    ).user

    # Signed in with the password alone: every page leads to setting up a second factor.
    password_step(page, live_server, maintainer)
    expect(page.get_by_text("need a second factor")).to_be_visible()
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()

    # Adding a key asks for the password again (allauth), then the key itself.
    page.get_by_role("link", name="Add", exact=True).click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Desk key")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    assert Authenticator.objects.filter(user=maintainer, type=Authenticator.Type.WEBAUTHN).exists()

    # Enrolled is not passed: the queue asks for the key first, then opens.
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_text("Confirm it is you with your second factor")).to_be_visible()
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    # Next time: password, then the key.
    page.get_by_role("button", name="Sign out").click()
    password_step(page, live_server, maintainer)
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def test_the_first_admin_sets_up_an_authenticator_app_before_the_admin_opens(page, live_server):
    """`make run`'s admin account: signed in with the password, it must first scan the QR code
    (here: read the secret shown beside it), then confirm with a code; only then the admin opens.
    """
    admin = UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()  # allauth's, not Django's
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("need a second factor")).to_be_visible()

    page.get_by_role("link", name="Activate").click()
    page.get_by_label("Password").fill(PASSWORD)  # allauth confirms the password first
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("img", name=re.compile(r"^[A-Z2-7]{32}$"))).to_be_visible()  # the QR
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_text("Confirm it is you with your second factor")).to_be_visible()
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
