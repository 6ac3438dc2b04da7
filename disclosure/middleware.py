"""The site's request middleware: the glue's rules for every request, whichever app answers it.

- RefuseNulBytes: no address, query parameter or cookie holds a NUL byte.
- SecondFactorGate: project members and staff see nothing until their session has passed a
  second factor (DESIGN §3).
"""

from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.middleware import get_user
from django.core.exceptions import BadRequest
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from api.errors import error_body
from projects.access import needs_second_factor, remember_roles

NUL = "\x00"
API_PREFIX = "/api/"  # answers in the API's JSON error shape (api.errors)


class RefuseNulBytes:
    """No address, query parameter or cookie of this site holds a NUL byte; refuse it once, here.

    PostgreSQL text cannot hold NUL: one that reaches a lookup (a tracking ID, an advisory
    identifier, an invitation token, allauth's keys, a session key) is a DataError, a 500,
    where SQLite quietly finds nothing. So, for every view (ours, allauth's, the admin's):
    - in the path: 404, like any other address that names nothing;
    - in the query string: 400, the page exists but the request is malformed;
    - in a cookie: the cookie is ignored (a session cookie with NUL names no session).
    Form fields are the forms' business: Django's CharField refuses NUL with a form error.

    Under /api/ the answers are the API's JSON errors. The cookie check runs before the session
    middleware reads the cookie; the path and query checks run in process_view, so that the
    error page passes through every other middleware (security headers, the signed-in
    navigation) like any page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, value in request.COOKIES.items() if NUL in n or NUL in value]:
            del request.COOKIES[name]
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if NUL in request.path:
            if request.path.startswith(API_PREFIX):
                return JsonResponse(error_body("not_found", "Not found."), status=404)
            raise Http404("No address here holds a NUL byte.")
        if any(NUL in key or NUL in "".join(values) for key, values in request.GET.lists()):
            if request.path.startswith(API_PREFIX):
                message = "The query string holds a NUL byte."
                return JsonResponse(error_body("invalid", message), status=400)
            raise BadRequest("The query string holds a NUL byte.")
        return None


# Reachable before the second factor: where it is set up or passed, and what a page needs.
OPEN_PATHS = ("/accounts/", "/static/", "/health/")

NOT_ENROLLED = (
    "Project members and staff need a second factor (an authenticator app or a security key) "
    "before they can see reports. Set one up to continue."
)
NOT_PASSED = "Confirm it is you with your second factor to continue."


def passed_second_factor(request, user):
    """Whether this session was authenticated with a second factor (allauth's records)."""
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


class SecondFactorGate:
    """Being enrolled is not enough: allauth records how the session was authenticated, and one
    of the records must be a second factor ("mfa": TOTP, security key or passkey, recovery
    code). Until then such users reach only allauth's pages (enrolment, second factor,
    sign-out) and static files, with a message saying why. Reporters need no second factor (they
    may enable one).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # From here on the request holds the user itself rather than Django's lazy wrapper
        # around it (the same object: Django reads it once per request): every attribute read
        # through the wrapper took a failed lookup first, some seventy on a queue page.
        user = request.user = get_user(request)
        if user.is_authenticated:
            # Read once here; the views of this request reuse them (projects.access).
            roles = remember_roles(user)
            if (
                needs_second_factor(user, roles)
                and not passed_second_factor(request, user)
                and not request.path.startswith(OPEN_PATHS)
            ):
                return self.stop(request, user)
        return self.get_response(request)

    def stop(self, request, user):
        factors = set(
            Authenticator.objects.filter(user=user)
            .exclude(type=Authenticator.Type.RECOVERY_CODES)
            .values_list("type", flat=True)
        )
        if not factors:
            messages.warning(request, NOT_ENROLLED)
            return redirect("mfa_index")
        messages.info(request, NOT_PASSED)
        # The code form takes authenticator-app and recovery codes; a key has its own page.
        confirm = (
            "mfa_reauthenticate"
            if Authenticator.Type.TOTP in factors
            else "mfa_reauthenticate_webauthn"
        )
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse(confirm)}?{query}")
