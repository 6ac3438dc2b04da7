"""OpenPGP on the site: a person's key on the account page, a project's public key (served,
named in security.txt `Encryption:` and on the policy page). The keys are the throwaway
fixtures of tests/fixtures/openpgp/.
"""

import html
import tempfile
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client as CsrfCheckingClient

from mailer import openpgp
from mailer.models import OpenPGPKey
from projects.models import Project
from tests.projects.test_security_txt import NOW, fields, validate

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "openpgp"
PROFILE = "/accounts/profile/"
ADD_KEY = "/accounts/profile/openpgp-key/"
REMOVE_KEY = "/accounts/profile/openpgp-key/remove/"
REPORTER_FINGERPRINT = "68E4AA7B02666C2C9DC49643649B667268CD3573"
GROUPED_REPORTER = "68E4 AA7B 0266 6C2C 9DC4 9643 649B 6672 68CD 3573"
GROUPED_PROJECT = "7B8E 4DA4 B54B 0FD1 2BCB 0915 FE19 E888 EEE9 6E4C"
SITE = "https://disclosure.example.org"


def fixture(name):
    return (FIXTURES / name).read_text()


@pytest.fixture(autouse=True)
def gpg_homes(settings):
    parent = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    settings.OPENPGP_HOME_PARENT = str(parent)
    settings.OPENPGP_KEY_DIR = ""
    yield
    assert list(parent.iterdir()) == [], "a gpg home outlived its operation"
    parent.rmdir()


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- The account page ---------------------------------------------------------------------------


def test_adding_a_key_shows_its_fingerprint_and_encrypts_from_then_on(client, reporter):
    client.sign_in(reporter)
    assert "Add your OpenPGP public key" in page(client, PROFILE)
    response = client.post(ADD_KEY, {"armored": fixture("reporter.pub.asc")}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert messages_of(response) == [
        f"Saved: notifications to you are now encrypted to the key {GROUPED_REPORTER}."
    ]
    seen = html.unescape(response.content.decode())
    assert GROUPED_REPORTER in seen
    assert "Remove key" in seen
    assert openpgp.recipient_keys([reporter.email]) == {
        reporter.email: fixture("reporter.pub.asc").strip()
    }


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("expired.pub.asc", "This key has expired"),
        ("sign-only.pub.asc", "This key cannot encrypt"),
        ("reporter.sec.asc", "This is a private key. Paste your public key only"),
    ],
)
def test_a_key_that_cannot_serve_is_a_form_error_and_nothing_is_stored(
    client, reporter, name, error
):
    client.sign_in(reporter)
    response = client.post(ADD_KEY, {"armored": fixture(name)})
    assert response.status_code == 200
    seen = html.unescape(response.content.decode())
    assert error in seen
    assert 'aria-invalid="true"' in seen or "is-invalid" in seen
    assert not OpenPGPKey.objects.exists()


def test_an_empty_or_oversized_paste_is_refused(client, reporter):
    client.sign_in(reporter)
    assert "This field is required." in page_post(client, ADD_KEY, {"armored": "  "})
    assert "at most 100000 characters" in page_post(client, ADD_KEY, {"armored": "x" * 100_001})
    assert not OpenPGPKey.objects.exists()


def page_post(client, path, data):
    response = client.post(path, data)
    assert response.status_code == 200
    return html.unescape(response.content.decode()).replace(",", "")


def test_removing_the_key(client, reporter, stranger):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    openpgp.set_key(user=stranger, armored=fixture("project.pub.asc"))
    client.sign_in(reporter)
    assert client.get(REMOVE_KEY).status_code == 405  # a button, never a link
    assert OpenPGPKey.objects.filter(user=reporter).exists()
    response = client.post(REMOVE_KEY, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert messages_of(response) == [
        "Removed your OpenPGP key: notifications to you are no longer encrypted."
    ]
    assert GROUPED_REPORTER not in html.unescape(response.content.decode())
    # Only one's own key.
    assert list(OpenPGPKey.objects.values_list("user", flat=True)) == [stranger.pk]


def test_the_page_shows_only_ones_own_key(client, reporter, stranger):
    openpgp.set_key(user=stranger, armored=fixture("project.pub.asc"))
    client.sign_in(reporter)
    assert GROUPED_PROJECT not in page(client, PROFILE)


def test_signed_out_nobody_adds_or_removes_a_key(client, reporter):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    for path, data in ((ADD_KEY, {"armored": fixture("project.pub.asc")}), (REMOVE_KEY, {})):
        response = client.post(path, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert OpenPGPKey.objects.get().fingerprint == REPORTER_FINGERPRINT


def test_adding_and_removing_need_the_csrf_token(reporter):
    openpgp.set_key(user=reporter, armored=fixture("project.pub.asc"))
    client = CsrfCheckingClient(enforce_csrf_checks=True)
    client.force_login(reporter)
    assert client.post(ADD_KEY, {"armored": fixture("reporter.pub.asc")}).status_code == 403
    assert client.post(REMOVE_KEY).status_code == 403
    assert OpenPGPKey.objects.get().fingerprint == GROUPED_PROJECT.replace(" ", "")


# --- A project's public key ---------------------------------------------------------------------


@pytest.fixture
def seeded(settings):
    settings.SITE_URL = SITE
    settings.SECURITY_CONTACT_EMAIL = "security@disclosure.example.org"
    call_command("seed_projects", verbosity=0)


@pytest.fixture
def stalwart_key(monkeypatch):
    """Stalwart's private key configured through the environment."""
    monkeypatch.setenv("OPENPGP_KEY_STALWART", fixture("project.sec.asc"))
    monkeypatch.setenv("OPENPGP_PASSPHRASE_STALWART", fixture("project.pass"))


def test_the_site_serves_the_public_half_of_a_configured_key(client, seeded, stalwart_key):
    response = client.get("/projects/stalwart/openpgp.asc")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pgp-keys"
    served = response.content.decode()
    assert served.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in served
    assert openpgp.group_fingerprint(openpgp.inspect_public_key(served)) == GROUPED_PROJECT


def test_no_key_is_served_without_a_configured_one(client, seeded, stalwart_key):
    assert client.get("/projects/teammail/openpgp.asc").status_code == 404
    assert client.get("/projects/no-such-project/openpgp.asc").status_code == 404
    Project.objects.filter(slug="stalwart").update(active=False)
    assert client.get("/projects/stalwart/openpgp.asc").status_code == 404


@time_machine.travel(NOW)
def test_security_txt_names_the_served_key(client, seeded, stalwart_key):
    text = client.get("/projects/stalwart/security.txt").content.decode()
    assert fields(text)["Encryption"] == [f"{SITE}/projects/stalwart/openpgp.asc"]
    validate(text, f"{SITE}/projects/stalwart/security.txt")
    assert "Encryption" not in fields(
        client.get("/projects/teammail/security.txt").content.decode()
    )


@time_machine.travel(NOW)
def test_a_projects_own_key_url_comes_first(client, seeded, stalwart_key):
    Project.objects.filter(slug="stalwart").update(pgp_key_url="https://stalw.art/security.asc")
    text = client.get("/projects/stalwart/security.txt").content.decode()
    assert fields(text)["Encryption"] == ["https://stalw.art/security.asc"]
    validate(text, f"{SITE}/projects/stalwart/security.txt")
    seen = page(client, "/projects/stalwart/")
    assert 'Encrypt your report: <a href="https://stalw.art/security.asc"' in seen
    # The site shows only a fingerprint it computed from the key it serves itself.
    assert GROUPED_PROJECT not in seen


def test_the_policy_pages_show_the_key_and_its_fingerprint(client, seeded, stalwart_key):
    stalwart = Project.objects.get(slug="stalwart")
    revision = stalwart.revisions.order_by("effective_from").first()
    for path in ("/projects/stalwart/", f"/projects/stalwart/policy/{revision.pk}/"):
        seen = " ".join(page(client, path).split())
        assert (
            f'Encrypt your report: <a href="{SITE}/projects/stalwart/openpgp.asc" '
            f'rel="nofollow noopener noreferrer">OpenPGP key</a>, fingerprint '
            f"<code>{GROUPED_PROJECT}</code>"
        ) in seen
    assert "Encrypt your report" not in page(client, "/projects/teammail/")


def test_an_unreadable_configured_key_is_not_published(client, seeded, monkeypatch):
    monkeypatch.setenv("OPENPGP_KEY_STALWART", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnonsense")
    assert client.get("/projects/stalwart/openpgp.asc").status_code == 404
    assert "Encrypt your report" not in page(client, "/projects/stalwart/")
