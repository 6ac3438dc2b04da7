"""Many rows into a table in one COPY (PostgreSQL): the outbox's bulk writes, and those of the
apps above that write beside them (the reminder sweep's audit events). And many rows out of one
query with their times read as the driver reads them (`rows`).

bulk_create's INSERT of thousands of rows has the driver quote every parameter in Python: for
the reminder sweep's tens of thousands of emails and events that cost more than the server's
work. COPY in binary format sends the values as they are.
"""

import datetime

import psycopg
from django.db import connection, connections
from django.db.models.query import ValuesListIterable

# What COPY takes as Python gives it, as the fields would pass it on: strings, numbers, flags,
# NULL. Aware datetimes too (DateTimeField passes them on unchanged on PostgreSQL, the only
# database COPY is used on); a naive one, a lazy string, JSON go through their field.
AS_IS = frozenset({str, int, bool, type(None)})


def prepared(fields, values):
    """`values` of the model `fields` as COPY takes them (as get_db_prep_save gives them):
    `values` itself when every one goes as it is.
    """
    if AS_IS.issuperset(map(type, values)):
        return values
    database = connections[connection.alias]  # the proxy would cost a lookup per value
    return tuple(
        value if _as_is(value) else field.get_db_prep_save(value, database)
        for field, value in zip(fields, values, strict=True)
    )


def _as_is(value):
    kind = value.__class__
    return kind in AS_IS or (kind is datetime.datetime and value.tzinfo is not None)


def copy_rows(cursor, table, fields, rows, *, extra=()):
    """COPY `rows` into `table`: each row the values of the model `fields` (as
    get_db_prep_save gives them), then of the `extra` (column, type) pairs. Binary values must
    be of the columns' types exactly: the fields' own, the types given for the extra ones.
    """
    quote = connection.ops.quote_name
    columns = ", ".join([*(quote(field.column) for field in fields), *(quote(c) for c, _ in extra)])
    statement = f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    # "varchar(100)" -> "varchar": the driver knows types by name, without modifiers.
    types = [*(field.db_type(connection).split("(")[0] for field in fields), *(t for _, t in extra)]
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


# psycopg's own reader of timestamptz (compiled): Django's reader on PostgreSQL is a Python
# subclass of psycopg's Python one, ~7 us a value, twenty times as long (issue 15).
_TIMESTAMPTZ = psycopg.adapters.get_loader(
    psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT
)


def rows(queryset):
    """The tuples of a values_list `queryset`, as iterating it gives them. On PostgreSQL in UTC
    (Django's connection with USE_TZ), the times as psycopg reads them: aware datetimes in UTC
    (datetime.timezone.utc), what Django's reader gives. Anywhere else, and for a queryset whose
    values Django converts after reading (none of a plain column's on PostgreSQL), the queryset
    itself.
    """
    database, query = connections[queryset.db], queryset.query
    if (
        database.vendor != "postgresql"
        or database.timezone is not datetime.UTC  # Django's reader would give another zone
        or queryset._iterable_class is not ValuesListIterable  # flat, named: other shapes
        or query.extra_select
        or query.annotation_select  # values_list may order those apart from the fields
    ):
        return list(queryset)
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    if compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]]):
        return list(queryset)
    with database.cursor() as cursor:
        native_times(cursor)
        cursor.execute(sql, params)
        return cursor.fetchall()


def native_times(cursor):
    """Have `cursor` (Django's, on PostgreSQL) read timestamptz with psycopg's own reader when
    that gives what Django's gives (aware datetimes in UTC: USE_TZ, the database's TIME_ZONE
    unset), for queries that read many (see `rows`).
    """
    if cursor.db.timezone is datetime.UTC:
        cursor.cursor.adapters.register_loader("timestamptz", _TIMESTAMPTZ)
