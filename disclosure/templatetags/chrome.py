"""The page chrome (templates/base.html): its addresses, worked out once per process, and the
main navigation, rendered here.

base.html is rendered on every page, and through `{% url %}` and `{% static %}` its nine
addresses cost more than the rest of the chrome together: Django resolves a name against the
URLconf, and a file against the static manifest, again on every call. These addresses take no
argument, so they depend only on the URLconf, the script prefix and the static settings, which
are fixed for the life of the process (tests that change them clear the memo through
`setting_changed`). The navigation's links and conditions, through the template engine, cost
as much again: `navigation` puts them together in Python (as reports' report_rows does a
list's rows), every value escaped.
"""

import functools
from html import escape

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def site_url(name):
    """`{% url name %}` for a name that takes no argument."""
    return _reverse(name, get_urlconf(settings.ROOT_URLCONF), get_script_prefix())


@register.simple_tag
def asset(path):
    """`{% static path %}`: the address of a static file (its hashed name in production)."""
    return _static(path)


# The signed-in side of the main navigation: the lists (the queue for project members and
# superusers, `nav_queue`), then the account and signing out.
LIST_LINK = (
    '<li class="nav-item"><a class="nav-link{active}" href="{url}?view={view}"{current}>'
    "{label}</a></li>"
)
SIGNED_IN = (
    '<ul class="navbar-nav me-auto">{projects}{queue}{mine}</ul>'
    '<ul class="navbar-nav">{admin}'
    '<li class="nav-item"><a class="nav-link" href="{profile}" title="Your account: display '
    'name, OpenPGP key, email addresses, password, second factor">{email}</a></li>'
    '<li class="nav-item"><form method="post" action="{logout}" class="d-inline">{csrf}'
    '<button type="submit" class="btn btn-link nav-link">Sign out</button></form></li></ul>'
)
SIGNED_OUT = (
    '<ul class="navbar-nav me-auto">{projects}</ul><ul class="navbar-nav">'
    '<li class="nav-item"><a class="nav-link" href="{login}">Sign in</a></li>'
    '<li class="nav-item"><a class="nav-link" href="{signup}">Sign up</a></li></ul>'
)
LINK = '<li class="nav-item"><a class="nav-link" href="{}">{}</a></li>'


@register.simple_tag(takes_context=True)
def navigation(context):
    """The main navigation's two lists of links: the page's own list (`list_view`) marked as
    the current one.
    """
    user = context.get("user")
    projects = LINK.format(escape(site_url("projects:list")), "Projects")
    if user is None or not user.is_authenticated:
        html = SIGNED_OUT.format(
            projects=projects,
            login=escape(site_url("account_login")),
            signup=escape(site_url("account_signup")),
        )
        return mark_safe(html)  # noqa: S308 - every value escaped
    reports = escape(site_url("reports:list"))
    shown = context.get("list_view")
    html = SIGNED_IN.format(
        projects=projects,
        queue=_list_link(reports, "queue", "Queue", shown) if context.get("nav_queue") else "",
        mine=_list_link(reports, "mine", "My reports", shown),
        admin=LINK.format(escape(site_url("admin:index")), "Admin") if user.is_staff else "",
        profile=escape(site_url("projects:profile")),
        email=escape(user.email),
        logout=escape(site_url("account_logout")),
        csrf=CsrfTokenNode().render(context),  # Django's own field (escaped there)
    )
    return mark_safe(html)  # noqa: S308 - every value escaped


def _list_link(url, view, label, shown):
    current = view == shown
    return LIST_LINK.format(
        active=" active" if current else "",
        url=url,
        view=view,
        current=' aria-current="page"' if current else "",
        label=label,
    )


@functools.lru_cache(maxsize=64)
def _reverse(name, urlconf, prefix):  # prefix: a key only, reverse() reads it itself
    return reverse(name, urlconf=urlconf)


@functools.lru_cache(maxsize=64)
def _static(path):
    return static(path)


@receiver(setting_changed)
def forget(*, setting, **kwargs):
    if setting in {"ROOT_URLCONF", "STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG"}:
        _reverse.cache_clear()
        _static.cache_clear()
