"""The queue and "My reports" (/reports/): who finds what where, the counts per project, the
sorts and their keyset pages, the navigation, and the project page's links for members.
"""

import datetime
import re

import pytest
import time_machine
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from reports import selectors, services
from reports.models import Report
from tests.factories import MembershipFactory, PolicyRevisionFactory, UserFactory
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def listed(client, query=""):
    response = client.get(f"/reports/{query}")
    assert response.status_code == 200
    return [r.tracking_id for r in response.context["page"].reports]


def nav_links(client, path="/"):
    body = client.get(path).content.decode()
    nav = body.split('aria-label="Main navigation"')[1].split("</nav>")[0]
    return {
        "Queue": '?view=queue">Queue</a>' in nav or '?view=queue" aria-current="page">Queue' in nav,
        "My reports": ">My reports</a>" in nav,
    }


def test_members_get_the_queue_and_my_reports_in_the_nav(client, cast):
    for who in ("triager", "maintainer", "project_admin", "superuser", "other_member"):
        client.sign_in(cast[who])
        assert nav_links(client) == {"Queue": True, "My reports": True}, who


def test_reporters_and_strangers_get_my_reports_only(client, cast):
    for who in ("reporter", "collaborator", "stranger"):
        client.sign_in(cast[who])
        assert nav_links(client) == {"Queue": False, "My reports": True}, who
    client.logout()
    assert nav_links(client) == {"Queue": False, "My reports": False}


def test_the_queue_holds_the_projects_reports_and_my_reports_what_i_filed(
    client, project, other_project, maintainer, reporter, stranger
):
    PolicyRevisionFactory(project=other_project)
    theirs = file(reporter, project)
    mine_elsewhere = file(maintainer, other_project)  # a maintainer reporting to another project
    shared_with_me = file(stranger, other_project)
    share(shared_with_me, by=stranger, with_user=maintainer)
    file(stranger, other_project)  # neither theirs nor shared
    client.sign_in(maintainer)
    assert listed(client) == [theirs.tracking_id]  # members start on their queue
    assert listed(client, "?view=queue") == [theirs.tracking_id]
    assert sorted(listed(client, "?view=mine")) == sorted(
        [mine_elsewhere.tracking_id, shared_with_me.tracking_id]
    )
    body = client.get("/reports/?view=mine").content.decode()
    assert "<h1" in body
    assert ">My reports</h1>" in body
    assert "Assignee" not in body  # the queue's column only


def test_reporters_asking_for_a_queue_get_their_own_reports(client, project, reporter, stranger):
    own = file(reporter, project)
    file(stranger, project)
    client.sign_in(reporter)
    response = client.get("/reports/?view=queue")
    assert [r.tracking_id for r in response.context["page"].reports] == [own.tracking_id]
    body = response.content.decode()
    assert ">My reports</h1>" in body
    assert "Assigned to me" not in body
    assert "Assignee" not in body
    assert "Open reports by project" not in body


def test_the_queue_counts_open_and_overdue_reports_per_project(
    client, project, other_project, maintainer, reporter
):
    MembershipFactory(project=other_project, user=maintainer)
    PolicyRevisionFactory(project=other_project)
    with time_machine.travel(T0, tick=False):
        late = file(reporter, project)
        file(reporter, project)
        closed = file(reporter, project)
        services.transition(
            report=closed, by=maintainer, name="close", resolution="spam", message="Spam."
        )
    with time_machine.travel(T0 + datetime.timedelta(days=20), tick=False):
        file(reporter, other_project)  # open, not overdue yet
        Report.objects.filter(pk=late.pk).update(next_due=T0 + datetime.timedelta(days=1))
        others = Report.objects.filter(project=project).exclude(pk__in=[late.pk, closed.pk])
        others.update(next_due=T0 + datetime.timedelta(days=30))
        client.sign_in(maintainer)
        response = client.get("/reports/?view=queue")
    counts = {(c.project.slug, c.open, c.overdue) for c in response.context["counts"]}
    assert counts == {("acme", 2, 1), ("other", 1, 0)}
    body = response.content.decode()
    assert 'href="?view=queue&amp;project=acme&amp;overdue=1"' in body


def test_filters_compose_with_the_view_and_assigned_to_me(
    client, project, maintainer, triager, reporter
):
    mine, theirs, nobodys = (file(reporter, project) for _ in range(3))
    services.assign(report=mine, by=triager, assignee=maintainer)
    services.assign(report=theirs, by=maintainer, assignee=triager)
    client.sign_in(maintainer)
    assert listed(client, "?view=queue&assigned=me") == [mine.tracking_id]
    assert listed(client, "?view=queue&assigned=me&state=spam") == []
    assert len(listed(client, "?view=queue")) == 3
    body = client.get("/reports/?view=queue").content.decode()
    assert '<th scope="col" class="d-none d-md-table-cell">Assignee</th>' in body
    assert triager.email in body
    assert maintainer.email in body
    assert nobodys.tracking_id in body
    client.sign_in(reporter)  # the reporter never learns who works on it
    assert maintainer.email not in client.get("/reports/?view=mine&assigned=me").content.decode()
    assert len(listed(client, "?assigned=me")) == 3  # no such filter on their own reports


def selected(body, name):
    """The values of the <select name=`name`>'s options marked selected."""
    select = body.split(f'name="{name}">')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)" selected>', select)


def test_the_filter_selects_show_what_was_chosen_and_only_that(client, project, maintainer):
    project.name = 'Mail <b>"&'
    project.save()
    client.sign_in(maintainer)
    chosen = client.get(
        f"/reports/?view=queue&state=triaged&severity=high&sort=newest&project={project.slug}"
    ).content.decode()
    assert [selected(chosen, n) for n in ("sort", "project", "state", "severity")] == [
        ["newest"],
        [project.slug],
        ["triaged"],
        ["high"],
    ]
    assert '<option value="triaged" selected>Triaged</option>' in chosen
    assert f'<option value="{project.slug}" selected>Mail &lt;b&gt;&quot;&amp;</option>' in chosen
    # The same selects with nothing chosen, right after: the default sort and nothing else.
    plain = client.get("/reports/?view=queue").content.decode()
    assert [selected(plain, n) for n in ("sort", "project", "state", "severity")] == [
        [selectors.DEFAULT_SORT],
        [],
        [],
        [],
    ]
    assert plain.count("<option") == chosen.count("<option")


def make_severities(project, reporter, maintainer):
    """Reports filed in this order, triaged with these severities (one left unrated)."""
    reports = {}
    for severity in ("low", "critical", "", "medium", "critical", "high", "none"):
        report = file(reporter, project)
        if severity:
            services.transition(
                report=report, by=maintainer, name="triage", severity=severity, message="ok"
            )
        reports[report.tracking_id] = severity
    return reports


def test_severity_sort_goes_by_rank_critical_first(client, project, maintainer, reporter):
    severities = make_severities(project, reporter, maintainer)
    client.sign_in(maintainer)
    order = [severities[t] for t in listed(client, "?sort=severity")]
    assert order == ["critical", "critical", "high", "medium", "low", "none", ""]
    # Not alphabetical: "critical" < "high" < "low" < "medium" < "none" would differ.
    ids = listed(client, "?sort=severity")
    assert ids[0] < ids[1]  # same severity: by id, oldest first


def test_age_sorts(client, project, maintainer, reporter):
    with time_machine.travel(T0, tick=False) as clock:
        filed = []
        for _ in range(3):
            filed.append(file(reporter, project).tracking_id)
            clock.shift(datetime.timedelta(hours=1))
    client.sign_in(maintainer)
    assert listed(client, "?sort=newest") == filed[::-1]
    assert listed(client, "?sort=oldest") == filed
    assert listed(client, "?sort=nonsense") == listed(client, "?sort=deadline")


@pytest.mark.parametrize("sort", sorted(selectors.SORTS))
def test_every_sort_pages_through_every_report_once(
    client, project, maintainer, reporter, settings, sort
):
    settings.REPORTS_PAGE_SIZE = 2
    with time_machine.travel(T0, tick=False) as clock:
        make_severities(project, reporter, maintainer)
        for _ in range(2):  # equal created_at: ties broken by id
            file(reporter, project)
        clock.shift(datetime.timedelta(minutes=5))
        file(reporter, project)
    client.sign_in(maintainer)
    settings.REPORTS_PAGE_SIZE = 100
    expected = listed(client, f"?sort={sort}")
    settings.REPORTS_PAGE_SIZE = 2
    seen, url = [], f"/reports/?sort={sort}"
    while url:
        page = client.get(url).context["page"]
        assert len(page.reports) <= 2
        seen += [r.tracking_id for r in page.reports]
        url = f"/reports/?sort={sort}&after={page.next_cursor}" if page.next_cursor else None
    assert seen == expected
    assert len(seen) == Report.objects.count() == 10


def test_the_next_page_link_keeps_the_sort_search_and_view(client, project, maintainer, reporter,
                                                           settings):  # fmt: skip
    settings.REPORTS_PAGE_SIZE = 1
    for _ in range(3):
        file(reporter, project, title="Overflow in the relay")
    client.sign_in(maintainer)
    body = client.get("/reports/?sort=newest&q=relay").content.decode()
    link = body.split('class="btn btn-outline-secondary" href="?')[1].split('"')[0]
    assert "sort=newest" in link
    assert "q=relay" in link
    assert "view=queue" in link
    assert client.get("/reports/?" + link.replace("&amp;", "&")).status_code == 200


def test_a_cursor_of_another_sort_is_refused_clearly(client, project, maintainer, reporter,
                                                     settings):  # fmt: skip
    settings.REPORTS_PAGE_SIZE = 1
    file(reporter, project)
    file(reporter, project)
    client.sign_in(maintainer)
    cursor = client.get("/reports/?sort=severity").context["page"].next_cursor
    assert client.get(f"/reports/?sort=severity&after={cursor}").status_code == 200
    response = client.get(f"/reports/?sort=newest&after={cursor}")
    assert response.status_code == 400
    assert "another sort order" in response.content.decode()
    response = client.get(f"/reports/?after={cursor}")  # the default sort: deadline
    assert response.status_code == 400


def test_project_page_links_member_pages_for_members_only(client, cast, project):
    links = (
        "/reports/?view=queue&amp;project=acme",
        "/projects/acme/sla/",
        "/projects/acme/advisories/",
    )
    for who in ("triager", "maintainer", "project_admin", "superuser"):
        client.sign_in(cast[who])
        body = client.get("/projects/acme/").content.decode()
        assert all(link in body for link in links), who
        assert ("/projects/acme/members/" in body) == (who in {"project_admin", "superuser"}), who
    for who in ("reporter", "stranger", "other_member"):
        client.sign_in(cast[who])
        body = client.get("/projects/acme/").content.decode()
        assert links[0] not in body, who
        assert links[1] not in body, who
        assert "/projects/acme/members/" not in body
    client.logout()
    assert "/projects/acme/sla/" not in client.get("/projects/acme/").content.decode()


def test_queue_query_counts_stay_flat_with_search_sort_and_filters(
    client, project, reporter, maintainer, django_assert_num_queries,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    first = file(reporter, project, title="Relay overflow")
    services.assign(report=first, by=maintainer, assignee=maintainer)
    client.sign_in(maintainer)
    url = "/reports/?view=queue&q=relay&sort=severity&assigned=me&state=open"
    # user with their roles and their projects' slugs and names (the filter's projects; one
    # query, disclosure.auth), the exact tracking-ID match (searches only), page of reports
    # (+project, assignee, disclosure with the checklist progress; the queue reads no shared
    # ids), counts per project (not counted yet). The session comes from the cache.
    with django_assert_num_queries(4):
        client.get(url)
    # The counts are kept: the next page costs one query less.
    with django_assert_num_queries(3):
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):  # filings forget the counts
        for _ in range(9):
            report = file(UserFactory(), project, title="Relay overflow again")
            services.assign(report=report, by=maintainer, assignee=maintainer)
    with django_assert_num_queries(4):
        assert len(listed(client, url[len("/reports/") :])) == 10


def test_the_queue_counts_follow_filings_and_transitions_at_once(
    client, project, reporter, maintainer, django_capture_on_commit_callbacks
):
    """Kept counts are forgotten when a report is filed or changes state, so a member who has
    just acted sees it counted; only "overdue" can lag, as deadlines pass, by at most
    QUEUE_COUNTS_SECONDS."""
    client.sign_in(maintainer)

    def open_count():
        (row,) = client.get("/reports/").context["counts"]
        return row.open

    assert open_count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        report = file(reporter, project)
    assert open_count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(
            report=report, by=maintainer, name="close", resolution="informative",
            message="Not a vulnerability.",
        )  # fmt: skip
    assert open_count() == 0


def test_the_report_page_leads_back_to_the_list_its_reader_came_from(client, cast, project):
    report = file(cast["reporter"], project)
    for who, back in (
        ("maintainer", '<a href="/reports/?view=queue">Queue</a>'),
        ("reporter", '<a href="/reports/?view=mine">My reports</a>'),
    ):
        client.sign_in(cast[who])
        body = client.get(f"/reports/{report.tracking_id}/").content.decode()
        assert back in body, who


def test_the_queue_filters_by_the_members_projects_and_my_reports_by_theirs_too(
    client, project, other_project, maintainer
):
    PolicyRevisionFactory(project=other_project)
    file(maintainer, other_project)  # a maintainer of Acme reports to Other
    client.sign_in(maintainer)
    choices = {p.slug for p in client.get("/reports/?view=queue").context["projects"]}
    assert choices == {"acme"}
    choices = {p.slug for p in client.get("/reports/?view=mine").context["projects"]}
    assert choices == {"acme", "other"}


def selected_columns(sql, table):
    """The columns of `table` a SELECT reads (its select list, before its own FROM: not one
    inside a subquery of the list)."""
    depth = 0
    for at, char in enumerate(sql):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and sql.startswith(" FROM ", at):
            break
    return set(re.findall(rf'"{table}"\."(\w+)"', sql[:at]))


def long_text_columns(model):
    return {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, models.TextField | models.JSONField)
    }


@pytest.mark.parametrize("view", ["queue", "mine"])
def test_the_list_reads_only_the_columns_its_rows_show(client, project, maintainer, view):
    """No Markdown bodies of reports nor policy texts of projects in the page's query (nor in
    the roles' query, which brings a member's queue its projects' names)."""
    file(maintainer, project, title="Relay overflow")
    client.sign_in(maintainer)
    with CaptureQueriesContext(connection) as queries:
        assert listed(client, f"?view={view}") != []
    pages = [q["sql"] for q in queries.captured_queries if 'FROM "reports_report"' in q["sql"]]
    page = next(sql for sql in pages if selected_columns(sql, "reports_report") >= {"title"})
    reports = selected_columns(page, "reports_report")
    projects = set().union(
        *(selected_columns(q["sql"], "projects_project") for q in queries.captured_queries)
    )
    assert {"title", "tracking_id", "next_due"} <= reports
    assert {"name", "slug"} <= projects
    assert not reports & long_text_columns(Report), reports & long_text_columns(Report)
    assert not projects & long_text_columns(Project), projects & long_text_columns(Project)
    assert long_text_columns(Report) >= {"description", "steps_to_reproduce", "impact"}


def test_the_queues_page_is_its_projects_reports_without_the_sharing_check(
    client, project, other_project, maintainer, reporter, stranger
):
    """A member's queue holds their projects' reports, each visible to them as a member: its
    page query filters by those projects alone, without visible_to's OR and its EXISTS on the
    collaborator permission (a report shared with them elsewhere is in My reports, not here).
    """
    PolicyRevisionFactory(project=other_project)
    theirs = file(reporter, project)
    elsewhere = file(stranger, other_project)
    share(elsewhere, by=stranger, with_user=maintainer)
    client.sign_in(maintainer)
    with CaptureQueriesContext(connection) as queries:
        assert listed(client, "?view=queue") == [theirs.tracking_id]
    page = [q["sql"] for q in queries.captured_queries if '"reports_report"."title"' in q["sql"]]
    assert len(page) == 1
    assert "reportuserobjectpermission" not in page[0]
    assert " OR " not in page[0].split(" WHERE ", 1)[1]
    assert listed(client, "?view=mine") == [elsewhere.tracking_id]


@pytest.mark.parametrize(
    "url", ["/reports/", "/reports/?view=mine", "/reports/?q=relay&sort=severity"]
)
def test_the_members_roles_are_read_once_per_request(client, project, maintainer, url):
    file(maintainer, project, title="Relay overflow")
    client.sign_in(maintainer)
    client.get(url)  # the session's first page
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # With the user, in one query (disclosure.auth): the only one naming the memberships.
    roles = [q["sql"] for q in queries.captured_queries if '"projects_membership"' in q["sql"]]
    assert len(roles) == 1, roles


HOSTILE = '<script>alert("x")</script> & co'


def test_the_lists_rows_show_each_column_to_whom_it_belongs_and_escape_every_value(
    client, project, reporter, maintainer
):
    """The rows are rendered in Python for speed (report_tags.report_rows): every value is
    escaped, and members see the assignee and the CVE badge the reporter does not."""
    from projects.models import Profile

    Profile.objects.update_or_create(user=maintainer, defaults={"display_name": HOSTILE})
    project.name = HOSTILE
    project.save(update_fields=["name"])
    report = file(reporter, project, title=HOSTILE)
    services.assign(report=report, by=maintainer, assignee=maintainer)
    Report.objects.filter(pk=report.pk).update(
        cvss_score="9.8", cvss_severity="Critical", cve_request_needed=True
    )
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"

    client.sign_in(maintainer)
    body = client.get("/reports/?view=queue").content.decode()
    row = body.split("<tbody>")[-1].split("</tbody>")[0]
    assert "<script>" not in body
    assert f'<a href="/reports/{report.tracking_id}/">' in row
    assert f'<td class="text-break">{escaped}</td>' in row  # title
    assert f'<td class="d-none d-md-table-cell">{escaped}</td>' in row  # project
    assert f"{escaped} ({maintainer.email})" in row  # assignee, for members with the address
    assert '9.8 Critical <span class="badge text-bg-danger">CVE</span>' in row
    assert "<td>New</td>" in row

    client.sign_in(reporter)
    row = client.get("/reports/").content.decode().split("<tbody>")[-1].split("</tbody>")[0]
    assert "<script>" not in row
    assert f'<td class="text-break">{escaped}</td>' in row
    assert maintainer.email not in row
    assert "CVE</span>" not in row
    assert "9.8 Critical</td>" in row


@pytest.mark.parametrize("view", ["queue", "mine"])
def test_the_page_query_takes_its_projects_names_from_the_request(
    client, project, other_project, maintainer, stranger, view
):
    """The rows' project names come from the projects the request read already (a member's with
    the roles, My reports' for its filter): the page's query joins no projects table."""
    PolicyRevisionFactory(project=other_project)
    file(maintainer if view == "mine" else stranger, project)  # in the list `view` shows
    client.sign_in(maintainer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/reports/?view={view}")
    page = [q["sql"] for q in queries.captured_queries if '"reports_report"."title"' in q["sql"]]
    assert len(page) == 1
    assert '"projects_project"' not in page[0]
    assert [row.project.name for row in response.context["page"].reports] == ["Acme"]
    assert ">Acme</" in response.content.decode()


def test_my_reports_filter_offers_the_projects_of_the_reports_shared_with_me(
    client, project, other_project, stranger, collaborator
):
    """A collaborator who is no member anywhere follows a report of Other: My reports lists it
    under its project and can be filtered by it."""
    PolicyRevisionFactory(project=other_project)
    shared = file(stranger, other_project)
    share(shared, by=stranger, with_user=collaborator)
    file(stranger, project)  # not theirs
    client.sign_in(collaborator)
    response = client.get("/reports/?view=mine")
    assert {p.slug for p in response.context["projects"]} == {"other"}
    assert [(r.tracking_id, r.project.name) for r in response.context["page"].reports] == [
        (shared.tracking_id, "Other")
    ]
    assert listed(client, "?view=mine&project=other") == [shared.tracking_id]


@pytest.mark.parametrize("who", ["collaborator", "maintainer"])
def test_my_reports_costs_four_queries_however_many_reports_are_shared(
    client, project, other_project, stranger, collaborator, maintainer, reporter, who,
    django_assert_num_queries,
):  # fmt: skip
    """My reports: the user with their roles (disclosure.auth), the ids of the reports shared
    with the user, its filter's projects, the page. The same with one shared report or four.
    (Reading the shared ids inside the projects' query, one round trip less, measured slower
    on the 1M benchmark: benchmarks/README.md.)"""
    PolicyRevisionFactory(project=other_project)
    viewer = {"collaborator": collaborator, "maintainer": maintainer}[who]
    shared = file(stranger, other_project)
    share(shared, by=stranger, with_user=viewer)
    file(reporter, project)  # not theirs: the maintainer's queue has it, My reports not
    client.sign_in(viewer)
    client.get("/reports/?view=mine")  # the session's first page
    with django_assert_num_queries(4):
        assert listed(client, "?view=mine") == [shared.tracking_id]
    more = [file(stranger, other_project) for _ in range(3)]
    for report in more:
        share(report, by=stranger, with_user=viewer)
    with django_assert_num_queries(4) as queries:
        response = client.get("/reports/?view=mine")
    assert sorted(r.tracking_id for r in response.context["page"].reports) == sorted(
        r.tracking_id for r in [shared, *more]
    )
    # The maintainer's own project is offered too (queue_projects).
    expected = {"collaborator": {"other"}, "maintainer": {"acme", "other"}}[who]
    assert {p.slug for p in response.context["projects"]} == expected
    # Ids first: the page names the shared reports' ids, never the permission table.
    page = [q["sql"] for q in queries.captured_queries if '"reports_report"."title"' in q["sql"]]
    assert "reportuserobjectpermission" not in page[0]


def test_a_report_of_a_project_the_caller_did_not_read_still_shows_its_project(
    project, other_project, reporter, django_assert_num_queries
):
    """Filed between the filter's projects query and the page's (another tab): its project is
    read in one more query rather than failing the page."""
    PolicyRevisionFactory(project=other_project)
    file(reporter, project)
    file(reporter, other_project)
    read_before = [Project.objects.only("slug", "name").get(slug="acme")]
    viewer = selectors.Viewer.of(reporter)
    with django_assert_num_queries(2):  # the page, the project it did not know
        page = selectors.report_queue(
            user=reporter, viewer=viewer, now=T0, view=selectors.MINE, projects=read_before
        )
    assert sorted(r.project.name for r in page.reports) == ["Acme", "Other"]


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_the_plain_queue_page_compiled_once_gives_the_orms_rows(
    project, other_project, maintainer, reporter, sort, monkeypatch
):
    """The page a member lands on (no filter, search or cursor) runs SQL the ORM wrote once for
    its shape (selectors._compiled_once): the same rows, values and types (dates, scores) as
    the query itself gives, and another shape (one project more) gets its own SQL."""
    PolicyRevisionFactory(project=other_project)
    for n in range(4):
        report = file(reporter, project, title=f"Acme {n}")
        Report.objects.filter(pk=report.pk).update(cvss_score="7.5", cvss_severity="High")
        services.assign(report=report, by=maintainer, assignee=maintainer)
        file(reporter, other_project, title=f"Other {n}")

    def page(size=3):
        viewer = selectors.Viewer.of(maintainer, shared=False)
        projects = selectors.list_projects(viewer, selectors.QUEUE)
        return selectors.report_queue(
            user=maintainer, viewer=viewer, now=T0, sort=sort, page_size=size, projects=projects
        )

    def expected(size=3):
        viewer = selectors.Viewer.of(maintainer, shared=False)
        known = {
            p.pk: selectors.RowProject(p.pk, p.slug, p.name)
            for p in selectors.list_projects(viewer, selectors.QUEUE)
        }
        query = selectors.row_query(with_project=False).of_viewers_projects(viewer)
        rows = query.order_by(*selectors.SORTS[sort].order_by())[: size + 1]
        return selectors.queue_rows(rows, projects=known)[:size]

    selectors._PLAIN_PAGES.clear()
    for _ in range(2):  # compiled, then from the compiled SQL
        rows = page().reports
        assert rows == expected()
        assert [type(v) for v in rows[0]] == [type(v) for v in expected()[0]]
        assert isinstance(
            rows[0].cvss_score, type(Report._meta.get_field("cvss_score").to_python("1.0"))
        )
        assert rows[0].created_at.tzinfo is not None
    assert len(selectors._PLAIN_PAGES) == 1
    # Once written, the page's SQL runs without its queryset being built again.
    with monkeypatch.context() as patched:
        patched.setattr(selectors, "row_query", None)
        assert page().reports == rows
    assert {r.project.name for r in page(size=8).reports} == {"Acme"}
    MembershipFactory(project=other_project, user=maintainer)
    assert page(size=8).reports == expected(size=8)
    assert {r.project.name for r in page(size=8).reports} == {"Acme", "Other"}
    assert len(selectors._PLAIN_PAGES) == 3  # (3 rows, 1 project), (8, 1), (8, 2)
    # A shape whose first compile did not give the expected parameters runs through the ORM.
    selectors._PLAIN_PAGES.clear()
    selectors._PLAIN_PAGES[("default", sort, 2, 4, None)] = None
    assert page().reports == expected()
    assert {("default", sort, 2, 4, None): None} == selectors._PLAIN_PAGES  # not compiled again


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_the_pages_after_the_first_are_compiled_once_too(
    client, project, maintainer, reporter, sort, monkeypatch
):
    """Next page after next page of the plain queue, in every sort (deadlines that are set and
    that are not, equal ones): the rows the ORM gives for the same cursor, from SQL written
    once per shape of cursor (on a value, on a null), with no queryset built once written."""
    with time_machine.travel(T0, tick=False):
        reports = [file(reporter, project, title=f"R{n}") for n in range(9)]
    Report.objects.filter(pk__in=[r.pk for r in reports[:3]]).update(next_due=None)
    Report.objects.filter(pk__in=[r.pk for r in reports[3:6]]).update(next_due=T0)
    for n, report in enumerate(reports):
        Report.objects.filter(pk=report.pk).update(severity_rank=n % 3)

    def walk():
        viewer = selectors.Viewer.of(maintainer, shared=False)
        projects = selectors.list_projects(viewer, selectors.QUEUE)
        pages, cursor = [], None
        while True:
            page = selectors.report_queue(
                user=maintainer, viewer=viewer, now=T0, sort=sort, page_size=2,
                projects=projects, cursor=cursor,
            )  # fmt: skip
            pages.append([r.tracking_id for r in page.reports])
            if not (cursor := page.next_cursor):
                return pages

    selectors._PLAIN_PAGES.clear()
    with monkeypatch.context() as patched:  # the ORM's pages, nothing compiled
        patched.setattr(selectors, "_compiled_once", lambda page, *args: page)
        by_orm = walk()
    assert sorted(t for page in by_orm for t in page) == sorted(r.tracking_id for r in reports)
    assert walk() == by_orm  # compiling as it goes
    shapes = {key[-1] for key, page in selectors._PLAIN_PAGES.items() if page is not None}
    assert shapes >= {None, "value"}
    if sort == "deadline":
        assert "null" in shapes  # the pages among the reports without a deadline
    with monkeypatch.context() as patched:
        patched.setattr(selectors, "row_query", None)  # no queryset is built any more
        assert walk() == by_orm
    # And through the page, following its Next links.
    client.sign_in(maintainer)
    seen, url = [], f"/reports/?view=queue&sort={sort}"
    while url:
        response = client.get(url)
        seen.append([r.tracking_id for r in response.context["page"].reports])
        after = response.context["page"].next_cursor
        url = after and f"/reports/?view=queue&sort={sort}&after={after}"
    assert [t for page in seen for t in page] == [t for page in by_orm for t in page]


def test_the_queues_next_pages_cost_two_queries_however_deep(
    client, settings, project, maintainer, reporter, django_assert_num_queries
):
    """The user with their roles and the page: the counts are kept from page 1, and a cursor
    page's SQL, once written, runs without any other query."""
    settings.REPORTS_PAGE_SIZE = 2
    for n in range(7):
        file(reporter, project, title=f"R{n}")
    client.sign_in(maintainer)
    url, pages = "/reports/?view=queue", 0
    client.get(url)  # page 1: counts the projects' reports
    while url:
        with django_assert_num_queries(2):
            page = client.get(url).context["page"]
        pages += 1
        url = page.next_cursor and f"/reports/?view=queue&after={page.next_cursor}"
    assert pages == 4


def test_a_compiled_page_knows_where_each_parameter_comes_from():
    class Compiled:
        def __init__(self, *params):
            self.params = params

    when = datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
    page = selectors.PlainPage.of(Compiled(7, 9, when, when, 41), (7, 9), (when, 41))
    assert page.layout == (0, 1, 2, 2, 3)
    assert selectors.PlainPage.of(Compiled(7, 9, 41), (7, 9), (None, 41)).layout == (0, 1, 3)
    assert selectors.PlainPage.of(Compiled(7, 9), (7, 9), ()).layout == (0, 1)
    assert selectors.PlainPage.of(Compiled(9, 7), (7, 9), ()) is None  # ids out of order
    assert selectors.PlainPage.of(Compiled(7, 9, 5), (7, 9), (when, 41)) is None  # not ours
    with pytest.raises(selectors.AmbiguousPageError):  # a severity rank equal to the id
        selectors.PlainPage.of(Compiled(7, 3, 3), (7,), (3, 3))
