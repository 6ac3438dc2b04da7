"""The outbox moves to the ground-floor mailer app and end-of-support notices to projects.

Rows are copied with their ids (the Message-ID of an undelivered message stays the same); the
outbox's foreign keys become its generic reference and dedup key.
"""

from django.core.management.color import no_style
from django.db import migrations

BATCH = 2000


def _reset_sequences(schema_editor, *models):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def move_down(apps, schema_editor):
    OldEmail = apps.get_model("reports", "OutboundEmail")
    NewEmail = apps.get_model("mailer", "OutboundEmail")
    emails = []
    for old in OldEmail.objects.order_by("pk").iterator(chunk_size=BATCH):
        emails.append(
            NewEmail(
                pk=old.pk,
                about=f"reports.report:{old.report_id}" if old.report_id else "",
                dedup_key=(
                    f"reports.reminder:{old.reminder_id}:{old.to}" if old.reminder_id else None
                ),
                to=old.to,
                subject=old.subject,
                body=old.body,
                html=old.html,
                created_at=old.created_at,
                sent_at=old.sent_at,
                attempts=old.attempts,
                last_error=old.last_error,
            )
        )
        if len(emails) == BATCH:
            NewEmail.objects.bulk_create(emails)
            emails = []
    NewEmail.objects.bulk_create(emails)

    OldNotice = apps.get_model("reports", "EndOfSupportNotice")
    NewNotice = apps.get_model("projects", "EndOfSupportNotice")
    NewNotice.objects.bulk_create(
        NewNotice(pk=old.pk, version_id=old.version_id, sent_at=old.sent_at)
        for old in OldNotice.objects.all()
    )
    _reset_sequences(schema_editor, NewEmail, NewNotice)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0004_endofsupportnotice"),
        ("mailer", "0001_initial"),
        ("projects", "0003_endofsupportnotice"),
    ]

    operations = [
        # Irreversible: the reverse would have to rebuild foreign keys from generic references.
        migrations.RunPython(move_down, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="EndOfSupportNotice"),
        migrations.DeleteModel(name="OutboundEmail"),
    ]
