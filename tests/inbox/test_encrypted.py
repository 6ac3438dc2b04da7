"""Encrypted messages are decrypted with the project's key (mailer.openpgp, Debian's gpg and the
throwaway fixture keys of tests/fixtures/openpgp) before anything reads them; one that cannot be
decrypted gets a short answer naming where the key is, and files nothing.
"""

import shutil
import zlib
from pathlib import Path

import pytest

from inbox import gateway
from mailer.models import InboundEmail, OutboundEmail
from reports.models import Attachment, Report
from tests.inbox.conftest import deliver, message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openpgp"
PGP_MIME = (FIXTURES / "encrypted-pgp-mime.eml").read_bytes()
INLINE = (FIXTURES / "encrypted-inline.eml").read_bytes()
TO_STALWART = ["security@stalw.art"]


@pytest.fixture
def stalwart_key(settings, tmp_path):
    """Stalwart's private key (the fixture project key) configured in a key directory."""
    keys = tmp_path / "keys"
    keys.mkdir()
    shutil.copy(FIXTURES / "project.sec.asc", keys / "stalwart.asc")
    shutil.copy(FIXTURES / "project.pass", keys / "stalwart.pass")
    settings.OPENPGP_KEY_DIR = str(keys)


def test_pgp_mime_report_is_decrypted_with_the_project_key_then_filed(seeded, stalwart_key):
    delivery = deliver(PGP_MIME, recipients=TO_STALWART)

    assert delivery.outcome == InboundEmail.Outcome.REPORT
    report = Report.objects.get()
    assert report.project == seeded["stalwart"]
    # The outer subject is "..." (the real one travels encrypted, or not at all): the title
    # comes from the text.
    assert report.title == "The IMAP parser of Stalwart overflows on a long literal."
    assert report.description == (
        "The IMAP parser of Stalwart overflows on a long literal.\n\n"
        "Steps: send A1 APPEND {4294967295}."
    )
    assert list(Attachment.objects.values_list("name", flat=True)) == ["poc.py"]
    assert report.reporter.email == "reporter@example.com"
    # The raw message kept for audit is the encrypted one, as it arrived.
    assert b"-----BEGIN PGP MESSAGE-----" in zlib.decompress(InboundEmail.objects.get().raw)


def test_inline_encrypted_report_is_decrypted(seeded, stalwart_key):
    deliver(INLINE, recipients=TO_STALWART)

    report = Report.objects.get()
    assert report.title == "Vulnerability report"
    assert report.description == (
        "Hello, my report is encrypted to your key:\n\n"
        "The web admin leaks session tokens in the Referer header.\n\n"
        "Rita"
    )


def test_undecryptable_message_files_nothing_and_says_where_the_key_is(seeded):
    # No private key is configured for Stalwart.
    delivery = deliver(PGP_MIME, recipients=TO_STALWART)

    assert delivery.status == gateway.DELIVERED
    assert delivery.outcome == InboundEmail.Outcome.NEUTRAL
    assert InboundEmail.objects.get().detail.startswith("undecryptable: ")
    assert not Report.objects.exists()
    assert not Attachment.objects.exists()
    answer = OutboundEmail.objects.get()
    assert answer.to == "reporter@example.com"
    assert answer.subject == "Your message could not be decrypted"
    assert answer.body == (
        "Your message could not be decrypted, so it was not read and nothing was filed.\n\n"
        "Stalwart publishes no key here; its security policy says how to ask for one.\n"
        "Security policy: https://disclosure.example/projects/stalwart/\n\n"
        "--\nDisclosure\n"
    )


def test_undecryptable_answer_links_the_published_key(seeded):
    seeded["stalwart"].pgp_key_url = "https://stalw.art/security.asc"
    seeded["stalwart"].save()

    deliver(INLINE, recipients=TO_STALWART)

    answer = OutboundEmail.objects.get()
    assert "Encrypt it to the key of Stalwart: https://stalw.art/security.asc\n" in answer.body


def test_undecryptable_message_from_a_refused_sender_gets_no_answer(seeded, settings):
    settings.INBOX_REPORTS_PER_SENDER_PER_HOUR = 1
    earlier = message("plain").replace(b"Ada Lovelace <Ada@Example.org>", b"<reporter@example.com>")
    assert deliver(earlier).outcome == InboundEmail.Outcome.REPORT  # the hour's one report
    OutboundEmail.objects.all().delete()

    delivery = deliver(PGP_MIME, recipients=TO_STALWART)

    assert delivery.outcome == InboundEmail.Outcome.REFUSED
    assert not OutboundEmail.objects.exists()


def test_undecryptable_answer_links_the_key_the_site_serves(seeded, settings, tmp_path):
    """Stalwart's configured key is not the one the message was encrypted to: the answer names
    the key the site serves for Stalwart (no pgp_key_url is set), where the sender gets the
    right one."""
    keys = tmp_path / "keys"
    keys.mkdir()
    shutil.copy(FIXTURES / "reporter.sec.asc", keys / "stalwart.asc")
    settings.OPENPGP_KEY_DIR = str(keys)

    deliver(PGP_MIME, recipients=TO_STALWART)

    assert not Report.objects.exists()
    answer = OutboundEmail.objects.get()
    assert (
        "Encrypt it to the key of Stalwart: "
        "https://disclosure.example/projects/stalwart/openpgp.asc\n" in answer.body
    )
