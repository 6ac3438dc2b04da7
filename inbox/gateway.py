"""The email gateway: one raw RFC 5322 message in, a report, a comment, a neutral answer or
nothing out, with the status an MTA pipe expects.

INTERFACE (filled in by the intake work).
"""

from dataclasses import dataclass

DELIVERED = 0  # EX_OK
UNKNOWN_RECIPIENT = 67  # EX_NOUSER
TEMPORARY_FAILURE = 75  # EX_TEMPFAIL


@dataclass(frozen=True)
class Delivery:
    status: int
    outcome: str = ""  # mailer.models.InboundEmail.Outcome, "" when nothing was stored
    about: str = ""  # the report or comment it became part of, "app.model:pk"


def ingest(raw, *, recipients=None, project=None):
    """Deliver one raw message (bytes).

    recipients: the envelope recipients (an MTA pipe passes them); default: the message's
    Delivered-To, To and Cc headers. project: the project whose IMAP mailbox it came from,
    used when no recipient routes it.
    """
    raise NotImplementedError
