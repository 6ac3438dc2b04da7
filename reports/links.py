"""Links to report pages for many reports at once (the list's rows, the queue's counts, the
sweep's emails)."""

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Characters that `reverse` (urllib's quote) writes into a path as they are, and that every
# converter of these routes (str, slug) takes.
AS_IS_IN_URL = re.compile(r"[A-Za-z0-9_-]+")
PLACEHOLDER = "PLACEHOLDER-0"


def paths(name):
    """f(argument) -> reverse(name, args=[argument]) for a route of one argument: the route's
    path around its argument is worked out once per process (per URLconf and script prefix),
    and `reverse` runs again only for an argument it would write otherwise.
    """
    before, after = _around(name, get_urlconf(settings.ROOT_URLCONF), get_script_prefix())

    def path(argument):
        if AS_IS_IN_URL.fullmatch(argument):
            return f"{before}{argument}{after}"
        return reverse(name, args=[argument])

    return path


def detail_paths():
    """f(tracking_id) -> the path of that report's page."""
    return paths("reports:detail")


@functools.lru_cache(maxsize=64)
def _around(name, urlconf, prefix):  # prefix: a key only, reverse() reads it itself
    return tuple(reverse(name, urlconf=urlconf, args=[PLACEHOLDER]).split(PLACEHOLDER))
