"""Stalwart's incident checklist says what its SECURITY_PROCESS.md says: Phase 1's assessment of
exploitability and impact, every phase's tasks and summary lines, and a notes box per phase (the
process's "Updates"), saved with the checklist and kept in the audit trail.

The process's text is quoted below; the seed (advisories/seeds/stalwart-checklist.toml) and what
a report's checklist shows are held to it.
"""

import datetime as dt
import io
import tomllib

import pytest
import time_machine
from django.core.management import call_command

import advisories
from advisories import services as advisory_services
from advisories.models import ChecklistItem, ChecklistTemplate, Disclosure
from projects.models import Membership, Project
from reports import services
from reports.models import ReportEvent
from tests.factories import MembershipFactory
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
SEED_FILE = advisories.services.SEED_DIR / "stalwart-checklist.toml"
PHASE_1 = "Phase 1: Initial Assessment & Validation"

# SECURITY_PROCESS.md, Phase 1, "Updates" (example):
#   Assessment of exploitability:
#   - Attack complexity: [High/Medium/Low]
#   - Prerequisites: [Authentication required/Network access/Specific configuration/etc.]
#   - User interaction required: [Yes/No]
#   Potential impact:
#   - Email data confidentiality: [At risk/Not affected]
#   - Server integrity: [At risk/Not affected]
#   - Service availability: [At risk/Not affected]
#   - Estimated affected installations: [Number/Percentage]
ASSESSMENT = [
    ("Attack complexity", "High/Medium/Low"),
    ("Prerequisites", "Authentication required/Network access/Specific configuration/etc."),
    ("User interaction required", "Yes/No"),
    ("Email data confidentiality", "At risk/Not affected"),
    ("Server integrity", "At risk/Not affected"),
    ("Service availability", "At risk/Not affected"),
    ("Estimated affected installations", "Number/Percentage"),
]
# Each phase's "Updates" prompt ("<< ... >>"); the Post-Incident Review has no "Updates".
UPDATES = {
    PHASE_1: "Use this section to detail the report received, initial assessment, and validation "
    "results",
    "Phase 2: Immediate Response & Mitigation": "Document immediate actions taken and mitigation "
    "strategies",
    "Phase 3: Impact Assessment & User Analysis": "Analysis of potential impact on the Stalwart "
    "deployments",
    "Phase 4: Communication & Release": "Communication strategy and release timeline",
}
# Phase 4, Release execution: "Submit CVE request if warranted (CVSS ≥ 4.0)".
CVE_TASK = "Submit CVE request if warranted (CVSS ≥ 4.0)"
# Phase 3: "Analysis Notes — Document your impact assessment process and findings".
ANALYSIS_NOTES = "Analysis notes (document your impact assessment process and findings)"


def shipped():
    with SEED_FILE.open("rb") as handle:
        return tomllib.load(handle)


def label(name, hint):
    return f"{name} ({hint.replace('/', ' / ')})"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stalwart(db):
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def member(stalwart):
    return MembershipFactory(project=stalwart, role=Membership.Role.MAINTAINER).user


@pytest.fixture
def report(stalwart, clock, reporter):
    return services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={
            "title": "SMTP smuggling in the relay",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
            "impact": "Spoofed mail from any local sender.",
        },
    )


def signed_in(user):
    client = Client()
    client.sign_in(user)
    return client


def checklist_url(report):
    return f"/reports/{report.tracking_id}/checklist/"


def items_of(report, phase=None):
    items = report.checklist_items.order_by("order")
    return list(items.filter(phase=phase) if phase else items)


def save(client, report, values):
    """Post the whole checklist form as the page would, with `values` by item label."""
    data = {}
    for item in items_of(report):
        value = values.get(item.label, item.value)
        if item.kind == ChecklistItem.Kind.TASK:
            if values.get(item.label, item.done):
                data[f"item_{item.pk}"] = "on"
        else:
            data[f"item_{item.pk}"] = value
    return client.post(checklist_url(report), data)


# --- The seed says what the process says ----------------------------------------------------------


def test_phase_1_asks_for_the_assessment_as_the_process_lists_it(stalwart):
    phases = {phase["title"]: phase for phase in shipped()["phases"]}
    fields = phases[PHASE_1]["fields"]
    assert fields[: len(ASSESSMENT)] == [label(name, hint) for name, hint in ASSESSMENT]
    # Then the "Assessment Summary" lines, as before.
    assert fields[len(ASSESSMENT)] == "Severity level (Critical / High / Medium / Low)"
    template = ChecklistTemplate.objects.get(project=stalwart)
    assert template.phases == shipped()["phases"]


def test_the_rest_of_the_seed_matches_the_process_text(stalwart):
    phases = {phase["title"]: phase for phase in shipped()["phases"]}
    assert {title: phase.get("updates") for title, phase in phases.items()} == {
        **UPDATES,
        "Post-Incident Review": None,
    }
    assert CVE_TASK in phases["Phase 4: Communication & Release"]["tasks"]
    assert not any(">=" in task for phase in phases.values() for task in phase["tasks"])
    assert phases["Phase 3: Impact Assessment & User Analysis"]["fields"][0] == ANALYSIS_NOTES


# --- Filling Phase 1's assessment and writing a phase's notes -----------------------------------


def test_phase_1_assessment_and_notes_are_saved_with_the_checklist(report, member, clock):
    client = signed_in(member)
    client.post(f"/reports/{report.tracking_id}/checklist/start/")
    page = client.get(checklist_url(report)).content.decode()
    for name, hint in ASSESSMENT:
        assert f">{label(name, hint)}</label>" in page
    assert page.count(">Updates</label>") == 5  # one notes box per phase
    assert UPDATES[PHASE_1] in page

    notes = items_of(report, PHASE_1)[0]
    assert (notes.kind, notes.label) == (ChecklistItem.Kind.NOTES, UPDATES[PHASE_1])
    clock.move_to(T0 + dt.timedelta(hours=2))
    note = (
        "Reproduced on **0.13.2**; see [the PR](https://example.org/pr/1).\n\n"
        "<script>alert(1)</script> [x](javascript:alert(2))"
    )
    response = save(
        client,
        report,
        {
            label(*ASSESSMENT[0]): "Low",
            label(*ASSESSMENT[1]): "Network access",
            label(*ASSESSMENT[4]): "At risk",
            UPDATES[PHASE_1]: note,
        },
    )
    assert response.status_code == 302

    values = {item.label: item.value for item in items_of(report, PHASE_1)}
    assert values[label(*ASSESSMENT[0])] == "Low"
    assert values[label(*ASSESSMENT[1])] == "Network access"
    assert values[label(*ASSESSMENT[4])] == "At risk"
    assert values[UPDATES[PHASE_1]] == note
    notes.refresh_from_db()
    assert (notes.done, notes.updated_by, notes.updated_at) == (
        False,
        member,
        T0 + dt.timedelta(hours=2),
    )
    # Three fields are done; notes count in no progress.
    disclosure = Disclosure.objects.get(pk=report.pk)
    assert (disclosure.checklist_done, disclosure.checklist_total) == (3, 71)
    event = ReportEvent.objects.filter(report=report).last()
    assert (event.kind, event.actor, event.public, event.message) == (
        ReportEvent.Kind.DISCLOSURE,
        member,
        False,
        f"Checklist: 3 item(s) updated; notes of {PHASE_1} updated.",
    )

    page = client.get(checklist_url(report)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the text area holds the text ...
    start = page.index("Saved updates of Phase 1")
    shown = page[start : page.index("</figure>", start)]
    assert "Reproduced on <strong>0.13.2</strong>" in shown  # ... shown rendered ...
    assert '<a href="https://example.org/pr/1" rel="nofollow noopener noreferrer">' in shown
    assert "<script>alert" not in page  # ... and sanitized
    assert "javascript:" not in shown
    assert 'value="Low"' in page

    # Only the notes change: the event says so.
    save(client, report, {UPDATES[PHASE_1]: "Fixed in 0.13.3."})
    assert ReportEvent.objects.filter(report=report).last().message == (
        f"Checklist: notes of {PHASE_1} updated."
    )


def test_the_reporter_side_cannot_write_notes(report, member, reporter):
    signed_in(member).post(f"/reports/{report.tracking_id}/checklist/start/")
    notes = items_of(report, PHASE_1)[0]
    for user in (reporter,):
        response = signed_in(user).post(checklist_url(report), {f"item_{notes.pk}": "hi"})
        assert response.status_code == 403
    notes.refresh_from_db()
    assert notes.value == ""


# --- The shipped template and the started checklists ---------------------------------------------


def previous_shipment(phases):
    """The phases as this platform shipped them before: no "updates", no Phase 1 assessment, no
    Phase 3 analysis notes, ">=" for "≥".
    """
    old = []
    for phase in phases:
        fields = [
            f
            for f in phase["fields"]
            if f != ANALYSIS_NOTES and f.split(" (")[0] not in dict(ASSESSMENT)
        ]
        tasks = [task.replace("≥", ">=") for task in phase["tasks"]]
        old.append({"title": phase["title"], "tasks": tasks, "fields": fields})
    return old


def test_seeding_updates_a_template_nobody_customised(stalwart, member, report, clock):
    """The shipped template changed; an instance seeded before holds the old one. Unless the
    project customised it, seed_projects brings it up to date; checklists started on reports
    are copies and stay as they were.
    """
    old = previous_shipment(shipped()["phases"])
    assert advisory_services.checklist_fingerprint(old) in shipped()["replaces"]
    ChecklistTemplate.objects.filter(project=stalwart).update(phases=old)
    advisory_services.start_checklist(report=report, by=member)
    started = [(i.kind, i.label) for i in items_of(report)]
    assert len(started) == 63 + 5

    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert "updated stalwart incident checklist (not customised) to this version" in out.getvalue()
    assert ChecklistTemplate.objects.get(project=stalwart).phases == shipped()["phases"]
    assert [(i.kind, i.label) for i in items_of(report)] == started

    out = io.StringIO()
    call_command("seed_projects", stdout=out)  # idempotent
    assert "nothing changed" in out.getvalue()


def test_seeding_leaves_a_customised_template_alone(stalwart):
    customised = previous_shipment(shipped()["phases"])
    customised[0]["tasks"].append("Call the on-duty maintainer")
    ChecklistTemplate.objects.filter(project=stalwart).update(phases=customised)
    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert "incident checklist" not in out.getvalue()
    assert ChecklistTemplate.objects.get(project=stalwart).phases == customised
