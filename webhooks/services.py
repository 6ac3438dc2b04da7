"""Writes to webhooks: the project admins' hooks (create, change, new secret, delete), redelivery,
and the
outcome of each attempt, which retries with backoff and disables a hook that keeps failing.

Permission is the caller's business (webhooks.access: the project's admins); these own the rules.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mailer.background import enqueue_on_commit
from webhooks import emails, targets
from webhooks.models import EventType, Webhook, WebhookAttempt, WebhookDelivery, new_secret

DELIVER_TASK = "webhooks.tasks.deliver_webhooks"


class WebhookError(Exception):
    """A request the rules refuse; the message is shown to the user."""


def check_url(url):
    """The URL rule of webhooks.targets, as a WebhookError: the one check of a hook's URL,
    whether it is saved by the page or the admin.
    """
    try:
        targets.resolve(url)
    except targets.RefusedTargetError as refused:
        raise WebhookError(str(refused)) from None


def _check_events(events):
    unknown = set(events) - set(EventType.values)
    if unknown or not events:
        raise WebhookError("Choose at least one of the event types.")
    return [value for value in EventType.values if value in events]


@transaction.atomic
def create_webhook(*, project, url, events, internal, by):
    """A hook for `project`, with a new secret; it receives events from now on."""
    check_url(url)
    return Webhook.objects.create(
        project=project,
        url=url,
        events=_check_events(events),
        internal=internal,
        created_by=by,
        created_at=timezone.now(),
    )


@transaction.atomic
def update_webhook(*, webhook, url, events, internal, active, by):
    """Change a hook. Switching on a hook disabled for failing enables it again: its pending
    deliveries go out with the next sweep.
    """
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if url != webhook.url:
        check_url(url)
    webhook.url = url
    webhook.events = _check_events(events)
    webhook.internal = internal
    webhook.active = active
    if active and webhook.disabled_at is not None:
        webhook.disabled_at = None
        webhook.failure_count = 0
    webhook.save()
    return webhook


@transaction.atomic
def rotate_secret(*, webhook, by):
    """Give a hook a new secret, for one that leaked or a receiver that changes hands. Every
    attempt from now on is signed with it, retries of older events too (an attempt is signed
    when it is sent); the old secret verifies nothing any more.
    """
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    return webhook


@transaction.atomic
def delete_webhook(*, webhook, by):
    """Delete a hook and its deliveries log; nothing more is sent to it."""
    Webhook.objects.filter(pk=webhook.pk).delete()


@transaction.atomic
def redeliver(*, delivery, by):
    """Send a delivery again (delivered, failed or pending): the same event id and body, a
    fresh round of attempts, at once (the sweep is started after commit).
    """
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    enqueue_on_commit(DELIVER_TASK)
    return delivery


def backoff(attempts):
    """The wait before the next attempt after `attempts` failed ones: doubling from
    WEBHOOK_RETRY_BASE_SECONDS, at most WEBHOOK_RETRY_MAX_SECONDS.
    """
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def record_attempt(delivery, *, answer, error, now):
    """Save one attempt's outcome on the delivery and in its attempts log (inside the sweep's
    transaction, the row locked). A failure is retried after `backoff` until
    WEBHOOK_MAX_ATTEMPTS, and counts against the hook: after WEBHOOK_MAX_FAILURES failures in a
    row it is disabled and its admins are told. Returns False
    when this attempt disabled the hook.
    """
    outcome = {
        "status_code": answer.status_code if answer else None,
        "duration_ms": answer.duration_ms if answer else None,
        "response_excerpt": answer.excerpt if answer else "",
        "error": error,
    }
    WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, **outcome)
    for field, value in outcome.items():
        setattr(delivery, field, value)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    hooks = Webhook.objects.filter(pk=delivery.webhook_id)
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.save()
        hooks.filter(failure_count__gt=0).update(failure_count=0)
        return True
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save()
    hooks.update(failure_count=F("failure_count") + 1)
    # One sweep disables it: the row lock makes a concurrent one see disabled_at set.
    disabled = hooks.filter(
        failure_count__gte=settings.WEBHOOK_MAX_FAILURES, disabled_at__isnull=True
    ).update(disabled_at=now)
    if disabled:
        hook = delivery.webhook
        hook.disabled_at = now
        emails.webhook_disabled(hook, error=error)
        return False
    return True
