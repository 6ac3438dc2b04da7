"""The site's request middleware: the glue's rules for every request, whichever app answers it."""

from django.core.exceptions import BadRequest
from django.http import Http404

NUL = "\x00"


class RefuseNulBytes:
    """No address, query parameter or cookie of this site holds a NUL byte; refuse it once, here.

    PostgreSQL text cannot hold NUL: one that reaches a lookup (a tracking ID, an advisory
    identifier, an invitation token, allauth's keys, a session key) is a DataError, a 500,
    where SQLite quietly finds nothing. So, for every view (ours, allauth's, the admin's):
    - in the path: 404, like any other address that names nothing;
    - in the query string: 400, the page exists but the request is malformed;
    - in a cookie: the cookie is ignored (a session cookie with NUL names no session).
    Form fields are the forms' business: Django's CharField refuses NUL with a form error.

    The cookie check runs before the session middleware reads the cookie; the path and query
    checks run in process_view, so that the error page passes through every other middleware
    (security headers, the signed-in navigation) like any page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, value in request.COOKIES.items() if NUL in n or NUL in value]:
            del request.COOKIES[name]
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if NUL in request.path:
            raise Http404("No address here holds a NUL byte.")
        if any(NUL in key or NUL in "".join(values) for key, values in request.GET.lists()):
            raise BadRequest("The query string holds a NUL byte.")
