"""security.txt states only the languages a project's policy states.

The seeds used to give Stalwart and mailtri-router "en" and TeamMail "en, fr", yet none of the
three policies names a language (TeamMail's only asks to "email the issues privately to
openpaas-james[AT]linagora.com"). A project row is not a published promise (admins edit it), so
the correction is plain: the seeded projects that still hold the value the seed gave them lose
it; a value an admin chose since is kept.
"""

from django.db import migrations, models

SEEDED = {"stalwart": "en", "mailtri-router": "en", "teammail": "en, fr"}


def forget_unstated_languages(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    for slug, seeded in SEEDED.items():
        Project.objects.filter(slug=slug, preferred_languages=seeded).update(preferred_languages="")


def restore_seeded_languages(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    for slug, seeded in SEEDED.items():
        Project.objects.filter(slug=slug, preferred_languages="").update(preferred_languages=seeded)


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0003_endofsupportnotice'),
    ]

    operations = [
        migrations.AlterField(
            model_name='project',
            name='preferred_languages',
            field=models.CharField(blank=True, help_text='Comma-separated language tags (RFC 5646), only those the policy states; blank: security.txt names none.', max_length=50),
        ),
        migrations.RunPython(forget_unstated_languages, restore_seeded_languages),
    ]
