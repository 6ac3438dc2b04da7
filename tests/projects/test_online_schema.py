"""Index changes to tables that already hold rows are built online (issue 15): a plain CREATE
INDEX on a million reports blocks intake, comments and the sweep for minutes. On PostgreSQL they
run CONCURRENTLY, outside a transaction; on SQLite (the embedded default) as usual.
"""

import io
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.test.utils import CaptureQueriesContext

from projects.schema import CreateIndexOnline
from reports.emails import accounts_of

# Released before issue 15, when no instance held large tables; never add to this.
BUILT_BEFORE_ISSUE_15 = {
    ("advisories", "0004_fix_review_and_scheduled_publication", "advisory_scheduled_idx"),
    ("mailer", "0004_outbox_pending_by_id", "outbox_pending_idx"),
    ("mailer", "0005_outbox_thread_index", "outbox_thread_idx"),
    ("reports", "0008_invitations_expire_and_can_be_revoked", "one_open_invitation_per_address"),
    ("reports", "0013_queue_sorts_and_assignee", "report_severity_rank_idx"),
    ("reports", "0013_queue_sorts_and_assignee", "report_created_idx"),
    ("reports", "0013_queue_sorts_and_assignee", "report_assignee_idx"),
}

# Statements that hold a table's lock while they read all of it (build an index, or a unique
# constraint's index) or that wait for every transaction on it (drop an index), unless run
# CONCURRENTLY: (index, table or None) of each.
LOCKING = (
    re.compile(
        r'CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)(?:IF NOT EXISTS )?"(?P<index>\w+)" '
        r'ON "(?P<table>\w+)"'
    ),
    re.compile(r'ALTER TABLE "(?P<table>\w+)" ADD CONSTRAINT "(?P<index>\w+)" UNIQUE'),
    re.compile(r'DROP INDEX (?!CONCURRENTLY)(?:IF EXISTS )?"(?P<index>\w+)"'),
)
CREATE_TABLE = re.compile(r'CREATE TABLE "(\w+)"')


def our_apps():
    """The apps of this repository (not Django's nor the installed packages')."""
    base = str(settings.BASE_DIR)
    return {
        config.label
        for config in apps.get_app_configs()
        if config.path.startswith(base) and "site-packages" not in config.path
    }


def locking_statements():
    """(app, migration, index) of every statement of our migrations, as migrating an empty
    PostgreSQL database forwards writes them (what `sqlmigrate` prints, every migration in one
    pass), that locks a table an earlier migration created: whatever operation wrote it
    (AddIndex, a field's db_index or unique, AddConstraint, AlterField, RunSQL of ours).
    Other apps' migrations only advance the model state.
    """
    ours = our_apps()
    executor = MigrationExecutor(connection)
    state = ProjectState(real_apps=executor.loader.unmigrated_apps)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    for migration, _ in plan:
        if migration.app_label not in ours:
            state = migration.mutate_state(state, preserve=False)
            continue
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            state = migration.apply(state, editor, collect_sql=True)
        statements = editor.collected_sql
        created = {match[1] for match in map(CREATE_TABLE.match, statements) if match}
        for statement in statements:
            for pattern in LOCKING:
                match = pattern.search(statement)
                if match and match.groupdict().get("table") not in created:
                    yield migration.app_label, migration.name, match["index"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)  # non-atomic migrations refuse a test's transaction
def test_no_migration_locks_a_table_that_holds_rows_to_change_an_index():
    """On PostgreSQL every index built or dropped on an existing table runs CONCURRENTLY
    (projects.schema; the migration `atomic = False`), however the migration asks for it."""
    assert connection.vendor == "postgresql"
    found = list(locking_statements())
    offline = sorted(set(found) - BUILT_BEFORE_ISSUE_15)
    assert offline == [], "use projects.schema's online operations, atomic = False"
    # The guard sees what it must: the old offline builds, whatever wrote them (reports 0008's
    # partial unique index through RemoveConstraint and AddConstraint, not AddIndex).
    assert set(found) == BUILT_BEFORE_ISSUE_15


def test_indexes_on_tables_we_do_not_model_are_built_online_too():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = [
        (app, name, migration.atomic)
        for (app, name), migration in loader.disk_migrations.items()
        for operation in migration.operations
        if isinstance(operation, CreateIndexOnline)
    ]
    assert ("projects", "0015_auth_user_email_index", False) in found
    assert all(not atomic for _, _, atomic in found)


@pytest.mark.django_db(transaction=True)
def test_the_account_email_index_builds_concurrently_on_postgresql_and_plainly_elsewhere():
    out = io.StringIO()
    call_command("sqlmigrate", "projects", "0015", stdout=out)
    (create,) = [line for line in out.getvalue().splitlines() if line.startswith("CREATE INDEX")]
    assert ("CONCURRENTLY" in create) == (connection.vendor == "postgresql"), create
    assert '"auth_user_email_idx" ON "auth_user" ("email")' in create
    out = io.StringIO()
    call_command("sqlmigrate", "projects", "0015", backwards=True, stdout=out)
    assert 'DROP INDEX CONCURRENTLY IF EXISTS "auth_user_email_idx"' in out.getvalue() or (
        connection.vendor != "postgresql"
    )
    assert 'DROP INDEX IF EXISTS "auth_user_email_idx"' in out.getvalue() or (
        connection.vendor == "postgresql"
    )


@pytest.mark.services
@pytest.mark.django_db
def test_notifications_find_accounts_by_address_on_the_index(django_user_model):
    """Every filing and every sweep batch asks which addresses have accounts; without the index
    PostgreSQL read the whole of auth_user (about 100 ms a filing with the 1M benchmark's
    accounts). Sequential scans off: with a handful of rows the planner rightly prefers them.
    """
    for number in range(30):
        django_user_model.objects.create(username=f"u{number}", email=f"u{number}@example.org")
    with CaptureQueriesContext(connection) as queries:
        found = accounts_of(["u3@example.org", "nobody@example.org"])
    assert found == {"u3@example.org": django_user_model.objects.get(username="u3").pk}
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "auth_user_email_idx" in plan, plan


@pytest.mark.django_db(transaction=True)  # sqlmigrate of a non-atomic migration
def test_the_queue_indexes_build_concurrently_on_postgresql_and_plainly_elsewhere():
    out = io.StringIO()
    call_command("sqlmigrate", "reports", "0019", stdout=out)
    sql = out.getvalue()
    creates = [line for line in sql.splitlines() if line.startswith("CREATE INDEX")]
    drops = [line for line in sql.splitlines() if line.startswith("DROP INDEX")]
    assert len(creates) == 5
    assert len(drops) == 1
    concurrently = connection.vendor == "postgresql"
    for statement in creates + drops:
        assert ("CONCURRENTLY" in statement) == concurrently, statement
    # The old reporter index goes only after its replacement exists.
    assert sql.index("report_reporter_due_idx") < sql.index("DROP INDEX")


@pytest.mark.django_db(transaction=True)
def test_the_report_id_indexes_a_sweep_no_longer_pays_for_drop_concurrently_on_postgresql():
    """reports 0021 drops the ForeignKey's own index of reminders and events (another index
    leads with report_id in each): a field-level index change, made online by DropIndexOnline;
    backwards makes the indexes again, online too.
    """
    online = " CONCURRENTLY" if connection.vendor == "postgresql" else ""
    out = io.StringIO()
    call_command("sqlmigrate", "reports", "0021", stdout=out)
    forwards = out.getvalue()
    for name in ("reports_reminder_report_id_383d091a", "reports_reportevent_report_id_5031d186"):
        assert f'DROP INDEX{online} IF EXISTS "{name}"' in forwards, forwards
    out = io.StringIO()
    call_command("sqlmigrate", "reports", "0021", backwards=True, stdout=out)
    assert (
        f'CREATE INDEX{online} IF NOT EXISTS "reports_reminder_report_id_383d091a" '
        'ON "reports_reminder" ("report_id")'
    ) in out.getvalue()
