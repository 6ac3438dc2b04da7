"""Celery tasks: ids in, one service call. Enqueued with delay_on_commit so a task never sees
uncommitted rows. Every task is idempotent: with acks_late a task may run again after a worker
dies, and running it twice changes nothing more than running it once.
"""

from celery import shared_task

from reports import emails, reminders, services


@shared_task
def deliver_outbox():
    # On the notifications queue (task_routes): a burst of email does not delay the sweeps.
    return emails.deliver_pending()


@shared_task
def sweep_reminders():
    return reminders.sweep()


@shared_task
def remind_end_of_support():
    return reminders.remind_end_of_support()


@shared_task
def compute_cvss(report_id):
    services.compute_cvss(report_id=report_id)


@shared_task
def score_unscored():
    return services.score_unscored()
