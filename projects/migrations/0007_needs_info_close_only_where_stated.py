"""Reports waiting for the reporter are closed automatically only where the policy says so.

The platform gave every revision `needs_info_close_days = 30`: a report whose reporter had not
answered a request for information within 30 days was withdrawn. No seeded policy says that
(Stalwart promises "Status updates: Every 7 days until resolved", TeamMail "write back to you
within two weeks", mailtri-router "We'll keep you informed of our progress"; none speaks of
closing a report for want of an answer). The default is now blank (never), and the seeded
revisions that still hold the invented 30 lose it.

A revision in force never changes (PolicyRevision.is_locked) because reports filed under it keep
its promises. This correction keeps them: it removes a rule the project never published and that
acted only against reporters; no promise the policy made is touched. It is limited to the
seeded revisions (by project and date) still holding the old default, so a revision whose policy
does state a delay keeps it. The reminders already planned from the old value (warning and
closure of reports waiting today) are dropped by reports' migration 0010, which runs after this.
Backwards gives the seeded revisions their 30 days back.
"""

import datetime

from django.db import migrations, models

OLD_DEFAULT = 30
SEEDED = [
    ("stalwart", datetime.date(2025, 6, 20)),
    ("stalwart", datetime.date(2025, 7, 16)),
    ("teammail", datetime.date(2026, 11, 23)),
    ("mailtri-router", datetime.date(2026, 11, 23)),
]


def forget_invented_closure(apps, schema_editor):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for slug, day in SEEDED:
        PolicyRevision.objects.filter(
            project__slug=slug, effective_from=day, needs_info_close_days=OLD_DEFAULT
        ).update(needs_info_close_days=None)


def restore_old_default(apps, schema_editor):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for slug, day in SEEDED:
        PolicyRevision.objects.filter(
            project__slug=slug, effective_from=day, needs_info_close_days=None
        ).update(needs_info_close_days=OLD_DEFAULT)


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0006_policyrevision_effective_statement'),
    ]

    operations = [
        migrations.AlterField(
            model_name='policyrevision',
            name='needs_info_close_days',
            field=models.PositiveIntegerField(blank=True, help_text="Only if the policy says so: reports waiting for the reporter's answer are closed as withdrawn after this many days. Blank: never closed automatically.", null=True),
        ),
        migrations.RunPython(forget_invented_closure, restore_old_default),
    ]
