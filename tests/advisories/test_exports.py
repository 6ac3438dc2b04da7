"""The standard exports of a published advisory (advisories.exports): OSV, CSAF 2.0 and CVE JSON
5.1, validated offline against the official schemas
(tests/schema_validation.py), their affected
ranges against the seeded version matrices, the download views, and credits: an anonymous
reporter leaves no trace in any export.

Advisories are built the way the platform builds them: seed_projects, file a report, triage,
score, mark fixed, draft, edit, (review,) publish.
"""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from advisories import exports, publication, selectors
from advisories import services as advisory_services
from advisories.models import Advisory, Credit
from projects.models import Membership, Project
from reports import services as report_services
from tests.advisories.publishing import publish_now
from tests.factories import MembershipFactory, UserFactory
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

CRITICAL_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
CRITICAL_40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
GHSA_ID = "GHSA-2c3f-4g5h-6j7m"  # GitHub's alphabet: no a, b, d, e (advisories.models.GHSA)
KINDS = ("osv", "csaf", "cve")
BUILDERS = {"osv": exports.osv, "csaf": exports.csaf, "cve": exports.cve}

SENTINEL_NAME = "Zebulon Quartermaine-Sentinel"
SENTINEL_HANDLE = "zq-sentinel-handle"
SENTINEL_EMAIL = "zebulon.sentinel@reporter.example.net"


# --- Building advisories through the services ---------------------------------------------------


@pytest.fixture(autouse=True)
def _seeded(db):
    call_command("seed_projects", verbosity=0)


def project(slug):
    return Project.objects.get(slug=slug)


@pytest.fixture
def member():
    user = UserFactory(email="maintainer@stalwart.example.org")
    for slug in ("stalwart", "mailtri-router", "teammail"):
        MembershipFactory(user=user, project=project(slug), role=Membership.Role.MAINTAINER)
    return user


@pytest.fixture
def finder():
    return UserFactory(email=SENTINEL_EMAIL)


def drafted(slug, *, by, reporter, affected_versions, vector=CRITICAL_31, **fields):
    """A fixed report of `slug` with its advisory drafted and edited with `fields`."""
    report = report_services.file_report(
        project=project(slug),
        reporter=reporter,
        fields={
            "title": "SMTP smuggling in the inbound relay",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": affected_versions,
            "affected_components": "smtp-inbound",
            "description": "A bare LF before the final dot ends DATA early.",
            "steps_to_reproduce": "Send `\\n.\\n` inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
    report_services.transition(
        report=report, by=by, name="triage", message="Confirmed.", severity="critical"
    )
    report_services.set_cvss_vector(report=report, by=by, vector=vector)
    report_services.compute_cvss(report_id=report.pk)
    report_services.transition(report=report, by=by, name="mark_fixed", message="Released.")
    advisory = advisory_services.draft_advisory(report=report, by=by)
    if not fields:
        return advisory
    return advisory_services.update_advisory(advisory=advisory, by=by, fields=fields)


def published(advisory, *, by, reporter=None):
    """Publish (after the reporter's approval where the policy asks for it) and read the
    advisory back the way the public pages and downloads do.
    """
    publish_now(advisory, by=by)
    return selectors.public_advisory(advisory.identifier)


def stalwart_advisory(*, by, reporter, vector=CRITICAL_31, credit=None, **fields):
    advisory = drafted(
        "stalwart",
        by=by,
        reporter=reporter,
        affected_versions=["0.13.x", "0.12.x", "< 0.11"],
        vector=vector,
        **{
            "fixed_versions": ["0.13.4", "0.12.9"],
            "cwe": "CWE-444",
            "cve_id": "CVE-2026-12345",
            "ghsa_id": GHSA_ID,
            "references": [
                "https://github.com/stalwartlabs/stalwart/releases/tag/v0.13.4",
                "https://github.com/stalwartlabs/stalwart/commit/0123456789abcdef",
            ],
            "workaround": "Reject bare LF line endings in DATA (smtp.session.data.bare-lf).",
            **fields,
        },
    )
    if credit:
        report_services.set_credit(report=advisory.report, by=reporter, **credit)
    return published(advisory, by=by)


@pytest.fixture
def stalwart(member, finder):
    return stalwart_advisory(by=member, reporter=finder)


@pytest.fixture
def mailtri(member, finder):
    advisory = drafted(
        "mailtri-router",
        by=member,
        reporter=finder,
        affected_versions=["1.x.x"],
        fixed_versions=["1.4.2"],
        cwe="CWE-79",
        references=["https://github.com/mailtri/router/security/advisories"],
    )
    return published(advisory, by=member)


def assert_valid(kind, document):
    """Valid against the official schema of its format."""
    errors = validate(kind, document)
    assert errors == [], f"{kind} export is invalid:\n" + "\n".join(errors)


def osv_ranges(record):
    """(series, ...) -> events of the (only) affected entry's ranges, which never use `limit`
    (OSV keeps it for GIT ranges).
    """
    (affected,) = record["affected"]
    assert "package" not in affected  # no ecosystem fits: see advisories.exports
    assert "versions" not in affected
    for r in affected["ranges"]:
        assert r["type"] == "SEMVER"
        assert all("limit" not in event for event in r["events"])
    return {tuple(r["database_specific"]["series"]): r["events"] for r in affected["ranges"]}


def csaf_products(document):
    """product_id -> (branch category, branch name) over the whole product tree."""
    products = {}

    def walk(branches):
        for branch in branches:
            if "product" in branch:
                products[branch["product"]["product_id"]] = (branch["category"], branch["name"])
            walk(branch.get("branches", []))

    walk(document["product_tree"]["branches"])
    return products


# --- Validity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_stalwart_export_validates(stalwart, kind):
    assert_valid(kind, BUILDERS[kind](stalwart))


@pytest.mark.parametrize("kind", KINDS)
def test_mailtri_router_export_validates(mailtri, member, kind):
    advisory = drafted(
        "mailtri-router",
        by=member,
        reporter=UserFactory(),
        affected_versions=["1.x.x"],
        fixed_versions=["1.4.2"],
        cve_id="CVE-2026-23456",
    )
    with_cve = published(advisory, by=member)

    assert_valid(kind, BUILDERS[kind](with_cve))
    if kind != "cve":
        assert_valid(kind, BUILDERS[kind](mailtri))


@pytest.mark.parametrize("kind", KINDS)
def test_cvss_4_advisory_validates(member, finder, kind):
    advisory = stalwart_advisory(by=member, reporter=finder, vector=CRITICAL_40)

    assert_valid(kind, BUILDERS[kind](advisory))


def teammail_advisory(*, by, reporter):
    """TeamMail has no version matrix, so its advisories have no affected series, and the reporter
    approves before publication. update_advisory refuses an empty affected_series (the model
    field is not blank=True), so the edit is written directly here.
    """
    draft = drafted("teammail", by=by, reporter=reporter, affected_versions=["2.3"])
    Advisory.objects.filter(pk=draft.pk).update(
        fixed_versions=["2.3.1"], cve_id="CVE-2026-34567", cwe="CWE-79"
    )
    draft.refresh_from_db()
    return draft


@pytest.mark.parametrize("kind", KINDS)
def test_project_without_matrix_validates(member, finder, kind):
    draft = teammail_advisory(by=member, reporter=finder)
    public = published(draft, by=member, reporter=finder)

    document = BUILDERS[kind](public)

    assert_valid(kind, document)
    assert public.affected_series == []


def test_project_without_matrix_names_only_the_fixed_versions(member, finder):
    public = published(teammail_advisory(by=member, reporter=finder), by=member, reporter=finder)

    (affected,) = exports.osv(public)["affected"]
    assert "ranges" not in affected
    assert affected["versions"] == ["2.3"]  # what the report named: the record is not empty
    (product,) = exports.cve(public)["containers"]["cna"]["affected"]
    assert product["versions"] == [{"version": "2.3.1", "status": "unaffected"}]
    assert product["defaultStatus"] == "unknown"
    (vulnerability,) = exports.csaf(public)["vulnerabilities"]
    # Without a matrix the known affected product is the releases without the fix (6.1.29,
    # every remediation names a product; the issue: TeamMail had no known_affected product).
    assert vulnerability["product_status"] == {
        "fixed": ["CSAFPID-0001"],
        "known_affected": ["CSAFPID-0002"],
        "recommended": ["CSAFPID-0001"],
    }
    tree = exports.csaf(public)["product_tree"]
    assert tree["full_product_names"] == [
        {"name": "TeamMail releases without the fix (2.3.1)", "product_id": "CSAFPID-0002"}
    ]
    assert all(r["product_ids"] for r in vulnerability["remediations"])


# --- Content ------------------------------------------------------------------------------------


def test_osv_record(stalwart):
    record = exports.osv(stalwart)

    assert record["id"] == f"x_DISCLOSURE-{stalwart.identifier}"  # OSV_ID_PREFIX's default
    assert record["schema_version"] == "1.7.5"
    assert record["published"].endswith("Z")
    assert record["modified"].endswith("Z")
    assert record["aliases"] == ["CVE-2026-12345", GHSA_ID]
    assert record["severity"] == [{"type": "CVSS_V3", "score": CRITICAL_31}]
    assert record["database_specific"] == {
        "cwe_ids": ["CWE-444"],
        "revisions": [{"number": "1", "date": record["published"], "summary": "Published."}],
    }
    assert record["references"][0] == {
        "type": "ADVISORY",
        "url": f"http://127.0.0.1:8000/advisories/{stalwart.identifier}/",
    }
    # The release page is neither the fix nor a package page; the commit is the fix.
    assert [r["type"] for r in record["references"][1:]] == ["WEB", "FIX"]
    (affected,) = record["affected"]
    assert affected["database_specific"]["project"] == "stalwart"
    assert affected["database_specific"]["repository"] == "https://github.com/stalwartlabs/stalwart"


def test_osv_ranges_follow_the_matrix(stalwart):
    assert osv_ranges(exports.osv(stalwart)) == {
        ("< 0.11",): [{"introduced": "0"}, {"fixed": "0.11.0"}],
        ("0.12.x",): [{"introduced": "0.12.0"}, {"fixed": "0.12.9"}],
        ("0.13.x",): [{"introduced": "0.13.0"}, {"fixed": "0.13.4"}],
    }  # 0.11.x is not affected: no range, and 0.11.0 is the first version not affected


def test_mailtri_router_ranges(mailtri):
    assert osv_ranges(exports.osv(mailtri)) == {
        ("1.x.x",): [{"introduced": "1.0.0"}, {"fixed": "1.4.2"}]
    }


def test_series_without_its_own_fix_ends_with_the_series(member, finder):
    advisory = stalwart_advisory(
        by=member, reporter=finder, affected_series=["0.13.x", "0.12.x"], fixed_versions=["0.13.4"]
    )

    # Every 0.12.x and 0.13.x before 0.13.4 is affected: one range, since "fixed: 0.13.0"
    # would name an affected version as the fix.
    assert osv_ranges(exports.osv(advisory)) == {
        ("0.12.x", "0.13.x"): [{"introduced": "0.12.0"}, {"fixed": "0.13.4"}],
    }
    (product,) = exports.cve(advisory)["containers"]["cna"]["affected"]
    assert product["versions"][1]["lessThan"] == "0.13.0"
    remediations = exports.csaf(advisory)["vulnerabilities"][0]["remediations"]
    assert [r["category"] for r in remediations] == ["vendor_fix", "none_available", "workaround"]


def test_csaf_document(stalwart):
    document = exports.csaf(stalwart)

    tracking = document["document"]["tracking"]
    assert document["document"]["category"] == "csaf_security_advisory"
    assert document["document"]["publisher"] == {
        "category": "coordinator",
        "name": "Disclosure",
        "namespace": "http://127.0.0.1:8000",
    }
    assert (tracking["id"], tracking["status"], tracking["version"]) == (
        stalwart.identifier,
        "final",
        "1",
    )
    assert [r["number"] for r in tracking["revision_history"]] == ["1"]
    # The canonical URL is the document's §5.1 location (CSAF 6.2.11), not the HTML page.
    year = stalwart.published_at.year
    filename = stalwart.identifier.lower() + ".json"
    assert document["document"]["references"][0] == {
        "category": "self",
        "summary": f"{stalwart.identifier} as CSAF 2.0 on Disclosure",
        "url": f"http://127.0.0.1:8000/.well-known/csaf/white/{year}/{filename}",
    }
    (vulnerability,) = document["vulnerabilities"]
    assert vulnerability["cve"] == "CVE-2026-12345"
    assert vulnerability["cwe"] == {
        "id": "CWE-444",
        "name": "Inconsistent Interpretation of HTTP Requests ('HTTP Request/Response Smuggling')",
    }
    assert {"system_name": "GitHub Security Advisories", "text": GHSA_ID} in vulnerability["ids"]
    (score,) = vulnerability["scores"]
    assert score["cvss_v3"] == {
        "version": "3.1",
        "vectorString": CRITICAL_31,
        "baseScore": 9.8,
        "baseSeverity": "CRITICAL",
    }


def test_csaf_product_tree_matches_the_status(stalwart):
    document = exports.csaf(stalwart)
    products = csaf_products(document)
    (vulnerability,) = document["vulnerabilities"]
    status = vulnerability["product_status"]

    assert [products[pid] for pid in status["known_affected"]] == [
        ("product_version_range", "vers:semver/>=0.13.0|<0.13.4"),
        ("product_version_range", "vers:semver/>=0.12.0|<0.12.9"),
        ("product_version_range", "vers:semver/<0.11.0"),
    ]
    assert [products[pid] for pid in status["fixed"]] == [
        ("product_version", "0.13.4"),
        ("product_version", "0.12.9"),
    ]
    # Every product ID the vulnerability refers to is defined in the tree (CSAF 6.1.1).
    referenced = {pid for ids in status.values() for pid in ids}
    referenced |= {pid for r in vulnerability["remediations"] for pid in r.get("product_ids", [])}
    referenced |= {pid for s in vulnerability["scores"] for pid in s["products"]}
    assert referenced <= set(products)
    categories = [r["category"] for r in vulnerability["remediations"]]
    assert categories == ["vendor_fix", "vendor_fix", "no_fix_planned", "workaround"]


def test_cve_record(stalwart, settings):
    record = exports.cve(stalwart)
    cna = record["containers"]["cna"]

    assert (record["dataType"], record["dataVersion"]) == ("CVE_RECORD", "5.1")
    assert record["cveMetadata"]["cveId"] == "CVE-2026-12345"
    assert record["cveMetadata"]["assignerOrgId"] == settings.CVE_CNA_ORG_ID
    assert cna["providerMetadata"]["orgId"] == settings.CVE_CNA_ORG_ID
    assert cna["providerMetadata"]["shortName"] == settings.CVE_CNA_SHORT_NAME
    # Stalwart's policy names no vendor: "n/a" (as the CVE schema allows), never its name.
    assert cna["affected"] == [
        {
            "vendor": "n/a",
            "product": "Stalwart",
            "repo": "https://github.com/stalwartlabs/stalwart",
            "versions": [
                {"version": "0.13.0", "status": "affected", "lessThan": "0.13.4",
                 "versionType": "semver"},
                {"version": "0.12.0", "status": "affected", "lessThan": "0.12.9",
                 "versionType": "semver"},
                {"version": "0", "status": "affected", "lessThan": "0.11.0",
                 "versionType": "semver"},
            ],
            "defaultStatus": "unaffected",
        }
    ]  # fmt: skip
    assert cna["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-444"
    assert cna["metrics"][0]["cvssV3_1"]["baseSeverity"] == "CRITICAL"
    assert cna["references"][0]["tags"] == ["vendor-advisory"]
    assert cna["workarounds"][0]["value"].startswith("Reject bare LF")
    assert "credits" not in cna  # the reporter is anonymous until they choose otherwise


def test_cvss_4_goes_where_each_format_has_room_for_it(member, finder):
    advisory = stalwart_advisory(by=member, reporter=finder, vector=CRITICAL_40)

    record = exports.osv(advisory)
    assert record["severity"] == [{"type": "CVSS_V4", "score": CRITICAL_40}]
    assert "cvss_v4" not in record["database_specific"]
    (metric,) = exports.cve(advisory)["containers"]["cna"]["metrics"]
    assert metric["cvssV4_0"] == {
        "version": "4.0",
        "vectorString": CRITICAL_40,
        "baseScore": 9.3,
        "baseSeverity": "CRITICAL",
    }
    (vulnerability,) = exports.csaf(advisory)["vulnerabilities"]
    assert "scores" not in vulnerability  # CSAF 2.0 scores are CVSS v2/v3 only
    assert any(CRITICAL_40 in note["text"] for note in vulnerability["notes"])


def test_without_cve_id_there_is_no_cve_record(mailtri):
    with pytest.raises(exports.NoCveId):
        exports.cve(mailtri)


@pytest.mark.parametrize("kind", KINDS)
def test_unpublished_advisories_are_never_exported(member, finder, kind):
    draft = drafted(
        "stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
        fixed_versions=["0.13.4"], cve_id="CVE-2026-45678",
    )  # fmt: skip

    with pytest.raises(exports.NotPublishedError):
        BUILDERS[kind](draft)


# --- Credits ------------------------------------------------------------------------------------


def test_anonymous_reporter_leaves_no_trace(member, finder):
    draft = drafted(
        "stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
        fixed_versions=["0.13.4"], cve_id="CVE-2026-12345",
    )  # fmt: skip
    report_services.set_credit(
        report=draft.report, by=finder, display="name", name=SENTINEL_NAME, handle=SENTINEL_HANDLE
    )
    assert SENTINEL_NAME in json.dumps(exports.osv(published_copy(draft, member)))

    report_services.set_credit(report=draft.report, by=finder, display="anonymous")
    advisory = published(draft, by=member)

    assert advisory.credits.get().display == Credit.Display.ANONYMOUS
    for kind in KINDS:
        text = json.dumps(BUILDERS[kind](advisory)).lower()
        for trace in (SENTINEL_NAME, SENTINEL_HANDLE, SENTINEL_EMAIL, "zebulon", "anonymous"):
            assert trace.lower() not in text, f"{trace!r} appears in the {kind} export"
    assert "credits" not in exports.osv(advisory)
    assert "acknowledgments" not in exports.csaf(advisory)["document"]
    assert "credits" not in exports.cve(advisory)["containers"]["cna"]


def published_copy(draft, by):
    """The exports of `draft` as if it were published now, without publishing it: the sentinel
    check above must see the name once, or it would prove nothing.
    """
    copy = Advisory.objects.get(pk=draft.pk)
    # The credits publishing would fix, without a write: as if prefetched.
    credits = Credit.objects.none()
    credits._result_cache, credits._prefetch_done = publication.credits_for(copy), True
    copy._prefetched_objects_cache = {"credits": credits}
    copy.state, copy.published_at = Advisory.State.PUBLISHED, copy.updated_at
    return copy


def test_credit_by_handle_shows_the_handle_only(member, finder):
    advisory = stalwart_advisory(
        by=member,
        reporter=finder,
        credit={"display": "handle", "name": SENTINEL_NAME, "handle": SENTINEL_HANDLE},
    )

    assert exports.osv(advisory)["credits"] == [{"name": SENTINEL_HANDLE, "type": "FINDER"}]
    assert exports.csaf(advisory)["document"]["acknowledgments"] == [
        {"names": [SENTINEL_HANDLE], "summary": "Finder"}
    ]
    assert exports.cve(advisory)["containers"]["cna"]["credits"] == [
        {"lang": "en", "value": SENTINEL_HANDLE, "type": "finder"}
    ]
    for kind in KINDS:
        document = BUILDERS[kind](advisory)
        assert_valid(kind, document)
        text = json.dumps(document)
        assert SENTINEL_NAME not in text
        assert SENTINEL_EMAIL not in text


def test_credit_by_name(member, finder):
    advisory = stalwart_advisory(
        by=member, reporter=finder, credit={"display": "name", "name": SENTINEL_NAME}
    )

    assert exports.osv(advisory)["credits"] == [{"name": SENTINEL_NAME, "type": "FINDER"}]
    assert SENTINEL_EMAIL not in json.dumps(exports.cve(advisory))


# --- Download views -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_download_of_a_published_advisory(client, stalwart, kind):
    response = client.get(reverse(f"advisories:{kind}", args=[stalwart.identifier]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{stalwart.identifier}.{kind}.json"'
    )
    assert_valid(kind, response.json())


@pytest.mark.parametrize("kind", KINDS)
def test_no_download_of_a_draft(client, member, finder, kind):
    draft = drafted(
        "stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
        fixed_versions=["0.13.4"], cve_id="CVE-2026-12345",
    )  # fmt: skip

    response = client.get(reverse(f"advisories:{kind}", args=[draft.identifier]))

    assert response.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_no_download_of_an_advisory_in_review(client, member, finder, kind):
    draft = drafted(
        "stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
        fixed_versions=["0.13.4"], cve_id="CVE-2026-12345",
    )  # fmt: skip
    in_review = advisory_services.share_for_review(advisory=draft, by=member)
    advisory_services.approve(advisory=in_review, by=finder)  # approved, still not published

    response = client.get(reverse(f"advisories:{kind}", args=[in_review.identifier]))

    assert response.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_no_download_of_a_nonexistent_advisory(client, kind):
    response = client.get(reverse(f"advisories:{kind}", args=["STW-ADV-2026-9999"]))

    assert response.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_no_download_once_the_project_is_inactive(client, stalwart, kind):
    Project.objects.filter(pk=stalwart.project_id).update(active=False)

    response = client.get(reverse(f"advisories:{kind}", args=[stalwart.identifier]))

    assert response.status_code == 404


def test_cve_download_without_cve_id_is_404(client, mailtri):
    response = client.get(reverse("advisories:cve", args=[mailtri.identifier]))

    assert response.status_code == 404


def test_csaf_document_is_served_at_its_canonical_url(client, stalwart):
    document = exports.csaf(stalwart)
    (self_reference,) = (r for r in document["document"]["references"] if r["category"] == "self")

    response = client.get(self_reference["url"].removeprefix("http://127.0.0.1:8000"))

    assert response.status_code == 200
    assert response.json() == document


def test_no_csaf_document_at_another_year_or_name(client, stalwart):
    year, filename = stalwart.published_at.year, stalwart.identifier.lower() + ".json"
    for wrong_year, wrong_name in (
        (year - 1, filename),
        (year, stalwart.identifier + ".json"),  # §5.1 names are lower case
        (year, filename.removesuffix(".json")),
    ):
        url = reverse("advisories:csaf_distribution", args=[wrong_year, wrong_name])
        assert client.get(url).status_code == 404, url


def test_no_csaf_document_of_a_draft_at_its_location(client, member, finder):
    draft = drafted(
        "stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
        fixed_versions=["0.13.4"],
    )  # fmt: skip
    url = reverse(
        "advisories:csaf_distribution",
        args=[draft.created_at.year, draft.identifier.lower() + ".json"],
    )

    assert client.get(url).status_code == 404
