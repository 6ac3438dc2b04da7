"""Two indexes of the outbox that no query needs, dropped: every row written kept them up.

- outbox_about_idx (about, created_at): outbox_thread_idx (about, to, id) serves a report's
  messages as well (ids grow with time).
- The LIKE index (varchar_pattern_ops) PostgreSQL gets for a unique CharField: nothing asks
  dedup_key for a prefix. The uniqueness itself stays, as the same constraint under the same
  name: only the model's state says it as a Meta constraint (no index is rebuilt).

Both are dropped CONCURRENTLY on PostgreSQL (no lock that would stop the outbox's writers),
hence `atomic = False`.
"""

from django.db import migrations, models

from projects.schema import RemoveIndexOnline

LIKE_INDEX = "mailer_outboundemail_dedup_key_3145914a_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # the only one that makes it
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {LIKE_INDEX}")


def make_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {LIKE_INDEX} "
            "ON mailer_outboundemail (dedup_key varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mailer", "0005_outbox_thread_index"),
    ]

    operations = [
        RemoveIndexOnline(model_name="outboundemail", name="outbox_about_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboundemail",
                    name="dedup_key",
                    field=models.CharField(
                        blank=True,
                        help_text=(
                            "Set where a message must never be made twice (one reminder, one "
                            "address)."
                        ),
                        max_length=255,
                        null=True,
                    ),
                ),
                migrations.AddConstraint(
                    model_name="outboundemail",
                    constraint=models.UniqueConstraint(
                        fields=["dedup_key"], name="mailer_outboundemail_dedup_key_key"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_like_index, make_like_index),
            ],
        ),
    ]
