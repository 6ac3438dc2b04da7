"""New reports by email: fixture messages in, exactly these reports, accounts, records and
acknowledgments out (issue 13, parts 1, 2 and 4).
"""

import datetime
import zlib

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from inbox import gateway
from mailer.models import InboundEmail, OutboundEmail
from projects.models import Project
from reports.models import Attachment, Report
from tests.factories import UserFactory
from tests.inbox.conftest import deliver, message, stored_files

pytestmark = pytest.mark.django_db

YEAR = timezone.now().year
STALWART_REQUIRED = [
    "Vulnerability type",
    "Affected version(s)",
    "Affected components",
    "Steps to reproduce",
    "Impact (what could an attacker achieve?)",
]


def acknowledgment(report):
    return OutboundEmail.objects.get(to=report.reporter.email, subject__endswith="Report received")


def test_plain_message_files_a_report_by_a_new_unverified_account(seeded):
    delivery = deliver("plain")

    report = Report.objects.get()
    assert delivery == gateway.Delivery(
        gateway.DELIVERED, InboundEmail.Outcome.REPORT, f"reports.report:{report.pk}"
    )
    assert report.project == seeded["stalwart"]
    assert report.tracking_id == f"STW-{YEAR}-0001"
    assert report.title == "Open relay in the SMTP submission listener"
    assert report.description.startswith("Hello Stalwart team,\n\nthe submission listener")
    assert "RCPT TO:<victim@remote.example>" in report.description
    assert report.missing_fields == STALWART_REQUIRED
    # The sender (lower-cased) became the reporter: no password, address not verified.
    reporter = report.reporter
    assert reporter.email == "ada@example.org"
    assert not reporter.has_usable_password()
    assert reporter.last_login is None
    assert list(EmailAddress.objects.filter(user=reporter).values_list("email", "verified")) == [
        ("ada@example.org", False)
    ]
    inbound = InboundEmail.objects.get()
    assert inbound.message_id == "<20261201091358.plain.4711@mail.example.org>"
    assert inbound.sender == "ada@example.org"
    assert inbound.recipient == "security@stalw.art"
    assert inbound.about == f"reports.report:{report.pk}"
    assert zlib.decompress(inbound.raw) == message("plain")
    assert inbound.size == len(message("plain"))
    assert inbound.keep_raw_until == inbound.received_at + datetime.timedelta(days=365)


def test_acknowledgment_carries_tracking_id_link_sign_in_page_and_missing_fields(seeded):
    deliver("plain")

    report = Report.objects.get()
    ack = acknowledgment(report)
    assert ack.subject == f"[STW-{YEAR}-0001] Report received"
    assert f"Tracking ID: STW-{YEAR}-0001" in ack.body
    assert f"https://disclosure.example/reports/STW-{YEAR}-0001/" in ack.body
    assert "https://disclosure.example/accounts/login/code/\n" in ack.body
    assert (
        "Please add: Vulnerability type; Affected version(s); Affected components; "
        "Steps to reproduce; Impact (what could an attacker achieve?)." in ack.body
    )
    assert "https://disclosure.example/accounts/login/code/" in ack.html
    assert "<li>Affected components</li>" in ack.html
    # Never a sign-in code: codes expire in minutes.
    assert "code is sent to this address" in ack.body


def test_known_sender_files_under_their_account_without_a_sign_in_link(seeded):
    ada = UserFactory(email="ADA@example.org")
    ada.last_login = timezone.now()
    ada.save()

    deliver("plain")

    report = Report.objects.get()
    assert report.reporter == ada
    assert get_user_model().objects.count() == 1
    ack = acknowledgment(report)
    assert "/accounts/login/code/" not in ack.body


def test_sender_known_by_a_secondary_address_files_under_that_account(seeded):
    ada = UserFactory(email="ada.lovelace@example.org")
    EmailAddress.objects.create(user=ada, email="ada@example.org", verified=True, primary=False)

    deliver("plain")

    assert Report.objects.get().reporter == ada
    assert get_user_model().objects.count() == 1


def test_multipart_message_keeps_text_and_attachment(seeded):
    deliver("multipart_attachment")

    report = Report.objects.get()
    assert report.project == seeded["teammail"]
    assert report.title == "Stored XSS in the calendar invitation preview"
    assert report.description == (
        "An invitation whose SUMMARY contains <img src=x onerror=alert(1)> runs\n"
        "script in the preview pane. The attached poc.py sends such an invitation."
    )
    # TeamMail requires only the description, which the text gives.
    assert report.missing_fields == []
    attachment = Attachment.objects.get()
    assert attachment.report == report
    assert attachment.name == "poc.py"
    assert attachment.uploaded_by == report.reporter
    with attachment.file.open("rb") as stored:
        assert stored.read() == b'import smtplib\nprint("sending the invitation")\n'
    ack = acknowledgment(report)
    assert "Please add" not in ack.body


def test_attachments_over_the_form_caps_are_not_kept_and_the_reporter_is_told(seeded, settings):
    settings.ATTACHMENT_MAX_BYTES = 10

    deliver("multipart_attachment")

    report = Report.objects.get()
    assert not Attachment.objects.exists()
    ack = acknowledgment(report)
    assert (
        "Your attachments were not kept: poc.py is larger than 10\xa0bytes. "
        "Add them on the report page." in ack.body
    )


def test_attachments_over_the_senders_storage_quota_are_not_kept_and_the_reporter_is_told(
    seeded, settings
):
    """The quota is the service's rule (over all of a person's reports), checked after the
    form's caps: the report is still filed, without the files, and the acknowledgment says why."""
    settings.ATTACHMENT_QUOTA_BYTES = 10

    delivery = deliver("multipart_attachment")

    report = Report.objects.get()
    assert delivery.about == f"reports.report:{report.pk}"
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []
    assert InboundEmail.objects.get().about == f"reports.report:{report.pk}"
    ack = acknowledgment(report)
    assert "Your attachments were not kept: Your attachments would exceed your storage quota" in (
        " ".join(ack.body.split())
    )


def test_html_only_message_becomes_sanitized_text(seeded):
    deliver("html_only")

    report = Report.objects.get()
    assert report.title == "IMAP IDLE crash"
    assert report.description == (
        "The IMAP server crashes when a client sends IDLE twice & disconnects.\n\n"
        "Line one\nLine two <tag>\n\n"
        "Thanks!"
    )


def test_forwarded_message_keeps_inline_forward_and_attached_original(seeded):
    deliver("forwarded")

    report = Report.objects.get()
    assert report.project == seeded["mailtri-router"]
    assert report.title == "Fwd: Suspicious routing of bounce messages"
    assert report.description == (
        "Our customer reported this to us; forwarding it to you.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Carol <carol@enduser.example>\n"
        "Date: Mon, 30 Nov 2026 at 18:00\n"
        "Subject: Suspicious routing of bounce messages\n\n"
        "Bounces for other tenants end up in my mailbox.\n\n"
        "---------- Forwarded message ----------\n"
        "From: Dave <dave@tenant.example>\n"
        "Date: Mon, 30 Nov 2026 17:00:00 +0000\n"
        "Subject: Bounce leak details\n"
        "To: ops@customer.example\n\n"
        "The router rewrites the envelope sender of bounces to the first tenant."
    )
    attachment = Attachment.objects.get()
    assert attachment.name == "original.eml"
    with attachment.file.open("rb") as stored:
        original = stored.read()
    assert b"Message-ID: <original-leak@tenant.example>" in original
    assert b"The router rewrites the envelope sender" in original


def test_mailtri_subject_tag_to_the_platform_address_routes_and_leaves_the_title(seeded):
    deliver("mailtri_subject_tag")

    report = Report.objects.get()
    assert report.project == seeded["mailtri-router"]
    assert report.title == "header injection in forwarded mail"
    assert report.missing_fields == [
        "Impact (what could an attacker achieve?)",
        "Affected components",
        "Steps to reproduce",
        "Operating system",
        "Node.js version",
        "AWS region",
    ]
    assert InboundEmail.objects.get().recipient == "security@disclosure.example"


def test_platform_address_without_a_subject_tag_is_an_unknown_recipient(seeded):
    raw = message("mailtri_subject_tag").replace(
        b"[SECURITY] mailtri-router vulnerability report: ", b""
    )

    assert deliver(raw) == gateway.Delivery(gateway.UNKNOWN_RECIPIENT)
    assert not InboundEmail.objects.exists()


def test_plus_address_routes_to_the_project_of_the_slug(seeded):
    deliver("plus_address")

    report = Report.objects.get()
    assert report.project == seeded["teammail"]
    assert report.title == "Session fixation after password reset"
    assert InboundEmail.objects.get().recipient == "security+teammail@disclosure.example"


def test_envelope_recipients_override_the_headers(seeded):
    delivery = deliver("unknown_recipient", recipients=["Security+Stalwart@disclosure.example"])

    assert delivery.status == gateway.DELIVERED
    assert Report.objects.get().project == seeded["stalwart"]


def test_mailbox_project_takes_what_no_recipient_routes(seeded):
    deliver("unknown_recipient", project=seeded["teammail"])

    assert Report.objects.get().project == seeded["teammail"]
    assert InboundEmail.objects.get().recipient == ""


def test_unknown_recipient_stores_nothing(seeded):
    assert deliver("unknown_recipient") == gateway.Delivery(gateway.UNKNOWN_RECIPIENT)

    assert not InboundEmail.objects.exists()
    assert not Report.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not get_user_model().objects.exists()


def test_inactive_project_takes_no_mail(seeded):
    Project.objects.filter(slug="stalwart").update(active=False)

    assert deliver("plain").status == gateway.UNKNOWN_RECIPIENT


def ignored(name_or_raw, detail):
    outbox_before = OutboundEmail.objects.count()
    delivery = deliver(name_or_raw)
    assert delivery.status == gateway.DELIVERED
    assert delivery.outcome == InboundEmail.Outcome.IGNORED
    inbound = InboundEmail.objects.get()
    assert inbound.outcome == InboundEmail.Outcome.IGNORED
    assert inbound.detail == detail
    assert not Report.objects.exists()
    assert OutboundEmail.objects.count() == outbox_before  # no reply, ever
    assert not get_user_model().objects.exists()
    return inbound


def test_auto_reply_is_ignored_without_a_reply(seeded):
    ignored("auto_reply", "automatic: Auto-Submitted: auto-replied")


def test_bounce_is_ignored_without_a_reply(seeded):
    ignored("bounce", "automatic: empty return path (a bounce)")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (b"Precedence: bulk", "automatic: Precedence: bulk"),
        (b"Precedence: list", "automatic: Precedence: list"),
        (b"X-Autoreply: yes", "automatic: auto-reply header"),
        (b"List-Id: <users.lists.example.org>", "automatic: mailing list"),
        (b"Auto-Submitted: auto-generated", "automatic: Auto-Submitted: auto-generated"),
    ],
)
def test_automatic_headers_are_ignored(seeded, header, detail):
    ignored(message("plain").replace(b"MIME-Version: 1.0", header + b"\nMIME-Version: 1.0"), detail)


def test_person_saying_auto_submitted_no_is_not_automatic(seeded):
    raw = message("plain").replace(b"MIME-Version: 1.0", b"Auto-Submitted: no\nMIME-Version: 1.0")

    assert deliver(raw).outcome == InboundEmail.Outcome.REPORT


def test_delivery_status_report_without_empty_return_path_is_ignored(seeded):
    raw = message("bounce").replace(b"Return-Path: <>", b"Return-Path: <relay@mx.remote.example>")
    raw = raw.replace(b"MAILER-DAEMON@", b"relay@")

    ignored(raw, "automatic: multipart/report (delivery-status)")


def test_postmaster_sender_is_ignored(seeded):
    raw = message("plain").replace(
        b"From: Ada Lovelace <Ada@Example.org>", b"From: postmaster@x.org"
    )

    ignored(raw, "automatic: sent by postmaster")


def test_malformed_message_is_kept_for_audit_without_a_reply(seeded):
    inbound = ignored("malformed", "malformed: broken MIME structure (StartBoundaryNotFoundDefect)")

    assert inbound.message_id == "<broken-mime-1@broken.example>"
    assert inbound.sender == "mallory@broken.example"
    assert zlib.decompress(inbound.raw) == message("malformed")


def test_message_without_a_from_address_is_malformed(seeded):
    raw = message("plain").replace(b"From: Ada Lovelace <Ada@Example.org>\n", b"")

    inbound = ignored(raw, "malformed: no parseable From address")
    assert inbound.sender == ""


def test_from_address_longer_than_any_mailbox_is_malformed(seeded):
    long_sender = b"a" * 250 + b"@example.org"
    raw = message("plain").replace(b"Ada Lovelace <Ada@Example.org>", b"<" + long_sender + b">")

    ignored(raw, "malformed: no parseable From address")


def test_undecodable_charset_is_malformed(seeded):
    raw = message("plain").replace(b"charset=utf-8", b"charset=x-no-such-charset")

    ignored(raw, "malformed: undecodable text/plain part: unknown encoding: x-no-such-charset")


def test_oversized_message_is_recorded_without_its_raw_bytes(seeded, settings):
    settings.INBOX_MAX_MESSAGE_BYTES = 1000
    size = len(message("multipart_attachment"))

    inbound = ignored("multipart_attachment", f"oversized: {size} bytes (limit 1000)")

    assert inbound.raw is None
    assert inbound.size == size
    assert inbound.sender == "grace@research.example"
    assert not Attachment.objects.exists()


def test_duplicate_delivery_is_stored_once(seeded):
    first = deliver("plain")
    outbox = OutboundEmail.objects.count()

    again = deliver("plain")

    assert again == gateway.Delivery(gateway.DELIVERED)
    assert first.outcome == InboundEmail.Outcome.REPORT
    assert Report.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert OutboundEmail.objects.count() == outbox


def test_message_without_message_id_is_named_by_its_digest(seeded):
    raw = message("plain").replace(
        b"Message-ID: <20261201091358.plain.4711@mail.example.org>\n", b""
    )

    deliver(raw)
    deliver(raw)

    assert Report.objects.count() == 1
    assert InboundEmail.objects.get().message_id.startswith("<sha256-")


def test_refused_by_the_spam_defences_files_nothing_and_answers_nothing(seeded, settings):
    settings.INBOX_REPORTS_PER_IP_PER_HOUR = 1
    # An earlier report this hour from the same IP of origin (the Received header the
    # platform's MX wrote), by someone else.
    earlier = message("plain").replace(b"Ada Lovelace <Ada@Example.org>", b"<eve@example.org>")
    deliver(earlier.replace(b"<20261201091358.plain.4711@", b"<earlier@"))
    before = (
        Report.objects.count(),
        OutboundEmail.objects.count(),
        get_user_model().objects.count(),
    )

    delivery = deliver("plain")

    assert delivery.status == gateway.DELIVERED
    assert delivery.outcome == InboundEmail.Outcome.REFUSED
    inbound = InboundEmail.objects.get(message_id="<20261201091358.plain.4711@mail.example.org>")
    assert inbound.detail == "Rate limit: 1 new reports by email per hour from one IP address."
    assert inbound.origin_ip == "198.51.100.7"
    assert inbound.sender == "ada@example.org"
    assert inbound.about == ""
    after = (
        Report.objects.count(),
        OutboundEmail.objects.count(),
        get_user_model().objects.count(),
    )
    assert after == before  # no report, no reply, no account


def test_tracking_id_of_the_project_goes_to_the_reply_handler(seeded, monkeypatch):
    from inbox import replies

    # inbox.replies is the replies helper's; here it records its call and answers neutrally.
    calls = []

    def handle(*, message, inbound, target, project, tracking_id):
        calls.append((target, project, tracking_id))
        inbound.outcome = InboundEmail.Outcome.NEUTRAL

    monkeypatch.setattr(replies, "handle", handle)
    raw = message("plain").replace(
        b"Subject: Open relay", b"Subject: Re: [STW-2026-0042] Open relay"
    )

    delivery = deliver(raw)

    assert calls == [(None, seeded["stalwart"], "STW-2026-0042")]
    assert delivery.outcome == InboundEmail.Outcome.NEUTRAL
    assert InboundEmail.objects.get().outcome == InboundEmail.Outcome.NEUTRAL
    assert not Report.objects.exists()


def test_tracking_id_of_another_project_is_a_new_report(seeded):
    raw = message("plain").replace(
        b"Subject: Open relay", b"Subject: Like MTR-2026-0001: open relay"
    )

    deliver(raw)

    assert Report.objects.get().title == (
        "Like MTR-2026-0001: open relay in the SMTP submission listener"
    )


def test_reply_address_goes_to_the_reply_handler_before_intake(seeded, monkeypatch):
    from inbox import replies
    from mailer import replies as reply_addresses

    # mailer.replies (threads) and inbox.replies (replies) are other helpers'; stood in here.
    target = reply_addresses.ReplyTarget(about="reports.report:7", user_id=3, internal=False)
    monkeypatch.setattr(
        reply_addresses,
        "read_reply_address",
        lambda address: target if address == "reply+token@disclosure.example" else None,
    )
    calls = []

    def handle(*, message, inbound, target, project, tracking_id):
        calls.append((target, project, tracking_id))
        inbound.outcome = InboundEmail.Outcome.NEUTRAL

    monkeypatch.setattr(replies, "handle", handle)
    raw = message("plain").replace(
        b"To: security@stalw.art", b"To: reply+token@disclosure.example\nCc: security@stalw.art"
    )
    raw = raw.replace(b"Delivered-To: security@stalw.art\n", b"")

    deliver(raw)

    assert calls == [(target, None, None)]
    assert InboundEmail.objects.get().recipient == "reply+token@disclosure.example"
    assert not Report.objects.exists()


def test_project_without_policy_in_force_refuses_and_keeps_nothing_of_it(seeded):
    seeded["stalwart"].revisions.all().delete()

    delivery = deliver("plain")

    assert delivery.outcome == InboundEmail.Outcome.REFUSED
    assert InboundEmail.objects.get().detail == "Stalwart has no security policy in force"
    assert not get_user_model().objects.exists()
    assert not OutboundEmail.objects.exists()


def test_the_message_is_stored_as_the_thread_start_before_the_acknowledgment(seeded, monkeypatch):
    # The outbox threads the acknowledgment onto the latest message of the report (the
    # "threads" work): it must find this one already saved when the acknowledgment is written.
    from reports import emails

    new_report = emails.new_report
    seen = []

    def recording(report, **kwargs):
        seen.append(InboundEmail.objects.filter(about=f"reports.report:{report.pk}").exists())
        return new_report(report, **kwargs)

    monkeypatch.setattr(emails, "new_report", recording)

    deliver("plain")

    assert seen == [True]


def test_nul_characters_in_the_text_are_dropped(seeded):
    raw = message("plain").replace(b"Subject: Open relay", b"Subject: Open\x00 relay")
    raw = raw.replace(b"Regards,", b"Regards\x00,")

    deliver(raw)

    report = Report.objects.get()
    assert report.title == "Open relay in the SMTP submission listener"
    assert report.description.endswith("Regards,\nAda")
