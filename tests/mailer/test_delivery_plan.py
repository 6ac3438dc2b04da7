"""Delivery of a backlog stays linear: each batch of deliver_pending is a short range of the
partial pending index, never a sort of the whole pending set (issue 13, part 6). Timed at scale
by benchmarks/outbox_delivery.py; here the plan is checked on PostgreSQL.
"""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from mailer import outbox
from mailer.models import OutboundEmail


def rows(count, *, sent_at=None, start=0):
    return [
        OutboundEmail(to=f"person{n}@example.org", subject="s", body="b", sent_at=sent_at)
        for n in range(start, start + count)
    ]


def batch_plan(*, after):
    with transaction.atomic():  # FOR UPDATE needs a transaction, even to be explained
        return outbox.pending_batch(after=after, max_attempts=5, batch_size=50).explain()


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.parametrize("analyzed", [False, True], ids=["stale-statistics", "fresh-statistics"])
def test_each_batch_reads_the_pending_index_in_order_and_sorts_nothing(analyzed):
    """The situation of the slow backlog: thousands of sent rows the statistics know about, then
    a burst of pending rows they do not (a sweep just wrote them), and the same after ANALYZE.
    """
    OutboundEmail.objects.bulk_create(rows(3000, sent_at=timezone.now()), batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mailer_outboundemail")
    pending = OutboundEmail.objects.bulk_create(rows(5000, start=3000), batch_size=1000)
    if analyzed:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE mailer_outboundemail")
    for after in (0, pending[2500].pk):
        plan = batch_plan(after=after)
        assert "Index Scan using outbox_pending_idx" in plan, plan
        assert "Sort" not in plan, plan
        assert "Bitmap" not in plan, plan


@pytest.mark.django_db
def test_a_backlog_larger_than_a_batch_is_delivered_oldest_first_once(mailoutbox):
    OutboundEmail.objects.bulk_create(rows(7))
    assert outbox.deliver_pending(batch_size=3) == 7
    assert [m.to for m in mailoutbox] == [[f"person{n}@example.org"] for n in range(7)]
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    assert outbox.deliver_pending(batch_size=3) == 0


@pytest.mark.services
@pytest.mark.django_db
def test_threading_reads_one_index_entry_per_recipient_not_the_conversation():
    """The latest message to each recipient about each report: an index descent per pair on
    outbox_thread_idx, whatever the length of the conversation.
    """
    OutboundEmail.objects.bulk_create(
        (
            OutboundEmail(about=f"reports.report:{n % 50}", to=f"p{n % 5}@example.org", body="b")
            for n in range(5000)
        ),
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mailer_outboundemail")
        cursor.execute(
            f"EXPLAIN {outbox.LATEST_SENT_SQL}",
            [
                outbox._lines(["reports.report:1", "reports.report:2"]),
                outbox._lines(["p1@example.org", "p2@example.org"]),
            ],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward using outbox_thread_idx" in plan, plan
    assert "Sort" not in plan, plan
