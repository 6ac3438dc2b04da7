"""The sites framework's one row follows SITE_URL and SITE_NAME: allauth names the site in its
emails from it ("Hello from example.com!" otherwise)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site


def sync_site():
    """Set the current Site's domain (host[:port] of SITE_URL) and name (SITE_NAME). Idempotent:
    returns a line saying what changed, or None.
    """
    domain, name = urlsplit(settings.SITE_URL).netloc, settings.SITE_NAME
    site, created = Site.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain, "name": name}
    )
    if created:
        return f"created site {domain} ({name})"
    if (site.domain, site.name) == (domain, name):
        return None
    site.domain, site.name = domain, name
    site.save()
    return f"site is now {domain} ({name})"
