"""A TeamMail report from triage to the published advisory, clicked through by its maintainer and
its reporter: every button of the disclosure workflow posts what its view accepts.

TeamMail's policy: "We will propose a fix that we will review with you" (the reporter approves
the fix, its release and announcement schedule, and the advisory before it is published) and
"One week after the release we will disclose the vulnerability" (the approved announcement date
becomes the agreed disclosure date).
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from advisories.models import Advisory, Credit, Disclosure
from projects.models import Membership, Project
from reports import services
from reports.models import State
from tests.browser.helpers import sign_in, unfold
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def teammail():
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="teammail")


@pytest.fixture
def cast(teammail):
    reporter = UserFactory(email="reporter@example.org")
    maintainer = MembershipFactory(
        project=teammail,
        user=UserFactory(email="maintainer@example.org"),
        role=Membership.Role.MAINTAINER,
    ).user
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


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def open_report(page, report, via="My reports"):
    """From the nav: "Queue" for members, "My reports" for the reporter side."""
    page.get_by_role("link", name=via).click()
    page.get_by_role("link", name=report.tracking_id).click()
    expect(page.get_by_role("heading", name=report.tracking_id)).to_be_visible()


def act(page, summary, button=None, **fields):
    """Unfold an action of the report page, fill its fields by label, click its button."""
    panel = unfold(page, summary)
    for label, value in fields.items():
        field = panel.get_by_label(label.replace("_", " "))
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    panel.get_by_role("button", name=button or summary).click()


def test_a_report_goes_from_triage_to_a_published_advisory(page, live_server, cast):
    reporter, maintainer, report = cast
    today = timezone.localdate()
    released = today - dt.timedelta(days=1)

    # The maintainer assesses and fixes.
    sign_in(page, live_server, maintainer)
    open_report(page, report, via="Queue")
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
    # "We will propose a fix that we will review with you": the fix and its schedule.
    act(
        page,
        "Share the proposed fix and its schedule",
        "Share with the reporter",
        Link_to_the_fix="https://git.example.org/teammail/commit/42",
        The_fixed_release_ships_on=released.isoformat(),
        The_vulnerability_is_announced_on=today.isoformat(),
    )
    expect(page.get_by_text("The proposed fix and its schedule are shared")).to_be_visible()

    # ... drafts the advisory and shares it for review.
    page.get_by_role("button", name="Draft the advisory").click()
    expect(page.get_by_role("heading", name="TMM-ADV-")).to_be_visible()
    # The fixed versions start from the recorded release.
    expect(page.get_by_label("Fixed versions")).to_have_value("1.4.2")
    page.get_by_label("CWE").fill("CWE-79")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Advisory saved.")).to_be_visible()
    page.get_by_role("button", name="Share with the reporter for review").click()
    expect(page.get_by_text("In review with the reporter")).to_be_visible()
    # TeamMail's policy: not before the reporter approved the fix and the advisory.
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("review the proposed fix and its schedule")).to_be_visible()
    expect(page.get_by_text("review the advisory: share it")).to_be_visible()
    sign_out(page)

    # The reporter approves the fix and its schedule, chooses how to be credited, approves.
    sign_in(page, live_server, reporter)
    open_report(page, report)
    fix_review = page.locator("#fix-review")
    fix_review.get_by_label("Your answer").select_option(label="Approve the fix and its schedule")
    fix_review.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is recorded")).to_be_visible()
    expect(page.get_by_text(f"Planned disclosure: {today:%Y-%m-%d} (agreed)")).to_be_visible()
    credit = page.locator("#credit")
    credit.get_by_label("By name").check()
    credit.get_by_label("Name to credit").fill("Ada Reporter")
    credit.get_by_role("button", name="Save how I am credited").click()
    expect(page.get_by_text("this is how the advisory will credit you")).to_be_visible()
    page.get_by_role("link", name="TMM-ADV-").click()
    page.get_by_role("button", name="Approve the advisory").click()
    expect(page.get_by_text("Approved by the reporter")).to_be_visible()
    sign_out(page)

    # The maintainer publishes, confirming; the world reads it.
    sign_in(page, live_server, maintainer)
    open_report(page, report, via="Queue")
    page.get_by_role("link", name="TMM-ADV-").click()
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("It cannot be undone.")).to_be_visible()
    page.get_by_label("Publish now").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("is published.")).to_be_visible()
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_text("Ada Reporter")).to_be_visible()

    advisory = Advisory.objects.get(report=report)
    assert advisory.state == Advisory.State.PUBLISHED
    assert advisory.fixed_versions == ["1.4.2"]
    assert advisory.credits.get().display == Credit.Display.NAME
    report.refresh_from_db()
    assert report.state == State.DISCLOSED
    disclosure = Disclosure.objects.get(pk=report.pk)
    assert (disclosure.fix_version, disclosure.fix_released_on) == ("1.4.2", released)
