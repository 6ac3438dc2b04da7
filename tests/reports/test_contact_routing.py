"""A report never reaches nobody (reports.emails.project_side): every member-side notification
goes to the active members holding the role that acts on it and, while no active member holds
it, to the project's security contact, as a notice without content: the project's name, the
tracking ID, a generic phrase and the link, never the title, the text, a comment or the reporter.

    new report, report events, comments, SLA reminders   triager
    disclosure-date reminders                            maintainer
    escalation (no acknowledgment)                       admin, and the backup contact always
"""

import datetime as dt

import pytest

from advisories.reminders import Kind as DisclosureKind
from mailer.models import OutboundEmail
from projects.models import Membership
from projects.reminders import END_OF_SUPPORT
from reports import services, sweep
from reports.emails import report_url
from reports.models import Reminder
from reports.reminders import Kind
from tests.factories import MembershipFactory, SupportedVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACT = "security@acme.example.org"  # the `project` fixture's security_email
BACKUP = "backup@acme.example.org"
SENTINEL = "SENTINEL-content-9c41"


def file(project, reporter):
    """A report whose title and text carry the sentinel."""
    return services.file_report(
        project=project,
        reporter=reporter,
        fields={
            "title": f"Heap overflow {SENTINEL}",
            "description": f"The parser overflows: {SENTINEL}",
            "steps_to_reproduce": f"Send {SENTINEL} in a long header.",
        },
    )


def about(report, to):
    """The outbox rows about `report` to `to`."""
    return list(
        OutboundEmail.objects.filter(about=f"reports.report:{report.pk}", to=to).order_by("pk")
    )


def subjects(rows):
    return [row.subject for row in rows]


def assert_content_free(rows, report):
    assert rows, "nothing reached the address: the check below would prove nothing"
    for row in rows:
        for text in (row.subject, row.body, row.html):
            assert SENTINEL not in text, row.subject
            assert report.reporter.email not in text, row.subject
        assert report.tracking_id in row.subject
        assert report.project.name in row.body
        assert f"/reports/{report.tracking_id}/" in row.body
        assert f'href="{report_url(report)}"' in row.html


def due_at(report, kind):
    return Reminder.objects.get(report=report, kind=kind).send_at


# --- New reports, events, comments --------------------------------------------------------------


def test_with_no_member_the_new_report_reaches_the_security_contact_without_content(
    project, reporter
):
    report = file(project, reporter)
    rows = about(report, CONTACT)
    assert subjects(rows) == [f"[{report.tracking_id}] New report for Acme"]
    assert_content_free(rows, report)
    # The reporter's own confirmation is not affected.
    assert subjects(about(report, reporter.email)) == [f"[{report.tracking_id}] Report received"]


def test_with_a_triager_the_new_report_reaches_the_triager_in_full_and_not_the_contact(
    project, reporter, triager
):
    report = file(project, reporter)
    assert about(report, CONTACT) == []
    (full,) = about(report, triager.email)
    assert SENTINEL in full.body  # the title, for the member who passed a second factor


def test_the_reporters_comments_and_answers_reach_the_contact_without_content(
    project, reporter, superuser
):
    report = file(project, reporter)
    OutboundEmail.objects.all().delete()
    # Someone from the instance asks (a superuser, no member of the project); the reporter
    # comments and answers, and an internal note is written.
    services.transition(
        report=report, by=superuser, name="request_info", message=f"Which {SENTINEL}?"
    )
    services.add_comment(
        report=report, by=reporter, body=f"Still {SENTINEL}", internal=False, by_member=False
    )
    services.add_comment(
        report=report, by=superuser, body=f"Note {SENTINEL}", internal=True, by_member=True
    )
    report.refresh_from_db()
    rows = about(report, CONTACT)
    tracking = report.tracking_id
    assert subjects(rows) == [
        f"[{tracking}] State changed",  # information requested
        f"[{tracking}] New comment",  # the reporter's comment...
        f"[{tracking}] State changed",  # ...which answers the request
        f"[{tracking}] New comment",  # the internal note: a comment, nothing more
    ]
    assert_content_free(rows, report)
    # The control: the reporter side gets the public text, so the sentinel was there to leak.
    assert any(SENTINEL in row.body for row in about(report, reporter.email))


def test_the_actor_gets_no_notice_of_their_own_action(project, superuser):
    """A contact address that is also the acting account's is left out, like any actor."""
    contact = UserFactory(email=CONTACT)
    report = file(project, contact)
    OutboundEmail.objects.all().delete()
    services.add_comment(report=report, by=contact, body="More.", internal=False, by_member=False)
    assert about(report, CONTACT) == []


# --- Reminders ----------------------------------------------------------------------------------


def test_sla_reminders_reach_the_contact_while_nobody_can_act(project, reporter):
    report = file(project, reporter)
    OutboundEmail.objects.all().delete()
    assert sweep.sweep(now=due_at(report, Kind.ACK_OVERDUE)) == 2
    rows = about(report, CONTACT)
    assert sorted(subjects(rows)) == [
        f"[{report.tracking_id}] Acknowledgment due soon",
        f"[{report.tracking_id}] Acknowledgment overdue",
    ]
    assert_content_free(rows, report)


def test_sla_reminders_go_to_the_triager_once_there_is_one(project, reporter, triager):
    report = file(project, reporter)
    OutboundEmail.objects.all().delete()
    assert sweep.sweep(now=due_at(report, Kind.ACK_OVERDUE)) == 2
    assert about(report, CONTACT) == []
    assert len(about(report, triager.email)) == 2


def test_disclosure_reminders_need_a_maintainer_and_reach_the_contact_meanwhile(
    project, reporter, triager
):
    """A triager may not publish nor move the date: the date is the contact's to hear of."""
    project.revisions.update(disclosure_days_after_report=30)
    report = file(project, reporter)
    OutboundEmail.objects.all().delete()
    due = due_at(report, DisclosureKind.DISCLOSURE_DUE)
    Reminder.objects.filter(report=report).exclude(kind__startswith="disclosure_").update(
        sent_at=due
    )  # the SLA clocks are not under test here
    assert sweep.sweep(now=due) == 3
    rows = about(report, CONTACT)
    assert sorted(subjects(rows)) == [
        f"[{report.tracking_id}] Disclosure date in a week",
        f"[{report.tracking_id}] Disclosure date reached",
        f"[{report.tracking_id}] Disclosure date tomorrow",
    ]
    assert_content_free(rows, report)
    assert about(report, triager.email) == []

    # A maintainer joins: the next report's dates are theirs, in full, and the contact's no more.
    maintainer = MembershipFactory(project=project, role=Membership.Role.MAINTAINER).user
    later = file(project, reporter)
    OutboundEmail.objects.all().delete()
    due = due_at(later, DisclosureKind.DISCLOSURE_DUE)
    Reminder.objects.filter(report=later).exclude(kind__startswith="disclosure_").update(
        sent_at=due
    )
    assert sweep.sweep(now=due) == 3
    assert about(later, CONTACT) == []
    assert len(about(later, maintainer.email)) == 3
    assert all(SENTINEL in row.body for row in about(later, maintainer.email))


@pytest.fixture
def escalating(project):
    project.backup_email = BACKUP
    project.backup_after_hours = 48
    project.save()
    return project


def test_the_escalation_reaches_the_backup_and_the_contact_while_there_is_no_admin(
    escalating, reporter, maintainer
):
    report = file(escalating, reporter)
    OutboundEmail.objects.all().delete()
    when = due_at(report, Kind.BACKUP_ESCALATION)
    Reminder.objects.filter(report=report).exclude(kind=Kind.BACKUP_ESCALATION).update(sent_at=when)
    assert sweep.sweep(now=when) == 1
    subject = f"[{report.tracking_id}] No acknowledgment: backup contact"
    for address in (BACKUP, CONTACT):
        rows = about(report, address)
        assert subjects(rows) == [subject]
        assert_content_free(rows, report)
    assert about(report, maintainer.email) == []  # an escalation is for those above them


def test_the_escalation_reaches_the_admins_in_full_and_the_backup_without_content(
    escalating, reporter, project_admin
):
    report = file(escalating, reporter)
    OutboundEmail.objects.all().delete()
    when = due_at(report, Kind.BACKUP_ESCALATION)
    Reminder.objects.filter(report=report).exclude(kind=Kind.BACKUP_ESCALATION).update(sent_at=when)
    assert sweep.sweep(now=when) == 1
    assert about(report, CONTACT) == []
    assert_content_free(about(report, BACKUP), report)
    (full,) = about(report, project_admin.email)
    assert SENTINEL in full.body


def test_a_deactivated_member_does_not_stand_in_for_the_contact(project, reporter):
    MembershipFactory(
        project=project, role=Membership.Role.ADMIN, user=UserFactory(is_active=False)
    )
    report = file(project, reporter)
    assert subjects(about(report, CONTACT)) == [f"[{report.tracking_id}] New report for Acme"]


def test_end_of_support_reaches_the_contact_while_the_project_has_no_member(project):
    now = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    SupportedVersionFactory(
        revision=project.revisions.get(), series="1.x", end_of_support=now.date()
    )
    assert END_OF_SUPPORT.sweep(now=now) == 1
    (row,) = OutboundEmail.objects.filter(to=CONTACT)
    assert row.subject == "[Acme] 1.x reaches its end of support on 2026-12-01"
