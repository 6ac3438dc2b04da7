"""inbox.authentication: only the topmost Authentication-Results header of our own MTA counts,
and only a DMARC pass for the From domain vouches for the From address."""

import email
import email.policy

import pytest

from inbox.authentication import dmarc_verified_sender, from_address, parse_results

OURS = "mx.disclosure.example"


@pytest.fixture(autouse=True)
def _trusted(settings):
    settings.INBOX_TRUSTED_AUTHSERV_IDS = [OURS.upper()]  # authserv-ids compare case-blind


def message(*results, sender="Rita <Rita@Example.org>"):
    headers = "".join(f"Authentication-Results: {value}\r\n" for value in results)
    raw = f"{headers}From: {sender}\r\nTo: security@acme.example.org\r\nSubject: Hi\r\n\r\nHi\r\n"
    return email.message_from_bytes(raw.encode(), policy=email.policy.default)


def test_results_are_read_without_comments_and_with_versions():
    value = (
        'mx.disclosure.example 1; spf=pass (sender "is (allowed)") smtp.mailfrom=example.org;'
        " dkim/1=pass header.d=example.org; dmarc=pass (p=reject; dis=none) header.from=Example.org"
    )
    assert parse_results(value) == (
        "mx.disclosure.example",
        [
            ("spf", "pass", {"smtp.mailfrom": "example.org"}),
            ("dkim", "pass", {"header.d": "example.org"}),
            ("dmarc", "pass", {"header.from": "Example.org"}),
        ],
    )


def test_none_vouches_for_nothing():
    assert parse_results("mx.disclosure.example; none") == ("mx.disclosure.example", [])


def test_our_dmarc_pass_for_the_from_domain_vouches_for_the_address():
    passed = message(f"{OURS}; dmarc=pass header.from=example.org")
    assert dmarc_verified_sender(passed) == "rita@example.org"


@pytest.mark.parametrize(
    ("results", "why"),
    [
        ((), "no header"),
        (("mx.attacker.example; dmarc=pass header.from=example.org",), "not our MTA"),
        ((f"{OURS}; dmarc=pass header.from=attacker.example",), "another domain passed"),
        ((f"{OURS}; dmarc=fail header.from=example.org",), "failed"),
        ((f"{OURS}; dmarc=bestguesspass header.from=example.org",), "not a pass"),
        ((f"{OURS}; dmarc=pass",), "no header.from"),
        (
            (f"{OURS}; dmarc=pass header.from=example.org; dmarc=fail header.from=example.org",),
            "a failure beside the pass",
        ),
        (
            (
                f"{OURS}; dmarc=fail header.from=example.org",
                f"{OURS}; dmarc=pass header.from=example.org",
            ),
            "the pass is below ours: the sender wrote it",
        ),
        (
            (f"{OURS} (dmarc=pass header.from=example.org); spf=pass smtp.mailfrom=example.org",),
            "the pass is in a comment",
        ),
    ],
)
def test_nothing_else_vouches_for_the_from_address(results, why):
    assert dmarc_verified_sender(message(*results)) is None, why


def test_with_no_trusted_authserv_id_nothing_vouches(settings):
    settings.INBOX_TRUSTED_AUTHSERV_IDS = []
    assert dmarc_verified_sender(message(f"{OURS}; dmarc=pass header.from=example.org")) is None


@pytest.mark.parametrize(
    "sender", ["a@example.org, b@example.org", "undisclosed-recipients:;", "not an address"]
)
def test_a_from_header_naming_no_single_address_names_nobody(sender):
    assert from_address(message(sender=sender)) is None
