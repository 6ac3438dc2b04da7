"""Invitations expire and can be revoked. Those already sent expire 14 days after they were sent
(the new default of INVITATION_MAX_AGE_DAYS).
"""

import datetime

from django.db import migrations, models
from django.db.models import F, Q


def fourteen_days_after_sending(apps, schema_editor):
    Invitation = apps.get_model("reports", "Invitation")
    Invitation.objects.update(expires_at=F("created_at") + datetime.timedelta(days=14))


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0007_actors_side_when_they_acted"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fourteen_days_after_sending, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="invitation",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveConstraint(
            model_name="invitation",
            name="one_open_invitation_per_address",
        ),
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                fields=("report", "email"),
                name="one_open_invitation_per_address",
            ),
        ),
        migrations.AlterField(
            model_name="reportevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Report filed"),
                    ("transition", "State changed"),
                    ("severity", "Severity set"),
                    ("collaborator_added", "Collaborator added"),
                    ("collaborator_invited", "Collaborator invited"),
                    ("collaborator_removed", "Collaborator removed"),
                    ("invitation_revoked", "Invitation revoked"),
                    ("attachment", "Attachment added"),
                    ("cvss", "CVSS vector set"),
                    ("disclosure", "Disclosure"),
                ],
                max_length=30,
            ),
        ),
    ]
