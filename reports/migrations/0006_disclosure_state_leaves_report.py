"""The disclosure state is advisories' (advisories.Disclosure; its migration 0003 copies the
values first and runs before this one), and reminder kinds are named by the app that plans them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0005_outbox_and_notices_move_down"),
    ]

    operations = [
        migrations.RemoveField(model_name="report", name="actively_exploited"),
        migrations.RemoveField(model_name="report", name="checklist_done"),
        migrations.RemoveField(model_name="report", name="checklist_total"),
        migrations.RemoveField(model_name="report", name="disclosure_agreed_on"),
        migrations.RemoveField(model_name="report", name="disclosure_due"),
        migrations.RemoveField(model_name="report", name="fix_released_on"),
        migrations.AlterField(
            model_name="reminder",
            name="due_at",
            field=models.DateTimeField(help_text="The date this reminder is about."),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="kind",
            field=models.CharField(help_text="Named by the app that planned it.", max_length=30),
        ),
    ]
