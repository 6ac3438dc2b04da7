"""IMAP polling against a real IMAP server (Debian's dovecot, tests/mail_servers.py): what is
waiting in a project's mailbox reaches the gateway with the project, once, and is moved out of
the way; nothing is lost when the gateway or the server fails, and no poll trusts a server it
cannot verify.

The gateway itself is not under test here: a recorder stands in for inbox.gateway.ingest
(monkeypatched), so what the poll hands over, and what it does with each answer, can be checked
message by message. tests/inbox/test_round_trip.py runs the real one.
"""

import datetime as dt
import threading
import time

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.utils import timezone

from disclosure.celery import app
from inbox import gateway, imap, tasks
from inbox.models import Mailbox
from mailer.models import OutboundEmail
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.mail_servers import free_port

pytestmark = [pytest.mark.imap, pytest.mark.django_db]


class Gateway:
    """Stands in for inbox.gateway.ingest: records each call, answers the statuses queued in
    `answers` (then DELIVERED), or raises `error`.
    """

    def __init__(self):
        self.calls, self.answers, self.error, self.during = [], [], None, None

    def __call__(self, raw, *, recipients=None, project=None):
        self.calls.append((raw, project))
        if self.during:
            self.during()
        if self.error:
            raise self.error
        status = self.answers.pop(0) if self.answers else gateway.DELIVERED
        return gateway.Delivery(status=status)

    @property
    def raws(self):
        return [raw for raw, _ in self.calls]


@pytest.fixture
def ingest(monkeypatch):
    recorder = Gateway()
    monkeypatch.setattr(gateway, "ingest", recorder)
    return recorder


@pytest.fixture
def trusted(settings, imap_server):
    """The test server's self-signed certificate is the CA to trust, as a private CA would be."""
    settings.INBOX_IMAP_CA_FILE = imap_server.ca_file


@pytest.fixture
def mailbox(project, imap_server, trusted, monkeypatch):
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", imap_server.password)
    return imap_server.mailbox_for(
        project,
        enabled=True,
    )


def message(number, *, subject=None):
    return (
        f"From: Reporter {number} <reporter{number}@example.net>\r\n"
        "To: security@acme.example.org\r\n"
        f"Subject: {subject or f'Finding {number}'}\r\n"
        f"Message-ID: <finding-{number}@example.net>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        "\r\n"
        f"Details of finding {number}.\r\n"
    ).encode()


def refreshed(mailbox):
    mailbox.refresh_from_db()
    return mailbox


# --- Delivering ---------------------------------------------------------------------------------


def test_waiting_messages_reach_the_gateway_and_move_to_the_done_folder(
    mailbox, imap_server, ingest, project
):
    for number in (1, 2, 3):
        imap_server.append(message(number))

    result = imap.poll(mailbox)

    assert (result.moved, result.kept, result.error) == (3, 0, "")
    # Byte for byte, oldest first, each with the mailbox's project.
    assert ingest.raws == [message(1), message(2), message(3)]
    assert {called_project for _, called_project in ingest.calls} == {project}
    assert imap_server.messages("INBOX") == []
    assert imap_server.messages("Processed") == [message(1), message(2), message(3)]
    mailbox = refreshed(mailbox)
    assert mailbox.last_error == ""
    assert timezone.now() - mailbox.last_polled_at < dt.timedelta(minutes=1)
    assert mailbox.leased_until is None


def test_people_reading_along_still_see_the_messages_as_new(mailbox, imap_server, ingest):
    imap_server.append(message(1))

    imap.poll(mailbox)

    with imap_server.connect() as client:
        client.select('"Processed"', readonly=True)
        _, data = client.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in data[0]
    # The done folder the poll created is subscribed: mail clients list it.
    with imap_server.connect() as client:
        _, subscribed = client.lsub()
    assert any(b'"Processed"' in line or line.endswith(b" Processed") for line in subscribed)


def test_an_unknown_recipient_is_moved_too(mailbox, imap_server, ingest):
    imap_server.append(message(1))
    ingest.answers = [gateway.UNKNOWN_RECIPIENT]

    result = imap.poll(mailbox)

    assert result.moved == 1
    assert imap_server.messages("INBOX") == []
    assert imap_server.messages("Processed") == [message(1)]


def test_a_temporary_failure_leaves_the_message_and_ends_the_poll(mailbox, imap_server, ingest):
    imap_server.append(message(1))
    imap_server.append(message(2))
    ingest.answers = [gateway.TEMPORARY_FAILURE]

    result = imap.poll(mailbox)

    assert (result.moved, result.kept) == (0, 1)
    assert ingest.raws == [message(1)]  # the second waits too: order is kept
    assert imap_server.messages("INBOX") == [message(1), message(2)]
    assert imap_server.messages("Processed") == []
    assert "retried at the next poll" in refreshed(mailbox).last_error

    # The next poll retries, in order, and clears the error.
    result = imap.poll(mailbox)

    assert result.moved == 2
    assert ingest.raws == [message(1), message(1), message(2)]
    assert imap_server.messages("Processed") == [message(1), message(2)]
    assert refreshed(mailbox).last_error == ""


def test_one_poll_stays_short(mailbox, imap_server, ingest, settings):
    settings.INBOX_IMAP_MESSAGES_PER_POLL = 2
    for number in (1, 2, 3):
        imap_server.append(message(number))

    assert imap.poll(mailbox).moved == 2
    assert imap_server.messages("INBOX") == [message(3)]

    assert imap.poll(mailbox).moved == 1
    assert imap_server.messages("INBOX") == []


def test_folders_are_the_mailbox_own(mailbox, imap_server, ingest):
    mailbox.folder, mailbox.done_folder = "Security reports", "Security reports/Done"
    mailbox.save()
    imap_server.append(message(1), folder="Security reports")
    imap_server.append(message(2))  # the INBOX is someone else's business

    assert imap.poll(mailbox).moved == 1

    assert ingest.raws == [message(1)]
    assert imap_server.messages("Security reports/Done") == [message(1)]
    assert imap_server.messages("INBOX") == [message(2)]


def test_without_move_the_message_is_copied_and_expunged(mailbox, imap_server, ingest, monkeypatch):
    """Servers without MOVE (RFC 6851), with and without UIDPLUS's UID EXPUNGE."""
    imap_server.append(message(1))
    imap_server.append(message(2))
    monkeypatch.setattr(imap, "capabilities_of", lambda connection: frozenset({"UIDPLUS"}))

    assert imap.poll(mailbox).moved == 2

    monkeypatch.setattr(imap, "capabilities_of", lambda connection: frozenset())
    imap_server.append(message(3))

    assert imap.poll(mailbox).moved == 1

    assert imap_server.messages("INBOX") == []
    assert imap_server.messages("Processed") == [message(1), message(2), message(3)]


def test_an_existing_done_folder_is_used(mailbox, imap_server, ingest):
    imap_server.append(message(0), folder="Processed")
    imap_server.append(message(1))

    assert imap.poll(mailbox).moved == 1

    assert imap_server.messages("Processed") == [message(0), message(1)]


def test_starttls(mailbox, imap_server, ingest):
    mailbox.security, mailbox.port = Mailbox.Security.STARTTLS, imap_server.starttls_port
    mailbox.save()
    imap_server.append(message(1))

    assert imap.poll(mailbox).moved == 1
    assert ingest.raws == [message(1)]


# --- One worker at a time -----------------------------------------------------------------------


def test_a_second_worker_skips_a_mailbox_being_polled(mailbox, imap_server, ingest):
    imap_server.append(message(1))
    imap_server.append(message(2))
    second = []
    # A second worker starts while the first is handing over its first message.
    ingest.during = lambda: second.append(imap.poll(Mailbox.objects.get(pk=mailbox.pk)))

    first = imap.poll(mailbox)

    assert first.moved == 2
    assert {result.skipped for result in second} == {
        "disabled meanwhile, or being polled by another worker"
    }
    assert ingest.raws == [message(1), message(2)]  # each handed over once
    assert refreshed(mailbox).leased_until is None


def test_the_lease_of_a_worker_that_died_expires(mailbox, imap_server, ingest):
    imap_server.append(message(1))
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(leased_until=now + dt.timedelta(minutes=1))

    assert imap.poll(mailbox).skipped
    assert ingest.calls == []

    Mailbox.objects.filter(pk=mailbox.pk).update(leased_until=now - dt.timedelta(seconds=1))

    assert imap.poll(mailbox).moved == 1


def test_the_lease_outlives_the_longest_task():
    taken_at = timezone.now()
    project = ProjectFactory()
    mailbox = Mailbox.objects.create(project=project, host="imap.example.org", username="u")
    mailbox.enabled = True
    mailbox.save()

    lease = imap.take_lease(mailbox, now=taken_at)

    assert lease - taken_at == dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    assert imap.take_lease(mailbox, now=taken_at) is None


# --- Failing cleanly ----------------------------------------------------------------------------


def test_a_missing_password_is_a_clear_error(mailbox, imap_server, ingest, monkeypatch, settings):
    monkeypatch.delenv("INBOX_IMAP_PASSWORD_ACME")
    settings.INBOX_IMAP_PASSWORD_DIR = "/run/secrets/imap"
    imap_server.append(message(1))

    result = imap.poll(mailbox)

    assert result.error == (
        "No app password: missing: put it in the environment variable INBOX_IMAP_PASSWORD_ACME "
        "or the file /run/secrets/imap/acme."
    )
    assert refreshed(mailbox).last_error == result.error
    assert ingest.calls == []
    assert imap_server.messages("INBOX") == [message(1)]


@pytest.mark.heavy
def test_superusers_hear_when_a_mailbox_starts_failing_once_per_streak(
    mailbox, imap_server, ingest, monkeypatch
):
    """Mail to the project stops reaching the platform: the people who configure mailboxes hear
    it when a failure follows a clean poll, not at every failed poll (beat polls every minute).
    """
    UserFactory(email="root@example.org", is_superuser=True, is_staff=True)
    UserFactory(email="maintainer@example.org")
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", "not the password")

    imap.poll(mailbox)
    imap.poll(mailbox)

    notices = OutboundEmail.objects.filter(about=f"inbox.mailbox:{mailbox.pk}")
    assert [(notice.to, notice.subject) for notice in notices] == [
        ("root@example.org", "[Acme] The IMAP mailbox cannot be polled")
    ]
    assert "Authentication failed" in notices[0].body
    assert f"/admin/inbox/mailbox/{mailbox.pk}/change/" in notices[0].body
    assert "not the password" not in notices[0].body

    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", imap_server.password)
    assert imap.poll(mailbox).error == ""
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", "not the password")
    again = imap.poll(mailbox)

    assert "Authentication failed" in again.error
    assert notices.all().count() == 2  # a fresh query: the list above cached the first


def test_the_password_may_come_from_a_file(
    mailbox, imap_server, ingest, monkeypatch, settings, tmp_path
):
    monkeypatch.delenv("INBOX_IMAP_PASSWORD_ACME")
    (tmp_path / "acme").write_text(imap_server.password + "\n")  # as editors save it
    settings.INBOX_IMAP_PASSWORD_DIR = str(tmp_path)
    imap_server.append(message(1))

    assert imap.poll(mailbox).moved == 1
    assert imap.password_source(mailbox) == f"read from the file {tmp_path / 'acme'}"


def test_the_password_variable_follows_the_slug(db):
    project = ProjectFactory(slug="mailtri-router")
    mailbox = Mailbox(project=project, host="imap.example.org", username="security")

    assert mailbox.password_variable == "INBOX_IMAP_PASSWORD_MAILTRI_ROUTER"


def test_a_wrong_password_is_recorded(mailbox, imap_server, ingest, monkeypatch):
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", "not the password")
    imap_server.append(message(1))

    result = imap.poll(mailbox)

    assert "Authentication failed" in result.error
    assert "not the password" not in result.error
    assert refreshed(mailbox).last_error == result.error
    assert ingest.calls == []


def test_an_unverified_server_is_never_logged_in_to(mailbox, imap_server, ingest, settings):
    """Without the CA file the self-signed certificate cannot be verified: the poll stops
    before the password is sent.
    """
    settings.INBOX_IMAP_CA_FILE = ""
    imap_server.append(message(1))
    logins = imap_server.log.read_text().count("imap-login: Info: Login: ")

    result = imap.poll(mailbox)

    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert ingest.calls == []
    assert imap_server.log.read_text().count("imap-login: Info: Login: ") == logins
    assert imap_server.messages("INBOX") == [message(1)]


def test_starttls_is_verified_too(mailbox, imap_server, ingest, settings):
    mailbox.security, mailbox.port = Mailbox.Security.STARTTLS, imap_server.starttls_port
    settings.INBOX_IMAP_CA_FILE = ""

    result = imap.poll(mailbox)

    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert ingest.calls == []


def test_the_host_name_is_verified(mailbox, imap_server, ingest, settings):
    # The certificate names 127.0.0.1 only; the same server under another name fails.
    mailbox.host = "localhost"

    result = imap.poll(mailbox)

    assert "Hostname mismatch" in result.error
    assert ingest.calls == []


def test_a_server_that_is_down(mailbox, ingest):
    mailbox.port = free_port()  # nobody listens there
    mailbox.save()

    result = imap.poll(mailbox)

    assert f"127.0.0.1:{mailbox.port}: " in result.error
    assert "refused" in result.error.lower()
    assert refreshed(mailbox).last_error == result.error
    assert refreshed(mailbox).leased_until is None


def test_a_missing_folder(mailbox, imap_server, ingest):
    mailbox.folder = "No such folder"

    result = imap.poll(mailbox)

    assert result.error.startswith("cannot open folder No such folder")
    assert ingest.calls == []


# --- The beat task ------------------------------------------------------------------------------


def test_beat_polls_the_mailboxes_every_configured_interval():
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == tasks.poll_mailboxes.name]
    assert [e["schedule"] for e in entries] == [settings.INBOX_IMAP_POLL_SECONDS]


def test_the_task_polls_enabled_mailboxes_only(mailbox, imap_server, ingest):
    mailbox.enabled = False
    mailbox.save()
    imap_server.append(message(1))

    assert tasks.poll_mailboxes() == 0

    assert ingest.calls == []
    assert imap_server.messages("INBOX") == [message(1)]
    assert refreshed(mailbox).last_polled_at is None
    assert imap.poll(mailbox).skipped == "disabled"


def test_mailboxes_are_disabled_until_someone_enables_them(project):
    mailbox = Mailbox.objects.create(project=project, host="imap.example.org", username="u")

    assert (mailbox.enabled, mailbox.port, mailbox.security) == (False, 993, "imaps")
    assert (mailbox.folder, mailbox.done_folder) == ("INBOX", "Processed")


def test_a_failing_mailbox_does_not_stop_the_others(mailbox, imap_server, ingest, monkeypatch):
    other = ProjectFactory(slug="other-project", tracking_prefix="OTP")
    PolicyRevisionFactory(project=other)
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_OTHER_PROJECT", imap_server.password)
    imap_server.mailbox_for(
        other,
        folder="Other",
        done_folder="Other done",
        enabled=True,
    )
    imap_server.append(message(1))
    imap_server.append(message(2), folder="Other")

    def fail_for_acme():
        if ingest.calls[-1][1] == mailbox.project:
            raise RuntimeError("a bug in the gateway")

    ingest.during = fail_for_acme

    assert tasks.poll_mailboxes() == 1

    assert imap_server.messages("INBOX") == [message(1)]
    assert imap_server.messages("Other done") == [message(2)]
    assert refreshed(mailbox).last_error == "RuntimeError: a bug in the gateway"
    assert refreshed(mailbox).leased_until is None


# --- Admin: infrastructure, superusers only -----------------------------------------------------


def test_the_admin_shows_where_the_password_comes_from_never_the_password(
    client, superuser, mailbox, imap_server
):
    client.sign_in(superuser)

    page = client.get(f"/admin/inbox/mailbox/{mailbox.pk}/change/").content.decode()

    assert "read from the environment variable INBOX_IMAP_PASSWORD_ACME" in page
    assert imap_server.password not in page
    assert (
        "INBOX_IMAP_PASSWORD_&lt;SLUG&gt;"
        in client.get("/admin/inbox/mailbox/add/").content.decode()
    )


def test_only_superusers_reach_the_mailboxes_in_the_admin(client, mailbox, maintainer):
    maintainer.is_staff = True
    maintainer.save()
    client.sign_in(maintainer)

    assert client.get("/admin/inbox/mailbox/").status_code == 403
    assert client.get(f"/admin/inbox/mailbox/{mailbox.pk}/change/").status_code == 403
    assert not admin.site._registry[Mailbox].has_module_permission(
        type("Request", (), {"user": maintainer})()
    )


def test_the_done_folder_must_differ_from_the_folder_read(client, superuser, project):
    client.sign_in(superuser)

    response = client.post(
        "/admin/inbox/mailbox/add/",
        {
            "project": project.pk,
            "host": "imap.example.org",
            "port": 993,
            "security": "imaps",
            "username": "security@example.org",
            "folder": "INBOX",
            "done_folder": "INBOX",
        },
    )

    assert response.status_code == 200
    assert "Use a folder other than the one read from." in response.content.decode()
    assert not Mailbox.objects.exists()


# --- Two workers at once, on PostgreSQL ---------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_hand_each_message_over_once(
    project, imap_server, trusted, monkeypatch
):
    """Two threads (two workers' connections) poll the same mailbox at the same moment: one
    takes the lease, the other skips; every message reaches the gateway exactly once.
    """
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", imap_server.password)
    imap_server.mailbox_for(
        project,
        enabled=True,
    )
    for number in (1, 2, 3):
        imap_server.append(message(number))
    recorder = Gateway()
    recorder.during = lambda: time.sleep(0.2)  # the second worker arrives mid-poll
    monkeypatch.setattr(gateway, "ingest", recorder)
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(imap.poll(Mailbox.objects.select_related("project").get()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(result.moved for result in results) == [0, 3]
    assert [result.skipped for result in results if not result.moved] == [
        "disabled meanwhile, or being polled by another worker"
    ]
    assert recorder.raws == [message(1), message(2), message(3)]
    assert imap_server.messages("Processed") == [message(1), message(2), message(3)]
