"""Schema changes that are safe on a large PostgreSQL table, for every app's migrations.

A plain CREATE INDEX locks the table against writes while it builds: on a million reports that
is minutes without intake, comments or the sweep. On PostgreSQL these build CONCURRENTLY (the
migration must declare `atomic = False`); other databases (SQLite, the embedded default) build
as usual.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


def _on_postgres(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


class AddIndexOnline(AddIndexConcurrently):
    """AddIndex that builds CONCURRENTLY on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexOnline(RemoveIndexConcurrently):
    """RemoveIndex that drops CONCURRENTLY on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class CreateIndexOnline(Operation):
    """An index on a table no app of ours models (Django's `auth_user`): database only, no model
    state, built CONCURRENTLY on PostgreSQL (the migration must declare `atomic = False`) and
    plainly elsewhere. `IF NOT EXISTS` lets an interrupted concurrent build be resumed by
    dropping its invalid index and migrating again.
    """

    reversible = True

    def __init__(self, table, name, columns):
        self.table, self.name, self.columns = table, name, list(columns)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.table, self.name, self.columns], {}

    def state_forwards(self, app_label, state):
        pass

    def _online(self, schema_editor):
        return " CONCURRENTLY" if _on_postgres(schema_editor) else ""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        quote = schema_editor.quote_name
        columns = ", ".join(quote(column) for column in self.columns)
        schema_editor.execute(
            f"CREATE INDEX{self._online(schema_editor)} IF NOT EXISTS {quote(self.name)} "
            f"ON {quote(self.table)} ({columns})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(
            f"DROP INDEX{self._online(schema_editor)} IF EXISTS "
            f"{schema_editor.quote_name(self.name)}"
        )

    def describe(self):
        return f"Create index {self.name} on {self.table} ({', '.join(self.columns)}) online"


class DropIndexOnline(CreateIndexOnline):
    """CreateIndexOnline reversed: drops CONCURRENTLY on PostgreSQL, and makes the index again
    when migrated backwards. For an index that left the model state in the same migration
    (SeparateDatabaseAndState: a ForeignKey's own index, db_index=False).
    """

    database_forwards = CreateIndexOnline.database_backwards
    database_backwards = CreateIndexOnline.database_forwards

    def describe(self):
        return f"Drop index {self.name} on {self.table} online"
