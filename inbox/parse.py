"""Reading one raw RFC 5322 message: who sent it, its text, its files, and whether a machine
sent it.

Everything here is pure (no database): the gateway (inbox.gateway) decides what becomes of the
message.
"""

import email
import email.errors
import email.policy
import mimetypes
import posixpath
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.markdown import html_to_text

MAX_ADDRESS = 254  # RFC 5321's longest path: the longest address that can be mailed


class MalformedMessage(Exception):  # noqa: N818 -- the gateway's contract names it so
    """A message the gateway cannot read without losing or guessing at its content."""


# Defects after which the parsed structure no longer holds everything the sender wrote: a
# multipart without (usable) boundaries, a base64 body that cannot be decoded. Other defects
# (a missing closing boundary, stray characters in base64) leave the content readable.
LOSING_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.InvalidMultipartContentTransferEncodingDefect,
    email.errors.InvalidBase64LengthDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
)


def parse(raw):
    """The message of `raw` (bytes). Raises MalformedMessage when it has no parseable From
    address, a broken MIME structure that loses content, or a part that cannot be decoded.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        losing = [d for d in part.defects if isinstance(d, LOSING_DEFECTS)]
        if losing:
            raise MalformedMessage(f"broken MIME structure ({type(losing[0]).__name__})")
        if not part.is_multipart():
            _decode(part)
    sender(message)
    return message


def _decode(part):
    """The content of a leaf part; MalformedMessage when it cannot be decoded."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError, KeyError) as error:
        # LookupError: a charset Python does not know; the others: a body that does not decode.
        raise MalformedMessage(f"undecodable {part.get_content_type()} part: {error}") from error


def sender(message):
    """The From address, lower-cased. Raises MalformedMessage when there is none."""
    try:
        header = message["From"]
        addresses = header.addresses if header is not None else ()
    except (IndexError, ValueError, AttributeError, email.errors.HeaderParseError) as error:
        raise MalformedMessage(f"unparseable From header: {error}") from error
    for address in addresses:
        if address.username and address.domain and len(address.addr_spec) <= MAX_ADDRESS:
            return address.addr_spec.lower()
    raise MalformedMessage("no parseable From address")


def header_addresses(message, name):
    """The addresses in every `name` header, lower-cased, in order; unparseable ones skipped."""
    found = []
    for value in message.get_all(name) or ():
        try:
            addresses = getattr(value, "addresses", None)
        except (IndexError, ValueError, email.errors.HeaderParseError):
            addresses = None
        if addresses is None:
            # Delivered-To is not an address header to the parser: take its text.
            text = str(value).strip().strip("<>").strip()
            if "@" in text:
                found.append(text.lower())
            continue
        found += [a.addr_spec.lower() for a in addresses if a.username and a.domain]
    return found


def subject(message):
    return " ".join(_printable(str(message.get("Subject", ""))).split())


def _printable(text):
    # NUL never belongs in mail text, and PostgreSQL refuses it in text columns.
    return text.replace("\x00", "")


# --- Text -----------------------------------------------------------------------------------------


def _text_of(part):
    content = _printable(_decode(part))
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content.replace("\r\n", "\n").strip()


def body_text(message):
    """The text of the message: its text/plain part, else its HTML part as text. A message
    forwarded as an attachment adds its own text under a header line naming it (a forward
    written inline is part of the text already).
    """
    body = message.get_body(preferencelist=("plain", "html"))
    text = _text_of(body) if body is not None else ""
    for part in _forwarded_parts(message):
        inner = part.get_content()
        heading = ["---------- Forwarded message ----------"]
        heading += [
            f"{name}: {' '.join(_printable(str(inner[name])).split())}"
            for name in ("From", "Date", "Subject", "To")
            if inner.get(name)
        ]
        text = "\n\n".join(piece for piece in (text, "\n".join(heading), body_text(inner)) if piece)
    return text


def _forwarded_parts(message):
    """The message/rfc822 parts directly in this message (not inside a forwarded one)."""
    found = []
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_content_type() == "message/rfc822":
            found.append(part)
        elif part.is_multipart():
            found += _forwarded_parts(part)
    return found


# --- Files ----------------------------------------------------------------------------------------


def attachments(message):
    """The files of the message as uploads for reports.services.file_report: every attached or
    non-text part, and each forwarded message whole as an .eml file. The body part and its
    alternatives are not files.
    """
    body = message.get_body(preferencelist=("plain", "html"))
    files = []
    for part in _file_parts(message, body):
        number = len(files) + 1
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            content = inner.as_bytes(policy=email.policy.SMTP)
            name = _file_name(part.get_filename()) or _subject_file_name(inner, number)
            files.append(SimpleUploadedFile(name, content, content_type="message/rfc822"))
            continue
        content = part.get_payload(decode=True) or b""
        content_type = part.get_content_type()
        name = _file_name(part.get_filename()) or _default_name(content_type, number)
        files.append(SimpleUploadedFile(name, content, content_type=content_type))
    return files


def _file_parts(part, body):
    for sub in part.iter_parts():
        if sub is body:
            continue
        if sub.get_content_type() == "message/rfc822":
            yield sub
        elif sub.is_multipart():
            yield from _file_parts(sub, body)
        elif sub.is_attachment() or sub.get_filename() or sub.get_content_maintype() != "text":
            yield sub
        # Remaining inline text parts are the body's alternatives (HTML beside the plain text).


def _file_name(name):
    """A file name the sender chose, without any directory part."""
    if not name:
        return ""
    name = posixpath.basename(name.replace("\\", "/")).strip()
    return "" if name in ("", ".", "..") else name[:100]


def _default_name(content_type, number):
    return f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}"


def _subject_file_name(message, number):
    words = re.sub(r"[^A-Za-z0-9]+", "-", subject(message)).strip("-")[:60]
    return f"{words or f'forwarded-{number}'}.eml"


# --- Machines -------------------------------------------------------------------------------------

BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
BULK_PRECEDENCE = {"bulk", "list", "junk"}


def own_message_id(message_id):
    """Whether `message_id` is one the platform's outbox gives (mailer.outbox.message_id)."""
    host = re.escape(urlsplit(settings.SITE_URL).hostname or "")
    return re.fullmatch(rf"<outbound-\d+@{host}>", message_id.strip(), re.IGNORECASE) is not None


def automatic(message):
    """Why the message was sent by a machine (the platform's own notification, an auto-reply,
    a bounce, a mailing list), or None for a person's message. Nothing automatic is answered:
    answering auto-replies and bounces is how mail loops start.
    """
    if own_message_id(str(message.get("Message-ID", ""))):
        return "the platform's own notification"
    auto_submitted = str(message.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if "X-Autoreply" in message or "X-Autorespond" in message:
        return "auto-reply header"
    return_paths = [str(value).strip() for value in message.get_all("Return-Path") or ()]
    if any(value.strip("<> ") == "" for value in return_paths):
        return "empty return path (a bounce)"
    if message.get_content_type() == "multipart/report":
        report_type = message.get_param("report-type", "") or "report"
        return f"multipart/report ({report_type})"
    try:
        local_part = sender(message).split("@", 1)[0]
    except MalformedMessage:
        local_part = ""
    if local_part in BOUNCE_SENDERS:
        return f"sent by {local_part}"
    if "List-Id" in message or "List-Unsubscribe" in message:
        return "mailing list"
    return None


# --- Tracking IDs ---------------------------------------------------------------------------------

# "[STW-2026-0001]" or bare: a project's prefix (reports.models, two to eight capitals), the
# year and the sequence number.
TRACKING_ID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,8}-\d{4}-\d{4,})(?![A-Za-z0-9])")


def tracking_id_in(text):
    """The first tracking ID in `text` (a subject), upper-cased, or None."""
    match = TRACKING_ID.search(text or "")
    return match.group(1).upper() if match else None
