"""Outgoing email about reports. Recipients follow visibility: internal content goes to members
only, never to the reporter side. Subjects carry the tracking ID: "[STW-2026-0001] ...".

Who at the project hears of a report (`project_side`, the one home of it; the reminder sweep
uses it too): the active members holding the role that acts on the notification (TRIAGER for
a new report, the reporter side's comments and answers, every report event and the SLA
reminders; each reminder kind names its own: MAINTAINER for disclosure dates, ADMIN for the
escalation) and, while no active member holds it, the project's security contact. A contact is
an address, not an account that passed a second factor: it gets `contact_notice`, which carries
the project's name, the tracking ID, a generic phrase and the link, and nothing of the report.

Replies by email: every message to a person with an account (the reporter, collaborators,
members) has a Reply-To of their own (mailer.replies), signed for the report and that person, and
a footer saying so; members' footers also give their internal address, whose replies become
internal notes. Contact notices and invitations go to bare addresses and get neither. Addresses
are resolved to accounts once per batch of messages (`accounts_of`), not per recipient.

Messages go to the outbox (mailer) in the caller's transaction and are delivered after commit:
nothing is sent for work that rolled back, and nothing decided is lost when the mail server is
down. Each function here is called by a service inside its transaction.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from mailer import outbox
from mailer.models import reference
from mailer.replies import reply_addresses
from projects.access import TRIAGER, member_roles, who_hears
from projects.people import display_name
from reports.links import detail_paths
from reports.models import CLOSURES, ReportEvent, ReportUserObjectPermission, State

Kind = ReportEvent.Kind


def report_url(report):
    return settings.SITE_URL + reverse("reports:detail", args=[report.tracking_id])


def report_urls(reports):
    """{pk: report_url(report)} of many reports, `reverse` run about once (a sweep links
    thousands).
    """
    path = detail_paths()
    return {report.pk: settings.SITE_URL + path(report.tracking_id) for report in reports}


def reporter_side(report):
    """Addresses of the reporter and the collaborators."""
    collaborator_ids = ReportUserObjectPermission.objects.filter(
        content_object=report, permission__codename="view_report"
    ).values("user_id")
    users = get_user_model().objects.filter(pk__in=collaborator_ids, is_active=True)
    return [report.reporter.email, *users.values_list("email", flat=True)]


def project_side(report, *, minimum, members=None, contacts=()):
    """Who at the report's project hears of it: (member addresses, contact addresses).

    Members: the active members holding at least `minimum`; they get the full message.
    Contacts: `contacts` (the backup contact of an escalation) and, while no active member holds
    `minimum`, the project's security contact (projects.access.who_hears); they get only
    `contact_notice`. An address that gets the full message gets no notice besides. `members`:
    the project's (address, role) pairs when the caller read them already (the sweep, per batch).
    """
    if members is None:
        members = member_roles([report.project_id])[report.project_id]
    addresses, security_contact = who_hears(report.project, members, minimum=minimum)
    notified = [*contacts, *([security_contact] if security_contact else [])]
    return addresses, [address for address in notified if address and address not in addresses]


def accounts_of(addresses):
    """{address: user id} of the active accounts among `addresses`, in one query (none when
    there is no address).
    """
    addresses = {address for address in addresses if address}
    if not addresses:
        return {}
    users = get_user_model().objects.filter(email__in=addresses, is_active=True)
    return dict(users.values_list("email", "pk"))


def reply_routes(report, *, to, members=(), accounts_by_address=None):
    """f(address) -> (Reply-To, template context) of that recipient of a message about
    `report`: each recipient with an account answers to their own reply address; members also
    learn their internal address. `accounts_by_address`: the caller's `accounts_of` these
    addresses, read once for a whole batch. The addresses are signed when asked (a sweep asks
    as its rows stream into the outbox: mailer.outbox.Message).
    """
    if accounts_by_address is None:
        accounts_by_address = accounts_of(to)
    address_of, members = reply_addresses(reference(report)), set(members)

    def route(address):
        user_id = accounts_by_address.get(address)
        if user_id is None:
            return "", {}
        if address in members:
            return address_of(user_id), {
                "reply_by_email": True,
                "internal_reply_address": address_of(user_id, internal=True),
            }
        return address_of(user_id), {"reply_by_email": True}

    return route


def compose(
    template,
    *,
    report,
    subject,
    to,
    context=None,
    printed=None,
    stencils=None,
    exclude=None,
    dedup_key=None,
    members=(),
    accounts=None,
    replies=True,
):
    """Unsaved outbox rows about `report`, one per recipient. `members`: the recipients who are
    members of the project (their footer offers the internal address); `accounts`: see
    `reply_routes`; `replies=False` for someone who cannot see the report (yet).

    The template gets `report` and its `url`; with `printed` (see mailer.outbox.Stencils: the
    strings it prints, "report.title" and the like), only those and the link, as strings, so
    that the caller's `stencils` render it once for many reports (the reminder sweep).
    """
    routes = (
        reply_routes(report, to=to, members=members, accounts_by_address=accounts)
        if replies
        else None
    )
    if printed is None:
        context = {"report": report, "url": report_url(report), **(context or {})}
    elif "url" not in printed:
        printed = {"url": report_url(report), **printed}
    return outbox.compose(
        template,
        to=to,
        subject=f"[{report.tracking_id}] {subject}",
        context=context or {},
        printed=printed,
        stencils=stencils,
        about=reference(report),
        dedup_key=dedup_key,
        exclude=exclude,
        routes=routes,
    )


def contact_notice(*, report, what, to, exclude=None, dedup_key=None, stencils=None, url=None):
    """Unsaved outbox rows telling contact addresses that `what` happened to the report.

    Content-free by construction: the template is given the project's name, the tracking ID,
    the generic phrase `what` and the link (`url`: report_url(report) when the caller has it
    already), never the report, so no edit of the template can put its title, text, comments
    or reporter in a contact's mailbox.
    """
    return outbox.compose(
        "contact_notice",
        to=to,
        subject=f"[{report.tracking_id}] {what}",
        context={"what": what},
        printed={
            "project_name": report.project.name,
            "tracking_id": report.tracking_id,
            "url": url or report_url(report),
        },
        stencils=stencils,
        about=reference(report),
        dedup_key=dedup_key,
        exclude=exclude,
    )


def for_project(
    template,
    *,
    report,
    subject,
    minimum,
    what=None,
    also_to=(),
    also_to_subject=None,
    members=None,
    contacts=(),
    context=None,
    printed=None,
    stencils=None,
    exclude=None,
    dedup_key=None,
    accounts=None,
):
    """Unsaved outbox rows of a member-side message: `template` to the members holding
    `minimum` and to `also_to` (the reporter side of a public message; with `also_to_subject`
    when they are told it in other words), a notice saying `what` (default: the subject) to the
    contacts (see `project_side`). `accounts`: see `reply_routes`; `printed`, `stencils`: see
    `compose`.
    """
    to, notified = project_side(report, minimum=minimum, members=members, contacts=contacts)
    full = [*to, *also_to]
    if accounts is None:
        accounts = accounts_of(full)
    batches = [(subject, full)]
    if also_to_subject is not None:
        batches = [(subject, to), (also_to_subject, [a for a in also_to if a not in to])]
    rows = []
    for batch_subject, addresses in batches:
        rows += compose(
            template,
            report=report,
            subject=batch_subject,
            to=addresses,
            context=context,
            printed=printed,
            stencils=stencils,
            exclude=exclude,
            dedup_key=dedup_key,
            members=to,
            accounts=accounts,
        )
    return rows + contact_notice(
        report=report,
        what=what or subject,
        to=[address for address in notified if address not in full],
        exclude=exclude,
        dedup_key=dedup_key,
        stencils=stencils,
        url=(printed or {}).get("url"),
    )


def reminder_printed(reminder, *, zone=None):
    """What the reminder templates (templates/emails/reminder.*, disclosure_reminder.*) print
    of a reminder and its report, as strings: they are rendered once per batch of the sweep
    (mailer.outbox.Stencils) and get no objects. The dates as the `date` filter wrote them, in
    the current time zone (`zone`: the caller's timezone.get_current_timezone(), asked once for
    a batch: asking it per reminder cost more than the rest of this function).
    """
    report, due = reminder.report, timezone.localtime(reminder.due_at, zone)
    return {
        "report.tracking_id": report.tracking_id,
        "report.project.name": report.project.name,
        "report.title": report.title,
        "due_date": f"{due.year:04d}-{due.month:02d}-{due.day:02d}",
        "due_time": f"{due.year:04d}-{due.month:02d}-{due.day:02d} {due.hour:02d}:{due.minute:02d}",
    }


def send(template, **kwargs):
    """Queue the messages in the outbox and have them delivered after commit."""
    outbox.send(compose(template, **kwargs))


def new_report(report, *, received=None):
    """The acknowledgment to the reporter and the news to the project side. `received`: the
    mailer.models.InboundEmail the report arrived as; its detail is the gateway's note to the
    reporter (attachments that were not kept).
    """
    # A reporter who never signed in (an account the email gateway made) is sent to the page
    # where allauth mails a sign-in code; the code itself expires in minutes, so never in here.
    # One account lookup, one threading lookup and one delivery task for the whole filing.
    members = member_roles([report.project_id])[report.project_id]
    accounts = accounts_of([report.reporter.email, *(address for address, _ in members)])
    # The members' messages differ only in the reply addresses of their footers: rendered
    # once, the addresses put in (outbox.Stencils), not once per member.
    stencils = outbox.Stencils()
    acknowledgment = compose(
        "report_received",
        report=report,
        subject="Report received",
        to=[report.reporter.email],
        context={
            "never_signed_in": report.reporter.last_login is None,
            "note": received.detail if received is not None else "",
            "sign_in_url": settings.SITE_URL + reverse("account_request_login_code"),
        },
        accounts=accounts,
        stencils=stencils,
    )
    news = for_project(
        "new_report",
        report=report,
        subject=f"New report for {report.project.name}",
        minimum=TRIAGER,
        members=members,
        accounts=accounts,
        stencils=stencils,
    )
    outbox.send([*acknowledgment, *news])


def _transition_subject(entry, *, to_reporter):
    report, from_state, to_state = entry.report, entry.from_state, entry.to_state
    team = f"the {report.project.name} security team"
    ended = {*CLOSURES, State.WITHDRAWN}
    if to_state in ended:
        return (
            "Withdrawn by the reporter"
            if to_state == State.WITHDRAWN
            else f"Closed as {to_state.replace('_', ' ')}"
        )
    if from_state in ended:
        return "Reopened"
    if from_state == State.NEEDS_INFO:
        return "Information provided by the reporter"
    subjects = {
        State.ACKNOWLEDGED: f"Acknowledged by {team}",
        State.TRIAGED: f"Triaged by {team}",
        State.FIXING: "A fix is in progress",
        State.FIXED: "Fixed",
        State.NEEDS_INFO: (
            "Needs information from you"
            if to_reporter
            else "Waiting for information from the reporter"
        ),
        State.DISCLOSED: "Disclosed: the advisory is published",
    }
    return subjects.get(to_state, f"Now {State(to_state).label.lower()}")


def _first_clause(message):
    """What an event's message says before its details: "Disclosure proposed for 2026-05-04"
    of "Disclosure proposed for 2026-05-04: the release ships then." The details may be anyone's
    words; a subject line carries only the platform's own.
    """
    first = message.strip().splitlines()[0] if message.strip() else ""
    for stop in (": ", ". ", " ("):
        first = first.split(stop, 1)[0]
    return first.rstrip(".")[:120]


def event_subject(entry, *, to_reporter=False):
    """The subject naming what happened ("Acknowledged by the Stalwart security team", "CVSS
    score set: 9.8 Critical"), without the tracking ID (compose adds it). `to_reporter`: the
    words for the reporter side where they differ.
    """
    kind, message = entry.kind, entry.message
    if kind == Kind.TRANSITION:
        return _transition_subject(entry, to_reporter=to_reporter)
    if kind == Kind.CVSS:
        score, severity = entry.data.get("score"), entry.data.get("severity")
        return f"CVSS score set: {score} {severity}" if score else "CVSS vector set"
    if kind == Kind.SEVERITY:
        return "Severity set"
    if kind == Kind.COLLABORATOR_ADDED:
        # The one who joined: by their display name, else by the address they were invited at.
        return f"{display_name(entry.actor) or message or 'A collaborator'} was added to the report"
    if kind == Kind.COLLABORATOR_INVITED:
        return f"{message} was invited to follow the report"
    if kind == Kind.COLLABORATOR_REMOVED:
        return f"{message} was removed from the report"
    if kind == Kind.INVITATION_REVOKED:
        return f"The invitation of {message} was revoked"
    if kind == Kind.ATTACHMENT:
        return f"Attachment added: {message}" if message else "Attachment added"
    if kind == Kind.DISCLOSURE and message:
        return _first_clause(message)
    return entry.get_kind_display()


def event(entry):
    report = entry.report
    subject = event_subject(entry)
    reporter_subject = event_subject(entry, to_reporter=True)
    outbox.send(
        for_project(
            "report_event",
            report=report,
            subject=subject,
            what=entry.get_kind_display(),
            minimum=TRIAGER,
            also_to=reporter_side(report) if entry.public else (),
            also_to_subject=reporter_subject if reporter_subject != subject else None,
            context={"event": entry},
            exclude=entry.actor.email if entry.actor else None,
        )
    )


def comment_subject(note):
    if note.internal:
        return "Internal note"
    if note.by_member:
        return f"New comment from the {note.report.project.name} security team"
    if note.author_id == note.report.reporter_id:
        return "New comment from the reporter"
    return "New comment from a collaborator"


def comment(note):
    report = note.report
    outbox.send(
        for_project(
            "comment",
            report=report,
            subject=comment_subject(note),
            what="New comment",
            minimum=TRIAGER,
            also_to=() if note.internal else reporter_side(report),
            context={"comment": note},
            exclude=note.author.email,
        )
    )


def collaborator_added(report, user):
    send("collaborator_added", report=report, subject="You were added to a report", to=[user.email])


def invitation(invite):
    accept_url = settings.SITE_URL + reverse("reports:accept_invitation", args=[invite.token])
    send(
        "invitation",
        report=invite.report,
        subject=f"Invitation to a security report for {invite.report.project.name}",
        to=[invite.email],
        context={
            "accept_url": accept_url,
            "signup_url": settings.SITE_URL + reverse("account_signup"),
        },
        replies=False,  # not a collaborator until they accept
    )


def assigned(report, *, assignee, by):
    send(
        "assigned",
        report=report,
        subject="Assigned to you",
        to=[assignee.email],
        context={"assigned_by": by},
        members=[assignee.email],
    )
