"""The outbox delivers through a real SMTP server (aiosmtpd on loopback, tests/mail_servers.py):
what leaves the platform is what a mail server receives, headers and all.
"""

import re

import pytest

from mailer import outbox
from mailer.models import OutboundEmail
from reports import services
from tests.mail_servers import free_port

pytestmark = pytest.mark.django_db

SITE = "https://disclosure.example.org"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


def test_a_report_notification_reaches_the_smtp_server(smtp_server, project, reporter):
    report = services.file_report(
        project=project, reporter=reporter, fields={"title": "Heap overflow in the parser"}
    )
    pending = OutboundEmail.objects.filter(sent_at__isnull=True).count()
    assert pending >= 1  # at least the reporter's receipt

    assert outbox.deliver_pending() == pending

    receipt = next(m for m in smtp_server.messages if m.rcpt_tos == [reporter.email])
    message = receipt.message
    row = OutboundEmail.objects.get(to=reporter.email)
    assert message["Message-ID"] == f"<outbound-{row.pk}@disclosure.example.org>"
    assert message["To"] == reporter.email
    assert message["Subject"] == f"[{report.tracking_id}] Report received"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Tracking ID: {report.tracking_id}" in text
    assert f"{SITE}/reports/{report.tracking_id}/" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{SITE}/reports/{report.tracking_id}/"' in html
    # The envelope sender is the platform's own address, as the From header says.
    assert re.search(r"<(.+)>", message["From"])[1] == receipt.mail_from
    row.refresh_from_db()
    assert row.sent_at is not None
    assert row.attempts == 0


def test_each_message_is_delivered_once(smtp_server, project, reporter):
    services.file_report(project=project, reporter=reporter, fields={"title": "Relay"})
    first = outbox.deliver_pending()

    assert outbox.deliver_pending() == 0  # the beat's retry finds nothing left to send
    assert len(smtp_server.messages) == first
    ids = [m.message["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == len(ids)


def test_a_server_that_is_gone_leaves_the_message_pending(smtp_server, settings, project, reporter):
    services.file_report(project=project, reporter=reporter, fields={"title": "Relay"})
    settings.EMAIL_PORT = free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 5

    assert outbox.deliver_pending() == 0

    row = OutboundEmail.objects.get(to=reporter.email)
    assert (row.sent_at, row.attempts) == (None, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert smtp_server.messages == []
