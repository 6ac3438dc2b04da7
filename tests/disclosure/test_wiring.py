"""The glue owns the wiring (DESIGN §1): one owner per command, reminders and intake hooks
registered at start-up, tasks started by name that still run in the embedded default.
"""

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands

from advisories import publication
from advisories import reminders as advisory_reminders
from advisories import services as advisory_services
from advisories.models import ChecklistTemplate
from projects import reminders as project_reminders
from projects.models import Project
from reports import extensions
from reports import reminders as report_reminders

ROOT = Path(__file__).resolve().parents[2]


def test_seed_projects_has_exactly_one_owner_the_glue():
    owners = [
        path.parent.parent.parent.name
        for path in ROOT.glob("*/management/commands/seed_projects.py")
    ]
    assert owners == ["disclosure"]
    assert get_commands()["seed_projects"] == "disclosure"


@pytest.mark.django_db
def test_seed_projects_seeds_the_projects_and_stalwarts_checklist():
    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert set(Project.objects.values_list("slug", flat=True)) == {
        "stalwart",
        "teammail",
        "mailtri-router",
    }
    assert list(ChecklistTemplate.objects.values_list("project__slug", flat=True)) == ["stalwart"]
    assert "created stalwart incident checklist" in out.getvalue()


def test_installed_apps_order_carries_no_meaning():
    """Reordering INSTALLED_APPS once silently stopped seeding checklists; now every app's
    command, template tag library and URL name has one owner, whatever the order.
    """
    ours = ["projects", "mailer", "reports", "advisories", "disclosure"]
    assert [app for app in settings.INSTALLED_APPS if app in ours] == ours
    commands = [
        path.stem
        for app in ours
        for path in (ROOT / app / "management" / "commands").glob("*.py")
        if path.stem != "__init__"
    ]
    assert len(commands) == len(set(commands)), commands
    libraries = [
        path.stem for app in ours for path in (ROOT / app / "templatetags").glob("[!_]*.py")
    ]
    assert len(libraries) == len(set(libraries)), libraries


def test_the_glue_registers_every_apps_reminders_and_the_disclosure_intake_hook():
    assert extensions.reminder_sources() == (
        report_reminders.SLA,
        advisory_reminders.DISCLOSURE,
        project_reminders.END_OF_SUPPORT,
        publication.SCHEDULED_PUBLICATIONS,
    )
    assert extensions.intake_hooks() == (advisory_services.start_disclosure,)
    kinds = report_reminders.kinds()
    assert set(report_reminders.Kind) | set(advisory_reminders.Kind) == set(kinds)


def test_transitions_have_their_own_url_segment():
    from django.urls import resolve

    assert resolve("/reports/STW-2026-0001/transitions/acknowledge/").url_name == "transition"
    # A page of advisories under a report is not taken for a transition, whatever the order.
    assert resolve("/reports/STW-2026-0001/checklist/").namespace == "advisories"
    assert resolve("/reports/STW-2026-0001/advisory/").namespace == "advisories"


# --- Tasks started by name in the embedded default ----------------------------------------------

EMBEDDED = textwrap.dedent(
    """
    import django
    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.contrib.auth import get_user_model
    from projects.models import Project
    from reports import services
    from mailer.models import OutboundEmail

    assert settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL
    call_command("migrate", verbosity=0)
    call_command("seed_projects", verbosity=0)
    reporter = get_user_model().objects.create_user("r", "reporter@example.org", "x")
    report = services.file_report(
        project=Project.objects.get(slug="stalwart"),
        reporter=reporter,
        fields={
            "title": "Heap overflow",
            "reporter_cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        },
    )
    report.refresh_from_db()
    print("SCORE", report.reporter_cvss_score)
    print("PENDING", OutboundEmail.objects.filter(sent_at__isnull=True).count())
    print("SENT", OutboundEmail.objects.filter(sent_at__isnull=False).count())
    """
)


@pytest.mark.heavy
def test_tasks_started_by_name_run_in_process_without_a_broker(tmp_path):
    """No broker (make run on a bare machine): scoring and delivery, enqueued after commit by task
    name, must still run, in-process. Celery's send_task would ignore eager mode and try to
    reach a broker; a fresh process, so nothing the test suite imported registers the tasks.
    """
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "REDIS_", "DATABASE_", "EMAIL_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED],
        cwd=ROOT,
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "disclosure.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_ATTACHMENT_ROOT": str(tmp_path / "attachments"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["SCORE"] == "9.8"  # compute_cvss ran
    assert lines["PENDING"] == "0"  # deliver_outbox ran
    assert int(lines["SENT"]) >= 1  # the reporter's "Report received", at least
