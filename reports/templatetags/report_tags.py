from django import template

from reports.access import access_for

register = template.Library()


@register.simple_tag
def viewer_can(viewer, report, action):
    """Whether the request's `viewer` (reports.models.Viewer) may take `action` on `report`, by
    the same table as the report page's `can` (reports.access.ACTIONS), with no query: for the
    rows of a list, where each report's project decides the viewer's role.
    """
    return access_for(viewer, report).allows(action)


@register.simple_tag(takes_context=True)
def participant(context, user, for_project=False):
    """How a person appears on a report. The reporter side never learns who the maintainers are:
    whoever acted for the project (`for_project`, recorded when they acted) is its security team
    to them, also after leaving the project.
    """
    if user is None:
        return "System"
    access, report = context["access"], context["report"]
    if user.pk == report.reporter_id:
        return "You" if user.pk == access.user.pk else "Reporter"
    if for_project and not access.is_member:
        return f"{report.project.name} security team"
    return user.email


@register.filter
def span(value):
    """A duration as people say it: "5 h", "3.5 days"."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days"
