"""Writes of personal access tokens: made (shown once), used (last-used time), revoked."""

import dataclasses
import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import SHOWN_LENGTH, TOKEN_PREFIX, AccessToken, token_digest
from projects.access import needs_second_factor, role_of


class TokenError(Exception):
    """A token the rules refuse to make; the message is shown to the user."""


@dataclasses.dataclass(frozen=True)
class NewToken:
    token: AccessToken
    secret: str  # the whole token: shown once, never stored


def max_expiry(now):
    return now + datetime.timedelta(days=settings.API_TOKEN_MAX_DAYS)


@transaction.atomic
def create_token(*, user, name, scope, expires_on, project=None, second_factor_passed):
    """Make a token for `user`, valid until the end of `expires_on` (a date, UTC; at most
    API_TOKEN_MAX_DAYS ahead). `project`: the only project it sees, one where `user` is a member
    or has reported (else refused: a token cannot widen what its owner sees). A project member or
    staff must have passed a second factor (`second_factor_passed`: the site's gate ensured it for
    the session); the token remembers it, so that it keeps working once they are members.
    """
    now = timezone.now()
    name = name.strip()
    if not name:
        raise TokenError("Name the token: what is it for?")
    if scope not in AccessToken.Scope.values:
        raise TokenError("Choose the token's scope: read, or read and write.")
    if expires_on > max_expiry(now).date():
        raise TokenError(
            f"A token lives at most {settings.API_TOKEN_MAX_DAYS} days: choose an earlier date."
        )
    # Through the last day it is given, UTC.
    expires_at = datetime.datetime.combine(
        expires_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
    )
    if expires_at <= now:
        raise TokenError("The expiry date must be in the future.")
    needed = needs_second_factor(user)
    if needed and not second_factor_passed:
        raise TokenError("Pass your second factor first: project members and staff need one.")
    if (
        project is not None
        and role_of(user, project) is None
        and not user.reports.filter(project=project).exists()
    ):
        raise TokenError("Restrict the token to a project you are a member of or report to.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:SHOWN_LENGTH],
        digest=token_digest(secret),
        scope=scope,
        project=project,
        second_factor=needed,
        created_at=now,
        expires_at=expires_at,
    )
    return NewToken(token=token, secret=secret)


def authenticate(secret, *, now):
    """The usable token `secret` names, with its owner (active accounts only), or None. Marks it
    used, writing at most once per API_TOKEN_LAST_USED_SECONDS (not a write per request).
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        AccessToken.objects.usable(now=now)
        .select_related("user", "project")
        .filter(digest=token_digest(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    stale = now - datetime.timedelta(seconds=settings.API_TOKEN_LAST_USED_SECONDS)
    if token.last_used_at is None or token.last_used_at <= stale:
        # Conditional: of concurrent requests, one writes.
        AccessToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=stale).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token


@transaction.atomic
def revoke_token(*, user, token_id):
    """Revoke one of `user`'s tokens: it stops working at once. Someone else's, or one revoked
    already, is refused alike.
    """
    updated = AccessToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise TokenError("No such token to revoke.")
