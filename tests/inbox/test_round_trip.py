"""The email channel end to end on real servers (issue 13, must show): a report created by
email (APPENDed to dovecot, polled over IMAP), acknowledged on the web, the acknowledgment
delivered through SMTP (aiosmtpd), answered by email from the reporter's mail client, answered
again on the web; one thread on the report page and in the reporter's mail client.
Nothing is stood in for.
"""

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from inbox import tasks
from mailer import outbox
from mailer.models import reference
from mailer.replies import read_reply_address
from reports.models import Report

pytestmark = [pytest.mark.imap, pytest.mark.django_db]

REPORTER = "finder@example.net"
ORIGINAL_ID = "<first-finding@mail.example.net>"
REPLY_ID = "<answer-to-ack@mail.example.net>"
FINDING = "The parser overflows when a header line is longer than 64 KiB."
ACKNOWLEDGMENT = "Thanks, we reproduced it on 0.13.0."
ANSWER = "It also crashes 0.12.4, with the same input."
UPDATE = "A fix is in review; we will send you the patch."


@pytest.fixture
def mailbox(project, imap_server, settings, monkeypatch):
    settings.INBOX_IMAP_CA_FILE = imap_server.ca_file
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", imap_server.password)
    return imap_server.mailbox_for(
        project,
        enabled=True,
    )


def first_message():
    message = EmailMessage()
    message["From"] = f"Fay Finder <{REPORTER}>"
    message["To"] = "security@acme.example.org"
    message["Subject"] = "Heap overflow in the header parser"
    message["Message-ID"] = ORIGINAL_ID
    message["Date"] = "Tue, 01 Dec 2026 09:00:00 +0000"
    message.set_content(f"Hello,\n\n{FINDING}\n\nFay\n")
    return message.as_bytes(policy=policy.SMTP)


def answer_to(received):
    """What the reporter's mail client sends on "Reply" to `received` (RFC 5322 §3.6.4)."""
    quoted = "\n".join(
        f"> {line}" for line in received.get_body(("plain",)).get_content().splitlines()
    )
    message = EmailMessage()
    message["From"] = f"Fay Finder <{REPORTER}>"
    message["To"] = received["Reply-To"]
    message["Subject"] = f"Re: {received['Subject']}"
    message["Message-ID"] = REPLY_ID
    message["Date"] = "Tue, 01 Dec 2026 11:00:00 +0000"
    message["In-Reply-To"] = received["Message-ID"]
    message["References"] = f"{received['References']} {received['Message-ID']}".strip()
    message.set_content(f"{ANSWER}\n\nOn 1 Dec 2026, the maintainers wrote:\n{quoted}\n")
    return message.as_bytes(policy=policy.SMTP)


def mail_of(smtp_server, address):
    """What `address` received, in the order it arrived: their mail client's view."""
    return [
        message_from_bytes(received.raw, policy=policy.default)
        for received in smtp_server.messages
        if received.rcpt_tos == [address]
    ]


def ids(header):
    return re.findall(r"<[^<>\s]+>", str(header or ""))


def test_a_report_by_email_is_one_thread_on_the_site_and_in_the_mail_client(
    client, project, maintainer, mailbox, imap_server, smtp_server
):
    # The reporter writes to the project's security address; the mailbox is polled.
    imap_server.append(first_message())

    assert tasks.poll_mailboxes() == 1

    assert imap_server.messages("INBOX") == []
    assert imap_server.messages("Processed") == [first_message()]
    report = Report.objects.get(project=project)
    assert report.reporter.email == REPORTER
    assert report.title == "Heap overflow in the header parser"
    outbox.deliver_pending()

    # A maintainer acknowledges it on the web.
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/transitions/acknowledge/", {"message": ACKNOWLEDGMENT}
    )
    assert response.status_code == 302
    outbox.deliver_pending()
    receipt, acknowledgment = mail_of(smtp_server, REPORTER)
    assert ACKNOWLEDGMENT in acknowledgment.get_body(("plain",)).get_content()

    # The reporter answers the acknowledgment from their mail client.
    imap_server.append(answer_to(acknowledgment))

    assert tasks.poll_mailboxes() == 1

    comment = report.comments.get()
    assert (comment.author.email, comment.internal) == (REPORTER, False)
    assert comment.body.strip() == ANSWER  # the quoted acknowledgment trimmed
    assert imap_server.messages("INBOX") == []

    # The maintainer answers on the web: the reporter hears of it by email.
    client.post(f"/reports/{report.tracking_id}/comment/", {"body": UPDATE})
    outbox.deliver_pending()

    # One thread on the report page, in order.
    page = client.get(f"/reports/{report.tracking_id}/").content.decode()
    positions = [page.find(text) for text in (FINDING, ACKNOWLEDGMENT, ANSWER, UPDATE)]
    assert -1 not in positions, positions
    assert positions == sorted(positions)

    # One thread in the reporter's mail client: each message answers the one before it, and
    # every one routes an answer back to this report as this reporter.
    received = mail_of(smtp_server, REPORTER)
    assert len(received) == 3
    assert [m["Message-ID"] for m in received[:2]] == [
        receipt["Message-ID"],
        acknowledgment["Message-ID"],
    ]
    update = received[2]
    assert UPDATE in update.get_body(("plain",)).get_content()
    assert receipt["In-Reply-To"] == ORIGINAL_ID
    assert ids(receipt["References"]) == [ORIGINAL_ID]
    assert acknowledgment["In-Reply-To"] == receipt["Message-ID"]
    assert ids(acknowledgment["References"]) == [ORIGINAL_ID, receipt["Message-ID"]]
    assert update["In-Reply-To"] == REPLY_ID
    assert ids(update["References"]) == [
        ORIGINAL_ID,
        receipt["Message-ID"],
        acknowledgment["Message-ID"],
        REPLY_ID,
    ]
    for message in received:
        target = read_reply_address(str(message["Reply-To"]))
        assert (target.about, target.user_id) == (reference(report), report.reporter_id)

    # The maintainer heard of the emailed answer in their own thread.
    to_maintainer = mail_of(smtp_server, maintainer.email)
    assert any(ANSWER in m.get_body(("plain",)).get_content() for m in to_maintainer)
