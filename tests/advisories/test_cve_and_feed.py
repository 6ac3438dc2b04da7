"""CVE downloads CVE Services takes, and the Atom feed (issue 14, parts 5 and 6).

A matrix of advisories built through the services (each seeded project x CVSS 3.1 / 4.0 / none x
with and without a CVE ID x published / amended / withdrawn, with the three credit kinds spread
over the projects): with a CVE ID the record and the CNA container are valid against the official
CVE JSON 5.1.1 schemas and the page links both; without one the page links neither and both
downloads are 404. Every project's feed is parsed strictly (RFC 4287's required elements).
"""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from advisories import exports, revisions, selectors
from advisories.models import Advisory
from projects.models import Membership, Project
from tests.advisories.publishing import drafted_advisory, publish_now
from tests.factories import MembershipFactory, UserFactory
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
VECTORS = {
    "cvss31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "cvss40": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "no-cvss": None,
}
# Each project with the report's affected versions (TeamMail has no version matrix) and the way
# its reporter is credited, so the matrix covers the three credit kinds.
PROJECTS = {
    "stalwart": (["0.13.x", "0.12.x", "< 0.11"], {"display": "name", "name": "Zoë Ångström"}),
    "mailtri-router": (["1.x.x"], {"display": "handle", "handle": "zq-finder"}),
    "teammail": (["2.3"], {"display": "anonymous"}),
}
FIXED = {"stalwart": ["0.13.4", "0.12.9"], "mailtri-router": ["1.4.2"], "teammail": ["2.3.1"]}
# Markdown with Windows line breaks, as a browser's textarea submits it.
DETAILS = (
    "A **bare LF** before the final dot ends `DATA` early.\r\n\r\n"
    "- spoofed senders\r\n- mail & more\r\n"
)
DETAILS_TEXT = "A bare LF before the final dot ends DATA early.\n\n- spoofed senders\n- mail & more"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _seeded(db):
    call_command("seed_projects", verbosity=0)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def maintainer():
    user = UserFactory()
    for slug in PROJECTS:
        MembershipFactory(
            user=user, project=Project.objects.get(slug=slug), role=Membership.Role.MAINTAINER
        )
    return user


def build(slug, *, by, vector, cve_id, state, clock):
    """A published advisory of `slug` as the services make it, then amended (a day later) or
    withdrawn (after an amendment, two days later) as `state` asks; read back as the public does.
    """
    affected_versions, credit = PROJECTS[slug]
    advisory = drafted_advisory(
        slug,
        by=by,
        reporter=UserFactory(),
        affected_versions=affected_versions,
        vector=vector,
        severity="high",
        credit=credit,
        steps_to_reproduce="Send a bare LF inside DATA.",
        impact="Spoofed mail.",
    )
    # Written directly: update_advisory refuses TeamMail's empty affected series (see
    # test_exports.teammail_advisory); the other fields are what the edit form stores.
    Advisory.objects.filter(pk=advisory.pk).update(
        details=DETAILS,
        fixed_versions=FIXED[slug],
        cwe="CWE-444",
        cve_id=cve_id or "",
        workaround="Reject **bare LF**.\r\n",
    )
    publish_now(Advisory.objects.get(pk=advisory.pk), by=by)
    advisory = Advisory.objects.get(pk=advisory.pk)
    if state in {"amended", "withdrawn"}:
        clock.move_to(T0 + DAY)
        revisions.amend(
            advisory=advisory, by=by, fields={"title": "Relay smuggling"}, reason="Better title."
        )
        advisory = Advisory.objects.get(pk=advisory.pk)
    if state == "withdrawn":
        clock.move_to(T0 + 2 * DAY)
        revisions.withdraw(advisory=advisory, by=by, reason="Not a vulnerability.")
    return selectors.public_advisory(advisory.identifier)


def assert_official(kind, document):
    errors = validate(kind, document)
    assert errors == [], f"{kind} is invalid:\n" + "\n".join(errors)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("state", ["published", "amended", "withdrawn"])
@pytest.mark.parametrize("cve_id", ["CVE-2026-31337", None], ids=["cve", "no-cve"])
@pytest.mark.parametrize("vector", VECTORS.values(), ids=VECTORS.keys())
@pytest.mark.parametrize("slug", PROJECTS)
def test_matrix(client, maintainer, clock, slug, vector, cve_id, state):
    advisory = build(slug, by=maintainer, vector=vector, cve_id=cve_id, state=state, clock=clock)
    record_url = reverse("advisories:cve", args=[advisory.identifier])
    container_url = reverse("advisories:cve_cna", args=[advisory.identifier])

    page = client.get(reverse("advisories:advisory_page", args=[advisory.identifier]))
    record = client.get(record_url)
    container = client.get(container_url)

    assert page.status_code == 200
    if not cve_id:
        assert record_url not in page.content.decode()
        assert container_url not in page.content.decode()
        assert (record.status_code, container.status_code) == (404, 404)
        return
    assert record_url in page.content.decode()
    assert container_url in page.content.decode()
    assert (record.status_code, container.status_code) == (200, 200)
    assert container["Content-Disposition"] == (
        f'attachment; filename="{advisory.identifier}.cve-cna.json"'
    )
    assert_official("cve", record.json())
    cna = container.json()
    assert record.json()["containers"]["cna"] == cna  # the record carries exactly the container
    assert cna["providerMetadata"]["orgId"] == record.json()["cveMetadata"]["assignerOrgId"]
    updated = {"published": T0, "amended": T0 + DAY, "withdrawn": T0 + 2 * DAY}[state]
    assert cna["providerMetadata"]["dateUpdated"] == iso(updated)
    if state == "withdrawn":
        # CVE Services takes a rejection as rejectedReasons (its reject call), not as a
        # published container; the REJECTED record above is valid with it.
        assert record.json()["cveMetadata"]["state"] == "REJECTED"
        assert set(cna) == {"providerMetadata", "rejectedReasons", "x_revisionHistory"}
        return
    assert_official("cve_cna", cna)
    assert cna["descriptions"] == [
        {
            "lang": "en",
            "value": DETAILS_TEXT,
            "supportingMedia": [
                {
                    "type": "text/markdown",
                    "base64": False,
                    "value": DETAILS.replace("\r", "").strip(),
                }
            ],
        }
    ]
    assert cna["workarounds"][0]["value"] == "Reject bare LF."
    assert cna["problemTypes"] == [
        {
            "descriptions": [
                {
                    "lang": "en",
                    "description": "CWE-444 Inconsistent Interpretation of HTTP Requests "
                    "('HTTP Request/Response Smuggling')",
                    "cweId": "CWE-444",
                    "type": "CWE",
                }
            ]
        }
    ]
    assert ("metrics" in cna) == bool(vector)
    assert [entry["time"] for entry in cna["timeline"]] == [
        iso(T0 + n * DAY) for n in range(1 + (state == "amended"))
    ]
    credit = PROJECTS[slug][1]
    if credit["display"] == "anonymous":
        assert "credits" not in cna
    else:
        assert cna["credits"][0]["value"] == (credit.get("name") or credit["handle"])


# --- An instance that is no CNA -------------------------------------------------------------------


def test_unconfigured_cve_downloads_say_what_to_set(client, maintainer, clock, settings):
    advisory = build(
        "stalwart", by=maintainer, vector=None, cve_id="CVE-2026-31337", state="published",
        clock=clock,
    )  # fmt: skip
    settings.CVE_CNA_ORG_ID = settings.CVE_CNA_SHORT_NAME = ""

    page = client.get(reverse("advisories:advisory_page", args=[advisory.identifier]))

    assert ".cve" not in page.content.decode()
    for name in ("advisories:cve", "advisories:cve_cna"):
        response = client.get(reverse(name, args=[advisory.identifier]))
        assert response.status_code == 404
        assert response.content.decode() == (
            "CVE export needs configuring: set CVE_CNA_ORG_ID and CVE_CNA_SHORT_NAME"
        )
    with pytest.raises(exports.CveNotConfigured):
        exports.cve_cna(advisory)


def test_a_cwe_the_catalogue_does_not_know_keeps_its_id(maintainer, clock):
    advisory = build(
        "stalwart", by=maintainer, vector=None, cve_id="CVE-2026-31337", state="published",
        clock=clock,
    )  # fmt: skip
    Advisory.objects.filter(pk=advisory.pk).update(cwe="CWE-99999")

    cna = exports.cve_cna(selectors.public_advisory(advisory.identifier))

    assert cna["problemTypes"][0]["descriptions"][0]["description"] == "CWE-99999"
    assert_official("cve_cna", cna)


def test_without_a_cve_id_the_advisory_has_no_cve_documents(maintainer, clock):
    advisory = build(
        "mailtri-router", by=maintainer, vector=None, cve_id=None, state="published", clock=clock
    )

    for builder in (exports.cve, exports.cve_cna):
        with pytest.raises(exports.NoCveId):
            builder(advisory)


# --- Atom (RFC 4287) ------------------------------------------------------------------------------


def parse_strictly(content):
    """The feed's root after the checks RFC 4287 makes of a feed and its entries: one id, title
    and updated (RFC 3339) each; an author on the feed (§4.1.1) or on every entry; an alternate
    link per entry.
    """
    root = ET.fromstring(content)  # noqa: S314 -- our own response, not foreign input
    assert root.tag == f"{ATOM}feed"

    def required(element, name):
        (child,) = element.findall(f"{ATOM}{name}")
        assert (child.text or "").strip(), name
        return child.text

    for name in ("id", "title", "updated"):
        required(root, name)
    assert dt.datetime.strptime(required(root, "updated"), "%Y-%m-%dT%H:%M:%S%z").tzinfo
    feed_authors = [a.findtext(f"{ATOM}name") for a in root.findall(f"{ATOM}author")]
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            required(entry, name)
        assert dt.datetime.strptime(required(entry, "updated"), "%Y-%m-%dT%H:%M:%S%z").tzinfo
        assert feed_authors or entry.findall(f"{ATOM}author")
        links = entry.findall(f"{ATOM}link")
        assert any(link.get("rel", "alternate") == "alternate" for link in links)
    return root


@pytest.mark.parametrize("slug", PROJECTS)
def test_feed_has_an_author_and_entries_updated_on_revision(
    client, maintainer, clock, slug, settings
):
    by_state = {
        state: build(slug, by=maintainer, vector=None, cve_id=None, state=state, clock=clock)
        for state in ("published", "amended", "withdrawn")
    }

    response = client.get(reverse("advisories:feed", args=[slug]))

    assert response.status_code == 200
    root = parse_strictly(response.content)
    (author,) = root.findall(f"{ATOM}author")
    assert author.findtext(f"{ATOM}name") == Project.objects.get(slug=slug).name
    updated = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}updated") for e in root}
    for advisory in by_state.values():
        page = settings.SITE_URL + reverse("advisories:advisory_page", args=[advisory.identifier])
        assert updated[page] == advisory.modified_at.isoformat()
    # Built one after the other on a moving clock: the last revision of each is its own.
    assert by_state["amended"].modified_at == T0 + DAY
    assert by_state["withdrawn"].modified_at == T0 + 2 * DAY
