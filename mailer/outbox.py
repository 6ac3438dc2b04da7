"""Writing to and delivering from the outbox.

Callers compose messages inside their own transaction (`send`): nothing is sent for work that
rolled back, and nothing decided is lost when the mail server is down. Delivery runs after commit
and again from beat every minute, with a stable Message-ID per row.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mailer.background import enqueue_on_commit
from mailer.models import OutboundEmail

logger = logging.getLogger(__name__)

DELIVER_TASK = "mailer.tasks.deliver_outbox"


def compose(template, *, to, subject, context, about="", dedup_key=None, exclude=None):
    """Unsaved outbox rows: one message per distinct recipient, text and HTML rendered from
    templates/emails/<template>.txt and .html. `exclude` drops one address (the actor's own).
    With `dedup_key`, each recipient's row gets the key plus its address.
    """
    recipients = sorted({address for address in to if address and address != exclude})
    context = {"site_name": settings.SITE_NAME, **context}
    body = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return [
        OutboundEmail(
            about=about,
            dedup_key=f"{dedup_key}:{address}" if dedup_key else None,
            to=address,
            subject=subject,
            body=body,
            html=html,
        )
        for address in recipients
    ]


def send(messages):
    """Store `messages` in the caller's transaction and have them delivered after commit.

    A message whose dedup key is already in the outbox is not stored again.
    """
    if not messages:
        return
    OutboundEmail.objects.bulk_create(messages, ignore_conflicts=True)
    deliver_after_commit()


def deliver_after_commit():
    enqueue_on_commit(DELIVER_TASK)


def message_id(email):
    """Stable per outbox row: a redelivery after a crash is the same message to mail clients."""
    return f"<outbound-{email.pk}@{urlsplit(settings.SITE_URL).hostname}>"


def pending_batch(*, after, max_attempts, batch_size):
    """The next batch of pending rows after id `after`, locked (rows locked by another worker
    are skipped, not waited for).

    Keyset on id in id order, the order of the partial index `outbox_pending_idx` (id WHERE
    sent_at IS NULL): each batch reads `batch_size` index entries from `after` on and sorts
    nothing, so a backlog of N rows costs N/batch_size short scans. `attempts` stays a filter
    (max_attempts is an argument, not a constant a partial index could name); rows that ran out
    of attempts are skipped once per call.
    """
    return (
        OutboundEmail.objects.select_for_update(skip_locked=True)
        .filter(sent_at__isnull=True, attempts__lt=max_attempts, pk__gt=after)
        .order_by("pk")[:batch_size]
    )


def deliver_pending(*, batch_size=50, max_attempts=5):
    """Send pending outbox messages; rows locked by another worker are skipped, not waited for.

    Each row is tried at most once per call; failures are counted and retried by the next call
    (beat runs it every minute) until max_attempts.
    """
    delivered, last_id = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                pending_batch(after=last_id, max_attempts=max_attempts, batch_size=batch_size)
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
