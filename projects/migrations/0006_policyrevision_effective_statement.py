"""Each revision keeps the text's own statement of its date, and the seeded Stalwart revisions
get theirs.

Both Stalwart texts end with "This security policy is effective as of June 20, 2025 and may be
updated periodically. Check back regularly for updates." (SECURITY.md in italics), while the
platform called the current one "effective 2025-07-16" (the day that text was taken in). The
statement was always part of the published text; the platform had dropped it. Filling it in on
the revisions in force (PolicyRevision.is_locked) adds the policy's own words and changes no
promise a report relies on; only revisions whose statement is still empty are filled, and
backwards empties only what this filled.
"""

import datetime

from django.db import migrations, models


WORDS = (
    "This security policy is effective as of June 20, 2025 and may be updated periodically. "
    "Check back regularly for updates."
)
STATEMENTS = {
    datetime.date(2025, 6, 20): WORDS,  # the 0.12-era web page, plain text
    datetime.date(2025, 7, 16): f"*{WORDS}*",  # SECURITY.md, in italics
}


def fill(apps, schema_editor):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for day, statement in STATEMENTS.items():
        PolicyRevision.objects.filter(
            project__slug="stalwart", effective_from=day, effective_statement=""
        ).update(effective_statement=statement)


def unfill(apps, schema_editor):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for day, statement in STATEMENTS.items():
        PolicyRevision.objects.filter(
            project__slug="stalwart", effective_from=day, effective_statement=statement
        ).update(effective_statement="")


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0005_seeded_revisions_show_only_their_sections'),
    ]

    operations = [
        migrations.AddField(
            model_name='policyrevision',
            name='effective_statement',
            field=models.TextField(blank=True, help_text='Markdown: the text\'s own statement of when it is effective, word for word (Stalwart: "This security policy is effective as of June 20, 2025 ...").'),
        ),
        migrations.RunPython(fill, unfill),
    ]
