"""What the world sees of the disclosure work (issue items 4 and 5).

- Sentinels: nothing about a report is public before its advisory is published, and afterwards
  only the advisory's own published fields are; internal comments, the report's body, other
  reports and the checklist never are.
- Credits: an anonymous reporter stays anonymous on every public surface; a handle is shown as
  the handle only. The hall of fame lists published credits, newest first.
- The Atom feed is valid Atom and lists published advisories only; security.txt points to the
  hall of fame.
- The public lists and the advisory page cost a constant number of queries.

Every public URL is fetched as anonymous and as a signed-in stranger.
"""

import datetime as dt
import io
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from advisories import services as advisory_services
from advisories.models import Advisory, Credit
from projects.models import Membership, Project
from reports import services
from reports.models import Report
from tests.advisories.publishing import publish_now
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import share
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ATOM = "{http://www.w3.org/2005/Atom}"
EXPORTS = {"osv": "OSV", "csaf": "CSAF 2.0", "cve": "CVE JSON 5"}

# Sentinels, one per kind of private content.
TITLE = "TITLE-SENTINEL-3f3f relay smuggling"  # the report's title: public with the advisory
DETAILS = "DETAILS-SENTINEL-4c1e"  # the draft advisory's details: public once published
INTERNAL = "INTERNAL-SENTINEL-9b2d"  # an internal comment: never public
STEPS = "STEPS-SENTINEL-0a7f"  # the report's steps to reproduce: never public (not copied)
OTHER = "OTHER-REPORT-SENTINEL-55e3"  # the title of another, unpublished report: never public
CHECKLIST = "CHECKLIST-SENTINEL-d00d"  # a checklist summary field: never public
NEVER_PUBLIC = (INTERNAL, STEPS, OTHER, CHECKLIST)

# The reporter's identity.
EMAIL = "zelda.sentinel@reporter.example.net"
NAME = "Zelda Okonkwo-Sentinel"
HANDLE = "z3lda-sentinel"


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stalwart(db, clock):
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def member(stalwart):
    user = UserFactory(email="maintainer@stalw.example")
    MembershipFactory(project=stalwart, user=user, role=Membership.Role.MAINTAINER)
    return user


@pytest.fixture
def finder(db):
    return UserFactory(email=EMAIL, first_name="Zelda", last_name="Okonkwo-Sentinel")


@pytest.fixture
def visitors(stranger):
    """The public: nobody signed in, and a signed-in account with no part in anything."""
    signed_in = Client()
    signed_in.sign_in(stranger)
    return {"anonymous": Client(), "stranger": signed_in}


def file(project, reporter, **fields):
    values = {
        "title": TITLE,
        "vulnerability_type": "SMTP smuggling",
        "affected_versions": ["0.13.x", "0.12.x"],
        "affected_components": "smtp-inbound",
        "description": "A bare LF before the final dot ends DATA early.",
        "steps_to_reproduce": f"Send a bare LF inside DATA. {STEPS}",
        "impact": "Spoofed mail from any local sender.",
        **fields,
    }
    return services.file_report(project=project, reporter=reporter, fields=values)


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def drafted(project, *, by, reporter, details=None, **report_fields):
    """A fixed report with its advisory drafted (fixed version and CVE ID set)."""
    report = file(project, reporter, **report_fields)
    services.transition(report=report, by=by, name="triage", severity="high", message="Confirmed.")
    services.transition(report=fresh(report), by=by, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=fresh(report), by=by)
    fields = {"fixed_versions": ["0.13.4"], "cve_id": "CVE-2026-12345"}
    if details is not None:
        fields["details"] = details
    return advisory_services.update_advisory(advisory=advisory, by=by, fields=fields)


def credited(advisory, reporter, **preference):
    """The reporter chooses how to be credited (on the report, until publication)."""
    services.set_credit(report=advisory.report, by=reporter, **preference)
    return advisory


def publish(advisory, by):
    return publish_now(Advisory.objects.get(pk=advisory.pk), by=by)


def public_urls(project, identifier):
    """Every public page, list, feed and download around one project and one advisory."""
    slug = project.slug
    revision = project.revision_in_force()
    return {
        "directory": "/",
        "project": f"/projects/{slug}/",
        "policy revision": f"/projects/{slug}/policy/{revision.pk}/",
        "advisories": f"/projects/{slug}/advisories/",
        "feed": f"/projects/{slug}/advisories/feed/",
        "hall of fame": f"/projects/{slug}/hall-of-fame/",
        "security.txt": f"/projects/{slug}/security.txt",
        "instance security.txt": "/.well-known/security.txt",
        "advisory": f"/advisories/{identifier}/",
        "osv": f"/advisories/{identifier}.osv.json",
        "csaf": f"/advisories/{identifier}.csaf.json",
        "cve": f"/advisories/{identifier}.cve.json",
    }


class MissingExports:
    """Exports that are not implemented yet fail the test at its very end, by name, after every
    other assertion has run (they are not skipped).
    """

    def __init__(self):
        self.missing = {}

    def get(self, client, name, url):
        try:
            return client.get(url)
        except Exception as error:  # any crash of an export view is reported by name
            if name not in EXPORTS:
                raise
            self.missing[name] = f"{EXPORTS[name]} export ({url}) raised {error!r}"
            return None

    def check(self):
        if self.missing:
            pytest.fail(
                "missing export(s), not implemented yet: " + "; ".join(self.missing.values())
            )


def text(response):
    return response.content.decode()


def parse_atom(content):
    return ET.fromstring(content)  # noqa: S314 - the platform's own feed, in a test


# --- Nothing is public before publication -------------------------------------------------------


@pytest.fixture
def private_work(stalwart, member, finder, collaborator):
    """The sentinels in place: a drafted advisory of a fixed report with an internal comment and
    a filled checklist field, and a second, unpublished report.
    """
    advisory = drafted(stalwart, by=member, reporter=finder, details=f"Details: {DETAILS}")
    report = fresh(advisory.report)
    share(report, by=finder, with_user=collaborator)
    services.add_comment(
        report=report, by=member, body=f"Between us: {INTERNAL}", internal=True, by_member=True
    )
    services.add_comment(
        report=report, by=finder, body="Public question.", internal=False, by_member=False
    )
    advisory_services.start_checklist(report=report, by=member)
    field = report.checklist_items.filter(kind="field").first()
    advisory_services.update_checklist(
        report=report, by=member, done=set(), values={field.pk: CHECKLIST}
    )
    other = file(stalwart, finder, title=OTHER)
    services.transition(report=other, by=member, name="triage", severity="low", message="Yes.")
    advisory_services.draft_advisory(report=fresh(other), by=member)
    return advisory


def test_nothing_about_a_report_is_public_before_its_advisory_is_published(
    stalwart, private_work, visitors, member
):
    identifier = private_work.identifier
    unpublished = (
        TITLE,
        DETAILS,
        *NEVER_PUBLIC,
        identifier,
        private_work.report.tracking_id,
        "STW-ADV-2026-0002",
        EMAIL,
    )
    for who, client in visitors.items():
        for name, url in public_urls(stalwart, identifier).items():
            response = client.get(url)
            if name in ("advisory", *EXPORTS):
                assert response.status_code == 404, (who, url)
            else:
                assert response.status_code == 200, (who, url)
            body = text(response)
            for sentinel in unpublished:
                assert sentinel not in body, f"{sentinel!r} on {url} as {who}"
        # The report pages themselves stay closed.
        report_page = client.get(f"/reports/{private_work.report.tracking_id}/")
        assert report_page.status_code == (302 if who == "anonymous" else 404)

    # Neither the feed nor the lists have anything yet.
    client = visitors["anonymous"]
    assert "No advisories have been published yet." in text(
        client.get(f"/projects/{stalwart.slug}/advisories/")
    )
    assert "No credits have been published yet." in text(
        client.get(f"/projects/{stalwart.slug}/hall-of-fame/")
    )
    feed = parse_atom(client.get(f"/projects/{stalwart.slug}/advisories/feed/").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_after_publication_only_the_advisorys_published_fields_are_public(
    stalwart, private_work, visitors, member
):
    publish(private_work, member)
    identifier = private_work.identifier
    missing = MissingExports()
    for who, client in visitors.items():
        for name, url in public_urls(stalwart, identifier).items():
            response = missing.get(client, name, url)
            if response is None:
                continue
            assert response.status_code == 200, (who, url)
            body = text(response)
            for sentinel in (*NEVER_PUBLIC, EMAIL, "STW-ADV-2026-0002"):
                assert sentinel not in body, f"{sentinel!r} on {url} as {who}"
            if name in ("advisories", "feed", "advisory", "hall of fame"):
                assert identifier in body, url
            if name in ("advisory", "osv"):
                assert DETAILS in body, url  # the advisory's details are public now
        report_page = client.get(f"/reports/{private_work.report.tracking_id}/")
        assert report_page.status_code == (302 if who == "anonymous" else 404)
    page = text(visitors["anonymous"].get(f"/advisories/{identifier}/"))
    assert TITLE in page
    assert "0.13.4" in page
    missing.check()


# --- Credits ------------------------------------------------------------------------------------


CREDIT_SURFACES = ("hall of fame", "advisory", "feed", *EXPORTS)


def credit_names(name, response):
    """The credited names a surface shows, where it has a structured list of them."""
    if name == "osv":
        return [c["name"] for c in response.json().get("credits", [])]
    if name == "csaf":
        return [
            n
            for a in response.json()["document"].get("acknowledgments", [])
            for n in a.get("names", [])
        ]
    if name == "cve":
        return [c["value"] for c in response.json()["containers"]["cna"].get("credits", [])]
    return None


def test_an_anonymous_reporter_stays_anonymous_everywhere(stalwart, member, finder, visitors):
    advisory = drafted(stalwart, by=member, reporter=finder)
    # The reporter first gave a name, then a handle, then chose to be anonymous.
    credited(advisory, finder, display="name", name=NAME)
    credited(advisory, finder, display="handle", handle=HANDLE)
    credited(advisory, finder, display="anonymous", name=NAME, handle=HANDLE)
    publish(advisory, member)

    traces = (EMAIL, NAME, HANDLE, "Zelda", "Okonkwo", "z3lda", "zelda.sentinel")
    missing = MissingExports()
    urls = public_urls(stalwart, advisory.identifier)
    for who, client in visitors.items():
        for name in CREDIT_SURFACES:
            response = missing.get(client, name, urls[name])
            if response is None:
                continue
            assert response.status_code == 200, urls[name]
            body = text(response)
            for trace in traces:
                assert trace.lower() not in body.lower(), f"{trace!r} on {urls[name]} as {who}"
            names = credit_names(name, response)
            if names is not None:
                # The exports leave an anonymous credit out or call it "Anonymous".
                assert set(names) <= {"Anonymous"}, (name, names)
            elif name != "feed":  # the feed's entries carry no credits at all
                assert "Anonymous" in body, urls[name]
    missing.check()


def test_a_handle_is_shown_as_the_handle_only(stalwart, member, finder, visitors):
    advisory = drafted(stalwart, by=member, reporter=finder)
    credited(advisory, finder, display="handle", name=NAME, handle=HANDLE)
    publish(advisory, member)
    missing = MissingExports()
    urls = public_urls(stalwart, advisory.identifier)
    client = visitors["anonymous"]
    for name in ("hall of fame", "advisory", *EXPORTS):
        response = missing.get(client, name, urls[name])
        if response is None:
            continue
        body = text(response)
        assert HANDLE in body, urls[name]
        for trace in (EMAIL, NAME, "Zelda"):
            assert trace not in body, f"{trace!r} on {urls[name]}"
        names = credit_names(name, response)
        if names is not None:
            assert names == [HANDLE], name
    missing.check()


def test_each_participant_chooses_their_own_credit_until_publication(
    stalwart, member, finder, collaborator
):
    """ "we'll credit you in our GitHub Security Advisories (unless you prefer to remain
    anonymous)" (Stalwart): the reporter chooses on the report, whether or not a draft was shared;
    a collaborator may be credited too, by their own choice; members choose for nobody.
    """
    advisory = drafted(stalwart, by=member, reporter=finder)
    share(fresh(advisory.report), by=finder, with_user=collaborator)
    url = f"/reports/{advisory.report.tracking_id}/credit/"
    choices = {
        finder: {"credit-display": "handle", "credit-handle": "someone"},
        collaborator: {"credit-display": "name", "credit-name": "Co Llaborator"},
        member: {"credit-display": "name", "credit-name": "Not Me"},
    }
    for user, status in ((finder, 302), (collaborator, 302), (member, 403)):
        client = Client()
        client.sign_in(user)
        assert client.post(url, choices[user]).status_code == status
    publish(advisory, member)
    credits = {c.user: (c.display, c.public_name) for c in Credit.objects.filter(advisory=advisory)}
    assert credits == {
        finder: ("handle", "someone"),
        collaborator: ("name", "Co Llaborator"),
    }
    client = Client()
    client.sign_in(finder)
    response = client.post(url, {"credit-display": "name", "credit-name": NAME}, follow=True)
    assert "The advisory is published; ask the maintainers to correct its credits." in text(
        response
    )
    assert Credit.objects.get(advisory=advisory, user=finder).display == "handle"


def test_hall_of_fame_lists_published_credits_newest_first(
    stalwart, member, finder, clock, visitors
):
    older = drafted(stalwart, by=member, reporter=finder, title="Older finding")
    credited(older, finder, display="handle", handle="older-handle")
    newer = drafted(stalwart, by=member, reporter=finder, title="Newer finding")
    credited(newer, finder, display="name", name="Newer Name")
    draft = drafted(stalwart, by=member, reporter=finder, title="Draft finding")
    credited(draft, finder, display="name", name="Draft Person")
    Credit.objects.create(
        advisory=older,
        type=Credit.Type.REMEDIATION_DEVELOPER,
        display=Credit.Display.NAME,
        name="Fixer Person",
    )
    publish(older, member)
    clock.move_to(T0 + DAY)
    publish(newer, member)

    body = text(visitors["anonymous"].get(f"/projects/{stalwart.slug}/hall-of-fame/"))
    positions = [body.find(s) for s in ("Newer Name", "older-handle", "Fixer Person")]
    assert -1 not in positions, positions
    assert positions == sorted(positions)
    assert "Remediation developer" in body
    assert "2026-12-02" in body
    for unpublished in ("Draft Person", "Draft finding", draft.identifier):
        assert unpublished not in body
    # Other projects' halls of fame are their own.
    other = text(visitors["anonymous"].get("/projects/teammail/hall-of-fame/"))
    assert "Newer Name" not in other
    assert "No credits have been published yet." in other


# --- The feed and security.txt ------------------------------------------------------------------


def is_absolute_iri(value):
    parts = urlsplit(value)
    return bool(parts.scheme) and (parts.scheme in ("urn", "tag") or bool(parts.netloc))


@pytest.fixture
def feed(stalwart, member, finder, clock, visitors):
    """(response, parsed feed, [newest advisory, oldest], unpublished advisory)."""
    first = drafted(stalwart, by=member, reporter=finder, title="First finding")
    second = drafted(stalwart, by=member, reporter=finder, title="Second finding")
    unpublished = drafted(stalwart, by=member, reporter=finder, title="Unpublished finding")
    publish(first, member)
    clock.move_to(T0 + DAY)
    publish(second, member)
    response = visitors["anonymous"].get(f"/projects/{stalwart.slug}/advisories/feed/")
    assert response.status_code == 200
    published = [Advisory.objects.get(pk=a.pk) for a in (second, first)]
    return response, parse_atom(response.content), published, unpublished


def test_the_feed_is_atom_of_published_advisories_only(feed):
    response, root, published, unpublished = feed
    assert response["Content-Type"].startswith("application/atom+xml")
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Stalwart security advisories"
    assert root.findtext(f"{ATOM}id")
    assert root.findtext(f"{ATOM}updated") == "2026-12-02T09:30:00+00:00"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert urlsplit(links["alternate"]).path == "/projects/stalwart/advisories/"
    assert urlsplit(links["self"]).path == "/projects/stalwart/advisories/feed/"

    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        f"{published[0].identifier}: Second finding",
        f"{published[1].identifier}: First finding",
    ]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) == 2
    for entry, advisory in zip(entries, published, strict=True):
        (link,) = entry.findall(f"{ATOM}link")
        assert urlsplit(link.get("href")).path == f"/advisories/{advisory.identifier}/"
        assert entry.findtext(f"{ATOM}updated") == advisory.published_at.isoformat()
        assert entry.findtext(f"{ATOM}summary") == advisory.summary
    assert unpublished.identifier not in text(response)
    assert "Unpublished finding" not in text(response)


def test_feed_ids_are_absolute_iris(feed):
    """RFC 4287 4.2.6: atom:id is an absolute IRI (a bare "STW-ADV-2026-0001" is not)."""
    _, root, _, _ = feed
    ids = [root.findtext(f"{ATOM}id")]
    ids += [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert [i for i in ids if not is_absolute_iri(i)] == []


def test_feed_links_point_at_this_site(feed):
    """Links are absolute under SITE_URL (or the requested host), like security.txt and the
    exports; never the Sites framework's placeholder domain example.com.
    """
    _, root, _, _ = feed
    hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert len(hrefs) == 4
    bases = (settings.SITE_URL + "/", "http://testserver/")
    assert [href for href in hrefs if not href.startswith(bases)] == []


def test_the_feed_of_an_unknown_or_inactive_project_is_404(stalwart, visitors):
    assert visitors["anonymous"].get("/projects/nope/advisories/feed/").status_code == 404
    Project.objects.filter(pk=stalwart.pk).update(active=False)
    for url in (
        "/projects/stalwart/advisories/feed/",
        "/projects/stalwart/advisories/",
        "/projects/stalwart/hall-of-fame/",
    ):
        assert visitors["anonymous"].get(url).status_code == 404


def test_advisories_of_an_inactive_project_are_withdrawn(stalwart, member, finder, visitors):
    advisory = drafted(stalwart, by=member, reporter=finder)
    publish(advisory, member)
    assert visitors["anonymous"].get(f"/advisories/{advisory.identifier}/").status_code == 200
    Project.objects.filter(pk=stalwart.pk).update(active=False)
    assert visitors["anonymous"].get(f"/advisories/{advisory.identifier}/").status_code == 404


def test_security_txt_acknowledgments_point_to_the_hall_of_fame(stalwart, visitors):
    for slug in ("stalwart", "teammail", "mailtri-router"):
        body = text(visitors["anonymous"].get(f"/projects/{slug}/security.txt"))
        lines = [line for line in body.splitlines() if line.startswith("Acknowledgments:")]
        assert lines == [f"Acknowledgments: {settings.SITE_URL}/projects/{slug}/hall-of-fame/"]
        path = urlsplit(lines[0].split(": ", 1)[1]).path
        assert visitors["anonymous"].get(path).status_code == 200


# --- Query counts -------------------------------------------------------------------------------


@pytest.fixture
def published_advisories(stalwart, member, finder):
    """make(n): n more published advisories, each with a named credit and a second credit."""

    def make(count):
        made = []
        for _ in range(count):
            advisory = drafted(stalwart, by=member, reporter=finder)
            credited(advisory, finder, display="handle", handle=HANDLE)
            Credit.objects.create(
                advisory=advisory,
                type=Credit.Type.ANALYST,
                display=Credit.Display.NAME,
                name="Analyst",
            )
            made.append(publish(advisory, member))
        return made

    return make


# /projects/<slug>/advisories/ as anonymous:
# 1. the active project by slug
# 2. its published advisories (of active projects), newest first
ADVISORY_LIST_QUERIES = 2
# /projects/<slug>/hall-of-fame/ as anonymous:
# 1. the active project by slug
# 2. the policy revision in force (its recognition text)
# 3. published credits of the project with their advisories, newest first
HALL_OF_FAME_QUERIES = 3
# /advisories/<id>/ as anonymous:
# 1. the published advisory with its project and the report's revision (joined)
# 2. its credits (prefetched)
# 3. the version matrix of the revision (prefetched)
# 4. its revisions after publication (prefetched), for the revision history
ADVISORY_PAGE_QUERIES = 4


def test_public_advisory_lists_cost_constant_queries(
    stalwart, published_advisories, django_assert_num_queries
):
    client = Client()
    published_advisories(1)
    for total in (1, 4):
        if total > 1:
            published_advisories(total - 1)
        with django_assert_num_queries(ADVISORY_LIST_QUERIES):
            response = client.get(f"/projects/{stalwart.slug}/advisories/")
        assert text(response).count("STW-ADV-2026-") == 2 * total  # link text and href
        with django_assert_num_queries(HALL_OF_FAME_QUERIES):
            response = client.get(f"/projects/{stalwart.slug}/hall-of-fame/")
        assert text(response).count('<li class="list-group-item">') == 2 * total


def test_the_advisory_page_costs_constant_queries(
    stalwart, published_advisories, django_assert_num_queries
):
    (advisory,) = published_advisories(1)
    client = Client()
    for extra in (0, 5):
        for n in range(extra):
            Credit.objects.create(
                advisory=advisory,
                type=Credit.Type.OTHER,
                display=Credit.Display.NAME,
                name=f"Helper {n}",
            )
        with django_assert_num_queries(ADVISORY_PAGE_QUERIES):
            response = client.get(f"/advisories/{advisory.identifier}/")
        assert response.status_code == 200
        assert text(response).count("</li>") >= 2 + extra
