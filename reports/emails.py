"""Outgoing email about reports. Recipients follow visibility: internal content goes to members
only, never to the reporter side. Subjects carry the tracking ID: "[STW-2026-0001] ...".

Messages are written to the outbox (OutboundEmail) in the caller's transaction and delivered by
`deliver_pending` (the deliver_outbox task) after commit: nothing is sent for work that rolled
back, and nothing decided is lost when the mail server is down.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from reports.models import OutboundEmail, ReportUserObjectPermission

logger = logging.getLogger(__name__)


def report_url(report):
    return settings.SITE_URL + reverse("reports:detail", args=[report.tracking_id])


def reporter_side(report):
    """Addresses of the reporter and the collaborators."""
    collaborator_ids = ReportUserObjectPermission.objects.filter(
        content_object=report, permission__codename="view_report"
    ).values("user_id")
    users = get_user_model().objects.filter(pk__in=collaborator_ids, is_active=True)
    return [report.reporter.email, *users.values_list("email", flat=True)]


def members(report):
    users = get_user_model().objects.filter(memberships__project=report.project, is_active=True)
    return list(users.values_list("email", flat=True))


def compose(template, *, report, subject, to, context=None, exclude=None, reminder=None):
    """Unsaved outbox rows: one message per recipient, text and HTML from templates/emails/."""
    recipients = sorted({address for address in to if address and address != exclude})
    context = {"report": report, "url": report_url(report), "site_name": settings.SITE_NAME,
               **(context or {})}  # fmt: skip
    body = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return [
        OutboundEmail(
            report=report,
            reminder=reminder,
            to=address,
            subject=f"[{report.tracking_id}] {subject}",
            body=body,
            html=html,
        )
        for address in recipients
    ]


def compose_for_project(template, *, project, subject, to, context=None):
    """Outbox rows about a project rather than a report (e.g. end of support)."""
    context = {"project": project, "site_name": settings.SITE_NAME,
               "url": settings.SITE_URL + reverse("projects:detail", args=[project.slug]),
               **(context or {})}  # fmt: skip
    body = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return [
        OutboundEmail(to=address, subject=f"[{project.name}] {subject}", body=body, html=html)
        for address in sorted(set(to))
    ]


def send(template, **kwargs):
    """Queue the messages in the outbox and have them delivered after commit."""
    OutboundEmail.objects.bulk_create(compose(template, **kwargs))
    deliver_after_commit()


def deliver_after_commit():
    """Have the outbox delivered once the transaction commits. robust: a broker that is down
    must not fail the request that already committed; beat retries delivery every minute.
    """
    from reports import tasks  # tasks import this module

    transaction.on_commit(tasks.deliver_outbox.delay, robust=True)


def message_id(email):
    """Stable per outbox row: a redelivery after a crash is the same message to mail clients."""
    return f"<outbound-{email.pk}@{urlsplit(settings.SITE_URL).hostname}>"


def deliver_pending(*, batch_size=50, max_attempts=5):
    """Send pending outbox messages; rows locked by another worker are skipped, not waited for.

    Each row is tried at most once per call; failures are counted and retried by the next call
    (beat runs it every minute) until max_attempts.
    """
    delivered, last_id = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                OutboundEmail.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, attempts__lt=max_attempts, pk__gt=last_id)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return delivered
            connection = get_connection()
            for email in batch:
                message = EmailMultiAlternatives(
                    subject=email.subject,
                    body=email.body,
                    to=[email.to],
                    headers={"Message-ID": message_id(email)},
                    connection=connection,
                )
                if email.html:
                    message.attach_alternative(email.html, "text/html")
                try:
                    message.send()
                except Exception as error:  # any mail server failure: count it, retry later
                    logger.warning("delivery of outbound email %s failed: %s", email.pk, error)
                    email.attempts += 1
                    email.last_error = f"{type(error).__name__}: {error}"
                else:
                    email.sent_at = timezone.now()
                    delivered += 1
            OutboundEmail.objects.bulk_update(batch, ["sent_at", "attempts", "last_error"])
            last_id = batch[-1].pk


# Each function below is called by a service inside its transaction: the outbox rows commit or
# roll back with the change they announce.


def new_report(report):
    send("report_received", report=report, subject="Report received", to=[report.reporter.email])
    send(
        "new_report",
        report=report,
        subject=f"New report for {report.project.name}",
        to=members(report),
    )


def event(entry):
    report = entry.report
    audience = members(report) + (reporter_side(report) if entry.public else [])
    send(
        "report_event",
        report=report,
        subject=f"{entry.get_kind_display()}: {report.get_state_display()}",
        to=audience,
        context={"event": entry},
        exclude=entry.actor.email if entry.actor else None,
    )


def comment(note):
    report = note.report
    audience = members(report) + ([] if note.internal else reporter_side(report))
    send(
        "comment",
        report=report,
        subject="Internal note" if note.internal else "New comment",
        to=audience,
        context={"comment": note},
        exclude=note.author.email,
    )


def collaborator_added(report, user):
    send("collaborator_added", report=report, subject="You were added to a report", to=[user.email])


def invitation(invite):
    accept_url = settings.SITE_URL + reverse("reports:accept_invitation", args=[invite.token])
    send(
        "invitation",
        report=invite.report,
        subject=f"Invitation to a {invite.report.project.name} security report",
        to=[invite.email],
        context={
            "accept_url": accept_url,
            "signup_url": settings.SITE_URL + reverse("account_signup"),
        },
    )
