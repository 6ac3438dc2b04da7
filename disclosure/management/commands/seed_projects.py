"""`manage.py seed_projects`: the hosted projects with their published policies (projects) and
their incident checklists (advisories). Idempotent: what exists is kept, except a checklist
template still exactly as an earlier version shipped it (advisories.services.seed_checklists).
"""

from django.core.management.base import BaseCommand

from advisories.services import seed_checklists
from projects.services import seed_projects


class Command(BaseCommand):
    help = "Create the hosted projects (Stalwart, TeamMail, mailtri-router). Idempotent."

    def handle(self, *args, **options):
        done = [f"created {line}" for line in seed_projects()] + seed_checklists()
        for line in done:
            self.stdout.write(line)
        if not done:
            self.stdout.write("seed projects already present; nothing changed")
