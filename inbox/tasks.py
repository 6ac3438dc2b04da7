"""Celery tasks of the email gateway: thin wrappers over its services, idempotent."""

from celery import shared_task

from inbox import imap, retention


@shared_task
def purge_raw_messages():
    return retention.purge_raw_messages()


@shared_task
def poll_mailboxes():
    """Beat, every INBOX_IMAP_POLL_SECONDS: the enabled projects' IMAP mailboxes, once each.
    Returns how many messages were handed to the gateway and moved.
    """
    return sum(result.moved for result in imap.poll_enabled().values())
