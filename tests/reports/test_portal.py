import datetime
import re

import pytest
import time_machine
from django.core.cache import cache

from reports import services
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def listed(client, query=""):
    response = client.get(f"/reports/{query}")
    assert response.status_code == 200
    return [r.tracking_id for r in response.context["page"].reports]


def test_reporter_sees_own_and_collaborating_reports_only(
    client, project, other_project, reporter, collaborator, stranger
):
    PolicyRevisionFactory(project=other_project)
    own = file(reporter, project)
    shared = file(stranger, other_project)
    share(shared, by=stranger, with_user=reporter)
    file(stranger, project)  # somebody else's report in the same project
    client.sign_in(reporter)
    assert sorted(listed(client)) == sorted([own.tracking_id, shared.tracking_id])


def test_member_sees_the_queue_of_their_projects(
    client, project, other_project, maintainer, reporter, stranger
):
    PolicyRevisionFactory(project=other_project)
    mine = [file(reporter, project), file(stranger, project)]
    file(reporter, other_project)
    client.sign_in(maintainer)
    assert sorted(listed(client)) == sorted(r.tracking_id for r in mine)


def test_queue_is_sorted_by_next_due_date_and_filters(client, project, maintainer, reporter):
    with time_machine.travel(T0, tick=False) as clock:
        first = file(reporter, project)
        clock.shift(datetime.timedelta(hours=1))
        second = file(reporter, project)
        clock.shift(datetime.timedelta(hours=1))
        third = file(reporter, project)
        services.transition(report=first, by=maintainer, name="acknowledge")
        services.transition(
            report=second, by=maintainer, name="triage", severity="high", message="Confirmed."
        )
        services.transition(
            report=third, by=maintainer, name="close", resolution="spam", message="Spam."
        )
    client.sign_in(maintainer)
    # first: detail due T0+72h; second (triaged) and third (closed) have no open clock: last,
    # by id.
    assert listed(client) == [first.tracking_id, second.tracking_id, third.tracking_id]
    assert listed(client, "?state=spam") == [third.tracking_id]
    assert sorted(listed(client, "?state=open")) == sorted([first.tracking_id, second.tracking_id])
    assert listed(client, "?severity=high") == [second.tracking_id]
    assert listed(client, "?project=acme&state=acknowledged") == [first.tracking_id]
    with time_machine.travel(T0 + datetime.timedelta(hours=80)):
        assert listed(client, "?overdue=1") == [first.tracking_id]
    with time_machine.travel(T0 + datetime.timedelta(hours=2)):
        assert listed(client, "?overdue=1") == []


def test_keyset_pages_follow_the_sort_and_walk_every_report_once(
    client, project, maintainer, reporter, settings
):
    settings.REPORTS_PAGE_SIZE = 2
    with time_machine.travel(T0, tick=False) as clock:
        reports = []
        for _ in range(5):
            reports.append(file(reporter, project))
            clock.shift(datetime.timedelta(minutes=10))
    services.transition(
        report=reports[0], by=maintainer, name="close", resolution="spam", message="x"
    )
    expected = [r.tracking_id for r in reports[1:]] + [reports[0].tracking_id]
    client.sign_in(maintainer)
    seen, url = [], "/reports/"
    while url:
        page = client.get(url).context["page"]
        assert len(page.reports) <= 2
        seen += [r.tracking_id for r in page.reports]
        url = f"/reports/?after={page.next_cursor}" if page.next_cursor else None
    assert seen == expected


def test_tampered_cursor_is_a_clear_error(client, reporter):
    client.sign_in(reporter)
    response = client.get("/reports/?after=not-a-cursor")
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_portal_requires_sign_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def make_reports(project, reporter, member, count):
    for _ in range(count):
        report = file(reporter, project)
        services.transition(report=report, by=member, name="acknowledge")
        services.add_comment(report=report, by=member, body="hi", internal=False, by_member=True)


def test_reporter_portal_query_count_is_constant(
    client, project, reporter, maintainer, django_assert_num_queries
):
    make_reports(project, reporter, maintainer, 2)
    client.sign_in(reporter)
    # user with the user's roles (one query, disclosure.auth), shared ids, filter projects,
    # page of reports (+project); no checklist progress (internal: members only). The session
    # comes from the cache.
    with django_assert_num_queries(4):
        client.get("/reports/")
    make_reports(project, reporter, maintainer, 8)
    with django_assert_num_queries(4):
        assert len(listed(client)) == 10


def test_member_portal_query_count_is_constant(
    client, project, reporter, maintainer, django_assert_num_queries
):
    make_reports(project, reporter, maintainer, 2)
    client.sign_in(maintainer)
    # session, user with the user's roles and their projects (the filter's; one query,
    # disclosure.auth), page of reports (+project, assignee, disclosure for the checklist
    # progress; the queue reads no shared ids), the open and overdue counts per project (one
    # aggregate; then kept a while: cleared here to count them each time, which drops the
    # cached session too, so it is read from its row)
    cache.clear()
    with django_assert_num_queries(4):
        client.get("/reports/")
    other = ProjectFactory()
    PolicyRevisionFactory(project=other)
    make_reports(project, UserFactory(), maintainer, 8)
    cache.clear()
    with django_assert_num_queries(4):
        assert len(listed(client)) == 10


def test_detail_query_count_is_constant(
    client, report, reporter, maintainer, poc_file, django_assert_num_queries
):
    client.sign_in(maintainer)
    url = f"/reports/{report.tracking_id}/"
    # user with the user's roles (one query, disclosure.auth; read once for the second factor,
    # visibility and access), report (+project, revision, reporter, assignee; sharing checked in
    # the same query), events, comments, attachments, participants (collaborators and credit
    # choices), pending invitations (for those who manage collaborators), the disclosure panel's
    # Disclosure (+advisory), proposals and fix reviews, and for members the project's members
    # (the assignment form's choices) and whether the reporter's address is blocked (spam). The
    # session comes from the cache.
    with django_assert_num_queries(12):
        client.get(url)
    for n in range(5):
        services.add_comment(
            report=report, by=maintainer, body=f"c{n}", internal=n % 2 == 0, by_member=True
        )
        services.add_comment(
            report=report, by=reporter, body=f"r{n}", internal=False, by_member=False
        )
        share(report, by=reporter, with_user=UserFactory())
    services.add_attachments(report=report, by=reporter, files=[poc_file])
    services.transition(report=report, by=maintainer, name="acknowledge")
    services.assign(report=report, by=maintainer, assignee=maintainer)
    with django_assert_num_queries(12):
        assert client.get(url).status_code == 200
    client.sign_in(reporter)
    with django_assert_num_queries(10):  # no assignment form, no block
        assert client.get(url).status_code == 200


def test_every_id_on_the_report_page_is_unique(client, report, maintainer):
    """One form per action: each label must point at its own field, not at the first form's."""
    client.sign_in(maintainer)
    body = client.get(f"/reports/{report.tracking_id}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) > 10
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    for target in re.findall(r'\sfor="([^"]+)"', body):
        assert target in ids, target
