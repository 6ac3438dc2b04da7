"""Structured logs for production: one JSON object per line on stdout, each with the request id
and user id of the request it belongs to (settings.LOGGING when DJANGO_DEBUG is off).

What a line holds is fixed here, not whatever a caller passes: the formatted message, the
logger, the level, the time, the request's id and user id, the request line fields this module
writes itself (method, route, status, duration) and an exception's traceback. Never a request's
body, headers, cookies or query string: Django attaches the whole request to its error records
(`extra={"request": ...}`), and a formatter that dumped every attribute would print reports and
session cookies. The request line names the route pattern (`reports/<str:tracking_id>/`), not
the path, so tokens in addresses (invitations, password resets) stay out of the logs.

Written by hand rather than with python-json-logger: the allow-list above is the point, and it is
twenty lines of the standard library.
"""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var = ContextVar("request_id", default=None)
user_id_var = ContextVar("user_id", default=None)

# An incoming X-Request-ID (from the proxy in front) is kept when it looks like an id; anything
# else (long, spaces, control characters: log injection) is replaced by a new one.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")

request_logger = logging.getLogger("disclosure.requests")


class RequestContextFilter(logging.Filter):
    """Stamps every record with the current request's id and user id (None outside requests)."""

    def filter(self, record):
        # Django logs a 4xx/5xx answer ("Not Found: ...") after the middleware returned, outside
        # the request's context; such records carry the request itself.
        request = getattr(record, "request", None)
        if hasattr(request, "request_id"):
            record.request_id = request.request_id
            record.user_id = getattr(request, "log_user_id", None)
        else:
            record.request_id = request_id_var.get()
            record.user_id = user_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        entry.update({key: getattr(record, key) for key in REQUEST_FIELDS if hasattr(record, key)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    converter = time.gmtime


def json_logging(level):
    """settings.LOGGING for production: everything through one JSON handler on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "disclosure.logs.RequestContextFilter"}},
        "formatters": {"json": {"()": "disclosure.logs.JSONFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's records reach stdout through the root's handler only (its own console
            # handler prints in DEBUG only, its mail handler needs ADMINS: none here).
            "django": {"handlers": [], "level": level, "propagate": True},
            "disclosure.requests": {"level": level},
        },
    }


def development_logging(level):
    """settings.LOGGING for development: plain lines; runserver logs each request itself
    (django.server), so the request line of this module stays quiet."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler (DEBUG only) would print its records a second time
            # beside the root's.
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            "disclosure.requests": {"level": "WARNING"},
        },
    }


class RequestContext:
    """Gives each request an id (the proxy's X-Request-ID when sane, else a new one) and makes it
    and the signed-in user's id known to every log record of the request; answers with the id
    in X-Request-ID; logs one line per request (method, route, status, duration).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request_token = request_id_var.set(request.request_id)
        user_token = user_id_var.set(None)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            match = request.resolver_match
            request_logger.info(
                "%s %s %s",
                request.method,
                match.route if match else "(unresolved)",
                response.status_code,
                extra={
                    "method": request.method,
                    "route": match.route if match else None,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                },
            )
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)
        response["X-Request-ID"] = request.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After the authentication middleware: the user is known (and was loaded anyway).
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.log_user_id = user.pk
            user_id_var.set(user.pk)
