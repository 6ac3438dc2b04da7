"""Delivery of the outbox. On the notifications queue (task_routes): a burst of email does not
delay the sweeps. Idempotent: a row is sent once, whoever runs it.
"""

from celery import shared_task

from mailer import outbox


@shared_task
def deliver_outbox():
    return outbox.deliver_pending()
