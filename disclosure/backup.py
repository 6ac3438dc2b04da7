"""Backup and restore of a whole instance: the PostgreSQL database and the attachment store in one
archive (`manage.py backup` / `manage.py restore`).

The archive is a gzipped tar holding
- manifest.json: format, creation time, the PostgreSQL server version and row counts;
- database.dump: `pg_dump --format=custom` of the database;
- attachments/: every file under ATTACHMENT_ROOT, with its relative path.

The counts and the dump come from one snapshot: the backup opens a REPEATABLE READ transaction,
exports its snapshot, counts in it and runs pg_dump on it (`--snapshot`), so what the manifest
says is exactly what the dump holds even while the site keeps writing. Restore checks the counts
after loading, and refuses an instance that already holds accounts, reports or attachment files.

SQLite (the development default) is refused with a clear error: stop the server and copy var/.
"""

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from reports.models import Attachment, Report, ReportEvent

FORMAT = "disclosure-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
ATTACHMENTS = "attachments"


class BackupError(Exception):
    """What the operator must fix before a backup or restore can run."""


@dataclass(frozen=True)
class Database:
    """Where a backup reads from or a restore writes to: one PostgreSQL database."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, entry):
        """A Database from a settings.DATABASES entry; SQLite and others are refused."""
        if not entry["ENGINE"].endswith("postgresql"):
            raise BackupError(
                "backup and restore need PostgreSQL (DATABASE_URL=postgres://...); this instance "
                f"runs {entry['ENGINE'].rsplit('.', 1)[-1]}. For the SQLite development "
                "database, stop the server and copy the var/ directory (database and attachments)."
            )
        return cls(
            name=entry["NAME"],
            user=entry.get("USER") or "",
            password=entry.get("PASSWORD") or "",
            host=entry.get("HOST") or "",
            port=str(entry.get("PORT") or ""),
        )

    def connect(self, **options):
        return psycopg.connect(
            dbname=self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            **options,
        )

    def command(self, program, *arguments):
        """argv and environment for pg_dump / pg_restore; the password goes by PGPASSWORD only,
        never on a command line another user could read in the process list."""
        binary = shutil.which(program)
        if binary is None:
            raise BackupError(
                f"{program} was not found: install the PostgreSQL client tools "
                "(Debian: apt-get install postgresql-client) in a version at least the server's."
            )
        argv = [binary, "--dbname", self.name]
        if self.host:
            argv += ["--host", self.host]
        if self.port:
            argv += ["--port", self.port]
        if self.user:
            argv += ["--username", self.user]
        env = {**os.environ, "PGPASSWORD": self.password} if self.password else dict(os.environ)
        return [*argv, "--no-password", *arguments], env


def counted_tables():
    """The tables whose row counts the manifest records and the restore checks."""
    return {
        "accounts": get_user_model()._meta.db_table,
        "reports": Report._meta.db_table,
        "attachments": Attachment._meta.db_table,
        "report_events": ReportEvent._meta.db_table,
    }


def _counts(cursor):
    counts = {}
    for key, table in counted_tables().items():
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - our model's table name
        counts[key] = cursor.fetchone()[0]
    return counts


def _run(argv, env):
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()}")


def create_backup(archive, *, database, attachment_root):
    """Write the database and the attachment store into `archive` (a new .tar.gz file).
    Returns the manifest.
    """
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} already exists; choose a new file name")
    attachment_root = Path(attachment_root)
    with tempfile.TemporaryDirectory() as workdir, database.connect() as connection:
        dump = Path(workdir) / DUMP
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            counts = _counts(cursor)
            argv, env = database.command(
                "pg_dump", "--format=custom", "--snapshot", snapshot, "--file", str(dump)
            )
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            _run(argv, env)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "postgresql": server_version,
            "counts": counts,
        }
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            tar.add(dump, arcname=DUMP)
            if attachment_root.is_dir():
                for path in sorted(attachment_root.rglob("*")):
                    if path.is_file():
                        tar.add(path, arcname=f"{ATTACHMENTS}/{path.relative_to(attachment_root)}")
        # A crash mid-write leaves a .partial file, never an archive that looks complete.
        partial.rename(archive)
    return manifest


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def read_manifest(tar):
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except (KeyError, ValueError, TypeError):
        raise BackupError("not a backup of this platform: no readable manifest.json") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}; expected {FORMAT}")
    return manifest


def _existing_data(database, attachment_root):
    """What an instance already holds: row counts of tables that exist, and attachment files."""
    with database.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
        )
        tables = {row[0] for row in cursor.fetchall()}
        held = {}
        for key, table in counted_tables().items():
            if table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - model table
                if count := cursor.fetchone()[0]:
                    held[key] = count
    root = Path(attachment_root)
    files = sum(1 for path in root.rglob("*") if path.is_file()) if root.is_dir() else 0
    if files:
        held["attachment files"] = files
    return held


def restore_backup(archive, *, database, attachment_root):
    """Load `archive` into an empty instance: the database (whose schema may have been migrated
    and seeded, but holds no account, report or attachment) and ATTACHMENT_ROOT (no files).
    Returns the manifest after checking the restored counts against it.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    attachment_root = Path(attachment_root)
    held = _existing_data(database, attachment_root)
    if held:
        listed = ", ".join(f"{count} {what}" for what, count in held.items())
        raise BackupError(
            f"this instance is not empty ({listed}): restore only into a new, empty database "
            "and attachment directory, so nothing is overwritten"
        )
    with tempfile.TemporaryDirectory() as workdir, tarfile.open(archive, "r:gz") as tar:
        manifest = read_manifest(tar)
        # The "data" filter refuses absolute paths, links out of the directory and devices.
        tar.extractall(workdir, filter="data")
        dump = Path(workdir) / DUMP
        if not dump.is_file():
            raise BackupError(f"{archive} holds no {DUMP}")
        with database.connect(autocommit=True) as connection:
            # A migrated (and seeded) empty instance: its schema makes way for the dump's.
            connection.execute("DROP SCHEMA public CASCADE")
            connection.execute("CREATE SCHEMA public")
        argv, env = database.command(
            "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"
        )
        _run([*argv, str(dump)], env)
        files = Path(workdir) / ATTACHMENTS
        if files.is_dir():
            shutil.copytree(files, attachment_root, dirs_exist_ok=True)
    with database.connect() as connection, connection.cursor() as cursor:
        restored = _counts(cursor)
    if restored != manifest["counts"]:
        raise BackupError(
            f"the restored database does not match the manifest: {restored} != {manifest['counts']}"
        )
    return manifest


def default_database(alias="default"):
    return Database.from_settings(settings.DATABASES[alias])
