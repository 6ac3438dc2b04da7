"""Requests per token (RATE_LIMIT_API, "count/period/token" like the site's other rate limits).
Over the rate a request is answered 429 with Retry-After, before the view runs. Anonymous
requests (the public endpoints) are counted per client address at the same rate.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.RATE_LIMIT_API

    def parse_rate(self, rate):
        count, period, _per = rate.split("/")
        return int(count), PERIODS[period]

    def allow_request(self, request, view):
        # Read at each request, so a changed setting (tests, a reload) applies at once.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        token = request.auth
        ident = f"token-{token.pk}" if token is not None else f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
