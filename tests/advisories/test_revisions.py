"""The advisory's CVSS is the report's until publication: publication takes the report's current
score, also when it changed after the last edit of the draft (issue: advisory revisions).

Time is frozen at T0.
"""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from advisories import exports, selectors
from advisories import services as advisory_services
from advisories.models import Advisory
from projects.models import Project
from reports import services
from reports.models import Report
from tests.reports.conftest import share

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
HIGH = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"  # 8.1


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def project(db):
    """The cast's project is the seeded Stalwart (overrides tests/conftest.py)."""
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


def fixed_draft(project, *, reporter, maintainer, collaborator=None, title="SMTP smuggling"):
    """The draft advisory of a fixed report, scored CRITICAL, ready to publish."""
    report = services.file_report(
        project=project,
        reporter=reporter,
        fields={
            "title": title,
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x", "0.12.x"],
            "affected_components": "smtp-inbound",
            "description": "A bare LF before the final dot ends DATA early.",
            "steps_to_reproduce": "Send a bare LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
    if collaborator is not None:
        share(report, by=reporter, with_user=collaborator)
    triage = {"severity": "critical", "message": "Confirmed."}
    services.transition(report=report, by=maintainer, name="triage", **triage)
    score(report, maintainer, CRITICAL)
    services.transition(report=report, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=fresh(report), by=maintainer)
    return advisory_services.update_advisory(
        advisory=advisory,
        by=maintainer,
        fields={
            "fixed_versions": ["0.13.4"],
            "cve_id": "CVE-2026-12345",
            "cwe": "CWE-444",
            "references": ["https://github.com/stalwartlabs/stalwart/releases/tag/v0.13.4"],
        },
    )


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def score(report, by, vector):
    services.set_cvss_vector(report=report, by=by, vector=vector)
    services.compute_cvss(report_id=report.pk)  # the task enqueued on commit


def reloaded(advisory):
    return selectors.public_advisory(advisory.identifier)


# --- CVSS: the report's until publication ------------------------------------------------------


def test_publication_takes_the_reports_current_cvss(project, clock, reporter, maintainer):
    draft = fixed_draft(project, reporter=reporter, maintainer=maintainer)
    # The report is rescored after the last edit of the draft.
    score(draft.report, maintainer, HIGH)
    draft = Advisory.objects.get(pk=draft.pk)
    assert draft.cvss_vector == CRITICAL  # drafts take the score when edited or published

    advisory_services.publish(advisory=draft, by=maintainer)

    advisory = reloaded(draft)
    assert (advisory.cvss_vector, str(advisory.cvss_score), advisory.cvss_severity) == (
        HIGH,
        "8.1",
        "High",
    )
    assert exports.osv(advisory)["severity"] == [{"type": "CVSS_V3", "score": HIGH}]
    assert exports.cve(advisory)["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseScore"] == 8.1
