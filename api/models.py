"""Personal access tokens: how a program acts for a person through the API.

A token is shown once, when it is made; only its SHA-256 is stored (and a short prefix, so its
owner can tell their tokens apart). It carries an expiry, a scope (read, or read and write) and
an optional project: it then sees no more than that project, and never more than its owner sees
on the site (the same visibility and action rules: reports.access, projects.access).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Project

TOKEN_PREFIX = "dsc_"  # noqa: S105 - a marker, not a secret: secret scanners can spot tokens
# Shown in lists: "dsc_" and the first eight characters of the secret.
SHOWN_LENGTH = len(TOKEN_PREFIX) + 8


def token_digest(token):
    """The stored form of a token: its SHA-256, hex (a random 256-bit secret needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccessTokenQuerySet(models.QuerySet):
    def usable(self, *, now):
        """Tokens that authenticate: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class AccessToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “CI bot”.")
    prefix = models.CharField(max_length=SHOWN_LENGTH, help_text="The token's first characters.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this project's reports and members; empty: whatever the owner sees.",
    )
    second_factor = models.BooleanField(
        default=False,
        help_text="Made by someone who had to pass a second factor (a project member or staff) "
        "and had passed it: such a token stays valid when its owner becomes a member.",
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        indexes = [
            # The account page lists the owner's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="accesstoken_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="accesstoken_expires_after_creation",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self):
        return self.scope == self.Scope.WRITE

    def status(self, *, now):
        """ "revoked", "expired" or "active": what the account page says of it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"
