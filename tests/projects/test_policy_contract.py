"""The seeds are the contract: where the platform's words or defaults differed from a project's
published policy, the policy wins. Each test quotes the policy text it holds the platform to
(the policies are in ../shared/seeds; the platform's copy of them is projects/seeds/*.toml).
"""

import io

import pytest
import time_machine
from django.core.management import call_command

from tests.signin import Client

pytestmark = pytest.mark.django_db

NOW = "2026-12-01 09:30Z"  # every seeded revision is in force


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- Scope: only where the policy has a scope section -------------------------------------------

# The section headings of the two policies without a scope section.
TEAMMAIL_SECTIONS = ("Security policy", "Reporting security vulnerabilities", "Threat model")
MAILTRI_SECTIONS = (
    "Supported Versions", "Reporting a Vulnerability", "Security Best Practices",
    "Security Features", "Known Security Considerations", "Security Updates", "Security Contact",
    "Security Hall of Fame", "Legal", "Bug Bounty",
)  # fmt: skip


@pytest.mark.parametrize(
    ("slug", "sections"),
    [("teammail", TEAMMAIL_SECTIONS), ("mailtri-router", MAILTRI_SECTIONS)],
)
def test_no_scope_section_where_the_policy_has_none(client, seeded, clock, slug, sections):
    """TeamMail's policy has the sections TEAMMAIL_SECTIONS, mailtri-router's MAILTRI_SECTIONS:
    neither has a scope. The page showed "In scope: TeamMail (frontend and backend), its docker
    images and dependencies." and, for mailtri-router, a scope made of its "Security Features".
    """
    body = page(client, f"/projects/{slug}/")
    assert 'id="scope"' not in body
    assert "In scope" not in body
    assert "frontend and backend" not in body


def test_mailtri_security_features_are_shown_as_features(client, seeded, clock):
    """mailtri-router's "## Security Features / ### Email Processing Security / - **Content
    sanitization**: HTML and script tags are stripped from email content" is what the policy
    says of the software, not a scope: it is shown under its own heading.
    """
    body = page(client, "/projects/mailtri-router/")
    assert "<h3>Security features</h3>" in body
    for line in (
        "HTML and script tags are stripped from email content",
        "optional VPC deployment for network isolation",
        "comprehensive logging of all email processing activities",
    ):
        assert line in body, line


def test_stalwart_keeps_its_scope(client, seeded, clock):
    """Stalwart's policy has "## Scope ... **In Scope:** - Official Docker images ... **Out of
    Scope:** - Third-party integrations or plugins".
    """
    body = page(client, "/projects/stalwart/")
    assert 'id="scope"' in body
    assert "Official Docker images" in body
    assert "Third-party integrations or plugins" in body


# --- The report form links only to sections that exist -----------------------------------------


@pytest.mark.parametrize("slug", ["teammail", "mailtri-router"])
def test_intake_has_no_dead_section_links(reporter, seeded, clock, slug):
    """Neither TeamMail's nor mailtri-router's policy has a safe harbor (mailtri-router's
    "## Legal" is what the reporter agrees to: "By reporting security vulnerabilities, you agree
    to: ...") nor a scope; the report form linked to both anchors all the same.
    """
    client = Client()
    client.sign_in(reporter)
    body = page(client, f"/projects/{slug}/report/")
    assert "#safe-harbor" not in body
    assert "#scope" not in body
    policy = page(client, f"/projects/{slug}/")
    assert 'id="safe-harbor"' not in policy


def test_stalwart_intake_links_to_its_safe_harbor_and_scope(reporter, seeded, clock):
    """Stalwart's policy has "## Legal Safe Harbor: We support security research conducted in
    good faith." and a "## Scope": the form links to both, and both anchors exist.
    """
    client = Client()
    client.sign_in(reporter)
    body = page(client, "/projects/stalwart/report/")
    assert 'href="/projects/stalwart/#safe-harbor"' in body
    assert 'href="/projects/stalwart/#scope"' in body
    policy = page(client, "/projects/stalwart/")
    assert 'id="safe-harbor"' in policy
    assert 'id="scope"' in policy
