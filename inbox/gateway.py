"""The email gateway: one raw RFC 5322 message in, a report, a comment, a neutral answer or
nothing out, with the status an MTA pipe expects.

Every message that reaches a project (or a reply address) is stored once per Message-ID as an
InboundEmail, whatever became of it, in the same transaction as what it caused: the report, its
attachments, the acknowledgment in the outbox. A failure stores nothing and answers
TEMPORARY_FAILURE, so the MTA delivers the message again later.
"""

import dataclasses
import datetime
import email.parser
import email.policy
import hashlib
import logging
import re
import zlib

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone

from inbox import limits, parse, replies
from mailer import openpgp, outbox
from mailer import replies as reply_addresses
from mailer.models import InboundEmail
from projects.encryption import encryption_key
from projects.models import IntakeAddress, PolicyRevision, Project
from reports import services
from reports.forms import AttachmentsField
from reports.models import Report

logger = logging.getLogger(__name__)

DELIVERED = 0  # EX_OK
UNKNOWN_RECIPIENT = 67  # EX_NOUSER
TEMPORARY_FAILURE = 75  # EX_TEMPFAIL

Outcome = InboundEmail.Outcome
DETAIL_LENGTH = InboundEmail._meta.get_field("detail").max_length
MESSAGE_ID_LENGTH = InboundEmail._meta.get_field("message_id").max_length
HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclasses.dataclass(frozen=True)
class Delivery:
    status: int
    outcome: str = ""  # mailer.models.InboundEmail.Outcome, "" when nothing was stored
    about: str = ""  # the report or comment it became part of, "app.model:pk"


class _RefusedError(Exception):
    """The report cannot be filed (no policy in force, quota): nothing of it is kept."""


def ingest(raw, *, recipients=None, project=None):
    """Deliver one raw message (bytes).

    recipients: the envelope recipients (an MTA pipe passes them); default: the message's
    Delivered-To, To and Cc headers. project: the project whose IMAP mailbox it came from,
    used when no recipient routes it.

    Oversized, malformed and automatic messages (auto-replies, bounces, the platform's own mail)
    are recorded as ignored and never answered; a Message-ID seen before changes nothing;
    a recipient that routes nowhere is UNKNOWN_RECIPIENT with nothing stored; a database that
    cannot be reached is TEMPORARY_FAILURE with nothing stored.
    """
    try:
        return _ingest(raw, recipients=recipients, fallback=project)
    except (OperationalError, InterfaceError) as error:
        logger.warning("inbound email not delivered, the database failed: %s", error)
        return Delivery(TEMPORARY_FAILURE)


def _ingest(raw, *, recipients, fallback):
    headers = _headers(raw)
    inbound = InboundEmail(
        message_id=_message_id(headers, raw),
        size=len(raw),
        received_at=timezone.now(),
        in_reply_to=str(headers.get("In-Reply-To", "")).strip()[:255],
        references=" ".join(str(headers.get("References", "")).split()),
    )
    if InboundEmail.objects.filter(message_id=inbound.message_id).exists():
        return Delivery(DELIVERED)
    inbound.origin_ip = limits.origin_ip(headers)
    if inbound.size > settings.INBOX_MAX_MESSAGE_BYTES:
        # Not even kept for audit: the limit is what the platform agreed to store.
        inbound.sender = _sender_or_blank(headers)
        limit = settings.INBOX_MAX_MESSAGE_BYTES
        return _store(inbound, Outcome.IGNORED, f"oversized: {inbound.size} bytes (limit {limit})")
    _keep_raw(inbound, raw)
    try:
        message = parse.parse(raw)
    except parse.MalformedMessage as error:
        inbound.sender = _sender_or_blank(headers)
        return _store(inbound, Outcome.IGNORED, f"malformed: {error}")
    inbound.sender = parse.sender(message)
    reason = parse.automatic(message)
    if reason:
        return _store(inbound, Outcome.IGNORED, f"automatic: {reason}")
    route = _route(message, recipients=recipients, fallback=fallback)
    if route is None:
        return Delivery(UNKNOWN_RECIPIENT)
    inbound.recipient = route.address[:254]
    try:
        # Files written by a service that returned are removed too when this transaction fails.
        with services.removing_files_on_failure(), transaction.atomic():
            _deliver(message, inbound=inbound, route=route)
    except _RefusedError as refusal:
        # What the rolled-back work wrote into the record is gone with it.
        inbound.pk, inbound.about = None, ""
        return _store(inbound, Outcome.REFUSED, str(refusal))
    except IntegrityError:
        return _lost_race(inbound)
    return Delivery(DELIVERED, inbound.outcome, inbound.about)


def _store(inbound, outcome, detail):
    """Record a message that causes nothing else."""
    inbound.outcome, inbound.detail = outcome, detail[:DETAIL_LENGTH]
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:
        return _lost_race(inbound)
    return Delivery(DELIVERED, inbound.outcome, inbound.about)


def _lost_race(inbound):
    """Two deliveries of one Message-ID at once: the unique constraint let the other one in,
    and this one's work rolled back. Any other conflict (two first messages of one new sender
    making the same account) is retried by the MTA.
    """
    if InboundEmail.objects.filter(message_id=inbound.message_id).exists():
        return Delivery(DELIVERED)
    logger.warning("inbound email %s conflicted; the MTA retries it", inbound.message_id)
    return Delivery(TEMPORARY_FAILURE)


# --- The raw message ------------------------------------------------------------------------------


def _headers(raw):
    """The header block alone, parsed: enough to name and route even a message that fails
    (and cheap for an oversized one: its body is not read)."""
    end = HEADER_END.search(raw)
    block = raw[: end.end()] if end else raw
    return email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(block)


def _message_id(headers, raw):
    """As sent; a message without one (or with an absurdly long one) is named by the digest of
    its bytes, so a redelivery of it is still recognised.
    """
    value = " ".join(str(headers.get("Message-ID", "")).split())
    if value and len(value) <= MESSAGE_ID_LENGTH:
        return value
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@inbound.invalid>"


def _sender_or_blank(headers):
    try:
        return parse.sender(headers)
    except parse.MalformedMessage:
        return ""


def _keep_raw(inbound, raw):
    inbound.raw = zlib.compress(raw)
    inbound.keep_raw_until = inbound.received_at + datetime.timedelta(
        days=settings.INBOX_RAW_RETENTION_DAYS
    )


# --- Routing --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    address: str  # the recipient that routed it ("" for the IMAP mailbox's project)
    project: Project | None = None
    target: reply_addresses.ReplyTarget | None = None


def _route(message, *, recipients, fallback):
    """Where the message goes: a reply address first (a reply that also copies an intake
    address is still a reply), then a project's intake address, the platform's INBOX_ADDRESS
    plus a project's slug, INBOX_ADDRESS with a project's subject tag, the mailbox's project.
    """
    if recipients:
        addresses = [address.strip().lower() for address in recipients if address.strip()]
    else:
        addresses = [
            address
            for name in ("Delivered-To", "To", "Cc")
            for address in parse.header_addresses(message, name)
        ]
    addresses = list(dict.fromkeys(addresses))
    for address in addresses:
        target = reply_addresses.read_reply_address(address)
        if target is not None:
            return Route(address=address, target=target)
    by_address = {
        intake.address: intake.project
        for intake in IntakeAddress.objects.filter(
            address__in=addresses, project__active=True
        ).select_related("project")
    }
    inbox_local, _, inbox_domain = settings.INBOX_ADDRESS.lower().partition("@")
    slugs = {}
    for address in addresses:
        local, _, domain = address.partition("@")
        base, plus, slug = local.partition("+")
        if plus and base == inbox_local and domain == inbox_domain:
            slugs[address] = slug
    by_slug = {
        project.slug: project
        for project in Project.objects.filter(slug__in=slugs.values(), active=True)
    }
    for address in addresses:
        if address in by_address:
            return Route(address=address, project=by_address[address])
        if slugs.get(address) in by_slug:
            return Route(address=address, project=by_slug[slugs[address]])
    if settings.INBOX_ADDRESS.lower() in addresses:
        tagged = project_tagged(parse.subject(message))
        if tagged is not None:
            return Route(address=settings.INBOX_ADDRESS.lower(), project=tagged)
    if fallback is not None:
        return Route(address="", project=fallback)  # the mailbox it was in routed it
    return None


def project_tagged(subject):
    """The active project whose policy in force asks for a subject tag that `subject` carries
    (mailtri-router: "[SECURITY] mailtri-router vulnerability report"), or None.
    """
    today = timezone.localdate()
    revisions = (
        PolicyRevision.objects.filter(project__active=True, effective_from__lte=today)
        .order_by("project_id", "-effective_from")
        .select_related("project")
        .only("project", "effective_from", "subject_tag")
    )
    seen = set()
    for revision in revisions:
        if revision.project_id in seen:
            continue  # an older revision: not in force
        seen.add(revision.project_id)
        if revision.subject_tag and revision.subject_tag.lower() in subject.lower():
            return revision.project
    return None


# --- Delivery -------------------------------------------------------------------------------------


def _deliver(message, *, inbound, route):
    """Inside the gateway's transaction: the reply, the thread's answer or the new report."""
    project = route.project
    # Protected headers (the encrypted part's own Subject) win; many clients leave them out.
    subject = parse.subject(message)
    if openpgp.is_encrypted(message):
        project = project or _project_of(route.target)
        try:
            message = openpgp.decrypt(message, key_name=project.slug if project else "")
        except openpgp.OpenPGPError as error:
            _answer_undecryptable(inbound, project=project, error=error)
            return
        subject = parse.subject(message) or subject
    if route.target is not None:
        replies.handle(
            message=message, inbound=inbound, target=route.target, project=None, tracking_id=None
        )
        inbound.save()
        return
    tracking_id = parse.tracking_id_in(subject)
    if tracking_id and tracking_id.startswith(f"{project.tracking_prefix}-"):
        replies.handle(
            message=message,
            inbound=inbound,
            target=None,
            project=project,
            tracking_id=tracking_id,
        )
        inbound.save()
        return
    _file(message, inbound=inbound, project=project, subject=subject)


def _project_of(target):
    """The project of the report a reply address is about (its key decrypts the reply)."""
    label, _, pk = target.about.partition(":")
    if label != "reports.report" or not pk.isdigit():
        return None
    report = Report.objects.filter(pk=int(pk)).select_related("project").first()
    return report.project if report else None


def _answer_undecryptable(inbound, *, project, error):
    """A short answer saying where the project's key is; nothing of any report. Not to a
    sender the spam defences refuse: undecryptable mail under a forged From would otherwise
    make the platform mail anyone.
    """
    refusal = project and limits.refusal(
        project=project, sender=inbound.sender, origin_ip=inbound.origin_ip
    )
    if refusal:
        inbound.outcome, inbound.detail = Outcome.REFUSED, refusal[:DETAIL_LENGTH]
        inbound.save()
        return
    inbound.outcome = Outcome.NEUTRAL
    inbound.detail = f"undecryptable: {error}"[:DETAIL_LENGTH]
    inbound.save()
    policy_url = (
        settings.SITE_URL + reverse("projects:detail", args=[project.slug]) if project else ""
    )
    outbox.send(
        outbox.compose(
            "undecryptable",
            to=[inbound.sender],
            subject="Your message could not be decrypted",
            context={
                "project": project,
                "policy_url": policy_url,
                # The project's own key URL, else the key the site serves for it.
                "key": encryption_key(project) if project else None,
            },
        )
    )


def _file(message, *, inbound, project, subject):
    """A new report from the message, unless the spam defences refuse it."""
    refusal = limits.refusal(project=project, sender=inbound.sender, origin_ip=inbound.origin_ip)
    if refusal:
        inbound.outcome, inbound.detail = Outcome.REFUSED, refusal[:DETAIL_LENGTH]
        inbound.save()
        return
    revision = project.revision_in_force()
    if revision is None:
        raise _RefusedError(f"{project.name} has no security policy in force")
    reporter = reporter_for(inbound.sender)
    if not reporter.is_active:
        raise _RefusedError("the sender's account is deactivated")
    files, inbound.detail = checked_attachments(message)
    inbound.outcome = Outcome.REPORT
    fields = report_fields(message, subject=subject, revision=revision)
    try:
        try:
            services.file_report(
                project=project, reporter=reporter, fields=fields, files=files, received=inbound
            )
        except services.ReportError as error:
            if not files:
                raise
            # The files broke a cap of what the report or the person may store (the sender and
            # the project were checked before): the report is filed without them, as the form's
            # caps are handled above, and the acknowledgment says why.
            inbound.pk, inbound.about = None, ""
            inbound.detail = f"Your attachments were not kept: {error}"[:DETAIL_LENGTH]
            services.file_report(
                project=project, reporter=reporter, fields=fields, received=inbound
            )
    except services.ReportError as error:
        raise _RefusedError(str(error)[:DETAIL_LENGTH]) from error


def checked_attachments(message):
    """(files, note): the message's files when they pass the report form's caps (count, size,
    empty files), else none and a note for the reporter saying why.
    """
    files = parse.attachments(message)
    try:
        return AttachmentsField().clean(files), ""
    except ValidationError as error:
        reason = " ".join(error.messages)
        note = f"Your attachments were not kept: {reason} Add them on the report page."
        return [], note[:DETAIL_LENGTH]


def report_fields(message, *, subject, revision):
    """The report's fields from a message: the title from the subject without the policy's
    subject tag (else the text's first line, else "Report by email"), the text as the
    description. Everything else the policy requires is missing: its labels are listed in
    missing_fields, asked of the reporter in the acknowledgment and flagged to members.
    """
    text = parse.body_text(message)
    title = subject
    if revision.subject_tag:
        start = title.lower().find(revision.subject_tag.lower())
        if start >= 0:
            title = title[:start] + title[start + len(revision.subject_tag) :]
    title = title.strip(" \t-:\u2013\u2014")
    if set(title) <= {".", "\u2026"}:
        title = ""  # "...": the subject is hidden in the encrypted part (protected headers)
    if not title:
        title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    title_length = Report._meta.get_field("title").max_length
    missing = [
        spec.label
        for spec in revision.intake_fields()
        if spec.required and not (spec.name == "description" and text)
    ]
    return {
        "title": title[:title_length] or "Report by email",
        "description": text,
        "missing_fields": missing,
    }


def reporter_for(address):
    """The account behind `address` (lower-cased): the one with that address (allauth's
    addresses, else the account's own field, case-insensitively), else a new one without a
    password whose address is unverified until they sign in (by a code mailed to it, which
    verifies it).
    """
    # allauth keeps its addresses lower-cased (and so `address` is): an exact, indexed match.
    # Verified ones first: that is the account the address proved to belong to.
    known = (
        EmailAddress.objects.filter(email=address)
        .select_related("user")
        .order_by("-verified", "pk")
        .first()
    )
    if known is not None:
        return known.user
    user_model = get_user_model()
    # Accounts made without allauth (createsuperuser, the admin) may spell it otherwise.
    user = user_model.objects.filter(email__iexact=address).order_by("pk").first()
    if user is not None:
        return user
    user = user_model(email=address)
    get_adapter().populate_username(None, user)
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=False)
    return user
