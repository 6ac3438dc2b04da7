"""Search in the queue and "My reports" (?q=, reports.search): by tracking ID (an exact match
first) and full text over what the searcher may read; internal notes only for the project's
members. On PostgreSQL the searches run on the GIN indexes (checked with EXPLAIN).
"""

import pytest
from django.db import connection

from reports import search, services
from reports.models import Report, Viewer
from tests.factories import UserFactory
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db

SECRET = "zirconium"  # a word only the internal note holds


def found(client, query):
    response = client.get("/reports/", {"q": query})
    assert response.status_code == 200
    return [r.tracking_id for r in response.context["page"].reports]


@pytest.fixture
def noted(report, maintainer, reporter):
    """The cast's report with a public comment and an internal note."""
    services.add_comment(
        report=report, by=maintainer, body="Thanks, reproduced on the relay.", internal=False,
        by_member=True,
    )  # fmt: skip
    services.add_comment(
        report=report, by=maintainer, body=f"Fix touches the {SECRET} module.", internal=True,
        by_member=True,
    )  # fmt: skip
    return report


@pytest.mark.parametrize("who", ["reporter", "collaborator"])
def test_the_reporter_side_never_finds_a_report_by_an_internal_note(client, cast, noted, who):
    client.sign_in(cast[who])
    assert found(client, SECRET) == []
    assert found(client, "reproduced") == [noted.tracking_id]  # public comments count
    assert found(client, "overflows") == [noted.tracking_id]  # the report's own text


@pytest.mark.parametrize("who", ["triager", "maintainer", "project_admin", "superuser"])
def test_members_find_reports_by_their_internal_notes(client, cast, noted, who):
    client.sign_in(cast[who])
    assert found(client, SECRET) == [noted.tracking_id]


def test_a_member_elsewhere_reporting_here_does_not_find_its_internal_notes(
    client, project, other_member, maintainer
):
    theirs = file(other_member, project)
    services.add_comment(
        report=theirs, by=maintainer, body=f"{SECRET} again", internal=True, by_member=True
    )
    client.sign_in(other_member)
    assert client.get("/reports/", {"q": SECRET, "view": "mine"}).context["page"].reports == []
    mine = client.get("/reports/", {"q": "parser", "view": "mine"}).context["page"].reports
    assert [r.tracking_id for r in mine] == [theirs.tracking_id]


def test_search_stays_within_what_the_user_sees(client, project, reporter, stranger):
    file(stranger, project, title="Parser crash in the smuggling path")
    own = file(reporter, project, title="Smuggling via bare LF")
    client.sign_in(reporter)
    assert found(client, "smuggling") == [own.tracking_id]


def test_an_exact_tracking_id_comes_first_whatever_its_case(client, project, maintainer, reporter):
    first = file(reporter, project, title="Tracking numbers")
    second = file(reporter, project, title=f"Same bug as {first.tracking_id}")
    client.sign_in(maintainer)
    assert found(client, first.tracking_id.lower()) == [first.tracking_id, second.tracking_id]
    assert found(client, second.tracking_id) == [second.tracking_id]


def test_search_composes_with_filters_sorts_and_pages(
    client, project, maintainer, reporter, settings
):
    settings.REPORTS_PAGE_SIZE = 2
    relays = [file(reporter, project, title=f"Relay bug {n}") for n in range(5)]
    file(reporter, project, title="Parser bug")
    services.transition(report=relays[0], by=maintainer, name="acknowledge")
    client.sign_in(maintainer)
    first = "/reports/?q=relay&sort=newest"
    seen, url = [], first
    while url:
        page = client.get(url).context["page"]
        seen += [r.tracking_id for r in page.reports]
        url = f"{first}&after={page.next_cursor}" if page.next_cursor else None
    assert seen == [r.tracking_id for r in reversed(relays)]
    assert found(client, "relay") != []
    response = client.get("/reports/", {"q": "relay", "state": "acknowledged"})
    assert [r.tracking_id for r in response.context["page"].reports] == [relays[0].tracking_id]


def test_a_search_matching_nothing_says_so(client, project, maintainer, reporter):
    file(reporter, project)
    client.sign_in(maintainer)
    response = client.get("/reports/", {"q": "nothing-like-this"})
    assert "No reports match these filters." in response.content.decode()


@pytest.mark.services
def test_postgres_searches_use_the_gin_indexes(project, reporter, maintainer):
    """The plan reads report_search_idx and comment_search_idx (sequential scans off: with a
    handful of rows the planner would rightly prefer them, which proves nothing).
    """
    report = file(reporter, project, title="Relay smuggling")
    services.add_comment(report=report, by=maintainer, body="noted", internal=True, by_member=True)
    for user in (maintainer, reporter, UserFactory()):
        reports = search.matching(
            Report.objects.visible_to(user), text="smuggling relay", viewer=Viewer.of(user)
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = reports.explain()
        assert "report_search_idx" in plan, plan
        assert "comment_search_idx" in plan, plan
    assert list(search.matching(
        Report.objects.all(), text="smuggling", viewer=Viewer.of(maintainer)
    )) == [report]  # fmt: skip


def test_share_keeps_search_for_collaborators(client, project, stranger, collaborator):
    shared = file(stranger, project, title="Header injection")
    share(shared, by=stranger, with_user=collaborator)
    client.sign_in(collaborator)
    assert found(client, "injection") == [shared.tracking_id]
