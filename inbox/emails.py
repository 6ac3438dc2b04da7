"""Outgoing email of the gateway itself (its answers to senders are written where they are
decided: inbox.gateway, inbox.replies)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from mailer import outbox
from mailer.models import reference


def mailbox_failing(mailbox, *, error):
    """The instance's superusers (who configure mailboxes; else the ADMINS setting) hear when a
    project's IMAP mailbox starts failing: until it is fixed, mail to the project stays on the
    mail server and no report is filed from it. Sent when a failure follows a clean poll, not
    for every failed poll of a streak.
    """
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
    to = [email for email in superusers.values_list("email", flat=True) if email]
    to = to or [address for _, address in settings.ADMINS]
    project = mailbox.project
    outbox.send(
        outbox.compose(
            "mailbox_failing",
            to=to,
            subject=f"[{project.name}] The IMAP mailbox cannot be polled",
            context={
                "project_name": project.name,
                "mailbox": f"{mailbox.username} at {mailbox.host}:{mailbox.port}",
                "error": error,
                "admin_url": settings.SITE_URL
                + reverse("admin:inbox_mailbox_change", args=[mailbox.pk]),
            },
            about=reference(mailbox),
        )
    )
