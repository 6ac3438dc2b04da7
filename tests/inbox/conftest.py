"""The email gateway's tests: the seeded projects (their real intake addresses, subject tag and
required fields), fixture messages from messages/, and the reply addresses stood in for until
the threads work lands.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox import gateway
from mailer import replies as reply_addresses
from projects.models import Project

MESSAGES = Path(__file__).parent / "messages"
INBOX_ADDRESS = "security@disclosure.example"


def message(name):
    """The raw bytes of tests/inbox/messages/<name>.eml."""
    return (MESSAGES / f"{name}.eml").read_bytes()


def deliver(name_or_raw, **kwargs):
    raw = message(name_or_raw) if isinstance(name_or_raw, str) else name_or_raw
    return gateway.ingest(raw, **kwargs)


@pytest.fixture(autouse=True)
def inbox_settings(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    settings.SITE_URL = "https://disclosure.example"
    settings.INBOX_ADDRESS = INBOX_ADDRESS
    settings.INBOX_REPLY_ADDRESS = "reply@disclosure.example"
    return settings


def stand_in_for_reply_addresses(monkeypatch):
    """mailer.replies.read_reply_address is the threads work's; until it lands (its body raises
    NotImplementedError) no address is a reply address. Once it lands this does nothing.
    """
    try:
        reply_addresses.read_reply_address("security@disclosure.example")
    except NotImplementedError:
        monkeypatch.setattr(reply_addresses, "read_reply_address", lambda address: None)


@pytest.fixture(autouse=True)
def reply_addresses_stand_in(monkeypatch):
    stand_in_for_reply_addresses(monkeypatch)


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}
