"""Outgoing email about reports. Recipients follow visibility: internal content goes to members
only, never to the reporter side. Subjects carry the tracking ID: "[STW-2026-0001] ...".

Messages go to the outbox (mailer) in the caller's transaction and are delivered after commit:
nothing is sent for work that rolled back, and nothing decided is lost when the mail server is
down. Each function here is called by a service inside its transaction.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from mailer import outbox
from mailer.models import reference
from projects.access import member_emails
from reports.models import ReportUserObjectPermission


def report_url(report):
    return settings.SITE_URL + reverse("reports:detail", args=[report.tracking_id])


def reporter_side(report):
    """Addresses of the reporter and the collaborators."""
    collaborator_ids = ReportUserObjectPermission.objects.filter(
        content_object=report, permission__codename="view_report"
    ).values("user_id")
    users = get_user_model().objects.filter(pk__in=collaborator_ids, is_active=True)
    return [report.reporter.email, *users.values_list("email", flat=True)]


def members(report):
    return member_emails([report.project_id])[report.project_id]


def compose(template, *, report, subject, to, context=None, exclude=None, dedup_key=None):
    """Unsaved outbox rows about `report`, one per recipient."""
    return outbox.compose(
        template,
        to=to,
        subject=f"[{report.tracking_id}] {subject}",
        context={"report": report, "url": report_url(report), **(context or {})},
        about=reference(report),
        dedup_key=dedup_key,
        exclude=exclude,
    )


def send(template, **kwargs):
    """Queue the messages in the outbox and have them delivered after commit."""
    outbox.send(compose(template, **kwargs))


def new_report(report):
    send("report_received", report=report, subject="Report received", to=[report.reporter.email])
    send(
        "new_report",
        report=report,
        subject=f"New report for {report.project.name}",
        to=members(report),
    )


def event(entry):
    report = entry.report
    audience = members(report) + (reporter_side(report) if entry.public else [])
    send(
        "report_event",
        report=report,
        subject=f"{entry.get_kind_display()}: {report.get_state_display()}",
        to=audience,
        context={"event": entry},
        exclude=entry.actor.email if entry.actor else None,
    )


def comment(note):
    report = note.report
    audience = members(report) + ([] if note.internal else reporter_side(report))
    send(
        "comment",
        report=report,
        subject="Internal note" if note.internal else "New comment",
        to=audience,
        context={"comment": note},
        exclude=note.author.email,
    )


def collaborator_added(report, user):
    send("collaborator_added", report=report, subject="You were added to a report", to=[user.email])


def invitation(invite):
    accept_url = settings.SITE_URL + reverse("reports:accept_invitation", args=[invite.token])
    send(
        "invitation",
        report=invite.report,
        subject=f"Invitation to a {invite.report.project.name} security report",
        to=[invite.email],
        context={
            "accept_url": accept_url,
            "signup_url": settings.SITE_URL + reverse("account_signup"),
        },
    )
