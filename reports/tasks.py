"""Celery tasks: ids in, one call to the emails module. Enqueued on commit by the services."""

from celery import shared_task

from reports import emails


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
