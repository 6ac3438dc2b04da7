"""The outbox: every email is written here inside the transaction that decided to send it, then
delivered by `mailer.outbox.deliver_pending` (the deliver_outbox task). This app knows nothing of
what the messages are about: callers give a generic reference (`about`) and, where a message must
never be made twice, a dedup key.
"""

import zlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    about = models.CharField(
        max_length=100,
        blank=True,
        help_text='What the message is about, as "app.model:pk" (e.g. "reports.report:42").',
    )
    # Unique by a constraint of Meta rather than unique=True: on PostgreSQL the field's flag also
    # makes a second index for LIKE queries, which nothing runs, and every row (a sweep writes
    # tens of thousands) paid for keeping it. NULL, not "": most rows have no key, and unique.
    dedup_key = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
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
    # Threading (RFC 5322 §3.6.4): replies route back through `reply_to`; mail clients order the
    # conversation by `in_reply_to` and `references` (space-separated Message-IDs).
    reply_to = models.CharField(max_length=254, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Delivery walks the pending rows in id order with a keyset (`id > last`, ORDER BY
            # id LIMIT n; mailer.outbox.deliver_pending). The index has exactly that order, so
            # each batch is a short index range whatever the statistics say: with the former
            # (created_at, id) order the planner, seeing stale statistics after a burst, scanned
            # every pending row and sorted them per batch (time grew with the backlog squared).
            # id order is creation order: ids come from one sequence, created_at from the clock
            # of whichever worker inserted, so id is the better "oldest first" anyway.
            models.Index(
                fields=["id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            ),
            # Threading (mailer.outbox.thread): the latest message about A to each recipient,
            # the highest id (ids grow with time). Received mail is threaded on InboundEmail's
            # (about, received_at): one report's inbound messages are few enough to read them all.
            # Also "which emails went out about this report" (about = A, in id order): a second
            # index on (about, created_at) for that cost every row written its upkeep.
            models.Index(fields=["about", "to", "id"], name="outbox_thread_idx"),
        ]
        constraints = [
            # The name the field's former unique=True gave it: the constraint stays as it was.
            models.UniqueConstraint(
                fields=["dedup_key"], name="mailer_outboundemail_dedup_key_key"
            ),
        ]

    def __str__(self):
        return f"{self.subject} to {self.to}"


class InboundEmail(models.Model):
    """One message that reached the gateway (inbox), stored once per Message-ID whatever became
    of it. The raw message is kept compressed for audit until `keep_raw_until`, then dropped by
    the retention sweep; the row itself stays (dedup, rate limits, threading).
    """

    class Outcome(models.TextChoices):
        REPORT = "report", "Created a report"
        COMMENT = "comment", "Added a comment"
        NEUTRAL = "neutral", "Answered without revealing anything"
        IGNORED = "ignored", "Ignored (auto-reply, bounce, loop)"
        REFUSED = "refused", "Refused (rate limit, blocked sender)"

    message_id = models.CharField(
        verbose_name="Message-ID",
        max_length=255,
        unique=True,
        help_text="As sent; a message without one is named by the digest of its bytes.",
    )
    sender = models.EmailField(blank=True, help_text="The From address, lower-cased.")
    recipient = models.CharField(
        max_length=254, blank=True, help_text="The address the message was routed by."
    )
    origin_ip = models.GenericIPAddressField(verbose_name="IP of origin", null=True, blank=True)
    about = models.CharField(
        max_length=100,
        blank=True,
        help_text='What the message became part of, as "app.model:pk".',
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    size = models.PositiveIntegerField(help_text="Bytes of the raw message.")
    raw = models.BinaryField(null=True, blank=True, help_text="The raw message, zlib-compressed.")
    received_at = models.DateTimeField()
    keep_raw_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "inbound email"
        indexes = [
            # Rate limits: recent messages per sender and per IP of origin.
            models.Index(fields=["sender", "received_at"], name="inbound_sender_idx"),
            models.Index(fields=["origin_ip", "received_at"], name="inbound_origin_ip_idx"),
            # Threading and the audit view: the messages of one report.
            models.Index(fields=["about", "received_at"], name="inbound_about_idx"),
            # Retention sweep: raw messages whose period ended.
            models.Index(
                fields=["keep_raw_until"],
                condition=Q(raw__isnull=False),
                name="inbound_raw_retention_idx",
            ),
        ]

    def __str__(self):
        return f"{self.message_id} from {self.sender or 'unknown sender'}"

    def raw_message(self):
        """The raw message as received (bytes), or None once the retention period dropped it."""
        return None if self.raw is None else zlib.decompress(self.raw)


def reference(instance):
    """The generic reference of a model instance: "app_label.model:pk"."""
    return f"{instance._meta.label_lower}:{instance.pk}"


class OpenPGPKey(models.Model):
    """A person's OpenPGP public key: their notifications are sent encrypted to it (PGP/MIME).
    Checked when added (mailer.openpgp.set_key); `fingerprint` is what the account page shows.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="openpgp_key"
    )
    armored = models.TextField(help_text="The ASCII-armored public key, as pasted.")
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "OpenPGP key"

    def __str__(self):
        return f"OpenPGP key {self.fingerprint} of user {self.user_id}"
