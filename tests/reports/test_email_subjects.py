"""Email subjects name what happened: "[ACME-2026-0001] Acknowledged by the Acme security team",
not the event's kind glued to the report's state ("CVSS vector set: Acknowledged").
"""

import pytest

from advisories import services as advisory_services
from mailer.models import OutboundEmail
from reports import services
from reports.models import State
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def subjects_to(address):
    return [row.subject for row in OutboundEmail.objects.filter(to=address).order_by("pk")]


def only_subject_to(address):
    (subject,) = subjects_to(address)
    OutboundEmail.objects.all().delete()
    return subject


def test_the_lifecycle_subjects_say_what_happened(report, reporter, maintainer, triager):
    tid = report.tracking_id
    services.transition(report=report, by=maintainer, name="acknowledge")
    assert only_subject_to(reporter.email) == f"[{tid}] Acknowledged by the Acme security team"

    services.transition(report=report, by=maintainer, name="request_info", message="Which OS?")
    assert subjects_to(reporter.email) == [f"[{tid}] Needs information from you"]
    assert only_subject_to(triager.email) == f"[{tid}] Waiting for information from the reporter"

    services.transition(report=report, by=reporter, name="provide_info", message="Debian.")
    assert only_subject_to(triager.email) == f"[{tid}] Information provided by the reporter"

    services.transition(
        report=report, by=maintainer, name="triage", message="Real.", severity="high"
    )
    assert only_subject_to(reporter.email) == f"[{tid}] Triaged by the Acme security team"

    services.set_cvss_vector(report=report, by=maintainer, vector=VECTOR)
    assert only_subject_to(reporter.email) == f"[{tid}] CVSS score set: 9.8 Critical"

    services.transition(report=report, by=maintainer, name="start_fix")
    assert only_subject_to(reporter.email) == f"[{tid}] A fix is in progress"

    services.transition(report=report, by=maintainer, name="mark_fixed")
    assert only_subject_to(reporter.email) == f"[{tid}] Fixed"

    advisory_services.propose_disclosure(
        report=report, by=maintainer, date=report.created_at.date(), reason="Shipped. Secret."
    )
    assert only_subject_to(reporter.email) == f"[{tid}] Disclosure proposed for " + (
        f"{report.created_at:%Y-%m-%d}"
    )


@pytest.mark.parametrize(
    ("resolution", "subject"),
    [
        (State.DUPLICATE, "Closed as duplicate"),
        (State.NOT_APPLICABLE, "Closed as not applicable"),
        (State.OUT_OF_SCOPE, "Closed as out of scope"),
        (State.SPAM, "Closed as spam"),
    ],
)
def test_closing_names_how(report, reporter, maintainer, resolution, subject):
    options = {"resolution": resolution}
    if resolution == State.DUPLICATE:
        options["duplicate_of"] = file(reporter, report.project, title="The first one")
        OutboundEmail.objects.all().delete()
    services.transition(report=report, by=maintainer, name="close", message="No.", **options)
    assert only_subject_to(reporter.email) == f"[{report.tracking_id}] {subject}"
    services.transition(report=report, by=maintainer, name="reopen", message="Wait.")
    assert only_subject_to(reporter.email) == f"[{report.tracking_id}] Reopened"


def test_withdrawing_and_collaborators(report, reporter, maintainer, collaborator, poc_file):
    tid = report.tracking_id
    services.invite_collaborator(report=report, by=reporter, email="friend@example.org")
    assert f"[{tid}] friend@example.org was invited to follow the report" in subjects_to(
        maintainer.email
    )
    OutboundEmail.objects.all().delete()
    services.add_attachments(report=report, by=reporter, files=[poc_file])
    assert only_subject_to(maintainer.email) == f"[{tid}] Attachment added: poc.py"
    services.transition(report=report, by=reporter, name="withdraw", message="My mistake.")
    assert only_subject_to(maintainer.email) == f"[{tid}] Withdrawn by the reporter"


def test_comment_subjects_say_who_wrote(report, reporter, maintainer, triager):
    tid = report.tracking_id
    services.add_comment(report=report, by=maintainer, body="Hi.", internal=False, by_member=True)
    assert only_subject_to(reporter.email) == f"[{tid}] New comment from the Acme security team"
    services.add_comment(report=report, by=reporter, body="Hi!", internal=False, by_member=False)
    assert only_subject_to(triager.email) == f"[{tid}] New comment from the reporter"


def test_no_subject_glues_the_kind_to_the_state(report, reporter, maintainer):
    services.transition(report=report, by=maintainer, name="acknowledge")
    services.set_cvss_vector(report=report, by=maintainer, vector=VECTOR)
    services.invite_collaborator(report=report, by=maintainer, email="friend@example.org")
    for subject in OutboundEmail.objects.values_list("subject", flat=True):
        assert ": Acknowledged" not in subject
        assert "State changed" not in subject
        assert "Collaborator invited" not in subject
