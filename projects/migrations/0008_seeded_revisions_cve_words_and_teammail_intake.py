"""Two more places where the seeded revisions said more than the policies:

- Stalwart's disclosure text said "A CVE is requested for vulnerabilities with a CVSS score of 4.0
  or more." Neither Stalwart text says so; its incident response process lists "Submit CVE request
  if warranted (CVSS ≥ 4.0)". The sentence now quotes the process.
- TeamMail's report form required affected versions (from an empty matrix: "Other / unknown" was
  the only choice), steps to reproduce and impact; the policy asks only that the reporter "email
  the issues privately". The form requires a description and welcomes the rest.

A revision in force never changes (PolicyRevision.is_locked). Neither correction touches a promise
made to a reporter: the first is wording shown on the page (the CVE flag members see follows
Project.cve_threshold, unchanged), the second asks less of future reporters and nothing of
reports already filed. Only the seeded revisions still holding the seed's old values are
corrected; backwards restores them under the same condition.
"""

import datetime

from django.db import migrations

STALWART = [datetime.date(2025, 6, 20), datetime.date(2025, 7, 16)]
OLD_CVE = "A CVE is requested for vulnerabilities with a CVSS score\nof 4.0 or more."
NEW_CVE = (
    "Stalwart's incident response process lists the step\n"
    '"Submit CVE request if warranted (CVSS ≥ 4.0)".'
)
TEAMMAIL = datetime.date(2026, 11, 23)
OLD_INTAKE = {
    "intake_required": ["description", "affected_versions", "steps_to_reproduce", "impact"],
    "intake_helpful": ["proof_of_concept", "suggested_fix"],
}
NEW_INTAKE = {
    "intake_required": ["description"],
    "intake_helpful": ["steps_to_reproduce", "impact", "proof_of_concept", "suggested_fix"],
}


def correct(apps, *, old_cve, new_cve, old_intake, new_intake):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for revision in PolicyRevision.objects.filter(
        project__slug="stalwart", effective_from__in=STALWART
    ):
        if revision.disclosure_text.endswith(old_cve):
            revision.disclosure_text = revision.disclosure_text[: -len(old_cve)] + new_cve
            revision.save(update_fields=["disclosure_text"])
    for revision in PolicyRevision.objects.filter(
        project__slug="teammail", effective_from=TEAMMAIL
    ):
        if all(getattr(revision, field) == value for field, value in old_intake.items()):
            for field, value in new_intake.items():
                setattr(revision, field, value)
            revision.save(update_fields=list(new_intake))


def forwards(apps, schema_editor):
    correct(apps, old_cve=OLD_CVE, new_cve=NEW_CVE, old_intake=OLD_INTAKE, new_intake=NEW_INTAKE)


def backwards(apps, schema_editor):
    correct(apps, old_cve=NEW_CVE, new_cve=OLD_CVE, old_intake=NEW_INTAKE, new_intake=OLD_INTAKE)


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0007_needs_info_close_only_where_stated"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
