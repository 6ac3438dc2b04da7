"""Replies by email become comments, only when they prove their sender.

A From header is forgeable, so a reply proves who sent it in one of two ways:
- it went to the reply address of a notification: a signed token bound to the report and to
  the user it was sent to (mailer.replies); that user must still be active and see the report;
- it went to the project's intake address with the report's tracking ID in its subject, and our
  own MTA recorded a DMARC pass for the From domain (inbox.authentication); the From address is
  a verified address of an account that sees the report.
Everything else gets the same neutral answer, whether the report exists or not and whoever
wrote: it must not tell a stranger that a tracking ID is real, nor who takes part in a report.
"""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from inbox import authentication, parse, quotes
from mailer import outbox
from mailer.models import InboundEmail
from projects.selectors import verified_owners
from reports import emails, services
from reports.access import access_for
from reports.forms import AttachmentsField
from reports.models import Report, Viewer

Outcome = InboundEmail.Outcome
REPORT_REFERENCE = re.compile(r"^reports\.report:(\d+)$")


def handle(*, message, inbound, target, project, tracking_id):
    """Turn the reply `message` into a comment, or answer neutrally.

    message: the parsed email.message.EmailMessage (decrypted when it was encrypted).
    inbound: the unsaved mailer.models.InboundEmail of it; set its outcome, about and detail.
    target: the mailer.replies.ReplyTarget when it went to a reply address, else None.
    project: the project whose intake address it went to (None for a reply address).
    tracking_id: the tracking ID quoted in its subject, when it went to an intake address.
    Runs inside the gateway's transaction.

    The comment is public, or internal when the reply address carries the internal marker and
    its user may write internal notes there (reports.access); anyone else asking for internal
    is told it was not added, never given a public comment. Files attached go through the same
    caps as the site's upload form. The gateway saves `inbound` when this returns; a comment
    stores it first (add_comment), so that the notifications thread to it.
    """
    if target is not None:
        access, how = _by_reply_address(target), "reply address"
    else:
        access, how = _by_dmarc(message, project=project, tracking_id=tracking_id), "DMARC"
    if access is None:
        inbound.outcome = Outcome.NEUTRAL
        inbound.detail = f"Sender not proven ({how}): answered neutrally."
        _answer_neutrally(message)
        return
    internal = bool(target and target.internal)
    if internal and not access.allows("comment_internal"):
        inbound.outcome = Outcome.NEUTRAL
        inbound.detail = f"Internal note refused on {access.report.tracking_id}: not a member."
        _answer(access, reason=INTERNAL_REFUSED, comment_added=False)
        return
    _add_comment(access, message=message, inbound=inbound, internal=internal, how=how)


INTERNAL_REFUSED = (
    "Internal notes are written by the project's members; your message to an internal reply "
    "address was not added, neither as an internal note nor as a public comment. To comment, "
    "reply to a notification you received, or write on the report's page."
)


def _add_comment(access, *, message, inbound, internal, how):
    files, refused = _files_of(message, access)
    body = quotes.trim(parse.body_text(message)).strip()
    if not body and files:
        body = "(Attachments sent by email.)"
    inbound.outcome = Outcome.COMMENT
    try:
        comment = services.add_comment(
            report=access.report,
            by=access.user,
            body=body,
            internal=internal,
            by_member=access.is_member,
            received=inbound,
        )
    except services.ReportError as error:
        # Rolled back with add_comment: the gateway stores the message afresh, about nothing.
        inbound.pk, inbound.about = None, ""
        inbound.outcome = Outcome.NEUTRAL
        inbound.detail = f"Not added to {access.report.tracking_id}: {error}"[:300]
        _answer(access, reason=str(error), comment_added=False)
        return
    if files:
        try:
            services.add_attachments(report=access.report, by=access.user, files=files)
        except services.ReportError as error:
            refused = str(error)
    inbound.detail = f"Comment {comment.pk} on {access.report.tracking_id} ({how})."
    if refused:
        inbound.detail = f"{inbound.detail} Attachments refused: {refused}"[:300]
        _answer(access, reason=refused, comment_added=True)


def _by_reply_address(target):
    """The access of the token's user to the token's report, if they still see it."""
    match = REPORT_REFERENCE.match(target.about)
    if match is None:
        return None
    user = _active_users().filter(pk=target.user_id).first()
    return user and _access(user, pk=int(match.group(1)))


def _by_dmarc(message, *, project, tracking_id):
    """The access of the account owning the DMARC-verified From address to the report with
    `tracking_id` in `project`, if it sees it."""
    if project is None or not tracking_id:
        return None
    sender = authentication.dmarc_verified_sender(message)
    if sender is None:
        return None
    owners = verified_owners(sender)
    users = list(_active_users().filter(pk__in=owners)[:2])
    if len(users) != 1:  # nobody, or an address verified by two accounts: nobody is proven
        return None
    return _access(users[0], tracking_id=tracking_id, project=project)


def _active_users():
    return get_user_model().objects.filter(is_active=True)


def _access(user, **report):
    """The user's access to the report, through the site's visibility rule, or None."""
    viewer = Viewer.of(user, shared=False)
    found = (
        Report.objects.visible_to(user, viewer=viewer)
        .select_related("project", "revision")
        .filter(**report)
        .first()
    )
    return found and access_for(viewer, found)


def _files_of(message, access):
    """(the attached files as uploads, why they are refused or ""): the site's upload caps."""
    files = parse.attachments(message)
    if not files:
        return [], ""
    if not access.allows("upload"):
        return [], "the report is closed: it takes no new files."
    try:
        return AttachmentsField().clean(files), ""
    except ValidationError as error:
        return [], " ".join(error.messages)


def _answer(access, *, reason, comment_added):
    """Tell the proven user what became of their message (they may know of the report)."""
    emails.send(
        "inbox_not_added",
        report=access.report,
        subject="Your email was added without its attachments"
        if comment_added
        else "Your email was not added",
        to=[access.user.email],
        context={"reason": reason, "comment_added": comment_added},
    )


def _answer_neutrally(message):
    """The same answer for every unproven reply: nothing in it depends on the report, and at
    most one a day goes to an address, so forged From headers cannot make us flood a stranger.
    """
    sender = authentication.from_address(message)
    if sender is None:
        return
    outbox.send(
        outbox.compose(
            "inbox_neutral",
            to=[sender],
            subject="Your email could not be added to a report",
            context={
                "sign_in_url": settings.SITE_URL + reverse("account_login"),
                "my_reports_url": settings.SITE_URL + reverse("reports:list"),
            },
            dedup_key=f"inbox.neutral:{timezone.localdate().isoformat()}",
        )
    )
