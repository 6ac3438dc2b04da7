import datetime

import pytest
import time_machine
from django.core.management import call_command

from tests.factories import PolicyRevisionFactory, ProjectFactory, SupportedVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_projects", verbosity=0)


def test_directory_lists_active_projects_only(client, seeded):
    ProjectFactory(name="Retired project", active=False)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("Stalwart", "TeamMail", "mailtri-router"):
        assert name in body
    assert "Retired project" not in body


def test_project_page_renders_the_policy_in_force(client, seeded):
    response = client.get("/projects/stalwart/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Policy in force: text of 2025-07-16 (as published then)." in body
    assert body.count("within 24 hours") == 1
    assert body.count("hello@stalw.art") == 1  # the backup contact, as the policy gives it
    assert "(report form below)" not in body
    link = '<a href="/projects/stalwart/report/" rel="nofollow noopener noreferrer">'
    assert f"({link}the report form</a>)" in body
    for text in (
        "0.13.x",
        # The response commitments once, in the policy's own words.
        "Initial acknowledgment</strong>: within 24 hours",
        "Detailed response</strong>: within 72 hours",
        "every 7 days until resolved",
        "Resolution target</strong>: 90 days for most issues",
        "Public disclosure 90 days after the report, earlier if the vulnerability is actively",
        "Third-party integrations or plugins",  # out of scope
        "Official Docker images",  # in scope
        "Initiate legal action against you",  # safe harbor
        "Security Advisory Credits",  # recognition
        "hello@stalw.art",
        "if no response within 48 hours",
    ):
        assert text in body, text


def test_project_page_shows_series_past_end_of_support_as_not_supported(client, seeded):
    with time_machine.travel(datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)):
        body = client.get("/projects/stalwart/").content.decode()
    rows = [("0.13.x", "Supported"), ("0.12.x", "Not supported"), ("0.11.x", "Not supported")]
    for series, status in rows:
        assert f"<td>{series}</td>\n          <td>{status}</td>" in body, series
    with time_machine.travel(datetime.datetime(2025, 12, 31, 12, tzinfo=datetime.UTC)):
        body = client.get("/projects/stalwart/").content.decode()
    assert "<td>0.12.x</td>\n          <td>Supported</td>" in body


def test_older_revision_is_viewable_with_its_own_matrix(client, seeded):
    from projects.models import Project

    older = Project.objects.get(slug="stalwart").revisions.get(effective_from="2025-06-20")
    response = client.get(f"/projects/stalwart/policy/{older.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "has been superseded" in body
    assert "0.13.x" not in body
    assert "<td>0.12.x</td>" in body


def test_teammail_and_mailtri_pages(client, seeded):
    teammail = client.get("/projects/teammail/").content.decode()
    assert "Public disclosure 7 days after the fixed release." in teammail
    assert "reviews the fix and the announcement" in teammail
    assert "Threat model" in teammail
    assert "This policy does not list supported versions." in teammail
    mailtri = client.get("/projects/mailtri-router/").content.decode()
    assert "[SECURITY] mailtri-router vulnerability report" in mailtri
    assert "Node.js version" in mailtri
    assert "AWS region" in mailtri


@pytest.mark.parametrize(
    "url",
    [
        "/projects/nope/",
        "/projects/nope/security.txt",
        "/projects/nope/hall-of-fame/",
        "/projects/nope/policy/1/",
        "/projects/retired/",
        "/projects/retired/security.txt",
    ],
)
def test_unknown_and_inactive_projects_answer_404(client, seeded, url):
    ProjectFactory(slug="retired", active=False)
    assert client.get(url).status_code == 404


def test_revision_of_another_project_answers_404(client, seeded):
    from projects.models import Project

    teammail_revision = Project.objects.get(slug="teammail").revisions.get()
    assert client.get(f"/projects/stalwart/policy/{teammail_revision.pk}/").status_code == 404


def test_hall_of_fame_page(client, seeded):
    response = client.get("/projects/mailtri-router/hall-of-fame/")
    assert response.status_code == 200
    assert "mailtri-router hall of fame" in response.content.decode()


def test_policy_markdown_is_sanitized(client):
    project = ProjectFactory(slug="evil")
    PolicyRevisionFactory(
        project=project,
        how_to_report=(
            "Hi <script>alert(1)</script> [x](javascript:alert(2)) "
            '<img src=x onerror="alert(3)"> [site](https://example.org)'
        ),
    )
    body = client.get("/projects/evil/").content.decode()
    assert "<script>alert(1)" not in body
    assert "javascript:alert" not in body
    assert "onerror" not in body
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">site</a>' in body


def make_projects(count, versions):
    for _ in range(count):
        revision = PolicyRevisionFactory()
        for _ in range(versions):
            SupportedVersionFactory(revision=revision)


def test_directory_query_count_is_constant(client, django_assert_num_queries):
    make_projects(2, 1)
    # 1: active projects
    with django_assert_num_queries(1):
        client.get("/")
    make_projects(10, 5)
    with django_assert_num_queries(1):
        assert client.get("/").status_code == 200


def test_project_page_query_count_is_constant(client, django_assert_num_queries):
    project = ProjectFactory(slug="busy")
    revision = PolicyRevisionFactory(project=project)
    SupportedVersionFactory(revision=revision)
    # 1: project, 2: revision in force, 3: its versions, 4: acknowledgment adherence (reports),
    # 5: revision history
    with django_assert_num_queries(5):
        client.get("/projects/busy/")
    for year in range(2000, 2010):
        PolicyRevisionFactory(project=project, effective_from=datetime.date(year, 1, 1))
    for _ in range(20):
        SupportedVersionFactory(revision=revision)
    make_projects(5, 3)
    with django_assert_num_queries(5):
        assert client.get("/projects/busy/").status_code == 200
