"""Reading messages: tracking IDs in subjects, the platform's own Message-IDs, HTML as text,
file names a sender cannot use to climb out of a directory."""

import email
import email.policy

import pytest

from inbox import parse


@pytest.mark.parametrize(
    ("subject", "found"),
    [
        ("Re: [STW-2026-0001] Acknowledged", "STW-2026-0001"),
        ("Re: stw-2026-0012 more details", "STW-2026-0012"),
        ("Question about MTR-2026-00042", "MTR-2026-00042"),
        ("Open relay in 0.13.2", None),
        ("XSTW-2026-0001x", None),
        ("", None),
    ],
)
def test_tracking_id_in_subject(subject, found):
    assert parse.tracking_id_in(subject) == found


def test_own_message_ids_are_those_of_this_sites_outbox(settings):
    settings.SITE_URL = "https://disclosure.example"

    assert parse.own_message_id("<outbound-42@disclosure.example>")
    assert not parse.own_message_id("<outbound-42@elsewhere.example>")
    assert not parse.own_message_id("<outbound-x@disclosure.example>")
    assert not parse.own_message_id("<42@disclosure.example>")


def test_attachment_names_lose_their_directories():
    raw = (
        b"From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nSee the files.\n--b\n"
        b"Content-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\n\nroot\n--b\n'
        b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n"
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)

    files = parse.attachments(message)

    assert [(upload.name, upload.read()) for upload in files] == [
        ("passwd", b"root"),
        ("attachment-2.png", b"\x89PNG\r\n\x1a\n"),
    ]
    assert parse.body_text(message) == "See the files."
