"""Revisions of a published advisory (issue: advisory revisions): amending it, withdrawing it.

- Who: amending follows the site's rule for editing an advisory, withdrawing the rule for
  publishing one (advisories.access): the project's maintainers and admins, and superusers. The
  reporter side and the project's triagers get 403, everyone else 404 (anonymous: the
  sign-in page), as everywhere on the site.
- An amendment changes the draft form's fields and takes the report's CVSS, with a required
  reason; a withdrawal needs a reason and a confirmation. Each is a revision (number, date,
  reason, who, what changed), moves the advisory's modified time, writes a public ReportEvent
  and notifies the report's participants. A withdrawn advisory stays public with its notice and
  is final.
- CVSS: the advisory carries the report's score until publication (publication takes the
  current one); afterwards only an amendment changes it.
- Every export carries the revision history and the withdrawal, valid against the official
  schemas (tests/schemas/official/); so do the public page, the project's list and the feed.

Time is frozen at T0 and moved a day per revision, as revision histories sort by date.
"""

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command

from advisories import exports, revisions, selectors
from advisories import services as advisory_services
from advisories.models import Advisory, AdvisoryRevision
from mailer.models import OutboundEmail
from projects.models import Project
from reports import services
from reports.models import Report, ReportEvent
from tests.advisories.publishing import publish_now
from tests.reports.conftest import share
from tests.schema_validation import validate
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N"  # 3.7 low
HIGH = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"  # 8.1
ATOM = "{http://www.w3.org/2005/Atom}"
KINDS = ("osv", "csaf", "cve")
BUILDERS = {"osv": exports.osv, "csaf": exports.csaf, "cve": exports.cve}

REFUSED = {
    "anonymous": 302,
    "stranger": 404,
    "other_member": 404,
    "reporter": 403,
    "collaborator": 403,
    "triager": 403,
}
ALLOWED = ("maintainer", "project_admin", "superuser")


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


def publish_one(project, *, reporter, maintainer, collaborator=None, title="SMTP smuggling"):
    """A Stalwart report worked to a published advisory through the services, scored CRITICAL.
    The setup's own notifications are dropped: tests see only what they cause.
    """
    draft = fixed_draft(
        project, reporter=reporter, maintainer=maintainer, collaborator=collaborator, title=title
    )
    publish_now(draft, by=maintainer)
    OutboundEmail.objects.all().delete()
    return Advisory.objects.get(pk=draft.pk)


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


@pytest.fixture
def advisory(project, clock, reporter, collaborator, maintainer, triager, project_admin):
    """Published at T0; the report is shared with the collaborator."""
    return publish_one(project, reporter=reporter, maintainer=maintainer, collaborator=collaborator)


def fresh(report):
    return Report.objects.select_related("project", "revision").get(pk=report.pk)


def score(report, by, vector):
    services.set_cvss_vector(report=report, by=by, vector=vector)
    services.compute_cvss(report_id=report.pk)  # the task enqueued on commit


def reloaded(advisory):
    return selectors.public_advisory(advisory.identifier)


def client_for(user):
    client = Client()
    if user is not None:
        client.sign_in(user)
    return client


def errors(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def review_url(advisory, step=""):
    return f"/reports/{advisory.report.tracking_id}/advisory/{step + '/' if step else ''}"


def amend_data(advisory, reason="Corrected the fixed versions.", **changes):
    """What the prefilled amend form posts, with `changes`; the form's fields are prefixed."""
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
        "reason": reason,
        **changes,
    }
    return {f"amend-{name}": value for name, value in data.items()}


def amend(advisory, by, client=None, **changes):
    client = client or client_for(by)
    return client.post(review_url(advisory, "amend"), amend_data(advisory, **changes))


def withdraw(advisory, by, reason="Not a vulnerability: the relay rejects bare LF.", client=None):
    """Withdraw as the confirmation page does (the reason and `confirm` set)."""
    client = client or client_for(by)
    data = {"withdraw-reason": reason, "withdraw-confirm": "True"}
    return client.post(review_url(advisory, "withdraw"), data)


def events(advisory):
    return list(
        ReportEvent.objects.filter(report=advisory.report_id, kind=ReportEvent.Kind.DISCLOSURE)
        .order_by("id")
        .values_list("actor_id", "public", "message")
    )


def recipients():
    return sorted(OutboundEmail.objects.values_list("to", flat=True))


def nothing_stored(advisory, before):
    """The advisory as it was, no revision, no event, no email."""
    after = Advisory.objects.get(pk=advisory.pk)
    assert (after.title, after.fixed_versions, after.revised_at, after.withdrawn_at) == (
        advisory.title,
        advisory.fixed_versions,
        advisory.revised_at,
        advisory.withdrawn_at,
    )
    assert not AdvisoryRevision.objects.filter(advisory=advisory).exists()
    assert events(advisory) == before
    assert not OutboundEmail.objects.exists()


def two_amendments(advisory, maintainer, clock):
    """Amended a day after publication (title) and two days after (fixed versions)."""
    client = client_for(maintainer)
    clock.move_to(T0 + DAY)
    response = amend(
        advisory, maintainer, client, title="SMTP smuggling in the relay", reason="A better title."
    )
    assert (response.status_code, errors(response)) == (302, [])
    advisory.refresh_from_db()
    clock.move_to(T0 + 2 * DAY)
    response = amend(
        advisory, maintainer, client, fixed_versions="0.13.4\n0.12.9", reason="0.12.9 is fixed."
    )
    assert (response.status_code, errors(response)) == (302, [])
    return reloaded(advisory)


def withdrawn(advisory, maintainer, clock):
    """Amended a day after publication, withdrawn the day after."""
    client = client_for(maintainer)
    clock.move_to(T0 + DAY)
    assert amend(advisory, maintainer, client, title="Relay smuggling").status_code == 302
    advisory.refresh_from_db()
    clock.move_to(T0 + 2 * DAY)
    response = withdraw(advisory, maintainer, client=client)
    assert (response.status_code, errors(response)) == (302, [])
    return reloaded(advisory)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Who may amend and withdraw -------------------------------------------------------------------


def test_only_maintainers_amend(cast, advisory):
    before = events(advisory)
    for who, status in REFUSED.items():
        response = amend(advisory, cast[who], title=f"Rewritten by {who}")
        assert response.status_code == status, who
        if who == "anonymous":
            assert response.url.startswith("/accounts/login/?next=")
    nothing_stored(advisory, before)

    for number, who in enumerate(ALLOWED, start=2):
        response = amend(advisory, cast[who], title=f"Amended by {who}")
        assert (response.status_code, response.url) == (302, review_url(advisory)), who
        assert not errors(response), who
        revision = AdvisoryRevision.objects.get(advisory=advisory, number=number)
        assert (revision.kind, revision.created_by) == ("amended", cast[who])
    assert Advisory.objects.get(pk=advisory.pk).title == "Amended by superuser"


def test_only_maintainers_withdraw(cast, advisory, project, reporter, maintainer):
    before = events(advisory)
    for who, status in REFUSED.items():
        assert withdraw(advisory, cast[who]).status_code == status, who
    nothing_stored(advisory, before)

    for who in ALLOWED:
        published = publish_one(project, reporter=reporter, maintainer=maintainer, title=who)
        response = withdraw(published, cast[who])
        assert (response.status_code, response.url) == (302, review_url(published)), who
        published.refresh_from_db()
        assert published.is_withdrawn, who
        assert published.revisions.get().created_by == cast[who]


def test_amending_a_report_nobody_may_see_is_404(advisory, stranger, maintainer, project):
    other = publish_one(project, reporter=stranger, maintainer=maintainer, title="Stranger's")
    # The stranger reported `other`: they see that report, not this one, and revise neither.
    assert amend(advisory, stranger).status_code == 404
    assert amend(other, stranger).status_code == 403
    assert withdraw(other, stranger).status_code == 403
    assert not AdvisoryRevision.objects.exists()


# --- Amending -------------------------------------------------------------------------------------


def test_an_amendment_is_a_revision_the_participants_hear_of(
    advisory, clock, maintainer, reporter, collaborator, triager, project_admin
):
    clock.move_to(T0 + DAY)
    client = client_for(maintainer)
    response = amend(
        advisory,
        maintainer,
        client,
        title="SMTP smuggling in the relay",
        fixed_versions="0.13.4\n0.12.9",
    )
    assert (response.status_code, errors(response)) == (302, [])

    (revision,) = AdvisoryRevision.objects.filter(advisory=advisory)
    assert (revision.number, revision.kind, revision.created_by, revision.created_at) == (
        2,
        "amended",
        maintainer,
        T0 + DAY,
    )
    assert revision.reason == "Corrected the fixed versions."
    assert revision.changes == {
        "title": {"from": "SMTP smuggling", "to": "SMTP smuggling in the relay"},
        "fixed_versions": {"from": ["0.13.4"], "to": ["0.13.4", "0.12.9"]},
    }
    assert revision.changed_fields() == ["Title", "Fixed versions"]
    amended = Advisory.objects.get(pk=advisory.pk)
    assert (amended.title, amended.fixed_versions) == (
        "SMTP smuggling in the relay",
        ["0.13.4", "0.12.9"],
    )
    assert (amended.published_at, amended.revised_at, amended.modified_at) == (
        T0,
        T0 + DAY,
        T0 + DAY,
    )
    assert events(advisory)[-1] == (
        maintainer.pk,
        True,
        f"Advisory {advisory.identifier} amended (revision 2): Corrected the fixed versions.",
    )
    # The reporter side and the other members hear of it; the maintainer did it.
    assert recipients() == sorted(
        [reporter.email, collaborator.email, triager.email, project_admin.email]
    )
    for email in OutboundEmail.objects.all():
        assert "amended (revision 2): Corrected the fixed versions." in email.body

    page = client.get(review_url(advisory))
    assert "Advisory amended: revision 2 is published." in page.content.decode()


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_amendment_without_a_reason_is_a_form_error(advisory, maintainer, reason):
    before = events(advisory)
    response = amend(advisory, maintainer, title="Rewritten", reason=reason)

    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'id="error_1_id_amend-reason"[^>]*>\s*<strong>This field is required.', body)
    assert 'value="Rewritten"' in body  # what was typed is kept
    assert (
        '<h1 class="h3"><span class="tracking-id">STW-ADV-2026-0001</span>: SMTP smuggling</h1>'
        in body
    )  # not applied
    nothing_stored(advisory, before)


def test_an_invalid_amendment_is_a_form_error(advisory, maintainer):
    before = events(advisory)
    response = amend(advisory, maintainer, fixed_versions="latest", cwe="79")

    assert response.status_code == 400
    body = response.content.decode()
    assert "Not a version number: latest" in body
    assert "A CWE identifier, e.g. CWE-79." in body
    nothing_stored(advisory, before)


FIX = "0123456789abcdef0123456789abcdef01234567"
BACKPORT = "89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"  # SHA-256 repository


def test_fix_commits_are_amended_with_a_revision_and_reach_the_osv_record(
    advisory, clock, maintainer
):
    clock.move_to(T0 + DAY)
    response = amend(advisory, maintainer, fix_commits=f"{FIX.upper()}\n\n{BACKPORT}\n{FIX}")
    assert (response.status_code, errors(response)) == (302, [])

    (revision,) = AdvisoryRevision.objects.filter(advisory=advisory)
    # Typed in capitals and listed twice: stored once each, lower-case, as OSV wants them.
    assert revision.changes == {"fix_commits": {"from": [], "to": [FIX, BACKPORT]}}
    assert revision.changed_fields() == ["Fix commits"]
    record = exports.osv(selectors.public_advisory(advisory.identifier))
    assert record["affected"][0]["ranges"][-1] == {
        "type": "GIT",
        "repo": "https://github.com/stalwartlabs/stalwart",
        "events": [{"introduced": "0"}, {"fixed": FIX}, {"fixed": BACKPORT}],
    }
    assert validate("osv", record) == []


def test_a_short_commit_hash_is_a_form_error(advisory, maintainer):
    before = events(advisory)
    response = amend(advisory, maintainer, fix_commits="0123abc", introduced_commit="v0.13.0")

    assert response.status_code == 400
    body = response.content.decode()
    assert "Not a full git commit hash: all 40 (or 64) hex digits" in body
    assert "0123abc" in body
    assert "v0.13.0" in body
    nothing_stored(advisory, before)
    assert Advisory.objects.get(pk=advisory.pk).fix_commits == []


def test_an_amendment_that_changes_nothing_is_refused(advisory, maintainer):
    before = events(advisory)
    response = amend(advisory, maintainer)

    assert (response.status_code, response.url) == (302, review_url(advisory))
    assert errors(response) == ["Nothing changed: an amendment changes the advisory or its CVSS."]
    nothing_stored(advisory, before)


def test_a_draft_is_edited_not_amended(project, clock, reporter, maintainer):
    draft = fixed_draft(project, reporter=reporter, maintainer=maintainer)
    OutboundEmail.objects.all().delete()
    before = events(draft)
    refusal = "Only a published advisory can be amended or withdrawn; edit the draft instead."

    assert errors(amend(draft, maintainer, title="Amended draft")) == [refusal]
    assert errors(withdraw(draft, maintainer)) == [refusal]
    with pytest.raises(advisory_services.AdvisoryError, match="Only a published advisory"):
        revisions.amend(advisory=draft, by=maintainer, fields={"title": "x"}, reason="Why.")
    nothing_stored(draft, before)
    page = client_for(maintainer).get(review_url(draft)).content.decode()
    assert "Edit the advisory" in page
    assert "Amend the advisory" not in page
    assert "Withdraw the advisory" not in page


def test_the_review_page_offers_amend_and_withdraw_to_maintainers(cast, advisory, clock):
    clock.move_to(T0 + DAY)
    fields = {"title": "SMTP smuggling in the relay"}
    revisions.amend(advisory=advisory, by=cast["maintainer"], fields=fields, reason="Clearer.")
    page = client_for(cast["maintainer"]).get(review_url(advisory)).content.decode()

    assert "Amend the advisory" in page
    assert "Withdraw the advisory" in page
    assert "Edit the advisory" not in page  # published: no more draft edits
    assert f"<td>{cast['maintainer'].email}</td>" in page  # who revised, for members
    # Prefilled with the published text; the CVSS shown is the report's.
    assert 'name="amend-title" value="SMTP smuggling in the relay"' in page
    assert "0.13.4</textarea>" in page or 'name="amend-fixed_versions" value="0.13.4"' in page
    assert f"CVSS from the report, taken by the amendment: <code>{CRITICAL}</code> (9.8" in page
    assert "has changed since the advisory was published" not in page
    # One page, two forms, no id twice; nothing inline for the CSP.
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\sstyle=|\son[a-z]+=", page)
    for action in ("amend", "withdraw"):
        assert f'action="{review_url(advisory, action)}"' in page

    for who in ("reporter", "collaborator", "triager"):
        page = client_for(cast[who]).get(review_url(advisory)).content.decode()
        assert "Revision history" in page, who
        assert "<td>Clearer.</td>" in page, who
        assert "Amend the advisory" not in page, who
        assert "Withdraw the advisory" not in page, who
        if who != "triager":
            assert cast["maintainer"].email not in page, who  # who revised: members only


# --- Withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_asks_for_confirmation_first(
    advisory, clock, maintainer, reporter, collaborator
):
    client = client_for(maintainer)
    before = events(advisory)
    response = client.post(review_url(advisory, "withdraw"), {"withdraw-reason": "Duplicate."})

    assert response.status_code == 200
    page = response.content.decode()
    assert f'Withdraw <span class="tracking-id">{advisory.identifier}</span>?' in page
    assert "Duplicate.</textarea>" in page
    assert re.search(r'<input type="hidden" name="withdraw-confirm" value="True"', page)
    assert "Confirm the withdrawal" in page
    nothing_stored(advisory, before)

    clock.move_to(T0 + DAY)
    action = re.search(r'<form method="post" action="([^"]+)"', page.split("<main")[1]).group(1)
    response = client.post(action, {"withdraw-reason": "Duplicate.", "withdraw-confirm": "True"})
    assert (response.status_code, response.url, errors(response)) == (302, review_url(advisory), [])
    advisory.refresh_from_db()
    assert (advisory.withdrawn_at, advisory.withdrawn_reason, advisory.revised_at) == (
        T0 + DAY,
        "Duplicate.",
        T0 + DAY,
    )
    assert advisory.is_published  # it stays public
    (revision,) = advisory.revisions.all()
    assert (revision.number, revision.kind, revision.reason, revision.changes) == (
        2,
        "withdrawn",
        "Duplicate.",
        {},
    )
    assert (revision.summary, revision.created_by) == ("Withdrawn: Duplicate.", maintainer)
    assert events(advisory)[-1] == (
        maintainer.pk,
        True,
        f"Advisory {advisory.identifier} withdrawn (revision 2): Duplicate.",
    )
    assert reporter.email in recipients()
    assert collaborator.email in recipients()


@pytest.mark.parametrize("confirm", ["", "True"])
def test_a_withdrawal_without_a_reason_is_a_form_error(advisory, maintainer, confirm):
    before = events(advisory)
    data = {"withdraw-reason": " ", "withdraw-confirm": confirm}
    response = client_for(maintainer).post(review_url(advisory, "withdraw"), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(
        r'id="error_1_id_withdraw-reason"[^>]*>\s*<strong>This field is required.', body
    )
    nothing_stored(advisory, before)


def test_a_withdrawn_advisory_is_final(advisory, maintainer, clock):
    clock.move_to(T0 + DAY)
    withdraw(advisory, maintainer)
    advisory.refresh_from_db()
    count = len(events(advisory))
    refusal = (
        f"{advisory.identifier} was withdrawn on 2026-12-02: "
        "a withdrawn advisory cannot be amended or withdrawn again."
    )

    assert errors(amend(advisory, maintainer, title="Back from the dead")) == [refusal]
    assert errors(withdraw(advisory, maintainer, reason="Again.")) == [refusal]
    with pytest.raises(advisory_services.AdvisoryError, match="cannot be amended"):
        revisions.withdraw(advisory=advisory, by=maintainer, reason="Again.")
    assert advisory.revisions.count() == 1
    assert len(events(advisory)) == count
    assert Advisory.objects.get(pk=advisory.pk).title == "SMTP smuggling"
    page = client_for(maintainer).get(review_url(advisory)).content.decode()
    assert "Amend the advisory" not in page
    assert "Withdraw the advisory" not in page
    assert "<strong>Withdrawn</strong> on 2026-12-02: Not a vulnerability" in page


# --- CVSS: the report's until publication, then only by an amendment ------------------------------


def test_publication_takes_the_reports_current_cvss(project, clock, reporter, maintainer):
    draft = fixed_draft(project, reporter=reporter, maintainer=maintainer)
    # The report is rescored after the last edit of the draft.
    score(draft.report, maintainer, HIGH)
    draft = Advisory.objects.get(pk=draft.pk)
    assert draft.cvss_vector == CRITICAL  # drafts take the score when edited or published

    publish_now(draft, by=maintainer)

    advisory = reloaded(draft)
    assert (advisory.cvss_vector, str(advisory.cvss_score), advisory.cvss_severity) == (
        HIGH,
        "8.1",
        "High",
    )
    assert exports.osv(advisory)["severity"] == [{"type": "CVSS_V3", "score": HIGH}]
    assert exports.cve(advisory)["containers"]["cna"]["metrics"][0]["cvssV3_1"]["baseScore"] == 8.1


def test_a_published_advisory_keeps_its_cvss_until_amended(advisory, clock, maintainer):
    score(advisory.report, maintainer, MEDIUM)

    kept = reloaded(advisory)
    assert (kept.cvss_vector, str(kept.cvss_score)) == (CRITICAL, "9.8")
    assert exports.csaf(kept)["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] == 9.8
    public = client_for(None).get(f"/advisories/{advisory.identifier}/").content.decode()
    assert CRITICAL in public
    assert MEDIUM not in public
    # The amend form shows the report's score, which the amendment takes.
    client = client_for(maintainer)
    page = client.get(review_url(advisory)).content.decode()
    assert f"CVSS from the report, taken by the amendment: <code>{MEDIUM}</code> (3.7" in page
    assert "The report's CVSS has changed since the advisory was published." in page

    clock.move_to(T0 + DAY)
    response = amend(advisory, maintainer, client, reason="Rescored: needs a login.")
    assert (response.status_code, errors(response)) == (302, [])

    amended = reloaded(advisory)
    assert (amended.cvss_vector, str(amended.cvss_score), amended.cvss_severity) == (
        MEDIUM,
        "3.7",
        "Low",
    )
    (revision,) = amended.revisions.all()
    assert revision.changes == {
        "cvss_vector": {"from": CRITICAL, "to": MEDIUM},
        "cvss_score": {"from": "9.8", "to": "3.7"},
        "cvss_severity": {"from": "Critical", "to": "Low"},
    }
    assert revision.changed_fields() == ["CVSS"]
    assert exports.osv(amended)["severity"] == [{"type": "CVSS_V3", "score": MEDIUM}]


# --- The exports --------------------------------------------------------------------------------


def test_osv_of_an_amended_advisory(advisory, maintainer, clock):
    record = exports.osv(two_amendments(advisory, maintainer, clock))

    assert record["id"] == f"x_DISCLOSURE-{advisory.identifier}"
    assert (record["published"], record["modified"]) == (iso(T0), iso(T0 + 2 * DAY))
    assert "withdrawn" not in record
    assert record["database_specific"]["revisions"] == [
        {"number": "1", "date": iso(T0), "summary": "Published."},
        {"number": "2", "date": iso(T0 + DAY), "summary": "A better title."},
        {"number": "3", "date": iso(T0 + 2 * DAY), "summary": "0.12.9 is fixed."},
    ]
    events = [r["events"] for r in record["affected"][0]["ranges"]]
    assert any({"fixed": "0.12.9"} in range_events for range_events in events)


def test_csaf_of_an_amended_advisory(advisory, maintainer, clock):
    tracking = exports.csaf(two_amendments(advisory, maintainer, clock))["document"]["tracking"]

    assert tracking == {
        "id": advisory.identifier,
        "status": "final",
        "version": "3",
        "revision_history": [
            {"number": "1", "date": iso(T0), "summary": "Published."},
            {"number": "2", "date": iso(T0 + DAY), "summary": "A better title."},
            {"number": "3", "date": iso(T0 + 2 * DAY), "summary": "0.12.9 is fixed."},
        ],
        "initial_release_date": iso(T0),
        "current_release_date": iso(T0 + 2 * DAY),
    }


def test_cve_of_an_amended_advisory(advisory, maintainer, clock):
    record = exports.cve(two_amendments(advisory, maintainer, clock))
    cna = record["containers"]["cna"]

    assert record["cveMetadata"]["state"] == "PUBLISHED"
    assert record["cveMetadata"]["datePublished"] == iso(T0)
    assert record["cveMetadata"]["dateUpdated"] == iso(T0 + 2 * DAY)
    assert cna["providerMetadata"]["dateUpdated"] == iso(T0 + 2 * DAY)
    assert cna["timeline"] == [
        {"time": iso(T0), "lang": "en", "value": f"{advisory.identifier} revision 1: Published."},
        {
            "time": iso(T0 + DAY),
            "lang": "en",
            "value": f"{advisory.identifier} revision 2: A better title.",
        },
        {
            "time": iso(T0 + 2 * DAY),
            "lang": "en",
            "value": f"{advisory.identifier} revision 3: 0.12.9 is fixed.",
        },
    ]


def test_exports_of_a_withdrawn_advisory(advisory, maintainer, clock, settings):
    gone = withdrawn(advisory, maintainer, clock)
    notice = (
        f"{advisory.identifier} was withdrawn on 2026-12-03: "
        "Not a vulnerability: the relay rejects bare LF."
    )

    record = exports.osv(gone)
    assert record["withdrawn"] == record["modified"] == iso(T0 + 2 * DAY)
    assert record["published"] == iso(T0)
    assert record["summary"] == "Withdrawn: Not a vulnerability: the relay rejects bare LF."
    assert record["details"].startswith(f"**{notice}**\n\n")
    assert [r["number"] for r in record["database_specific"]["revisions"]] == ["1", "2", "3"]

    document = exports.csaf(gone)["document"]
    tracking = document["tracking"]
    assert (tracking["status"], tracking["version"]) == ("final", "3")
    assert tracking["revision_history"][-1] == {
        "number": "3",
        "date": iso(T0 + 2 * DAY),
        "summary": "Withdrawn: Not a vulnerability: the relay rejects bare LF.",
    }
    assert tracking["current_release_date"] == iso(T0 + 2 * DAY)
    assert document["notes"][0] == {"category": "general", "title": "Withdrawn", "text": notice}

    record = exports.cve(gone)
    assert record["cveMetadata"] == {
        "cveId": "CVE-2026-12345",
        "assignerOrgId": settings.CVE_CNA_ORG_ID,
        "assignerShortName": settings.CVE_CNA_SHORT_NAME,
        "state": "REJECTED",
        "datePublished": iso(T0),
        "dateUpdated": iso(T0 + 2 * DAY),
        "dateRejected": iso(T0 + 2 * DAY),
    }
    cna = record["containers"]["cna"]
    assert cna["rejectedReasons"] == [{"lang": "en", "value": notice}]
    assert cna["providerMetadata"]["dateUpdated"] == iso(T0 + 2 * DAY)
    assert [r["summary"] for r in cna["x_revisionHistory"]] == [
        "Published.",
        "Corrected the fixed versions.",
        "Withdrawn: Not a vulnerability: the relay rejects bare LF.",
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("revised", [two_amendments, withdrawn], ids=["amended", "withdrawn"])
def test_downloads_of_revised_advisories_are_valid(advisory, maintainer, clock, revised, kind):
    """Against the official releases of the schemas."""
    revised(advisory, maintainer, clock)

    response = client_for(None).get(f"/advisories/{advisory.identifier}.{kind}.json")

    assert response.status_code == 200
    assert validate(kind, response.json()) == [], kind


# --- Public page, project list, feed -------------------------------------------------------------


def test_the_public_page_shows_the_revision_history(advisory, maintainer, clock):
    two_amendments(advisory, maintainer, clock)

    page = client_for(None).get(f"/advisories/{advisory.identifier}/").content.decode()

    assert "Published 2026-12-01 · Updated 2026-12-03" in page
    history = page.split('id="revisions"')[1]
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", history)
    assert rows == [
        ("1", "2026-12-01 09:30 UTC", "Published."),
        ("2", "2026-12-02 09:30 UTC", "A better title."),
        ("3", "2026-12-03 09:30 UTC", "0.12.9 is fixed."),
    ]
    assert "<td>Fixed versions</td>" in history
    assert maintainer.email not in page  # who revised is for the project's members
    assert "Withdrawn" not in page


def test_a_withdrawn_advisory_stays_public_with_its_notice(advisory, maintainer, clock, stranger):
    withdrawn(advisory, maintainer, clock)
    notice = "on 2026-12-03: Not a vulnerability: the relay rejects bare LF."
    for client in (client_for(None), client_for(stranger)):
        page = client.get(f"/advisories/{advisory.identifier}/")
        assert page.status_code == 200
        assert f"<strong>Withdrawn</strong> {notice}" in page.content.decode()
        listing = client.get("/projects/stalwart/advisories/").content.decode()
        assert '<span class="badge text-bg-warning">Withdrawn</span>' in listing
        assert f'<span class="small">{notice}</span>' in listing
        assert "updated 2026-12-03" in listing


def parse_feed(client):
    response = client.get("/projects/stalwart/advisories/feed/")
    assert response.status_code == 200
    return ET.fromstring(response.content)  # noqa: S314 - the platform's own feed, in a test


def test_the_feed_entry_follows_the_last_revision(advisory, maintainer, clock, project, reporter):
    clock.move_to(T0 + DAY / 2)
    untouched = publish_one(project, reporter=reporter, maintainer=maintainer, title="Other")
    two_amendments(advisory, maintainer, clock)

    root = parse_feed(client_for(None))

    assert root.findtext(f"{ATOM}updated") == "2026-12-03T09:30:00+00:00"
    entries = {e.findtext(f"{ATOM}title"): e for e in root.findall(f"{ATOM}entry")}
    entry = entries[f"{advisory.identifier}: SMTP smuggling in the relay"]
    assert entry.findtext(f"{ATOM}updated") == "2026-12-03T09:30:00+00:00"
    assert entry.findtext(f"{ATOM}published") == "2026-12-01T09:30:00+00:00"
    assert entry.findtext(f"{ATOM}summary") == (
        "SMTP smuggling"
        "<br>Revision 2 (2026-12-02, changed: Title): A better title."
        "<br>Revision 3 (2026-12-03, changed: Fixed versions): 0.12.9 is fixed."
    )
    other = entries[f"{untouched.identifier}: Other"]
    assert other.findtext(f"{ATOM}updated") == "2026-12-01T21:30:00+00:00"
    assert other.findtext(f"{ATOM}summary") == "Other"


def test_the_feed_says_an_advisory_was_withdrawn(advisory, maintainer, clock):
    withdrawn(advisory, maintainer, clock)

    (entry,) = parse_feed(client_for(None)).findall(f"{ATOM}entry")

    assert entry.findtext(f"{ATOM}title") == f"[Withdrawn] {advisory.identifier}: Relay smuggling"
    assert entry.findtext(f"{ATOM}updated") == "2026-12-03T09:30:00+00:00"
    assert entry.findtext(f"{ATOM}summary").endswith(
        "<br>Revision 3 (2026-12-03): Withdrawn: Not a vulnerability: the relay rejects bare LF."
    )


def test_the_feed_escapes_what_maintainers_typed(advisory, maintainer, clock):
    """Atom's summary is HTML here: a reason is text, never markup in the reader."""
    clock.move_to(T0 + DAY)
    amend(advisory, maintainer, title="New", reason='<img src=x onerror="alert(1)">')

    (entry,) = parse_feed(client_for(None)).findall(f"{ATOM}entry")

    summary = entry.findtext(f"{ATOM}summary")
    assert "<img" not in summary
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in summary


# /advisories/<id>/ as anonymous, with any number of revisions (tests/advisories/test_public.py):
# the advisory (joined: project, revision), credits, version matrix, revisions.
ADVISORY_PAGE_QUERIES = 4


def test_the_advisory_page_costs_constant_queries_with_revisions(
    advisory, maintainer, clock, django_assert_num_queries
):
    client = Client()
    for amendments in (0, 3):
        for n in range(amendments):
            clock.move_to(T0 + (n + 1) * DAY)
            revisions.amend(
                advisory=advisory, by=maintainer, fields={"title": f"Title {n}"}, reason=f"R{n}"
            )
        with django_assert_num_queries(ADVISORY_PAGE_QUERIES):
            response = client.get(f"/advisories/{advisory.identifier}/")
        assert response.content.decode().count("<td>Title</td>") == amendments


# /projects/<slug>/advisories/feed/ as anonymous, however many advisories and revisions:
# 1. the active project by slug
# 2. its newest published advisories
# 3. their revisions (prefetched), for what changed
# (and once per process, before the first: the syndication framework's Site row, then cached)
FEED_QUERIES = 3


def test_the_feed_costs_constant_queries(
    advisory, project, reporter, maintainer, clock, django_assert_num_queries
):
    client = Client()
    client.get("/projects/stalwart/advisories/feed/")  # the Site row, cached afterwards
    for more in (0, 3):
        for n in range(more):
            clock.move_to(T0 + (n + 1) * DAY)
            other = publish_one(project, reporter=reporter, maintainer=maintainer, title=f"T{n}")
            revisions.amend(advisory=other, by=maintainer, fields={"title": f"U{n}"}, reason="R.")
            revisions.withdraw(advisory=other, by=maintainer, reason="W.")
        with django_assert_num_queries(FEED_QUERIES):
            root = ET.fromstring(client.get("/projects/stalwart/advisories/feed/").content)  # noqa: S314
        assert len(root.findall(f"{ATOM}entry")) == 1 + more


# --- Admin --------------------------------------------------------------------------------------


def test_the_admin_shows_revisions_read_only(advisory, maintainer, clock, superuser):
    clock.move_to(T0 + DAY)
    withdraw(advisory, maintainer)
    client = client_for(superuser)

    page = client.get(f"/admin/advisories/advisory/{advisory.pk}/change/").content.decode()

    assert "Not a vulnerability: the relay rejects bare LF." in page
    assert 'name="revisions-0-reason"' not in page  # read-only: no input
    assert 'name="_save"' not in page
