"""`manage.py ensure_admin` (make run): the password is the last thing it says, with how to reset
it, so it is not lost above the server's start-up lines."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run():
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue().splitlines()


def test_a_generated_password_is_printed_last_with_how_to_reset_it(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)

    *_, created, hint = run()

    password = created.split(" with password ")[1].split(" ")[0]
    assert created == (
        f"created admin account admin@example.com with password {password} (shown only this once)"
    )
    assert hint == "to set a new password: python manage.py changepassword admin@example.com"
    admin = get_user_model().objects.get(is_superuser=True)
    assert admin.check_password(password)
    assert EmailAddress.objects.get(user=admin).verified


def test_a_password_from_the_environment_is_not_printed(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.org")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")

    lines = run()

    assert "correct horse battery staple" not in "\n".join(lines)
    assert lines[-2:] == [
        "created admin account root@example.org (password from DJANGO_SUPERUSER_PASSWORD)",
        "to set a new password: python manage.py changepassword root@example.org",
    ]


def test_an_existing_admin_is_kept_and_named_for_a_reset(superuser):
    assert run() == [
        "an admin account exists; nothing changed",
        f"to set a new password: python manage.py changepassword {superuser.get_username()}",
    ]
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
