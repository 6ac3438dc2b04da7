"""Credit choices made on unpublished advisories become the participants' own choices on the
report (reports.CreditPreference), where they now live until publication; published advisories
keep their credits as the public record.
"""

from django.db import migrations


def move_choices(apps, schema_editor):
    Credit = apps.get_model("advisories", "Credit")
    CreditPreference = apps.get_model("reports", "CreditPreference")
    drafts = Credit.objects.filter(user__isnull=False, advisory__published_at__isnull=True)
    for credit in drafts.select_related("advisory"):
        CreditPreference.objects.get_or_create(
            report_id=credit.advisory.report_id,
            user_id=credit.user_id,
            defaults={"display": credit.display, "name": credit.name, "handle": credit.handle},
        )
    drafts.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("advisories", "0004_fix_review_and_scheduled_publication"),
        ("reports", "0010_credit_preferences"),
    ]

    operations = [
        migrations.RunPython(move_choices, migrations.RunPython.noop),
    ]
