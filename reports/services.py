"""Writes to reports: intake, the lifecycle transitions, comments, collaborators, attachments.

Every service runs in one transaction, locks the report row, writes a ReportEvent, recomputes the
SLA deadlines and writes its notifications to the email outbox, delivered after commit. Nothing
else writes `state`.
"""

import contextvars
import datetime
import secrets
from contextlib import contextmanager
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from mailer.background import enqueue_on_commit
from mailer.models import reference
from projects.access import role_of
from projects.models import Project
from projects.people import shown_name
from projects.selectors import verified_owners
from projects.services import invite_security_contact
from reports import cvss, emails, extensions, reminders, selectors, sla
from reports.models import (
    CLOSED_STATES,
    CLOSURES,
    Attachment,
    BlockedSender,
    Comment,
    CreditDisplay,
    CreditPreference,
    Invitation,
    Report,
    ReportEvent,
    ReportUserObjectPermission,
    Severity,
    State,
    TrackingCounter,
)

Event = ReportEvent.Kind


class ReportError(Exception):
    """A request the rules refuse; the message is shown to the user."""


# transition -> states it may start from. The target state is fixed except where noted.
TRANSITIONS = {
    "acknowledge": {State.NEW},
    "triage": {State.NEW, State.ACKNOWLEDGED},
    "start_fix": {State.TRIAGED},
    "mark_fixed": {State.TRIAGED, State.FIXING},
    "request_info": {State.NEW, State.ACKNOWLEDGED, State.TRIAGED, State.FIXING},
    "provide_info": {State.NEEDS_INFO},  # back to the state before the pause
    "close": {State.NEW, State.ACKNOWLEDGED, State.TRIAGED, State.FIXING, State.NEEDS_INFO},
    "withdraw": {State.NEW, State.ACKNOWLEDGED, State.TRIAGED, State.FIXING, State.NEEDS_INFO},
    "reopen": {*CLOSURES, State.WITHDRAWN},  # to triaged if it was triaged, else new
    "disclose": {State.FIXED},  # only by publishing the advisory (advisories.services.publish)
}


LABELS = {
    "acknowledge": "Acknowledge",
    "triage": "Triage: detailed response",
    "start_fix": "Start fixing",
    "mark_fixed": "Mark fixed",
    "request_info": "Request information",
    "provide_info": "Provide the information",
    "close": "Close",
    "withdraw": "Withdraw the report",
    "reopen": "Reopen",
    "disclose": "Disclose",
}


def allowed_transitions(report):
    return [name for name, sources in TRANSITIONS.items() if report.state in sources]


def save_with_deadlines(report):
    """Recompute the SLA deadlines, save, and bring the pending reminders in line."""
    sla.apply_deadlines(report)
    report.save()
    reminders.sync(report)
    selectors.forget_queue_counts(report.project_id)


def _score_after_commit(report):
    # A broker that is down does not fail the request; beat's score_unscored picks it up later.
    enqueue_on_commit("reports.tasks.compute_cvss", report.pk)


def lock_report(report):
    # FOR NO KEY UPDATE: the reminder sweep inserts outbox rows pointing at the report (taking a
    # key-share lock) while a service holds this one; a plain FOR UPDATE would make them wait on
    # each other.
    return (
        Report.objects.select_for_update(no_key=True)
        .select_related("revision", "project")
        .get(pk=report.pk)
    )


def record_event(
    report, *, actor, kind, message="", public=True, from_state="", data=None, notify=True
):
    """Append to the report's audit trail (and notify, unless the caller sends its own
    message). Whether the actor acted for the project is recorded now: a maintainer who leaves
    later stays "the security team" to the reporter.
    """
    event = ReportEvent.objects.create(
        report=report,
        actor=actor,
        by_member=actor is not None and role_of(actor, report.project) is not None,
        kind=kind,
        from_state=from_state,
        to_state=report.state if kind == Event.TRANSITION else "",
        message=message,
        public=public,
        data=data or {},
        created_at=timezone.now(),
    )
    if notify:
        emails.event(event)
    return event


@transaction.atomic
def transition(*, report, by, name, message="", **options):
    """Apply the transition `name` (see TRANSITIONS) to `report` on behalf of `by`.

    Permission is the caller's business (reports.access); this owns which moves are valid.
    """
    report = lock_report(report)
    if report.state not in TRANSITIONS[name]:
        action = name.replace("_", " ")
        raise ReportError(f"Cannot {action}: the report is {report.get_state_display().lower()}.")
    now = timezone.now()
    from_state = report.state
    to_state, data = HANDLERS[name](report, now=now, message=message, **options)
    if from_state == State.NEEDS_INFO:
        # Resuming: every clock shifts by the time spent waiting for the reporter.
        report.paused_for += now - report.paused_at
        report.paused_at = None
        report.state_before_pause = ""
    if (
        to_state in CLOSED_STATES | {State.NEEDS_INFO}
        and report.acknowledged_at is None
        and report.ack_due is not None
        and now > report.ack_due
    ):
        # The acknowledgment clock stops unacknowledged after its deadline: a broken promise
        # that closing the report must not erase from the public adherence figure.
        report.acknowledged_on_time = False
    report.state = to_state
    report.last_update_at = now  # a transition is a status update to the reporter
    save_with_deadlines(report)
    record_event(
        report, actor=by, kind=Event.TRANSITION, from_state=from_state, message=message, data=data
    )
    if name == "triage" and report.severity_is_override:
        # The override and its reason in the members' timeline; the triage event told everyone.
        record_severity(report, actor=by, notify=False)
    return report


def _record_acknowledgment(report, now):
    if report.acknowledged_at is None:
        report.acknowledged_at = now
        # Kept for the public adherence figure: was the promise to acknowledge kept?
        report.acknowledged_on_time = report.ack_due is None or now <= report.ack_due


def _acknowledge(report, *, now, message):
    _record_acknowledgment(report, now)
    return State.ACKNOWLEDGED, None


def _triage(report, *, now, message, severity="", override_reason=""):
    assess_severity(report, severity=severity, override_reason=override_reason)
    if not message.strip():
        raise ReportError("Give the detailed response: your assessment of the report.")
    _record_acknowledgment(report, now)
    report.triaged_at = now
    report.paused_for_at_triage = report.paused_for
    return State.TRIAGED, _severity_data(report)


def _start_fix(report, *, now, message):
    return State.FIXING, None


def _mark_fixed(report, *, now, message):
    report.fixed_at = now
    return State.FIXED, None


def _request_info(report, *, now, message):
    if not message.strip():
        raise ReportError("Say what information you need from the reporter.")
    report.paused_at = now
    report.state_before_pause = report.state
    return State.NEEDS_INFO, None


def _provide_info(report, *, now, message):
    if not message.strip():
        raise ReportError("Write the information that was asked for.")
    return State(report.state_before_pause), None


def _close(report, *, now, message, resolution, duplicate_of=None):
    if resolution not in CLOSURES:
        raise ReportError("Choose how the report is closed.")
    if not message.strip():
        raise ReportError("Give the reason for closing; the reporter will see it.")
    data = None
    if resolution == State.DUPLICATE:
        if duplicate_of is None:
            raise ReportError("Name the report this one duplicates.")
        if duplicate_of.project_id != report.project_id or duplicate_of.pk == report.pk:
            raise ReportError("A duplicate must point to another report of the same project.")
        report.duplicate_of = duplicate_of
        data = {"duplicate_of": duplicate_of.tracking_id}
    report.resolution_reason = message
    report.closed_at = now
    return State(resolution), data


def _withdraw(report, *, now, message):
    if not message.strip():
        raise ReportError("Give a reason for withdrawing the report.")
    report.resolution_reason = message
    report.closed_at = now
    return State.WITHDRAWN, None


def _reopen(report, *, now, message):
    if not message.strip():
        raise ReportError("Give the reason for reopening.")
    report.closed_at = None
    report.resolution_reason = ""
    report.duplicate_of = None
    return (State.TRIAGED if report.triaged_at else State.NEW), None


def _disclose(report, *, now, message):
    return State.DISCLOSED, None


HANDLERS = {
    "acknowledge": _acknowledge,
    "triage": _triage,
    "start_fix": _start_fix,
    "mark_fixed": _mark_fixed,
    "request_info": _request_info,
    "provide_info": _provide_info,
    "close": _close,
    "withdraw": _withdraw,
    "reopen": _reopen,
    "disclose": _disclose,
}


# --- Spam ---------------------------------------------------------------------------------------

# What the reporter side reads of a spam closure, in the timeline and the email: the closure, and
# not that the sender is blocked (a spammer told so only moves to another address sooner).
SPAM_CLOSURE_MESSAGE = "Closed as spam."


@transaction.atomic
def mark_spam(*, report, by):
    """Close the report as spam (the `close` transition: its states, its one audit event and
    its neutral notification) and block its reporter's address for the report's project: the
    project takes no new report from it, by the web form or by email, until one of its admins
    unblocks it (unblock_sender). The block is told to the members only.
    """
    report = transition(
        report=report, by=by, name="close", message=SPAM_CLOSURE_MESSAGE, resolution=State.SPAM
    )
    email = report.reporter.email.strip().lower()
    if email:  # an account without an address (made by hand) has nothing to block
        BlockedSender.objects.get_or_create(
            project=report.project,
            email=email,
            defaults={"report": report, "blocked_by": by, "created_at": timezone.now()},
        )
    return report


@transaction.atomic
def unblock_sender(*, project, email, by):
    """Lift the block on `email` for `project`: its reports are taken again. The report it was
    blocked for keeps an internal event saying who lifted it (the block's row goes away, so the
    address can be blocked again by a later spam). Who may: the caller's business
    (reports.access.can_unblock_senders: the project's admins).
    """
    block = (
        BlockedSender.objects.select_for_update()
        .filter(project=project, email=email.strip().lower())
        .first()
    )
    if block is None:
        raise ReportError(f"{email} is not blocked for {project.name}.")
    if block.report_id is not None:
        record_event(
            lock_report(block.report),
            actor=by,
            kind=Event.SENDER_UNBLOCKED,
            message=f"{block.email} may report to {project.name} again.",
            public=False,
            notify=False,
        )
    block.delete()


# --- Intake -------------------------------------------------------------------------------------


def _next_tracking_number(project, year):
    """The next number of the project's sequence for the year, in one statement: the first
    report of the year creates the counter row, later ones increment it. The row stays locked
    (by the INSERT or the UPDATE) until the filing commits, so concurrent intakes queue on it and
    never collide, and a filing that fails rolls its number back: no gap. The ORM has no
    "increment and return" (an upsert there can only write the inserted values).
    """
    table = connection.ops.quote_name(TrackingCounter._meta.db_table)  # ours, not input
    upsert = (
        f'INSERT INTO {table} ("project_id", "year", "last") VALUES (%s, %s, 1) '  # noqa: S608
        f'ON CONFLICT ("project_id", "year") DO UPDATE SET "last" = {table}."last" + 1 '
        'RETURNING "last"'
    )
    with connection.cursor() as cursor:
        cursor.execute(upsert, [project.pk, year])
        return cursor.fetchone()[0]


def file_report(*, project, reporter, fields, files=(), credit=None, received=None, revision=None):
    """File a report under the policy in force; everything or nothing is stored.

    `fields` holds the Report field values from the intake form (title, standard fields,
    extra_fields, affected_versions, reporter_cvss_vector); `credit` how the reporter wants to be
    credited ({display, name, handle}; none: not chosen yet). Attachment files already written
    are removed again when anything fails. `received`: the unsaved mailer.models.InboundEmail
    the report arrived as (the email gateway); it is saved as the start of the report's thread
    before the acknowledgment is written, so the acknowledgment answers it. `revision`: the
    project's revision in force that the intake form was built and checked against in this
    request (the report is filed under the rules its fields were validated by); looked up when
    not given.
    """
    if revision is not None and revision.project_id != project.pk:
        raise ValueError("The revision is not one of the project's.")
    if reporter.email and selectors.sender_blocked(project, reporter.email):
        raise ReportError(
            f"{project.name} does not accept reports from {reporter.email}. Nothing was stored."
        )
    with removing_files_on_failure(), transaction.atomic():
        report = _create_report(
            project=project, reporter=reporter, fields=fields, received=received, revision=revision
        )
        if credit is not None:
            CreditPreference.objects.create(
                report=report, user=reporter, **_credit_choice(**credit)
            )
        _store_attachments(report, by=reporter, files=files, new=True)
    return report


def _create_report(*, project, reporter, fields, received=None, revision=None):
    now = timezone.now()
    # The project row is locked while the report is filed: the claim of a project nobody holds
    # (invite_security_contact) is made once, however many reports arrive at the same moment.
    project = Project.objects.select_for_update().get(pk=project.pk, active=True)
    if revision is None:
        revision = project.revision_in_force(on=timezone.localdate(now))
    if revision is None:
        raise ReportError(f"{project.name} has no security policy in force; it takes no reports.")
    year = now.year
    number = _next_tracking_number(project, year)
    report = Report(
        project=project,
        revision=revision,
        reporter=reporter,
        year=year,
        sequence=number,
        tracking_id=f"{project.tracking_prefix}-{year}-{number:04d}",
        created_at=now,
        last_update_at=now,
        **fields,
    )
    # Told to the reporter and the members on the report page, with the policy's own words.
    report.unsupported_versions = revision.unsupported_series(
        report.affected_versions, on=timezone.localdate(now)
    )
    sla.apply_deadlines(report)
    report.save()
    selectors.forget_queue_counts(project.pk)
    if received is not None:
        received.about = reference(report)
        received.save()
    ReportEvent.objects.create(
        report=report,
        actor=reporter,
        by_member=role_of(reporter, project) is not None,
        kind=Event.CREATED,
        to_state=State.NEW,
        created_at=now,
    )
    # What the apps above keep per report exists before anything plans from it.
    for hook in extensions.intake_hooks():
        hook(report)
    reminders.sync(report, new=True)
    emails.new_report(report, received=received)
    # Nobody holds the project yet: its security contact is invited to claim it.
    invite_security_contact(project=project)
    if report.reporter_cvss_vector:
        _score_after_commit(report)
    return report


def _check_quotas(report, *, by, files, new=False):
    """At most ATTACHMENTS_PER_REPORT files on a report, at most ATTACHMENT_QUOTA_BYTES stored by
    one person over all reports (the form caps each upload; these cap what piles up). `new`: the
    report is being filed and holds none yet.
    """
    if not files:
        return
    held = 0 if new else report.attachments.count()
    if held + len(files) > settings.ATTACHMENTS_PER_REPORT:
        raise ReportError(
            f"A report holds at most {settings.ATTACHMENTS_PER_REPORT} attachments; "
            "nothing was uploaded."
        )
    stored = Attachment.objects.filter(uploaded_by=by).aggregate(total=Sum("size"))["total"] or 0
    if stored + sum(upload.size for upload in files) > settings.ATTACHMENT_QUOTA_BYTES:
        quota = filesizeformat(settings.ATTACHMENT_QUOTA_BYTES)
        raise ReportError(
            f"Your attachments would exceed your storage quota of {quota}; nothing was uploaded."
        )


_files_written = contextvars.ContextVar("attachment_files_written", default=None)


@contextmanager
def removing_files_on_failure():
    """Attachment files written inside the block are deleted again when it fails: a database
    that rolls back keeps no file of what it forgot. Blocks nest: a block that succeeded hands its
    files to the enclosing one, so a caller whose own transaction encloses a service (the email
    gateway) also removes them when it fails after the service returned; a block that failed
    removes its own at once, whether or not the enclosing one goes on.
    """
    enclosing = _files_written.get()
    written = []
    token = _files_written.set(written)
    try:
        yield written
    except BaseException:
        for file in written:
            file.storage.delete(file.name)
        raise
    finally:
        _files_written.reset(token)
    if enclosing is not None:
        enclosing.extend(written)


def _store_attachments(report, *, by, files, new=False):
    """Write the files to private storage (inside `removing_files_on_failure`), each once, as
    the upload handler holds it (in memory, or moved from its temporary file), and their rows
    in one INSERT. `new`: see `_check_quotas`.
    """
    stored = _files_written.get()
    _check_quotas(report, by=by, files=files, new=new)
    attachments = []
    for upload in files:
        attachment = Attachment(report=report, uploaded_by=by, name=upload.name, size=upload.size)
        attachment.file.save(upload.name, upload, save=False)
        stored.append(attachment.file)
        attachments.append(attachment)
    Attachment.objects.bulk_create(attachments)


def add_attachments(*, report, by, files):
    """Attach files to an existing report (same caps as intake, checked by the form)."""
    with removing_files_on_failure() as stored, transaction.atomic():
        report = lock_report(report)
        _store_attachments(report, by=by, files=files)
        names = ", ".join(file.name.rsplit("/", 1)[-1] for file in stored)
        record_event(report, actor=by, kind=Event.ATTACHMENT, message=names)


# --- Comments -----------------------------------------------------------------------------------


@transaction.atomic
def add_comment(*, report, by, body, internal, by_member, received=None):
    """A comment. Internal ones are for members only (the caller checked the role).

    A member's public comment is a status update (restarts the update clock); the reporter
    side's public comment on a report waiting for information is the answer and resumes it.
    `received`: the unsaved mailer InboundEmail of a reply by email (the caller proved its
    sender). It is stored about the report, with the comment, before the notifications are
    written, so that they thread to it.
    """
    if not body.strip():
        raise ReportError("Write something first.")
    report = lock_report(report)
    now = timezone.now()
    if received is not None:
        received.about = reference(report)
        received.save()
    comment = Comment.objects.create(
        report=report,
        author=by,
        body=body,
        internal=internal,
        by_member=by_member,
        created_at=now,
        inbound_email=received,
    )
    if not internal and by_member:
        report.last_update_at = now
        save_with_deadlines(report)
    emails.comment(comment)
    if not internal and not by_member and report.state == State.NEEDS_INFO:
        transition(report=report, by=by, name="provide_info", message="Answered in a comment.")
    return comment


# --- Assignment ---------------------------------------------------------------------------------


@transaction.atomic
def assign(*, report, by, assignee):
    """Assign the report to `assignee`, a member of its project (superusers count: they act as
    admins everywhere), or to nobody (None). Members only: the event is internal and the
    reporter side never learns who works on it. The assignee is told by email, unless they
    assigned it to themselves. Assigning to whoever has it already changes nothing.
    """
    report = lock_report(report)
    if assignee is not None and role_of(assignee, report.project) is None:
        raise ReportError(
            f"{shown_name(assignee, email=True)} is not a member of {report.project.name}."
        )
    previous_id = report.assignee_id
    if previous_id == (assignee and assignee.pk):
        return report
    report.assignee = assignee
    report.save(update_fields=["assignee", "updated_at"])
    record_event(
        report,
        actor=by,
        kind=Event.ASSIGNMENT,
        message=f"Assigned to {shown_name(assignee, email=True)}" if assignee else "Unassigned",
        public=False,
        data={"from": previous_id, "to": assignee and assignee.pk},
        notify=False,
    )
    if assignee is not None and assignee.pk != by.pk:
        emails.assigned(report, assignee=assignee, by=by)
    return report


# --- Collaborators ------------------------------------------------------------------------------


def collaborators(report):
    """Users holding view_report on the report through guardian (the collaborators)."""
    ids = ReportUserObjectPermission.objects.filter(
        content_object=report, permission__codename="view_report"
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=ids).order_by("email")


def _collaborator_with_address(report, email):
    """The collaborator of the report owning `email` as a verified address, if any."""
    owners = verified_owners(email)
    return collaborators(report).filter(pk__in=owners).first()


@transaction.atomic
def invite_collaborator(*, report, by, email):
    """Invite `email` to follow the report: always by a link sent to that address, accepted by
    whoever signs in with it verified (accept_invitation), within INVITATION_MAX_AGE_DAYS.

    The answer and the timeline read the same whether the address belongs to a member, to an
    account or to nobody yet: inviting must not tell a reporter who the maintainers are or who
    has an account here.
    """
    report = lock_report(report)
    email = email.strip().lower()
    now = timezone.now()
    if email == report.reporter.email.lower():
        raise ReportError("The reporter already has access.")
    if _collaborator_with_address(report, email) is not None:
        raise ReportError(f"{email} is already a collaborator.")
    open_ones = report.invitations.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    if open_ones.filter(expires_at__gt=now).exists():
        raise ReportError(f"{email} has already been invited.")
    open_ones.update(revoked_at=now)  # an expired one makes way for the new one
    invitation = Invitation.objects.create(
        report=report,
        email=email,
        invited_by=by,
        token=secrets.token_urlsafe(32),
        expires_at=now + datetime.timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    record_event(report, actor=by, kind=Event.COLLABORATOR_INVITED, message=email)
    emails.invitation(invitation)
    return invitation


def _grant(report, *, user):
    """The invited person joins (unless they see the report already), in the audit trail."""
    if user.pk == report.reporter_id or role_of(user, report.project) is not None:
        return  # the reporter and the members see the report already
    if collaborators(report).filter(pk=user.pk).exists():
        return
    assign_perm("view_report", user, report)
    record_event(report, actor=user, kind=Event.COLLABORATOR_ADDED, message=user.email)
    emails.collaborator_added(report, user)


@transaction.atomic
def accept_invitation(*, token, user):
    """The invited person, signed in with the invited address verified, joins the report.

    Once only, before it expires and unless it was revoked; every refusal reads the same.
    """
    invitation = (
        Invitation.objects.pending(now=timezone.now())
        .select_for_update()
        .select_related("report__project")
        .filter(token=token)
        .first()
    )
    addresses = EmailAddress.objects.filter(user=user, verified=True).values_list(
        "email", flat=True
    )
    if invitation is None or invitation.email not in {a.lower() for a in addresses}:
        raise ReportError(
            "This invitation is not valid for your account: it may have expired, been used or "
            "been revoked, or it was sent to another address."
        )
    report = lock_report(invitation.report)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _grant(report, user=user)
    return report


def pending_invitations(report):
    """Invitations of the report that can still be accepted, for those who manage them."""
    return list(report.invitations.pending(now=timezone.now()).order_by("created_at"))


@transaction.atomic
def revoke_invitation(*, report, by, invitation_id):
    report = lock_report(report)
    invitation = report.invitations.pending(now=timezone.now()).filter(pk=invitation_id).first()
    if invitation is None:
        raise ReportError("That invitation cannot be revoked: it is no longer pending.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_event(report, actor=by, kind=Event.INVITATION_REVOKED, message=invitation.email)


@transaction.atomic
def remove_collaborator(*, report, by, user_id):
    """Take the report away from a collaborator, and any invitation still open for them."""
    report = lock_report(report)
    user = collaborators(report).filter(pk=user_id).first()
    if user is None:
        raise ReportError("That person is not a collaborator on this report.")
    remove_perm("view_report", user, report)
    addresses = {
        a.lower() for a in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    report.invitations.filter(
        email__in=addresses | {user.email.lower()},
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=timezone.now())
    record_event(report, actor=by, kind=Event.COLLABORATOR_REMOVED, message=user.email)


# --- Credit -------------------------------------------------------------------------------------


def _credit_choice(*, display, name="", handle=""):
    """The CreditPreference values of a choice: the name or handle it credits, checked."""
    if display == CreditDisplay.NAME and not name.strip():
        raise ReportError("Give the name to credit.")
    if display == CreditDisplay.HANDLE and not handle.strip():
        raise ReportError("Give the handle to credit.")
    return {
        "display": display,
        "name": name.strip() if display == CreditDisplay.NAME else "",
        "handle": handle.strip() if display == CreditDisplay.HANDLE else "",
    }


@transaction.atomic
def set_credit(*, report, by, display, name="", handle=""):
    """The reporter or a collaborator chooses how they are credited (by name, by handle, or
    anonymously), until the report is disclosed: then the advisory's credits are a public record
    that changes only by an amendment.
    """
    report = lock_report(report)
    if report.state == State.DISCLOSED:
        raise ReportError("The advisory is published; ask the maintainers to correct its credits.")
    CreditPreference.objects.update_or_create(
        report=report,
        user=by,
        defaults=_credit_choice(display=display, name=name, handle=handle),
    )


# --- CVSS ---------------------------------------------------------------------------------------


@transaction.atomic
def set_cvss_vector(*, report, by, vector):
    """The maintainers' vector (authoritative); the score follows in the compute_cvss task."""
    result = cvss.score(vector)  # refuse a bad vector here too, not only in the form
    report = lock_report(report)
    report.cvss_vector = vector.strip()
    report.cvss_score = None
    report.cvss_severity = ""
    report.cvss_error = ""
    report.cve_request_needed = False  # until the new vector is scored
    report.save(
        update_fields=[
            "cvss_vector", "cvss_score", "cvss_severity", "cvss_error", "cve_request_needed",
            "updated_at",
        ]
    )  # fmt: skip
    # The score is stored by the task; the event (and its email) names it already.
    record_event(
        report,
        actor=by,
        kind=Event.CVSS,
        message=report.cvss_vector,
        data={"score": str(result.base_score), "severity": result.severity},
    )
    _score_after_commit(report)
    return report


# --- Severity -----------------------------------------------------------------------------------


def assess_severity(report, *, severity, override_reason=""):
    """The one rule of a report's severity (on the locked, unsaved report).

    With a maintainers' CVSS vector the severity follows its score (compute_cvss): no severity
    (`""`) means "follow it" and removes an override; another severity is accepted only as an
    override with its reason. Without a vector the severity is set by hand, and a reason has
    nothing to override.
    """
    override_reason = override_reason.strip()
    if severity and severity not in Severity.values:
        raise ReportError("Choose a severity.")
    if not report.cvss_vector:
        if not severity:
            raise ReportError("Choose a severity.")
        report.severity, report.severity_override_reason = severity, ""
        return
    if not severity:
        if override_reason:
            raise ReportError(
                "Choose the severity that overrides the CVSS score, or leave the reason empty "
                "to follow the score."
            )
        report.severity_override_reason = ""
        report.severity = report.cvss_rating or report.severity  # unscored: the task sets it
        return
    if not override_reason:
        raise ReportError(
            "The severity follows the CVSS score. To set another one, give the reason for "
            "overriding it."
        )
    report.severity, report.severity_override_reason = severity, override_reason


def _severity_data(report):
    data = {"severity": report.severity}
    if report.severity_is_override:
        data["override_reason"] = report.severity_override_reason
        data["cvss_severity"] = report.cvss_severity
    return data


def record_severity(report, *, actor, public=False, notify=True):
    """The report's severity in its audit trail: internal where it may carry an override's
    reason; `notify=False` where another event of the same change told everyone already.
    """
    return record_event(
        report,
        actor=actor,
        kind=Event.SEVERITY,
        message=_severity_message(report),
        public=public,
        data=_severity_data(report),
        notify=notify,
    )


def _severity_message(report):
    label = report.get_severity_display()
    if report.severity_is_override:
        score = f"CVSS {report.cvss_score} {report.cvss_severity}" if report.cvss_score else "CVSS"
        return f"Severity {label}, overriding {score}: {report.severity_override_reason}"
    if report.severity_follows_cvss:
        return f"Severity follows the CVSS score: {label}."
    return f"Severity {label}."


@transaction.atomic
def set_severity(*, report, by, severity, override_reason=""):
    """Set (without a vector), override (with a reason) or return to the CVSS-derived severity
    (`severity=""`). The event is internal: an override's reason is for the members; the
    reporter side sees the severity, set by the maintainers.
    """
    report = lock_report(report)
    before = (report.severity, report.severity_override_reason)
    assess_severity(report, severity=severity, override_reason=override_reason)
    if (report.severity, report.severity_override_reason) == before:
        return report
    report.save(update_fields=["severity", "severity_override_reason", "updated_at"])
    record_severity(report, actor=by)
    return report


@transaction.atomic
def compute_cvss(*, report_id):
    """Score both vectors and set the CVE flag from the maintainers' score and the project's
    threshold (Stalwart: CVSS >= 4.0). Idempotent: it only reads the stored vectors.

    A stored vector that cannot be scored (written before validation, or refused by a newer
    `cvss` library) is recorded in `cvss_error` and left unscored: it never makes the task fail,
    and the periodic sweep does not retry it until a new vector is set.
    """
    report = Report.objects.select_for_update().select_related("project").get(pk=report_id)
    problems = []
    for prefix, whose in (("reporter_", "The reporter's vector"), ("", "The maintainers' vector")):
        vector = getattr(report, f"{prefix}cvss_vector")
        try:
            result = cvss.score(vector) if vector else None
        except ValidationError as error:
            problems.append(f"{whose} cannot be scored: {' '.join(error.messages)}")
            result = None
        setattr(report, f"{prefix}cvss_score", result and Decimal(str(result.base_score)))
        setattr(report, f"{prefix}cvss_severity", result.severity if result else "")
    report.cvss_error = " ".join(problems)
    threshold = report.project.cve_threshold
    report.cve_request_needed = (
        report.cvss_score is not None and threshold is not None and report.cvss_score >= threshold
    )
    follows = report.severity_follows_cvss and report.cvss_rating
    changed = follows and report.severity != report.cvss_rating
    if changed:
        report.severity = report.cvss_rating
    report.save(
        update_fields=[
            "reporter_cvss_score", "reporter_cvss_severity", "cvss_score", "cvss_severity",
            "cvss_error", "cve_request_needed", "severity", "updated_at",
        ]
    )  # fmt: skip
    if changed:
        # Without a notification of its own: the vector's event told everyone already, and
        # the severity is what that vector says.
        record_severity(report, actor=None, public=True, notify=False)
    return report


def score_unscored():
    """Score reports whose vector has no score yet (a scoring task lost with the broker); those
    whose vector was found unscorable wait for a new one.
    """
    pending = list(
        Report.objects.filter(cvss_error="")
        .filter(
            Q(cvss_score__isnull=True) & ~Q(cvss_vector="")
            | Q(reporter_cvss_score__isnull=True) & ~Q(reporter_cvss_vector="")
        )
        .values_list("pk", flat=True)
    )
    for report_id in pending:
        compute_cvss(report_id=report_id)
    return len(pending)
