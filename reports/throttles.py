"""Rate limits on what people write (allauth's rate-limit machinery, per user and per client
address; the rates are settings: RATE_LIMIT_*). Over a limit the request is answered 429 with
the site's page, before anything is stored.
"""

from functools import wraps

from allauth.core import ratelimit


def throttled(action):
    """Refuse a POST to the view once the user or their address is over the `action` rate."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            refused = ratelimit.consume_or_429(request, action=action, user=request.user)
            return refused or view(request, *args, **kwargs)

        return wrapper

    return decorate
