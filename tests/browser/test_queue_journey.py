"""A maintainer works the queue in the browser: finds it in the nav, searches by a word, sorts by
severity, assigns a report to themselves, filters "Assigned to me", unassigns. And the queue at a
phone's width (390 px) has no horizontal scroll.
"""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from reports import services
from reports.models import Report
from tests.browser.helpers import QUEUE_NAV, follow_nav, member_of, sign_in
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = settings.BASE_DIR / "var" / "e2e"


@pytest.fixture
def stalwart():
    project = ProjectFactory(slug="stalwart", name="Stalwart", tracking_prefix="STW")
    PolicyRevisionFactory(project=project)
    return project


@pytest.fixture
def maintainer(stalwart):
    return member_of(stalwart, "maintainer@example.org")


@pytest.fixture
def reports(stalwart, maintainer):
    """Four reports of a reporter, three triaged: {title: report}."""
    reporter = UserFactory(email="reporter@example.org")
    filed = {}
    for title, severity, impact in (
        ("SMTP smuggling in the relay", "medium", "Spoofed mail from any local sender."),
        ("Heap overflow in the IMAP parser", "critical", "Remote code execution."),
        ("Open redirect on the login page", "low", "Phishing help."),
        ("Smuggled headers in the JMAP gateway", "", "Header injection."),
    ):
        report = services.file_report(
            project=stalwart,
            reporter=reporter,
            fields={"title": title, "steps_to_reproduce": "See the title.", "impact": impact},
        )
        if severity:
            services.transition(
                report=report, by=maintainer, name="triage", severity=severity, message="Seen."
            )
        filed[title] = report
    return filed


def queue_ids(page):
    """The tracking IDs of the queue's rows, top to bottom."""
    return page.locator("table.table-hover tbody tr td:first-child a").all_inner_texts()


def test_a_maintainer_searches_sorts_assigns_and_filters_the_queue(
    page, live_server, maintainer, reports
):
    relay = reports["SMTP smuggling in the relay"]
    heap = reports["Heap overflow in the IMAP parser"]
    gateway = reports["Smuggled headers in the JMAP gateway"]
    sign_in(page, live_server, maintainer)
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    counts = page.get_by_role("table", name="Open reports by project")
    expect(counts.get_by_role("row", name="Stalwart 4 0")).to_be_visible()
    assert len(queue_ids(page)) == 4

    # A word of the impact, not of the title.
    page.get_by_label("Search").fill("spoofed")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=relay.tracking_id)).to_be_visible()
    assert queue_ids(page) == [relay.tracking_id]

    # An exact tracking ID, typed in lower case, comes first.
    page.get_by_label("Search").fill(gateway.tracking_id.lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=gateway.tracking_id)).to_be_visible()
    assert queue_ids(page) == [gateway.tracking_id]

    page.get_by_label("Search").fill("")
    page.get_by_label("Sort by").select_option(label="Severity (critical first)")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Sort by")).to_have_value("severity")
    rows = page.locator("table.table-hover tbody tr")
    expect(rows).to_have_count(4)
    assert queue_ids(page) == [
        heap.tracking_id,
        relay.tracking_id,
        reports["Open redirect on the login page"].tracking_id,
        gateway.tracking_id,
    ]

    page.get_by_role("link", name=heap.tracking_id).click()
    expect(page.get_by_text("Not assigned to anyone.")).to_be_visible()
    page.get_by_label("Assigned to").select_option(label=maintainer.email)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text(f"Assigned to {maintainer.email}.", exact=True)).to_be_visible()
    expect(page.get_by_label("Assigned to")).to_have_value(str(maintainer.pk))
    assert Report.objects.get(pk=heap.pk).assignee == maintainer

    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("cell", name=maintainer.email)).to_be_visible()
    page.get_by_label("Assigned to me").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Assigned to me")).to_be_checked()
    expect(rows).to_have_count(1)
    assert queue_ids(page) == [heap.tracking_id]

    page.get_by_role("link", name=heap.tracking_id).click()
    page.get_by_role("button", name="Unassign").click()
    expect(page.get_by_text("Unassigned.", exact=True)).to_be_visible()
    expect(page.get_by_text("Not assigned to anyone.")).to_be_visible()
    assert Report.objects.get(pk=heap.pk).assignee is None
    follow_nav(page, QUEUE_NAV)
    page.get_by_label("Assigned to me").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No reports match these filters.")).to_be_visible()


def test_the_queue_fits_a_390px_phone(page, live_server, maintainer, reports):
    sign_in(page, live_server, maintainer)
    page.set_viewport_size({"width": 390, "height": 844})  # the nav folds: open the queue by URL
    page.goto(live_server.url + "/reports/?view=queue")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    for report in reports.values():
        link = page.get_by_role("link", name=report.tracking_id)
        expect(link).to_be_visible()
        # Tracking IDs never wrap: one line high.
        box = link.bounding_box()
        assert box["height"] < 30, (report.tracking_id, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue-390.png"), full_page=True)


def test_a_collaborator_filters_my_reports_by_the_project_of_a_report_shared_with_them(
    page, live_server, stalwart, reports
):
    """Someone who is no member anywhere follows a Stalwart report and files one of their own
    elsewhere: My reports offers both projects and filters by the shared report's."""
    from tests.reports.conftest import share

    relay = reports["SMTP smuggling in the relay"]
    collaborator = UserFactory(email="collaborator@example.org")
    share(relay, by=relay.reporter, with_user=collaborator)
    elsewhere = ProjectFactory(slug="teammail", name="TeamMail", tracking_prefix="TM")
    PolicyRevisionFactory(project=elsewhere)
    own = services.file_report(
        project=elsewhere,
        reporter=collaborator,
        fields={"title": "Token leak", "steps_to_reproduce": "See.", "impact": "Leak."},
    )
    sign_in(page, live_server, collaborator)
    follow_nav(page, "My reports")
    rows = page.locator("table.table-hover tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Project").select_option(label="Stalwart")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Project")).to_have_value("stalwart")
    expect(rows).to_have_count(1)
    assert queue_ids(page) == [relay.tracking_id]
    expect(rows.first.get_by_text("Stalwart", exact=True)).to_be_visible()
    page.get_by_label("Project").select_option(label="TeamMail")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=own.tracking_id)).to_be_visible()
    assert queue_ids(page) == [own.tracking_id]


def test_an_admin_follows_the_queues_counts_to_the_open_list_sla_and_members(
    page, live_server, stalwart, reports
):
    admin = member_of(stalwart, "admin@example.org", role="admin")
    sign_in(page, live_server, admin)
    follow_nav(page, QUEUE_NAV)
    counts = page.get_by_role("table", name="Open reports by project")
    counts.get_by_role("link", name="Open reports of Stalwart").click()
    expect(page.get_by_label("State")).to_have_value("open")
    expect(page.locator("table.table-hover tbody tr")).to_have_count(4)
    counts.get_by_role("link", name="SLA dashboard of Stalwart").click()
    expect(page.get_by_role("heading", name="Stalwart: response commitments")).to_be_visible()
    page.go_back()
    counts.get_by_role("link", name="Members of Stalwart").click()
    expect(page.get_by_role("heading", name="Members of Stalwart")).to_be_visible()


def test_a_maintainer_pages_through_the_queue_with_next_page(
    page, live_server, settings, stalwart, maintainer, reports
):
    """Two reports a page: Next page after Next page shows every report once, in the sort the
    maintainer chose (deadline, then severity), and the last page has no Next link. The pages
    after the first run the SQL written for their cursor (reports.selectors.PlainPage)."""
    settings.REPORTS_PAGE_SIZE = 2
    more = services.file_report(
        project=stalwart,
        reporter=UserFactory(email="another@example.org"),
        fields={"title": "Quota bypass", "steps_to_reproduce": "See.", "impact": "Disk full."},
    )
    everyone = {r.tracking_id for r in reports.values()} | {more.tracking_id}
    sign_in(page, live_server, maintainer)
    follow_nav(page, QUEUE_NAV)
    rows = page.locator("table.table-hover tbody tr")
    next_page = page.get_by_role("link", name="Next page")

    def walk():
        seen = []
        while True:
            expect(rows.first).to_be_visible()
            seen += queue_ids(page)
            if next_page.count() == 0:
                return seen
            next_page.click()
            expect(page).to_have_url(re.compile(r"after="))

    by_deadline = walk()
    assert sorted(by_deadline) == sorted(everyone)
    assert len(by_deadline) == 5

    page.get_by_label("Sort by").select_option(label="Severity (critical first)")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Sort by")).to_have_value("severity")
    by_severity = walk()
    assert by_severity[:3] == [
        reports["Heap overflow in the IMAP parser"].tracking_id,
        reports["SMTP smuggling in the relay"].tracking_id,
        reports["Open redirect on the login page"].tracking_id,
    ]
    assert sorted(by_severity) == sorted(everyone)
    expect(page.get_by_label("Sort by")).to_have_value("severity")  # the sort kept page to page
