"""The Site row follows SITE_URL and SITE_NAME (disclosure.sites, run by seed_projects), so
allauth's emails name this instance instead of "example.com"."""

import io

import pytest
from django.contrib.sites.models import Site
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_projects_names_the_site_after_the_settings(settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    settings.SITE_NAME = "Acme Disclosure"
    out = io.StringIO()

    call_command("seed_projects", stdout=out)

    assert "site is now 127.0.0.1:8123 (Acme Disclosure)" in out.getvalue()
    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("127.0.0.1:8123", "Acme Disclosure")
    again = io.StringIO()
    call_command("seed_projects", stdout=again)
    assert "site" not in again.getvalue()
    assert "nothing changed" in again.getvalue()


def test_a_missing_site_row_is_created(settings):
    Site.objects.all().delete()
    settings.SITE_URL = "https://disclosure.example.org"
    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert "created site disclosure.example.org" in out.getvalue()
    assert Site.objects.get(pk=settings.SITE_ID).domain == "disclosure.example.org"


def test_allauth_emails_name_the_instance_not_example_com(client, settings, mailoutbox):
    settings.SITE_URL = "http://127.0.0.1:8123"
    settings.SITE_NAME = "Acme Disclosure"
    call_command("seed_projects", stdout=io.StringIO())
    UserFactory(email="someone@example.org")

    client.post("/accounts/password/reset/", {"email": "someone@example.org"})

    (email,) = mailoutbox
    assert "Acme Disclosure" in email.subject + email.body
    assert "example.com" not in email.subject + email.body
