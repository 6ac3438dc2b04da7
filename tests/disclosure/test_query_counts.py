"""Every page costs the same number of queries however many rows it shows (issue 15).

Every URL of the site (tests/site_map.py walks the resolver, so a page added later is swept
without anyone remembering it) is requested with GET, filled with the real values of a seeded
world, by each visitor of the cast who may see something different there: anonymous, the
reporter, a collaborator on their report, a maintainer, the project's admin and a superuser.
Each page that answers 200 is counted after a warm-up pass over all of them (caches of content
types and sites fill, and visits start their session, once, not per row). Then the world grows:
more projects, reports, comments (public and internal), events, attachments, collaborators,
invitations, members, published advisories with credits, advisory amendments, version matrix
series, policy revisions. Every page is counted again and must cost exactly what it cost before;
a failure lists each page whose count grew, with both numbers and its SQL.

A page is measured or named in EXEMPT with the reason. Of the admin, the superuser's change pages
are measured here (their inlines list rows); its changelists are measured by
tests/test_admin_sweep.py::test_changelists_do_not_query_per_row.
"""

import datetime

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisories import revisions
from advisories import services as advisory_services
from projects import services as project_services
from projects.models import Membership
from reports import services as report_services
from tests.advisories.publishing import publish_now
from tests.disclosure.test_url_sweep import is_admin
from tests.factories import (
    MembershipFactory,
    PolicyRevisionFactory,
    ProjectFactory,
    SupportedVersionFactory,
    UserFactory,
)
from tests.signin import Client
from tests.site_map import SIGNS_OUT, routes
from webhooks import sweep as webhook_sweep

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("templates_unrecorded")]

VISITORS = ("anonymous", "reporter", "collaborator", "maintainer", "project_admin", "superuser")
GROWTH = 3  # rows added to every list of the world

# Pages not measured here, and why.
EXEMPT = {
    "account_logout": "ends the visit (SIGNS_OUT): nothing listed",
    "admin:logout": "ends the visit (SIGNS_OUT): nothing listed",
    "account_confirm_email": "signs out whoever is signed in: nothing listed",
}

# Lists the sweep must reach with a 200, or the values it fills in have gone stale and pages
# would be missed silently: (visitor, route key, query).
MUST_MEASURE = {
    ("anonymous", "projects:list", ""),
    ("anonymous", "projects:detail", ""),
    ("anonymous", "advisories:project_advisories", ""),
    ("anonymous", "advisories:feed", ""),
    ("anonymous", "advisories:hall_of_fame", ""),
    ("anonymous", "advisories:advisory_page", ""),
    ("anonymous", "advisories:csaf_index", ""),
    ("anonymous", "advisories:csaf_changes", ""),
    ("anonymous", "advisories:csaf_feed", ""),
    ("anonymous", "advisories:project_osv", ""),
    ("anonymous", "advisories:osv_all", ""),
    ("reporter", "reports:list", ""),
    ("reporter", "reports:detail", ""),
    ("reporter", "advisories:advisory", ""),
    ("collaborator", "reports:list", ""),
    ("collaborator", "reports:detail", ""),
    ("maintainer", "reports:list", ""),
    ("maintainer", "reports:list", "?view=mine"),
    ("maintainer", "reports:list", "?sort=severity&state=open&q=overflow"),
    ("maintainer", "reports:detail", ""),
    ("maintainer", "reports:sla_dashboard", ""),
    ("maintainer", "advisories:checklist", ""),
    ("maintainer", "advisories:advisory", ""),
    ("project_admin", "projects:members", ""),
    ("project_admin", "webhooks:list", ""),
    ("project_admin", "webhooks:detail", ""),
    ("superuser", "reports:list", ""),
    ("superuser", "reports:detail", ""),
    ("superuser", "admin:projects_project_change", ""),
    ("superuser", "admin:reports_report_change", ""),
    ("superuser", "admin:advisories_advisory_change", ""),
}

# Lists with more than one variant worth measuring: the queue's views, sorts and search.
QUERIES = {
    "reports:list": ("", "?view=mine", "?sort=severity&state=open&q=overflow"),
}


def admin_page(route, who):
    """The admin's change pages, for the superuser: its changelists, add, history and delete
    pages are left to tests/test_admin_sweep.py (changelists there, constant in rows; a
    deletion's summary lists what would go by design).
    """
    return who == "superuser" and route.key.endswith("_change")


def measured_urls(world, who):
    """(route key, query, URL with its query) of every page measured for `who`, in resolver
    order: the admin's change pages for the superuser (admin_page).
    """
    for route in routes():
        if route.key in EXEMPT or (is_admin(route) and not admin_page(route, who)):
            continue
        url = route.url(world.real(route))
        for query in QUERIES.get(route.key, ("",)):
            yield route.key, query, url + query


def count(client, url):
    """(status, queries) of one GET, streamed responses read to the end. Counted with an empty
    cache: what a page costs when nothing it keeps there (the queue's counts) is kept yet.
    """
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return response.status_code, queries


def grow(world, *, maintainer, project_admin):
    """GROWTH more rows in every list the pages of the world show."""
    project, report, reporter = world.project, world.report, world.reporter
    fields = {"description": "It overflows.", "steps_to_reproduce": "Run it."}
    for n in range(GROWTH):
        # Another project the maintainer works on, with its own open report.
        other = ProjectFactory(slug=f"grown-{n}", name=f"Grown {n}", tracking_prefix=f"GRW{n}")
        PolicyRevisionFactory(project=other)
        MembershipFactory(project=other, user=maintainer, role=Membership.Role.MAINTAINER)
        report_services.file_report(
            project=other, reporter=reporter, fields={**fields, "title": f"Elsewhere {n}"}
        )
        # More reports of the reporter in the project, some scored, one assigned.
        filed = report_services.file_report(
            project=project,
            reporter=reporter,
            fields={**fields, "title": f"Overflow number {n}"},
            credit={"display": "name", "name": f"Reporter {n}"},
        )
        report_services.transition(
            report=filed, by=maintainer, name="triage", message="Yes.", severity="high"
        )
        report_services.assign(report=filed, by=maintainer, assignee=project_admin)
        # The open report: comments both ways, internal notes, attachments, collaborators.
        report_services.add_comment(
            report=report, by=reporter, body=f"More {n}.", internal=False, by_member=False
        )
        report_services.add_comment(
            report=report, by=maintainer, body=f"Reply {n}.", internal=False, by_member=True
        )
        report_services.add_comment(
            report=report, by=maintainer, body=f"Note {n}.", internal=True, by_member=True
        )
        report_services.add_attachments(
            report=report,
            by=reporter,
            files=[SimpleUploadedFile(f"trace-{n}.txt", b"trace\n")],
        )
        invitee = UserFactory(email=f"helper-{n}@example.org")
        invitation = report_services.invite_collaborator(
            report=report, by=reporter, email=invitee.email
        )
        report_services.accept_invitation(token=invitation.token, user=invitee)
        report_services.set_credit(report=report, by=invitee, display="handle", handle=f"helper{n}")
        report_services.invite_collaborator(
            report=report, by=reporter, email=f"pending-{n}@example.org"
        )
        # The project's people: members of each role and pending invitations.
        MembershipFactory(project=project, role=Membership.Role.TRIAGER)
        project_services.invite_member(
            project=project, email=f"joining-{n}@example.org", role="triager", by=None
        )
        # The policy: more series in the version matrix, older revisions in its history.
        SupportedVersionFactory(revision=world.revision, series=f"{n + 2}.x")
        PolicyRevisionFactory(project=project, effective_from=datetime.date(2020 + n, 1, 1))
        # The published advisory of the world: amendments in its revision history.
        revisions.amend(
            advisory=world.disclosed.advisory,
            by=maintainer,
            fields={"fixed_versions": ["1.0.1", f"1.1.{n}"]},
            reason=f"Also fixed in 1.1.{n}.",
        )
        # Another disclosed report with a published advisory crediting its reporter.
        finder = UserFactory(email=f"finder-{n}@example.org")
        disclosed = report_services.file_report(
            project=project,
            reporter=finder,
            fields={**fields, "title": f"Bypass {n}"},
            credit={"display": "handle", "handle": f"finder{n}"},
        )
        report_services.transition(
            report=disclosed, by=maintainer, name="triage", message="Yes.", severity="medium"
        )
        report_services.transition(report=disclosed, by=maintainer, name="mark_fixed", message="")
        advisory = advisory_services.draft_advisory(report=disclosed, by=maintainer)
        advisory = advisory_services.update_advisory(
            advisory=advisory,
            by=maintainer,
            fields={"fixed_versions": [f"1.0.{n + 2}"], "affected_series": ["1.x"]},
        )
        publish_now(advisory, by=maintainer)
    advisory_services.propose_disclosure(
        report=report,
        by=maintainer,
        date=timezone.localdate() + datetime.timedelta(days=40),
        reason="Later still.",
    )
    # The webhook's deliveries log: a delivery of each new event.
    webhook_sweep.collect(now=timezone.now())


@pytest.mark.heavy
def test_every_page_costs_the_same_with_more_rows(
    world, reporter, collaborator, maintainer, project_admin, superuser
):
    people = {
        "anonymous": None,
        "reporter": reporter,
        "collaborator": collaborator,
        "maintainer": maintainer,
        "project_admin": project_admin,
        "superuser": superuser,
    }
    clients = {}
    for who, user in people.items():
        clients[who] = Client(raise_request_exception=False)
        if user is not None:
            clients[who].sign_in(user)
    urls = {who: list(measured_urls(world, who)) for who in clients}

    for who, client in clients.items():
        for _key, _query, url in urls[who]:  # warm-up: caches fill, sessions start, once per visit
            count(client, url)
    before = {}
    for who, client in clients.items():
        for key, query, url in urls[who]:
            status, queries = count(client, url)
            if status == 200:
                before[who, key, query, url] = len(queries)
    missing = MUST_MEASURE - {(who, key, query) for who, key, query, _ in before}
    assert not missing, f"the sweep no longer reaches these pages: {sorted(missing)}"

    grow(world, maintainer=maintainer, project_admin=project_admin)

    grown = []
    for (who, key, _query, url), small in before.items():
        status, queries = count(clients[who], url)
        if status != 200 or len(queries) != small:
            sql = "\n".join(f"  {q['sql'][:300]}" for q in queries.captured_queries)
            grown.append(f"{who} {key} {url}: {small} -> {len(queries)} (status {status})\n{sql}")
    assert not grown, f"{len(grown)} pages cost more with more rows:\n" + "\n\n".join(grown)


def test_exemptions_name_real_pages():
    keys = {route.key for route in routes()}
    assert set(EXEMPT) <= keys, set(EXEMPT) - keys
    assert set(EXEMPT) >= set(SIGNS_OUT), "a page that signs out cannot be measured"
