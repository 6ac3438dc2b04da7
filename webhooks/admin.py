"""Admin of webhooks: for reading, limited to the projects the staff member administers (the
site's rule: webhooks are the project admins'). Hooks change on the project's webhook pages,
through the services that check their URL; deliveries are written by the sweep.
"""

from django.contrib import admin

from projects.access import ADMIN
from projects.admin import HTTPS_URLS, NOBODY, MemberProjectsOnly
from webhooks.models import Webhook, WebhookDelivery

READ_ONLY = {"view": ADMIN, "add": NOBODY, "change": NOBODY, "delete": NOBODY}


@admin.register(Webhook)
class WebhookAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_roles = READ_ONLY
    formfield_overrides = HTTPS_URLS
    list_display = ("url", "project", "active", "disabled_at", "failure_count", "created_at")
    list_filter = ("active",)
    list_select_related = ("project",)
    # The secret stays on the project's webhook page.
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_field = "webhook__project_id"
    project_roles = READ_ONLY
    list_display = ("event_type", "event_id", "webhook", "status", "attempts", "status_code")
    list_filter = ("status", "event_type")
    list_select_related = ("webhook",)
    raw_id_fields = ("webhook",)
