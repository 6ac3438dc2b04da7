"""Reads of personal access tokens (the owner's own only) and what a token narrows."""

from api.models import AccessToken


def tokens_of(user):
    """The user's tokens, newest first, with their project: the account page's list."""
    return list(
        AccessToken.objects.filter(user=user).select_related("project").order_by("-created_at")
    )


def restricted_project_id(request):
    """The project the request's token is restricted to, or None."""
    token = request.auth
    return token.project_id if token is not None else None
