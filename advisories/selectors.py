"""Reads of advisories. Public readers see published advisories of active projects only; the
report side reads through reports.access first.
"""

from django.shortcuts import get_object_or_404

from advisories.models import Advisory, Credit


def published_for_project(project):
    return list(
        Advisory.objects.published().filter(project=project).order_by("-published_at", "-id")
    )


def public_advisory(identifier):
    """A published advisory with what its page and exports show; 404 for anything else."""
    queryset = (
        Advisory.objects.published()
        .select_related("project", "report__revision")
        .prefetch_related("credits", "report__revision__versions")
    )
    return get_object_or_404(queryset, identifier=identifier)


def hall_of_fame(project):
    """Published credits of the project, newest first; anonymous ones stay anonymous."""
    return list(
        Credit.objects.filter(advisory__in=Advisory.objects.published().filter(project=project))
        .select_related("advisory")
        .order_by("-advisory__published_at", "id")
    )


def advisory_of(report):
    return Advisory.objects.filter(report=report).prefetch_related("credits").first()


def can_read_advisory(access, advisory):
    """Members read drafts; the reporter side once it is shared for review or published."""
    if advisory is None:
        return False
    if access.is_member:
        return True
    return advisory.state != Advisory.State.DRAFT
