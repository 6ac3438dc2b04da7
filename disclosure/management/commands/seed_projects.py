"""`manage.py seed_projects`: the hosted projects with their published policies (projects) and
their incident checklists (advisories), and the Site named after SITE_URL (disclosure.sites).
Idempotent: what exists is kept, except a checklist template still exactly as an earlier
version shipped it (advisories.services.seed_checklists) and a Site that no longer matches the
settings. Run by `make run` and by compose's one-shot migrate service.
"""

from django.core.management.base import BaseCommand

from advisories.services import seed_checklists
from disclosure.sites import sync_site
from projects.services import seed_projects


class Command(BaseCommand):
    help = "Create the hosted projects (Stalwart, TeamMail, mailtri-router). Idempotent."

    def handle(self, *args, **options):
        done = [f"created {line}" for line in seed_projects()] + seed_checklists()
        if site := sync_site():
            done.append(site)
        for line in done:
            self.stdout.write(line)
        if not done:
            self.stdout.write("seed projects already present; nothing changed")
