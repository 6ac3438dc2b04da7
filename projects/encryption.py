"""A project's OpenPGP key for reporters: where it is published (security.txt `Encryption:`, the
policy page) and the key the site serves itself when the project's private key is configured.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from mailer import openpgp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncryptionKey:
    url: str
    # Grouped in fours; empty when the key lives elsewhere (the project's own pgp_key_url): the
    # site vouches only for a fingerprint it computed from the key it serves.
    fingerprint: str = ""


def served_public_key(project):
    """The public half of the private key configured for `project` (mailer.openpgp), or None.
    A configured key that cannot be read is logged and treated as none: a page must not fail
    for it, and the site must not publish a key it could not decrypt with.
    """
    try:
        return openpgp.project_public_key(project.slug)
    except openpgp.OpenPGPError as error:
        logger.error(
            "the OpenPGP key configured for project %s is unusable: %s", project.slug, error
        )
        return None


def encryption_key(project):
    """Where reporters get `project`'s OpenPGP key: its pgp_key_url if set, else the key the site
    serves at /projects/<slug>/openpgp.asc when the private key is configured, else None.
    """
    if project.pgp_key_url:
        return EncryptionKey(url=project.pgp_key_url)
    public = served_public_key(project)
    if public is None:
        return None
    path = reverse("projects:openpgp_public_key", args=[project.slug])
    return EncryptionKey(url=settings.SITE_URL + path, fingerprint=public.grouped_fingerprint)
