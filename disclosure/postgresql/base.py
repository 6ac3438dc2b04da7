"""Django's PostgreSQL backend, with two additions for the queries every signed-in request runs.

A health check that costs no round trip when there is nothing to check. Persistent connections
are checked at the start of each request that uses the database (CONN_HEALTH_CHECKS), so that a
connection the server has dropped (a restart, a terminated backend, an idle timeout) is replaced
instead of failing the request. Django checks with `SELECT 1`: a round trip on every request,
which cost the PostgreSQL server about 0.3 ms of CPU per queue page at 1M reports (a third of
its share). Here the connection's socket is polled first: a server that drops a connection says
so on it (an error, then the end of the stream), so an idle connection with nothing to read is
open. Only when something is waiting to be read does the check run Django's query, which reads
it and fails on a dropped connection.

A cursor whose statements are prepared (`prepared_cursor`), for the queries written once per
process (projects/precompiled.py): PostgreSQL plans them once per connection rather than per
request. Django's own cursors bind client-side and are never prepared.
"""

import select
import types

import psycopg
from django.db.backends.postgresql import base


class LoggedServerBindingCursor(base.ServerBindingCursor):
    """The server-side binding cursor while queries are logged (DEBUG's connection.queries,
    CaptureQueriesContext): psycopg records the query a cursor ran (`_query`, which this
    backend's query log reads) only when it did not run it as a prepared statement, so this one
    records it, with its parameters put in as Django's own cursors log them."""

    def execute(self, query, params=None, **kwargs):
        result = super().execute(query, params, **kwargs)
        sql = base.Cursor(self.connection).mogrify(query, params)
        self._query = types.SimpleNamespace(query=sql.encode())
        return result


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            socket = connection.fileno()
        except psycopg.Error:  # no socket: closed
            return False
        # poll, not select: select refuses descriptors above 1023. A closed or broken socket
        # reports an event too (POLLHUP, POLLERR, POLLNVAL), and Django's query then fails.
        poller = select.poll()
        poller.register(socket, select.POLLIN)
        return super().is_usable() if poller.poll(0) else True

    def prepared_cursor(self):
        """A cursor as `cursor()` makes it (health check, connection, query log, error
        wrapping), binding server-side so that psycopg prepares what it runs: any
        `prepare_threshold` (settings: DATABASE_PREPARED_STATEMENTS) prepares on first use.
        Django's own cursor when prepared statements are off."""
        if self.settings_dict["OPTIONS"].get("prepare_threshold") is None:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        binding = LoggedServerBindingCursor if self.queries_logged else base.ServerBindingCursor
        with self.wrap_database_errors:
            return self._prepare_cursor(binding(self.connection))
