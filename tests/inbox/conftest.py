"""The email gateway's tests: the seeded projects (their real intake addresses, subject tag and
required fields), fixture messages from messages/, and the other email-channel helpers'
interfaces stood in for until they land.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox import gateway, limits
from mailer import openpgp
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


@pytest.fixture(autouse=True)
def other_helpers(monkeypatch):
    """Stand-ins for interfaces other helpers fill in (the lead removes these after merge):
    inbox.limits (spam: origin IP and refusal), mailer.replies.read_reply_address (threads),
    mailer.openpgp.is_encrypted (openpgp). They admit everything and route nothing as a reply.
    """
    monkeypatch.setattr(limits, "origin_ip", lambda message: None)
    monkeypatch.setattr(limits, "refusal", lambda *, project, sender, origin_ip: None)
    monkeypatch.setattr(reply_addresses, "read_reply_address", lambda address: None)
    monkeypatch.setattr(openpgp, "is_encrypted", lambda message: False)


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}
