"""Celery tasks of the email gateway: thin wrappers over its services, idempotent."""

from celery import shared_task

from inbox import retention


@shared_task
def purge_raw_messages():
    return retention.purge_raw_messages()
