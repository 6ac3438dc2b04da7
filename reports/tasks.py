"""Celery tasks: ids in, one service call. Enqueued with delay_on_commit so a task never sees
uncommitted rows. Every task is idempotent: with acks_late a task may run again after a worker
dies, and running it twice changes nothing more than running it once.
"""

from celery import shared_task

from reports import emails, reminders, services

# Notifications go to their own queue (task_routes in settings) so a burst of email does not
# delay the sweeps.


@shared_task
def notify_new_report(report_id):
    emails.new_report(report_id)


@shared_task
def notify_event(event_id):
    emails.event(event_id)


@shared_task
def notify_comment(comment_id):
    emails.comment(comment_id)


@shared_task
def notify_collaborator_added(report_id, user_id):
    emails.collaborator_added(report_id, user_id)


@shared_task
def send_invitation(invitation_id):
    emails.invitation(invitation_id)


@shared_task
def deliver_outbox():
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
