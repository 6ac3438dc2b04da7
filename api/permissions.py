"""A token's scope: every token reads; writing (POST, PUT, PATCH, DELETE) takes the write scope.

What the token's owner may see and do is not decided here: the site's rules decide it
(reports.access, advisories.access, projects.access), in the views.
"""

from rest_framework import permissions


class TokenScope(permissions.BasePermission):
    message = "This token may only read: writing takes a token with the write scope."
    code = "insufficient_scope"

    def has_permission(self, request, view):
        token = request.auth
        if token is None or request.method in permissions.SAFE_METHODS:
            return True  # anonymous requests: the view says whether it needs a token
        return token.can_write


class Authenticated(permissions.BasePermission):
    """Endpoints of the signed-in side: a valid token, else 401."""

    message = "Send a personal access token: `Authorization: Bearer <token>`."
    code = "not_authenticated"

    def has_permission(self, request, view):
        return request.auth is not None
