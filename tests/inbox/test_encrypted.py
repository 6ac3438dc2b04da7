"""Encrypted messages are decrypted with the project's key before anything reads them; one that
cannot be decrypted gets a short answer naming where the key is, and files nothing.

mailer.openpgp is the OpenPGP helper's: stood in here (the lead removes these patches after
merge); the round trip with real keys is that helper's test.
"""

import email
import email.policy

import pytest

from inbox import gateway
from mailer import openpgp
from mailer.models import InboundEmail, OutboundEmail
from reports.models import Report
from tests.inbox.conftest import deliver, message

pytestmark = pytest.mark.django_db

PLAIN = message("plain")  # what the encrypted message below holds

CIPHERTEXT = b"""Return-Path: <ada@example.org>
From: Ada Lovelace <ada@example.org>
To: security@stalw.art
Subject: Encrypted report
Message-ID: <encrypted-1@mail.example.org>
MIME-Version: 1.0
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"

--enc
Content-Type: application/pgp-encrypted

Version: 1

--enc
Content-Type: application/octet-stream; name="encrypted.asc"

-----BEGIN PGP MESSAGE-----

hQEMA1234567890ABCDEF
-----END PGP MESSAGE-----

--enc--
"""


def is_encrypted(message):
    return message.get_content_type() == "multipart/encrypted"


def test_encrypted_message_is_decrypted_with_the_project_key_then_filed(seeded, monkeypatch):
    keys = []

    def decrypt(message, *, key_name):
        keys.append(key_name)
        return email.message_from_bytes(PLAIN, policy=email.policy.default)

    monkeypatch.setattr(openpgp, "is_encrypted", is_encrypted)
    monkeypatch.setattr(openpgp, "decrypt", decrypt)

    delivery = deliver(CIPHERTEXT)

    assert keys == ["stalwart"]
    assert delivery.outcome == InboundEmail.Outcome.REPORT
    report = Report.objects.get()
    assert report.title == "Open relay in the SMTP submission listener"
    assert "relays mail for unauthenticated" in report.description


def test_without_protected_headers_the_outer_subject_names_the_report(seeded, monkeypatch):
    inner = b"Content-Type: text/plain; charset=utf-8\n\nThe relay accepts any sender.\n"
    monkeypatch.setattr(openpgp, "is_encrypted", is_encrypted)
    monkeypatch.setattr(
        openpgp,
        "decrypt",
        lambda message, *, key_name: email.message_from_bytes(inner, policy=email.policy.default),
    )

    deliver(CIPHERTEXT)

    report = Report.objects.get()
    assert (report.title, report.description) == (
        "Encrypted report",
        "The relay accepts any sender.",
    )


def test_undecryptable_message_files_nothing_and_says_where_the_key_is(seeded, monkeypatch):
    def decrypt(message, *, key_name):
        raise openpgp.OpenPGPError("no secret key")

    monkeypatch.setattr(openpgp, "is_encrypted", is_encrypted)
    monkeypatch.setattr(openpgp, "decrypt", decrypt)

    delivery = deliver(CIPHERTEXT)

    assert delivery.status == gateway.DELIVERED
    assert delivery.outcome == InboundEmail.Outcome.NEUTRAL
    assert InboundEmail.objects.get().detail == "undecryptable: no secret key"
    assert not Report.objects.exists()
    answer = OutboundEmail.objects.get()
    assert answer.to == "ada@example.org"
    assert answer.subject == "Your message could not be decrypted"
    assert answer.body == (
        "Your message could not be decrypted, so it was not read and nothing was filed.\n\n"
        "Stalwart publishes no key here; its security policy says how to ask for one.\n"
        "Security policy: https://disclosure.example/projects/stalwart/\n\n"
        "--\nDisclosure\n"
    )


def test_undecryptable_answer_links_the_published_key(seeded, monkeypatch):
    def decrypt(message, *, key_name):
        raise openpgp.OpenPGPError("bad packet")

    monkeypatch.setattr(openpgp, "is_encrypted", is_encrypted)
    monkeypatch.setattr(openpgp, "decrypt", decrypt)
    seeded["stalwart"].pgp_key_url = "https://stalw.art/security.asc"
    seeded["stalwart"].save()

    deliver(CIPHERTEXT)

    answer = OutboundEmail.objects.get()
    assert "Encrypt it to the key of Stalwart: https://stalw.art/security.asc\n" in answer.body
    assert "relay" not in answer.body.lower()


def cannot_decrypt(message, *, key_name):
    raise openpgp.OpenPGPError("no key")


def test_undecryptable_message_from_a_refused_sender_gets_no_answer(seeded, monkeypatch):
    from inbox import limits

    # inbox.limits is the spam helper's; here it refuses the sender.
    monkeypatch.setattr(openpgp, "is_encrypted", is_encrypted)
    monkeypatch.setattr(openpgp, "decrypt", cannot_decrypt)
    monkeypatch.setattr(
        limits, "refusal", lambda *, project, sender, origin_ip: "Too many messages."
    )

    delivery = deliver(CIPHERTEXT)

    assert delivery.outcome == InboundEmail.Outcome.REFUSED
    assert InboundEmail.objects.get().detail == "Too many messages."
    assert not OutboundEmail.objects.exists()
