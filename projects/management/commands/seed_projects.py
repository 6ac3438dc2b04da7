from django.core.management.base import BaseCommand

from projects.services import seed_projects


class Command(BaseCommand):
    help = "Create the hosted projects (Stalwart, TeamMail, mailtri-router). Idempotent."

    def handle(self, *args, **options):
        created = seed_projects()
        for line in created:
            self.stdout.write(f"created {line}")
        if not created:
            self.stdout.write("seed projects already present; nothing changed")
