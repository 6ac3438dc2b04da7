"""Reply addresses (mailer.replies): a reply proves its sender by the address it went to, an
address signed for one report *and* one user, with the members' internal marker signed too.
"""

import re

import pytest
from django.utils.crypto import salted_hmac

from mailer.replies import SALT, ReplyTarget, read_reply_address, reply_address

ABOUT = "reports.report:42"


@pytest.fixture(autouse=True)
def _inbox(settings):
    settings.INBOX_REPLY_ADDRESS = "reply@disclosure.example.org"
    settings.SECRET_KEY = "a-secret-key-for-the-reply-address-tests-only-0123456789"


def test_a_reply_address_reads_back_to_what_it_was_made_for():
    address = reply_address(ABOUT, 7)
    assert address.startswith("reply+")
    assert address.endswith("@disclosure.example.org")
    assert read_reply_address(address) == ReplyTarget(about=ABOUT, user_id=7, internal=False)


def test_the_internal_address_reads_back_as_internal():
    address = reply_address(ABOUT, 7, internal=True)
    assert address.startswith("reply+internal-")
    assert read_reply_address(address) == ReplyTarget(about=ABOUT, user_id=7, internal=True)
    assert address != reply_address(ABOUT, 7)


def test_addresses_handed_out_before_stay_the_same():
    """The signature is salted_hmac's (SHA-256, SECRET_KEY, the module's salt), however it is
    computed: replies to mail sent by an earlier release keep arriving.
    """
    for user_id, internal, marker in ((7, False, ""), (123456, True, "internal-")):
        value = f"{ABOUT}|{user_id}|{'internal' if internal else 'public'}"
        signature = salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:20]
        assert reply_address(ABOUT, user_id, internal=internal) == (
            f"reply+{marker}reports.report.42.{user_id}.{signature}@disclosure.example.org"
        )


def test_the_address_is_a_short_lower_case_unquoted_local_part():
    for address in (reply_address(ABOUT, 123456), reply_address(ABOUT, 123456, internal=True)):
        local = address.split("@")[0]
        assert len(local) <= 64  # RFC 5321's limit for a local part
        assert re.fullmatch(r"[a-z0-9._+-]+", local), local
        assert ".." not in local
        assert not local.endswith(".")


def test_an_address_survives_an_mta_that_changes_its_case():
    address = reply_address(ABOUT, 7, internal=True)
    target = ReplyTarget(about=ABOUT, user_id=7, internal=True)
    assert read_reply_address(address.upper()) == target
    assert read_reply_address(f"Someone <{address.upper()}>") == target


def tampered(address, old, new):
    changed = address.replace(old, new, 1)
    assert changed != address
    return changed


def test_another_report_or_user_in_the_same_token_reads_as_nothing():
    address = reply_address(ABOUT, 7)
    assert read_reply_address(tampered(address, ".report.42.", ".report.43.")) is None
    assert read_reply_address(tampered(address, ".42.7.", ".42.8.")) is None
    assert read_reply_address(tampered(address, ".42.7.", ".42.07.")) is None
    assert read_reply_address(tampered(address, "reports.report", "reports.comment")) is None


def test_a_changed_signature_or_marker_reads_as_nothing():
    address = reply_address(ABOUT, 7)
    signature = address.split("@")[0].rsplit(".", 1)[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert read_reply_address(tampered(address, signature, flipped)) is None
    assert read_reply_address(tampered(address, signature, signature[:-1])) is None
    # The marker is signed: a reporter cannot turn a reply into an internal note, nor a member
    # an internal address into a public one.
    assert read_reply_address(tampered(address, "reply+", "reply+internal-")) is None
    internal = reply_address(ABOUT, 7, internal=True)
    assert read_reply_address(tampered(internal, "internal-", "")) is None


def test_a_signature_made_with_another_secret_reads_as_nothing(settings):
    address = reply_address(ABOUT, 7)
    settings.SECRET_KEY = "another-secret-key-0123456789-0123456789-0123456789"
    assert read_reply_address(address) is None


def test_after_a_key_rotation_addresses_signed_with_a_fallback_key_still_read(settings):
    old_key = settings.SECRET_KEY
    address = reply_address(ABOUT, 7, internal=True)
    settings.SECRET_KEY = "the-new-secret-key-0123456789-0123456789-0123456789"
    settings.SECRET_KEY_FALLBACKS = ["an-older-key-0123456789-0123456789-0123456789", old_key]

    assert read_reply_address(address) == ReplyTarget(about=ABOUT, user_id=7, internal=True)
    # New mail is signed with the new key only.
    assert reply_address(ABOUT, 7, internal=True) != address
    settings.SECRET_KEY_FALLBACKS = []
    assert read_reply_address(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "reply@disclosure.example.org",
        "security@disclosure.example.org",
        "security+stalwart@disclosure.example.org",
        "",
        "not an address",
        "reply+reports.report.42.7@disclosure.example.org",
    ],
)
def test_other_addresses_read_as_nothing(address):
    assert read_reply_address(address) is None


def test_the_same_token_at_another_domain_or_mailbox_reads_as_nothing():
    address = reply_address(ABOUT, 7)
    assert read_reply_address(tampered(address, "@disclosure.example.org", "@evil.example")) is None
    assert read_reply_address(tampered(address, "reply+", "security+")) is None


@pytest.mark.parametrize("about", ["Reports.Report:1", "reports.report:1.2", "reports:1", "x"])
def test_a_reference_an_address_cannot_carry_is_refused(about):
    with pytest.raises(ValueError, match="reply address"):
        reply_address(about, 7)
