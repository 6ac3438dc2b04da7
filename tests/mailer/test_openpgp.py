"""OpenPGP (mailer.openpgp): reporters' keys, encrypted notifications, projects' private keys and
the decryption of inbound mail. The keys and messages are the throwaway fixtures of
tests/fixtures/openpgp/ (README there).
"""

import email
import email.policy
import tempfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailer import openpgp, outbox
from mailer.models import OpenPGPKey, OutboundEmail
from reports import services
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "openpgp"
REPORTER_FINGERPRINT = "68E4AA7B02666C2C9DC49643649B667268CD3573"
PROJECT_FINGERPRINT = "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C"
SECRET = "SENTINEL-the-parser-overflows-at-offset-4242"


def fixture(name):
    return (FIXTURES / name).read_text()


def fixture_message(name):
    return email.message_from_bytes((FIXTURES / name).read_bytes(), policy=email.policy.default)


@pytest.fixture(autouse=True)
def gpg_homes(settings):
    """A short parent of their own for the gpg homes of each test, to see that none is left."""
    parent = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    settings.OPENPGP_HOME_PARENT = str(parent)
    yield parent
    assert list(parent.iterdir()) == [], "a gpg home (or its agent) outlived its operation"
    parent.rmdir()


@pytest.fixture
def project_key(monkeypatch, settings):
    """The fixture project key configured for the slug "acme" through the environment."""
    settings.OPENPGP_KEY_DIR = ""
    monkeypatch.setenv("OPENPGP_KEY_ACME", fixture("project.sec.asc"))
    monkeypatch.setenv("OPENPGP_PASSPHRASE_ACME", fixture("project.pass"))


def decrypt_as(secret_key_name, ciphertext, passphrase=None):
    """What the holder of a fixture private key reads (their own gpg, not the code under test)."""
    with openpgp.gpg_home() as gpg:
        assert gpg.import_keys(fixture(secret_key_name), passphrase=passphrase).fingerprints
        result = gpg.decrypt(ciphertext, passphrase=passphrase)
    assert result.ok, result.status
    return result.data


# --- A reporter's key ---------------------------------------------------------------------------


def test_a_valid_public_key_gives_its_fingerprint():
    assert openpgp.inspect_public_key(fixture("reporter.pub.asc")) == REPORTER_FINGERPRINT


@pytest.mark.parametrize(
    ("armored", "error"),
    [
        (fixture("sign-only.pub.asc"), "This key cannot encrypt"),
        (fixture("expired.pub.asc"), "This key has expired"),
        (fixture("revoked.pub.asc"), "This key is revoked"),
        (fixture("reporter.sec.asc"), "This is a private key. Paste your public key only"),
        (fixture("reporter.pub.asc") + fixture("project.pub.asc"), "This holds 2 keys"),
        ("my key is on keys.openpgp.org", "No OpenPGP public key found"),
        ("", "No OpenPGP public key found"),
    ],
    ids=["sign-only", "expired", "revoked", "private", "two keys", "no key", "empty"],
)
def test_keys_that_cannot_serve_are_refused_with_the_reason(armored, error):
    with pytest.raises(openpgp.OpenPGPError, match=error):
        openpgp.inspect_public_key(armored)


def test_without_gpg_the_error_is_an_openpgp_error(settings):
    settings.OPENPGP_GPG_BINARY = "/nonexistent/gpg"
    with pytest.raises(openpgp.OpenPGPError, match="gpg cannot run"):
        openpgp.inspect_public_key(fixture("reporter.pub.asc"))


def test_set_key_stores_it_and_replaces_the_earlier_one(reporter):
    openpgp.set_key(user=reporter, armored=fixture("project.pub.asc"))
    openpgp.set_key(user=reporter, armored="\n" + fixture("reporter.pub.asc") + "\n\n")
    key = OpenPGPKey.objects.get(user=reporter)
    assert key.fingerprint == REPORTER_FINGERPRINT
    assert key.armored == fixture("reporter.pub.asc").strip()


def test_an_invalid_key_stores_nothing_and_keeps_the_earlier_one(reporter, stranger):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    with pytest.raises(openpgp.OpenPGPError):
        openpgp.set_key(user=reporter, armored=fixture("expired.pub.asc"))
    with pytest.raises(openpgp.OpenPGPError):
        openpgp.set_key(user=stranger, armored=fixture("revoked.pub.asc"))
    assert list(OpenPGPKey.objects.values_list("user", "fingerprint")) == [
        (reporter.pk, REPORTER_FINGERPRINT)
    ]


def test_remove_key(reporter, stranger):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    openpgp.set_key(user=stranger, armored=fixture("project.pub.asc"))
    openpgp.remove_key(user=reporter)
    assert list(OpenPGPKey.objects.values_list("user", flat=True)) == [stranger.pk]


def test_recipient_keys_match_addresses_whatever_their_case(reporter, stranger):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    keys = openpgp.recipient_keys(["Reporter@Example.ORG", stranger.email, "nobody@example.org"])
    assert keys == {"reporter@example.org": fixture("reporter.pub.asc").strip()}


# --- Encrypted notifications --------------------------------------------------------------------


def test_an_encrypted_notification_decrypts_with_the_reporters_key_and_has_no_plain_copy(
    project, reporter, maintainer, triager, mailoutbox, django_capture_on_commit_callbacks
):
    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    report = file(reporter, project)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(
            report=report, by=maintainer, body=f"Confirmed: {SECRET}.", internal=False,
            by_member=True,
        )  # fmt: skip
    to_reporter = [m for m in mailoutbox if m.to == [reporter.email]]
    # Every message to the reporter is encrypted (the acknowledgment of the filing too).
    assert all(m.message().get_content_type() == "multipart/encrypted" for m in to_reporter)
    (message,) = [
        m for m in to_reporter if m.subject.endswith("New comment from the Acme security team")
    ]
    sent = message.message()
    raw = sent.as_bytes()

    assert sent.get_content_type() == "multipart/encrypted"
    assert sent.get_param("protocol") == "application/pgp-encrypted"
    version, payload = sent.get_payload()
    assert version.get_content_type() == "application/pgp-encrypted"
    assert version.get_payload().strip() == "Version: 1"
    assert payload.get_content_type() == "application/octet-stream"
    ciphertext = payload.get_payload()
    assert ciphertext.startswith("-----BEGIN PGP MESSAGE-----")
    # Nothing of the content in clear: not the comment, not the text or HTML around it.
    assert SECRET.encode() not in raw
    assert b"Confirmed" not in raw
    assert b"text/html" not in raw
    assert b"text/plain" not in raw
    # The headers stay: the subject carries only the tracking ID and generic words.
    assert sent["Subject"] == f"[{report.tracking_id}] New comment from the Acme security team"
    assert sent["To"] == reporter.email
    assert sent["Message-ID"] == outbox.message_id(
        OutboundEmail.objects.get(to=reporter.email, sent_at__isnull=False, subject=sent["Subject"])
    )

    inner = email.message_from_bytes(
        decrypt_as("reporter.sec.asc", ciphertext), policy=email.policy.default
    )
    assert inner.get_content_type() == "multipart/alternative"
    text, html = inner.get_payload()
    assert text.get_content_type() == "text/plain"
    assert f"Confirmed: {SECRET}." in text.get_content()
    assert html.get_content_type() == "text/html"
    assert SECRET in html.get_content()

    # Members without a key get theirs as before, in clear.
    (plain,) = [m for m in mailoutbox if m.to == [triager.email] and SECRET in m.body]
    assert plain.message().get_content_type() == "multipart/alternative"


def test_a_key_that_fails_at_delivery_counts_a_failed_attempt_and_sends_nothing(
    reporter, mailoutbox
):
    # Valid when added, expired since: stored as it was accepted then.
    OpenPGPKey.objects.create(
        user=reporter,
        armored=fixture("expired.pub.asc"),
        fingerprint="8F599DE649B2B2B4076CB665E6DAA702892514D4",
    )
    OutboundEmail.objects.create(to=reporter.email, subject="[ACME-1] News", body=SECRET)
    assert outbox.deliver_pending() == 0
    assert mailoutbox == []
    row = OutboundEmail.objects.get()
    assert row.sent_at is None
    assert row.attempts == 1
    assert row.last_error.startswith(
        "OpenPGPError: the recipient's OpenPGP key cannot encrypt: invalid recipient"
    )
    assert "expired" in row.last_error


def test_delivery_reads_the_keys_once_per_batch(reporter, stranger, mailoutbox):
    def deliver(count):
        for n in range(count):
            for user in (reporter, stranger):
                OutboundEmail.objects.create(to=user.email, subject=f"News {n}", body=SECRET)
        with CaptureQueriesContext(connection) as queries:
            assert outbox.deliver_pending(batch_size=100) == 2 * count
        return len(queries.captured_queries)

    openpgp.set_key(user=reporter, armored=fixture("reporter.pub.asc"))
    assert deliver(1) == deliver(4)
    encrypted = [m for m in mailoutbox if m.to == [reporter.email]]
    assert len(encrypted) == 5
    assert all(SECRET.encode() not in m.message().as_bytes() for m in encrypted)


# --- A project's private key and inbound mail ---------------------------------------------------


def test_a_pgp_mime_message_decrypts_to_its_inner_message(project_key):
    message = fixture_message("encrypted-pgp-mime.eml")
    assert openpgp.is_encrypted(message)
    inner = openpgp.decrypt(message, key_name="acme")
    body = inner.get_body(preferencelist=("plain",)).get_content()
    assert "The IMAP parser of Stalwart overflows on a long literal." in body
    (attachment,) = inner.iter_attachments()
    assert attachment.get_filename() == "poc.py"
    assert attachment.get_content() == "print('proof of concept')\n"


def test_an_inline_armored_message_decrypts_in_place(project_key):
    message = fixture_message("encrypted-inline.eml")
    assert openpgp.is_encrypted(message)
    decrypted = openpgp.decrypt(message, key_name="acme")
    assert decrypted.get_content() == (
        "Hello, my report is encrypted to your key:\n\n"
        "The web admin leaks session tokens in the Referer header.\n\nRita\n"
    )
    assert decrypted["Message-ID"] == "<encrypted-inline@example.com>"
    assert "BEGIN PGP MESSAGE" in message.get_content()  # the original is left as it came


def test_either_email_api_is_understood():
    raw = (FIXTURES / "encrypted-inline.eml").read_bytes()
    assert openpgp.is_encrypted(email.message_from_bytes(raw))  # compat32, the default policy
    raw = (FIXTURES / "encrypted-pgp-mime.eml").read_bytes()
    assert openpgp.is_encrypted(email.message_from_bytes(raw))


def test_plain_messages_are_not_encrypted():
    message = email.message.EmailMessage()
    message.set_content("Hello, here is a report without encryption.")
    assert not openpgp.is_encrypted(message)


def test_without_a_configured_key_decryption_fails_clearly(settings, monkeypatch):
    settings.OPENPGP_KEY_DIR = ""
    monkeypatch.delenv("OPENPGP_KEY_ACME", raising=False)
    with pytest.raises(openpgp.OpenPGPError, match="no OpenPGP private key is configured for acme"):
        openpgp.decrypt(fixture_message("encrypted-pgp-mime.eml"), key_name="acme")


def test_a_message_for_another_key_does_not_decrypt(project_key):
    message = email.message.EmailMessage()
    message.set_content(
        openpgp.encrypt(b"for the reporter only", armored_key=fixture("reporter.pub.asc"))
    )
    with pytest.raises(openpgp.OpenPGPError, match="cannot be decrypted"):
        openpgp.decrypt(message, key_name="acme")


def test_a_wrong_passphrase_does_not_decrypt(project_key, monkeypatch):
    monkeypatch.setenv("OPENPGP_PASSPHRASE_ACME", "not the passphrase")
    with pytest.raises(openpgp.OpenPGPError, match="cannot be decrypted"):
        openpgp.decrypt(fixture_message("encrypted-inline.eml"), key_name="acme")


def test_a_plaintext_over_the_cap_is_refused(project_key, settings):
    settings.OPENPGP_MAX_PLAINTEXT_BYTES = 20  # the inline fixture's plaintext has 58 bytes
    with pytest.raises(openpgp.OpenPGPError, match="its plaintext exceeds 20 bytes"):
        openpgp.decrypt(fixture_message("encrypted-inline.eml"), key_name="acme")


def test_the_key_and_passphrase_may_come_from_files(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENPGP_KEY_MAILTRI_ROUTER", raising=False)
    (tmp_path / "mailtri-router.asc").write_text(fixture("project.sec.asc"))
    (tmp_path / "mailtri-router.pass").write_text(fixture("project.pass") + "\n")
    settings.OPENPGP_KEY_DIR = str(tmp_path)
    decrypted = openpgp.decrypt(fixture_message("encrypted-inline.eml"), key_name="mailtri-router")
    assert "session tokens" in decrypted.get_content()
    assert openpgp.project_public_key("mailtri-router").fingerprint == PROJECT_FINGERPRINT


def test_the_environment_names_a_slug_in_capitals_with_underscores(settings, monkeypatch):
    settings.OPENPGP_KEY_DIR = ""
    monkeypatch.setenv("OPENPGP_KEY_MAILTRI_ROUTER", fixture("project.sec.asc"))
    key = openpgp.project_private_key("mailtri-router")
    assert key.armored == fixture("project.sec.asc").strip()
    assert key.passphrase is None
    assert openpgp.project_private_key("teammail") is None


def test_a_key_name_cannot_reach_outside_the_key_directory(settings, tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "outside.asc").write_text(fixture("project.sec.asc"))
    settings.OPENPGP_KEY_DIR = str(tmp_path / "keys")
    assert openpgp.project_private_key("../outside") is None


def test_the_public_half_of_a_project_key(project_key):
    public = openpgp.project_public_key("acme")
    assert public.fingerprint == PROJECT_FINGERPRINT
    assert public.grouped_fingerprint == "7B8E 4DA4 B54B 0FD1 2BCB 0915 FE19 E888 EEE9 6E4C"
    assert public.armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in public.armored
    assert openpgp.inspect_public_key(public.armored) == PROJECT_FINGERPRINT
