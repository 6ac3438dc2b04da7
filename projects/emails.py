"""Outgoing email about a project's members: the invitation with its link, and a word to the
person whose membership changed (added, new role, removed, invitation withdrawn).

Written to the outbox (mailer) in the caller's transaction and delivered after commit, like every
email of the platform: nothing is sent for a change that rolled back. Subjects carry the project's
name: "[Stalwart] ...".
"""

from django.conf import settings
from django.urls import reverse

from mailer import outbox
from mailer.models import reference
from projects.access import ROLE_DUTIES, Role


def project_url(project):
    return settings.SITE_URL + reverse("projects:detail", args=[project.slug])


def _send(template, *, project, to, subject, context, about):
    outbox.send(
        outbox.compose(
            template,
            to=to,
            subject=f"[{project.name}] {subject}",
            context={"project": project, "project_url": project_url(project), **context},
            about=about,
        )
    )


def invitation(invitation, *, claim=False):
    """The link to accept `invitation`. A claim is the platform's invitation of the security
    contact of a project that received a report while nobody held it: it says so.
    """
    project, role = invitation.project, Role(invitation.role)
    if claim:
        subject = f"A security report arrived: claim {project.name} on {settings.SITE_NAME}"
    else:
        subject = f"You are invited to join as {role.label.lower()}"
    _send(
        "project_invitation",
        project=project,
        to=[invitation.email],
        subject=subject,
        context={
            "claim": claim,
            "invitation": invitation,
            "role": role.label.lower(),
            "duties": ROLE_DUTIES[role],
            "accept_url": settings.SITE_URL
            + reverse("projects:accept_invitation", args=[invitation.token]),
            "signup_url": settings.SITE_URL + reverse("account_signup"),
        },
        about=reference(invitation),
    )


def membership_notice(project, *, to, subject, message, role=None):
    """A word to the person concerned by a change of their membership; `role`: their role now,
    whose duties the message repeats.
    """
    _send(
        "membership_notice",
        project=project,
        to=[to],
        subject=subject,
        context={
            "message": message,
            "role": Role(role).label.lower() if role else "",
            "duties": ROLE_DUTIES[Role(role)] if role else "",
        },
        about=reference(project),
    )
