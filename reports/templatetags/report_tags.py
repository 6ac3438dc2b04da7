from django import template

from projects.people import shown_name
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
    """How a person appears on a report (names: projects.people). Members see who everyone is:
    display name and address. The reporter side never learns who the maintainers are: whoever
    acted for the project (`for_project`, recorded when they acted) is its security team to
    them, also after leaving the project; the reporter is "Reporter" to collaborators unless
    they chose a display name.
    """
    if user is None:
        return "System"
    access, report = context["access"], context["report"]
    if user.pk == report.reporter_id:
        if user.pk == access.user.pk:
            return "You"
        return shown_name(user, email=access.is_member, fallback="Reporter")
    if for_project and not access.is_member:
        return f"{report.project.name} security team"
    # Collaborators' addresses were always shown on the report; a display name replaces them.
    return shown_name(user, email=access.is_member, fallback=user.email)


@register.filter
def span(value):
    """A duration as people say it: "5 h", "3.5 days"."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days"
