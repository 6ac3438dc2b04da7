"""Tasks of the email gateway: thin wrappers over its services."""

from celery import shared_task

from inbox import imap


@shared_task
def poll_mailboxes():
    """Beat, every INBOX_IMAP_POLL_SECONDS: the enabled projects' IMAP mailboxes, once each."""
    return {slug: result.moved for slug, result in imap.poll_enabled().items()}
