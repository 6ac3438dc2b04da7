"""PostgreSQL's timestamps read by datetime.fromisoformat (disclosure.pgtime): the same values
as Django's loader, which still reads whatever the fast path does not take."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.adapt import AdaptersMap
from psycopg.postgres import types
from psycopg.pq import Format

from disclosure.pgtime import utc_loader

OID = types["timestamptz"].oid


def djangos_loader(tz):
    holder = type("Context", (), {})()
    holder.adapters = AdaptersMap(types=types)
    register_tzloader(tz, holder)
    return holder.adapters.get_loader(OID, Format.TEXT)


TEXTS = [
    b"2026-12-02 15:33:48.123456+00",
    b"2026-12-02 15:33:48+00",
    b"2026-12-02 15:33:48.12+00",
    b"0999-01-01 00:00:00.5+00",
    b"9999-12-31 23:59:59.999999+00",
    b"2026-10-25 01:30:00+00",
    # Not taken by the fast path: Django's loader reads them (or refuses them) as before.
    b"2026-12-02 15:33:48.12+05:30",
    b"2026-12-02 15:33:48-08",
    b"2026-12-02 15:33:48+00:00:12",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("as_buffer", [bytes, memoryview])
def test_reads_what_djangos_loader_reads(text, as_buffer):
    django = djangos_loader(datetime.UTC)
    fast = utc_loader(django)
    expected = django(OID).load(as_buffer(text))
    value = fast(OID).load(as_buffer(text))
    assert value == expected
    assert value.tzinfo is expected.tzinfo is datetime.UTC
    assert (value.isoformat(), value.fold) == (expected.isoformat(), expected.fold)


@pytest.mark.parametrize(
    "text", [b"infinity", b"-infinity", b"0001-01-01 00:00:00+00 BC", b"10000-01-01 00:00:00+00"]
)
def test_leaves_what_fromisoformat_cannot_read_to_djangos_loader(text):
    django = djangos_loader(datetime.UTC)
    fast = utc_loader(django)
    try:
        expected = django(OID).load(text)
    except Exception as error:  # psycopg's own DataError: the same one, from the same code
        with pytest.raises(type(error)):
            fast(OID).load(text)
    else:
        assert fast(OID).load(text) == expected


def test_keeps_djangos_timezone_so_django_keeps_it_on_cursors():
    django = djangos_loader(datetime.UTC)
    fast = utc_loader(django)
    assert issubclass(fast, django)
    assert fast.timezone is datetime.UTC
    assert utc_loader(fast) is fast


@pytest.mark.services  # PostgreSQL's loader: fails in CI without the real database
@pytest.mark.django_db
def test_a_postgresql_connection_reads_timestamps_with_it():
    with connection.cursor() as cursor:
        loader = cursor.connection.adapters.get_loader(OID, Format.TEXT)
        assert getattr(loader, "reads_utc_fast", False)
        cursor.execute("SELECT %s::timestamptz, now()", ["2026-12-02 15:33:48.5+02"])
        value, now = cursor.fetchone()
    assert value == datetime.datetime(2026, 12, 2, 13, 33, 48, 500000, tzinfo=datetime.UTC)
    assert value.tzinfo is now.tzinfo is datetime.UTC
