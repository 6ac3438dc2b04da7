"""Members and staff pass a second factor before they see anything internal (DESIGN §3), on every
way in, with allauth's rate limits on every sign-in path.

"Passed" means this session's allauth authentication records hold a second factor: being
enrolled is not enough. Reporters need none, and may enable one.
"""

import pytest
from allauth.mfa.models import Authenticator

from tests.signin import PASSWORD, Client, enroll_totp, prepare, totp_code

pytestmark = pytest.mark.django_db

ENROLL = "/accounts/2fa/"
CONFIRM = "/accounts/2fa/reauthenticate/"


@pytest.fixture
def internal_pages(report, project):
    """Pages with internal content for a member, and the admin."""
    return [
        "/reports/",
        f"/reports/{report.tracking_id}/",
        f"/reports/{report.tracking_id}/checklist/",
        f"/projects/{project.slug}/sla/",
        "/admin/",
        "/admin/reports/report/",
        "/",  # everything outside the account pages waits for the second factor
    ]


@pytest.fixture
def report(project, reporter):
    from tests.reports.conftest import file

    return file(reporter, project)


def can_add(client, user, url):
    """allauth asks for the password again before a second factor is added; then the page opens."""
    response = client.get(url)
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    return client.get(url).status_code == 200


def password_only(user):
    """A session signed in with the password alone (before any second factor)."""
    prepare(user)
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client, response


@pytest.mark.parametrize("who", ["triager", "maintainer", "project_admin", "superuser", "staff"])
def test_without_a_second_factor_members_and_staff_are_sent_to_set_one_up(
    who, cast, internal_pages, django_user_model
):
    user = cast.get(who) or django_user_model.objects.create_user(
        "staff@example.org", "staff@example.org", PASSWORD, is_staff=True
    )
    client, response = password_only(user)
    assert response["Location"] == "/"  # nothing enrolled: allauth signs them in ...
    for url in internal_pages:
        response = client.get(url)
        # ... and the gate sends them to set up a second factor, whatever they asked for.
        assert (response.status_code, response["Location"]) == (302, ENROLL), url
    page = client.get(ENROLL, follow=True)
    assert page.status_code == 200
    assert "need a second factor" in page.content.decode()
    assert can_add(client, user, "/accounts/2fa/totp/activate/")


def test_enrolled_but_not_passed_in_this_session_is_asked_for_the_second_factor(maintainer, report):
    """Enrolled while signed in (or a membership granted mid-session): the session never passed
    the second factor, so it is asked for before the page, and then the page is served.
    """
    client = Client()
    client.force_login(maintainer)  # a session without any authentication record
    secret = enroll_totp(maintainer)
    url = f"/reports/{report.tracking_id}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next={url.replace('/', '%2F')}"
    response = client.post(response["Location"], {"code": totp_code(secret)})
    assert (response.status_code, response["Location"]) == (302, url)
    assert client.get(url).status_code == 200


def test_a_reporter_who_becomes_a_member_mid_session_is_stopped(project, reporter, report):
    from projects.models import Membership

    client = Client()
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/"
    assert client.get(url).status_code == 200
    Membership.objects.create(user=reporter, project=project, role=Membership.Role.TRIAGER)
    assert client.get(url)["Location"] == ENROLL


def test_members_signed_in_with_the_second_factor_get_in(maintainer, report):
    client = Client()
    client.sign_in(maintainer)  # password, then a TOTP code
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 200
    assert client.get("/reports/").status_code == 200


def test_reporters_need_no_second_factor_and_may_enable_one(reporter, report):
    client, _ = password_only(reporter)
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 200
    assert can_add(client, reporter, "/accounts/2fa/totp/activate/")


def test_security_keys_are_offered(maintainer):
    client, _ = password_only(maintainer)
    assert can_add(client, maintainer, "/accounts/2fa/webauthn/add/")


# --- The admin has no way in of its own ---------------------------------------------------------


def test_the_admin_login_page_is_allauths(superuser):
    client = Client()
    response = client.get("/admin/login/?next=/admin/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/admin/")
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


def test_a_password_alone_never_opens_the_admin(superuser):
    prepare(superuser)
    secret = enroll_totp(superuser)
    client = Client()
    # The old admin form, posted directly: no session comes of it.
    client.post("/admin/login/?next=/admin/", {"username": superuser.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    # allauth's form with the password: the second factor is asked for, the admin stays shut.
    response = client.post("/accounts/login/", {"login": superuser.email, "password": PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").status_code == 302
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/admin/").status_code == 200


# --- Rate limits on every way in ------------------------------------------------------------------


def attempt(client, email, password, ip):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


TOO_MANY = "Too many failed login attempts"


def test_failed_passwords_are_throttled_per_account_and_address(reporter):
    prepare(reporter)
    attacker = Client()
    for _ in range(5):
        answer = attempt(attacker, reporter.email, "wrong", "10.0.0.9").content.decode()
        assert TOO_MANY not in answer
    # The sixth try from that address is refused, even with the right password ...
    response = attempt(attacker, reporter.email, PASSWORD, "10.0.0.9")
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in attacker.session
    # ... while the owner, elsewhere, is not locked out by somebody else's failures.
    owner = Client()
    assert attempt(owner, reporter.email, PASSWORD, "192.0.2.7").status_code == 302
    assert owner.session["_auth_user_id"] == str(reporter.pk)


def test_failed_passwords_are_throttled_per_address_across_accounts(django_user_model):
    users = [
        django_user_model.objects.create_user(f"u{n}@example.org", f"u{n}@example.org", PASSWORD)
        for n in range(12)
    ]
    for user in users:
        prepare(user)
    client = Client()
    answers = [attempt(client, user.email, "wrong", "10.0.0.10").content.decode() for user in users]
    # allauth: 10 failures a minute per address, whichever accounts they were for.
    assert [TOO_MANY in answer for answer in answers] == [False] * 10 + [True] * 2


def test_wrong_second_factor_codes_are_throttled(maintainer):
    prepare(maintainer)
    secret = enroll_totp(maintainer)
    client = Client()
    client.post("/accounts/login/", {"login": maintainer.email, "password": PASSWORD})
    for _ in range(5):
        client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 200  # the right code, refused after too many wrong ones
    assert "_auth_user_id" not in client.session
    assert Authenticator.objects.filter(user=maintainer).exists()


def test_after_the_gate_the_request_holds_the_user_itself(maintainer, reporter, report):
    """The gate reads the request's user anyway; views and templates then get the user object
    itself, not Django's lazy wrapper (each attribute read through it cost a failed lookup
    first), and still the right one: signed in, signed out, or signed out by a password change.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    client = Client()
    client.sign_in(maintainer)
    seen = client.get("/reports/").wsgi_request.user
    assert type(seen) is get_user_model()
    assert seen == maintainer
    assert type(Client().get("/projects/").wsgi_request.user) is AnonymousUser
    reporter_client, _ = password_only(reporter)
    assert reporter_client.get("/projects/").wsgi_request.user == reporter
    reporter.set_password("another long passphrase 42")
    reporter.save()
    assert type(reporter_client.get("/projects/").wsgi_request.user) is AnonymousUser
