"""Incident response and disclosure, worked through the URLs (issue: checklist, disclosure date,
advisory with reporter review, publication).

- `seed_projects` ships Stalwart's incident checklist (SECURITY_PROCESS.md) and nothing else.
- The checklist is copied onto a report by a member and ticked through its page; progress is kept
  on the report's Disclosure for the report page and the queue.
- Disclosure dates follow the policy of the report's revision (Stalwart: 90 days after the
  report, earlier if actively exploited; TeamMail: 7 days after the fix release; mailtri-router:
  no rule); proposals are answered by the reporter; every change is a ReportEvent.
- The advisory is drafted from the triaged report, shared with the reporter, approved, published.

Time is frozen at T0 (all seed policies are in force then). The cast of tests/conftest.py is
used with `project` = the seeded Stalwart.
"""

import datetime as dt
import io
import re
import tomllib
from pathlib import Path

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.management import call_command
from django.utils.html import escape

import advisories
from advisories import publication
from advisories.models import (
    Advisory,
    ChecklistItem,
    ChecklistTemplate,
    Credit,
    Disclosure,
    DisclosureProposal,
)
from advisories.services import draft_advisory, respond_to_fix, share_fix, update_advisory
from projects.models import Membership, Project
from reports import services
from reports.models import CreditPreference, Report, ReportEvent, State
from tests.factories import MembershipFactory
from tests.reports.conftest import share
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 critical
SEED_FILE = Path(advisories.__file__).resolve().parent / "seeds" / "stalwart-checklist.toml"

# Stalwart's SECURITY_PROCESS.md checklist: (phase, number of tasks, number of fields). Phase 1's
# fields: its 7 lines of "Assessment of exploitability" and "Potential impact", then the 7 of its
# "Assessment Summary"; Phase 3's: "Analysis Notes", then the 5 of its "Impact Summary".
STALWART_PHASES = [
    ("Phase 1: Initial Assessment & Validation", 6, 14),
    ("Phase 2: Immediate Response & Mitigation", 7, 4),
    ("Phase 3: Impact Assessment & User Analysis", 6, 6),
    ("Phase 4: Communication & Release", 19, 5),
    ("Post-Incident Review", 0, 4),
]
# Progress counts tasks and fields (71); each phase also opens with its notes (its "Updates"),
# which are kept but never "done".
CHECKLIST_TOTAL = sum(tasks + fields for _, tasks, fields in STALWART_PHASES)  # 71


def progress_cell(done):
    """The queue's checklist cell (hidden on narrow screens) reading `done` of the total."""
    return f'<td class="d-none d-lg-table-cell">{done}/{CHECKLIST_TOTAL}</td>'


CHECKLIST_ITEMS = CHECKLIST_TOTAL + len(STALWART_PHASES)  # 76

REPORT_FIELDS = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x", "0.12.x", "other/unknown"],
    "affected_components": "smtp-inbound",
    "description": "The relay accepts a bare LF dot LF as the end of DATA.",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


@pytest.fixture
def project(seeded):
    """The cast's project is the seeded Stalwart (overrides tests/conftest.py)."""
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def teammail(seeded):
    return Project.objects.get(slug="teammail")


@pytest.fixture
def mailtri(seeded):
    return Project.objects.get(slug="mailtri-router")


def file(project, reporter, **fields):
    return services.file_report(
        project=project, reporter=reporter, fields={**REPORT_FIELDS, **fields}
    )


@pytest.fixture
def report(project, clock, reporter, collaborator, maintainer, triager, project_admin):
    """A Stalwart report filed at T0, shared with the collaborator."""
    filed = file(project, reporter)
    share(filed, by=reporter, with_user=collaborator)
    return fresh(filed)


def member_of(project, user, role=Membership.Role.MAINTAINER):
    MembershipFactory(project=project, user=user, role=role)
    return user


@pytest.fixture
def teammail_report(teammail, clock, reporter, maintainer, triager):
    member_of(teammail, maintainer)
    member_of(teammail, triager, Membership.Role.TRIAGER)
    return fresh(file(teammail, reporter, affected_versions=[]))


@pytest.fixture
def mailtri_report(mailtri, clock, reporter, maintainer):
    member_of(mailtri, maintainer)
    return fresh(file(mailtri, reporter, affected_versions=[]))


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def client_for(user):
    client = Client()
    if user is not None:
        client.sign_in(user)
    return client


def errors(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def act(report, name, by, **options):
    return services.transition(report=fresh(report), by=by, name=name, **options)


def triage(report, by):
    return act(report, "triage", by, severity="high", message="Confirmed: spoofing works.")


def fixed(report, by):
    triage(report, by)
    return act(report, "mark_fixed", by, message="Fixed in the next release.")


def disclosure_events(report):
    return list(
        ReportEvent.objects.filter(report=report, kind=ReportEvent.Kind.DISCLOSURE)
        .order_by("id")
        .values_list("actor_id", "public", "message")
    )


def midnight(day):
    return dt.datetime.combine(day, dt.time(), dt.UTC)


# --- The seeded checklist template ----------------------------------------------------------------


def test_seed_creates_stalwart_checklist_template_once(db):
    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert "created stalwart incident checklist" in out.getvalue()
    (template,) = ChecklistTemplate.objects.select_related("project")
    assert template.project.slug == "stalwart"
    counts = [(p["title"], len(p["tasks"]), len(p["fields"])) for p in template.phases]
    assert counts == STALWART_PHASES
    with SEED_FILE.open("rb") as handle:
        assert template.phases == tomllib.load(handle)["phases"]

    # Idempotent, and a template edited by the project since is kept as it is.
    edited = [
        *template.phases[:4],
        {"title": "Retrospective", "tasks": ["Blog post"], "fields": []},
    ]
    ChecklistTemplate.objects.filter(pk=template.pk).update(phases=edited)
    before = ChecklistTemplate.objects.get().updated_at
    out = io.StringIO()
    call_command("seed_projects", stdout=out)
    assert "incident checklist" not in out.getvalue()
    (again,) = ChecklistTemplate.objects.all()
    assert (again.pk, again.phases, again.updated_at) == (template.pk, edited, before)


def test_seed_creates_no_checklist_for_teammail_or_mailtri(seeded):
    assert not ChecklistTemplate.objects.filter(
        project__slug__in=["teammail", "mailtri-router"]
    ).exists()


# --- Checklist: who may start and work it --------------------------------------------------------


def checklist_url(report):
    return f"/reports/{report.tracking_id}/checklist/"


def start_url(report):
    """Where the "Start the incident checklist" buttons post (nothing but the CSRF token)."""
    return f"/reports/{report.tracking_id}/checklist/start/"


def disclosure(report):
    return Disclosure.objects.get(pk=report.pk)


def progress(report):
    found = disclosure(report)
    return found.checklist_done, found.checklist_total


# Refused and hidden actions change nothing, so one report serves the whole cast; the allowed
# ones get a report each.
REFUSED = {
    "anonymous": 302,
    "stranger": 404,
    "other_member": 404,
    "reporter": 403,
    "collaborator": 403,
}
MEMBERS = ("triager", "maintainer", "project_admin", "superuser")


def assert_refused(response, who):
    assert response.status_code == REFUSED[who], who
    if who == "anonymous":
        assert response.url.startswith("/accounts/login/?next=")


def test_only_members_start_the_checklist(cast, report, project, reporter):
    for who in REFUSED:
        assert_refused(client_for(cast[who]).post(start_url(report)), who)
    report.refresh_from_db()
    assert not report.checklist_items.exists()
    assert progress(report) == (0, 0)
    assert not disclosure_events(report)

    for who in MEMBERS:
        filed = file(project, reporter)
        response = client_for(cast[who]).post(start_url(filed))
        assert (response.status_code, response.url) == (302, checklist_url(filed)), who
        filed = fresh(filed)
        assert filed.checklist_items.count() == CHECKLIST_ITEMS
        assert progress(filed) == (0, CHECKLIST_TOTAL)
        assert disclosure_events(filed) == [(cast[who].pk, False, "Incident checklist started.")]


def test_only_members_open_the_checklist(cast, report, triager):
    client_for(triager).post(start_url(report))
    for who in REFUSED:
        assert_refused(client_for(cast[who]).get(checklist_url(report)), who)
    for who in MEMBERS:
        response = client_for(cast[who]).get(checklist_url(report))
        assert response.status_code == 200, who
        body = response.content.decode()
        assert f"0 of {CHECKLIST_TOTAL} done." in body
        for title, _, _ in STALWART_PHASES:
            assert escape(title) in body
        assert "Reproduce the vulnerability in test environment" in body


def test_only_members_tick_the_checklist(cast, report, triager):
    client_for(triager).post(start_url(report))
    task = report.checklist_items.filter(kind=ChecklistItem.Kind.TASK).first()
    for who in REFUSED:
        assert_refused(
            client_for(cast[who]).post(checklist_url(report), {f"item_{task.pk}": "on"}), who
        )
    assert progress(report)[0] == 0
    assert not report.checklist_items.filter(done=True).exists()


def test_checklist_copies_the_template_in_order(report, triager):
    client_for(triager).post(start_url(report))
    items = list(report.checklist_items.order_by("order"))
    assert [i.order for i in items] == list(range(CHECKLIST_ITEMS))
    per_phase = {}
    for item in items:
        if item.kind == ChecklistItem.Kind.NOTES:
            assert item.phase not in per_phase, "a phase opens with its notes"
            per_phase[item.phase] = (0, 0)
            continue
        tasks, fields = per_phase[item.phase]
        per_phase[item.phase] = (
            (tasks + 1, fields) if item.kind == ChecklistItem.Kind.TASK else (tasks, fields + 1)
        )
    assert [(phase, *counts) for phase, counts in per_phase.items()] == STALWART_PHASES
    assert (items[0].kind, items[0].label) == (
        "notes",
        "Use this section to detail the report received, initial assessment, and validation "
        "results",
    )
    assert (items[1].kind, items[1].label) == (
        "task",
        "Reproduce the vulnerability in test environment",
    )
    assert (items[-1].kind, items[-1].label) == ("field", "Process improvements")
    assert not any(i.done or i.value for i in items)

    # Starting again changes nothing; later template edits don't move a started checklist.
    ChecklistTemplate.objects.filter(project=report.project).update(phases=[])
    response = client_for(triager).post(start_url(report))
    assert response.status_code == 302
    assert list(report.checklist_items.order_by("order")) == items


def report_url(report):
    return f"/reports/{report.tracking_id}/"


def start_button_form(body):
    """(action, fields) of the form around the "Start the incident checklist" button: what a
    browser posts when the button is clicked (less the CSRF token, which Client does not check).
    """
    (attrs, inner), *others = [
        (attrs, inner)
        for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", body, re.S)
        if re.search(r"<button\b[^>]*>\s*Start the incident checklist\s*</button>", inner)
    ]
    assert not others
    assert 'method="post"' in attrs
    named = r'<(?:input|button)\b[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"'
    fields = dict(re.findall(named, inner))
    fields.pop("csrfmiddlewaretoken")
    return re.search(r'action="([^"]+)"', attrs).group(1), fields


@pytest.mark.parametrize("page_of", [report_url, checklist_url], ids=["report", "checklist"])
def test_the_start_button_starts_the_checklist(report, triager, page_of):
    """Regression: the report page linked to the checklist page, whose form never sent `start`,
    so no one could start a checklist from the site. Both pages post what the view waits for.
    """
    client = client_for(triager)
    action, fields = start_button_form(client.get(page_of(report)).content.decode())
    response = client.post(action, fields)
    assert (response.status_code, response.url) == (302, checklist_url(report))
    assert progress(report) == (0, CHECKLIST_TOTAL)

    body = client.get(checklist_url(report)).content.decode()
    assert f"0 of {CHECKLIST_TOTAL} done." in body
    assert "Start the incident checklist" not in body
    body = client.get(report_url(report)).content.decode()
    assert f"Checklist: 0 of {CHECKLIST_TOTAL} done." in body
    assert "Start the incident checklist" not in body


def tick(report, by, *, tasks=(), fields=None):
    """Post the checklist form: `tasks` are the indexes (among tasks) ticked, `fields` maps field
    indexes (among fields) to values; everything else is posted unticked or empty.
    """
    items = list(report.checklist_items.order_by("order"))
    all_tasks = [i for i in items if i.kind == ChecklistItem.Kind.TASK]
    all_fields = [i for i in items if i.kind == ChecklistItem.Kind.FIELD]
    data = {f"item_{all_tasks[n].pk}": "on" for n in tasks}
    data |= {f"item_{f.pk}": "" for f in all_fields}
    data |= {f"item_{all_fields[n].pk}": value for n, value in (fields or {}).items()}
    response = client_for(by).post(checklist_url(report), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == checklist_url(report)
    return fresh(report)


def test_ticking_and_filling_updates_progress_on_report_page_and_queue(report, triager, maintainer):
    client_for(triager).post(start_url(report))
    updated = tick(
        report, triager, tasks=(0, 1, 37), fields={0: "High", 1: "   ", 32: "More tests"}
    )
    # Three tasks and two filled fields (whitespace is not a value).
    assert progress(updated) == (5, CHECKLIST_TOTAL)
    assert disclosure_events(report)[-1] == (triager.pk, False, "Checklist: 5 item(s) updated.")
    item = report.checklist_items.get(kind="field", order=7)  # after Phase 1's notes and tasks
    assert item.label == "Attack complexity (High / Medium / Low)"
    assert (item.done, item.value, item.updated_by, item.updated_at) == (True, "High", triager, T0)

    for user in (triager, maintainer):
        client = client_for(user)
        page = client.get(f"/reports/{report.tracking_id}/").content.decode()
        assert f"Checklist: 5 of {CHECKLIST_TOTAL} done." in page
        queue = client.get("/reports/").content.decode()
        assert progress_cell(5) in queue
    assert f"5 of {CHECKLIST_TOTAL} done." in client.get(checklist_url(report)).content.decode()

    # Unticking a task and clearing a field count down again.
    updated = tick(report, maintainer, tasks=(0, 37), fields={0: "High"})
    assert progress(updated) == (3, CHECKLIST_TOTAL)
    assert disclosure_events(report)[-1] == (maintainer.pk, False, "Checklist: 2 item(s) updated.")
    assert progress_cell(3) in client_for(maintainer).get("/reports/").content.decode()

    # Saving without a change writes no event.
    events = len(disclosure_events(report))
    tick(report, maintainer, tasks=(0, 37), fields={0: "High"})
    assert len(disclosure_events(report)) == events


def test_the_queue_reads_checklist_progress_once_per_page(
    project, reporter, triager, django_assert_num_queries
):
    def started(count):
        for n in range(count):
            filed = file(project, reporter, title=f"Report {n}")
            client_for(triager).post(start_url(filed))
            tick(filed, triager, tasks=(0,))

    started(2)
    client = client_for(triager)
    # session, user with the user's roles and their projects (the filter's; one query), page
    # of reports (+project, assignee, disclosure: the checklist progress comes with the rows;
    # the queue reads no shared ids), the queue's open and overdue counts per project (kept a
    # while; cleared to count them, which drops the cached session too, so it is read from its
    # row)
    cache.clear()
    with django_assert_num_queries(4):
        assert client.get("/reports/").content.decode().count(progress_cell(1)) == 2
    started(4)
    cache.clear()
    with django_assert_num_queries(4):
        assert client.get("/reports/").content.decode().count(progress_cell(1)) == 6


def test_the_reporter_side_never_sees_checklist_progress(report, triager, reporter, collaborator):
    """The checklist is internal to the members: its progress is no business of the reporter."""
    client_for(triager).post(start_url(report))
    tick(report, triager, tasks=(0, 1), fields={0: "High"})
    for user in (reporter, collaborator):
        client = client_for(user)
        page = client.get(f"/reports/{report.tracking_id}/").content.decode()
        assert "Checklist:" not in page
        assert checklist_url(report) not in page
        queue = client.get("/reports/").content.decode()
        assert report.tracking_id in queue
        assert f"3/{CHECKLIST_TOTAL}" not in queue, "the queue shows internal checklist progress"


def test_a_project_without_template_gives_a_clear_error(teammail_report, maintainer):
    response = client_for(maintainer).post(start_url(teammail_report))
    assert response.status_code == 302
    assert response.url == f"/reports/{teammail_report.tracking_id}/"
    assert errors(response) == ["TeamMail has no incident checklist template."]
    assert not teammail_report.checklist_items.exists()
    assert not disclosure_events(teammail_report)


# --- Disclosure date ------------------------------------------------------------------------------


def propose(report, by, date, reason="The fix ships in early January.", **extra):
    data = {"date": f"{date:%Y-%m-%d}", "reason": reason, **extra}
    return client_for(by).post(f"/reports/{report.tracking_id}/disclosure/", data)


def respond(report, by, proposal, agree, response=""):
    data = {"agree": "yes" if agree else "no", "response": response}
    url = f"/reports/{report.tracking_id}/disclosure/{proposal.pk}/respond/"
    return client_for(by).post(url, data)


def test_stalwart_disclosure_is_due_90_days_after_the_report(report, reporter, maintainer):
    assert disclosure(report).due == T0 + 90 * DAY
    for user in (reporter, maintainer):
        page = client_for(user).get(f"/reports/{report.tracking_id}/").content.decode()
        assert "Planned disclosure: <strong>2027-03-01</strong>" in page


def test_waiting_for_the_reporter_does_not_move_the_disclosure_date(
    report, clock, reporter, triager
):
    """ "Typical timeline: 90 days from report to public disclosure" (Stalwart): counted from the
    report, not from the SLA clocks, which a request for information pauses. The date stays on
    the page while the report waits.
    """
    clock.move_to(T0 + 2 * DAY)
    services.transition(
        report=fresh(report), by=triager, name="request_info", message="Which version?"
    )
    page = client_for(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "Planned disclosure: <strong>2027-03-01</strong>" in page
    clock.move_to(T0 + 12 * DAY)
    services.add_comment(
        report=fresh(report), by=reporter, body="0.13.2.", internal=False, by_member=False
    )
    assert fresh(report).paused_for == 10 * DAY  # the SLA clocks moved ...
    assert disclosure(report).due == T0 + 90 * DAY  # ... the disclosure date did not


def test_a_closed_report_shows_no_planned_disclosure(report, maintainer, reporter):
    services.transition(
        report=fresh(report),
        by=maintainer,
        name="close",
        resolution=State.INFORMATIVE,
        message="Works as documented.",
    )
    page = client_for(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "Planned disclosure" not in page
    assert "No disclosure is planned for a closed report." in page


def test_reporter_agrees_to_a_proposed_date(report, reporter, maintainer):
    day = dt.date(2027, 1, 15)
    response = propose(report, maintainer, day)
    assert response.status_code == 302
    assert not errors(response)
    proposal = DisclosureProposal.objects.get(report=report)
    assert (proposal.status, proposal.proposed_date, proposal.proposed_by) == (
        DisclosureProposal.Status.PENDING,
        day,
        maintainer,
    )
    assert disclosure(report).due == T0 + 90 * DAY  # unchanged until the reporter agrees
    assert disclosure_events(report) == [
        (maintainer.pk, True, "Disclosure proposed for 2027-01-15: The fix ships in early January.")
    ]
    page = client_for(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "Proposed 2027-01-15: The fix ships in early January." in page
    assert f"/disclosure/{proposal.pk}/respond/" in page  # the reporter may answer

    response = respond(report, reporter, proposal, agree=True, response="Fine by me.")
    assert response.status_code == 302
    assert not errors(response)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.responded_by, proposal.responded_at) == (
        DisclosureProposal.Status.AGREED,
        reporter,
        T0,
    )
    updated = fresh(report)
    assert disclosure(updated).agreed_on == day
    assert disclosure(updated).due == dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
    assert disclosure_events(report)[-1] == (
        reporter.pk,
        True,
        "Reporter agreed to disclosure on 2027-01-15. Fine by me.",
    )
    page = client_for(maintainer).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "Planned disclosure: <strong>2027-01-15</strong> (agreed)" in page

    # An answered proposal cannot be answered again.
    response = respond(report, reporter, proposal, agree=False, response="Changed my mind.")
    assert errors(response) == ["This proposal has already been answered or replaced."]
    assert disclosure(report).due == dt.datetime(2027, 1, 15, tzinfo=dt.UTC)


def test_reporter_objects_with_a_reason_only(report, reporter, maintainer):
    propose(report, maintainer, dt.date(2027, 1, 15))
    proposal = DisclosureProposal.objects.get(report=report)
    events = len(disclosure_events(report))

    response = respond(report, reporter, proposal, agree=False, response="  ")
    assert errors(response) == ["Say why you object, so the maintainers can propose another date."]
    proposal.refresh_from_db()
    assert proposal.status == DisclosureProposal.Status.PENDING
    assert len(disclosure_events(report)) == events

    response = respond(report, reporter, proposal, agree=False, response="Too early for distros.")
    assert not errors(response)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.response) == (
        DisclosureProposal.Status.OBJECTED,
        "Too early for distros.",
    )
    updated = fresh(report)
    assert (disclosure(updated).agreed_on, disclosure(updated).due) == (None, T0 + 90 * DAY)
    assert disclosure_events(report)[-1] == (
        reporter.pk,
        True,
        "Reporter objected to disclosure on 2027-01-15. Too early for distros.",
    )


def test_a_new_proposal_supersedes_the_pending_one(report, reporter, maintainer):
    propose(report, maintainer, dt.date(2027, 1, 15))
    first = DisclosureProposal.objects.get(report=report)
    propose(report, maintainer, dt.date(2027, 2, 1), reason="Distributions need two more weeks.")
    second = DisclosureProposal.objects.exclude(pk=first.pk).get(report=report)
    first.refresh_from_db()
    assert first.status == DisclosureProposal.Status.WITHDRAWN
    assert second.status == DisclosureProposal.Status.PENDING

    response = respond(report, reporter, first, agree=True)
    assert errors(response) == ["This proposal has already been answered or replaced."]
    assert disclosure(report).due == T0 + 90 * DAY

    respond(report, reporter, second, agree=True)
    assert disclosure(report).due == dt.datetime(2027, 2, 1, tzinfo=dt.UTC)


def test_actively_exploited_moves_stalwarts_date_at_once(report, maintainer):
    day = T0.date() + 3 * DAY
    response = propose(
        report, maintainer, day, reason="Exploited in the wild.", actively_exploited="on"
    )
    assert not errors(response)
    proposal = DisclosureProposal.objects.get(report=report)
    assert proposal.status == DisclosureProposal.Status.EXPLOITED
    updated = fresh(report)
    assert disclosure(updated).actively_exploited is True
    assert disclosure(updated).due == midnight(day)
    assert disclosure_events(report) == [
        (
            maintainer.pk,
            True,
            "Disclosure moved to 2026-12-04: actively exploited. Exploited in the wild.",
        )
    ]
    page = client_for(maintainer).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "actively exploited" in page
    assert "Planned disclosure: <strong>2026-12-04</strong>" in page


def test_actively_exploited_is_refused_under_teammails_policy(teammail_report, maintainer):
    response = propose(
        teammail_report,
        maintainer,
        T0.date() + 3 * DAY,
        reason="Exploited in the wild.",
        actively_exploited="on",
    )
    assert errors(response) == ["This policy does not allow early disclosure for exploitation."]
    assert not DisclosureProposal.objects.exists()
    updated = fresh(teammail_report)
    assert (disclosure(updated).actively_exploited, disclosure(updated).due) == (False, None)
    assert not disclosure_events(teammail_report)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"date": "2026-11-30", "reason": "Yesterday."},
            "The disclosure date cannot be in the past.",
        ),
        ({"date": "2027-01-15", "reason": ""}, "This field is required."),
        ({"date": "next week", "reason": "Soon."}, "Enter a valid date."),
    ],
)
def test_invalid_proposals_are_refused(report, maintainer, data, message):
    response = client_for(maintainer).post(f"/reports/{report.tracking_id}/disclosure/", data)
    assert response.status_code == 302
    assert errors(response) == [message]
    assert not DisclosureProposal.objects.exists()
    assert not disclosure_events(report)
    assert disclosure(report).due == T0 + 90 * DAY


def test_today_is_not_in_the_past(report, maintainer):
    assert not errors(propose(report, maintainer, T0.date()))
    assert DisclosureProposal.objects.get().proposed_date == T0.date()


def test_teammail_has_no_date_until_the_fix_release(teammail_report, maintainer, reporter):
    assert disclosure(teammail_report).due is None
    page = client_for(reporter).get(f"/reports/{teammail_report.tracking_id}/").content.decode()
    assert "No disclosure date yet: 7 days after the fixed release." in page

    url = f"/reports/{teammail_report.tracking_id}/fix-release/"
    response = client_for(maintainer).post(
        url, {"fix_version": "1.4.2", "released_on": "2026-12-10"}
    )
    assert response.status_code == 302
    updated = fresh(teammail_report)
    assert disclosure(updated).fix_released_on == dt.date(2026, 12, 10)
    assert disclosure(updated).due == dt.datetime(2026, 12, 17, tzinfo=dt.UTC)
    assert disclosure_events(teammail_report) == [
        (maintainer.pk, True, "Fix released in version 1.4.2 on 2026-12-10.")
    ]
    page = client_for(reporter).get(f"/reports/{teammail_report.tracking_id}/").content.decode()
    assert "Planned disclosure: <strong>2026-12-17</strong>" in page


def test_mailtri_router_has_no_disclosure_date(mailtri_report, maintainer):
    assert disclosure(mailtri_report).due is None
    url = f"/reports/{mailtri_report.tracking_id}/fix-release/"
    assert (
        client_for(maintainer)
        .post(url, {"fix_version": "1.4.2", "released_on": "2026-12-10"})
        .status_code
        == 302
    )
    assert disclosure(mailtri_report).due is None


def test_a_release_is_recorded_with_its_version_and_its_date_together(
    teammail_report, maintainer, reporter
):
    url = f"/reports/{teammail_report.tracking_id}/fix-release/"
    for data, error in (
        ({"released_on": "2026-12-10"}, "This field is required."),
        ({"fix_version": "1.4.2"}, "This field is required."),
        ({"fix_version": "v1.4.2 final", "released_on": "2026-12-10"}, "Not a version number"),
    ):
        response = client_for(maintainer).post(url, data)
        assert any(error in message for message in errors(response)), data
    assert (disclosure(teammail_report).fix_version, disclosure(teammail_report).due) == ("", None)
    assert not disclosure_events(teammail_report)
    with pytest.raises(services.ReportError, match="version number"):
        advisories.services.set_fix_release(
            report=teammail_report, by=maintainer, version="", released_on=dt.date(2026, 12, 10)
        )

    client_for(maintainer).post(url, {"fix_version": "1.4.2", "released_on": "2026-12-10"})
    assert disclosure(teammail_report).fix_version == "1.4.2"
    for user in (maintainer, reporter):
        page = client_for(user).get(f"/reports/{teammail_report.tracking_id}/").content.decode()
        assert "Fix released in version <strong>1.4.2</strong> on 2026-12-10." in page


def test_the_advisory_draft_starts_from_the_recorded_release(report, maintainer):
    services.transition(report=report, by=maintainer, name="triage", severity="high", message="Ok")
    advisories.services.set_fix_release(
        report=report, by=maintainer, version="0.13.4", released_on=dt.date(2026, 12, 10)
    )
    assert draft_advisory(report=fresh(report), by=maintainer).fixed_versions == ["0.13.4"]


def test_a_release_recorded_after_drafting_fills_an_empty_draft_only(
    report, maintainer, teammail_report
):
    for filed in (report, teammail_report):
        services.transition(report=filed, by=maintainer, name="triage", severity="low", message=".")
    draft = draft_advisory(report=fresh(report), by=maintainer)
    assert draft.fixed_versions == []
    advisories.services.set_fix_release(
        report=report, by=maintainer, version="0.13.4", released_on=dt.date(2026, 12, 10)
    )
    assert Advisory.objects.get(pk=draft.pk).fixed_versions == ["0.13.4"]
    edited = update_advisory(
        advisory=draft_advisory(report=fresh(teammail_report), by=maintainer),
        by=maintainer,
        fields={"fixed_versions": ["1.4.3"]},
    )
    advisories.services.set_fix_release(
        report=teammail_report, by=maintainer, version="1.4.2", released_on=dt.date(2026, 12, 10)
    )
    assert Advisory.objects.get(pk=edited.pk).fixed_versions == ["1.4.3"]


def test_only_maintainers_propose_or_record_the_release(cast, report):
    for who in (*REFUSED, "triager"):
        expected = REFUSED.get(who, 403)
        assert propose(report, cast[who], dt.date(2027, 1, 15)).status_code == expected, who
        url = f"/reports/{report.tracking_id}/fix-release/"
        response = client_for(cast[who]).post(
            url, {"fix_version": "1.4.2", "released_on": "2026-12-10"}
        )
        assert response.status_code == expected, who
    assert not DisclosureProposal.objects.exists()
    assert disclosure(report).fix_released_on is None
    assert not disclosure_events(report)


def test_only_the_reporter_responds(cast, report, maintainer):
    propose(report, maintainer, dt.date(2027, 1, 15))
    proposal = DisclosureProposal.objects.get()
    for who in ("anonymous", "stranger", "other_member", "collaborator", *MEMBERS):
        expected = REFUSED.get(who, 403)
        assert respond(report, cast[who], proposal, agree=True).status_code == expected, who
    proposal.refresh_from_db()
    assert proposal.status == DisclosureProposal.Status.PENDING
    assert disclosure(report).due == T0 + 90 * DAY


def test_respond_to_another_reports_proposal_is_404(project, report, reporter, maintainer):
    other = file(project, reporter, title="Another one")
    propose(other, maintainer, dt.date(2027, 1, 15))
    proposal = DisclosureProposal.objects.get(report=other)
    assert respond(report, reporter, proposal, agree=True).status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == DisclosureProposal.Status.PENDING


# --- Advisory: draft, review, publication ---------------------------------------------------------


def advisory_url(report, step=""):
    return f"/reports/{report.tracking_id}/advisory/{step + '/' if step else ''}"


def draft(report, by):
    return client_for(by).post(advisory_url(report))


def advisory_form(advisory, **changes):
    data = {
        "title": advisory.title,
        "summary": advisory.summary,
        "details": advisory.details,
        "affected_series": advisory.affected_series,
        "fixed_versions": "\n".join(advisory.fixed_versions),
        "workaround": advisory.workaround,
        "cwe": advisory.cwe,
        "ghsa_id": advisory.ghsa_id,
        "cve_id": advisory.cve_id,
        "references": "\n".join(advisory.references),
    }
    return data | changes


def edit(report, by, **changes):
    advisory = Advisory.objects.get(report=report)
    return client_for(by).post(advisory_url(report), advisory_form(advisory, **changes))


def scored(report, by):
    services.set_cvss_vector(report=report, by=by, vector=VECTOR)
    services.compute_cvss(report_id=report.pk)  # the task enqueued on commit
    return fresh(report)


def test_the_draft_button_shows_once_the_report_is_triaged(report, maintainer):
    page = client_for(maintainer).get(report_url(report)).content.decode()
    assert "Draft the advisory" not in page  # clicking it would only be refused
    triage(report, maintainer)
    page = client_for(maintainer).get(report_url(report)).content.decode()
    assert "Draft the advisory" in page


def test_the_advisory_is_drafted_once_the_report_is_triaged(report, maintainer):
    response = draft(report, maintainer)
    assert response.status_code == 302
    assert errors(response) == ["Draft the advisory once the report is triaged."]
    assert not Advisory.objects.exists()

    triage(report, maintainer)
    scored(report, maintainer)
    response = draft(report, maintainer)
    assert response.status_code == 302
    assert response.url == advisory_url(report)
    advisory = Advisory.objects.get(report=report)
    assert advisory.identifier == "STW-ADV-2026-0001"
    assert advisory.project == report.project
    assert advisory.state == Advisory.State.DRAFT
    assert (advisory.title, advisory.summary) == (REPORT_FIELDS["title"], REPORT_FIELDS["title"])
    assert advisory.details == REPORT_FIELDS["impact"]
    assert advisory.affected_series == ["0.13.x", "0.12.x"]  # the matrix's series only
    assert (advisory.cvss_vector, str(advisory.cvss_score), advisory.cvss_severity) == (
        VECTOR,
        "9.8",
        "Critical",
    )
    assert advisory.published_at is None
    # Credits follow the participants' own choices; this reporter has not chosen yet.
    assert not advisory.credits.exists()
    (credit,) = publication.credits_for(advisory)
    assert (credit.user, credit.type, credit.public_name) == (
        report.reporter,
        Credit.Type.FINDER,
        "Anonymous",
    )
    assert disclosure_events(report)[-1] == (
        maintainer.pk,
        False,
        "Advisory STW-ADV-2026-0001 drafted.",
    )

    page = client_for(maintainer).get(advisory_url(report)).content.decode()
    assert "STW-ADV-2026-0001</span>: SMTP smuggling in the relay" in page
    assert VECTOR in page

    # Drafting again returns the same advisory.
    assert draft_advisory(report=fresh(report), by=maintainer) == advisory
    assert Advisory.objects.count() == 1


def test_only_maintainers_draft(cast, report, maintainer):
    triage(report, maintainer)
    for who in (*REFUSED, "triager"):
        assert draft(report, cast[who]).status_code == REFUSED.get(who, 403), who
    assert not Advisory.objects.exists()


def test_the_reporter_side_sees_the_advisory_once_shared(
    report, reporter, collaborator, maintainer, triager, stranger
):
    triage(report, maintainer)
    assert client_for(maintainer).get(advisory_url(report)).status_code == 404  # none yet
    draft(report, maintainer)
    for user in (reporter, collaborator):
        assert client_for(user).get(advisory_url(report)).status_code == 404
        page = client_for(user).get(f"/reports/{report.tracking_id}/").content.decode()
        assert "STW-ADV-2026-0001" not in page
    assert client_for(stranger).get(advisory_url(report)).status_code == 404
    assert client_for(triager).get(advisory_url(report)).status_code == 200
    # Approving needs a shared advisory too.
    assert client_for(reporter).post(advisory_url(report, "approve")).status_code == 404

    # Only maintainers share.
    assert client_for(triager).post(advisory_url(report, "share")).status_code == 403
    assert client_for(reporter).post(advisory_url(report, "share")).status_code == 403
    assert Advisory.objects.get().state == Advisory.State.DRAFT
    response = client_for(maintainer).post(advisory_url(report, "share"))
    assert response.status_code == 302
    assert Advisory.objects.get().state == Advisory.State.IN_REVIEW
    assert disclosure_events(report)[-1] == (
        maintainer.pk,
        True,
        "Advisory STW-ADV-2026-0001 shared with the reporter for review.",
    )

    for user in (reporter, collaborator):
        response = client_for(user).get(advisory_url(report))
        assert response.status_code == 200
        assert "SMTP smuggling in the relay" in response.content.decode()
        page = client_for(user).get(f"/reports/{report.tracking_id}/").content.decode()
        assert "STW-ADV-2026-0001" in page
    assert "Approve the advisory" in client_for(reporter).get(advisory_url(report)).content.decode()
    # The reporter side neither edits nor publishes.
    assert edit(report, reporter, title="Mine now").status_code == 403
    assert client_for(reporter).post(advisory_url(report, "publish")).status_code == 403
    assert Advisory.objects.get().title == REPORT_FIELDS["title"]


def test_the_reporter_approves_and_collaborators_cannot(report, reporter, collaborator, maintainer):
    triage(report, maintainer)
    draft(report, maintainer)
    client_for(maintainer).post(advisory_url(report, "share"))
    assert client_for(collaborator).post(advisory_url(report, "approve")).status_code == 403
    assert client_for(maintainer).post(advisory_url(report, "approve")).status_code == 403
    assert Advisory.objects.get().reporter_approved_at is None

    response = client_for(reporter).post(advisory_url(report, "approve"))
    assert response.status_code == 302
    assert not errors(response)
    assert Advisory.objects.get().reporter_approved_at == T0
    assert disclosure_events(report)[-1] == (
        reporter.pk,
        True,
        "Reporter approved advisory STW-ADV-2026-0001.",
    )


def test_the_reporter_chooses_how_to_be_credited_on_the_report(report, reporter, maintainer):
    """Whether or not a draft was shared: the choice is the reporter's, on the report's page."""
    url = f"/reports/{report.tracking_id}/credit/"
    response = client_for(reporter).post(url, {"credit-display": "handle", "credit-handle": ""})
    assert errors(response) == ["Give the handle to credit, or choose another way."]
    client_for(reporter).post(url, {"credit-display": "handle", "credit-handle": " h4x "})
    (choice,) = CreditPreference.objects.all()
    assert (choice.user, choice.display, choice.handle) == (reporter, "handle", "h4x")
    page = client_for(reporter).get(f"/reports/{report.tracking_id}/").content.decode()
    assert 'value="h4x"' in page
    client_for(reporter).post(
        url, {"credit-display": "anonymous", "credit-name": "Ann Other", "credit-handle": "h4x"}
    )
    choice.refresh_from_db()
    assert (choice.display, choice.name, choice.handle) == ("anonymous", "", "")
    # The draft shows it as it will be published.
    triage(report, maintainer)
    draft(report, maintainer)
    (credit,) = publication.credits_for(Advisory.objects.get())
    assert credit.public_name == "Anonymous"


def make_teammail_advisory(report, maintainer):
    fixed(report, maintainer)
    draft(report, maintainer)
    response = edit(report, maintainer, fixed_versions="1.2.3")
    assert (response.status_code, errors(response)) == (302, [])
    return Advisory.objects.get(report=report)


def publish_post(report, by, **data):
    """Confirm publication on the publish page."""
    return client_for(by).post(advisory_url(report, "publish"), {"confirm": "on", **data})


def refusal(response):
    """The reasons the publish page gives for not publishing."""
    assert response.status_code == 400, response.status_code
    return response.content.decode()


def test_teammail_publishes_only_after_the_fix_review_the_release_and_the_approval(
    teammail_report, reporter, maintainer, clock
):
    """TeamMail: "We will propose a fix that we will review with you", "One week after the
    release we will disclose the vulnerability".
    """
    make_teammail_advisory(teammail_report, maintainer)
    body = refusal(publish_post(teammail_report, maintainer))
    assert "review the proposed fix and its schedule" in body
    assert "review the advisory: share it and wait for the approval" in body
    assert "record the release first" in body
    advisory = Advisory.objects.get()
    assert (advisory.state, advisory.published_at) == (Advisory.State.DRAFT, None)
    page = client_for(maintainer).get(advisory_url(teammail_report)).content.decode()
    assert "The policy requires the reporter's approval before publication" in page

    released = T0.date()
    review = share_fix(
        report=fresh(teammail_report),
        by=maintainer,
        fix_url="https://git.example.org/teammail/commit/1",
        release_on=released,
        announce_on=released + 7 * DAY,
    )
    respond_to_fix(review=review, by=reporter, approve=True)
    client_for(maintainer).post(advisory_url(teammail_report, "share"))
    client_for(reporter).post(advisory_url(teammail_report, "approve"))
    client_for(maintainer).post(
        f"/reports/{teammail_report.tracking_id}/fix-release/",
        {"fix_version": "1.4.2", "released_on": f"{released}"},
    )
    # Everything is agreed; the date is a week after the release.
    body = refusal(publish_post(teammail_report, maintainer))
    assert f"The disclosure date is {released + 7 * DAY:%Y-%m-%d}" in body
    clock.move_to(T0 + 7 * DAY)
    response = publish_post(teammail_report, maintainer)
    assert response.status_code == 302
    advisory = Advisory.objects.get()
    assert (advisory.state, advisory.published_at) == (Advisory.State.PUBLISHED, T0 + 7 * DAY)
    assert fresh(teammail_report).state == State.DISCLOSED


def test_a_draft_with_no_series_or_fixed_version_yet_can_be_saved(
    teammail_report, report, maintainer
):
    """Editing the text before the fix is released is the usual order of work; TeamMail's policy
    has no version matrix, so its advisories never have affected series.
    """
    triage(report, maintainer)
    triage(teammail_report, maintainer)
    for filed in (report, teammail_report):
        draft(filed, maintainer)
        response = edit(filed, maintainer, details="Better details.", fixed_versions="")
        assert response.status_code == 302
        assert not errors(response)
        advisory = Advisory.objects.get(report=filed)
        assert (advisory.details, advisory.fixed_versions) == ("Better details.", [])


@pytest.mark.parametrize("slug", ["stalwart", "teammail"])
def test_an_edit_after_approval_asks_for_approval_again(
    slug, report, teammail_report, reporter, maintainer
):
    filed = {"stalwart": report, "teammail": teammail_report}[slug]
    fixed(filed, maintainer)
    draft(filed, maintainer)
    response = edit(filed, maintainer, fixed_versions="0.13.4\n0.12.9")
    assert response.status_code == 302
    client_for(maintainer).post(advisory_url(filed, "share"))
    client_for(reporter).post(advisory_url(filed, "approve"))
    assert Advisory.objects.get(report=filed).reporter_approved_at == T0

    response = edit(filed, maintainer, summary="A shorter summary.")
    assert response.status_code == 302
    assert not errors(response)
    advisory = Advisory.objects.get(report=filed)
    assert (advisory.summary, advisory.reporter_approved_at) == ("A shorter summary.", None)
    assert disclosure_events(filed)[-1] == (
        maintainer.pk,
        True,
        f"Advisory {advisory.identifier} edited.",
    )
    assert "Approve the advisory" in client_for(reporter).get(advisory_url(filed)).content.decode()
    if slug == "teammail":
        body = refusal(publish_post(filed, maintainer))
        assert "review the advisory: share it and wait for the approval" in body
        assert Advisory.objects.get(report=filed).state == Advisory.State.IN_REVIEW


def test_the_edit_form_validates(report, maintainer):
    triage(report, maintainer)
    draft(report, maintainer)
    response = edit(report, maintainer, fixed_versions="0.13.4\nlatest", cwe="79")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Not a version number: latest" in body
    assert "A CWE identifier, e.g. CWE-79." in body
    advisory = Advisory.objects.get()
    assert (advisory.fixed_versions, advisory.cwe) == ([], "")


FIX_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_the_draft_page_takes_the_fix_commits(report, maintainer):
    triage(report, maintainer)
    draft(report, maintainer)
    page = client_for(maintainer).get(advisory_url(report)).content.decode()
    assert 'name="fix_commits"' in page
    assert 'name="introduced_commit"' in page

    response = edit(report, maintainer, fix_commits=f"  {FIX_COMMIT.upper()}  \n")

    assert response.status_code == 302
    assert Advisory.objects.get().fix_commits == [FIX_COMMIT]
    page = client_for(maintainer).get(advisory_url(report)).content.decode()
    assert FIX_COMMIT in page  # prefilled, and shown with the advisory


def test_the_draft_page_refuses_short_commit_hashes(report, maintainer):
    triage(report, maintainer)
    draft(report, maintainer)

    response = edit(
        report, maintainer, fix_commits=f"{FIX_COMMIT}\n0123abc", introduced_commit=FIX_COMMIT[:12]
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Not a full git commit hash: all 40 (or 64) hex digits" in body
    assert "0123abc" in body
    assert FIX_COMMIT[:12] in body
    assert (Advisory.objects.get().fix_commits, Advisory.objects.get().introduced_commit) == (
        [],
        "",
    )


def test_publish_needs_a_fixed_report_and_fixed_versions(report, maintainer):
    triage(report, maintainer)
    draft(report, maintainer)
    edit(report, maintainer, fixed_versions="0.13.4")
    body = refusal(publish_post(report, maintainer))
    assert "Publish once the report is fixed." in body
    assert Advisory.objects.get().state == Advisory.State.DRAFT

    act(report, "mark_fixed", maintainer, message="Fixed.")
    Advisory.objects.update(fixed_versions=[])
    body = refusal(publish_post(report, maintainer))
    assert "Name the fixed versions first." in body
    assert Advisory.objects.get().state == Advisory.State.DRAFT
    assert fresh(report).state == State.FIXED


def test_publishing_asks_for_confirmation(report, maintainer, clock):
    fixed(report, maintainer)
    draft(report, maintainer)
    edit(report, maintainer, fixed_versions="0.13.4")
    clock.move_to(T0 + 90 * DAY)  # Stalwart's date: nothing else stands in the way
    page = client_for(maintainer).get(advisory_url(report, "publish")).content.decode()
    assert "It cannot be undone." in page
    response = client_for(maintainer).post(advisory_url(report, "publish"))
    assert response.status_code == 400
    assert Advisory.objects.get().state == Advisory.State.DRAFT
    assert publish_post(report, maintainer).status_code == 302
    assert Advisory.objects.get().state == Advisory.State.PUBLISHED


def test_only_maintainers_publish(cast, report, maintainer):
    fixed(report, maintainer)
    draft(report, maintainer)
    edit(report, maintainer, fixed_versions="0.13.4")
    for who in (*REFUSED, "triager"):
        response = client_for(cast[who]).post(advisory_url(report, "publish"))
        assert response.status_code == REFUSED.get(who, 403), who
    assert Advisory.objects.get().state == Advisory.State.DRAFT
    assert fresh(report).state == State.FIXED


def test_publishing_discloses_the_report_and_freezes_the_advisory(report, maintainer, clock):
    fixed(report, maintainer)
    draft(report, maintainer)
    edit(report, maintainer, fixed_versions="0.13.4\n0.12.9", cwe="CWE-93")
    clock.move_to(T0 + 90 * DAY)
    response = publish_post(report, maintainer)
    assert response.status_code == 302
    advisory = Advisory.objects.get()
    assert (advisory.state, advisory.published_at) == (Advisory.State.PUBLISHED, T0 + 90 * DAY)
    updated = fresh(report)
    assert updated.state == State.DISCLOSED
    last = ReportEvent.objects.filter(report=report).latest("id")
    assert (last.kind, last.actor, last.from_state, last.to_state, last.message) == (
        ReportEvent.Kind.TRANSITION,
        maintainer,
        State.FIXED,
        State.DISCLOSED,
        "Advisory STW-ADV-2026-0001 published.",
    )
    assert client_for(None).get("/advisories/STW-ADV-2026-0001/").status_code == 200

    # Published: no more edits, no second publication.
    page = client_for(maintainer).get(advisory_url(report)).content.decode()
    assert "Edit the advisory" not in page
    response = edit(report, maintainer, title="Rewritten history")
    assert errors(response) == ["A published advisory cannot be edited."]
    assert "The advisory is already published." in refusal(publish_post(report, maintainer))
    advisory.refresh_from_db()
    assert (advisory.title, advisory.published_at) == (REPORT_FIELDS["title"], T0 + 90 * DAY)
    # Nor does the service allow it.
    with pytest.raises(services.ReportError, match="cannot be edited"):
        update_advisory(advisory=advisory, by=maintainer, fields={"title": "Again"})


def test_nobody_discloses_without_publishing(report, maintainer, superuser):
    fixed(report, maintainer)
    for user in (maintainer, superuser):
        url = f"/reports/{report.tracking_id}/disclose/"
        client_for(user).post(url, {"message": "Going public."})
    assert fresh(report).state == State.FIXED
