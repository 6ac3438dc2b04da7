"""Reads of webhooks for the project admins' pages (the caller checked access)."""

from django.conf import settings

from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery


def webhooks_of(project):
    """The project's hooks, oldest first."""
    return list(Webhook.objects.filter(project=project).order_by("created_at", "pk"))


def deliveries_log(webhook, *, before=None):
    """A page of the hook's deliveries, newest first (keyset on id, webhook_delivery_log_idx),
    each with `history`, its attempts newest first (one query for the page); and the id to ask
    for the next page with (None on the last one).
    """
    size = settings.WEBHOOK_DELIVERIES_PAGE_SIZE
    rows = WebhookDelivery.objects.filter(webhook=webhook)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-pk")[: size + 1])
    more = len(page) > size
    page = page[:size]
    history = {delivery.pk: [] for delivery in page}
    for attempt in WebhookAttempt.objects.filter(delivery_id__in=history).order_by("-pk"):
        history[attempt.delivery_id].append(attempt)
    for delivery in page:
        delivery.webhook = webhook
        delivery.history = history[delivery.pk]  # every attempt, newest first
    return page, (page[-1].pk if more else None)
