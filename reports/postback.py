"""After a POST on a report: back to its page, saying what happened or what went wrong.

The one home of the answers to the report page's posts: every successful post names what it did
(`done`), every refused one says why (`error`). Public: the advisories views answer their posts
the same way.
"""

from django.contrib import messages
from django.shortcuts import redirect

# What a transition did, as its author is told; {state} is the state it led to, {resolution} how
# the report was closed ("not applicable").
TRANSITION_DONE = {
    "acknowledge": "Acknowledged: the reporter is told that the report was received.",
    "triage": "Triaged: the detailed response is sent to the reporter.",
    "start_fix": "Marked as being fixed.",
    "mark_fixed": "Marked fixed.",
    "request_info": "Information requested: the clocks are paused until the reporter answers.",
    "provide_info": "Your information is sent; the report is back with the maintainers.",
    "close": "Closed as {resolution}.",
    "withdraw": "The report is withdrawn.",
    "reopen": "Reopened: the report is {state} again.",
}

# After mark_spam ({email}: the blocked address).
SPAM_DONE = (
    "Closed as spam: {email} can no longer report to this project. The reporter is told only "
    "that the report was closed as spam."
)


def back_to_report(request, access, error=None, *, done=None, to="reports:detail"):
    """Redirect to the report's page (or to `to`, named with the tracking ID), showing `error`,
    or else `done`: what the successful post did.
    """
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(to, access.report.tracking_id)


def transition_done(name, report):
    """The success message of the transition `name` that brought `report` to its state."""
    return TRANSITION_DONE[name].format(
        state=report.get_state_display().lower(), resolution=report.state.replace("_", " ")
    )


def form_errors(form):
    """A form's errors as one line for a message."""
    return "; ".join(str(error) for errors in form.errors.values() for error in errors)
