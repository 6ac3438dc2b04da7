"""After a POST on a report: back to its page, with the error if there was one.

Public: the advisories views answer their posts the same way.
"""

from django.contrib import messages
from django.shortcuts import redirect


def back_to_report(request, access, error=None, to="reports:detail"):
    """Redirect to the report's page (or to `to`, named with the tracking ID), showing `error`."""
    if error:
        messages.error(request, error)
    return redirect(to, access.report.tracking_id)


def form_errors(form):
    """A form's errors as one line for a message."""
    return "; ".join(str(error) for errors in form.errors.values() for error in errors)
