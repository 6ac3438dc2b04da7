"""The API's one shape of error, whatever went wrong:

    {"error": {"code": "not_found", "message": "Not found.", "fields": {...}}}

`fields` only for invalid input (400): {field: [messages]}, "non_field_errors" for the whole
body. Domain refusals of the services (reports.services.ReportError and its kin) are 400 with
code "refused"; a permission the action table refuses is 403; an object the caller may not see
is 404, exactly like a missing one. Nothing the client sends is a 500.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from projects.services import MembershipError
from reports.selectors import BadCursorError
from reports.services import ReportError


class Refused(exceptions.ValidationError):
    """A request the services' rules refuse (not a malformed one): 400, code "refused"."""

    default_code = "refused"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's state."
    default_code = "conflict"


def error_body(code, message, fields=None):
    body = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return {"error": body}


def _messages(detail):
    """DRF's nested ErrorDetail structure as plain lists of strings."""
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_messages(item) for item in detail]
    return [str(detail)]


def _as_api_exception(exc):
    """Django's and the services' exceptions as DRF's, so that one path answers them all."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(fields)
    if isinstance(exc, BadCursorError):
        return exceptions.ValidationError({"after": [str(exc)]})
    if isinstance(exc, ReportError | MembershipError):
        return Refused({"non_field_errors": [str(exc)]})
    return exc


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 page and the logs, never a shape that hides it
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        code = "refused" if isinstance(exc, Refused) else "invalid"
        message = (
            detail["non_field_errors"][0]
            if code == "refused"
            else "The request is not valid; see the fields."
        )
        body = error_body(code, str(message), _messages(detail))
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(code, str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)
