"""TeamMail: "We will propose a fix that we will review with you. This can take up to two weeks."
and "We will communicate to you the release and announcement schedule." The maintainers share the
proposed fix (a link or an attachment) with its release and announcement dates; the reporter
approves (the announcement date becomes the agreed disclosure date) or asks for changes.
"""

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from advisories.models import Disclosure, FixReview
from projects.models import Membership, Project
from reports import services
from reports.models import ReportEvent
from tests.factories import MembershipFactory
from tests.reports.conftest import share
from tests.signin import Client

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
RELEASE, ANNOUNCE = dt.date(2026, 12, 10), dt.date(2026, 12, 17)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def teammail(db):
    call_command("seed_projects", stdout=io.StringIO())
    return Project.objects.get(slug="teammail")


@pytest.fixture
def team(teammail, maintainer, triager):
    MembershipFactory(project=teammail, user=maintainer, role=Membership.Role.MAINTAINER)
    MembershipFactory(project=teammail, user=triager, role=Membership.Role.TRIAGER)


@pytest.fixture
def report(teammail, team, reporter, collaborator):
    fields = {
        "title": "Stored XSS in the preview",
        "description": "An SVG onload runs.",
        "affected_versions": ["other/unknown"],
        "steps_to_reproduce": "Send an SVG.",
        "impact": "Script in the session.",
    }
    filed = services.file_report(project=teammail, reporter=reporter, fields=fields)
    share(filed, by=reporter, with_user=collaborator)
    return filed


def as_user(user):
    client = Client()
    client.sign_in(user)
    return client


def share_fix(report, by, **data):
    values = {
        "fix_url": "https://git.example.org/teammail/commit/42",
        "release_on": f"{RELEASE}",
        "announce_on": f"{ANNOUNCE}",
        "note": "Sanitizer for SVG parts.",
        **data,
    }
    return as_user(by).post(f"/reports/{report.tracking_id}/fix-review/", values)


def answer(report, by, review, approve, response=""):
    url = f"/reports/{report.tracking_id}/fix-review/{review.pk}/respond/"
    return as_user(by).post(url, {"approve": "yes" if approve else "no", "response": response})


def test_only_maintainers_share_a_fix(report, cast):
    for who, status in (("stranger", 404), ("reporter", 403), ("collaborator", 403),
                        ("triager", 403), ("maintainer", 302)):  # fmt: skip
        assert share_fix(report, cast[who]).status_code == status, who
    (review,) = FixReview.objects.all()
    assert (review.release_on, review.announce_on, review.status) == (RELEASE, ANNOUNCE, "pending")
    event = ReportEvent.objects.filter(report=report).latest("pk")
    assert event.public
    assert event.message == (
        "Proposed fix shared for review: release on 2026-12-10, announcement on 2026-12-17. "
        "Sanitizer for SVG parts."
    )
    page = as_user(cast["reporter"]).get(f"/reports/{report.tracking_id}/").content.decode()
    assert "https://git.example.org/teammail/commit/42" in page
    assert "Send my answer" in page


def test_a_fix_needs_a_link_or_an_attachment_and_a_sensible_schedule(report, maintainer):
    share_fix(report, maintainer, fix_url="")
    share_fix(report, maintainer, announce_on="2026-12-01")  # before the release
    assert not FixReview.objects.exists()
    services.add_attachments(
        report=report, by=maintainer, files=[SimpleUploadedFile("fix.patch", b"--- a\n+++ b\n")]
    )
    attachment = report.attachments.get()
    assert share_fix(report, maintainer, fix_url="", attachment=attachment.pk).status_code == 302
    assert FixReview.objects.get().attachment == attachment


def test_the_reporter_approves_and_the_announcement_becomes_the_disclosure_date(
    report, reporter, collaborator, maintainer
):
    share_fix(report, maintainer)
    review = FixReview.objects.get()
    assert answer(report, collaborator, review, approve=True).status_code == 403
    assert answer(report, maintainer, review, approve=True).status_code == 403
    assert answer(report, reporter, review, approve=True).status_code == 302
    review.refresh_from_db()
    assert (review.status, review.responded_by) == ("approved", reporter)
    disclosure = Disclosure.objects.get(pk=report.pk)
    assert disclosure.agreed_on == ANNOUNCE
    assert disclosure.due == dt.datetime(2026, 12, 17, tzinfo=dt.UTC)
    event = ReportEvent.objects.filter(report=report).latest("pk")
    assert event.message == (
        "Reporter approved the fix and its schedule: announcement on 2026-12-17."
    )
    # Once.
    answer(report, reporter, review, approve=False, response="Changed my mind.")
    review.refresh_from_db()
    assert review.status == "approved"


def test_asking_for_changes_needs_to_say_which(report, reporter, maintainer):
    share_fix(report, maintainer)
    review = FixReview.objects.get()
    answer(report, reporter, review, approve=False)
    review.refresh_from_db()
    assert review.status == "pending"
    answer(report, reporter, review, approve=False, response="The PNG path is open too.")
    review.refresh_from_db()
    assert (review.status, review.response) == ("changes", "The PNG path is open too.")
    assert Disclosure.objects.get(pk=report.pk).agreed_on is None
    # A revised fix replaces any one still waiting.
    share_fix(report, maintainer, note="Also PNG.")
    share_fix(report, maintainer, note="Also PNG, and GIF.")
    statuses = list(FixReview.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["changes", "superseded", "pending"]
