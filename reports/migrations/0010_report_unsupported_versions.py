"""Reminders that announce or perform the closure of a report waiting for its reporter are
dropped where the report's policy no longer closes such reports.

projects' migration 0007 took the invented 30-day closure off the seeded revisions (no seeded
policy says a report is closed when its reporter does not answer). Reports waiting for an answer
at that moment still had a pending warning ("Without an answer the report will be closed on
...") and a pending closure planned from the old value; the sweep would have sent the warning.
Pending ones are deleted; sent ones stay as history. Backwards re-plans nothing: the next change
of such a report plans its reminders again (reports.reminders.sync).
"""

from django.db import migrations

CLOSURE_KINDS = ["info_close_warning", "info_auto_close"]


def drop_unstated_closures(apps, schema_editor):
    Reminder = apps.get_model("reports", "Reminder")
    Reminder.objects.filter(
        sent_at__isnull=True,
        kind__in=CLOSURE_KINDS,
        report__revision__needs_info_close_days__isnull=True,
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0009_report_cvss_error"),
        ("projects", "0007_needs_info_close_only_where_stated"),
    ]

    operations = [
        migrations.RunPython(drop_unstated_closures, migrations.RunPython.noop),
    ]
