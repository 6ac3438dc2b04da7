"""A values_list query's SQL, written by the ORM once per process and run again with new
parameters: on the pages every signed-in request reads (the user with their roles, the queue's
plain page), building the query cost more than running it.

On PostgreSQL with prepared statements on (settings: DATABASE_PREPARED_STATEMENTS), it also runs
as a prepared statement on each connection, so the server plans it once rather than per request:
planning those two queries was most of PostgreSQL's CPU per queue page (1.38 -> 1.03 ms at 1M
reports, benchmarks/README.md).
"""

import dataclasses
import functools
import types

from django.db import connections


@dataclasses.dataclass(frozen=True)
class Precompiled:
    query: object
    alias: str
    sql: str
    params: tuple  # those of the queryset it was written from: callers check their shape
    expressions: list

    @classmethod
    def of(cls, queryset):
        """`queryset` (a values_list) compiled for its database."""
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        expressions = [column for column, _, _ in compiler.select[: compiler.col_count]]
        return cls(queryset.query, queryset.db, sql, tuple(params), expressions)

    def rows(self, params):
        """The rows with `params`, as the queryset's values_list gives them (the ORM's value
        converters applied: SQLite's booleans and aware datetimes, decimals).
        """
        with _cursor(connections[self.alias]) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        compiler = self.query.get_compiler(self.alias)
        converters = compiler.get_converters(self.expressions)
        return list(map(tuple, compiler.apply_converters(rows, converters))) if converters else rows


def _cursor(connection):
    """Django's cursor (its connection and health check, query log and error wrapping) around a
    server-side binding cursor when prepared statements are on: psycopg prepares only what such a
    cursor runs (Django's own cursors bind client-side)."""
    cursor = connection.cursor()
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        return cursor
    from django.db.backends.postgresql.base import ServerBindingCursor

    binding = _logged_prepared_cursor() if connection.queries_logged else ServerBindingCursor
    cursor.close()
    return type(cursor)(binding(connection.connection), connection)


@functools.cache
def _logged_prepared_cursor():
    """The server-side binding cursor while queries are logged (DEBUG's connection.queries,
    CaptureQueriesContext): psycopg records the query a cursor ran (`_query`, which Django's
    query log reads) only when it did not run it as a prepared statement, so this one records
    it, with its parameters put in as Django's own cursors log them."""
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    class LoggedPreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            result = super().execute(query, params, **kwargs)
            sql = Cursor(self.connection).mogrify(query, params)
            self._query = types.SimpleNamespace(query=sql.encode())
            return result

    return LoggedPreparedCursor
