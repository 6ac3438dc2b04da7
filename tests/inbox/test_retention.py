"""Raw messages are kept compressed until their retention period ends, then dropped by the
daily sweep; the records stay."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from inbox import retention, tasks
from mailer.models import InboundEmail

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def inbound(name, *, keep_until, raw=b"x\x9c+\x00\x00"):
    return InboundEmail.objects.create(
        message_id=f"<{name}@example.org>",
        outcome=InboundEmail.Outcome.REPORT,
        size=100,
        raw=raw,
        received_at=NOW - datetime.timedelta(days=400),
        keep_raw_until=keep_until,
    )


def test_purge_drops_raw_of_expired_messages_in_batches_and_keeps_the_rest():
    expired = [inbound(f"old-{n}", keep_until=NOW - datetime.timedelta(days=n)) for n in (1, 2, 3)]
    current = inbound("current", keep_until=NOW + datetime.timedelta(days=1))

    assert retention.purge_raw_messages(now=NOW, batch_size=2) == 3

    assert set(InboundEmail.objects.filter(raw__isnull=True).values_list("pk", flat=True)) == {
        row.pk for row in expired
    }
    current.refresh_from_db()
    assert bytes(current.raw) == b"x\x9c+\x00\x00"
    assert InboundEmail.objects.count() == 4  # the records stay
    assert retention.purge_raw_messages(now=NOW) == 0


def test_task_purges_what_expired_by_now():
    inbound("old", keep_until=NOW - datetime.timedelta(seconds=1))

    assert tasks.purge_raw_messages.delay().get() == 1

    assert InboundEmail.objects.get().raw is None


def test_beat_runs_the_purge_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-raw-messages"]
    assert entry == {"task": "inbox.tasks.purge_raw_messages", "schedule": 24 * 3600}
