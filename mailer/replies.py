"""Reply addresses: where a reply to a notification routes back, proving who may answer.

INTERFACE (filled in by the mailer-threads work): the address is INBOX_REPLY_ADDRESS with a
plus-part carrying a signed token bound to what the message is about *and* to the recipient's
user id, so a reply proves its sender without trusting From.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplyTarget:
    about: str  # "app.model:pk", as in OutboundEmail.about
    user_id: int
    internal: bool  # the member asked for an internal note by the address's marker


def reply_address(about, user_id, *, internal=False):
    """The address a reply by user `user_id` about `about` goes to."""
    raise NotImplementedError


def read_reply_address(address):
    """The ReplyTarget of a reply address, or None (not a reply address, or a bad signature)."""
    raise NotImplementedError
