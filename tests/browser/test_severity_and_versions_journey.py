"""Exact versions at intake and a severity that follows the CVSS score, clicked in the browser
(issue 12): a Stalwart reporter gives a version outside the matrix, then one inside it; a TeamMail
reporter writes a free-text version with no box to tick; a Stalwart maintainer scores the report,
is refused an override without a reason, overrides with one, and returns to the score.
"""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from projects.models import Project
from reports import services
from reports.models import Report, State
from tests.browser.helpers import QUEUE_NAV, member_of, open_report, sign_in, unfold
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 Critical
REASON = "Needs the admin API, which is off by default."


@pytest.fixture
def seeded():
    call_command("seed_projects", stdout=io.StringIO())


def open_intake(page, project):
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project).click()
    page.get_by_role("link", name="Report a vulnerability privately").click()
    expect(page.get_by_role("heading", name=f"Report a vulnerability to {project}")).to_be_visible()


def severity_line(page):
    return page.locator("#severity")


def test_stalwart_reporter_gives_an_exact_version_checked_against_the_matrix(
    page, live_server, seeded
):
    sign_in(page, live_server, UserFactory(email="reporter@example.org"))
    open_intake(page, "Stalwart")
    page.get_by_label("Title").fill("SMTP smuggling in the relay")
    page.get_by_label("Vulnerability type").fill("SMTP smuggling")
    page.get_by_label("Affected version", exact=True).fill("0.14.1")
    page.get_by_label("Affected components").fill("smtp-inbound")
    page.get_by_label("Steps to reproduce").fill("Send a bare LF dot LF inside DATA.")
    page.get_by_label("Impact").fill("Spoofed mail from any local sender.")
    page.get_by_label("Anonymously").check()
    page.get_by_role("button", name="Submit report").click()
    expect(
        page.get_by_text("0.14.1 is in none of the series of Stalwart's version")
    ).to_be_visible()
    assert not Report.objects.exists()

    # The form keeps what was typed; the version is corrected and its series ticked for them.
    expect(page.get_by_label("Impact")).to_have_value("Spoofed mail from any local sender.")
    page.get_by_label("Affected version", exact=True).fill("0.13.2")
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    page.get_by_role("link", name="Follow the report").click()
    expect(page.locator("#affected-version")).to_have_text("0.13.2")
    expect(page.locator("#affected-series")).to_contain_text("0.13.x")
    report = Report.objects.get()
    assert (report.affected_version, report.affected_versions) == ("0.13.2", ["0.13.x"])


def test_teammail_reporter_writes_the_version_freely(page, live_server, seeded):
    sign_in(page, live_server, UserFactory(email="reporter@example.org"))
    open_intake(page, "TeamMail")
    expect(page.get_by_label("Other / unknown")).to_have_count(0)
    page.get_by_label("Title").fill("Stored XSS in the preview")
    page.get_by_label("Description").fill("An SVG onload runs script in the preview pane.")
    page.get_by_label("Affected version (optional)").fill("0.11.5 (web)")
    page.get_by_label("Anonymously").check()
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()
    page.get_by_role("link", name="Follow the report").click()
    expect(page.locator("#affected-version")).to_have_text("0.11.5 (web)")
    assert Report.objects.get().affected_versions == []


def test_maintainer_triages_with_the_cvss_severity_and_an_override(page, live_server, seeded):
    stalwart = Project.objects.get(slug="stalwart")
    report = services.file_report(
        project=stalwart,
        reporter=UserFactory(email="reporter@example.org"),
        fields={
            "title": "SMTP smuggling in the relay",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_version": "0.13.2",
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
    maintainer = member_of(stalwart, "maintainer@example.org")
    sign_in(page, live_server, maintainer)
    open_report(page, report.tracking_id, nav=QUEUE_NAV)
    expect(severity_line(page)).to_contain_text("not assessed yet")

    page.get_by_label("CVSS vector").fill(CRITICAL)
    page.get_by_role("button", name="Set CVSS vector").click()
    expect(severity_line(page)).to_contain_text("Critical (from the CVSS score)")

    # Triage: the severity follows the score unless overridden, and an override needs a reason.
    triage = unfold(page, "Triage: detailed response")
    expect(triage.get_by_label("Severity")).to_have_value("")
    triage.get_by_label("Severity").select_option(label="Low")
    triage.get_by_label("Message").fill("Confirmed on 0.13.2.")
    triage.get_by_role("button", name="Triage: detailed response").click()
    expect(page.get_by_text("Give the reason for overriding the CVSS severity.")).to_be_visible()
    assert Report.objects.get(pk=report.pk).state == State.NEW

    triage = unfold(page, "Triage: detailed response")
    triage.get_by_label("Severity").select_option(label="Low")
    triage.get_by_label("Reason for the override").fill(REASON)
    triage.get_by_label("Message").fill("Confirmed on 0.13.2.")
    triage.get_by_role("button", name="Triage: detailed response").click()
    expect(page.get_by_text("Triaged", exact=True).first).to_be_visible()
    expect(severity_line(page)).to_contain_text(f"Low (override of CVSS 9.8 Critical: {REASON})")

    # Back to the score: the override is removed from the severity panel.
    panel = unfold(page, "Override the severity")
    expect(panel.get_by_label("Severity")).to_have_value("low")
    panel.get_by_label("Severity").select_option(label="Follow the CVSS score (CVSS 9.8 Critical)")
    panel.get_by_label("Reason for the override").fill("")
    panel.get_by_role("button", name="Save the severity").click()
    expect(page.get_by_text("Severity: Critical.")).to_be_visible()
    expect(severity_line(page)).to_contain_text("Critical (from the CVSS score)")
    report.refresh_from_db()
    assert (report.severity, report.severity_override_reason) == ("critical", "")
