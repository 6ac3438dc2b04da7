"""Replies by email (issue 13 part 3): a reply becomes a comment only when it proves its sender,
by the reply address of a notification or by our MTA's DMARC pass for a verified account that
sees the report; everything else gets one neutral answer that tells nothing.

The gateway (inbox.gateway, the intake work) is not called here: each test parses a fixture
message from tests/inbox/messages/replies/ and hands it to inbox.replies.handle the way the
gateway does (an unsaved InboundEmail, the reply target read from the recipient, the project
and tracking ID of an intake address), then saves the InboundEmail as the gateway does.
"""

import email
import email.policy
import itertools
import re
import zlib
from pathlib import Path
from string import Template

import pytest
from django.utils import timezone

from inbox import gateway, replies
from mailer import outbox
from mailer.models import InboundEmail, OutboundEmail, reference
from mailer.replies import read_reply_address, reply_address
from projects.models import IntakeAddress, Membership
from reports import emails, services
from reports.models import Attachment, State
from tests.admin_helpers import staff_with_every_permission

MESSAGES = Path(__file__).parent / "messages" / "replies"
TRUSTED = "mx.disclosure.example"
INTAKE = "security@acme.example.org"
Outcome = InboundEmail.Outcome


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    settings.INBOX_TRUSTED_AUTHSERV_IDS = [TRUSTED]


@pytest.fixture
def report(project, reporter, collaborator, maintainer, triager):
    filed = services.file_report(
        project=project,
        reporter=reporter,
        fields={
            "title": "Heap overflow in the parser",
            "description": "The parser overflows.",
            "steps_to_reproduce": "Send a long header.",
        },
    )
    invitation = services.invite_collaborator(report=filed, by=reporter, email=collaborator.email)
    services.accept_invitation(token=invitation.token, user=collaborator)
    filed.refresh_from_db()
    OutboundEmail.objects.all().delete()  # the setup's notifications are not under test
    return filed


MESSAGE_NUMBERS = itertools.count(1)


def raw_message(name, *, sender, to, tracking_id):
    text = Template((MESSAGES / name).read_text()).substitute(
        sender=sender,
        sender_name="Rita Reporter",
        to=to,
        tracking_id=tracking_id,
        message_id=f"{next(MESSAGE_NUMBERS)}.{name}@mail.example.org",
    )
    return text.replace("\n", "\r\n").encode()


def deliver(name, *, sender, to, tracking_id=None, project=None):
    """What the gateway does with a reply: parse, record, route, hand to handle(), save.
    `tracking_id`: the one of the subject of mail to an intake address (else the report's)."""
    raw = raw_message(name, sender=sender, to=to, tracking_id=tracking_id or "ACME-2026-0001")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    inbound = InboundEmail(
        message_id=message["Message-ID"],
        sender=sender.lower(),
        recipient=to,
        size=len(raw),
        raw=zlib.compress(raw),
        received_at=timezone.now(),
    )
    replies.handle(
        message=message,
        inbound=inbound,
        target=read_reply_address(to),
        project=project,
        tracking_id=tracking_id,
    )
    inbound.save()
    return inbound


def reply_to(report, user, *, internal=False):
    return reply_address(reference(report), user.pk, internal=internal)


def sent(**filters):
    return {(row.to, row.subject) for row in OutboundEmail.objects.filter(**filters)}


# --- Replies to a notification's reply address ------------------------------------------------


def test_reply_with_quoted_text_becomes_a_comment_with_only_the_new_text(report, reporter):
    inbound = deliver("gmail_quoted.eml", sender=reporter.email, to=reply_to(report, reporter))

    comment = report.comments.get()
    assert comment.body == "The crash also happens on 2.1.4 with the default configuration."
    assert (comment.author, comment.internal, comment.by_member) == (reporter, False, False)
    assert comment.inbound_email == inbound
    assert (inbound.outcome, inbound.about) == (Outcome.COMMENT, reference(report))
    # The raw message is kept whole for audit, quote and all.
    stored = InboundEmail.objects.get(pk=inbound.pk).raw_message()
    assert b"Which version did you test?" in stored
    assert b"On Tue, Dec 1, 2026 at 9:00 AM" in stored


def test_reporters_reply_is_a_public_comment_the_members_are_told_of(
    report, reporter, collaborator, maintainer, triager
):
    deliver("outlook_top_post.eml", sender=reporter.email, to=reply_to(report, reporter))

    comment = report.comments.get()
    assert comment.body == "Version 2.1.4, built from the release tarball.\n\nRegards,\nRita"
    assert sent() == {
        (maintainer.email, f"[{report.tracking_id}] New comment from the reporter"),
        (triager.email, f"[{report.tracking_id}] New comment from the reporter"),
        (collaborator.email, f"[{report.tracking_id}] New comment from the reporter"),
    }
    notification = OutboundEmail.objects.get(to=maintainer.email)
    assert "Version 2.1.4, built from the release tarball." in notification.body
    assert "Which version did you test?" not in notification.body


def test_the_reply_address_proves_the_sender_whatever_the_from_header_says(report, reporter):
    """The token went only to the reporter: a From rewritten by a forwarder changes nothing."""
    deliver(
        "signature_delimiter.eml", sender="rita@forwarder.example", to=reply_to(report, reporter)
    )

    comment = report.comments.get()
    assert (comment.author, comment.body) == (reporter, "Here is the crash log you asked for.")


def test_the_message_is_stored_before_the_notifications_are_written(monkeypatch, report, reporter):
    """Outgoing mail threads to the reply (In-Reply-To/References): it must exist by then."""
    stored_when_notified = []
    notify = emails.comment

    def comment_notifications(note):
        stored_when_notified.append(InboundEmail.objects.filter(about=reference(report)).count())
        notify(note)

    monkeypatch.setattr(emails, "comment", comment_notifications)

    deliver("gmail_quoted.eml", sender=reporter.email, to=reply_to(report, reporter))

    assert stored_when_notified == [1]


def test_an_empty_reply_adds_nothing_and_says_why(report, reporter):
    inbound = deliver("empty.eml", sender=reporter.email, to=reply_to(report, reporter))

    assert not report.comments.exists()
    assert (inbound.outcome, inbound.about) == (Outcome.NEUTRAL, "")
    assert (
        InboundEmail.objects.get().message_id == inbound.message_id
    )  # stored once, by the gateway
    (answer,) = OutboundEmail.objects.all()
    assert answer.to == reporter.email
    assert "Write something first." in answer.body


def test_members_reply_to_the_internal_address_is_an_internal_note(
    report, reporter, collaborator, maintainer, triager
):
    deliver(
        "apple_signature.eml",
        sender=maintainer.email,
        to=reply_to(report, maintainer, internal=True),
    )

    comment = report.comments.get()
    assert comment.body == "Reproduced on main; the reporter's analysis holds. I will take it."
    assert (comment.internal, comment.by_member) == (True, True)
    # Members only: neither the reporter nor the collaborator hears of it.
    assert sent() == {(triager.email, f"[{report.tracking_id}] Internal note")}


def test_members_public_reply_is_a_status_update_from_the_team(report, reporter, maintainer):
    before = report.last_update_at
    deliver("gmail_quoted.eml", sender=maintainer.email, to=reply_to(report, maintainer))

    comment = report.comments.get()
    assert (comment.internal, comment.by_member) == (False, True)
    report.refresh_from_db()
    assert report.last_update_at > before
    subject = f"[{report.tracking_id}] New comment from the Acme security team"
    assert (reporter.email, subject) in sent()


def test_reporter_using_an_internal_address_adds_nothing_public(report, reporter, maintainer):
    """Only the platform hands out internal addresses, to members; a reporter holding one
    (a forwarded notification, a former member) is refused, and never gets a public comment."""
    inbound = deliver(
        "gmail_quoted.eml", sender=reporter.email, to=reply_to(report, reporter, internal=True)
    )

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL
    assert inbound.about == ""
    (answer,) = OutboundEmail.objects.all()
    assert (answer.to, answer.subject) == (
        reporter.email,
        f"[{report.tracking_id}] Your email was not added",
    )
    assert "neither as an internal note nor as a public comment" in answer.body
    assert "the project's members" in answer.body  # plain text, not HTML-escaped
    assert maintainer.email not in {row.to for row in OutboundEmail.objects.all()}


def test_reporters_answer_resumes_a_report_waiting_for_information(report, reporter, maintainer):
    services.transition(report=report, by=maintainer, name="request_info", message="Which version?")
    OutboundEmail.objects.all().delete()

    deliver("outlook_top_post.eml", sender=reporter.email, to=reply_to(report, reporter))

    report.refresh_from_db()
    assert report.state == State.NEW  # where it was before the question
    assert report.paused_at is None
    assert report.comments.get().author == reporter


def test_attachments_of_a_reply_are_stored_like_uploads(report, reporter, maintainer):
    deliver("with_attachment.eml", sender=reporter.email, to=reply_to(report, reporter))

    assert report.comments.get().body == "The proof of concept is attached."
    attachment = Attachment.objects.get(report=report)
    # The sender's path is no part of the name: the file lands in private storage.
    assert (attachment.name, attachment.uploaded_by, attachment.size) == ("poc.py", reporter, 15)
    assert attachment.file.read() == b"print('pwned')\n"
    subject = f"[{report.tracking_id}] Attachment added: {Path(attachment.file.name).name}"
    assert (maintainer.email, subject) in sent()


def test_attachments_over_the_caps_are_refused_and_the_sender_told(settings, report, reporter):
    settings.ATTACHMENT_MAX_BYTES = 10

    inbound = deliver("with_attachment.eml", sender=reporter.email, to=reply_to(report, reporter))

    assert report.comments.get().body == "The proof of concept is attached."
    assert not Attachment.objects.exists()
    assert inbound.outcome == Outcome.COMMENT
    assert "Attachments refused" in InboundEmail.objects.get(pk=inbound.pk).detail
    (answer,) = OutboundEmail.objects.filter(to=reporter.email)
    assert answer.subject == f"[{report.tracking_id}] Your email was added without its attachments"
    assert "poc.py is larger than 10" in answer.body


def test_a_reply_of_only_a_quote_and_a_file_keeps_the_file(report, reporter):
    deliver("attachment_only.eml", sender=reporter.email, to=reply_to(report, reporter))

    # Nothing of its own but the quote: trimming keeps the text rather than leave it empty.
    assert "Can you send the crash log?" in report.comments.get().body
    assert Attachment.objects.get(report=report).name == "crash.log"


def test_a_closed_report_takes_the_comment_but_not_the_files(report, reporter, maintainer):
    services.transition(
        report=report,
        by=maintainer,
        name="close",
        message="Not a vulnerability.",
        resolution=State.INFORMATIVE,
    )
    OutboundEmail.objects.all().delete()

    deliver("with_attachment.eml", sender=reporter.email, to=reply_to(report, reporter))

    assert report.comments.get().body == "The proof of concept is attached."
    assert not Attachment.objects.exists()
    (answer,) = OutboundEmail.objects.filter(to=reporter.email)
    assert "the report is closed: it takes no new files." in answer.body


def test_token_of_a_removed_collaborator_adds_nothing(report, reporter, collaborator):
    address = reply_to(report, collaborator)
    services.remove_collaborator(report=report, by=reporter, user_id=collaborator.pk)
    OutboundEmail.objects.all().delete()

    inbound = deliver("gmail_quoted.eml", sender=collaborator.email, to=address)

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL
    assert sent() == {(collaborator.email, "Your email could not be added to a report")}


def test_token_of_a_deactivated_account_adds_nothing(report, collaborator):
    address = reply_to(report, collaborator)
    collaborator.is_active = False
    collaborator.save(update_fields=["is_active"])

    inbound = deliver("gmail_quoted.eml", sender=collaborator.email, to=address)

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL


def test_tampered_token_is_not_a_reply_address(report, reporter, stranger):
    """The stranger swaps the user id of an address they saw for the reporter's: the signature
    no longer matches, the gateway finds no reply target, and nothing is added."""
    own = reply_to(report, stranger)
    tampered = re.sub(r"\.\d+\.([0-9a-f]+)@", rf".{reporter.pk}.\1@", own)
    assert tampered != own
    assert read_reply_address(tampered) is None

    inbound = deliver("gmail_quoted.eml", sender=reporter.email, to=tampered)

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL


# --- Replies to the intake address, proven by DMARC ---------------------------------------------


def to_intake(name, report, *, sender, tracking_id=None):
    return deliver(
        name,
        sender=sender,
        to=INTAKE,
        tracking_id=tracking_id or report.tracking_id,
        project=report.project,
    )


def test_dmarc_pass_from_our_mta_for_a_verified_account_that_sees_the_report(report, reporter):
    inbound = to_intake("dmarc_trusted.eml", report, sender=reporter.email)

    comment = report.comments.get()
    assert comment.body == "One more detail: the overflow needs a header longer than 64 KiB."
    assert comment.author == reporter
    assert (inbound.outcome, inbound.about) == (Outcome.COMMENT, reference(report))
    assert "DMARC" in inbound.detail


@pytest.mark.parametrize(
    ("fixture", "why"),
    [
        ("no_authentication.eml", "a forged From without any DMARC result"),
        ("dmarc_untrusted.eml", "a DMARC pass from an MTA that is not ours"),
        ("dmarc_forged_below.eml", "our MTA says fail; a pass below it came with the message"),
    ],
)
def test_from_the_reporters_address_without_our_dmarc_pass_adds_nothing(
    report, reporter, fixture, why
):
    inbound = to_intake(fixture, report, sender=reporter.email)

    assert not report.comments.exists(), why
    assert inbound.outcome == Outcome.NEUTRAL
    assert sent() == {(reporter.email, "Your email could not be added to a report")}


def test_dmarc_pass_for_an_unverified_address_adds_nothing(report, reporter):
    reporter.emailaddress_set.update(verified=False)

    inbound = to_intake("dmarc_trusted.eml", report, sender=reporter.email)

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL


def test_dmarc_pass_for_a_report_of_another_project_adds_nothing(report, reporter, other_project):
    inbound = deliver(
        "dmarc_trusted.eml",
        sender=reporter.email,
        to="security@other.example.org",
        tracking_id=report.tracking_id,
        project=other_project,
    )

    assert not report.comments.exists()
    assert inbound.outcome == Outcome.NEUTRAL


# --- The stranger learns nothing ----------------------------------------------------------------


def delivered_answer(mailoutbox):
    """The one message sent, as bytes without what differs per message (Message-ID, Date, the
    MIME boundary) and without its recipient."""
    outbox.deliver_pending()
    (message,) = mailoutbox
    mime = message.message()
    del mime["Message-ID"], mime["Date"], mime["To"]
    raw = mime.as_bytes()
    raw = raw.replace(mime.get_boundary().encode(), b"BOUNDARY")
    mailoutbox.clear()
    OutboundEmail.objects.all().delete()
    return raw


def test_stranger_quoting_a_valid_tracking_id_adds_nothing_and_learns_nothing(
    report, reporter, stranger, maintainer, mailoutbox
):
    """A stranger (with an account, and a DMARC pass for their own domain) quotes the report's
    tracking ID: the answer is byte for byte the one for a tracking ID that does not exist, and
    the one a real reporter gets when their mail proves nothing."""
    comments = list(report.comments.values_list("pk", flat=True))

    to_intake("dmarc_trusted.eml", report, sender=stranger.email)
    real = delivered_answer(mailoutbox)
    to_intake("dmarc_trusted.eml", report, sender=stranger.email, tracking_id="ACME-2026-0999")
    missing = delivered_answer(mailoutbox)
    to_intake("no_authentication.eml", report, sender=reporter.email)
    unproven_reporter = delivered_answer(mailoutbox)
    # Through a reply address of a report they do not see, too.
    deliver("gmail_quoted.eml", sender=stranger.email, to=reply_to(report, stranger))
    token_of_stranger = delivered_answer(mailoutbox)

    assert real == missing == unproven_reporter == token_of_stranger
    assert report.tracking_id.encode() not in real
    assert b"Heap overflow" not in real
    assert b"could not be added to a report" in real
    assert b"/accounts/login/" in real
    assert b"/reports/" in real
    assert list(report.comments.values_list("pk", flat=True)) == comments
    assert not OutboundEmail.objects.filter(to=maintainer.email).exists()
    assert set(InboundEmail.objects.values_list("outcome", "about")) == {(Outcome.NEUTRAL, "")}


def test_one_neutral_answer_a_day_per_address(report, stranger):
    """Forged From headers must not turn the platform into a mail cannon against a bystander."""
    for _ in range(3):
        to_intake("no_authentication.eml", report, sender=stranger.email)

    assert OutboundEmail.objects.filter(to=stranger.email).count() == 1
    assert InboundEmail.objects.filter(outcome=Outcome.NEUTRAL).count() == 3


# --- On the site: the comment says it came by email; members open the original ------------------


@pytest.fixture
def emailed(report, reporter):
    deliver("gmail_quoted.eml", sender=reporter.email, to=reply_to(report, reporter))
    return report.comments.get()


def original_url(comment):
    return f"/reports/{comment.report.tracking_id}/comments/{comment.pk}/original/"


def test_members_see_the_comment_came_by_email_and_open_the_original(client, emailed, maintainer):
    client.sign_in(maintainer)

    page = client.get(f"/reports/{emailed.report.tracking_id}/").content.decode()

    assert "UTC · by email" in page
    assert f'href="{original_url(emailed)}"' in page
    response = client.get(original_url(emailed))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    assert response.content == emailed.inbound_email.raw_message()
    assert b"Which version did you test?" in response.content  # what the comment trimmed


@pytest.mark.parametrize("who", ["reporter", "collaborator", "stranger", "other_member"])
def test_nobody_else_opens_the_original(client, cast, emailed, who):
    client.sign_in(cast[who])

    assert client.get(original_url(emailed)).status_code == 404


def test_the_reporter_sees_by_email_without_a_link_to_the_original(client, emailed, reporter):
    client.sign_in(reporter)

    page = client.get(f"/reports/{emailed.report.tracking_id}/").content.decode()

    assert "UTC · by email" in page
    assert original_url(emailed) not in page


def test_anonymous_visitors_are_sent_to_sign_in(client, emailed):
    response = client.get(original_url(emailed))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_no_original_once_the_retention_period_dropped_it(client, emailed, maintainer):
    InboundEmail.objects.filter(pk=emailed.inbound_email_id).update(raw=None)
    client.sign_in(maintainer)

    assert client.get(original_url(emailed)).status_code == 404


def test_a_comment_written_on_the_site_has_no_original(client, report, maintainer):
    comment = services.add_comment(
        report=report, by=maintainer, body="On the web.", internal=False, by_member=True
    )
    client.sign_in(maintainer)

    assert client.get(original_url(comment)).status_code == 404
    page = client.get(f"/reports/{report.tracking_id}/").content.decode()
    assert "UTC · by email" not in page  # the comment's byline (the spam form also says "by email")
    assert "original message" not in page


# --- The gateway's log in the admin: superusers only --------------------------------------------


def test_superusers_read_inbound_email_and_download_the_raw_message(client, emailed, superuser):
    client.sign_in(superuser)
    inbound = emailed.inbound_email

    listing = client.get("/admin/mailer/inboundemail/")
    page = client.get(f"/admin/mailer/inboundemail/{inbound.pk}/change/")
    raw = client.get(f"/admin/mailer/inboundemail/{inbound.pk}/raw/")

    assert listing.status_code == 200
    assert inbound.sender in listing.content.decode()
    assert page.status_code == 200
    assert f"/admin/mailer/inboundemail/{inbound.pk}/raw/" in page.content.decode()
    assert raw.status_code == 200
    assert raw.content == inbound.raw_message()
    # Read-only: the gateway and the retention sweep own the rows.
    assert client.get("/admin/mailer/inboundemail/add/").status_code == 403
    assert client.post(f"/admin/mailer/inboundemail/{inbound.pk}/delete/").status_code == 403
    assert InboundEmail.objects.filter(pk=inbound.pk).exists()


def test_staff_holding_every_permission_see_no_inbound_email(client, emailed, project):
    staff = staff_with_every_permission(project, Membership.Role.ADMIN)
    client.sign_in(staff)
    inbound = emailed.inbound_email

    assert client.get("/admin/mailer/inboundemail/").status_code == 403
    assert client.get(f"/admin/mailer/inboundemail/{inbound.pk}/change/").status_code in {302, 403}
    assert client.get(f"/admin/mailer/inboundemail/{inbound.pk}/raw/").status_code == 404
    assert "inboundemail" not in client.get("/admin/").content.decode()


# --- Through the gateway (inbox.gateway.ingest, as the MTA pipe and IMAP polling call it) ---------


def test_a_reply_through_the_gateway_becomes_a_comment(report, reporter):
    address = reply_to(report, reporter)
    raw = raw_message("gmail_quoted.eml", sender=reporter.email, to=address, tracking_id="X")

    delivery = gateway.ingest(raw, recipients=[address])

    comment = report.comments.get()
    assert delivery == gateway.Delivery(gateway.DELIVERED, Outcome.COMMENT, reference(report))
    assert comment.body == "The crash also happens on 2.1.4 with the default configuration."
    assert comment.inbound_email.raw_message() == raw


def test_a_tampered_reply_address_routes_nowhere_through_the_gateway(report, reporter, stranger):
    own = reply_to(report, stranger)
    tampered = re.sub(r"\.\d+\.([0-9a-f]+)@", rf".{reporter.pk}.\1@", own)
    raw = raw_message("gmail_quoted.eml", sender=reporter.email, to=tampered, tracking_id="X")

    delivery = gateway.ingest(raw, recipients=[tampered])

    assert delivery.status == gateway.UNKNOWN_RECIPIENT
    assert not report.comments.exists()
    assert not InboundEmail.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_a_stranger_quoting_the_tracking_id_to_the_intake_address_through_the_gateway(
    report, stranger
):
    IntakeAddress.objects.create(project=report.project, address=INTAKE)
    raw = raw_message(
        "dmarc_trusted.eml", sender=stranger.email, to=INTAKE, tracking_id=report.tracking_id
    )

    delivery = gateway.ingest(raw, recipients=[INTAKE])

    assert (delivery.status, delivery.outcome, delivery.about) == (
        gateway.DELIVERED,
        Outcome.NEUTRAL,
        "",
    )
    assert not report.comments.exists()
    assert report.project.reports.count() == 1  # nor a new report
    assert sent() == {(stranger.email, "Your email could not be added to a report")}
