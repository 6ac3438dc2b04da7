"""Replies by email become comments, only when they prove their sender.

INTERFACE (filled in by the replies work).
"""


def handle(*, message, inbound, target, project, tracking_id):
    """Turn the reply `message` into a comment, or answer neutrally.

    message: the parsed email.message.EmailMessage (decrypted when it was encrypted).
    inbound: the unsaved mailer.models.InboundEmail of it; set its outcome, about and detail.
    target: the mailer.replies.ReplyTarget when it went to a reply address, else None.
    project: the project whose intake address it went to (None for a reply address).
    tracking_id: the tracking ID quoted in its subject, when it went to an intake address.
    Runs inside the gateway's transaction.
    """
    raise NotImplementedError
