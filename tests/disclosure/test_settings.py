"""Settings are read once per process, so production-mode behaviour is tested in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7Lq9vN2pR4tW8yB3dF6hJ1kM5nP0sU2vX4zA7cE9gI3lO6qS8uW1yC4eG7iK0mQ",
    "DJANGO_ALLOWED_HOSTS": "disclosure.example.org",
    "SITE_URL": "https://disclosure.example.org",
    "DATABASE_URL": "sqlite:////tmp/disclosure-settings-test.sqlite3",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SITE_", "CVE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = manage("check", env={"DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]})
    # With DEBUG off the default host list is SITE_URL's host only; the check itself passes.
    assert result.returncode == 0, result.stderr
    code = "from django.conf import settings; print('DEBUG', settings.DEBUG)"
    result = manage(
        "shell", "-c", code, env={"DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}
    )
    assert "DEBUG False" in result.stdout.splitlines()


def test_cve_cna_settings_are_read_together():
    env = {
        **PRODUCTION_ENV,
        "CVE_CNA_ORG_ID": "8254265B-2729-46B6-B9E3-3DFCA2D5BFCA",
        "CVE_CNA_SHORT_NAME": "example-cna",
    }
    code = "from django.conf import settings; print(settings.CVE_CNA_ORG_ID)"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert "8254265b-2729-46b6-b9e3-3dfca2d5bfca" in result.stdout.splitlines()


def test_check_deploy_is_clean_with_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("SITE_URL", "disclosure.example.org", "SITE_URL must be an absolute http(s) URL"),
        ("DATABASE_CONN_MAX_AGE", "soon", "DATABASE_CONN_MAX_AGE must be a whole number"),
        (
            "INBOX_TRUSTED_NETWORKS",
            "127.0.0.0/8,mx.example",
            "INBOX_TRUSTED_NETWORKS must be networks like 10.0.0.0/8,2001:db8::/32, not "
            "'mx.example'",
        ),
        (
            "INBOX_REPORTS_PER_IP_PER_HOUR",
            "0",
            "INBOX_REPORTS_PER_IP_PER_HOUR must be at least 1",
        ),
        ("SECURITY_TXT_EXPIRES_DAYS", "400", "SECURITY_TXT_EXPIRES_DAYS must be between 1 and 365"),
        ("OSV_ID_PREFIX", "x_my db/", "OSV_ID_PREFIX must be letters, digits, '_', '.' or '-'"),
        (
            "PROJECT_INVITATION_MAX_AGE_DAYS",
            "0",
            "PROJECT_INVITATION_MAX_AGE_DAYS must be between 1 and 90",
        ),
        (
            "CVE_CNA_ORG_ID",
            "not-a-uuid",
            "CVE_CNA_ORG_ID must be the CNA's organization UUID (version 4), not 'not-a-uuid'",
        ),
        (
            "CVE_CNA_ORG_ID",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",  # version 1: the CVE schema refuses it
            "CVE_CNA_ORG_ID must be the CNA's organization UUID (version 4)",
        ),
        ("CVE_CNA_ORG_ID", "8254265b-2729-46b6-b9e3-3dfca2d5bfca", "Set both CVE_CNA_ORG_ID"),
        ("CVE_CNA_SHORT_NAME", "x", "CVE_CNA_SHORT_NAME must be the CNA's 2-32 character"),
        ("HEALTH_BEAT_MAX_AGE", "60", "HEALTH_BEAT_MAX_AGE and HEALTH_OUTBOX_MAX_AGE must be at"),
        ("HEALTH_OUTBOX_MAX_AGE", "soon", "HEALTH_OUTBOX_MAX_AGE must be a whole number"),
        ("RATE_LIMIT_API", "1000/hour", "RATE_LIMIT_API must be a rate like 1000/h/token"),
        ("API_TOKEN_MAX_DAYS", "0", "API_TOKEN_MAX_DAYS must be between 1 and 3650"),
    ],
)
def test_bad_environment_values_are_refused_with_a_clear_error(name, value, message):
    result = manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_celery_logs_through_the_json_logging_in_production():
    show = (
        "import logging; from disclosure.celery import app; "
        "print(app.conf.worker_hijack_root_logger, "
        "type(logging.getLogger().handlers[0].formatter).__name__)"
    )
    quiet = ("shell", "--verbosity", "0", "-c", show)
    production = manage(*quiet, env=PRODUCTION_ENV)
    assert production.stdout.split() == ["False", "JSONFormatter"], production.stderr
    development = manage(*quiet, env={**PRODUCTION_ENV, "DJANGO_DEBUG": "1"})
    # Development: plain lines (no formatter configured: logging's default).
    assert development.stdout.split() == ["True", "NoneType"], development.stderr
