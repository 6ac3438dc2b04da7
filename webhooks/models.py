"""Webhooks of a project: where its events are POSTed, signed with the hook's secret.

Events are not pushed by the services: the beat sweep (webhooks.sweep) reads them from the audit
trail (reports.ReportEvent) and the comments by cursor (WebhookCursor), turns each into one
WebhookDelivery row per matching hook, then sends the due rows and retries them with backoff.
Every row is one event for one hook, unique on (hook, event id): at-least-once, never two rows.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Project


class EventType(models.TextChoices):
    """What a hook can subscribe to; the value is the payload's `type` and X-Disclosure-Event."""

    REPORT_FILED = "report.filed", "Report filed"
    STATE_CHANGED = "report.state_changed", "State changed"
    COMMENT = "report.comment", "Comment (internal ones only to internal hooks)"
    DEADLINE_OVERDUE = "report.deadline_overdue", "Deadline overdue"
    ADVISORY_PUBLISHED = "advisory.published", "Advisory published"


def new_secret():
    return f"whsec_{secrets.token_urlsafe(32)}"


class Webhook(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(
        verbose_name="URL",
        max_length=500,
        help_text="Where events are POSTed (https; webhooks.targets checks where it points).",
    )
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        editable=False,
        help_text="Signs every delivery (X-Disclosure-Signature); shown to the project's admins.",
    )
    events = models.JSONField(default=list, help_text="EventType values it receives.")
    internal = models.BooleanField(
        default=False, help_text="Also receives internal comments (members only)."
    )
    active = models.BooleanField(default=True, help_text="Switched by the project's admins.")
    failure_count = models.PositiveIntegerField(
        default=0, help_text="Failed attempts in a row; a success sets it back to 0."
    )
    disabled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when WEBHOOK_MAX_FAILURES attempts in a row failed; nothing is sent until "
        "an admin enables it again.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.url} ({self.project_id})"

    @property
    def sends(self):
        """Whether deliveries go out: switched on and not disabled for failing."""
        return self.active and self.disabled_at is None

    def receives(self, event_type, *, internal=False):
        """Whether this hook gets an event of `event_type`; an internal one (an internal comment)
        only if the hook is internal.
        """
        return event_type in self.events and (self.internal or not internal)


class WebhookCursor(models.Model):
    """How far the sweep has read one source of events (webhooks.events.SOURCES): every row of
    it up to `position` (its id) has been turned into deliveries.
    """

    source = models.CharField(max_length=30, unique=True)
    position = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.source} at {self.position}"


class AttemptOutcome(models.Model):
    """What one attempt got: the receiver's answer, or why there was none."""

    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(
        blank=True, help_text="The start of the answer (WEBHOOK_RESPONSE_EXCERPT_BYTES at most)."
    )
    error = models.TextField(blank=True, help_text="Why the attempt failed.")

    class Meta:
        abstract = True


class WebhookDelivery(AttemptOutcome):
    """One event for one hook; its outcome fields are those of the last attempt (every attempt
    is in WebhookAttempt)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    # Indexed by the log index and the unique constraint, both led by it.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event_id = models.UUIDField(
        help_text="Stable: the same for every attempt and redelivery (X-Disclosure-Event-Id)."
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [
            # The sweep: pending rows whose time has come, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            # A hook's deliveries log, newest first.
            models.Index(fields=["webhook", "-id"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} to hook {self.webhook_id}"


class WebhookAttempt(AttemptOutcome):
    """One attempt to send a delivery, kept for the deliveries log: the earlier ones' answers
    and errors too (a delivery's own fields keep only the last), across redeliveries."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="+")
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"attempt of delivery {self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"
