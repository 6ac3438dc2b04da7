"""Links to report pages for many reports at once (the list's rows, the sweep's emails)."""

import re

from django.urls import reverse

# Characters that `reverse` (urllib's quote) writes into a path as they are.
AS_IS_IN_URL = re.compile(r"[A-Za-z0-9_.~-]+")
PLACEHOLDER = "TRACKING-ID"


def detail_paths():
    """f(tracking_id) -> the path of that report's page, `reverse` run once for all the IDs
    that a path writes as they are (every tracking ID the platform makes) and again only for
    any other.
    """
    before, after = reverse("reports:detail", args=[PLACEHOLDER]).split(PLACEHOLDER)

    def path(tracking_id):
        if AS_IS_IN_URL.fullmatch(tracking_id):
            return f"{before}{tracking_id}{after}"
        return reverse("reports:detail", args=[tracking_id])

    return path
