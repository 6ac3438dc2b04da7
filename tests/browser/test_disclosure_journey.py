"""A TeamMail report from triage to the published advisory, clicked through by its maintainer and
its reporter: every button of the disclosure workflow posts what its view accepts.

TeamMail's policy: "We will propose a fix that we will review with you" (the reporter approves
the fix, its release and announcement schedule, and the advisory before it is published) and
"One week after the release we will disclose the vulnerability" (the approved announcement date
becomes the agreed disclosure date).
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from advisories.models import Advisory, Credit, Disclosure, FixReview
from reports import services
from reports.models import State
from tests.browser.helpers import (
    CWE_LABEL,
    QUEUE_NAV,
    Screenshots,
    act,
    approve_advisory,
    member_of,
    open_report,
    publish_now,
    seeded_project,
    sent_emails,
    sign_in,
    sign_out,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def teammail():
    return seeded_project("teammail")


@pytest.fixture
def cast(teammail):
    reporter = UserFactory(email="reporter@example.org")
    maintainer = member_of(teammail, "maintainer@example.org")
    report = services.file_report(
        project=teammail,
        reporter=reporter,
        fields={
            "title": "Stored XSS in the message preview",
            "description": "An HTML part runs script in the preview pane.",
            "affected_versions": ["other/unknown"],
            "steps_to_reproduce": "Send a message with an HTML part holding an SVG onload.",
            "impact": "Script runs in the recipient's session.",
        },
    )
    return reporter, maintainer, report


FIRST_FIX = "https://git.example.org/teammail/commit/41"
REVISED_FIX = "https://git.example.org/teammail/commit/43"
CHANGES = "The sanitizer still lets SVG <animate> handlers through."
CORRECTION = "The advisory should say the preview pane, not the composer."
DETAILS = "Script in an HTML part ran in the preview pane, in the recipient's session."


def test_a_report_goes_from_triage_to_a_published_advisory(page, live_server, cast, mailoutbox):
    reporter, maintainer, report = cast
    tracking_id = report.tracking_id
    shot = Screenshots("teammail")
    today = timezone.localdate()
    released = today - dt.timedelta(days=1)

    # The maintainer assesses and fixes.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    act(page, "Triage: detailed response", Severity="High", Message="Confirmed in 1.4.")
    expect(page.get_by_text("Triaged", exact=True).first).to_be_visible()
    act(page, "Start fixing", Message="Sanitizer patch in review.")
    act(page, "Mark fixed", Message="Fixed in 1.4.2.")
    expect(page.get_by_text("Fixed", exact=True).first).to_be_visible()
    # A release is its version and its date.
    act(
        page,
        "Record the fixed release",
        "Save",
        Fixed_version="1.4.2",
        Fix_released_on=released.isoformat(),
    )
    expect(page.locator("#fix-release")).to_have_text(
        f"Fix released in version 1.4.2 on {released:%Y-%m-%d}."
    )
    week_later = released + dt.timedelta(days=7)
    expect(page.get_by_text(f"Planned disclosure: {week_later:%Y-%m-%d}")).to_be_visible()
    shot(page, "fixed-and-released")
    # "We will propose a fix that we will review with you": the fix and its schedule.
    act(
        page,
        "Share the proposed fix and its schedule",
        "Share with the reporter",
        Link_to_the_fix=FIRST_FIX,
        The_fixed_release_ships_on=released.isoformat(),
        The_vulnerability_is_announced_on=today.isoformat(),
    )
    expect(page.get_by_text("The proposed fix and its schedule are shared")).to_be_visible()
    shot(page, "fix-shared")

    # "We will propose a draft for the announcement that we will review with you".
    page.get_by_role("button", name="Draft the advisory").click()
    expect(page.get_by_role("heading", name="TMM-ADV-")).to_be_visible()
    # The fixed versions start from the recorded release.
    expect(page.get_by_label("Fixed versions")).to_have_value("1.4.2")
    page.get_by_label(CWE_LABEL).fill("CWE-79")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Advisory saved.")).to_be_visible()
    page.get_by_role("button", name="Share with the reporter for review").click()
    expect(page.get_by_text("In review with the reporter")).to_be_visible()
    shot(page, "advisory-shared")
    # TeamMail's policy: not before the reporter approved the fix and the advisory.
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("review the proposed fix and its schedule")).to_be_visible()
    expect(page.get_by_text("review the advisory: share it")).to_be_visible()
    shot(page, "publication-blocked")
    sign_out(page)

    # The reporter is told, reviews the fix and asks for changes, and corrects the advisory.
    told = [m.body for m in sent_emails(mailoutbox, to=reporter.email)]
    assert any("Proposed fix shared for review" in body for body in told), told
    assert any("shared with the reporter for review" in body for body in told), told
    sign_in(page, live_server, reporter)
    open_report(page, tracking_id)
    fix_review = page.locator("#fix-review")
    expect(fix_review.get_by_role("link", name="Proposed fix")).to_have_attribute("href", FIRST_FIX)
    fix_review.get_by_label("Your answer").select_option(label="Ask for changes")
    fix_review.get_by_label("Response").fill(CHANGES)
    fix_review.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is recorded")).to_be_visible()
    expect(fix_review).to_contain_text(CHANGES)
    expect(page.get_by_text("(agreed)")).to_have_count(0)
    page.get_by_label("Comment").fill(CORRECTION)
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_text(CORRECTION)).to_be_visible()
    shot(page, "reporter-asks-for-changes")
    sign_out(page)

    # The maintainer shares the revised fix and corrects the advisory.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    expect(page.locator("#fix-review")).to_contain_text(CHANGES)
    expect(page.get_by_text(CORRECTION)).to_be_visible()
    act(
        page,
        "Share the proposed fix and its schedule",
        "Share with the reporter",
        Link_to_the_fix=REVISED_FIX,
        The_fixed_release_ships_on=released.isoformat(),
        The_vulnerability_is_announced_on=today.isoformat(),
    )
    expect(page.get_by_text("The proposed fix and its schedule are shared")).to_be_visible()
    shot(page, "revised-fix-shared")
    page.get_by_role("link", name="TMM-ADV-").click()
    page.get_by_label("Details").fill(DETAILS)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Advisory saved.")).to_be_visible()
    shot(page, "advisory-corrected")
    sign_out(page)

    # The reporter approves the revised fix and its schedule, chooses the credit, approves.
    sign_in(page, live_server, reporter)
    open_report(page, tracking_id)
    fix_review = page.locator("#fix-review")
    pending = (
        fix_review.locator("div")
        .filter(has=page.get_by_role("link", name="Proposed fix"))
        .filter(has=page.get_by_role("button", name="Send my answer"))
    )
    expect(pending.get_by_role("link", name="Proposed fix")).to_have_attribute("href", REVISED_FIX)
    pending.get_by_label("Your answer").select_option(label="Approve the fix and its schedule")
    pending.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is recorded")).to_be_visible()
    expect(page.get_by_text(f"Planned disclosure: {today:%Y-%m-%d} (agreed)")).to_be_visible()
    credit = page.locator("#credit")
    credit.get_by_label("By name").check()
    credit.get_by_label("Name to credit").fill("Ada Reporter")
    credit.get_by_role("button", name="Save how I am credited").click()
    expect(page.get_by_text("this is how the advisory will credit you")).to_be_visible()
    shot(page, "reporter-approves-fix")
    approve_advisory(page, "TMM-ADV-")
    expect(page.get_by_text(DETAILS)).to_be_visible()
    shot(page, "reporter-approves-advisory")
    sign_out(page)

    # The maintainer publishes, confirming; the world reads it.
    sign_in(page, live_server, maintainer)
    open_report(page, tracking_id, nav=QUEUE_NAV)
    page.get_by_role("link", name="TMM-ADV-").click()
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("It cannot be undone.")).to_be_visible()
    publish_now(page)
    shot(page, "published")
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_text("Ada Reporter")).to_be_visible()
    expect(page.get_by_text(DETAILS)).to_be_visible()
    shot(page, "public-advisory")

    advisory = Advisory.objects.get(report=report)
    assert advisory.state == Advisory.State.PUBLISHED
    assert advisory.fixed_versions == ["1.4.2"]
    assert advisory.details == DETAILS
    assert advisory.credits.get().display == Credit.Display.NAME
    report.refresh_from_db()
    assert report.state == State.DISCLOSED
    assert [(r.fix_url, r.status) for r in report.fix_reviews.order_by("pk")] == [
        (FIRST_FIX, FixReview.Status.CHANGES),
        (REVISED_FIX, FixReview.Status.APPROVED),
    ]
    disclosure = Disclosure.objects.get(pk=report.pk)
    assert (disclosure.fix_version, disclosure.fix_released_on) == ("1.4.2", released)
