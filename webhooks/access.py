"""Who reaches a project's webhooks: its admins (and superusers), nobody else. Everyone else gets
the same 404 as for a project that does not exist (projects.access, DESIGN §3).
"""

from django.http import Http404
from django.shortcuts import get_object_or_404

from projects.access import access_members
from webhooks.models import Webhook, WebhookDelivery


def access_webhooks(user, slug):
    """The project with `slug` whose webhooks `user` manages (its admins: those who manage its
    members, projects.access.manages_members), or 404.
    """
    return access_members(user, slug)


def access_webhook(user, slug, webhook_id):
    """One hook of a project the user administers, or 404 (another project's hook too)."""
    project = access_webhooks(user, slug)
    webhook = get_object_or_404(Webhook, pk=webhook_id, project=project)
    webhook.project = project  # the row just read: no second query for it
    return webhook


def access_delivery(user, slug, webhook_id, delivery_id):
    """One delivery of such a hook, or 404."""
    webhook = access_webhook(user, slug, webhook_id)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, webhook=webhook).first()
    if delivery is None:
        raise Http404("No such delivery.")
    delivery.webhook = webhook
    return delivery
