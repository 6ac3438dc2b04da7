"""How an existing instance gets what the policies say (branch policies-say-what-they-say).

An instance seeded before holds the seed's old values in revisions in force, which nothing may
edit (PolicyRevision.is_locked); the data migrations correct the seeded rows where they still
hold those values, and leave anything else as it is. Migrated backwards to the schema before,
filled through the historical models, then forwards, on the test database itself.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from advisories.models import ChecklistItem
from projects.models import PolicyRevision, Project
from reports.models import Reminder, Report

BEFORE = [
    ("projects", "0003_endofsupportnotice"),
    ("reports", "0009_report_cvss_error"),
    ("advisories", "0003_disclosure"),
]
T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
OLD_TEAMMAIL_SCOPE = "TeamMail (frontend and backend), its docker images and dependencies."
OLD_MAILTRI_ADDITIONAL = (
    "### Security best practices for users\n\n"
    "- Keep dependencies updated: regularly update npm packages\n"
    "- Use environment variables: never hardcode secrets in your code\n"
    "- Enable AWS CloudTrail; use IAM least privilege; enable S3 server-side encryption for email "
    "storage\n"
    "- Monitor logs: set up CloudWatch alarms for error rates\n\n"
    "### Known security considerations\n\n"
    "- **Email spoofing**: configure SPF/DKIM/DMARC, validate sender addresses, rate-limit\n"
    "- **AWS**: be cautious with cross-account S3 access, minimize Lambda execution roles, "
    "configure SQS\n"
    "  visibility timeouts appropriately\n"
    "- **Network**: HTTPS only, proper CORS for webhook endpoints, optional IP allow-listing"
)
OLD_STALWART_CVE = (
    "Security advisories are published through GitHub Security Advisories. A CVE is requested "
    "for vulnerabilities with a CVSS score\nof 4.0 or more."
)
PHASE_1 = "Phase 1: Initial Assessment & Validation"
REVIEW = "Post-Incident Review"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_world(apps):
    """The three seeded projects as the old seed left them (mailtri-router's scope and closure
    delay changed by hand, its languages too), three reports and a started checklist.
    """
    user = apps.get_model("auth", "User").objects.create(username="r", email="r@example.org")
    Project = apps.get_model("projects", "Project")
    Revision = apps.get_model("projects", "PolicyRevision")  # noqa: N806
    Version = apps.get_model("projects", "SupportedVersion")  # noqa: N806
    Report = apps.get_model("reports", "Report")
    Reminder = apps.get_model("reports", "Reminder")
    projects = {
        slug: Project.objects.create(
            slug=slug, name=slug, tracking_prefix=prefix, security_email=f"s@{slug}.example",
            preferred_languages=languages,
        )
        for slug, prefix, languages in (
            ("stalwart", "STW", "en"),
            ("teammail", "TMM", "en, fr"),
            ("mailtri-router", "MTR", "de"),
        )
    }  # fmt: skip
    stalwart = {
        day: Revision.objects.create(
            project=projects["stalwart"], effective_from=day, disclosure_text=OLD_STALWART_CVE
        )
        for day in (dt.date(2025, 6, 20), dt.date(2025, 7, 16))
    }
    for order, (series, end) in enumerate([("0.13.x", None), ("0.12.x", dt.date(2025, 12, 31))]):
        Version.objects.create(
            revision=stalwart[dt.date(2025, 7, 16)], series=series, order=order, end_of_support=end
        )
    Revision.objects.create(
        project=projects["teammail"], effective_from=dt.date(2026, 11, 23),
        scope_in=OLD_TEAMMAIL_SCOPE,
        intake_required=["description", "affected_versions", "steps_to_reproduce", "impact"],
        intake_helpful=["proof_of_concept", "suggested_fix"],
    )  # fmt: skip
    mailtri = Revision.objects.create(
        project=projects["mailtri-router"], effective_from=dt.date(2026, 11, 23),
        scope_in="Changed by hand.", additional_text=OLD_MAILTRI_ADDITIONAL,
        needs_info_close_days=45,
    )  # fmt: skip

    def report(project, revision, number, created, **fields):
        return Report.objects.create(
            project=project, revision=revision, tracking_id=f"X-{number}", year=2026,
            sequence=number, reporter=user, title="Old", created_at=created,
            last_update_at=created, **fields,
        )  # fmt: skip

    waiting = report(
        projects["stalwart"], stalwart[dt.date(2025, 7, 16)], 1, T0, state="needs_info",
        affected_versions=["0.13.x", "0.12.x", "other/unknown"],
    )  # fmt: skip
    earlier = report(
        projects["stalwart"], stalwart[dt.date(2025, 7, 16)], 2,
        dt.datetime(2025, 12, 1, tzinfo=dt.UTC), affected_versions=["0.12.x"],
    )  # fmt: skip
    stated = report(projects["mailtri-router"], mailtri, 3, T0, state="needs_info")
    for filed, kind, sent in (
        (waiting, "info_nudge", T0),
        (waiting, "info_close_warning", None),
        (waiting, "info_auto_close", None),
        (stated, "info_auto_close", None),
    ):
        Reminder.objects.create(report=filed, kind=kind, due_at=T0, send_at=T0, sent_at=sent)

    Item = apps.get_model("advisories", "ChecklistItem")  # noqa: N806
    for order, (phase, kind, label, done, value) in enumerate(
        [
            (PHASE_1, "task", "Reproduce", True, ""),
            (PHASE_1, "field", "Severity level", True, "High"),
            (REVIEW, "field", "What went well?", False, ""),
        ]
    ):
        Item.objects.create(
            report=waiting, phase=phase, order=order, kind=kind, label=label, done=done,
            value=value,
        )  # fmt: skip
    return waiting, earlier, stated


def checklist(report_id):
    return list(
        ChecklistItem.objects.filter(report_id=report_id)
        .order_by("order")
        .values_list("order", "phase", "kind", "label", "done", "value")
    )


@pytest.mark.heavy
@pytest.mark.django_db(transaction=True)
def test_an_instance_seeded_before_says_what_the_policies_say():
    try:
        waiting, earlier, stated = old_world(migrate(BEFORE))
        migrate(latest())

        # security.txt languages: the seed's are gone, an admin's choice stays.
        assert dict(Project.objects.values_list("slug", "preferred_languages")) == {
            "stalwart": "",
            "teammail": "",
            "mailtri-router": "de",
        }
        revisions = {
            (r.project.slug, r.effective_from.isoformat()): r
            for r in PolicyRevision.objects.select_related("project")
        }
        teammail = revisions["teammail", "2026-11-23"]
        mailtri = revisions["mailtri-router", "2026-11-23"]
        # Scope: the seed's invented one is gone, a hand-written one stays.
        assert (teammail.scope_in, mailtri.scope_in) == ("", "Changed by hand.")
        assert "### Security features" in mailtri.additional_text
        assert "HTML and script tags are stripped from email content" in mailtri.additional_text
        # The Stalwart texts' own date.
        assert revisions["stalwart", "2025-06-20"].effective_statement.startswith(
            "This security policy is effective as of June 20, 2025"
        )
        assert revisions["stalwart", "2025-07-16"].effective_statement.startswith(
            "*This security policy is effective as of June 20, 2025"
        )
        assert teammail.effective_statement == ""
        # Stalwart's CVE words are the process's; TeamMail's form asks what its policy asks.
        for day in ("2025-06-20", "2025-07-16"):
            assert revisions["stalwart", day].disclosure_text.endswith(
                'lists the step\n"Submit CVE request if warranted (CVSS ≥ 4.0)".'
            )
        assert (teammail.intake_required, teammail.intake_helpful) == (
            ["description"],
            ["steps_to_reproduce", "impact", "proof_of_concept", "suggested_fix"],
        )
        # Closure of unanswered reports: off where the seed had invented it, kept where set.
        assert [r.needs_info_close_days for r in revisions.values()].count(None) == 3
        assert mailtri.needs_info_close_days == 45
        assert set(Reminder.objects.values_list("report_id", "kind", "sent_at")) == {
            (waiting.pk, "info_nudge", T0),  # sent: history
            (stated.pk, "info_auto_close", None),  # its policy still closes
        }
        # Unsupported versions on the filing day.
        assert Report.objects.get(pk=waiting.pk).unsupported_versions == ["0.12.x"]
        assert Report.objects.get(pk=earlier.pk).unsupported_versions == []
        assert Report.objects.get(pk=stated.pk).unsupported_versions == []
        # The started checklist: each phase opens with its notes, the rest as it was.
        prompt = (
            "Use this section to detail the report received, initial assessment, and "
            "validation results"
        )
        assert checklist(waiting.pk) == [
            (0, PHASE_1, "notes", prompt, False, ""),
            (1, PHASE_1, "task", "Reproduce", True, ""),
            (2, PHASE_1, "field", "Severity level", True, "High"),
            (3, REVIEW, "notes", "", False, ""),
            (4, REVIEW, "field", "What went well?", False, ""),
        ]

        # Backwards: the checklist as it was, the seeded values back.
        migrate(BEFORE)
        assert checklist(waiting.pk) == [
            (0, PHASE_1, "task", "Reproduce", True, ""),
            (1, PHASE_1, "field", "Severity level", True, "High"),
            (2, REVIEW, "field", "What went well?", False, ""),
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT scope_in, needs_info_close_days FROM projects_policyrevision WHERE id = %s",
                [teammail.pk],
            )
            assert cursor.fetchone() == (OLD_TEAMMAIL_SCOPE, 30)
    finally:
        migrate(latest())  # whatever happens, the next tests get the latest schema
