from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mailer import openpgp
from projects import encryption, forms, people, security_txt, selectors, services
from projects.access import (
    ROLE_DUTIES,
    Role,
    access_members,
    is_own_membership,
    manages_members,
    role_of,
)
from projects.markdown import PREVIEW_MAX_CHARS, render_markdown


@require_safe
def project_list(request):
    return render(request, "projects/project_list.html", {"projects": selectors.active_projects()})


@require_safe
def project_detail(request, slug):
    project = selectors.public_project(slug)
    today = timezone.localdate()
    revision = selectors.revision_with_matrix(project=project, on=today)
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "revision": revision,
            "history": selectors.revision_history(project=project),
            "today": today,
            "can": project_links(role_of(request.user, project)),
            "encryption": encryption.encryption_key(project),
        },
    )


def project_links(role):
    """Which member pages the project page links for a `role` (None: not a member)."""
    return {"work_on_reports": role is not None, "manage_members": manages_members(role)}


@require_safe
def revision_detail(request, slug, revision_id):
    project = selectors.public_project(slug)
    today = timezone.localdate()
    revision = selectors.public_revision(project=project, revision_id=revision_id)
    in_force = selectors.revision_with_matrix(project=project, on=today)
    return render(
        request,
        "projects/revision_detail.html",
        {
            "project": project,
            "revision": revision,
            "in_force": in_force,
            "history": selectors.revision_history(project=project),
            "today": today,
            "encryption": encryption.encryption_key(project),
        },
    )


def plain_text(body):
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@require_safe
def project_security_txt(request, slug):
    return plain_text(security_txt.project_security_txt(selectors.public_project(slug)))


@require_safe
def instance_security_txt(request):
    return plain_text(security_txt.instance_security_txt())


@require_safe
def project_openpgp_key(request, slug):
    """The public half of the project's configured private key (projects.encryption); 404 when
    none is configured.
    """
    public = encryption.served_public_key(selectors.public_project(slug))
    if public is None:
        raise Http404("No OpenPGP key is configured for this project.")
    return HttpResponse(public.armored, content_type="application/pgp-keys")


# --- Members ------------------------------------------------------------------------------------


def render_members(request, project, *, invite_form):
    page = selectors.members_page(project=project)
    rows = [
        {
            "membership": membership,
            "can_change": not is_own_membership(membership, request.user),
            "form": forms.RoleForm.of(membership),
        }
        for membership in page.members
    ]
    return render(
        request,
        "projects/members.html",
        {
            "project": project,
            "rows": rows,
            "invitations": page.invitations,
            "events": page.events,
            "invite_form": invite_form,
            "roles": [(role.label, ROLE_DUTIES[role]) for role in Role],
        },
    )


def back_to_members(project):
    return redirect("projects:members", project.slug)


@login_required
@require_safe
def members(request, slug):
    project = access_members(request.user, slug)
    return render_members(request, project, invite_form=forms.InviteMemberForm())


@login_required
@require_POST
def invite_member(request, slug):
    project = access_members(request.user, slug)
    form = forms.InviteMemberForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invite_member(
                project=project,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
            )
        except services.MembershipError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"An invitation was sent to {invitation.email}. It can be accepted once, for "
                f"{settings.PROJECT_INVITATION_MAX_AGE_DAYS} days, by whoever signs in with that "
                "address verified.",
            )
            return back_to_members(project)
    return render_members(request, project, invite_form=form)


@login_required
@require_POST
def change_role(request, slug, membership_id):
    project = access_members(request.user, slug)
    membership = selectors.membership(project=project, membership_id=membership_id)
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return back_to_members(project)
    try:
        services.change_role(membership=membership, role=form.cleaned_data["role"], by=request.user)
    except services.MembershipError as error:
        messages.error(request, str(error))
    else:
        role = Role(form.cleaned_data["role"]).label.lower()
        messages.success(request, f"{membership.user.email} is now {role}.")
    return back_to_members(project)


@login_required
@require_POST
def remove_member(request, slug, membership_id):
    project = access_members(request.user, slug)
    membership = selectors.membership(project=project, membership_id=membership_id)
    try:
        services.remove_member(membership=membership, by=request.user)
    except services.MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{membership.user.email} is no longer a member.")
    return back_to_members(project)


@login_required
@require_POST
def revoke_invitation(request, slug, invitation_id):
    project = access_members(request.user, slug)
    invitation = selectors.pending_invitation(project=project, invitation_id=invitation_id)
    try:
        services.revoke_invitation(invitation=invitation, by=request.user)
    except services.MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The invitation of {invitation.email} is revoked.")
    return back_to_members(project)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def accept_invitation(request, token):
    if request.method != "POST":
        return render(request, "projects/accept_invitation.html")
    try:
        membership = services.accept_invitation(token=token, user=request.user)
    except services.MembershipError as error:
        # Unknown, used, revoked, expired or someone else's: one answer for all.
        return render(request, "projects/accept_invitation.html", {"error": str(error)}, status=404)
    project, role = membership.project, Role(membership.role)
    messages.success(
        request,
        f"You are {role.label.lower()} of {project.name}. Project members set up a second factor "
        "before they see any report.",
    )
    if manages_members(role):
        return back_to_members(project)
    return redirect("projects:detail", project.slug)


@require_POST
def markdown_preview(request):
    """The HTML fragment the site makes of a Markdown text (projects.markdown, the one sanitizer),
    for the Write / Preview tabs of the forms. Only for signed-in people (every form with Markdown
    needs a sign-in), within PREVIEW_MAX_CHARS and the RATE_LIMIT_PREVIEWS rate; CSRF-protected
    like every POST. Errors are plain text the tab shows as it is.
    """
    if not request.user.is_authenticated:
        return _plain("Sign in to preview.", status=403)
    refused = ratelimit.consume_or_429(request, action="markdown_preview", user=request.user)
    if refused:
        return refused
    text = request.POST.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return _plain(f"Too long to preview: at most {PREVIEW_MAX_CHARS:,} characters.", status=413)
    return HttpResponse(render_markdown(text), content_type="text/html; charset=utf-8")


def _plain(message, *, status):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    """The signed-in person's display name (the account pages' "Display name"), beside their
    OpenPGP key (profile_openpgp_key).
    """
    form = forms.DisplayNameForm(
        request.POST or None, initial={"display_name": people.display_name(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_display_name(
                user=request.user, display_name=form.cleaned_data["display_name"]
            )
        except services.ProfileError as error:
            form.add_error("display_name", error)
        else:
            name = people.display_name(request.user)
            messages.success(
                request,
                f"Saved: others now see you as {name}." if name else "Saved: no display name.",
            )
            return redirect("projects:profile")
    return render_profile(request, name_form=form)


def render_profile(request, *, name_form=None, key_form=None):
    key = openpgp.key_of(request.user)
    if name_form is None:
        name_form = forms.DisplayNameForm(
            initial={"display_name": people.display_name(request.user)}
        )
    return render(
        request,
        "account/profile.html",
        {
            "form": name_form,
            "key_form": key_form or forms.OpenPGPKeyForm(),
            "openpgp_key": key,
            "openpgp_fingerprint": openpgp.group_fingerprint(key.fingerprint) if key else "",
        },
    )


@login_required
@require_POST
def profile_openpgp_key(request):
    """Add or replace the signed-in person's OpenPGP public key (mailer.openpgp.set_key)."""
    form = forms.OpenPGPKeyForm(request.POST)
    if form.is_valid():
        try:
            key = openpgp.set_key(user=request.user, armored=form.cleaned_data["armored"])
        except openpgp.OpenPGPError as error:
            form.add_error("armored", str(error))
        else:
            messages.success(
                request,
                "Saved: notifications to you are now encrypted to the key "
                f"{openpgp.group_fingerprint(key.fingerprint)}.",
            )
            return redirect("projects:profile")
    return render_profile(request, key_form=form)


@login_required
@require_POST
def profile_remove_openpgp_key(request):
    openpgp.remove_key(user=request.user)
    messages.success(
        request, "Removed your OpenPGP key: notifications to you are no longer encrypted."
    )
    return redirect("projects:profile")
