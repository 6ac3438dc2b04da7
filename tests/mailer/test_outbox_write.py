"""Storing a large send (mailer.outbox.send): on PostgreSQL the rows go in by COPY through a
staging table (issue 15: a sweep writes tens of thousands), elsewhere by one bulk INSERT. Either
way the outbox holds what was given, byte for byte and in order, a dedup key already stored (or
given twice) is skipped, and delivery after commit sends it.
"""

import datetime as dt

import pytest
import time_machine
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from mailer import outbox
from mailer.models import OutboundEmail

pytestmark = pytest.mark.django_db

LARGE = outbox.COPY_MIN_ROWS + 20  # what the sweep sends per batch, in miniature
NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)
# What COPY's text format escapes or could mistake for something else: tab, newline, carriage
# return, backslash, its NULL marker "\N", a lone dot line, and text beyond ASCII.
AWKWARD = "Tab\there\nnew line\r\nback\\slash \\N \\. \"quoted\" 'single' <b>&amp;</b> é ✓ 𝄞\n.\n"
FIELDS = ("about", "dedup_key", "to", "subject", "body", "html", "reply_to")


def message(n, **fields):
    values = {
        "about": f"reports.report:{n % 7}" if n % 3 else "",
        "dedup_key": f"test.copy:{n}" if n % 2 else None,
        "to": f"person{n}@example.org",
        "subject": f"[T-{n}] Tab\there \\N \\. é ✓ 'single' \"double\"",  # one line
        "body": f"{n}: {AWKWARD}" * (n % 4 + 1),
        "html": "" if n % 5 == 0 else f"<p>{n}</p>{AWKWARD}",
        "reply_to": f"reply+{n}@example.org" if n % 2 else "",
        **fields,
    }
    return OutboundEmail(**values)


def stored(**filters):
    return list(OutboundEmail.objects.filter(**filters).order_by("pk"))


def as_given(rows):
    return [tuple(getattr(row, field) for field in FIELDS) for row in rows]


def test_a_large_send_stores_every_row_as_given_in_order():
    messages = [message(n) for n in range(LARGE)]
    given = as_given(messages)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        outbox.send(messages)

    rows = stored()
    assert as_given(rows) == given  # ids follow the order of the messages
    assert {(row.created_at, row.sent_at, row.attempts, row.last_error) for row in rows} == {
        (NOW, None, 0, "")
    }
    assert all(m.created_at == NOW for m in messages)  # as bulk_create leaves them
    # Threading, then the write: on PostgreSQL a COPY (which Django's query log does not show)
    # in a savepoint, whatever the number of rows; elsewhere one bulk INSERT (Django splits
    # SQLite's).
    if connection.vendor == "postgresql":
        assert [sql.split()[0] for sql in statements(queries)[2:]] == ["SAVEPOINT", "RELEASE"]


def statements(queries):
    return [query["sql"] for query in queries.captured_queries]


def test_the_rows_of_a_large_send_are_threaded_like_any_other():
    outbox.send([message(n, dedup_key=None) for n in range(LARGE)])
    first = {row.to: row for row in stored(about="reports.report:1")}
    outbox.send([message(n, dedup_key=None) for n in range(LARGE)])

    again = stored(about="reports.report:1", pk__gt=max(row.pk for row in first.values()))
    assert again
    assert len(again) == len(first)
    for row in again:
        parent = outbox.message_id(first[row.to])
        assert (row.in_reply_to, row.references) == (parent, parent)


def test_a_dedup_key_already_stored_or_given_twice_is_skipped():
    earlier = message(1, subject="the first one")
    outbox.send([earlier])
    messages = [message(n) for n in range(LARGE)]
    messages.insert(5, message(10_000, dedup_key="test.copy:twice", subject="twice, first"))
    messages.insert(50, message(10_001, dedup_key="test.copy:twice", subject="twice, second"))
    given = as_given(messages)

    with CaptureQueriesContext(connection) as queries:
        outbox.send(messages)

    if connection.vendor == "postgresql":  # the COPY rolled back, then the staging table
        assert "ROLLBACK TO SAVEPOINT" in " ".join(statements(queries))
        assert any(
            f"FROM {outbox._STAGE} ORDER BY n ON CONFLICT DO NOTHING" in sql
            for sql in statements(queries)
        )
    skipped = [row for row in given if row[1] == "test.copy:1" or row[3] == "twice, second"]
    assert len(skipped) == 2
    assert as_given(stored()) == as_given([earlier]) + [row for row in given if row not in skipped]


def test_lazy_strings_are_stored_as_their_text():
    outbox.send([message(n, subject=gettext_lazy("Reminder")) for n in range(LARGE)])
    assert set(OutboundEmail.objects.values_list("subject", flat=True)) == {"Reminder"}


def test_a_large_send_is_delivered_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send([message(n) for n in range(LARGE)])

    assert len(mailoutbox) == LARGE
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    by_id = {m.extra_headers["Message-ID"]: m for m in mailoutbox}
    for row in stored():
        sent = by_id[outbox.message_id(row)]
        assert (sent.subject, sent.to, sent.body) == (row.subject, [row.to], row.body)
        assert sent.alternatives == ([(row.html, "text/html")] if row.html else [])


@pytest.mark.services
def test_a_failed_large_send_leaves_nothing_behind():
    """A value the column refuses fails the send, the caller's savepoint rolls back with its
    staging table, and the next send in the same transaction works.
    """
    with pytest.raises(DataError), transaction.atomic():
        outbox.send([message(n, subject="x" * (n + 250)) for n in range(LARGE)])
    outbox.send([message(n) for n in range(LARGE)])
    assert OutboundEmail.objects.count() == LARGE


@pytest.mark.django_db(transaction=True)
def test_a_large_send_outside_a_transaction_skips_conflicts_too():
    """Callers outside any transaction (autocommit): the COPY's own transaction rolls back on
    the conflict, and the staging table lives for the session until it is dropped.
    """
    outbox.send([message(1, subject="the first one")])
    messages = [message(n) for n in range(LARGE)]
    given = as_given(messages)

    outbox.send(messages)

    assert [row[3] for row in as_given(stored())] == [
        "the first one",
        *(row[3] for row in given if row[1] != "test.copy:1"),
    ]
    # The staging table again (every dedup key conflicts now): none was left behind.
    again = [message(n) for n in range(LARGE)]
    before = OutboundEmail.objects.count()
    outbox.send(again)
    assert OutboundEmail.objects.count() == before + sum(m.dedup_key is None for m in again)
