"""Reply addresses: where a reply to a notification routes back, proving who may answer.

The address is INBOX_REPLY_ADDRESS with a plus-part carrying what the message is about, the
recipient's user id and a signature binding both, so a reply proves its sender without trusting
From: only the person a notification went to knows its reply address.

    reply+reports.report.42.7.3f0c9a1b2d4e5f607182@disclosure.example.org
    reply+internal-reports.report.42.7.9be1c0a4d27f3e5c6b80@disclosure.example.org
          ^marker  ^about (":" -> ".") ^user ^signature (80 bits of HMAC-SHA256, hex)

- Everything is lower-case letters, digits, "." , "-" and "_": valid in an unquoted local part,
  and unchanged when an MTA lower-cases local parts (reading lower-cases the address first).
- The signature is salted_hmac (SECRET_KEY, a salt of its own) over about, user id *and* the
  internal marker. The marker is inside the signature on purpose: only the addresses the
  platform hands out carry it (to members, see reports.emails), so nobody turns a public reply
  into an internal note or back by editing the address. The inbox still checks, when the reply
  arrives, that the user may see the report and may write internal notes (roles change).
- Rotating SECRET_KEY: addresses signed with a key in SECRET_KEY_FALLBACKS are still read, so
  replies to mail sent before keep arriving until the old key leaves the fallbacks.
"""

import functools
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "mailer.replies.reply_address"
INTERNAL_MARKER = "internal-"
SIGNATURE_LENGTH = 20  # hex digits: 80 bits, out of reach of guessing by mail
# about as "app_label.model:pk": a label of two dot-free parts, a pk of address-safe characters.
ABOUT = re.compile(r"^([a-z0-9_]+\.[a-z0-9_]+):([a-z0-9_-]+)$")
TOKEN = re.compile(
    rf"^(?P<internal>{INTERNAL_MARKER})?(?P<label>[a-z0-9_]+\.[a-z0-9_]+)\.(?P<pk>[a-z0-9_-]+)"
    rf"\.(?P<user_id>0|[1-9][0-9]*)\.(?P<signature>[0-9a-f]{{{SIGNATURE_LENGTH}}})$"
)


@dataclass(frozen=True)
class ReplyTarget:
    about: str  # "app.model:pk", as in OutboundEmail.about
    user_id: int
    internal: bool  # the member asked for an internal note by the address's marker


def _inbox():
    local, _, domain = settings.INBOX_REPLY_ADDRESS.lower().rpartition("@")
    return local, domain


def _signature(about, user_id, internal, signer):
    """salted_hmac(SALT, value, secret, algorithm="sha256"), hex, cut to SIGNATURE_LENGTH;
    `signer`: `_signer(secret)`.
    """
    value = f"{about}|{user_id}|{'internal' if internal else 'public'}"
    signer = signer.copy()
    signer.update(value.encode())
    return signer.hexdigest()[:SIGNATURE_LENGTH]


@functools.lru_cache(maxsize=8)
def _signer(secret):
    """The HMAC salted_hmac makes for SALT and `secret`, before any message: its key derived
    once per secret rather than once per address (a sweep signs tens of thousands).
    """
    return salted_hmac(SALT, b"", secret=secret, algorithm="sha256")


def reply_address(about, user_id, *, internal=False):
    """The address a reply by user `user_id` about `about` goes to; `internal`: the member's
    address for internal notes. `about` must be lower-case "app_label.model:pk" (as
    mailer.models.reference makes it, with an integer or slug-like pk).
    """
    return reply_addresses(about)(user_id, internal=internal)


def reply_addresses(about):
    """`reply_address` of `about` for many users (the recipients of one message): the
    reference is checked and the settings (the key) are read once. Returns f(user_id,
    internal=False).
    """
    match = ABOUT.match(about)
    if match is None:
        raise ValueError(f"not a reference a reply address can carry: {about!r}")
    label, pk = match.groups()
    local, domain = _inbox()
    signer = _signer(settings.SECRET_KEY)

    def address(user_id, *, internal=False):
        user_id = int(user_id)
        marker = INTERNAL_MARKER if internal else ""
        token = f"{marker}{label}.{pk}.{user_id}.{_signature(about, user_id, internal, signer)}"
        return f"{local}+{token}@{domain}"

    return address


def read_reply_address(address):
    """The ReplyTarget of a reply address, or None: another address, another domain, no token,
    a token that does not parse or whose signature does not match what it names.
    """
    _, address = parseaddr(address or "")
    local_part, _, domain = address.strip().lower().rpartition("@")
    inbox_local, inbox_domain = _inbox()
    base, plus, token = local_part.partition("+")
    if not plus or base != inbox_local or domain != inbox_domain:
        return None
    match = TOKEN.match(token)
    if match is None:
        return None
    about = f"{match['label']}:{match['pk']}"
    user_id, internal = int(match["user_id"]), bool(match["internal"])
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(
        constant_time_compare(
            match["signature"], _signature(about, user_id, internal, _signer(key))
        )
        for key in keys
    ):
        return None
    return ReplyTarget(about=about, user_id=user_id, internal=internal)
