"""`manage.py seed_projects`: the hosted projects with their published policies (projects) and
their incident checklists (advisories). Idempotent: nothing that exists is changed.
"""

from django.core.management.base import BaseCommand

from advisories.services import seed_checklists
from projects.services import seed_projects


class Command(BaseCommand):
    help = "Create the hosted projects (Stalwart, TeamMail, mailtri-router). Idempotent."

    def handle(self, *args, **options):
        created = seed_projects() + seed_checklists()
        for line in created:
            self.stdout.write(f"created {line}")
        if not created:
            self.stdout.write("seed projects already present; nothing changed")
