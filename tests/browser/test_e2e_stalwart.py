"""End to end on the real Stalwart project, as its people click it: a new reporter signs up and
verifies the address from the emailed link, files a report with an attachment; a maintainer
(password and authenticator code) finds it in the queue, acknowledges it, works the incident
checklist and asks a question; the reporter answers; the maintainer scores it, fixes it, records
the release, proposes the disclosure date and drafts the advisory; the reporter agrees to the date
and approves the advisory; the maintainer publishes it, and the world reads it on the project's
advisories page and in its Atom feed. Screenshots of every step: var/e2e/stalwart-NN-<step>.png.

Stalwart's policy: "Coordinated disclosure: we'll work with you to determine appropriate
disclosure timing; typical timeline: 90 days from report to public disclosure". The maintainer
proposes today (the fix is out) and the reporter agrees, so publishing needs no early reason.
"""

import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from advisories.models import Advisory, Disclosure
from reports.models import Report, State
from tests.browser.helpers import (
    CWE_LABEL,
    MY_REPORTS_NAV,
    QUEUE_NAV,
    STALWART_REPORT,
    Screenshots,
    act,
    approve_advisory,
    fill_stalwart_intake,
    follow_nav,
    member_of,
    open_report,
    open_stalwart_intake,
    publish_now,
    reload_until_visible,
    seeded_project,
    sent_emails,
    sign_in,
    sign_out,
    status_line,
)
from tests.signin import PASSWORD, enroll_totp

pytestmark = pytest.mark.django_db(transaction=True)

REPORTER_EMAIL = "ada@example.org"
TITLE = STALWART_REPORT["Title"]
QUESTION = "Does it need pipelining enabled on the relay?"
ANSWER = "No: it works with pipelining off, on the default configuration."
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N"  # 9.1 Critical
FIXED_VERSION = "0.13.4"
FIX_COMMIT = "0123456789abcdef0123456789abcdef01234567"  # typed in capitals below
CHECKLIST_TASKS = [  # Phase 1 of Stalwart's SECURITY_PROCESS.md
    "Reproduce the vulnerability in test environment",
    "Check if vulnerability affects current stable version",
]
CHECKLIST_SIZE = 71
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def stalwart():
    return seeded_project("stalwart")


@pytest.fixture
def maintainer(stalwart):
    """Stalwart's maintainer, with an authenticator app (sign_in enrolls a fresh one each time,
    as allauth refuses a code used before).
    """
    user = member_of(stalwart, "maintainer@stalw.art")
    enroll_totp(user)
    return user


def sign_up_and_verify(page, mailoutbox, shot):
    """Sign up from the nav link, then confirm the address from the emailed link."""
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    page.get_by_label("Email").fill(REPORTER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    shot(page, "sign-up")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shot(page, "verification-sent")

    (verification,) = sent_emails(mailoutbox, to=REPORTER_EMAIL, subject="Confirm")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", verification.body).group()
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm Email Address")).to_be_visible()
    shot(page, "confirm-address")
    page.get_by_role("button", name="Confirm").click()
    # Confirmed, and asked to sign in (allauth does not sign in on confirmation: the link may
    # have been opened by someone else).
    expect(page.get_by_text(f"You have confirmed {REPORTER_EMAIL}.")).to_be_visible()
    shot(page, "verified")
    page.get_by_label("Email").fill(REPORTER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def file_report(page, poc, shot):
    open_stalwart_intake(page)
    fill_stalwart_intake(page, credit_name="Ada Lovelace")
    page.get_by_label("Attachments").set_input_files(poc)
    shot(page, "intake")
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_role("heading", name="Report received")).to_be_visible()


def test_stalwart_report_from_sign_up_to_published_advisory(
    page, live_server, stalwart, maintainer, mailoutbox, tmp_path
):
    shot = Screenshots("stalwart")
    today = timezone.localdate()
    tracking_id = f"STW-{today.year}-0001"
    advisory_id = f"STW-ADV-{today.year}-0001"
    poc = tmp_path / "smuggle.py"
    poc.write_text("print('MAIL FROM:<ceo@victim>')\n")

    # A new reporter signs up, verifies the address and files the report.
    sign_up_and_verify(page, mailoutbox, shot)
    reporter = get_user_model().objects.get(email=REPORTER_EMAIL)
    file_report(page, poc, shot)
    expect(page.get_by_text(tracking_id)).to_be_visible()
    shot(page, "report-received")
    report = Report.objects.get(tracking_id=tracking_id)
    assert (report.reporter, report.project, report.title) == (reporter, stalwart, TITLE)
    assert [a.name for a in report.attachments.all()] == ["smuggle.py"]
    sign_out(page)

    # The maintainer signs in with the second factor and finds it in the queue.
    sign_in(page, live_server, maintainer, shot=shot)
    follow_nav(page, QUEUE_NAV)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=tracking_id))
    expect(row).to_contain_text(TITLE)
    shot(page, "queue")
    row.get_by_role("link", name=tracking_id).click()
    expect(page.get_by_role("heading", name=tracking_id)).to_be_visible()
    expect(page.get_by_role("link", name="smuggle.py")).to_be_visible()
    expect(status_line(page)).to_contain_text(State.NEW.label)
    shot(page, "report-new")

    act(page, "Acknowledge")
    expect(status_line(page)).to_contain_text(State.ACKNOWLEDGED.label)
    shot(page, "acknowledged")

    # The incident checklist of Stalwart's process.
    page.get_by_role("button", name="Start the incident checklist").click()
    expect(page.get_by_role("heading", name="Incident checklist")).to_be_visible()
    for task in CHECKLIST_TASKS:
        page.get_by_label(task).check()
    page.get_by_role("button", name="Save the checklist").click()
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(page.get_by_text(f"2 of {CHECKLIST_SIZE} done.")).to_be_visible()
    for task in CHECKLIST_TASKS:
        expect(page.get_by_label(task)).to_be_checked()
    shot(page, "checklist")
    page.get_by_role("link", name=tracking_id).click()
    expect(page.get_by_text(f"Checklist: 2 of {CHECKLIST_SIZE} done.")).to_be_visible()

    act(page, "Request information", Message=QUESTION)
    expect(status_line(page)).to_contain_text(State.NEEDS_INFO.label)
    expect(page.get_by_text("Waiting for information from the reporter")).to_be_visible()
    shot(page, "information-requested")
    asked = [m for m in sent_emails(mailoutbox, to=REPORTER_EMAIL) if QUESTION in m.body]
    assert asked, [m.subject for m in mailoutbox]
    sign_out(page)

    # The reporter reads the question and answers: the report resumes.
    sign_in(page, live_server, reporter)
    open_report(page, tracking_id, nav=MY_REPORTS_NAV)
    expect(page.get_by_text(QUESTION)).to_be_visible()
    shot(page, "reporter-sees-question")
    act(page, "Provide the information", Message=ANSWER)
    expect(status_line(page)).to_contain_text(State.ACKNOWLEDGED.label)
    expect(page.get_by_text(ANSWER)).to_be_visible()
    shot(page, "reporter-answered")
    report.refresh_from_db()
    assert (report.state, report.paused_at) == (State.ACKNOWLEDGED, None)
    sign_out(page)

    # The maintainer scores, assesses and fixes.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    expect(page.get_by_text(ANSWER)).to_be_visible()
    page.locator("#cvss").get_by_label("CVSS vector").fill(VECTOR)
    page.get_by_role("button", name="Set CVSS vector").click()
    score = page.locator("#cvss").get_by_text("9.1", exact=True)
    reload_until_visible(page, score)
    expect(page.locator("#cvss")).to_contain_text("(Critical)")
    shot(page, "cvss-scored")

    # The severity follows the CVSS score where the triage form no longer asks for it.
    act(
        page,
        "Triage: detailed response",
        Message="Confirmed on 0.13.3: the relay accepts bare LF line endings.",
    )
    expect(status_line(page)).to_contain_text(State.TRIAGED.label)
    shot(page, "triaged")
    act(page, "Start fixing", Message="Strict CRLF parsing in smtp-inbound.")
    expect(status_line(page)).to_contain_text(State.FIXING.label)
    shot(page, "fixing")
    act(page, "Mark fixed", Message=f"Fixed in {FIXED_VERSION}.")
    expect(status_line(page)).to_contain_text(State.FIXED.label)
    act(
        page,
        "Record the fixed release",
        "Save",
        Fixed_version=FIXED_VERSION,
        Fix_released_on=today.isoformat(),
    )
    expect(page.locator("#fix-release")).to_have_text(
        f"Fix released in version {FIXED_VERSION} on {today:%Y-%m-%d}."
    )
    shot(page, "fixed-and-released")

    # Coordinated disclosure: the fix is out, the maintainer proposes today.
    act(
        page,
        "Propose a disclosure date",
        "Propose",
        Disclosure_date=today.isoformat(),
        Reason=f"{FIXED_VERSION} is released with the fix.",
    )
    expect(page.locator("#disclosure")).to_contain_text(f"Proposed {today:%Y-%m-%d}")
    shot(page, "disclosure-proposed")

    # The advisory: drafted from the report, completed, shared with the reporter.
    page.get_by_role("button", name="Draft the advisory").click()
    expect(page.get_by_role("heading", name=advisory_id)).to_be_visible()
    page.get_by_label("Fixed versions").fill(FIXED_VERSION)
    page.get_by_label("Fix commits").fill(FIX_COMMIT.upper())
    page.get_by_label(CWE_LABEL).fill("CWE-444")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Advisory saved.")).to_be_visible()
    shot(page, "advisory-drafted")
    page.get_by_role("button", name="Share with the reporter for review").click()
    expect(page.get_by_text("In review with the reporter")).to_be_visible()
    shot(page, "advisory-in-review")
    sign_out(page)

    # The reporter agrees to the date and approves the advisory.
    sign_in(page, live_server, reporter)
    open_report(page, tracking_id, nav=MY_REPORTS_NAV)
    disclosure = page.locator("#disclosure")
    disclosure.get_by_label("Agree").select_option(label="Agree")
    disclosure.get_by_role("button", name="Answer").click()
    expect(page.get_by_text(f"Planned disclosure: {today:%Y-%m-%d} (agreed)")).to_be_visible()
    shot(page, "reporter-agrees-date")
    approve_advisory(page, advisory_id)
    expect(page.get_by_text("CWE-444")).to_be_visible()
    shot(page, "reporter-approves-advisory")
    sign_out(page)

    # The maintainer publishes: the agreed date has come, no early reason is asked.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    page.get_by_role("link", name=advisory_id).click()
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("The disclosure date has come")).to_be_visible()
    shot(page, "publish")
    publish_now(page)
    shot(page, "published")
    report.refresh_from_db()
    assert report.state == State.DISCLOSED
    advisory = Advisory.objects.get(report=report)
    assert (advisory.state, advisory.fixed_versions) == (Advisory.State.PUBLISHED, ["0.13.4"])
    assert advisory.fix_commits == [FIX_COMMIT]
    assert Disclosure.objects.get(pk=report.pk).agreed_on == today

    # The world reads it on the project's advisories page and in its feed.
    sign_out(page)
    page.goto("/projects/stalwart/advisories/")
    listed = page.get_by_role("row").filter(has=page.get_by_role("link", name=advisory_id))
    expect(listed).to_contain_text(TITLE)
    expect(listed).to_contain_text("9.1 Critical")
    shot(page, "public-advisories")
    feed_url = page.get_by_role("link", name="Atom feed").get_attribute("href")
    feed = page.request.get(feed_url)
    assert feed.ok
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.body())  # noqa: S314 - the platform's own feed, in a test
    entries = root.findall(f"{ATOM}entry")
    assert [advisory_id in entry.findtext(f"{ATOM}title") for entry in entries] == [True]
    assert TITLE in entries[0].findtext(f"{ATOM}title")
    listed.get_by_role("link", name=advisory_id).click()
    expect(page.get_by_role("heading", name=advisory_id)).to_be_visible()
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    expect(page.get_by_text(FIX_COMMIT)).to_be_visible()
    shot(page, "public-advisory")
    # Its OSV record: Stalwart is its repository, so the fix commit is a GIT range on it.
    osv = page.request.get(page.get_by_role("link", name="OSV", exact=True).get_attribute("href"))
    assert osv.ok
    assert osv.json()["affected"][0]["ranges"][-1] == {
        "type": "GIT",
        "repo": "https://github.com/stalwartlabs/stalwart",
        "events": [{"introduced": "0"}, {"fixed": FIX_COMMIT}],
    }
    assert len(shot.taken) >= 20
