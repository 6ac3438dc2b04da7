"""Reports carry the affected series that were out of support when they were filed; and
reminders that announce or perform the closure of a report waiting for its reporter are dropped
where the report's policy no longer closes such reports.

Unsupported versions: computed at intake from the matrix of the report's revision on the filing
day (PolicyRevision.unsupported_series). Existing reports get the same from their revision and
their filing date; the rule is repeated here as it stands today (historical models have no
methods): a row the policy lists as unsupported, or whose end of support had passed, is out of
support.

Closures: projects' migration 0007 took the invented 30-day closure off the seeded revisions (no
seeded policy says a report is closed when its reporter does not answer). Reports waiting for an
answer at that moment still had a pending warning ("Without an answer the report will be closed
on ...") and a pending closure planned from the old value; the sweep would have sent the warning.
Pending ones are deleted; sent ones stay as history. Backwards re-plans nothing: the next change
of such a report plans its reminders again (reports.reminders.sync).
"""

import datetime

from django.db import migrations, models

CLOSURE_KINDS = ["info_close_warning", "info_auto_close"]


def out_of_support(row, day):
    return not row.supported or (row.end_of_support is not None and day > row.end_of_support)


def flag_unsupported_versions(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    SupportedVersion = apps.get_model("projects", "SupportedVersion")
    reports = list(
        Report.objects.exclude(affected_versions=[]).only(
            "id", "revision_id", "affected_versions", "created_at"
        )
    )
    matrices = {}
    for row in SupportedVersion.objects.filter(
        revision_id__in={report.revision_id for report in reports}
    ).order_by("revision_id", "order"):
        matrices.setdefault(row.revision_id, []).append(row)
    flagged = []
    for report in reports:
        day = report.created_at.astimezone(datetime.UTC).date()  # TIME_ZONE is UTC
        chosen = set(report.affected_versions or [])
        report.unsupported_versions = [
            row.series
            for row in matrices.get(report.revision_id, [])
            if row.series in chosen and out_of_support(row, day)
        ]
        if report.unsupported_versions:
            flagged.append(report)
    Report.objects.bulk_update(flagged, ["unsupported_versions"], batch_size=500)


def drop_unstated_closures(apps, schema_editor):
    Reminder = apps.get_model("reports", "Reminder")
    Reminder.objects.filter(
        sent_at__isnull=True,
        kind__in=CLOSURE_KINDS,
        report__revision__needs_info_close_days__isnull=True,
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0010_credit_preferences"),
        ("projects", "0007_needs_info_close_only_where_stated"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="unsupported_versions",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Affected series out of support on the filing day, by the matrix of "
                "the report's revision (set at intake).",
            ),
        ),
        migrations.RunPython(flag_unsupported_versions, migrations.RunPython.noop),
        migrations.RunPython(drop_unstated_closures, migrations.RunPython.noop),
    ]
