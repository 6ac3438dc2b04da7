"""Loops, races and failures: the platform's own mail is dropped, a lost race or a database
failure stores nothing (no row, no report, no account, no file, no mail)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import OperationalError

from inbox import gateway, limits
from mailer import outbox
from mailer.models import InboundEmail, OutboundEmail
from reports import services
from reports.models import Attachment, Report
from tests.inbox.conftest import deliver, stored_files

pytestmark = pytest.mark.django_db


def as_delivered(row):
    """The bytes the outbox sends for `row` (mailer.outbox.deliver_pending)."""
    email = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        from_email="Disclosure <noreply@disclosure.example>",
        to=[row.to],
        headers={"Message-ID": outbox.message_id(row)},
    )
    if row.html:
        email.attach_alternative(row.html, "text/html")
    return email.message().as_bytes()


def test_own_notification_to_a_contact_that_is_an_intake_address_is_dropped(seeded):
    # Stalwart has no members yet: its security contact, security@stalw.art, hears of the new
    # report (and is invited to claim the project). That address is also its intake address.
    deliver("plain")
    to_contact = list(OutboundEmail.objects.filter(to="security@stalw.art"))
    assert len(to_contact) == 2
    outbox_before = OutboundEmail.objects.count()

    deliveries = [
        gateway.ingest(as_delivered(row), recipients=["security@stalw.art"]) for row in to_contact
    ]

    assert {delivery.outcome for delivery in deliveries} == {InboundEmail.Outcome.IGNORED}
    assert Report.objects.count() == 1
    assert OutboundEmail.objects.count() == outbox_before
    details = set(InboundEmail.objects.exclude(outcome="report").values_list("detail", flat=True))
    assert details == {"automatic: the platform's own notification"}


def test_lost_race_on_the_message_id_answers_delivered_and_keeps_nothing_of_its_own(
    seeded, monkeypatch
):
    def competing_delivery(message):
        # The other delivery of the same message commits between this one's check and insert.
        InboundEmail.objects.create(
            message_id="<cal-xss-2026-12-01@research.example>",
            outcome=InboundEmail.Outcome.IGNORED,
            size=1,
            received_at="2026-12-01T08:00:00Z",
        )

    # origin_ip runs after the duplicate check and before anything is written.
    monkeypatch.setattr(limits, "origin_ip", competing_delivery)

    delivery = deliver("multipart_attachment")

    assert delivery == gateway.Delivery(gateway.DELIVERED)
    assert InboundEmail.objects.count() == 1
    assert not Report.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not get_user_model().objects.exists()
    assert not Attachment.objects.exists()


def test_database_failure_while_filing_is_a_temporary_failure_storing_nothing(
    seeded, monkeypatch, settings
):
    def file_report(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "file_report", file_report)

    delivery = deliver("multipart_attachment")

    assert delivery == gateway.Delivery(gateway.TEMPORARY_FAILURE)
    assert not InboundEmail.objects.exists()
    assert not Report.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not get_user_model().objects.exists()
    assert stored_files(settings) == []


def test_database_failure_after_the_files_were_written_removes_them(seeded, monkeypatch, settings):
    store = services._store_attachments
    written = []

    def store_then_fail(report, *, by, files, **kwargs):
        store(report, by=by, files=files, **kwargs)
        written.extend(stored_files(settings))
        raise OperationalError("the connection dropped after the files were written")

    monkeypatch.setattr(services, "_store_attachments", store_then_fail)

    delivery = deliver("multipart_attachment")

    assert delivery.status == gateway.TEMPORARY_FAILURE
    assert [path.name for path in written] == ["poc.py"]
    assert stored_files(settings) == []
    assert not InboundEmail.objects.exists()
    assert not Report.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not get_user_model().objects.exists()


def test_database_unreachable_before_anything_is_a_temporary_failure(seeded, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(InboundEmail.objects, "filter", unreachable)

    assert deliver("plain") == gateway.Delivery(gateway.TEMPORARY_FAILURE)


def test_a_failure_after_the_report_was_filed_removes_its_files(seeded, monkeypatch, settings):
    """file_report returned (its own transaction block succeeded), then the gateway's enclosing
    transaction failed: the database forgets the report, and the files go with it."""
    file_report = services.file_report
    written = []

    def filed_then_fail(**kwargs):
        file_report(**kwargs)
        written.extend(stored_files(settings))
        raise OperationalError("the connection dropped after the report was filed")

    monkeypatch.setattr(services, "file_report", filed_then_fail)

    delivery = deliver("multipart_attachment")

    assert delivery.status == gateway.TEMPORARY_FAILURE
    assert [path.name for path in written] == ["poc.py"]
    assert stored_files(settings) == []
    assert not Report.objects.exists()
