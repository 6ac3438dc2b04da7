"""How long raw inbound messages are kept (INBOX_RAW_RETENTION_DAYS, set per message on
arrival as keep_raw_until)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mailer.models import InboundEmail


def purge_raw_messages(*, now=None, batch_size=None):
    """Drop the raw message of every inbound email whose retention period ended; the record
    itself stays (deduplication, rate limits, threading). Batches of INBOX_RAW_PURGE_BATCH_SIZE,
    each in its own transaction, so a large backlog never holds one long lock. Returns how many
    were purged.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.INBOX_RAW_PURGE_BATCH_SIZE
    purged = 0
    while True:
        with transaction.atomic():
            # Served by inbound_raw_retention_idx (keep_raw_until where raw is not null).
            ids = list(
                InboundEmail.objects.filter(raw__isnull=False, keep_raw_until__lte=now)
                .order_by("keep_raw_until")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return purged
            purged += InboundEmail.objects.filter(pk__in=ids).update(raw=None)
