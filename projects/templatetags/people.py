"""{% person user %}: how a person is named in templates (projects.people, the one home)."""

from django import template

from projects.people import NEUTRAL, shown_name

register = template.Library()


@register.simple_tag
def person(user, email=False, fallback=NEUTRAL):
    """`user` by their display name; `email=True` where the audience may see the address
    (with the name, or alone when there is none); else `fallback` for someone without a name.
    """
    return shown_name(user, email=email, fallback=fallback)
