from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from projects.access import manages_members
from projects.people import shown_name
from projects.selectors import public_project, revision_with_matrix
from reports import forms, selectors, services
from reports.access import access_report, can_view_sla
from reports.downloads import attachment_response
from reports.postback import SPAM_DONE, back_to_report, form_errors, transition_done
from reports.throttles import throttled


@login_required
@throttled("file_report")
def intake(request, slug):
    project = public_project(slug)
    revision = revision_with_matrix(project=project, on=timezone.localdate())
    if revision is None:
        raise Http404("This project takes no reports yet.")
    form = forms.IntakeForm(request.POST or None, request.FILES or None, revision=revision)
    credit = forms.CreditForm(request.POST or None, prefix="credit")
    if request.method == "POST" and form.is_valid() and credit.is_valid():
        try:
            report = services.file_report(
                project=project,
                reporter=request.user,
                fields=form.report_fields(),
                files=form.cleaned_data["attachments"],
                credit=credit.credit(),
                revision=revision,
            )
        except services.ReportError as error:
            form.add_error(None, str(error))
        else:
            return redirect("reports:filed", report.tracking_id)
    return render(
        request,
        "reports/intake.html",
        {"project": project, "revision": revision, "form": form, "credit_form": credit},
    )


@login_required
@require_safe
def filed(request, tracking_id):
    access = access_report(request.user, tracking_id)
    return render(request, "reports/filed.html", {"report": access.report})


@login_required
@require_safe
def report_list(request):
    """The queue (members: their projects' reports) and "My reports" (what the user filed or
    follows), with search, filters, sorts and keyset pages.
    """
    viewer, view = selectors.list_viewer(request.user, request.GET.get("view", ""))
    projects = selectors.list_projects(viewer, view)
    filters = forms.queue_filters(
        request.GET, projects=projects, sorts=selectors.SORTS, default_sort=selectors.DEFAULT_SORT
    )
    filters["view"] = view
    filters["assigned_to_me"] &= view == selectors.QUEUE  # My reports are the user's anyway
    now = timezone.now()
    try:
        page = selectors.report_queue(
            user=request.user, viewer=viewer, now=now, page_size=settings.REPORTS_PAGE_SIZE,
            projects=projects, **filters,
        )  # fmt: skip
    except selectors.BadCursorError as error:
        return render(request, "400.html", {"message": str(error)}, status=400)
    query = request.GET.copy()
    query.pop("after", None)
    query["view"] = view
    return render(
        request,
        "reports/report_list.html",
        {
            "page": page,
            "viewer": viewer,
            "list_view": view,
            "projects": projects,
            "project_choices": [(p.slug, p.name) for p in projects],
            "counts": view == selectors.QUEUE
            and selectors.queue_counts(viewer=viewer, projects=projects, now=now),
            "member_projects": [p for p in projects if manages_members(viewer.role_in(p.pk))],
            "filters": filters,
            "states": forms.STATE_CHOICES,
            "severities": forms.SEVERITY_CHOICES,
            "sorts": selectors.SORT_CHOICES,
            "query": query.urlencode(),
            "now": now,
        },
    )


@login_required
@require_safe
def report_detail(request, tracking_id):
    access = access_report(request.user, tracking_id)
    report = access.report
    collaborators, credits = selectors.participants(report)
    own_credit = credits.get(request.user.pk)
    return render(
        request,
        "reports/report_detail.html",
        {
            "access": access,
            "report": report,
            "timeline": selectors.timeline(report, include_internal=access.allows("view_internal")),
            "attachments": selectors.attachments(report),
            "collaborators": collaborators,
            "invitations": access.allows("manage_collaborators")
            and services.pending_invitations(report),
            "transitions": [
                (name, services.LABELS[name], forms.transition_form(name, report))
                for name in services.allowed_transitions(report)
                if access.allows(name)
            ],
            "comment_form": forms.CommentForm(can_write_internal=access.allows("comment_internal")),
            "attachment_form": forms.AttachmentForm(),
            "invite_form": forms.InviteForm(),
            "cvss_form": forms.CvssForm(initial={"vector": report.cvss_vector}),
            "severity_form": access.allows("score")
            and forms.SeverityForm(report=report, auto_id="id_severity_%s"),
            "spam_form": access.allows("mark_spam")
            and "close" in services.allowed_transitions(report)
            and forms.SpamForm(report=report),
            "blocked": access.allows("view_internal")
            and selectors.blocked_sender(report.project, report.reporter.email),
            "assignment_form": access.allows("assign")
            and forms.AssignmentForm(
                initial={"assignee": report.assignee_id}, project=report.project
            ),
            "credits": credits,
            "credit_form": forms.CreditForm(
                initial=own_credit
                and {
                    "display": own_credit.display,
                    "name": own_credit.name,
                    "handle": own_credit.handle,
                },
                prefix="credit",
            ),
            "can": access.can,
        },
    )


@login_required
@require_POST
def report_transition(request, tracking_id, name):
    access = access_report(request.user, tracking_id)
    if name not in services.TRANSITIONS:
        raise Http404
    access.require(name)
    form = forms.transition_form(name, access.report, request.POST)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    options = {k: v for k, v in form.cleaned_data.items() if k != "message"}
    try:
        report = services.transition(
            report=access.report,
            by=request.user,
            name=name,
            message=form.cleaned_data["message"],
            **options,
        )
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    return back_to_report(request, access, done=transition_done(name, report))


@login_required
@require_POST
def mark_spam(request, tracking_id):
    access = access_report(request.user, tracking_id).require("mark_spam")
    form = forms.SpamForm(request.POST, report=access.report)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    try:
        services.mark_spam(report=access.report, by=request.user)
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    return back_to_report(
        request, access, done=SPAM_DONE.format(email=access.report.reporter.email)
    )


@login_required
@require_POST
@throttled("comment")
def comment(request, tracking_id):
    access = access_report(request.user, tracking_id)
    form = forms.CommentForm(request.POST, can_write_internal=access.allows("comment_internal"))
    if not form.is_valid():
        return back_to_report(request, access, "Write something first.")
    try:
        note = services.add_comment(
            report=access.report,
            by=request.user,
            body=form.cleaned_data["body"],
            internal=form.cleaned_data.get("internal", False),
            by_member=access.is_member,
        )
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    done = "Internal note posted: only members see it." if note.internal else "Comment posted."
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def score(request, tracking_id):
    access = access_report(request.user, tracking_id).require("score")
    form = forms.CvssForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, " ".join(form.errors["vector"]))
    report = services.set_cvss_vector(
        report=access.report, by=request.user, vector=form.cleaned_data["vector"]
    )
    return back_to_report(request, access, done=f"CVSS vector set: {report.cvss_vector}.")


@login_required
@require_POST
def severity(request, tracking_id):
    access = access_report(request.user, tracking_id).require("score")
    form = forms.SeverityForm(request.POST, report=access.report, auto_id="id_severity_%s")
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    try:
        report = services.set_severity(
            report=access.report,
            by=request.user,
            severity=form.cleaned_data["severity"],
            override_reason=form.cleaned_data.get("override_reason", ""),
        )
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    done = f"Severity: {report.get_severity_display() or 'not set'}."
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def assign(request, tracking_id):
    access = access_report(request.user, tracking_id).require("assign")
    form = forms.AssignmentForm(request.POST, project=access.report.project)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    assignee = form.cleaned_data["assignee"]
    try:
        services.assign(report=access.report, by=request.user, assignee=assignee)
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    done = f"Assigned to {shown_name(assignee, email=True)}." if assignee else "Unassigned."
    return back_to_report(request, access, done=done)


@login_required
@require_safe
def sla_dashboard(request, slug):
    project = public_project(slug)
    if not can_view_sla(request.user, project):
        raise Http404
    return render(
        request,
        "reports/sla_dashboard.html",
        {"project": project, "sla": selectors.sla_dashboard(project=project, now=timezone.now())},
    )


@login_required
@require_POST
def credit(request, tracking_id):
    access = access_report(request.user, tracking_id).require("choose_credit")
    form = forms.CreditForm(request.POST, prefix="credit")
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    try:
        services.set_credit(report=access.report, by=request.user, **form.credit())
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    return back_to_report(request, access, done="Saved: this is how the advisory will credit you.")


@login_required
@require_POST
@throttled("upload")
def upload(request, tracking_id):
    access = access_report(request.user, tracking_id).require("upload")
    form = forms.AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return back_to_report(request, access, " ".join(form.errors.get("attachments", [])))
    files = form.cleaned_data["attachments"]
    try:
        services.add_attachments(report=access.report, by=request.user, files=files)
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    names = ", ".join(upload.name for upload in files)
    return back_to_report(request, access, done=f"Uploaded: {names}.")


@login_required
@require_safe
def download(request, tracking_id, attachment_id):
    access = access_report(request.user, tracking_id)
    attachment = get_object_or_404(access.report.attachments, pk=attachment_id)
    return attachment_response(attachment)


@login_required
@require_safe
def original_email(request, tracking_id, comment_id):
    """The raw message a comment came in by email, for members only: it holds the sender's
    headers and everything the comment trimmed. Others get 404, as for a missing comment.
    """
    access = access_report(request.user, tracking_id)
    if not access.allows("view_internal"):
        raise Http404
    comment = get_object_or_404(
        access.report.comments.select_related("inbound_email").filter(inbound_email__isnull=False),
        pk=comment_id,
    )
    raw = comment.inbound_email.raw_message()
    if raw is None:
        raise Http404("The original message is no longer kept (retention period).")
    response = HttpResponse(raw, content_type="message/rfc822")
    response["Content-Disposition"] = (
        f'attachment; filename="{access.report.tracking_id}-comment-{comment.pk}.eml"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
@throttled("invite")
def invite(request, tracking_id):
    access = access_report(request.user, tracking_id).require("invite")
    form = forms.InviteForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, "Enter a valid email address.")
    try:
        services.invite_collaborator(
            report=access.report, by=request.user, email=form.cleaned_data["email"]
        )
    except services.ReportError as error:
        return back_to_report(request, access, str(error))
    done = (
        f"An invitation was sent to {form.cleaned_data['email']}. It can be accepted for "
        f"{settings.INVITATION_MAX_AGE_DAYS} days by whoever signs in with that address verified."
    )
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def revoke_invitation(request, tracking_id, invitation_id):
    access = access_report(request.user, tracking_id).require("manage_collaborators")
    try:
        services.revoke_invitation(
            report=access.report, by=request.user, invitation_id=invitation_id
        )
    except services.ReportError as error:
        raise Http404(str(error)) from error
    done = "The invitation is revoked: its link no longer works."
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def remove_collaborator(request, tracking_id, user_id):
    access = access_report(request.user, tracking_id).require("manage_collaborators")
    try:
        services.remove_collaborator(report=access.report, by=request.user, user_id=user_id)
    except services.ReportError as error:
        raise Http404(str(error)) from error
    return back_to_report(request, access, done="The collaborator no longer sees the report.")


@login_required
def accept_invitation(request, token):
    if request.method != "POST":
        return render(request, "reports/accept_invitation.html", {"token": token})
    try:
        report = services.accept_invitation(token=token, user=request.user)
    except services.ReportError as error:
        # Unknown, used, revoked, expired or someone else's: one answer for all.
        return render(
            request,
            "reports/accept_invitation.html",
            {"token": token, "error": str(error)},
            status=404,
        )
    messages.success(request, f"You now follow {report.tracking_id} as a collaborator.")
    return redirect("reports:detail", report.tracking_id)
