"""OpenPGP in the browser: a reporter adds their public key on the account page (a refused key
says why), sees its fingerprint, removes it; a project with a configured key shows it on its
policy page. The keys are the throwaway fixtures of tests/fixtures/openpgp/.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from mailer.models import OpenPGPKey
from tests.browser.helpers import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openpgp"
GROUPED_REPORTER = "68E4 AA7B 0266 6C2C 9DC4 9643 649B 6672 68CD 3573"
GROUPED_PROJECT = "7B8E 4DA4 B54B 0FD1 2BCB 0915 FE19 E888 EEE9 6E4C"


def fixture(name):
    return (FIXTURES / name).read_text()


def success(page, text):
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible()


def test_a_reporter_adds_checks_and_removes_their_key(page, live_server):
    reporter = UserFactory(email="ada@example.org")
    sign_in(page, live_server, reporter)
    page.get_by_role("link", name=reporter.email).click()
    expect(page.get_by_role("heading", name="OpenPGP key")).to_be_visible()

    # An expired key is refused with the reason, and nothing is kept.
    page.get_by_label("Public key").fill(fixture("expired.pub.asc"))
    page.get_by_role("button", name="Add key").click()
    expect(page.get_by_text("This key has expired")).to_be_visible()
    assert not OpenPGPKey.objects.exists()

    page.get_by_label("Public key").fill(fixture("reporter.pub.asc"))
    page.get_by_role("button", name="Add key").click()
    success(page, f"Saved: notifications to you are now encrypted to the key {GROUPED_REPORTER}.")
    expect(page.locator("#openpgp-fingerprint")).to_have_text(GROUPED_REPORTER)
    expect(page.get_by_role("button", name="Replace key")).to_be_visible()
    assert OpenPGPKey.objects.get().user == reporter

    page.get_by_role("button", name="Remove key").click()
    success(page, "Removed your OpenPGP key: notifications to you are no longer encrypted.")
    expect(page.locator("#openpgp-fingerprint")).to_have_count(0)
    expect(page.get_by_text("Add your OpenPGP public key")).to_be_visible()
    assert not OpenPGPKey.objects.exists()


def test_the_policy_page_offers_the_projects_key(page, live_server, monkeypatch, settings):
    settings.OPENPGP_KEY_DIR = ""
    monkeypatch.setenv("OPENPGP_KEY_STALWART", fixture("project.sec.asc"))
    monkeypatch.setenv("OPENPGP_PASSPHRASE_STALWART", fixture("project.pass"))
    call_command("seed_projects", stdout=io.StringIO())
    page.goto(live_server.url + "/projects/stalwart/")
    line = page.locator("#encryption")
    expect(line).to_contain_text(f"Encrypt your report: OpenPGP key, fingerprint {GROUPED_PROJECT}")
    link = line.get_by_role("link", name="OpenPGP key")
    expect(link).to_have_attribute("href", f"{live_server.url}/projects/stalwart/openpgp.asc")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    assert response.text().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
