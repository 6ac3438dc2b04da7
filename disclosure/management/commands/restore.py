"""`manage.py restore <archive>`: an archive of `manage.py backup` into an empty instance
(disclosure.backup)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disclosure import backup


class Command(BaseCommand):
    help = (
        "Load an archive written by `manage.py backup` into this instance, which must be empty "
        "(migrated and seeded is fine; no accounts, reports or attachment files)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="An archive written by `manage.py backup`.")
        parser.add_argument("--database", default="default", help="Database alias (default).")

    def handle(self, *args, archive, database, **options):
        try:
            manifest = backup.restore_backup(
                archive,
                database=backup.default_database(database),
                attachment_root=settings.ATTACHMENT_ROOT,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        counts = ", ".join(f"{count} {what}" for what, count in manifest["counts"].items())
        self.stdout.write(f"restored {archive} (made {manifest['created_at']}): {counts}")
