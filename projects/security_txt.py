"""security.txt (RFC 9116) for each project and for the instance itself."""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from projects.encryption import encryption_key


def absolute(path):
    return settings.SITE_URL + path


def expires(now=None):
    """Midnight UTC SECURITY_TXT_EXPIRES_DAYS ahead: under a year, stable for a whole day."""
    today = (now or timezone.now()).astimezone(datetime.UTC).date()
    end = today + datetime.timedelta(days=settings.SECURITY_TXT_EXPIRES_DAYS)
    return datetime.datetime.combine(end, datetime.time(), tzinfo=datetime.UTC)


def render(lines):
    return "\n".join(lines) + "\n"


def field(name, value):
    return f"{name}: {value}"


def project_security_txt(project, now=None):
    lines = [
        f"# Security contacts of {project.name}, hosted on {settings.SITE_NAME}.",
        "# Report vulnerabilities privately; never in public issues.",
        field("Contact", f"mailto:{project.security_email}"),
        field("Contact", absolute(reverse("reports:intake", args=[project.slug]))),
    ]
    if project.backup_email:
        hours = project.backup_after_hours
        lines.append(f"# Backup contact{f' if no answer within {hours} hours' if hours else ''}.")
        lines.append(field("Contact", f"mailto:{project.backup_email}"))
    lines.append(field("Expires", f"{expires(now):%Y-%m-%dT%H:%M:%SZ}"))
    key = encryption_key(project)
    if key:
        lines.append(field("Encryption", key.url))
    lines.append(
        field("Acknowledgments", absolute(reverse("advisories:hall_of_fame", args=[project.slug])))
    )
    if project.preferred_languages:
        # Only what the project's policy states: none of the seeded policies names a language.
        lines.append(field("Preferred-Languages", project.preferred_languages))
    lines += [
        field("Canonical", absolute(reverse("projects:security_txt", args=[project.slug]))),
        field("Policy", absolute(reverse("projects:detail", args=[project.slug]))),
    ]
    return render(lines)


def instance_security_txt(now=None):
    """The platform's own contact: for vulnerabilities of this instance, not of hosted projects;
    and its CSAF provider metadata, which lists the advisories of all of them.
    """
    return render(
        [
            f"# Security contact of {settings.SITE_NAME} itself.",
            "# To report a vulnerability in a hosted project, pick the project at the Contact URL.",
            field("Contact", f"mailto:{settings.SECURITY_CONTACT_EMAIL}"),
            field("Contact", absolute(reverse("projects:list"))),
            field("Expires", f"{expires(now):%Y-%m-%dT%H:%M:%SZ}"),
            field("Preferred-Languages", "en"),
            # CSAF 2.0 requirement 8: where aggregators find the platform's advisories.
            field("CSAF", absolute(reverse("advisories:csaf_provider_metadata"))),
            field("Canonical", absolute(reverse("security_txt"))),
            field("Policy", absolute(reverse("projects:list"))),
        ]
    )
