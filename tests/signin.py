"""Signing in as people do: members and staff pass a second factor (DESIGN §3).

`Client.sign_in(user)` posts the email and password to allauth's login form and, for users who
must have a second factor (projects.access.needs_second_factor: project members and staff), a
current TOTP code on allauth's second-factor form, so the session carries allauth's record of
the second factor exactly as a real one does. Everyone else (reporters, collaborators,
strangers) is signed in directly: nothing about their session depends on how they signed in.

allauth refuses a TOTP code that was used already (per user, for its period), so every sign-in
gives the user a fresh authenticator: signing the same user in twice within 30 seconds works.
"""

import time

import django.test
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)

from projects.access import needs_second_factor

PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory's


def enroll_totp(user):
    """Give `user` a new TOTP authenticator (replacing any), the way allauth's activation does;
    returns its secret.
    """
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret):
    """The authenticator app's current code. allauth accepts only the current period, so a code
    about to expire is not handed out: wait for the next one.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def prepare(user):
    """What a real account has before it can sign in: a usable password, a verified address."""
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


class Client(django.test.Client):
    def sign_in(self, user):
        if not needs_second_factor(user):
            self.force_login(user)
            return
        prepare(user)
        secret = enroll_totp(user)
        self.logout()  # allauth sends a signed-in visitor of its login page away
        response = self.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"].startswith("/accounts/2fa/authenticate/"), response["Location"]
        period = int(time.time()) // mfa_settings.TOTP_PERIOD
        response = self.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        if response.status_code == 200 and int(time.time()) // mfa_settings.TOTP_PERIOD != period:
            # The period ended between computing the code and the server checking it (a busy
            # machine): the app would show the next code by now.
            response = self.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert self.session.get("_auth_user_id") == str(user.pk)
