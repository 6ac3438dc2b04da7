"""The IMAP mailboxes the gateway polls: one per project, for projects whose security address is
hosted by a mail provider the platform cannot pipe from (no MTA of its own in front of it).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from projects.models import Project

# imaplib sends folder names as given: printable ASCII only (no modified UTF-7 here), quoted by
# inbox.imap.
FOLDER_NAME = RegexValidator(
    r"^[\x20-\x7e]+$", "Use a folder name in plain ASCII letters, digits and punctuation."
)


class Mailbox(models.Model):
    """Where a project's mail waits on an IMAP server. The app password is never stored here:
    inbox.imap.password reads it from the environment or a file (see `password_help`).
    """

    class Security(models.TextChoices):
        # No plaintext mode: the password and every report would cross the network in clear.
        IMAPS = "imaps", "IMAPS (TLS from the first byte, usually port 993)"
        STARTTLS = "starttls", "STARTTLS (upgraded to TLS before login, usually port 143)"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="mailbox")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(
        default=993, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    security = models.CharField(
        verbose_name="TLS", max_length=10, choices=Security.choices, default=Security.IMAPS
    )
    username = models.CharField(
        max_length=254,
        help_text="The account's login. Its app password is never entered or stored here: "
        "see App password.",
    )
    folder = models.CharField(
        max_length=200,
        default="INBOX",
        validators=[FOLDER_NAME],
        help_text="Read from this folder.",
    )
    done_folder = models.CharField(
        max_length=200,
        default="Processed",
        validators=[FOLDER_NAME],
        help_text="Handled messages are moved here (created when missing).",
    )
    enabled = models.BooleanField(
        default=False,
        help_text="Polled only when enabled, once the app password is in place.",
    )
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Held by the worker polling the mailbox (inbox.imap.take_lease): a second worker skips it
    # instead of fetching the same messages. Expires by itself when a worker dies mid-poll.
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "IMAP mailbox"
        verbose_name_plural = "IMAP mailboxes"
        indexes = [
            # The beat task: the enabled mailboxes.
            models.Index(fields=["id"], condition=Q(enabled=True), name="inbox_mailbox_enabled_idx")
        ]

    def __str__(self):
        return f"{self.username} on {self.host} ({self.project})"

    def clean(self):
        # Moved into the folder it is read from, a message would be read again at every poll.
        if self.folder and self.folder == self.done_folder:
            raise ValidationError({"done_folder": "Use a folder other than the one read from."})

    @property
    def password_variable(self):
        """The environment variable holding the app password: INBOX_IMAP_PASSWORD_<SLUG>."""
        return "INBOX_IMAP_PASSWORD_" + self.project.slug.upper().replace("-", "_")
