"""Outgoing email of webhooks: a hook that was disabled for failing, to the project's admins
(while it has none, its security contact), through the outbox in the sweep's transaction.
"""

from django.conf import settings
from django.urls import reverse

from mailer import outbox
from mailer.models import reference
from projects.access import ADMIN, member_roles, who_hears


def webhook_disabled(hook, *, error):
    project = hook.project
    admins, contact = who_hears(project, member_roles([project.pk])[project.pk], minimum=ADMIN)
    outbox.send(
        outbox.compose(
            "webhook_disabled",
            to=[*admins, contact] if contact else admins,
            subject=f"[{project.name}] A webhook was disabled after repeated failures",
            context={
                "project_name": project.name,
                "url": hook.url,
                "failures": settings.WEBHOOK_MAX_FAILURES,
                "error": error,
                "webhook_url": settings.SITE_URL
                + reverse("webhooks:detail", args=[project.slug, hook.pk]),
            },
            about=reference(hook),
        )
    )
