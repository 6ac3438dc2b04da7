from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from projects import security_txt, selectors, services
from projects.access import Role


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
        },
    )


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
    return redirect("projects:detail", project.slug)
