"""Reads of project data. The public reads show only active projects."""

from allauth.account.models import EmailAddress
from django.shortcuts import get_object_or_404

from projects.models import PolicyRevision, Project


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
