"""`manage.py seed_projects`: the projects app's seed plus the incident-checklist templates.

This app comes before projects in INSTALLED_APPS, so Django runs this command for the name; it
keeps projects/ free of any import of advisories/ (DESIGN §1).
"""

from advisories.services import seed_checklists
from projects.management.commands.seed_projects import Command as ProjectsSeedCommand


class Command(ProjectsSeedCommand):
    def handle(self, *args, **options):
        super().handle(*args, **options)
        for line in seed_checklists():
            self.stdout.write(f"created {line}")
