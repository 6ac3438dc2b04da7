"""CSAF 2.0 documents that BSI's validator accepts (issue 14): for a matrix of advisories: each
seeded project x CVSS 3.1 / 4.0 / none x with and without a CVE x credit by name, by handle and
anonymous x as published, revised and withdrawn: every document passes the strict schema test
and every mandatory test; recommended tests pass except the exceptions justified below. All
documents go through one Node process (tests/csaf_validator.py); the test fails when node or the
package is missing.
"""

import copy
import itertools

import pytest
from django.core.management import call_command

from advisories import exports, revisions, selectors
from projects.models import Membership, Project
from tests import csaf_validator
from tests.advisories.publishing import drafted_advisory, edit_draft, publish_now
from tests.csaf_validator import validate_csaf
from tests.factories import MembershipFactory, UserFactory
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

VECTORS = {
    "3.1": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "4.0": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "none": None,
}
CREDITS = {
    "name": {"display": "name", "name": "Zoë Ångström-Ñúñez"},
    "handle": {"display": "handle", "handle": "smuggler"},
    "anonymous": {"display": "anonymous"},
}
# Per project: the affected versions the report names, and the advisory's own fields.
PROJECTS = {
    "stalwart": (
        ["0.13.x", "0.12.x", "< 0.11"],
        {"fixed_versions": ["0.13.4", "0.12.9"], "cwe": "CWE-444", "workaround": "Reject bare LF."},
    ),
    "mailtri-router": (["1.x.x"], {"fixed_versions": ["1.4.2"], "cwe": "CWE-79"}),
    "teammail": (["2.3"], {"fixed_versions": ["2.3.1"], "cwe": "CWE-352"}),
}
LIFECYCLE = ("published", "revised", "withdrawn")


def justified(test, version, project):
    """Why a recommended test (CSAF 2.0 §6.2) may warn about a document of `project`'s, or None:
    it may not.
    """
    if test == "optionalTest_6_2_3" and version == "4.0":
        return "CSAF 2.0 scores know CVSS v2 and v3 only; the 4.0 vector is a vulnerability note."
    if test == "optionalTest_6_2_3" and version == "none":
        return "The advisory has no CVSS vector: there is no score to give."
    if test == "optionalTest_6_2_16" and not (project.purl or project.cpe):
        # The helpers are the project's purl and CPE (projects.identity). None of the seeded
        # policies states either (tests/projects/test_package_identity.py quotes them), and
        # one made up from a name or a repository would identify nothing reliably; a project
        # that states one has it on every product, and then 6.2.16 must pass
        # (tests/advisories/test_package_identity.py).
        return "The project states no purl or CPE: its products have no identification helper."
    return None


def build(slug, *, by, reporter, vector, with_cve, credit, lifecycle, n):
    affected_versions, fields = PROJECTS[slug]
    advisory = drafted_advisory(
        slug,
        by=by,
        reporter=reporter,
        affected_versions=affected_versions,
        vector=vector,
        credit=credit,
        title=f"SMTP smuggling ünïcödé {n}",
    )
    extra = {"cve_id": f"CVE-2026-{10000 + n}"} if with_cve else {}
    advisory = edit_draft(advisory, by=by, fields={**fields, **extra})
    publish_now(advisory, by=by)
    advisory = selectors.public_advisory(advisory.identifier)
    if lifecycle == "revised":
        revisions.amend(
            advisory=advisory,
            by=by,
            fields={"summary": "Corrected summary."},
            reason="The summary named the wrong component.",
        )
    elif lifecycle == "withdrawn":
        revisions.withdraw(advisory=advisory, by=by, reason="Not a vulnerability after all.")
    return selectors.public_advisory(advisory.identifier)


def matrix():
    """Every project x vector x CVE; credit kinds and lifecycles cycle through the rows, so
    each project meets each credit kind and each lifecycle.
    """
    rows = itertools.product(PROJECTS, VECTORS, (True, False))
    credits = itertools.cycle(CREDITS)
    lifecycles = itertools.cycle(LIFECYCLE)
    return [(*row, next(credits), next(lifecycles)) for row in rows]


@pytest.mark.heavy
def test_every_csaf_document_of_the_matrix_passes_bsi_validator(settings):
    # CSAF test 6.2.11 wants the canonical URL on https, as a production SITE_URL is.
    settings.SITE_URL = "https://disclosure.example.org"
    call_command("seed_projects", verbosity=0)
    member = UserFactory()
    for slug in PROJECTS:
        MembershipFactory(
            user=member, project=Project.objects.get(slug=slug), role=Membership.Role.MAINTAINER
        )
    documents, labels, versions, projects = [], [], [], []
    for n, (slug, version, with_cve, credit, lifecycle) in enumerate(matrix(), start=1):
        advisory = build(
            slug,
            by=member,
            reporter=UserFactory(),
            vector=VECTORS[version],
            with_cve=with_cve,
            credit=CREDITS[credit],
            lifecycle=lifecycle,
            n=n,
        )
        documents.append(exports.csaf(advisory))
        versions.append(version)
        projects.append(advisory.project)
        labels.append(f"{slug} cvss={version} cve={with_cve} credit={credit} {lifecycle}")
    assert len({(label.split()[0], label.split()[-1]) for label in labels}) == 9

    # A copy with the name the export used to write (the id) proves the validator is listening.
    wrong_name = copy.deepcopy(documents[0])
    wrong_name["vulnerabilities"][0]["cwe"]["name"] = "CWE-444"

    *results, wrong_name_result = validate_csaf([*documents, wrong_name])

    assert [f["test"] for f in wrong_name_result["mandatory"]] == ["mandatoryTest_6_1_11"]

    failures = []
    for label, document, version, project, result in zip(
        labels, documents, versions, projects, results, strict=True
    ):
        schema_errors = validate("csaf", document)
        failures += [f"{label}: official schema: {error}" for error in schema_errors]
        failures += [f"{label}: {finding}" for finding in result["schema"]]
        failures += [f"{label}: {finding}" for finding in result["mandatory"]]
        failures += [
            f"{label}: {finding}"
            for finding in result["recommended"]
            if not justified(finding["test"], version, project)
        ]
    assert failures == [], "\n".join(failures)


def test_validator_missing_is_an_error_not_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(csaf_validator, "PACKAGE", tmp_path / "csaf-validator-lib")

    with pytest.raises(csaf_validator.MissingValidatorError):
        csaf_validator.validate_csaf([{}])
