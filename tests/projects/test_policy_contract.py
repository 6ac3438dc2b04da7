"""The seeds are the contract: where the platform's words or defaults differed from a project's
published policy, the policy wins. Each test quotes the policy text it holds the platform to
(the policies are in ../shared/seeds; the platform's copy of them is projects/seeds/*.toml).
"""

import io
import re

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


# --- Dates: the text's own words, and the platform's dates said as such --------------------------

EFFECTIVE = (
    "This security policy is effective as of June 20, 2025 and may be updated periodically. "
    "Check back regularly for updates."
)


def stalwart_revision(day):
    from projects.models import Project

    return Project.objects.get(slug="stalwart").revisions.get(effective_from=day)


def test_stalwart_texts_say_when_they_are_effective(client, seeded, clock):
    """Both Stalwart texts end: "This security policy is effective as of June 20, 2025 and may be
    updated periodically. Check back regularly for updates." (SECURITY.md of 2025-07-16 in
    italics). The page said the current policy was "effective 2025-07-16": that is the day the
    platform took the text in, and is now labelled so.
    """
    current, older = stalwart_revision("2025-07-16"), stalwart_revision("2025-06-20")
    assert current.effective_statement == f"*{EFFECTIVE}*"  # data of the revision (seed TOML)
    assert older.effective_statement == EFFECTIVE

    body = page(client, "/projects/stalwart/")
    assert f"<em>{EFFECTIVE}</em>" in body
    assert "Policy in force: text of 2025-07-16 (as published then)." in body
    assert "effective 2025-07-16" not in body
    assert "since 2025-07-16" not in body

    body = page(client, f"/projects/stalwart/policy/{current.pk}/")
    assert f"<em>{EFFECTIVE}</em>" in body
    assert "This is the policy in force: text of 2025-07-16 (as published then)." in body
    assert "effective 2025-07-16" not in body

    body = page(client, f"/projects/stalwart/policy/{older.pk}/")
    assert f"<p>{EFFECTIVE}</p>" in body
    assert "This is the text of 2025-06-20 (as published then); it has been superseded." in body
    assert "effective from 2025-06-20" not in body
    assert ">Text of 2025-06-20</a>" in body  # the history lists texts by the day taken in
    assert ">Text of 2025-07-16</a>" in body


@pytest.mark.parametrize("slug", ["teammail", "mailtri-router"])
def test_undated_texts_state_no_date_of_their_own(client, seeded, clock, slug):
    """TeamMail's security.md and mailtri-router's SECURITY.md carry no date ("The file carries no
    date; it is in force here from the day the project was onboarded.", projects/seeds): the
    page gives only the day the text was taken in.
    """
    body = page(client, f"/projects/{slug}/")
    assert 'id="effective"' not in body
    assert "Policy in force: text of 2026-11-23 (as published then)." in body


# --- A superseded text's matrix: what it said then, and what is true today -----------------------


def matrix_rows(body):
    """[(cells of one row)] of the page's version matrix."""
    table = body[body.index('id="versions"') : body.index('id="report"')]
    rows = re.findall(r"<tr\b.*?</tr>", table, re.S)[1:]  # the header row aside
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]


def test_superseded_text_does_not_call_a_series_supported_today(client, seeded, clock):
    """Stalwart's 0.12-era text lists "0.12.x | ✅ | TBD"; the text in force lists
    "| 0.12.x | :white_check_mark: | 2025-12-31 |". On 2026-12-01 the old page said 0.12.x was
    "Supported": it now says what the old text listed and, apart, today's status under the policy
    in force.
    """
    older = stalwart_revision("2025-06-20")
    body = page(client, f"/projects/stalwart/policy/{older.pk}/")
    assert matrix_rows(body) == [
        ["0.12.x", "Listed as supported", "TBD", "Not supported"],
        ["0.11.x", "Listed as supported", "2025-12-31", "Not supported"],
        ["&lt; 0.11", "Listed as not supported", "Ended", "Not supported"],
    ]
    assert "Today (2026-12-01), under the policy in force" in body

    # Before the end of support the current matrix announced, today's status is "Supported".
    clock.move_to("2025-12-31 12:00Z")
    body = page(client, f"/projects/stalwart/policy/{older.pk}/")
    assert matrix_rows(body)[0] == ["0.12.x", "Listed as supported", "TBD", "Supported"]

    # The policy in force keeps one status column: its own.
    clock.move_to(NOW)
    body = page(client, "/projects/stalwart/")
    assert matrix_rows(body)[:2] == [
        ["0.13.x", "Supported", "TBD"],
        ["0.12.x", "Not supported", "2025-12-31"],
    ]


def test_a_series_the_policy_in_force_drops_is_not_called_supported(client, seeded, clock):
    """A text that lists a series the matrix in force no longer lists says nothing of today."""
    from tests.factories import SupportedVersionFactory

    older = stalwart_revision("2025-06-20")
    SupportedVersionFactory(revision=older, series="0.10.x", order=99, supported=True)
    body = page(client, f"/projects/stalwart/policy/{older.pk}/")
    assert matrix_rows(body)[-1] == [
        "0.10.x",
        "Listed as supported",
        "TBD",
        "Not listed in the policy in force",
    ]


# --- Rules that are in no policy stay off ------------------------------------------------------


def test_no_seeded_policy_closes_reports_waiting_for_the_reporter(client, seeded, clock):
    """Stalwart promises "Status updates: Every 7 days until resolved", TeamMail "We will then
    evaluate the validity of your report, and write back to you within two weeks", mailtri-router
    "Updates: We'll keep you informed of our progress"; none says a report is closed when its
    reporter does not answer. The platform closed them after 30 days all the same.
    """
    from projects.models import PolicyRevision

    assert set(PolicyRevision.objects.values_list("needs_info_close_days", flat=True)) == {None}
    assert PolicyRevision.objects.count() == 4
    for slug in ("stalwart", "teammail", "mailtri-router"):
        assert "closed after" not in page(client, f"/projects/{slug}/")


def test_a_policy_that_closes_unanswered_reports_says_so_on_its_page(client, seeded, clock):
    """Where a revision does set the delay, the policy page states it (and the seed carries it,
    under [sla] needs_info_close_days, for a policy whose text says so).
    """
    from projects.models import PolicyRevision, Project
    from projects.services import load_seed, seed_project

    PolicyRevision.objects.filter(project__slug="teammail").update(needs_info_close_days=45)
    body = page(client, "/projects/teammail/")
    assert "Reports waiting for your answer are closed after 45 days." in body

    seed = load_seed("mailtri-router.toml")
    seed["project"] |= {"slug": "closing", "tracking_prefix": "CLS"}
    seed["sla"]["needs_info_close_days"] = 21
    seed_project(seed=seed)
    revision = Project.objects.get(slug="closing").revision_in_force()
    assert revision.needs_info_close_days == 21
    assert "closed after 21 days." in page(client, "/projects/closing/")


# --- Other words the platform put in the policies' mouths -----------------------------------------


def test_stalwart_cve_rule_in_the_process_words(client, seeded, clock):
    """Neither Stalwart text speaks of CVEs; SECURITY_PROCESS.md lists, in Phase 4, "Submit CVE
    request if warranted (CVSS ≥ 4.0)". The page said "A CVE is requested for vulnerabilities
    with a CVSS score of 4.0 or more": a promise the project never made.
    """
    for day in ("2025-06-20", "2025-07-16"):
        body = " ".join(
            page(client, f"/projects/stalwart/policy/{stalwart_revision(day).pk}/").split()
        )
        assert "A CVE is requested" not in body
        assert "incident response process lists the step" in body
        assert "Submit CVE request if warranted (CVSS ≥ 4.0)" in body


def test_teammail_form_asks_only_what_its_policy_asks(reporter, seeded, clock):
    """TeamMail's policy: "Reporter email the issues privately to openpaas-james[AT]linagora.com."
    and lists no versions. The form required affected versions (its only choice was "Other /
    unknown"), steps to reproduce and impact; it now requires the issue's description.
    """
    from reports.models import Report

    client = Client()
    client.sign_in(reporter)
    form = page(client, "/projects/teammail/report/")
    assert "Affected version(s)" not in form
    for label in ("Steps to reproduce", "Impact", "Proof of concept"):
        assert label in form
    response = client.post(
        "/projects/teammail/report/",
        {
            "title": "Stored XSS in the preview",
            "description": "An SVG onload runs script.",
            "credit-display": "anonymous",
        },
    )
    assert response.status_code == 302
    assert Report.objects.get().description == "An SVG onload runs script."
    refused = client.post(
        "/projects/teammail/report/", {"title": "No description", "credit-display": "anonymous"}
    )
    assert refused.status_code == 200
    assert Report.objects.count() == 1
