"""OSV records as OSV.dev and its mirrors take them (advisories.exports.osv): every record
valid against the official OSV 1.7.5 schema across a matrix of advisories published through the
services, and the two ways an importer collects them, crawled here the way it would: the
instance's /osv/all.zip and a project's /projects/<slug>/osv/ listing.
"""

import io
import itertools
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisories import exports, revisions, selectors
from advisories.models import Advisory
from projects.models import Membership, Project
from tests.advisories.publishing import drafted_advisory, edit_draft, publish_now
from tests.factories import MembershipFactory, UserFactory
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

VECTORS = {
    "3.1": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "4.0": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "none": "",
}
# What each seeded project's advisory says is affected and fixed (TeamMail has no matrix).
AFFECTED = {
    "stalwart": (["0.13.x", "0.12.x", "< 0.11"], ["0.13.4", "0.12.9"]),
    "mailtri-router": (["1.x.x"], ["1.4.2"]),
    "teammail": (["2.3"], ["2.3.1"]),
}
REFERENCES = [
    "https://github.com/example/project/commit/0123456789abcdef0123456789abcdef01234567",
    "https://github.com/example/project/security/advisories/GHSA-2c3f-4g5h-6j7m",
    "https://github.com/example/project/issues/1234",
    "https://crates.io/crates/example-project",
    "https://example.org/blog/smtp-smuggling",
]
LIFECYCLES = ("published", "revised", "withdrawn")


@pytest.fixture(autouse=True)
def _seeded(db):
    call_command("seed_projects", verbosity=0)


@pytest.fixture
def member():
    user = UserFactory()
    for project in Project.objects.all():
        MembershipFactory(user=user, project=project, role=Membership.Role.MAINTAINER)
    return user


_cve_numbers = itertools.count(10001)


def published_advisory(slug, *, by, cvss="3.1", with_cve=True, lifecycle="published"):
    """An advisory of `slug` taken through the services: filed, triaged, (scored,) fixed,
    drafted, edited, published, then amended or withdrawn as `lifecycle` says; read back the
    way the downloads read it.
    """
    affected_versions, fixed_versions = AFFECTED[slug]
    advisory = drafted_advisory(
        slug,
        by=by,
        reporter=UserFactory(),
        affected_versions=affected_versions,
        vector=VECTORS[cvss],
        impact="Spoofed mail from any local sender: « Grüße » survive.",
    )
    fields = {
        "fixed_versions": fixed_versions,
        "cwe": "CWE-444",
        "cve_id": f"CVE-2026-{next(_cve_numbers)}" if with_cve else "",
        "references": REFERENCES,
    }
    advisory = edit_draft(advisory, by=by, fields=fields)
    advisory = publish_now(advisory, by=by)
    if lifecycle == "revised":
        revisions.amend(
            advisory=advisory,
            by=by,
            fields={"summary": "SMTP smuggling: bare LF ends DATA"},
            reason="A clearer summary.",
        )
    elif lifecycle == "withdrawn":
        revisions.withdraw(advisory=advisory, by=by, reason="Not a vulnerability after all.")
    return selectors.public_advisory(advisory.identifier)


def assert_official(record):
    errors = validate("osv", record)
    assert errors == [], f"{record['id']} is invalid:\n" + "\n".join(errors)


# --- The matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", AFFECTED)
def test_every_kind_of_advisory_is_a_valid_osv_record(member, slug):
    """Each project x CVSS 3.1/4.0/none x with/without CVE x published/revised/withdrawn."""
    combinations = list(itertools.product(VECTORS, (True, False), LIFECYCLES))
    for cvss, with_cve, lifecycle in combinations:
        advisory = published_advisory(
            slug, by=member, cvss=cvss, with_cve=with_cve, lifecycle=lifecycle
        )
        record = exports.osv(advisory)
        case = f"{slug} CVSS {cvss}, CVE {with_cve}, {lifecycle}"

        assert_official(record)
        assert record["id"] == f"x_DISCLOSURE-{advisory.identifier}", case
        assert record["schema_version"] == "1.7.5", case
        severity = {"3.1": "CVSS_V3", "4.0": "CVSS_V4"}.get(cvss)
        assert [s["type"] for s in record.get("severity", [])] == ([severity] if severity else [])
        assert record.get("aliases", []) == ([advisory.cve_id] if with_cve else []), case
        assert record.get("aliases") != [], case  # never an empty list
        (affected,) = record["affected"]
        assert affected.get("ranges") or affected.get("versions"), f"{case}: states nothing"
        for r in affected.get("ranges", []):
            assert all("limit" not in event for event in r["events"]), case
        history = advisory.history()
        assert record["published"] == exports.iso_timestamp(history[0].created_at), case
        assert record["modified"] == exports.iso_timestamp(history[-1].created_at), case
        assert ("withdrawn" in record) == (lifecycle == "withdrawn"), case
        if lifecycle == "withdrawn":
            assert record["withdrawn"] == record["modified"], case
        numbers = [r["number"] for r in record["database_specific"]["revisions"]]
        assert numbers == (["1"] if lifecycle == "published" else ["1", "2"]), case
    assert Advisory.objects.filter(project__slug=slug).count() == len(combinations) == 18


# --- Content ------------------------------------------------------------------------------------


def test_reference_types(member):
    record = exports.osv(published_advisory("stalwart", by=member))

    assert [(r["type"], r["url"]) for r in record["references"]] == [
        ("ADVISORY", record["references"][0]["url"]),
        ("FIX", REFERENCES[0]),
        ("ADVISORY", REFERENCES[1]),
        ("REPORT", REFERENCES[2]),
        ("PACKAGE", REFERENCES[3]),
        ("WEB", REFERENCES[4]),
    ]
    assert record["references"][0]["url"].endswith(f"/advisories/{record['id'][13:]}/")


def test_teammail_enumerates_the_affected_versions(member):
    record = exports.osv(published_advisory("teammail", by=member))

    (affected,) = record["affected"]
    assert affected["versions"] == ["2.3"]
    assert "ranges" not in affected


def test_stalwart_ranges_never_name_an_affected_version_as_fixed(member):
    record = exports.osv(published_advisory("stalwart", by=member))

    events = [r["events"] for r in record["affected"][0]["ranges"]]
    assert events == [
        [{"introduced": "0"}, {"fixed": "0.11.0"}],
        [{"introduced": "0.12.0"}, {"fixed": "0.12.9"}],
        [{"introduced": "0.13.0"}, {"fixed": "0.13.4"}],
    ]


def test_the_id_prefix_is_the_instances(member, settings):
    advisory = published_advisory("mailtri-router", by=member, with_cve=False)
    settings.OSV_ID_PREFIX = "x_EXAMPLE"

    record = exports.osv(advisory)

    assert record["id"] == f"x_EXAMPLE-{advisory.identifier}"
    assert "aliases" not in record
    assert_official(record)


def test_a_prefix_the_schema_does_not_know_is_caught_by_it(member, settings):
    """An operator must register a prefix with OSV before using it: the schema lists them."""
    advisory = published_advisory("mailtri-router", by=member)
    settings.OSV_ID_PREFIX = "DISCLOSURE"

    (error,) = validate("osv", exports.osv(advisory))

    assert error.startswith(f"$.id: 'DISCLOSURE-{advisory.identifier}' does not match")


# --- What an importer crawls --------------------------------------------------------------------


def read_zip(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)
                              if response.streaming else response.content))  # fmt: skip
    return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def test_all_zip_holds_every_published_record(client, member):
    advisories = [
        published_advisory("stalwart", by=member, cvss="4.0"),
        published_advisory("mailtri-router", by=member, with_cve=False, lifecycle="revised"),
        published_advisory("teammail", by=member, cvss="none", lifecycle="withdrawn"),
    ]
    draft = published_advisory("stalwart", by=member)
    Advisory.objects.filter(pk=draft.pk).update(state=Advisory.State.DRAFT)

    records = read_zip(client.get("/osv/all.zip"))

    assert sorted(records) == sorted(f"x_DISCLOSURE-{a.identifier}.json" for a in advisories)
    for name, record in records.items():
        assert name == f"{record['id']}.json"
        assert_official(record)
        identifier = record["id"].removeprefix("x_DISCLOSURE-")
        assert record == client.get(reverse("advisories:osv", args=[identifier])).json()


def test_all_zip_leaves_out_inactive_projects(client, member):
    published_advisory("mailtri-router", by=member)
    Project.objects.filter(slug="mailtri-router").update(active=False)

    assert read_zip(client.get("/osv/all.zip")) == {}


def test_all_zip_in_a_fixed_number_of_queries(client, member):
    for slug in AFFECTED:
        published_advisory(slug, by=member, lifecycle="revised")

    with CaptureQueriesContext(connection) as queries:
        records = read_zip(client.get("/osv/all.zip"))

    # advisories with project and report revision; credits; matrix versions; revisions
    assert len(records) == 3
    assert len(queries) == 4, "\n".join(q["sql"] for q in queries)


def test_project_listing_is_crawlable(client, member):
    mine = [
        published_advisory("stalwart", by=member),
        published_advisory("stalwart", by=member, lifecycle="withdrawn"),
    ]
    published_advisory("mailtri-router", by=member)  # another project's

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/projects/stalwart/osv/")

    assert response.status_code == 200
    # the project; advisories with project and report revision; credits; versions; revisions
    assert len(queries) == 5, "\n".join(q["sql"] for q in queries)
    listing = response.json()
    assert sorted(entry["id"] for entry in listing) == sorted(
        f"x_DISCLOSURE-{a.identifier}" for a in mine
    )
    assert listing[0]["modified"] >= listing[1]["modified"]  # newest change first
    for entry in listing:
        # An importer fetches each record by its URL and finds what the listing promised.
        path = entry["url"].removeprefix("http://127.0.0.1:8000")
        record = client.get(path).json()
        assert (record["id"], record["modified"]) == (entry["id"], entry["modified"])
        assert_official(record)


def test_project_listing_of_unknown_or_inactive_projects_is_404(client, member):
    published_advisory("mailtri-router", by=member)
    Project.objects.filter(slug="mailtri-router").update(active=False)

    assert client.get("/projects/mailtri-router/osv/").status_code == 404
    assert client.get("/projects/no-such-project/osv/").status_code == 404


def test_project_listing_without_advisories_is_empty(client):
    response = client.get("/projects/teammail/osv/")

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("url", ["/osv/all.zip", "/projects/stalwart/osv/"])
def test_importer_urls_refuse_writes(client, url):
    assert client.post(url).status_code == 405
