import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_signup_uses_the_email_and_requires_verification(client, mailoutbox):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert 'name="username"' not in page.content.decode()

    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email="new@example.org")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.org"]
    # allauth's mail is the platform's too: generated, no automatic answers (RFC 3834).
    confirmation = mailoutbox[0].message()
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert confirmation["X-Auto-Response-Suppress"] == "All"

    # Not signed in until the address is verified.
    client.logout()
    response = client.post("/accounts/login/", {"login": "new@example.org", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+)", mailoutbox[-1].body)
    client.post(link.group(1))
    assert EmailAddress.objects.get(user=user).verified
    response = client.post("/accounts/login/", {"login": "new@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_a_wrong_password_shows_an_error(client, reporter):
    response = client.post("/accounts/login/", {"login": reporter.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_account_pages_use_the_site_layout(client, url):
    body = client.get(url).content.decode()
    assert "vendor/bootstrap/css/bootstrap.min.css" in body
    assert 'href="/"' in body  # site navigation
    assert "form-control" in body


def test_password_reset_sends_an_email(client, reporter, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": reporter.email})
    assert response.status_code == 302
    assert mailoutbox[0].to == [reporter.email]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_logout_needs_a_post(client, reporter):
    client.sign_in(reporter)
    client.get("/accounts/logout/")
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_two_factor_page_is_available_to_signed_in_users(client, reporter):
    assert client.get("/accounts/2fa/").status_code == 302  # anonymous: to login
    client.sign_in(reporter)
    response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    assert "Authenticator" in response.content.decode()


def test_navigation_shows_admin_link_only_to_staff(client, reporter, superuser):
    anonymous = client.get("/").content.decode()
    assert "Sign in" in anonymous
    assert "/admin/" not in anonymous
    client.sign_in(reporter)
    signed_in = client.get("/").content.decode()
    assert "Sign out" in signed_in
    assert "reporter@example.org" in signed_in
    assert "/admin/" not in signed_in
    client.sign_in(superuser)
    assert 'href="/admin/"' in client.get("/").content.decode()
