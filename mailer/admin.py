"""Inbound email in the admin: read-only, for superusers only.

Raw messages hold private data (unpublished vulnerabilities, the senders' addresses, messages
that were never attached to a report), and no project role covers the gateway's log: whatever
model permissions staff hold, only active superusers see it. Nobody adds, changes or deletes a
row here; the gateway and the retention sweep own them.
"""

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from mailer.models import InboundEmail


def is_superuser(user):
    return user.is_active and user.is_superuser


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "sender", "recipient", "outcome", "about", "detail")
    list_filter = ("outcome",)
    search_fields = ("message_id", "sender", "about")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    exclude = ("raw",)
    readonly_fields = ("raw_download",)

    def has_module_permission(self, request):
        return is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Raw message")
    def raw_download(self, obj):
        if obj.raw is None:
            return "No longer kept (retention period)."
        url = reverse("admin:mailer_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">Download the raw message</a>', url)

    def get_urls(self):
        raw = path(
            "<int:pk>/raw/",
            self.admin_site.admin_view(self.raw_view),
            name="mailer_inboundemail_raw",
        )
        return [raw, *super().get_urls()]

    def raw_view(self, request, pk):
        """The decompressed raw message as a download; 404 for anyone but superusers."""
        if not self.has_view_permission(request):
            raise Http404
        inbound = get_object_or_404(InboundEmail, pk=pk)
        raw = inbound.raw_message()
        if raw is None:
            raise Http404("The raw message is no longer kept.")
        response = HttpResponse(raw, content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
