"""Backup and restore (disclosure.backup, `manage.py backup` / `restore`).

The round trip runs on PostgreSQL with Debian's pg_dump and pg_restore, in a transactional test:
pg_dump sees only committed data. The restore goes into a second, new database and a second
attachment directory, and the rows of reports, attachments and audit events (and the bytes of
every attachment file) must come back exactly.
"""

import json
import shutil
import tarfile
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from disclosure.backup import (
    BackupError,
    Database,
    counted_tables,
    create_backup,
    read_manifest,
    restore_backup,
)
from reports import services
from reports.models import Attachment, Report, ReportEvent


def _file(project, reporter, title, files):
    uploads = [SimpleUploadedFile(name, data) for name, data in files.items()]
    return services.file_report(
        project=project,
        reporter=reporter,
        fields={"title": title, "description": f"{title}: details", "steps_to_reproduce": "Run"},
        files=uploads,
    )


@pytest.fixture
def empty_database():
    """A new, empty PostgreSQL database beside the test database, dropped afterwards."""
    source = Database.from_settings(settings.DATABASES["default"])
    name = f"t_ops_restore_{uuid.uuid4().hex[:8]}"
    admin = Database(
        name="postgres",
        user=source.user,
        password=source.password,
        host=source.host,
        port=source.port,
    )
    with admin.connect(autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield Database(**{**source.__dict__, "name": name})
    with admin.connect(autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(database, table):
    with database.connect() as connection:
        return connection.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()  # noqa: S608


@pytest.mark.heavy
@pytest.mark.pg_tools
@pytest.mark.django_db(transaction=True)
def test_round_trip_restores_reports_attachments_and_audit_events(
    project, reporter, triager, tmp_path, settings, empty_database
):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    first = _file(
        project,
        reporter,
        "Heap overflow in the parser",
        {"poc.py": b"print('pwned')\n", "trace.bin": bytes(range(256)) * 4},
    )
    _file(project, reporter, "Open redirect", {"notes.txt": "ünïcode\n".encode()})
    services.transition(report=first, by=triager, name="acknowledge", message="Thanks")
    assert ReportEvent.objects.count() >= 3
    source = Database.from_settings(settings.DATABASES["default"])
    archive = tmp_path / "backup.tar.gz"

    manifest = create_backup(archive, database=source, attachment_root=settings.ATTACHMENT_ROOT)

    assert manifest["counts"] == {
        "accounts": 2,
        "reports": 2,
        "attachments": 3,
        "report_events": ReportEvent.objects.count(),
    }
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        assert json.load(tar.extractfile("manifest.json")) == manifest
    assert "database.dump" in names
    stored = {a.file.name: a.file.open("rb").read() for a in Attachment.objects.all()}
    assert {f"attachments/{name}" for name in stored} <= set(names)

    restored_root = tmp_path / "restored-attachments"

    assert restore_backup(archive, database=empty_database, attachment_root=restored_root) == (
        manifest
    )

    for table in counted_tables().values():
        assert _rows(empty_database, table) == _rows(source, table), table
    assert {
        path.relative_to(restored_root).as_posix(): path.read_bytes()
        for path in restored_root.rglob("*")
        if path.is_file()
    } == stored
    assert sorted(stored.values()) == sorted(
        [b"print('pwned')\n", bytes(range(256)) * 4, "ünïcode\n".encode()]
    )

    # A migrated and seeded instance (tables, projects) without accounts, reports or files is
    # empty too: restore replaces its schema with the archive's.
    with empty_database.connect() as connection:
        connection.execute('TRUNCATE "auth_user" CASCADE')
        projects = connection.execute('SELECT count(*) FROM "projects_project"').fetchone()
    assert projects != (0,)
    shutil.rmtree(restored_root)
    restore_backup(archive, database=empty_database, attachment_root=restored_root)
    for table in counted_tables().values():
        assert _rows(empty_database, table) == _rows(source, table), table


@pytest.mark.pg_tools
@pytest.mark.django_db(transaction=True)
def test_commands_back_up_and_refuse_to_restore_over_existing_data(
    project, reporter, tmp_path, settings
):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    _file(project, reporter, "Heap overflow in the parser", {"poc.py": b"x"})
    archive = tmp_path / "backup.tar.gz"

    call_command("backup", str(archive))

    assert archive.is_file()
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(archive))
    # The instance it came from is not empty: nothing may be overwritten.
    with pytest.raises(CommandError, match=r"not empty \(1 accounts, 1 reports, 1 attachments"):
        call_command("restore", str(archive))
    assert Report.objects.count() == 1


@pytest.mark.pg_tools
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_attachment_files_already_present(
    project, reporter, tmp_path, settings, empty_database
):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    _file(project, reporter, "Heap overflow in the parser", {"poc.py": b"x"})
    archive = tmp_path / "backup.tar.gz"
    create_backup(
        archive,
        database=Database.from_settings(settings.DATABASES["default"]),
        attachment_root=settings.ATTACHMENT_ROOT,
    )
    (tmp_path / "other" / "reports").mkdir(parents=True)
    (tmp_path / "other" / "reports" / "left-over.txt").write_bytes(b"old")

    with pytest.raises(BackupError, match=r"not empty \(1 attachment files\)"):
        restore_backup(archive, database=empty_database, attachment_root=tmp_path / "other")
    with empty_database.connect() as connection:
        tables = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_sqlite_is_refused_with_what_to_do_instead():
    with pytest.raises(BackupError, match=r"need PostgreSQL .* copy the var/ directory"):
        Database.from_settings({"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"})


def test_an_archive_without_manifest_is_refused(tmp_path):
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(__file__, arcname="database.dump")

    with tarfile.open(archive, "r:gz") as tar, pytest.raises(BackupError, match="no readable"):
        read_manifest(tar)


def test_an_archive_of_another_format_is_refused(tmp_path):
    archive = tmp_path / "other.tar.gz"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"format": "something-else/7"}))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(manifest, arcname="manifest.json")

    with tarfile.open(archive, "r:gz") as tar, pytest.raises(BackupError, match="unknown backup"):
        read_manifest(tar)
