"""A report says which of the versions it concerns were out of support when it was filed, with
the policy's own words about it: the reporter learns it at once, the members see it on the
report.

Stalwart's matrix in force: "| 0.13.x | :white_check_mark: | TBD |", "| 0.12.x |
:white_check_mark: | 2025-12-31 |", "| 0.11.x | :white_check_mark: | 2025-12-31 |", "| < 0.11 |
:x: | Ended |", under it "We typically support the current major version and one previous major
version. Users are strongly encouraged to upgrade to the latest version for the best security
posture." mailtri-router's: "| 1.x.x | :white_check_mark: |", "| < 1.0 | :x: |".
"""

import io

import pytest
import time_machine
from django.core.management import call_command

from projects.models import Project
from reports.models import Report
from tests.factories import MembershipFactory
from tests.reports.conftest import share
from tests.signin import Client

pytestmark = pytest.mark.django_db

STALWART_WORDS = (
    "We typically support the current major version and one previous major version. Users are "
    "strongly encouraged to upgrade to the latest version for the best security posture."
)
REPORT = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


def signed_in(user):
    client = Client()
    client.sign_in(user)
    return client


def file_through_the_form(client, slug, data):
    response = client.post(f"/projects/{slug}/report/", {"credit-display": "anonymous", **data})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Report.objects.latest("pk"), client.get(response["Location"]).content.decode()


@time_machine.travel("2026-12-01 09:30Z", tick=False)
def test_stalwart_report_on_a_series_past_its_end_of_support(seeded, reporter, collaborator):
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = MembershipFactory(project=stalwart).user
    client = signed_in(reporter)
    form = client.get("/projects/stalwart/report/").content.decode()
    assert "0.12.x (no longer supported)" in form

    versions = ["0.13.x", "0.12.x", "other/unknown"]
    report, filed = file_through_the_form(
        client, "stalwart", {**REPORT, "affected_versions": versions}
    )
    assert report.affected_versions == versions
    assert report.unsupported_versions == ["0.12.x"]  # 0.13.x is supported, the rest not judged
    assert "0.12.x: out of support by Stalwart" in filed

    share(report, by=reporter, with_user=collaborator)
    for user in (reporter, collaborator, maintainer):
        body = signed_in(user).get(f"/reports/{report.tracking_id}/").content.decode()
        assert 'id="unsupported-versions"' in body, user
        assert (
            "Out of support when the report was filed, by the policy it was filed under "
            "(text of 2025-07-16): <strong>0.12.x</strong>." in body
        )
        assert STALWART_WORDS in " ".join(body.split())


@time_machine.travel("2026-12-01 09:30Z", tick=False)
def test_no_flag_for_supported_series(seeded, reporter):
    report, filed = file_through_the_form(
        signed_in(reporter), "stalwart", {**REPORT, "affected_versions": ["0.13.x"]}
    )
    assert report.unsupported_versions == []
    assert "out of support" not in filed
    body = signed_in(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert 'id="unsupported-versions"' not in body


@time_machine.travel("2025-12-31 12:00Z", tick=False)
def test_the_flag_follows_the_filing_day(seeded, reporter):
    """On 2025-12-31, 0.12.x's last day, it is still supported; 0.11 and older are not."""
    report, _ = file_through_the_form(
        signed_in(reporter), "stalwart", {**REPORT, "affected_versions": ["0.12.x", "< 0.11"]}
    )
    assert report.unsupported_versions == ["< 0.11"]


@time_machine.travel("2026-12-01 09:30Z", tick=False)
def test_mailtri_router_report_on_a_pre_1_0_version(seeded, reporter):
    report, _ = file_through_the_form(
        signed_in(reporter),
        "mailtri-router",
        {
            "title": "Header injection",
            "description": "CRLF in the subject is passed on.",
            "impact": "Forged headers.",
            "affected_components": "router",
            "steps_to_reproduce": "Send a subject with CRLF.",
            "affected_versions": ["< 1.0"],
            "os": "Linux",
            "nodejs_version": "20",
            "aws_region": "eu-west-1",
        },
    )
    assert report.unsupported_versions == ["< 1.0"]
    body = signed_in(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "<strong>&lt; 1.0</strong>" in body
    assert "We release patches for security vulnerabilities in the versions marked supported." in (
        body
    )
