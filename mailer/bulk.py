"""Many rows into a table in one COPY (PostgreSQL): the outbox's bulk writes, and those of the
apps above that write beside them (the reminder sweep's audit events).

bulk_create's INSERT of thousands of rows has the driver quote every parameter in Python: for
the reminder sweep's tens of thousands of emails and events that cost more than the server's
work. COPY in binary format sends the values as they are.
"""

import datetime

from django.db import connection, connections

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
