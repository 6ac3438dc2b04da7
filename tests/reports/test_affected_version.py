"""The exact affected version at intake (issue 12), beside the series of the version matrix.

Stalwart's policy asks for "Affected version(s)" and publishes the matrix 0.13.x, 0.12.x,
0.11.x, < 0.11; mailtri-router's welcomes them (1.x.x, < 1.0); TeamMail's lists no versions and
does not ask. An exact version must fall in a series of the matrix, whose box is then ticked
for the reporter; without a matrix it is free text, and nobody is made to tick "Other / unknown".
"""

import io

import pytest
import time_machine
from django.core.management import call_command

from advisories.services import draft_advisory
from projects.models import Project, series_includes, version_numbers
from reports import services
from reports.models import Report
from tests.factories import MembershipFactory
from tests.signin import Client

pytestmark = pytest.mark.django_db

STALWART = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
    "credit-display": "anonymous",
}
TEAMMAIL = {
    "title": "Stored XSS in the preview",
    "description": "An SVG onload runs script.",
    "credit-display": "anonymous",
}


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


@pytest.fixture
def client(reporter):
    client = Client()
    client.sign_in(reporter)
    return client


def submit(client, slug, data):
    return client.post(f"/projects/{slug}/report/", data)


@pytest.mark.parametrize(
    ("series", "version", "included"),
    [
        ("0.13.x", "0.13.2", True),
        ("0.13.x", "v0.13.2-rc1", True),
        ("0.13.x", "0.13", True),
        ("0.13.x", "0.14.0", False),
        ("0.13.x", "0.1", False),
        ("< 0.11", "0.10.9", True),
        ("< 0.11", "0.11.0", False),
        ("1.x.x", "1.4.2", True),
        ("1.x.x", "2.0.0", False),
        ("< 1.0", "0.9.1", True),
        ("0.12.3", "0.12.3", True),
        ("Legacy", "0.12.3", False),
    ],
)
def test_a_series_holds_the_versions_its_label_names(series, version, included):
    assert series_includes(series, version_numbers(version)) is included


def test_words_are_not_versions():
    assert version_numbers("latest") is None
    assert version_numbers("0.13.2 on Debian") is None


def test_stalwart_exact_version_ticks_its_series(seeded, client, reporter):
    response = submit(client, "stalwart", {**STALWART, "affected_version": "0.13.2"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.affected_version, report.affected_versions) == ("0.13.2", ["0.13.x"])


def test_other_ticked_series_are_kept_in_matrix_order(seeded, client):
    data = {**STALWART, "affected_version": "0.13.2", "affected_versions": ["0.11.x", "0.12.x"]}
    assert submit(client, "stalwart", data).status_code == 302
    assert Report.objects.get().affected_versions == ["0.13.x", "0.12.x", "0.11.x"]


@time_machine.travel("2026-12-01 09:30Z", tick=False)
def test_an_exact_version_of_an_ended_series_is_told_as_unsupported(seeded, client):
    assert submit(client, "stalwart", {**STALWART, "affected_version": "0.12.9"}).status_code == 302
    report = Report.objects.get()
    assert (report.affected_versions, report.unsupported_versions) == (["0.12.x"], ["0.12.x"])


@pytest.mark.parametrize(
    ("version", "error"),
    [
        (
            "0.14.1",
            "0.14.1 is in none of the series of Stalwart&#x27;s version matrix "
            "(0.13.x, 0.12.x, 0.11.x, &lt; 0.11). Check the version, or leave it empty and tick "
            "Other / unknown.",
        ),
        ("latest", "“latest” is not a version number: give one like 1.2.3."),
    ],
)
def test_stalwart_refuses_a_version_outside_its_matrix_and_stores_nothing(
    seeded, client, version, error
):
    response = submit(client, "stalwart", {**STALWART, "affected_version": version})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Report.objects.exists()


def test_stalwart_asks_for_a_version_or_a_series(seeded, client):
    response = submit(client, "stalwart", STALWART)
    assert "Give the affected version, or tick the affected series" in response.content.decode()
    assert not Report.objects.exists()
    assert submit(client, "stalwart", {**STALWART, "affected_versions": ["other/unknown"]})
    assert Report.objects.get().affected_versions == ["other/unknown"]


def test_the_stalwart_form_offers_the_exact_version_and_the_series(seeded, client):
    form = client.get("/projects/stalwart/report/").content.decode()
    assert 'name="affected_version"' in form
    assert 'value="0.13.x"' in form
    assert "it must fall in one of the series 0.13.x, 0.12.x, 0.11.x, &lt; 0.11" in form


def test_mailtri_router_derives_its_major_series(seeded, client):
    data = {
        "title": "Webhook signature bypass",
        "description": "Unsigned webhooks pass.",
        "impact": "Spoofed deliveries.",
        "affected_components": "webhook",
        "steps_to_reproduce": "Post without a signature.",
        "os": "Linux",
        "nodejs_version": "22",
        "aws_region": "eu-west-1",
        "affected_version": "1.4.2",
        "credit-display": "anonymous",
    }
    assert submit(client, "mailtri-router", data).status_code == 302
    assert Report.objects.get().affected_versions == ["1.x.x"]


def test_teammail_takes_a_free_text_version_and_no_box(seeded, client):
    form = client.get("/projects/teammail/report/").content.decode()
    assert "Affected version (optional)" in form
    assert "other/unknown" not in form
    version = "2026.11 web build"
    assert submit(client, "teammail", {**TEAMMAIL, "affected_version": version}).status_code == 302
    report = Report.objects.get()
    assert (report.affected_version, report.affected_versions) == (version, [])


def test_teammail_does_not_require_a_version(seeded, client):
    assert submit(client, "teammail", TEAMMAIL).status_code == 302
    assert Report.objects.get().affected_version == ""


def test_a_policy_asking_versions_without_a_matrix_requires_the_free_text(
    project, client, reporter
):
    revision = project.revisions.get()
    assert not revision.versions.exists()
    revision.intake_required = ["description", "affected_versions"]
    revision.save()
    data = {"title": "Crash", "description": "Boom.", "credit-display": "anonymous"}
    response = submit(client, project.slug, data)
    assert response.status_code == 200
    assert "other/unknown" not in response.content.decode()
    assert submit(client, project.slug, {**data, "affected_version": "3.1"}).status_code == 302
    assert Report.objects.get().affected_version == "3.1"


def test_the_version_is_on_the_report_page_and_in_the_members_email(
    seeded, client, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = MembershipFactory(project=stalwart).user
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, "stalwart", {**STALWART, "affected_version": "0.13.2"})
    report = Report.objects.get()
    page = client.get(f"/reports/{report.tracking_id}/").content.decode()
    assert '<dd id="affected-version">0.13.2</dd>' in page
    email = next(m for m in mailoutbox if m.to == [maintainer.email])
    assert "Affected version: 0.13.2 (0.13.x)" in email.body
    client.sign_in(maintainer)
    page = client.get(f"/reports/{report.tracking_id}/").content.decode()
    assert '<dd id="affected-series">0.13.x' in page


def test_the_advisory_draft_takes_the_derived_series(seeded, client):
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = MembershipFactory(project=stalwart).user
    submit(client, "stalwart", {**STALWART, "affected_version": "0.12.4"})
    report = Report.objects.get()
    services.transition(report=report, by=maintainer, name="triage", severity="low", message=".")
    assert draft_advisory(report=report, by=maintainer).affected_series == ["0.12.x"]
