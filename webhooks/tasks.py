"""Celery tasks of webhooks: one service call each, idempotent (acks_late may run them twice)."""

from celery import shared_task

from webhooks import sweep


@shared_task
def sweep_webhooks():
    """Beat: new events into deliveries, then the due deliveries sent."""
    return sweep.sweep()


@shared_task
def deliver_webhooks():
    """After a redelivery: the due deliveries sent, without waiting for beat."""
    return sweep.deliver_due()
