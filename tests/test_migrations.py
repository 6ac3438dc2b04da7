"""The data migrations of the app boundaries: values leave reports.Report and reports' outbox and
arrive in advisories.Disclosure, mailer.OutboundEmail and projects.EndOfSupportNotice.

Migrated backwards to the schema before the move, filled through the historical models, then
forwards to the latest schema, on the test database itself.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from advisories.models import Disclosure
from mailer.models import OutboundEmail
from projects.models import EndOfSupportNotice

BEFORE = [
    ("projects", "0002_policyrevision_needs_info_close_days_and_more"),
    ("reports", "0004_endofsupportnotice"),
    ("advisories", "0002_alter_advisory_affected_series_and_more"),
    ("mailer", None),
]
T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def migrate(targets):
    """Migrate to `targets`; the models as they were there ((app, None): not installed yet)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_world(apps):
    """Two reports under the old schema: Stalwart-like (90 days after the report) with an agreed
    date and checklist progress, TeamMail-like (7 days after the release) with a release date;
    two outbox rows (one for a reminder) and an end-of-support notice.
    """
    user = apps.get_model("auth", "User").objects.create(username="r", email="r@example.org")
    Project = apps.get_model("projects", "Project")
    Revision = apps.get_model("projects", "PolicyRevision")
    Report = apps.get_model("reports", "Report")
    reports = {}
    for slug, prefix, rule in (
        ("stw", "STW", {"disclosure_days_after_report": 90}),
        ("tmm", "TMM", {"disclosure_days_after_release": 7}),
    ):
        project = Project.objects.create(
            slug=slug, name=slug, tracking_prefix=prefix, security_email=f"s@{slug}.example"
        )
        revision = Revision.objects.create(
            project=project, effective_from=dt.date(2025, 1, 1), **rule
        )
        reports[slug] = Report.objects.create(
            project=project,
            revision=revision,
            tracking_id=f"{prefix}-2026-0001",
            year=2026,
            sequence=1,
            reporter=user,
            title="Old report",
            created_at=T0,
            last_update_at=T0,
        )
    Report.objects.filter(pk=reports["stw"].pk).update(
        disclosure_agreed_on=dt.date(2027, 1, 15),
        actively_exploited=True,
        checklist_done=3,
        checklist_total=63,
    )
    Report.objects.filter(pk=reports["tmm"].pk).update(fix_released_on=dt.date(2026, 12, 10))
    reminder = apps.get_model("reports", "Reminder").objects.create(
        report=reports["stw"], kind="ack_overdue", due_at=T0, send_at=T0, sent_at=T0
    )
    Email = apps.get_model("reports", "OutboundEmail")
    pending = Email.objects.create(report=reports["stw"], to="m@example.org", subject="s", body="b")
    sent = Email.objects.create(
        report=reports["stw"], reminder=reminder, to="m@example.org", subject="r", body="b",
        sent_at=T0,
    )  # fmt: skip
    version = apps.get_model("projects", "SupportedVersion").objects.create(
        revision=reports["stw"].revision, series="1.x"
    )
    apps.get_model("reports", "EndOfSupportNotice").objects.create(version=version, sent_at=T0)
    return reports, reminder, pending, sent, version


@pytest.mark.django_db(transaction=True)
def test_the_values_move_to_the_apps_that_own_them():
    try:
        reports, reminder, pending, sent, version = old_world(migrate(BEFORE))
    finally:
        migrate(latest())  # whatever happens, the next tests get the latest schema

    stw, tmm = (Disclosure.objects.get(pk=reports[slug].pk) for slug in ("stw", "tmm"))
    assert (stw.agreed_on, stw.actively_exploited, stw.checklist_done, stw.checklist_total) == (
        dt.date(2027, 1, 15),
        True,
        3,
        63,
    )
    assert stw.due == dt.datetime(2027, 1, 15, tzinfo=dt.UTC)  # the agreed date wins
    assert (tmm.fix_released_on, tmm.due) == (
        dt.date(2026, 12, 10),
        dt.datetime(2026, 12, 17, tzinfo=dt.UTC),  # one week after the release
    )

    moved = {email.pk: email for email in OutboundEmail.objects.all()}
    assert set(moved) == {pending.pk, sent.pk}  # same ids: the same Message-IDs
    assert (moved[pending.pk].about, moved[pending.pk].dedup_key, moved[pending.pk].sent_at) == (
        f"reports.report:{reports['stw'].pk}",
        None,
        None,
    )
    assert moved[sent.pk].dedup_key == f"reports.reminder:{reminder.pk}:m@example.org"
    # New rows continue after the copied ids (the sequence was moved on, on PostgreSQL too).
    assert OutboundEmail.objects.create(to="x@example.org", subject="s", body="b").pk > sent.pk

    assert list(EndOfSupportNotice.objects.values_list("version_id", "sent_at")) == [
        (version.pk, T0)
    ]
