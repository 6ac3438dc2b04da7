"""Celery tasks: ids in, one service call. Services start them after commit by name
(mailer.background.enqueue_on_commit), so a task never sees uncommitted rows and no service
imports this module. Every task is idempotent: with acks_late a task may run again after a
worker dies, and running it twice changes nothing more than running it once.
"""

from celery import shared_task

from reports import services, sweep


@shared_task
def sweep_reminders():
    return sweep.sweep()


@shared_task
def compute_cvss(report_id):
    services.compute_cvss(report_id=report_id)


@shared_task
def score_unscored():
    return services.score_unscored()
