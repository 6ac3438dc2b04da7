"""Index changes to tables that already hold rows are built online (issue 15): a plain CREATE
INDEX on a million reports blocks intake, comments and the sweep for minutes. On PostgreSQL they
run CONCURRENTLY, outside a transaction; on SQLite (the embedded default) as usual.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddIndex, CreateModel, RemoveIndex
from django.test.utils import CaptureQueriesContext

from projects.schema import AddIndexOnline, CreateIndexOnline, RemoveIndexOnline
from reports.emails import accounts_of

OUR_APPS = {"projects", "reports", "advisories", "mailer", "inbox", "disclosure"}

# Released before issue 15, when no instance held large tables; never add to this.
BUILT_BEFORE_ISSUE_15 = {
    ("advisories", "0004_fix_review_and_scheduled_publication", "advisory_scheduled_idx"),
    ("mailer", "0004_outbox_pending_by_id", "outbox_pending_idx"),
    ("mailer", "0005_outbox_thread_index", "outbox_thread_idx"),
    ("reports", "0013_queue_sorts_and_assignee", "report_severity_rank_idx"),
    ("reports", "0013_queue_sorts_and_assignee", "report_created_idx"),
    ("reports", "0013_queue_sorts_and_assignee", "report_assignee_idx"),
}


def index_changes():
    """(app, migration, index, operation, migration) for every index added to or removed from a
    table that an earlier migration created."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in OUR_APPS:
            continue
        created = {op.name.lower() for op in migration.operations if isinstance(op, CreateModel)}
        for operation in migration.operations:
            if isinstance(operation, AddIndex | RemoveIndex):
                if operation.model_name.lower() in created:
                    continue
                index = operation.index.name if isinstance(operation, AddIndex) else operation.name
                yield app, name, index, operation, migration


def test_index_changes_on_existing_tables_are_built_online():
    offline = [
        f"{app}.{name}: {index}"
        for app, name, index, operation, migration in index_changes()
        if (app, name, index) not in BUILT_BEFORE_ISSUE_15
        and not (isinstance(operation, AddIndexOnline | RemoveIndexOnline) and not migration.atomic)
    ]
    assert offline == [], "use projects.schema.AddIndexOnline/RemoveIndexOnline, atomic = False"


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
    leads with report_id in each): a field-level index change the AddIndex guard above does not
    see, so its SQL is checked here; backwards makes the indexes again, online too.
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
