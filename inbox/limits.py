"""Spam defences of the email intake: rate limits per sender and per IP of origin, blocked
senders.

INTERFACE (filled in by the spam work).
"""


def origin_ip(message):
    """The IP address the platform's own MTA received `message` from (its topmost Received
    header, which the sender cannot forge), or None."""
    raise NotImplementedError


def refusal(*, project, sender, origin_ip):
    """Why a new report by email from `sender` (at `origin_ip`) to `project` is refused (a
    sentence for the log and the inbound record), or None when it may be filed."""
    raise NotImplementedError
