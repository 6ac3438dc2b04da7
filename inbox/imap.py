"""Polling the projects' IMAP mailboxes into the gateway.

A poll logs in over TLS (always verified), takes the oldest messages of the folder, hands each to
`inbox.gateway.ingest` with the mailbox's project and moves it to the done folder when the gateway
is done with it (delivered, or no such recipient: retrying cannot help). A temporary failure
leaves the message where it is and ends the poll: the next one retries it, in order.

Two workers never poll one mailbox at once (a lease on its row); should a lease expire under a
worker that hangs, the gateway's Message-ID dedup still stores each message once.
"""

import imaplib
import logging
import os
import ssl
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inbox import emails, gateway
from inbox.models import Mailbox

logger = logging.getLogger(__name__)

# What the gateway is done with: moved out of the folder. Anything else is retried later.
DONE = frozenset({gateway.DELIVERED, gateway.UNKNOWN_RECIPIENT})


class MailboxError(Exception):
    """A poll cannot go on; the sentence is recorded as the mailbox's last error."""


@dataclass
class PollResult:
    moved: int = 0  # handled by the gateway and moved to the done folder
    kept: int = 0  # left for the next poll (temporary failure)
    error: str = ""
    skipped: str = ""  # why the mailbox was not polled at all


def poll_enabled():
    """Poll every enabled mailbox once (the beat task). A mailbox that fails, even through a
    bug, is logged and recorded on its row; the others are polled all the same.
    """
    results = {}
    for mailbox in Mailbox.objects.filter(enabled=True).select_related("project").order_by("pk"):
        try:
            results[mailbox.project.slug] = poll(mailbox)
        except Exception:
            logger.exception("polling the IMAP mailbox of %s failed", mailbox.project.slug)
    return results


def poll(mailbox):
    """Deliver up to INBOX_IMAP_MESSAGES_PER_POLL messages of `mailbox` to the gateway.

    Only enabled mailboxes are polled, by one worker at a time. Connection, TLS, login and
    server errors and a missing password end the poll cleanly: recorded in last_error (cleared by
    the next clean poll) and logged, never raised.
    """
    if not mailbox.enabled:
        return PollResult(skipped="disabled")
    started = timezone.now()
    lease = take_lease(mailbox, now=started)
    if lease is None:
        return PollResult(skipped="disabled meanwhile, or being polled by another worker")
    result = PollResult()
    was_failing = bool(mailbox.last_error)
    try:
        _poll(mailbox, result)
    except MailboxError as error:
        result.error = str(error)
    except (imaplib.IMAP4.error, OSError, UnicodeError) as error:
        result.error = f"{mailbox.host}:{mailbox.port}: {describe(error)}"
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}"
        raise
    finally:
        if result.error:
            logger.warning("IMAP mailbox of %s: %s", mailbox.project.slug, result.error)
        release_lease(mailbox, lease=lease, polled_at=started, error=result.error)
        if result.error and not was_failing:
            emails.mailbox_failing(mailbox, error=result.error)
    return result


def take_lease(mailbox, *, now):
    """Hold the mailbox for one poll; None when another worker holds it.

    One conditional UPDATE, so of two workers exactly one gets it. The lease lasts as long as the
    longest task may run (CELERY_TASK_TIME_LIMIT): it outlives any poll, and frees the mailbox by
    itself after a worker died.
    """
    until = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    taken = (
        Mailbox.objects.filter(pk=mailbox.pk, enabled=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .update(leased_until=until)
    )
    return until if taken else None


def release_lease(mailbox, *, lease, polled_at, error):
    # Only our own lease: after it expired another worker may hold a new one.
    Mailbox.objects.filter(pk=mailbox.pk, leased_until=lease).update(
        leased_until=None, last_polled_at=polled_at, last_error=error
    )
    mailbox.leased_until, mailbox.last_polled_at, mailbox.last_error = None, polled_at, error


def password(mailbox):
    """The mailbox's app password: the environment variable INBOX_IMAP_PASSWORD_<SLUG>, else the
    file INBOX_IMAP_PASSWORD_DIR/<slug> (its trailing newline dropped). Never the database.
    """
    value, _ = _password_and_source(mailbox)
    if not value:
        raise MailboxError(f"No app password: {password_source(mailbox)}")
    return value


def password_source(mailbox):
    """Where the app password comes from, for the admin and the error (never the password)."""
    value, source = _password_and_source(mailbox)
    if value:
        return f"read from {source}"
    places = [f"the environment variable {mailbox.password_variable}"]
    if settings.INBOX_IMAP_PASSWORD_DIR:
        places.append(f"the file {Path(settings.INBOX_IMAP_PASSWORD_DIR) / mailbox.project.slug}")
    return f"missing: put it in {' or '.join(places)}."


def _password_and_source(mailbox):
    variable = mailbox.password_variable
    if os.environ.get(variable):
        return os.environ[variable], f"the environment variable {variable}"
    if settings.INBOX_IMAP_PASSWORD_DIR:
        path = Path(settings.INBOX_IMAP_PASSWORD_DIR) / mailbox.project.slug
        try:
            value = path.read_text().rstrip("\r\n")
        except FileNotFoundError:
            value = ""
        if value:
            return value, f"the file {path}"
    return "", ""


def tls_context():
    """Certificates and host names are always verified; INBOX_IMAP_CA_FILE only says whom to
    trust (a private CA), never whether.
    """
    return ssl.create_default_context(cafile=settings.INBOX_IMAP_CA_FILE or None)


def connect(mailbox):
    timeout = settings.INBOX_IMAP_TIMEOUT_SECONDS
    if mailbox.security == Mailbox.Security.IMAPS:
        return imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=tls_context(), timeout=timeout
        )
    connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
    try:
        connection.starttls(ssl_context=tls_context())
    except BaseException:
        with suppress(OSError):  # the failed handshake may have closed the socket already
            connection.shutdown()
        raise
    return connection


def _poll(mailbox, result):
    secret = password(mailbox)  # before connecting: nothing to send without it
    with connect(mailbox) as connection:
        connection.login(quoted(mailbox.username), secret)
        capabilities = capabilities_of(connection)
        expect(connection.select(quoted(mailbox.folder)), f"cannot open folder {mailbox.folder}")
        done_folder_ready = False
        for uid in waiting(connection)[: settings.INBOX_IMAP_MESSAGES_PER_POLL]:
            raw = fetch(connection, uid)
            if raw is None:  # expunged meanwhile by another client
                continue
            delivery = gateway.ingest(raw, project=mailbox.project)
            if delivery.status not in DONE:
                result.kept += 1
                result.error = (
                    f"Message {uid.decode()} was not delivered (status {delivery.status}); "
                    "it stays in the folder and is retried at the next poll."
                )
                return
            if not done_folder_ready:
                ensure_folder(connection, mailbox.done_folder)
                done_folder_ready = True
            move(connection, uid, mailbox.done_folder, capabilities=capabilities)
            result.moved += 1


def capabilities_of(connection):
    # Asked again after login: servers announce extensions such as MOVE only to signed-in users.
    data = expect(connection.capability(), "CAPABILITY failed")
    return frozenset(data[0].decode("ascii", "replace").upper().split())


def waiting(connection):
    """UIDs of the folder's messages, oldest first; messages flagged deleted by a copy-and-delete
    move that was cut short are already in the done folder.
    """
    data = expect(connection.uid("SEARCH", None, "UNDELETED"), "SEARCH failed")
    return sorted((uid for uid in (data[0] or b"").split()), key=int)


def fetch(connection, uid):
    """The raw message, without setting \\Seen (BODY.PEEK): someone reading the mailbox in a
    mail client still sees what is new.
    """
    data = expect(connection.uid("FETCH", uid, "(BODY.PEEK[])"), f"cannot fetch {uid!r}")
    for part in data:
        if isinstance(part, tuple) and b"BODY[]" in part[0].upper():
            return part[1]
    return None


def ensure_folder(connection, name):
    data = expect(connection.list('""', quoted(name)), f"cannot list folder {name}")
    if any(data):
        return
    expect(connection.create(quoted(name)), f"cannot create folder {name}")
    connection.subscribe(quoted(name))  # shown in the mail clients of the people reading along


def move(connection, uid, folder, *, capabilities):
    """MOVE (RFC 6851) where the server has it; else copy, flag deleted and expunge (only this
    message where UIDPLUS allows, not what others flagged).
    """
    if "MOVE" in capabilities:
        expect(connection.uid("MOVE", uid, quoted(folder)), f"cannot move to {folder}")
        return
    expect(connection.uid("COPY", uid, quoted(folder)), f"cannot copy to {folder}")
    expect(connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "cannot flag deleted")
    if "UIDPLUS" in capabilities:
        expect(connection.uid("EXPUNGE", uid), "cannot expunge")
    else:
        expect(connection.expunge(), "cannot expunge")


def expect(response, failure):
    status, data = response
    if status != "OK":
        raise MailboxError(f"{failure}: {describe_data(data)}")
    return data


def quoted(name):
    """An IMAP quoted string (RFC 3501 §4.3): imaplib sends arguments as they are."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe(error):
    if error.args and isinstance(error.args[0], bytes):
        return error.args[0].decode("utf-8", "replace")
    return str(error) or type(error).__name__


def describe_data(data):
    return " ".join(
        part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
        for part in data or ()
        if part is not None
    )
