"""A maintainer of Stalwart works Phase 1 of the incident checklist in the browser: the process's
assessment of exploitability and impact, and the phase's "Updates" notes, saved and kept.

SECURITY_PROCESS.md, Phase 1: "Updates — << Use this section to detail the report received,
initial assessment, and validation results >> ... Assessment of exploitability: Attack
complexity: [High/Medium/Low]; Prerequisites: [Authentication required/Network access/Specific
configuration/etc.]; User interaction required: [Yes/No]. Potential impact: Email data
confidentiality: [At risk/Not affected]; Server integrity ...; Service availability ...;
Estimated affected installations: [Number/Percentage]".
"""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from advisories.services import start_checklist
from projects.models import Project
from tests.browser.helpers import filed_stalwart_report, member_of, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHASE_1 = "Phase 1: Initial Assessment & Validation"
ASSESSMENT = {
    "Attack complexity (High / Medium / Low)": "Low",
    "Prerequisites (Authentication required / Network access / Specific configuration / etc.)": (
        "Network access"
    ),
    "User interaction required (Yes / No)": "No",
    "Email data confidentiality (At risk / Not affected)": "At risk",
    "Server integrity (At risk / Not affected)": "Not affected",
    "Service availability (At risk / Not affected)": "Not affected",
    "Estimated affected installations (Number / Percentage)": "~30%",
}
NOTE = "Reproduced on **0.13.2** with the default relay configuration."


@pytest.fixture
def stalwart():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def maintainer(stalwart):
    return member_of(stalwart, "maintainer@example.org")


@pytest.fixture
def filed(stalwart, maintainer):
    """A report filed by a reporter, its checklist started by the maintainer."""
    report = filed_stalwart_report(stalwart)
    start_checklist(report=report, by=maintainer)
    return report


def test_maintainer_fills_the_phase_1_assessment_and_its_notes(
    page, live_server, filed, maintainer
):
    sign_in(page, live_server, maintainer)
    page.goto(f"/reports/{filed.tracking_id}/")
    page.get_by_role("link", name="Open the checklist").click()
    expect(page.get_by_role("heading", name="Incident checklist")).to_be_visible()
    expect(page.get_by_text("0 of 71 done.")).to_be_visible()

    phase = page.get_by_role("group", name=PHASE_1)
    for label, value in ASSESSMENT.items():
        phase.get_by_label(label, exact=True).fill(value)
    notes = phase.get_by_label("Updates", exact=True)
    # The phase's own guidance, then the Markdown hint every Markdown field carries.
    expect(notes).to_have_accessible_description(
        "Use this section to detail the report received, initial assessment, and validation "
        "results Markdown: **bold**, `code`, ```fenced blocks```, [links](https://…); HTML is "
        "removed."
    )
    notes.fill(NOTE)
    page.get_by_role("button", name="Save the checklist").click()

    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(page.get_by_text("7 of 71 done.")).to_be_visible()
    phase = page.get_by_role("group", name=PHASE_1)
    for label, value in ASSESSMENT.items():
        expect(phase.get_by_label(label, exact=True)).to_have_value(value)
    expect(phase.get_by_label("Updates", exact=True)).to_have_value(NOTE)
    saved = phase.get_by_role("figure", name=f"Saved updates of {PHASE_1}")
    expect(saved.locator("strong")).to_have_text("0.13.2")  # rendered from markdown

    # Kept: another visit shows the same.
    page.reload()
    phase = page.get_by_role("group", name=PHASE_1)
    expect(phase.get_by_label("Attack complexity (High / Medium / Low)")).to_have_value("Low")
    expect(phase.get_by_label("Updates", exact=True)).to_have_value(NOTE)
    items = {i.label: i.value for i in filed.checklist_items.filter(phase=PHASE_1)}
    assert {label: items[label] for label in ASSESSMENT} == ASSESSMENT
    prompt = (
        "Use this section to detail the report received, initial assessment, and validation results"
    )
    assert items[prompt] == NOTE
