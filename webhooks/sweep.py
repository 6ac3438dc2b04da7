"""The webhook sweep (beat, every WEBHOOK_SWEEP_SECONDS): events into delivery rows, then the
due rows sent.

Collecting: each source of events (webhooks.events.SOURCES) is read by id after its cursor, in
batches, under the cursor's row lock (a second sweep skips collecting). Each event becomes one
WebhookDelivery per active hook of its project that subscribed to its type and existed when it
happened (internal comments: internal hooks only), inserted with the unique (hook, event id) so
reading an event twice stores nothing twice. Ids are given at insert but rows become visible at
commit, so a row with a lower id may still appear after a higher one was read: the cursor only
moves past events older than WEBHOOK_EVENT_SETTLE_SECONDS (services commit within seconds), and
the younger ones are read again by the next sweep.

Sending: due pending rows are locked in batches (SELECT ... FOR UPDATE SKIP LOCKED: two sweeps
never send the same row at once), POSTed, and their outcome saved in the batch's transaction.
A worker killed mid-batch rolls it back: those rows are sent again by the next sweep, with the
same event id (at-least-once; receivers dedupe by X-Disclosure-Event-Id).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import services, signing, targets
from webhooks.events import SOURCES
from webhooks.models import Webhook, WebhookCursor, WebhookDelivery

logger = logging.getLogger(__name__)


def sweep(*, now=None):
    """Collect new events, then send what is due; returns how many attempts were made."""
    collect(now=now or timezone.now())
    return deliver_due(now=now)


# --- Collecting -----------------------------------------------------------------------------


def collect(*, now, batch_size=None):
    """Turn every new event of every source into deliveries; returns how many rows were stored."""
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE * 10
    stored = 0
    for source in SOURCES:
        WebhookCursor.objects.get_or_create(source=source.name)
        while True:
            with transaction.atomic():
                done, count = _collect_batch(source, now=now, batch_size=batch_size)
            stored += count
            if done:
                break
    return stored


def _collect_batch(source, *, now, batch_size):
    """One batch of `source` after its cursor; (whether this was the last batch, rows stored)."""
    cursor = (
        WebhookCursor.objects.select_for_update(skip_locked=True).filter(source=source.name).first()
    )
    if cursor is None:
        return True, 0  # another sweep is collecting from this source
    rows = list(
        source.model.objects.filter(pk__gt=cursor.position)
        .order_by("pk")
        .values_list("pk", "created_at", "report__project_id")[:batch_size]
    )
    if not rows:
        return True, 0
    hooks = _hooks_by_project({project_id for _, _, project_id in rows})
    wanted = [pk for pk, _, project_id in rows if project_id in hooks]
    deliveries = []
    for row in source.rows(wanted) if wanted else ():
        for event in source.events(row):
            deliveries += [
                WebhookDelivery(
                    webhook=hook,
                    event_id=event.id,
                    event_type=event.type,
                    payload=event.payload,
                    next_attempt_at=now,
                    created_at=now,
                )
                for hook in hooks[event.project_id]
                if hook.created_at <= event.created_at
                and hook.receives(event.type, internal=event.internal)
            ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    # Past the events that can no longer be joined by a row of a lower id still uncommitted.
    settled = now - timezone.timedelta(seconds=settings.WEBHOOK_EVENT_SETTLE_SECONDS)
    position = cursor.position
    for pk, created_at, _ in rows:
        if created_at > settled:
            break
        position = pk
    if position != cursor.position:
        cursor.position = position
        cursor.save(update_fields=["position"])
    return position != rows[-1][0] or len(rows) < batch_size, len(deliveries)


def _hooks_by_project(project_ids):
    """{project_id: [hooks]} of the projects' hooks that are switched on (disabled ones too:
    their deliveries wait for an admin to enable them again).
    """
    found = {}
    for hook in Webhook.objects.filter(project_id__in=project_ids, active=True):
        found.setdefault(hook.project_id, []).append(hook)
    return found


# --- Sending ---------------------------------------------------------------------------------


def due_batch(*, now, batch_size):
    """The next due pending deliveries of hooks that send, locked; rows another sweep holds are
    skipped. Reads the partial index webhook_delivery_due_idx in its order.
    """
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            webhook__active=True,
            webhook__disabled_at__isnull=True,
        )
        .select_related("webhook__project")
        .order_by("next_attempt_at", "pk")[:batch_size]
    )


def deliver_due(*, now=None, batch_size=None):
    """Send every due delivery, batch by batch; returns how many attempts were made. Each row is
    tried at most once per call (a failed one is due again only after its backoff).
    """
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    attempts = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            batch = list(due_batch(now=moment, batch_size=batch_size))
            if not batch:
                return attempts
            disabled = set()
            for delivery in batch:
                if delivery.webhook_id in disabled:
                    continue  # disabled by an earlier row of this batch: it waits with its hook
                attempts += 1
                if not attempt(delivery, now=moment):
                    disabled.add(delivery.webhook_id)


def attempt(delivery, *, now):
    """POST one delivery and record the outcome; returns False when its hook got disabled."""
    hook = delivery.webhook
    body = signing.body_of(delivery.payload)
    timestamp = int(now.timestamp())
    headers = signing.headers(
        secret=hook.secret,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        timestamp=timestamp,
        body=body,
    )
    answer, error = None, ""
    try:
        answer = targets.post(targets.resolve(hook.url), body=body, headers=headers)
    except targets.RefusedTargetError as refused:
        error = f"Refused: {refused}"
    except Exception as failure:  # any network failure is one failed attempt, retried later
        error = f"{type(failure).__name__}: {failure}"
    if answer is not None and not 200 <= answer.status_code < 300:
        error = f"HTTP {answer.status_code}"
        if 300 <= answer.status_code < 400:
            error += " (redirects are not followed)"
    logger.info(
        "webhook delivery %s (hook %s, event %s): %s",
        delivery.pk,
        hook.pk,
        delivery.event_id,
        error or f"HTTP {answer.status_code}",
        extra={
            "webhook": hook.pk,
            "status_code": answer.status_code if answer else None,
            "duration_ms": answer.duration_ms if answer else None,
        },
    )
    return services.record_attempt(delivery, answer=answer, error=error, now=now)
