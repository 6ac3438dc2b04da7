"""Outgoing email about reports. Recipients follow visibility: internal content goes to members
only, never to the reporter side. Subjects carry the tracking ID: "[STW-2026-0001] ...".
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from reports.models import Comment, Invitation, Report, ReportEvent, ReportUserObjectPermission


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
    users = get_user_model().objects.filter(memberships__project=report.project, is_active=True)
    return list(users.values_list("email", flat=True))


def send(template, *, report, subject, to, context=None, exclude=None):
    recipients = sorted({address for address in to if address and address != exclude})
    if not recipients:
        return
    context = {"report": report, "url": report_url(report), "site_name": settings.SITE_NAME,
               **(context or {})}  # fmt: skip
    for address in recipients:
        message = EmailMultiAlternatives(
            subject=f"[{report.tracking_id}] {subject}",
            body=render_to_string(f"emails/{template}.txt", context),
            to=[address],
        )
        message.attach_alternative(
            render_to_string(f"emails/{template}.html", context), "text/html"
        )
        message.send()


def _report(report_id):
    return Report.objects.select_related("project", "reporter").get(pk=report_id)


def new_report(report_id):
    report = _report(report_id)
    send("report_received", report=report, subject="Report received", to=[report.reporter.email])
    send(
        "new_report",
        report=report,
        subject=f"New report for {report.project.name}",
        to=members(report),
    )


def event(event_id):
    entry = ReportEvent.objects.select_related("report__project", "report__reporter", "actor").get(
        pk=event_id
    )
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


def comment(comment_id):
    note = Comment.objects.select_related("report__project", "report__reporter", "author").get(
        pk=comment_id
    )
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


def collaborator_added(report_id, user_id):
    report = _report(report_id)
    user = get_user_model().objects.get(pk=user_id)
    send("collaborator_added", report=report, subject="You were added to a report", to=[user.email])


def invitation(invitation_id):
    invite = Invitation.objects.select_related("report__project", "report__reporter").get(
        pk=invitation_id
    )
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
