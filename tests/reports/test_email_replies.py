"""Replies by email start from the notifications: each person with an account gets a Reply-To
of their own, signed for the report and for them (mailer.replies); members also get their
internal address; contacts and invitees get neither. Their mail clients show one thread per
report: In-Reply-To/References chain every message to that person, received mail included.
"""

import pytest
from django.utils import timezone

from mailer import outbox
from mailer.models import InboundEmail, OutboundEmail, reference
from mailer.replies import ReplyTarget, read_reply_address
from projects.access import TRIAGER
from reports import emails, services
from tests.factories import MembershipFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

REPLY_FOOTER = "Reply to this email to add a comment to the report."
INTERNAL_FOOTER = "To write an internal note instead, send your reply to"


@pytest.fixture(autouse=True)
def _inbox(settings):
    settings.SITE_URL = "https://disclosure.example.org"
    settings.INBOX_REPLY_ADDRESS = "reply@disclosure.example.org"


def delivered(mailoutbox):
    """{recipient: [messages as the mail server got them]} of everything pending."""
    outbox.deliver_pending()
    found = {}
    for message in mailoutbox:
        found.setdefault(message.to[0], []).append(message)
    mailoutbox.clear()
    return found


def html_of(message):
    (html, _), *_ = message.alternatives
    return html


def test_the_reporters_notification_answers_to_their_own_reply_address(
    project, reporter, maintainer, mailoutbox
):
    report = file(reporter, project)
    (message,) = delivered(mailoutbox)[reporter.email]
    (reply_to,) = message.reply_to
    assert message.message()["Reply-To"] == reply_to
    assert read_reply_address(reply_to) == ReplyTarget(
        about=reference(report), user_id=reporter.pk, internal=False
    )
    for text in (message.body, html_of(message)):
        assert REPLY_FOOTER in text
        assert INTERNAL_FOOTER not in text
        assert "internal-" not in text


def test_a_member_learns_their_own_internal_address(project, reporter, maintainer, triager):
    report = file(reporter, project)
    for member in (maintainer, triager):
        row = OutboundEmail.objects.get(to=member.email)
        assert read_reply_address(row.reply_to) == ReplyTarget(
            about=reference(report), user_id=member.pk, internal=False
        )
        internal = [w.rstrip(".") for w in row.body.split() if w.startswith("reply+internal-")]
        assert len(internal) == 1
        assert read_reply_address(internal[0]) == ReplyTarget(
            about=reference(report), user_id=member.pk, internal=True
        )
        assert f"{REPLY_FOOTER}\n{INTERNAL_FOOTER} {internal[0]}." in row.body
        assert f'<a href="mailto:{internal[0]}">{internal[0]}</a>' in row.html
    # Each member's own: one member's address does not sign for the other.
    assert (
        len(
            {
                row.body
                for row in OutboundEmail.objects.filter(to__in=[maintainer.email, triager.email])
            }
        )
        == 2
    )


def test_the_reporter_side_of_a_public_message_gets_no_internal_address(
    report, reporter, collaborator, maintainer, triager, mailoutbox
):
    services.add_comment(report=report, by=triager, body="Fixed?", internal=False, by_member=True)
    got = delivered(mailoutbox)
    for person in (reporter, collaborator):
        (message,) = got[person.email]
        assert read_reply_address(message.reply_to[0]).user_id == person.pk
        assert REPLY_FOOTER in message.body
        assert INTERNAL_FOOTER not in message.body
    (message,) = got[maintainer.email]
    assert INTERNAL_FOOTER in message.body


def test_a_contact_notice_has_no_reply_address(project, reporter, mailoutbox):
    report = file(reporter, project)  # nobody is a member of Acme: its security contact is told
    # The notice, and the invitation to claim the project.
    messages = delivered(mailoutbox)[project.security_email]
    assert f"[{report.tracking_id}] New report for Acme" in [m.subject for m in messages]
    for message in messages:
        assert message.reply_to == []
        assert message.message()["Reply-To"] is None
        assert REPLY_FOOTER not in message.body
        assert "reply+" not in message.body + html_of(message)


def test_an_invitation_has_no_reply_address(report, reporter, mailoutbox):
    services.invite_collaborator(report=report, by=reporter, email="newcomer@example.org")
    (invitation,) = delivered(mailoutbox)["newcomer@example.org"]
    assert invitation.reply_to == []
    assert REPLY_FOOTER not in invitation.body


def test_three_messages_to_the_reporter_form_one_thread(project, reporter, triager, mailoutbox):
    report = file(reporter, project)
    services.add_comment(report=report, by=triager, body="Looking", internal=False, by_member=True)
    services.transition(report=report, by=triager, name="acknowledge", message="Got it.")
    messages = [m.message() for m in delivered(mailoutbox)[reporter.email]]
    assert len(messages) == 3
    ids = [m["Message-ID"] for m in messages]
    assert len(set(ids)) == 3
    assert messages[0]["In-Reply-To"] is None
    assert messages[0]["References"] is None
    assert messages[1]["In-Reply-To"] == ids[0]
    assert messages[1]["References"] == ids[0]
    assert messages[2]["In-Reply-To"] == ids[1]
    assert messages[2]["References"].split() == ids[:2]
    for message in messages:
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "All"


def test_the_reporters_latest_email_to_us_is_the_parent(project, reporter, triager, mailoutbox):
    report = file(reporter, project)
    (first,) = [m.message() for m in delivered(mailoutbox)[reporter.email]]
    # The reporter answered by email (the gateway stores the message; made directly here).
    InboundEmail.objects.create(
        message_id="<answer-1@mail.example.org>",
        sender=reporter.email,
        about=reference(report),
        outcome=InboundEmail.Outcome.COMMENT,
        in_reply_to=first["Message-ID"],
        references=first["Message-ID"],
        size=512,
        received_at=timezone.now(),
    )
    services.transition(report=report, by=triager, name="acknowledge", message="Got it.")
    (second,) = [m.message() for m in delivered(mailoutbox)[reporter.email]]
    assert second["In-Reply-To"] == "<answer-1@mail.example.org>"
    assert second["References"].split() == [first["Message-ID"], "<answer-1@mail.example.org>"]
    # The triager's own thread does not include the reporter's mail.
    triager_rows = OutboundEmail.objects.filter(to=triager.email)
    assert "<answer-1@mail.example.org>" not in " ".join(r.references for r in triager_rows)


@pytest.mark.parametrize("members", [1, 8])
def test_reply_addresses_cost_one_query_whatever_the_recipients(
    members, project, reporter, django_assert_num_queries
):
    report = file(reporter, project)
    team = [MembershipFactory(project=project, role="triager").user for _ in range(members)]
    pairs = [(user.email, "triager") for user in team]
    with django_assert_num_queries(1):  # the accounts of every address, at once
        rows = emails.for_project(
            "new_report",
            report=report,
            subject="Test",
            minimum=TRIAGER,
            members=pairs,
            also_to=[reporter.email],
        )
    assert {row.to: read_reply_address(row.reply_to).user_id for row in rows} == {
        **{user.email: user.pk for user in team},
        reporter.email: reporter.pk,
    }
