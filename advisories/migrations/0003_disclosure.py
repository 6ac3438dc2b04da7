"""Disclosure: the disclosure state of a report, until now kept in columns of reports.Report.

The values move here before reports' migration 0006 drops those columns (run_before: reports'
migrations never name advisories). The due date is computed afresh by the rule of
Disclosure.compute_due, frozen below: from the filing time and these fields only.
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def _start_of_day(day):
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


def _due(report):
    policy = report.revision
    if report.disclosure_agreed_on:
        return _start_of_day(report.disclosure_agreed_on)
    if policy.disclosure_days_after_report:
        return report.created_at + datetime.timedelta(days=policy.disclosure_days_after_report)
    if policy.disclosure_days_after_release and report.fix_released_on:
        days = policy.disclosure_days_after_release
        return _start_of_day(report.fix_released_on) + datetime.timedelta(days=days)
    return None


def move_up(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    Disclosure = apps.get_model("advisories", "Disclosure")
    rows = []
    for report in Report.objects.select_related("revision").order_by("pk").iterator(BATCH):
        rows.append(
            Disclosure(
                report_id=report.pk,
                agreed_on=report.disclosure_agreed_on,
                fix_released_on=report.fix_released_on,
                actively_exploited=report.actively_exploited,
                checklist_done=report.checklist_done,
                checklist_total=report.checklist_total,
                due=_due(report),
            )
        )
        if len(rows) == BATCH:
            Disclosure.objects.bulk_create(rows)
            rows = []
    Disclosure.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('advisories', '0002_alter_advisory_affected_series_and_more'),
        ('reports', '0005_outbox_and_notices_move_down'),
    ]
    run_before = [
        ('reports', '0006_disclosure_state_leaves_report'),
    ]

    operations = [
        migrations.CreateModel(
            name='Disclosure',
            fields=[
                ('report', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='disclosure', serialize=False, to='reports.report')),
                ('agreed_on', models.DateField(blank=True, help_text="Agreed with the reporter, or set early for active exploitation; overrides the policy's rule.", null=True)),
                ('fix_released_on', models.DateField(blank=True, help_text='Starts TeamMail\'s "one week after the release".', null=True)),
                ('actively_exploited', models.BooleanField(default=False)),
                ('checklist_done', models.PositiveSmallIntegerField(default=0)),
                ('checklist_total', models.PositiveSmallIntegerField(default=0)),
                ('due', models.DateTimeField(blank=True, db_index=True, help_text='The disclosure date (compute_due).', null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(move_up, migrations.RunPython.noop, elidable=False),
    ]
