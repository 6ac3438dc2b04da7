from django import template
from django.utils import timezone

from reports.selectors import acknowledgment_adherence

register = template.Library()


@register.inclusion_tag("reports/_adherence.html")
def sla_adherence(project, revision):
    """The public promise-kept figure on a project's page (projects/ never imports reports/)."""
    figure = acknowledgment_adherence(project=project, now=timezone.now())
    return {"figure": figure, "revision": revision}
