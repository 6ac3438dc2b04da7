"""The outbox: every email is written here inside the transaction that decided to send it, then
delivered by `mailer.outbox.deliver_pending` (the deliver_outbox task). This app knows nothing of
what the messages are about: callers give a generic reference (`about`) and, where a message must
never be made twice, a dedup key.
"""

from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    about = models.CharField(
        max_length=100,
        blank=True,
        help_text='What the message is about, as "app.model:pk" (e.g. "reports.report:42").',
    )
    dedup_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="Set where a message must never be made twice (one reminder, one address).",
    )
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Delivery: pending messages, oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            ),
            # "Which emails went out about this report": the audit view and support questions.
            models.Index(fields=["about", "created_at"], name="outbox_about_idx"),
        ]

    def __str__(self):
        return f"{self.subject} to {self.to}"


def reference(instance):
    """The generic reference of a model instance: "app_label.model:pk"."""
    return f"{instance._meta.label_lower}:{instance.pk}"
