"""Many rows into a table in one COPY (PostgreSQL): the outbox's bulk writes, and those of the
apps above that write beside them (the reminder sweep's audit events).

bulk_create's INSERT of thousands of rows has the driver quote every parameter in Python: for
the reminder sweep's tens of thousands of emails and events that cost more than the server's
work. COPY in binary format sends the values as they are.
"""

from django.db import connection


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
