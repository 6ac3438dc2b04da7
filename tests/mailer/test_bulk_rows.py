"""Many rows read at once (mailer.bulk.rows): the tuples iterating a values_list queryset gives,
on PostgreSQL with its times read by psycopg's own reader, which must give what Django's does.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F

from mailer import bulk
from mailer.models import OutboundEmail

pytestmark = pytest.mark.django_db

TIMES = [
    dt.datetime(2026, 12, 2, 7, 0, 0, 123456, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    # given in another zone: read back in UTC, as Django reads it
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
]


@pytest.fixture
def emails():
    for n, when in enumerate(TIMES):
        OutboundEmail.objects.create(to=f"p{n}@example.org", subject="s", body="b")
        OutboundEmail.objects.filter(to=f"p{n}@example.org").update(created_at=when, sent_at=when)
    OutboundEmail.objects.create(to="unsent@example.org", subject="s", body="b")


def test_rows_are_what_the_queryset_gives(emails):
    queryset = OutboundEmail.objects.order_by("pk").values_list("pk", "to", "created_at", "sent_at")

    read = bulk.rows(queryset)

    assert read == list(queryset)
    assert [row[3] for row in read] == [*TIMES, None]
    # the same zone object as Django's reader gives (equal instants in other zones would do
    # for comparisons, not for printing)
    assert {row[2].tzinfo for row in read} == {row[2].tzinfo for row in queryset} == {dt.UTC}
    assert [row[2].utcoffset() for row in read] == [dt.timedelta(0)] * 4


def test_rows_of_other_shapes_are_the_querysets_own(emails):
    plain = OutboundEmail.objects.order_by("pk")
    for queryset in (
        plain.values_list("created_at", flat=True),
        plain.values_list("to", "created_at", named=True),
        plain.annotate(when=F("created_at")).values_list("when", "to"),
    ):
        assert bulk.rows(queryset) == list(queryset)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's reader: PostgreSQL")
def test_rows_read_the_times_with_psycopgs_reader(emails, django_assert_num_queries):
    with connection.cursor() as cursor:
        bulk.native_times(cursor)
        assert cursor.cursor.adapters.get_loader(1184, 0) is bulk._TIMESTAMPTZ
    # Django's own cursors keep Django's reader
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(1184, 0) is not bulk._TIMESTAMPTZ
    with django_assert_num_queries(1):
        assert len(bulk.rows(OutboundEmail.objects.values_list("created_at"))) == 4
