"""`manage.py backup <archive>`: the database and the attachment store in one archive
(disclosure.backup)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disclosure import backup


class Command(BaseCommand):
    help = (
        "Write the database (pg_dump custom format) and the attachment store into one .tar.gz "
        "archive; restore it with `manage.py restore`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", help="The archive to write, e.g. disclosure-2026-12-01.tar.gz"
        )
        parser.add_argument("--database", default="default", help="Database alias (default).")

    def handle(self, *args, archive, database, **options):
        try:
            manifest = backup.create_backup(
                archive,
                database=backup.default_database(database),
                attachment_root=settings.ATTACHMENT_ROOT,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        counts = ", ".join(f"{count} {what}" for what, count in manifest["counts"].items())
        self.stdout.write(f"wrote {archive}: {counts}")
