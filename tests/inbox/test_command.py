"""manage.py ingest_email: one message on standard input, the MTA's exit status out."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox import gateway
from mailer.models import InboundEmail
from reports.models import Report
from tests.inbox.conftest import message

REPO = Path(__file__).resolve().parents[2]


def ingest_email(raw, *recipients):
    """The command's exit status, as the MTA would see it."""
    arguments = [item for address in recipients for item in ("--recipient", address)]
    try:
        call_command("ingest_email", *arguments, stdin=io.BytesIO(raw))
    except SystemExit as exit:
        return exit.code
    return 0


@pytest.mark.django_db
def test_message_on_stdin_files_a_report_and_exits_0(seeded):
    assert ingest_email(message("plain")) == 0

    assert Report.objects.get().title == "Open relay in the SMTP submission listener"


@pytest.mark.django_db
def test_envelope_recipient_routes_the_message(seeded):
    assert ingest_email(message("unknown_recipient"), "security+teammail@disclosure.example") == 0

    assert Report.objects.get().project == seeded["teammail"]


@pytest.mark.django_db
def test_unknown_recipient_exits_67(seeded):
    assert ingest_email(message("unknown_recipient")) == 67

    assert not InboundEmail.objects.exists()


@pytest.mark.django_db
def test_unexpected_error_exits_75_and_is_logged(seeded, monkeypatch, caplog):
    def broken(raw, *, recipients=None, project=None):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gateway, "ingest", broken)

    assert ingest_email(message("plain")) == 75
    assert "ingest_email failed; the MTA will retry the message" in caplog.text


def test_real_process_exits_75_when_the_database_is_down(tmp_path):
    """What Postfix sees: the process's own exit status (here with a database nobody listens
    on, so the message must stay queued at the MTA)."""
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing?connect_timeout=2",
        "CELERY_BROKER_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", "--recipient", "security@stalw.art"],
        input=message("plain"),
        cwd=REPO,
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 75, result.stderr.decode()
