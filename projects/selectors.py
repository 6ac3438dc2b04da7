"""Reads of project data. The public reads show only active projects."""

import dataclasses

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone

from projects.models import Membership, PolicyRevision, Project, ProjectInvitation

# The members page shows this many of the latest audit events.
EVENTS_SHOWN = 50


def active_projects():
    return Project.objects.filter(active=True).order_by("name")


def public_project(slug):
    """The active project with this slug; unknown and inactive ones answer 404 alike."""
    return get_object_or_404(active_projects(), slug=slug)


def revision_with_matrix(*, project, on):
    """The revision in force on `on` with its version matrix loaded (None before the first)."""
    return (
        PolicyRevision.objects.filter(project=project)
        .in_force_on(on)
        .prefetch_related("versions")
        .first()
    )


def public_revision(*, project, revision_id):
    """Any revision of the project, published or upcoming, with its matrix (404 for others)."""
    queryset = PolicyRevision.objects.filter(project=project).prefetch_related("versions")
    return get_object_or_404(queryset, pk=revision_id)


def revision_history(*, project):
    return list(
        PolicyRevision.objects.filter(project=project)
        .order_by("-effective_from")
        .only("id", "project_id", "effective_from", "source_url")
    )


def verified_owners(email):
    """The ids of the accounts owning `email` as a verified address (case-insensitive): what
    proves that a person is the one an address names.
    """
    return EmailAddress.objects.filter(email__iexact=email.strip(), verified=True).values("user_id")


def account_with_verified_email(email):
    """The active account that owns `email` as a verified address, or None.

    An exact (case-insensitive) match only: members are added by address, and nothing lists or
    searches the instance's accounts for staff.
    """
    found = (
        EmailAddress.objects.filter(
            email__iexact=email.strip(), verified=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return found and found.user


@dataclasses.dataclass(frozen=True)
class MembersPage:
    members: list  # Membership, with user
    invitations: list  # pending ProjectInvitation, with invited_by
    events: list  # the latest ProjectEvent, with actor


def members_page(*, project):
    """What a project's admins see on its members page, in three queries whatever the size."""
    return MembersPage(
        members=list(
            Membership.objects.filter(project=project)
            .select_related("user__profile")
            .order_by("user__email", "pk")
        ),
        invitations=list(
            pending_invitations(project=project)
            .select_related("invited_by__profile")
            .order_by("created_at", "pk")
        ),
        events=list(
            project.events.select_related("actor__profile").order_by("-created_at", "-pk")[
                :EVENTS_SHOWN
            ]
        ),
    )


def pending_invitations(*, project):
    """The project's invitations that can still be accepted."""
    return ProjectInvitation.objects.pending(now=timezone.now()).filter(project=project)


def membership(*, project, membership_id):
    """A membership of the project (404 for others)."""
    return get_object_or_404(
        Membership.objects.filter(project=project).select_related("user", "project"),
        pk=membership_id,
    )


def pending_invitation(*, project, invitation_id):
    """A pending invitation of the project (404 for others, used, revoked or expired ones)."""
    return get_object_or_404(
        pending_invitations(project=project).select_related("project"), pk=invitation_id
    )


def member_accounts(*, project):
    """The active accounts holding a role in the project, by address: whom a report of the
    project can be assigned to (reports.services.assign).
    """
    return (
        get_user_model()
        .objects.filter(memberships__project=project, is_active=True)
        .select_related("profile")
        .order_by("email", "pk")
    )
