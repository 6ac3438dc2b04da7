"""The exports name the software by the project's package identity (issue 14, part 2): for each
kind of project (a crates.io package with purl, CPE and vendor; a PyPI package with only a CPE;
a repository without a package, with and without the advisory's fix commits, with and without a
version matrix; neither), the OSV record, the CSAF document and the CVE record and CNA container
are valid against the official schemas, the CSAF documents pass BSI's validator, and each names
exactly what the project states: nothing is made up from the project's name.
"""

import pytest
from django.core.management import call_command

from advisories import exports, selectors
from advisories.models import Advisory
from projects.models import Membership, Project
from tests.advisories.publishing import drafted_advisory, edit_draft, publish_now
from tests.advisories.test_csaf_validator import justified
from tests.csaf_validator import validate_csaf
from tests.factories import (
    MembershipFactory,
    PolicyRevisionFactory,
    ProjectFactory,
    SupportedVersionFactory,
    UserFactory,
)
from tests.projects.test_package_identity import CRATE
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
INTRODUCED = "fedcba9876543210fedcba9876543210fedcba98"
FIX = "0123456789abcdef0123456789abcdef01234567"
BACKPORT = "89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"
MATRIX = ["0.13.x", "0.12.x", "< 0.11"]
FIXED = ["0.13.4", "0.12.9"]
STALWART_REPO = "https://github.com/stalwartlabs/stalwart"
TEAMMAIL_REPO = "https://github.com/linagora/tmail-flutter"
CRATE_REPO = "https://github.com/example/example-mail"
PYPI_CPE = "cpe:2.3:a:example:mail_filter:*:*:*:*:*:*:*:*"

# case -> (project slug, the report's affected versions, the advisory's fields)
CASES = {
    "crate": (
        "example-mail",
        MATRIX,
        {"fixed_versions": FIXED, "fix_commits": [FIX, BACKPORT], "introduced_commit": INTRODUCED},
    ),
    "pypi": ("mail-filter", ["2.x"], {"fixed_versions": ["2.4.1"]}),
    "git": ("stalwart", MATRIX, {"fixed_versions": FIXED, "fix_commits": [FIX, BACKPORT]}),
    "git-without-commits": ("stalwart", MATRIX, {"fixed_versions": FIXED}),
    "git-without-matrix": (
        "teammail",
        ["2.3"],
        {"fixed_versions": ["2.3.1"], "fix_commits": [FIX]},
    ),
    "nothing": ("mailtri-router", ["1.x.x"], {"fixed_versions": ["1.4.2"]}),
}


def project_with_matrix(slug, name, prefix, series, **identity):
    project = ProjectFactory(slug=slug, name=name, tracking_prefix=prefix, **identity)
    revision = PolicyRevisionFactory(project=project)
    for order, label in enumerate(series):
        SupportedVersionFactory(
            revision=revision, series=label, order=order, supported=not label.startswith("<")
        )
    return project


@pytest.fixture
def advisories(db, settings):
    """One published advisory (CVSS 3.1, a CVE ID) per case, read back as the downloads are."""
    settings.SITE_URL = "https://disclosure.example.org"  # CSAF 6.2.11: https
    call_command("seed_projects", verbosity=0)
    project_with_matrix(
        "example-mail",
        "Example Mail",
        "EXM",
        MATRIX,
        repository_url=CRATE_REPO,
        **CRATE,
    )
    project_with_matrix(
        "mail-filter",
        "Mail Filter",
        "MFL",
        ["2.x"],
        osv_ecosystem="PyPI",
        package_name="mail-filter",
        cpe=PYPI_CPE,
    )
    member = UserFactory()
    for project in Project.objects.all():
        MembershipFactory(user=member, project=project, role=Membership.Role.MAINTAINER)
    published = {}
    for n, (case, (slug, affected, fields)) in enumerate(CASES.items(), start=1):
        advisory = drafted_advisory(
            slug,
            by=member,
            reporter=UserFactory(),
            affected_versions=affected,
            affected_version=fields["fixed_versions"][0].rsplit(".", 1)[0] + ".0",
            vector=VECTOR,
        )
        advisory = edit_draft(
            advisory, by=member, fields={**fields, "cwe": "CWE-444", "cve_id": f"CVE-2026-2000{n}"}
        )
        publish_now(Advisory.objects.get(pk=advisory.pk), by=member)
        published[case] = selectors.public_advisory(advisory.identifier)
    return published


def assert_official(kind, document):
    errors = validate(kind, document)
    assert errors == [], f"{kind} is invalid:\n" + "\n".join(errors)


# --- OSV ----------------------------------------------------------------------------------------

SEMVER_RANGES = [
    {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.11.0"}],
     "database_specific": {"series": ["< 0.11"]}},
    {"type": "SEMVER", "events": [{"introduced": "0.12.0"}, {"fixed": "0.12.9"}],
     "database_specific": {"series": ["0.12.x"]}},
    {"type": "SEMVER", "events": [{"introduced": "0.13.0"}, {"fixed": "0.13.4"}],
     "database_specific": {"series": ["0.13.x"]}},
]  # fmt: skip


def git_range(repo, *fixes, introduced="0"):
    events = [{"introduced": introduced}, *({"fixed": fix} for fix in fixes)]
    return {"type": "GIT", "repo": repo, "events": events}


# case -> the OSV affected entry without its database_specific
OSV_AFFECTED = {
    "crate": {
        "package": {"ecosystem": "crates.io", "name": "example-mail",
                    "purl": "pkg:cargo/example-mail"},
        "ranges": [*SEMVER_RANGES, git_range(CRATE_REPO, FIX, BACKPORT, introduced=INTRODUCED)],
        # Beside a GIT range the OSV spec asks for the versions known to be affected.
        "versions": ["0.13.0"],
    },
    "pypi": {
        "package": {"ecosystem": "PyPI", "name": "mail-filter"},
        # PyPI does not enforce semantic versions: ECOSYSTEM ranges, and the versions.
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}, {"fixed": "2.4.1"}],
                    "database_specific": {"series": ["2.x"]}}],
        "versions": ["2.4.0"],
    },
    "git": {
        "ranges": [*SEMVER_RANGES, git_range(STALWART_REPO, FIX, BACKPORT)],
        "versions": ["0.13.0"],
    },
    # Without fix commits no GIT range: nothing else is a commit.
    "git-without-commits": {"ranges": SEMVER_RANGES},
    # The versions the report names: the exact one found affected, and "2.3" of its list.
    "git-without-matrix": {"ranges": [git_range(TEAMMAIL_REPO, FIX)], "versions": ["2.3.0", "2.3"]},
    "nothing": {"ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"},
                {"fixed": "1.4.2"}], "database_specific": {"series": ["1.x.x"]}}]},
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_osv_names_the_package_or_the_repository(advisories, case):
    record = exports.osv(advisories[case])

    assert_official("osv", record)
    (affected,) = record["affected"]
    specific = affected.pop("database_specific")
    assert affected == OSV_AFFECTED[case]
    assert specific["project"] == CASES[case][0]


# --- CSAF ---------------------------------------------------------------------------------------


def products(document):
    """{product name: its identification helper or None} of every product in the tree."""
    found = {}

    def walk(branches):
        for branch in branches:
            if "product" in branch:
                product = branch["product"]
                found[product["name"]] = product.get("product_identification_helper")
            walk(branch.get("branches", []))

    walk(document["product_tree"].get("branches", []))
    for product in document["product_tree"].get("full_product_names", []):
        found[product["name"]] = product.get("product_identification_helper")
    return found


CRATE_CPE_AT = "cpe:2.3:a:example:example_mail:{}:*:*:*:*:*:*:*"
CSAF_HELPERS = {
    "crate": {
        "Example Mail 0.13.x": {"purl": "pkg:cargo/example-mail", "cpe": CRATE["cpe"]},
        "Example Mail 0.12.x": {"purl": "pkg:cargo/example-mail", "cpe": CRATE["cpe"]},
        "Example Mail < 0.11": {"purl": "pkg:cargo/example-mail", "cpe": CRATE["cpe"]},
        "Example Mail 0.13.4": {
            "purl": "pkg:cargo/example-mail@0.13.4", "cpe": CRATE_CPE_AT.format("0.13.4")
        },
        "Example Mail 0.12.9": {
            "purl": "pkg:cargo/example-mail@0.12.9", "cpe": CRATE_CPE_AT.format("0.12.9")
        },
    },
    "pypi": {
        "Mail Filter 2.x": {"cpe": PYPI_CPE},
        "Mail Filter 2.4.1": {"cpe": "cpe:2.3:a:example:mail_filter:2.4.1:*:*:*:*:*:*:*"},
    },
}  # fmt: skip


@pytest.mark.heavy
def test_csaf_products_carry_the_purl_and_cpe_and_pass_bsi_validator(advisories):
    documents = {case: exports.csaf(advisory) for case, advisory in advisories.items()}

    results = dict(zip(documents, validate_csaf(list(documents.values())), strict=True))

    failures = []
    for case, document in documents.items():
        project = advisories[case].project
        failures += [f"{case}: official schema: {error}" for error in validate("csaf", document)]
        result = results[case]
        failures += [f"{case}: {finding}" for finding in result["schema"] + result["mandatory"]]
        failures += [
            f"{case}: {finding}"
            for finding in result["recommended"]
            if not justified(finding["test"], "3.1", project)
        ]
        helpers = products(document)
        if case in CSAF_HELPERS:
            assert helpers == CSAF_HELPERS[case], case
            # 6.2.16 ("missing product identification helper") passes: every product has one.
            assert "optionalTest_6_2_16" not in {f["test"] for f in result["recommended"]}, case
        else:
            assert set(helpers.values()) == {None}, case
            assert [f["test"] for f in result["recommended"]] == ["optionalTest_6_2_16"], case
    assert failures == [], "\n".join(failures)


def test_csaf_names_the_vendor_only_where_the_project_states_one(advisories):
    crate = exports.csaf(advisories["crate"])["product_tree"]["branches"]
    stalwart = exports.csaf(advisories["git"])["product_tree"]["branches"]

    assert [(b["category"], b["name"]) for b in crate] == [("vendor", "Example Labs")]
    assert [(b["category"], b["name"]) for b in crate[0]["branches"]] == [
        ("product_name", "Example Mail")
    ]
    # Stalwart's policy names no vendor: the tree starts at the product.
    assert [(b["category"], b["name"]) for b in stalwart] == [("product_name", "Stalwart")]


# --- CVE ----------------------------------------------------------------------------------------

CVE_NAMES = {
    "crate": {
        "product": "Example Mail",
        "vendor": "Example Labs",
        "collectionURL": "https://crates.io",
        "packageName": "example-mail",
        "repo": CRATE_REPO,
        "cpes": [CRATE["cpe"]],
    },
    # A package without a stated vendor: the collection names it, no vendor is needed.
    "pypi": {
        "product": "Mail Filter",
        "collectionURL": "https://pypi.python.org",
        "packageName": "mail-filter",
        "cpes": [PYPI_CPE],
    },
    "git": {"product": "Stalwart", "vendor": "n/a", "repo": STALWART_REPO},
    "git-without-commits": {"product": "Stalwart", "vendor": "n/a", "repo": STALWART_REPO},
    "git-without-matrix": {"product": "TeamMail", "vendor": "n/a", "repo": TEAMMAIL_REPO},
    "nothing": {"product": "mailtri-router", "vendor": "n/a"},
}


@pytest.mark.parametrize("case", CASES)
def test_cve_affected_names_the_vendor_package_repository_and_cpe(advisories, case):
    record = exports.cve(advisories[case])
    container = exports.cve_cna(advisories[case])

    assert_official("cve", record)
    assert_official("cve_cna", container)
    (affected,) = container["affected"]
    names = {key: value for key, value in affected.items() if key in CVE_NAMES["crate"]}
    assert names == CVE_NAMES[case]
    assert affected["versions"]
    assert record["containers"]["cna"] == container
