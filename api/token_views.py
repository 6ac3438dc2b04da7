"""The account page's personal access tokens: make one (its secret shown once, on the answer
to the POST, never stored), list them, revoke one.

The page is outside /accounts/ on purpose: the site's gate (disclosure.middleware's
SecondFactorGate) stands in front of it, so a project member or staff reaches it only after
passing their second factor in this session, like every member page. Whoever gets here has
passed it when they need it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import TokenForm
from reports.models import Viewer
from reports.selectors import MINE, queue_projects


def _projects(user):
    """Projects a token may be restricted to: those the user is a member of or reported to."""
    return queue_projects(Viewer.of(user, shared=False), MINE)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None, projects=_projects(request.user))
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.create_token(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_on=form.cleaned_data["expires_on"],
                    project=form.cleaned_data["project"],
                    # The gate let this request through (see the module's docstring).
                    second_factor_passed=True,
                )
            except services.TokenError as error:
                form.add_error(None, str(error))
        if created is None:
            status = 400
        else:
            form = TokenForm(projects=_projects(request.user))
    now = timezone.now()
    rows = [(token, token.status(now=now)) for token in selectors.tokens_of(request.user)]
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "created": created, "rows": rows},
        status=status,
    )
    # The page may carry a secret: no cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def revoke(request, token_id):
    try:
        services.revoke_token(user=request.user, token_id=token_id)
    except services.TokenError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Token revoked: it no longer works.")
    return redirect("api:tokens")
