"""A published Stalwart advisory amended, then withdrawn, by its maintainer in the browser: the
Amend form is prefilled and takes the report's rescored CVSS, the Withdraw form asks for a
confirmation, and the public page, the project's list and the exports follow.
"""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from advisories import services as advisory_services
from advisories.models import Advisory
from projects.models import Project
from reports import services
from tests.advisories.publishing import publish_now
from tests.browser.helpers import member_of, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
HIGH = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"  # 8.1


@pytest.fixture
def published():
    """A Stalwart advisory published through the services; its report rescored afterwards."""
    call_command("seed_projects", stdout=io.StringIO())
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = member_of(stalwart, "maintainer@example.org")
    report = services.file_report(
        project=stalwart,
        reporter=UserFactory(email="reporter@example.org"),
        fields={
            "title": "SMTP smuggling",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "description": "A bare LF before the final dot ends DATA early.",
            "steps_to_reproduce": "Send a bare LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )
    services.transition(
        report=report, by=maintainer, name="triage", severity="critical", message="Confirmed."
    )
    services.set_cvss_vector(report=report, by=maintainer, vector=CRITICAL)
    services.transition(report=report, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    advisory = advisory_services.update_advisory(
        advisory=advisory, by=maintainer, fields={"fixed_versions": ["0.13.4"]}
    )
    publish_now(advisory, by=maintainer)
    services.set_cvss_vector(report=report, by=maintainer, vector=HIGH)  # after publication
    return Advisory.objects.get(pk=advisory.pk), maintainer


def test_a_maintainer_amends_then_withdraws_a_published_advisory(page, live_server, published):
    advisory, maintainer = published
    sign_in(page, live_server, maintainer)
    page.goto(f"{live_server.url}/reports/{advisory.report.tracking_id}/advisory/")

    # Amend: prefilled with the published text; the report's new score is shown and taken.
    amend = page.locator("#amend")
    expect(amend.get_by_label("Title")).to_have_value("SMTP smuggling")
    expect(amend.get_by_text(HIGH)).to_be_visible()
    amend.get_by_label("Title").fill("SMTP smuggling in the inbound relay")
    amend.get_by_label("Reason for the amendment").fill("Rescored: exploiting it needs a login.")
    amend.get_by_role("button", name="Amend").click()
    expect(page.get_by_text("Advisory amended: revision 2 is published.")).to_be_visible()
    expect(page.get_by_role("heading", name="SMTP smuggling in the inbound relay")).to_be_visible()
    history = page.locator("table", has=page.get_by_role("columnheader", name="Revision"))
    expect(history.get_by_role("row")).to_have_count(3)  # header, publication, amendment
    expect(history.get_by_text("Rescored: exploiting it needs a login.")).to_be_visible()

    # Withdraw: a reason, then a confirmation page.
    withdraw = page.locator("#withdraw")
    withdraw.get_by_label("Reason for the withdrawal").fill("Duplicate of STW-ADV-2025-0003.")
    withdraw.get_by_role("button", name="Withdraw…").click()
    expect(page.get_by_role("heading", name=f"Withdraw {advisory.identifier}?")).to_be_visible()
    assert Advisory.objects.get(pk=advisory.pk).withdrawn_at is None  # not before confirming
    page.get_by_role("button", name="Confirm the withdrawal").click()
    expect(page.get_by_text("Advisory withdrawn: it stays public with the notice.")).to_be_visible()
    expect(page.locator("#amend")).to_have_count(0)
    expect(page.locator("#withdraw")).to_have_count(0)

    # The world sees the notice and the history.
    page.get_by_role("link", name="Public page").click()
    notice = page.get_by_role("status").filter(has_text="Withdrawn")
    expect(notice).to_contain_text("Duplicate of STW-ADV-2025-0003.")
    expect(
        page.get_by_role("cell", name="Withdrawn: Duplicate of STW-ADV-2025-0003.")
    ).to_be_visible()
    page.get_by_role("link", name="Stalwart security advisories").click()
    expect(page.get_by_text("Withdrawn", exact=True)).to_be_visible()

    advisory = Advisory.objects.get(pk=advisory.pk)
    assert (advisory.title, advisory.cvss_vector) == ("SMTP smuggling in the inbound relay", HIGH)
    assert advisory.withdrawn_reason == "Duplicate of STW-ADV-2025-0003."
    assert [(r.number, r.kind) for r in advisory.revisions.all()] == [
        (2, "amended"),
        (3, "withdrawn"),
    ]
    osv = page.request.get(f"{live_server.url}/advisories/{advisory.identifier}.osv.json").json()
    assert osv["withdrawn"] == osv["modified"]
