"""Admin of the IMAP mailboxes: infrastructure of the instance, for superusers only (a mailbox
pointed elsewhere would read or swallow another project's reports).
"""

from django.contrib import admin

from inbox import imap
from inbox.models import Mailbox
from projects.admin import SuperusersOnly


@admin.register(Mailbox)
class MailboxAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ("project", "host", "username", "enabled", "last_polled_at", "has_error")
    list_filter = ("enabled",)
    list_select_related = ("project",)
    fields = (
        "project",
        "host",
        "port",
        "security",
        "username",
        "app_password",
        "folder",
        "done_folder",
        "enabled",
        "last_polled_at",
        "last_error",
    )
    # Written by the polls, not by people.
    readonly_fields = ("app_password", "last_polled_at", "last_error")

    @admin.display(description="App password")
    def app_password(self, mailbox):
        if mailbox.pk is None:
            return (
                "Never stored here: set the environment variable INBOX_IMAP_PASSWORD_<SLUG> "
                '(the project\'s slug upper-cased, "-" as "_") or put it in the file '
                "<INBOX_IMAP_PASSWORD_DIR>/<slug>, then save and enable the mailbox."
            )
        return imap.password_source(mailbox)

    @admin.display(description="Error", boolean=True)
    def has_error(self, mailbox):
        return bool(mailbox.last_error)
