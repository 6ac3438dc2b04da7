"""The email gateway's tests: the seeded projects (their real intake addresses, subject tag and
required fields), fixture messages from messages/.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox import gateway
from projects.models import Project

MESSAGES = Path(__file__).parent / "messages"
INBOX_ADDRESS = "security@disclosure.example"


def message(name):
    """The raw bytes of tests/inbox/messages/<name>.eml."""
    return (MESSAGES / f"{name}.eml").read_bytes()


def deliver(name_or_raw, **kwargs):
    raw = message(name_or_raw) if isinstance(name_or_raw, str) else name_or_raw
    return gateway.ingest(raw, **kwargs)


def stored_files(settings):
    """The attachment files in private storage."""
    root = settings.ATTACHMENT_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def inbox_settings(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    settings.SITE_URL = "https://disclosure.example"
    settings.INBOX_ADDRESS = INBOX_ADDRESS
    settings.INBOX_REPLY_ADDRESS = "reply@disclosure.example"
    return settings


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}
