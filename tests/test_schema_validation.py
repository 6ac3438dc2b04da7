"""Self-check of tests/schema_validation.py, and reference documents for the exporters.

One realistic, minimal-but-complete document per format, valid against the official schema
(unmodified copies in tests/schemas/official/, see tests/schemas/README.md), and a broken copy
of each; then the checks of the copies themselves. The comments say which
fields the schema itself requires ("REQUIRED") and which are optional but expected from an
exporter of this platform. A schema only checks structure: the rules of each specification that
span fields (CSAF product IDs defined in the product tree, CVE rules on references, OSV ecosystem
names...) are not checked here.
"""

import copy
import hashlib

import pytest
from referencing.exceptions import Unresolvable

from tests.schema_validation import OFFICIAL_DIR, registry, validate

# --- OSV (ossf/osv-schema validation/schema.json, JSON Schema 2020-12) ----------------------------

OSV_ADVISORY = {
    # REQUIRED: id and modified; nothing else is required at the top level.
    # The official schema accepts registered prefixes only, or "x_" for any other database.
    "id": "x_DISC-2024-0001",
    "modified": "2024-03-01T12:00:00Z",  # RFC 3339 date-time, with a time zone ("Z")
    "published": "2024-02-28T09:00:00Z",
    "aliases": ["CVE-2024-12345", "GHSA-xxxx-yyyy-zzzz"],
    "summary": "Cross-site scripting in examplelib's HTML renderer",
    "details": "examplelib before 2.4.1 does not escape attribute values in `render()`.",
    "severity": [
        # type is one of CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu; score is the vector string.
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"},
    ],
    "affected": [
        {
            # REQUIRED in package: ecosystem and name.
            "package": {"ecosystem": "PyPI", "name": "examplelib", "purl": "pkg:pypi/examplelib"},
            # REQUIRED in a range: type (GIT, SEMVER or ECOSYSTEM) and events, which must contain
            # an "introduced" event; each event has exactly one of introduced, fixed,
            # last_affected, limit ("fixed" and "last_affected" may not be mixed in one range).
            # A GIT range also requires "repo".
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "2.4.1"}],
                },
            ],
            "versions": ["2.3.0", "2.4.0"],
        },
        {
            "package": {"ecosystem": "npm", "name": "examplelib-js"},
            "ranges": [
                {
                    "type": "SEMVER",
                    "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}],
                },
            ],
        },
    ],
    "references": [
        # REQUIRED per reference: type (ADVISORY, ARTICLE, DETECTION, REPORT, FIX, INTRODUCED,
        # GIT, PACKAGE, EVIDENCE, WEB) and url (an absolute URI).
        {"type": "ADVISORY", "url": "https://disclosure.example.org/advisories/DISC-2024-0001"},
        {"type": "FIX", "url": "https://github.com/example/examplelib/commit/0123456789abcdef"},
        {"type": "PACKAGE", "url": "https://pypi.org/project/examplelib/"},
    ],
    # REQUIRED per credit: name. type is optional (FINDER, REPORTER, ANALYST, ...).
    "credits": [{"name": "Jane Doe", "contact": ["mailto:jane@example.org"], "type": "FINDER"}],
    "database_specific": {"disclosure_report": "R-1042"},
}


def test_osv_reference_advisory_is_valid():
    assert validate("osv", OSV_ADVISORY) == []


def test_osv_without_modified_is_reported():
    document = copy.deepcopy(OSV_ADVISORY)
    del document["modified"]

    assert validate("osv", document) == ["$: 'modified' is a required property"]


def test_osv_timestamp_without_time_zone_is_not_a_date_time():
    document = copy.deepcopy(OSV_ADVISORY)
    document["modified"] = "2024-03-01 12:00:00"

    assert validate("osv", document) == [
        "$.modified: '2024-03-01 12:00:00' does not match "
        "'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?Z'",
        "$.modified: '2024-03-01 12:00:00' is not a 'date-time'",
    ]


# --- CSAF 2.0 (OASIS, JSON Schema 2020-12; CVSS by FIRST's schemas) -------------------------------

CSAF_SECURITY_ADVISORY = {
    "document": {
        # REQUIRED in document: category, csaf_version, publisher, title, tracking.
        # category names the profile; "csaf_security_advisory" additionally requires (by the
        # specification, not the schema) product_tree and vulnerabilities.
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",  # the only value the schema accepts
        "lang": "en",
        "distribution": {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}},
        # REQUIRED in publisher: category (coordinator, discoverer, other, translator, user,
        # vendor), name, namespace (an absolute URI under the publisher's control).
        "publisher": {
            "category": "vendor",
            "name": "Example Project security team",
            "namespace": "https://disclosure.example.org",
            "contact_details": "security@example.org",
        },
        "title": "examplelib: cross-site scripting in the HTML renderer",
        # REQUIRED in tracking: current_release_date, id, initial_release_date,
        # revision_history (date, number, summary per entry), status (draft, final, interim),
        # version (an integer or a semantic version, matching the last revision's number).
        "tracking": {
            "id": "DISC-2024-0001",
            "status": "final",
            "version": "1",
            "revision_history": [
                {"date": "2024-02-28T09:00:00Z", "number": "1", "summary": "Initial version."},
            ],
            "initial_release_date": "2024-02-28T09:00:00Z",
            "current_release_date": "2024-02-28T09:00:00Z",
            "generator": {
                "date": "2024-02-28T08:59:00Z",
                "engine": {"name": "disclosure", "version": "0.1.0"},  # engine.name REQUIRED
            },
        },
        "notes": [
            # REQUIRED per note: category (description, details, faq, general, legal_disclaimer,
            # other, summary) and text.
            {"category": "summary", "title": "Summary", "text": "Upgrade examplelib to 2.4.1."},
        ],
        "references": [
            # REQUIRED per reference: summary and url; category is external (default) or self.
            {
                "category": "self",
                "summary": "This advisory",
                "url": "https://disclosure.example.org/advisories/DISC-2024-0001.json",
            },
        ],
    },
    "product_tree": {
        # Every branch has exactly three properties: category, name, and either "branches" or
        # "product" (minProperties = maxProperties = 3 in the schema).
        "branches": [
            {
                "category": "vendor",
                "name": "Example Project",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "examplelib",
                        "branches": [
                            {
                                "category": "product_version",
                                "name": "2.4.0",
                                # REQUIRED in a full product name: name and product_id.
                                "product": {
                                    "name": "examplelib 2.4.0",
                                    "product_id": "CSAFPID-0001",
                                    "product_identification_helper": {
                                        "purl": "pkg:pypi/examplelib@2.4.0",
                                    },
                                },
                            },
                            {
                                "category": "product_version",
                                "name": "2.4.1",
                                "product": {
                                    "name": "examplelib 2.4.1",
                                    "product_id": "CSAFPID-0002",
                                    "product_identification_helper": {
                                        "purl": "pkg:pypi/examplelib@2.4.1",
                                    },
                                },
                            },
                        ],
                    },
                ],
            },
        ],
    },
    "vulnerabilities": [
        {
            # Nothing is required in a vulnerability but at least one property.
            "cve": "CVE-2024-12345",
            "cwe": {
                "id": "CWE-79",
                "name": "Improper Neutralization of Input During Web Page Generation "
                "('Cross-site Scripting')",
            },
            # REQUIRED per id: system_name and text.
            "ids": [{"system_name": "Disclosure report", "text": "R-1042"}],
            "notes": [
                {
                    "category": "description",
                    "title": "Vulnerability description",
                    "text": "render() does not escape attribute values.",
                },
            ],
            # Lists of product IDs from the product tree (the schema does not check they exist).
            "product_status": {
                "known_affected": ["CSAFPID-0001"],
                "fixed": ["CSAFPID-0002"],
                "recommended": ["CSAFPID-0002"],
            },
            # REQUIRED per remediation: category (mitigation, no_fix_planned, none_available,
            # vendor_fix, workaround) and details; the specification wants product_ids or
            # group_ids too.
            "remediations": [
                {
                    "category": "vendor_fix",
                    "details": "Upgrade to examplelib 2.4.1.",
                    "product_ids": ["CSAFPID-0001"],
                    "url": "https://pypi.org/project/examplelib/2.4.1/",
                },
            ],
            # REQUIRED per score: products, plus cvss_v2 and/or cvss_v3. cvss_v3 must match
            # FIRST's CVSS v3.0 or v3.1 JSON schema: version, vectorString, baseScore and
            # baseSeverity are REQUIRED there.
            "scores": [
                {
                    "products": ["CSAFPID-0001"],
                    "cvss_v3": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                        "baseScore": 6.1,
                        "baseSeverity": "MEDIUM",
                        "attackVector": "NETWORK",
                        "attackComplexity": "LOW",
                        "privilegesRequired": "NONE",
                        "userInteraction": "REQUIRED",
                        "scope": "CHANGED",
                        "confidentialityImpact": "LOW",
                        "integrityImpact": "LOW",
                        "availabilityImpact": "NONE",
                    },
                },
            ],
        },
    ],
}


def test_csaf_reference_security_advisory_is_valid():
    assert validate("csaf", CSAF_SECURITY_ADVISORY) == []


def test_csaf_without_tracking_status_is_reported():
    document = copy.deepcopy(CSAF_SECURITY_ADVISORY)
    del document["document"]["tracking"]["status"]

    assert validate("csaf", document) == ["$.document.tracking: 'status' is a required property"]


def test_csaf_nested_branches_are_checked():
    document = copy.deepcopy(CSAF_SECURITY_ADVISORY)
    del document["product_tree"]["branches"][0]["branches"][0]["name"]

    errors = validate("csaf", document)

    assert "$.product_tree.branches[0].branches[0]: 'name' is a required property" in errors


# --- CSAF 2.0 provider metadata and aggregator (the provider's $refs reach the CSAF schema, the
# aggregator's the provider schema, all by id) ----------------------------------------------------

CSAF_PROVIDER_METADATA = {
    # REQUIRED: canonical_url (ends in /provider-metadata.json), last_updated,
    # list_on_CSAF_aggregators, mirror_on_CSAF_aggregators, metadata_version ("2.0"), publisher
    # (the CSAF document's publisher), role.
    "canonical_url": "https://disclosure.example.org/.well-known/csaf/provider-metadata.json",
    "distributions": [
        {
            "directory_url": "https://disclosure.example.org/.well-known/csaf/white/",
            "rolie": {
                "feeds": [
                    {
                        "tlp_label": "WHITE",
                        "url": "https://disclosure.example.org/.well-known/csaf/white/"
                        "csaf-feed-tlp-white.json",
                    }
                ]
            },
        }
    ],
    "last_updated": "2024-03-01T12:00:00Z",
    "list_on_CSAF_aggregators": True,
    "metadata_version": "2.0",
    "mirror_on_CSAF_aggregators": True,
    "public_openpgp_keys": [
        {
            "fingerprint": "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C",
            "url": "https://disclosure.example.org/.well-known/csaf/openpgp/"
            "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C.asc",
        }
    ],
    "publisher": {
        "category": "coordinator",
        "name": "Disclosure",
        "namespace": "https://disclosure.example.org",
    },
    "role": "csaf_trusted_provider",
}


def test_csaf_provider_reference_metadata_is_valid():
    assert validate("csaf_provider", CSAF_PROVIDER_METADATA) == []


def test_csaf_provider_publisher_is_checked_against_the_csaf_schema():
    document = copy.deepcopy(CSAF_PROVIDER_METADATA)
    document["publisher"]["category"] = "platform"

    (error,) = validate("csaf_provider", document)

    assert error.startswith("$.publisher.category: 'platform' is not one of ")


def test_csaf_provider_canonical_url_names_the_metadata():
    document = copy.deepcopy(CSAF_PROVIDER_METADATA)
    document["canonical_url"] = "https://disclosure.example.org/.well-known/csaf/"

    (error,) = validate("csaf_provider", document)

    assert error.startswith("$.canonical_url: ")


def test_csaf_aggregator_reaches_the_provider_schema():
    aggregator = {
        "aggregator": {
            "category": "lister",
            "name": "Example Lister",
            "namespace": "https://lister.example",
        },
        "aggregator_version": "2.0",
        "canonical_url": "https://lister.example/.well-known/csaf-aggregator/aggregator.json",
        "csaf_providers": [
            {
                "metadata": {
                    "last_updated": CSAF_PROVIDER_METADATA["last_updated"],
                    "publisher": CSAF_PROVIDER_METADATA["publisher"],
                    "role": "csaf_trusted_provider",
                    "url": CSAF_PROVIDER_METADATA["canonical_url"],
                }
            }
        ],
        "last_updated": "2024-03-02T12:00:00Z",
    }
    assert validate("csaf_aggregator", aggregator) == []
    aggregator["csaf_providers"][0]["metadata"]["role"] = "csaf_mirror"

    (error,) = validate("csaf_aggregator", aggregator)

    assert error.startswith("$.csaf_providers[0].metadata.role: 'csaf_mirror' is not one of ")


# --- CVE JSON 5.1 (CVEProject/cve-schema, bundled record format, JSON Schema draft-07) ----------

ORG_ID = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"  # CVE org UUIDs are version 4 UUIDs

CVE_RECORD = {
    # REQUIRED: dataType, dataVersion, cveMetadata, containers (and no other property).
    "dataType": "CVE_RECORD",
    "dataVersion": "5.1",
    # REQUIRED in cveMetadata: cveId, assignerOrgId, state. Timestamps follow the schema's
    # pattern: yyyy-MM-ddTHH:mm:ss[.fff][Z|+hh:mm].
    "cveMetadata": {
        "cveId": "CVE-2024-12345",
        "assignerOrgId": ORG_ID,
        "assignerShortName": "example",
        "state": "PUBLISHED",
        "dateReserved": "2024-02-01T10:00:00.000Z",
        "datePublished": "2024-02-28T09:00:00.000Z",
        "dateUpdated": "2024-02-28T09:00:00.000Z",
    },
    "containers": {
        # REQUIRED in containers: cna. REQUIRED in a published CNA container: providerMetadata
        # (orgId), descriptions (one in English at least), affected, references.
        "cna": {
            "providerMetadata": {"orgId": ORG_ID, "shortName": "example"},
            "title": "Cross-site scripting in examplelib's HTML renderer",
            "datePublic": "2024-02-28T09:00:00.000Z",
            "descriptions": [
                {
                    "lang": "en",
                    "value": "examplelib before 2.4.1 does not escape attribute values in "
                    "render(), which allows cross-site scripting.",
                },
            ],
            # Per product: vendor + product and/or collectionURL + packageName, and versions
            # and/or defaultStatus. A version range has version, status, versionType and
            # lessThan (or lessThanOrEqual).
            "affected": [
                {
                    "vendor": "Example Project",
                    "product": "examplelib",
                    "collectionURL": "https://pypi.python.org",
                    "packageName": "examplelib",
                    "defaultStatus": "unaffected",
                    "versions": [
                        {
                            "version": "0",
                            "lessThan": "2.4.1",
                            "status": "affected",
                            "versionType": "python",
                        },
                    ],
                },
            ],
            "problemTypes": [
                {
                    "descriptions": [
                        {
                            "lang": "en",
                            "description": "CWE-79 Improper Neutralization of Input During Web "
                            "Page Generation ('Cross-site Scripting')",
                            "cweId": "CWE-79",
                            "type": "CWE",
                        },
                    ],
                },
            ],
            "references": [
                {
                    "url": "https://disclosure.example.org/advisories/DISC-2024-0001",
                    "name": "DISC-2024-0001",
                    "tags": ["vendor-advisory"],
                },
                {
                    "url": "https://github.com/example/examplelib/commit/0123456789abcdef",
                    "tags": ["patch"],
                },
            ],
            # One of cvssV4_0, cvssV3_1, cvssV3_0, cvssV2_0, other per entry; in cvssV3_1,
            # version, vectorString, baseScore, baseSeverity are REQUIRED and baseSeverity must
            # match baseScore.
            "metrics": [
                {
                    "format": "CVSS",
                    "scenarios": [{"lang": "en", "value": "GENERAL"}],
                    "cvssV3_1": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                        "baseScore": 6.1,
                        "baseSeverity": "MEDIUM",
                        "attackVector": "NETWORK",
                        "attackComplexity": "LOW",
                        "privilegesRequired": "NONE",
                        "userInteraction": "REQUIRED",
                        "scope": "CHANGED",
                        "confidentialityImpact": "LOW",
                        "integrityImpact": "LOW",
                        "availabilityImpact": "NONE",
                    },
                },
            ],
            # REQUIRED per credit: lang and value; type is finder, reporter, analyst, ...
            "credits": [{"lang": "en", "value": "Jane Doe", "type": "finder"}],
        },
    },
}


def test_cve_reference_record_is_valid():
    assert validate("cve", CVE_RECORD) == []


def test_cve_without_descriptions_is_reported():
    document = copy.deepcopy(CVE_RECORD)
    del document["containers"]["cna"]["descriptions"]

    assert validate("cve", document) == ["$.containers.cna: 'descriptions' is a required property"]


def test_cve_severity_must_match_score():
    document = copy.deepcopy(CVE_RECORD)
    document["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseSeverity"] = "CRITICAL"

    errors = validate("cve", document)

    assert any(
        error.startswith("$.containers.cna.metrics[0].cvssV3_1.baseSeverity: ") for error in errors
    ), errors


# --- The helper itself ---------------------------------------------------------------------------


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        validate("cvrf", {})


# --- The official releases (tests/schemas/official/) ----------------------------------------------

OFFICIAL_SHA256 = {
    "osv_schema.json": "7a511902b57297197b37298f6adaa2acb15f22b3f641bb9f547f19dcbe533ba8",
    "csaf_2.0_json_schema.json": "29c114b35b0a30831f1674f2ab8b3ed9b2890cfeaa63b924ac6ed9d70ef44262",
    "csaf_2.0_provider_json_schema.json": (
        "0270d0cfadf5202ff83a63502012a407e0e8ec3194a07296f13641c9f5630aba"
    ),
    "csaf_2.0_aggregator_json_schema.json": (
        "6e76b27b9552168e756f4b1c8be0a9d43414338ee44793e55357869b86031242"
    ),
    "first/cvss-v2.0.json": "cd1a7c0815b7a47dc12fb7dded10622b96d562841f7bc6d2d8765c5d937a28f2",
    "first/cvss-v3.0.json": "b2b587e5dfa6d9a4be89e25cb593df04f14e7ffbe8fe5b167ceee17b6097d919",
    "first/cvss-v3.1.json": "77ff3df106e4588e2bb5c9cf0237f962c62d35c5002443c4bf7cc7ca16ee171f",
    "cve/CVE_JSON_bundled_5.1.1.json": (
        "c5f31c951a2934858e0925d40eec81006c9daad554cad133e00bc181ca578c74"
    ),
    "cve/CVE_JSON_cnaPublishedContainer_5.1.1.json": (
        "5540a5be7bb0d67cb5d67659a5c962c89e9d09b5bb982bc5b7dce723fa5e37b6"
    ),
}


def test_official_schemas_are_unmodified():
    found = {
        path.relative_to(OFFICIAL_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in OFFICIAL_DIR.rglob("*.json")
    }
    assert found == OFFICIAL_SHA256


def test_official_osv_wants_a_registered_prefix_or_x():
    document = copy.deepcopy(OSV_ADVISORY)
    document["id"] = "DISC-2024-0001"
    (error,) = validate("osv", document)
    assert error.startswith("$.id: 'DISC-2024-0001' does not match ")

    document["id"] = "x_DISC-2024-0001"  # a database without a registered prefix

    assert validate("osv", document) == []


def test_official_osv_timestamps_end_in_z():
    document = copy.deepcopy(OSV_ADVISORY)
    document["modified"] = "2024-03-01T12:00:00+00:00"

    assert validate("osv", document) == [
        "$.modified: '2024-03-01T12:00:00+00:00' does not match "
        "'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?Z'"
    ]


def test_official_cna_container_is_the_records_cna():
    assert validate("cve_cna", CVE_RECORD["containers"]["cna"]) == []
    document = copy.deepcopy(CVE_RECORD["containers"]["cna"])
    del document["providerMetadata"]["orgId"]

    assert validate("cve_cna", document) == ["$.providerMetadata: 'orgId' is a required property"]


def test_official_csaf_cvss_is_checked_against_firsts_schema():
    document = copy.deepcopy(CSAF_SECURITY_ADVISORY)
    document["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 11

    errors = validate("csaf", document)

    assert any(e.startswith("$.vulnerabilities[0].scores[0].cvss_v3.baseScore: ") for e in errors)


def test_official_schemas_outside_the_set_are_never_fetched():
    with pytest.raises(Unresolvable):
        registry().resolver().lookup("https://www.first.org/cvss/cvss-v4.0.json")
