"""A values_list query's SQL, written by the ORM once per process and run again with new
parameters: on the pages every signed-in request reads (the user with their roles, the queue's
plain page), building the query cost more than running it.

On PostgreSQL it runs on the backend's prepared cursor (disclosure/postgresql/base.py), so the
server plans it once per connection rather than per request: planning those two queries was most
of PostgreSQL's CPU per queue page (1.38 -> 1.03 ms at 1M reports, benchmarks/README.md).
"""

import dataclasses
import weakref

from django.db import connections


@dataclasses.dataclass(frozen=True)
class Precompiled:
    query: object
    alias: str
    sql: str
    params: tuple  # those of the queryset it was written from: callers check their shape
    expressions: list
    # The ORM's value converters by connection, worked out on its first run: asking the
    # compiler for them again on every run cost as much as reading the rows (a compiler itself
    # costs half a microsecond).
    _converters: weakref.WeakKeyDictionary = dataclasses.field(
        default_factory=weakref.WeakKeyDictionary, compare=False, repr=False
    )

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
        connection = connections[self.alias]
        with _cursor(connection) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        compiler = self.query.get_compiler(connection=connection)
        converters = self._converters.get(connection)
        if converters is None:
            converters = self._converters[connection] = compiler.get_converters(self.expressions)
        return list(map(tuple, compiler.apply_converters(rows, converters))) if converters else rows


def _cursor(connection):
    """The backend's prepared cursor where it has one (PostgreSQL), else Django's cursor."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared else connection.cursor()
