"""How a signed-in request reads its user: with the user's project roles, in one query.

Every signed-in page needs the user (Django's authentication middleware) and their roles (the
second-factor gate, projects.access). Django's ModelBackend reads the user in a query of its
own, and the gate read the roles in another. `SessionUserBackend` reads both at once
(`projects.access.user_with_roles`) and remembers the roles on the user, so the gate and the
views of the request ask nothing more.

It checks no password and grants no permission: signing in stays with Django's and allauth's
backends, in their order. A session records the backend that signed it in, and Django reads the
session's user through that backend; so at sign-in (`user_logged_in`) a session recorded for one
of those two backends, whose get_user is ModelBackend's, is recorded for this one instead.
Sessions signed in before keep their backend and stay valid.
"""

from django.contrib.auth import BACKEND_SESSION_KEY

from projects.access import user_with_roles

PATH = "disclosure.auth.SessionUserBackend"

# The backends whose get_user is ModelBackend's: their sessions are read by this one.
READ_HERE = frozenset(
    {
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    }
)


class SessionUserBackend:
    """Reads a session's user with their roles (settings.AUTHENTICATION_BACKENDS, first)."""

    def authenticate(self, request, **credentials):
        return None  # never signs anyone in: Django's and allauth's backends do

    def get_user(self, user_id):
        """As ModelBackend.get_user (the active user with this id, else None), with the roles.
        `user_id` is the session's, already of the primary key's type (Django's get_user)."""
        return user_with_roles(user_id)


def read_session_here(sender, request, user, **kwargs):
    """user_logged_in: the new session is read by SessionUserBackend from now on."""
    session = getattr(request, "session", None)
    if session is not None and session.get(BACKEND_SESSION_KEY) in READ_HERE:
        session[BACKEND_SESSION_KEY] = PATH
