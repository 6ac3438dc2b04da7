"""The API's lists cost a fixed number of queries, whatever the number of rows (issue 15's rule
for the site, pinned here for the API): each is counted, the world grows, and it is counted
again. The queries are listed in each case.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from advisories import services as advisory_services
from projects import services as project_services
from reports import services as report_services
from tests.advisories.publishing import publish_now
from tests.api.conftest import client_for, file
from tests.factories import MembershipFactory, PolicyRevisionFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = 2  # the token with its owner and project (one join), the owner's roles


def grow(world, *, maintainer, reporter, n):
    """More of everything the lists show."""
    for i in range(n):
        other = ProjectFactory(slug=f"grown-{n}-{i}", tracking_prefix=f"G{n}{i}")
        PolicyRevisionFactory(project=other)
        MembershipFactory(project=other, user=maintainer, role="maintainer")
        file(other, reporter, title=f"Elsewhere {i}")
        filed = file(world.project, reporter, title=f"More {i}")
        report_services.transition(
            report=filed, by=maintainer, name="triage", message="Yes.", severity="low"
        )
        report_services.assign(report=filed, by=maintainer, assignee=maintainer)
        report = world.report
        report_services.add_comment(
            report=report, by=reporter, body=f"c{i}", internal=False, by_member=False
        )
        report_services.add_comment(
            report=report, by=maintainer, body=f"n{i}", internal=True, by_member=True
        )
        report_services.add_attachments(
            report=report, by=reporter, files=[SimpleUploadedFile(f"f{i}.txt", b"x")]
        )
        MembershipFactory(project=world.project, role="triager")
        project_services.invite_member(
            project=world.project, email=f"join-{n}-{i}@example.org", role="triager", by=None
        )
        finder = UserFactory()
        disclosed = file(world.project, finder, title=f"Disclosed {i}")
        report_services.set_credit(report=disclosed, by=finder, display="name", name=f"F {i}")
        report_services.transition(
            report=disclosed, by=maintainer, name="triage", message="Yes.", severity="low"
        )
        report_services.transition(report=disclosed, by=maintainer, name="mark_fixed", message="")
        draft = advisory_services.draft_advisory(report=disclosed, by=maintainer)
        draft = advisory_services.update_advisory(
            advisory=draft, by=maintainer, fields={"fixed_versions": [f"1.0.{i + 2}"]}
        )
        publish_now(draft, by=maintainer)


# (who, URL, queries after the token's, what they are)
LISTS = [
    (None, "/api/projects/", 1, "the active projects"),
    (None, "/api/projects/acme/advisories/", 2, "the project; its published advisories"),
    (None, "/api/projects/acme/hall-of-fame/", 2, "the project; its credits with advisories"),
    # The queue: one query for the page (rows with project, assignee and profile joined).
    ("maintainer", "/api/reports/", 1, "the page of the queue"),
    # A search shows the exact tracking-ID match first: one query for it, one for the page.
    ("maintainer", "/api/reports/?state=open&sort=severity&q=More", 2, "exact match; the page"),
    # My reports: the ids of the reports shared with them, then the page.
    ("reporter", "/api/reports/?view=mine", 2, "shared report ids; the page"),
    # One report: the report (project, revision, people joined); its events; its comments;
    # its attachments.
    ("maintainer", "/api/reports/{tid}/", 4, "report; events; comments; attachments"),
    ("reporter", "/api/reports/{tid}/", 4, "report; events; comments; attachments"),
    # Members: the project; members with profiles; pending invitations; latest events.
    ("project_admin", "/api/projects/acme/members/", 4, "project; members; invitations; events"),
]


@pytest.mark.parametrize(("who", "url", "queries", "what"), LISTS)
def test_lists_cost_the_same_with_more_rows(
    api_world,
    django_assert_num_queries,
    cast,
    maintainer,
    reporter,
    who,
    url,
    queries,
    what,
):
    client = APIClient() if who is None else client_for(cast[who])
    url = url.format(tid=api_world.report.tracking_id)
    expected = queries + (0 if who is None else TOKEN)
    assert client.get(url).status_code == 200  # warm: the token's first use is written once
    with django_assert_num_queries(expected):
        small = client.get(url)
    grow(api_world, maintainer=maintainer, reporter=reporter, n=3)
    with django_assert_num_queries(expected):
        grown = client.get(url)
    assert small.status_code == grown.status_code == 200
    assert len(grown.content) > len(small.content) or "projects/acme/" not in url
