"""Severity follows the maintainers' CVSS score; reports keep the exact affected version.

Existing reports with a scored maintainers' vector: an empty severity, or one that agrees with the
score, now follows the score. A severity that contradicts the score was chosen by a person at
triage (often before the vector was scored) and lists, filters and emails have shown it since:
it is not thrown away silently. It becomes an override with the reason "Set before severity
followed CVSS.", shown as such to the members, who keep it or remove the override (one click
returns to the CVSS severity), and the audit trail records the conversion. Backwards, the
override reasons are dropped with their column; severities stay as they are.
"""

from django.db import migrations, models
from django.utils import timezone

REASON = "Set before severity followed CVSS."
RATINGS = {"none", "low", "medium", "high", "critical"}


def follow_cvss(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    ReportEvent = apps.get_model("reports", "ReportEvent")
    scored = Report.objects.exclude(cvss_vector="").exclude(cvss_severity="")
    now = timezone.now()
    for report in scored.only("pk", "severity", "cvss_severity", "cvss_score").iterator():
        rating = report.cvss_severity.lower()
        if rating not in RATINGS or report.severity == rating:
            continue
        if report.severity:
            report.severity_override_reason = REASON
            message = (
                f"Severity {report.severity}, kept as an override of CVSS {report.cvss_score} "
                f"{report.cvss_severity}: {REASON}"
            )
            public = False
        else:
            report.severity = rating
            message = f"Severity follows the CVSS score: {report.cvss_severity}."
            public = True
        report.save(update_fields=["severity", "severity_override_reason"])
        ReportEvent.objects.create(
            report=report,
            kind="severity",
            message=message,
            public=public,
            data={"severity": report.severity, "migrated": True},
            created_at=now,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0011_report_unsupported_versions'),
    ]

    operations = [
        migrations.AddField(
            model_name='report',
            name='affected_version',
            field=models.CharField(blank=True, help_text='The exact version the reporter found affected, e.g. "0.13.2"; its series is in affected_versions when the policy has a version matrix.', max_length=100),
        ),
        migrations.AddField(
            model_name='report',
            name='severity_override_reason',
            field=models.TextField(blank=True, help_text="Why the severity differs from the maintainers' CVSS rating (members only); empty: it follows the CVSS score."),
        ),
        migrations.RunPython(follow_cvss, migrations.RunPython.noop),
    ]
