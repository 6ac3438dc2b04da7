"""`Authorization: Bearer <token>`: a personal access token (api.models) authenticates its owner.

A request without the header is anonymous (public endpoints answer it); a header with a token
that is unknown, revoked or expired, or whose owner is disabled, is refused with 401, the same
way for each (nobody learns which tokens exist). A member of a project (or staff) must have
passed a second factor to make a token (api.token_views, behind the site's gate): a token made
before its owner needed one is refused until they make a new one.
"""

from django.utils import timezone
from rest_framework import authentication, exceptions

from api import services
from projects.access import needs_second_factor, remember_roles

REALM = 'Bearer realm="api"'


class SecondFactorRequired(exceptions.AuthenticationFailed):
    default_detail = (
        "This token was made before your account needed a second factor (you are now a project "
        "member or staff). Make a new token on your account page, after your second factor."
    )
    default_code = "second_factor_required"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <token>`.", code="invalid_token"
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = services.authenticate(raw, now=timezone.now())
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The token is not valid: unknown, expired or revoked.", code="invalid_token"
            )
        user = token.user
        # The roles are read once for the request, as the site's gate does for sessions.
        if needs_second_factor(user, remember_roles(user)) and not token.second_factor:
            raise SecondFactorRequired()
        return user, token

    def authenticate_header(self, request):
        return REALM
