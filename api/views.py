"""The API's endpoints: thin views over the site's selectors, access rules and services.

Each view: access (the site's helpers: 404 for what the token's owner may not see, 403 for an
action the action table refuses) -> input checked (serializer, then the site's own form where
it has one) -> service -> response. A token restricted to a project sees nothing of others
(404). Errors have one shape (api.errors).
"""

from allauth.core import ratelimit
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from advisories import forms as advisory_forms
from advisories import selectors as advisory_selectors
from advisories import services as advisory_services
from advisories.access import DisclosureAccess
from api import serializers as s
from api.errors import Conflict
from api.permissions import Authenticated
from api.selectors import restricted_project_id
from projects import selectors as project_selectors
from projects import services as project_services
from projects.access import access_members
from reports import forms as report_forms
from reports import selectors as report_selectors
from reports import services as report_services
from reports.access import access_report
from reports.downloads import attachment_response

ERRORS = {
    code: OpenApiResponse(description=description)
    for code, description in {
        400: "Invalid input: {error: {code, message, fields}}",
        401: "No valid token",
        403: "Not allowed (role or scope)",
        404: "Not found, or not visible to the token's owner",
        409: "Conflict",
        429: "Rate limit exceeded",
    }.items()
}


def errors(*codes):
    return {code: ERRORS[code] for code in codes}


# --- Access ---------------------------------------------------------------------------------------


def within_token_project(request, project_id):
    """404 unless `project_id` is the project the request's token is restricted to (if any):
    outside it, the token sees nothing, as if it did not exist."""
    restricted = restricted_project_id(request)
    if restricted is not None and project_id != restricted:
        raise Http404


def report_access(request, tracking_id):
    """The report as the token's owner may see it (reports.access), within the token's project:
    404 for anything else.
    """
    access = access_report(request.user, tracking_id)
    within_token_project(request, access.report.project_id)
    return access


def members_access(request, slug):
    """The project whose members the token's owner manages (projects.access), or 404."""
    project = access_members(request.user, slug)
    within_token_project(request, project.pk)
    return project


def checked(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def form_checked(form):
    """A site form's errors as the API's 400 ({field: [messages]})."""
    if not form.is_valid():
        raise exceptions.ValidationError(
            {
                field: [str(message) for message in messages]
                for field, messages in form.errors.items()
            }
        )
    return form.cleaned_data


def within_site_rate(request, action):
    """The site's own rate limit of `action` (RATE_LIMIT_COMMENTS, _UPLOADS, ...) applies to
    the API too: a token is no way around it.
    """
    if not ratelimit.consume(request._request, action=action, user=request.user):
        raise exceptions.Throttled(detail="Rate limit exceeded for this action.")


class PublicView(APIView):
    """Anyone, with or without a token."""


class TokenView(APIView):
    permission_classes = [Authenticated, *APIView.permission_classes]


class NotFound(PublicView):
    """Any other address under /api/: the API's 404, in its shape (not the site's HTML page)."""

    schema = None  # not an endpoint of the document

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise Http404

    def get(self, request, *args, **kwargs):
        raise Http404


# --- Public ---------------------------------------------------------------------------------------


class ProjectList(PublicView):
    @extend_schema(
        operation_id="projects_list", responses={200: s.ProjectSerializer(many=True), **errors(429)}
    )
    def get(self, request):
        """Active projects, by name."""
        projects = project_selectors.active_projects()
        return Response(s.ProjectSerializer(projects, many=True, context={"request": request}).data)


class ProjectDetail(PublicView):
    @extend_schema(
        operation_id="project_retrieve",
        responses={200: s.ProjectDetailSerializer, **errors(404, 429)},
    )
    def get(self, request, slug):
        """A project with its policy in force and that policy's version matrix."""
        project = project_selectors.public_project(slug)
        today = timezone.localdate()
        revision = project_selectors.revision_with_matrix(project=project, on=today)
        context = {"request": request, "revision": revision, "today": today}
        return Response(s.ProjectDetailSerializer(project, context=context).data)


class ProjectAdvisories(PublicView):
    @extend_schema(
        operation_id="project_advisories_list",
        responses={200: s.AdvisorySummarySerializer(many=True), **errors(404, 429)},
    )
    def get(self, request, slug):
        """The project's published advisories (withdrawn ones too), newest first, with links to
        their OSV, CSAF and CVE documents.
        """
        project = project_selectors.public_project(slug)
        advisories = advisory_selectors.published_for_project(project)
        context = {"request": request}
        return Response(s.AdvisorySummarySerializer(advisories, many=True, context=context).data)


class AdvisoryDetail(PublicView):
    @extend_schema(
        operation_id="advisory_retrieve", responses={200: s.AdvisorySerializer, **errors(404, 429)}
    )
    def get(self, request, identifier):
        """A published advisory with its credits and document links."""
        advisory = advisory_selectors.public_advisory(identifier)
        return Response(s.AdvisorySerializer(advisory, context={"request": request}).data)


class HallOfFame(PublicView):
    @extend_schema(
        operation_id="hall_of_fame_list",
        responses={200: s.HallOfFameSerializer(many=True), **errors(404, 429)},
    )
    def get(self, request, slug):
        """The project's published credits, newest first (anonymous ones stay anonymous)."""
        project = project_selectors.public_project(slug)
        credits = advisory_selectors.hall_of_fame(project)
        return Response(s.HallOfFameSerializer(credits, many=True).data)


# --- Reports --------------------------------------------------------------------------------------


class ReportList(TokenView):
    @extend_schema(
        operation_id="reports_list",
        parameters=[s.QueueFilterSerializer],
        responses={200: s.ReportPageSerializer, **errors(400, 401, 429)},
    )
    def get(self, request):
        """The reports the token's owner sees, as the site's queue (members: their projects'
        reports; `view=mine`: those they filed or follow), filtered and sorted like it, a page
        at a time (keyset: follow `next`).
        """
        asked = checked(s.QueueFilterSerializer, request.query_params)
        viewer, view = report_selectors.list_viewer(request.user, asked.get("view", ""))
        context = {"request": request, "role_in": viewer.role_in}
        project = None
        if "project" in asked:
            projects = report_selectors.queue_projects(viewer, view)
            project = projects.filter(slug=asked["project"]).first()
            if project is None:
                raise exceptions.ValidationError({"project": ["No such project to filter by."]})
        restricted = restricted_project_id(request)
        if restricted is not None:
            if project is not None and project.pk != restricted:
                return Response(
                    s.ReportPageSerializer({"results": [], "next": None}, context=context).data
                )
            project = project or request.auth.project  # loaded with the token
        page = report_selectors.report_queue(
            user=request.user,
            viewer=viewer,
            now=timezone.now(),
            view=view,
            project=project,
            state=asked.get("state", ""),
            severity=asked.get("severity", ""),
            overdue=asked["overdue"],
            assigned_to_me=asked.get("assigned") == "me" and view == report_selectors.QUEUE,
            search=asked.get("q", "").strip(),
            sort=asked["sort"],
            cursor=asked.get("after"),
            page_size=settings.REPORTS_PAGE_SIZE,
        )
        following = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["after"] = page.next_cursor
            following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        data = {"results": page.reports, "next": following}
        return Response(s.ReportPageSerializer(data, context=context).data)


class ReportDetail(TokenView):
    @extend_schema(
        operation_id="report_retrieve",
        responses={200: s.ReportDetailSerializer, **errors(401, 404, 429)},
    )
    def get(self, request, tracking_id):
        """A report with its timeline (internal entries and fields only for members of its
        project), its attachments and the transitions the token's owner may apply.
        """
        access = report_access(request, tracking_id)
        report = access.report
        internal = access.allows("view_internal")
        duplicate_of = None
        if internal and report.duplicate_of_id:
            duplicate_of = report.duplicate_of.tracking_id
        context = {
            "request": request,
            "access": access,
            "tracking_id": report.tracking_id,
            "timeline": report_selectors.timeline(report, include_internal=internal),
            "attachments": report_selectors.attachments(report),
            "transitions": [
                name for name in report_services.allowed_transitions(report) if access.allows(name)
            ],
            "duplicate_of": duplicate_of,
        }
        return Response(s.ReportDetailSerializer(report, context=context).data)


class Comments(TokenView):
    @extend_schema(
        operation_id="report_comment_create",
        request=s.CommentInputSerializer,
        responses={201: s.CommentSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, tracking_id):
        """Comment on the report: public, or internal (members with the triager role or more)."""
        access = report_access(request, tracking_id)
        data = checked(s.CommentInputSerializer, request.data)
        if data["internal"]:
            access.require("comment_internal")
        within_site_rate(request, "comment")
        comment = report_services.add_comment(
            report=access.report,
            by=request.user,
            body=data["body"],
            internal=data["internal"],
            by_member=access.is_member,
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class Attachments(TokenView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="report_attachments_create",
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer(many=True), **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, tracking_id):
        """Attach files to the report, with the site's caps (count, size, quotas)."""
        access = report_access(request, tracking_id).require("upload")
        form = report_forms.AttachmentForm(request.data, request.FILES)
        files = form_checked(form)["attachments"]
        within_site_rate(request, "upload")
        report = access.report
        before = set(report.attachments.values_list("pk", flat=True))
        report_services.add_attachments(report=report, by=request.user, files=files)
        added = [a for a in report_selectors.attachments(report) if a.pk not in before]
        context = {"request": request, "tracking_id": report.tracking_id}
        return Response(
            s.AttachmentSerializer(added, many=True, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class AttachmentDownload(TokenView):
    @extend_schema(
        operation_id="report_attachment_download",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **errors(401, 404, 429),
        },
    )
    def get(self, request, tracking_id, attachment_id):
        """The attachment's bytes, as the site serves them (a download, never rendered)."""
        access = report_access(request, tracking_id)
        attachment = get_object_or_404(access.report.attachments, pk=attachment_id)
        return attachment_response(attachment)


class Transition(TokenView):
    @extend_schema(
        operation_id="report_transition",
        request=s.TransitionInputSerializer,
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, enum=list(report_services.TRANSITIONS)
            )
        ],
        responses={200: s.ReportRowSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, tracking_id, name):
        """Apply a transition (acknowledge, triage, close, ...), as the report page does: the
        same role checks and the same form (triage takes a severity, close a resolution).
        """
        access = report_access(request, tracking_id)
        if name not in report_services.TRANSITIONS:
            raise Http404
        access.require(name)
        checked(s.TransitionInputSerializer, request.data)
        form = report_forms.transition_form(name, access.report, request.data)
        fields = form_checked(form)
        options = {k: v for k, v in fields.items() if k != "message"}
        report = report_services.transition(
            report=access.report,
            by=request.user,
            name=name,
            message=fields["message"],
            **options,
        )
        context = one_report(request, access)
        return Response(s.ReportRowSerializer(report, context=context).data)


def one_report(request, access):
    """A row serializer's context for the one report of `access`."""
    return {"request": request, "role_in": lambda project_id: access.role}


class Cvss(TokenView):
    @extend_schema(
        operation_id="report_cvss_set",
        request=s.CvssInputSerializer,
        responses={200: s.ReportRowSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, tracking_id):
        """Set the maintainers' CVSS vector (triagers and up); the score follows."""
        access = report_access(request, tracking_id).require("score")
        checked(s.CvssInputSerializer, request.data)
        vector = form_checked(report_forms.CvssForm(request.data))["vector"]
        report = report_services.set_cvss_vector(
            report=access.report, by=request.user, vector=vector
        )
        context = one_report(request, access)
        return Response(s.ReportRowSerializer(report, context=context).data)


# --- Advisory drafts ------------------------------------------------------------------------------


def _advisory_form_data(advisory, changes):
    """The site's advisory form data: the draft's values, with `changes` over them (lists as the
    form's lines).
    """
    data = {}
    for name in advisory_services.ADVISORY_FIELDS:
        value = changes.get(name, getattr(advisory, name))
        if name == "affected_series":
            data[name] = list(value)
        elif isinstance(value, list):
            data[name] = "\n".join(value)
        else:
            data[name] = value
    return data


class AdvisoryDraft(TokenView):
    def _access(self, request, tracking_id):
        access = DisclosureAccess(report_access(request, tracking_id))
        return access, advisory_selectors.advisory_of(access.report)

    @extend_schema(
        operation_id="report_advisory_retrieve",
        responses={200: s.AdvisoryDraftSerializer, **errors(401, 404, 429)},
    )
    def get(self, request, tracking_id):
        """The report's advisory: members read the draft; the reporter side once it is shared
        for review or published.
        """
        access, advisory = self._access(request, tracking_id)
        if not access.can_read(advisory):
            raise Http404
        return Response(s.AdvisoryDraftSerializer(advisory).data)

    @extend_schema(
        operation_id="report_advisory_draft",
        request=None,
        responses={
            201: s.AdvisoryDraftSerializer,
            200: s.AdvisoryDraftSerializer,
            **errors(400, 401, 403, 404, 429),
        },
    )
    def post(self, request, tracking_id):
        """Draft the report's advisory from the report (maintainers; once it is triaged).
        An existing advisory is returned as it is (200).
        """
        access, advisory = self._access(request, tracking_id)
        access.require("edit_advisory")
        if advisory is not None:
            return Response(s.AdvisoryDraftSerializer(advisory).data)
        advisory = advisory_services.draft_advisory(report=access.report, by=request.user)
        return Response(s.AdvisoryDraftSerializer(advisory).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="report_advisory_update",
        request=s.AdvisoryEditSerializer,
        responses={200: s.AdvisoryDraftSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    def patch(self, request, tracking_id):
        """Edit the draft (maintainers): the fields given change, checked as the site checks
        them. A published advisory changes only by an amendment (409).
        """
        access, advisory = self._access(request, tracking_id)
        access.require("edit_advisory")
        if advisory is None:
            raise Http404
        if advisory.is_published:
            raise Conflict("A published advisory changes only by an amendment (on the site).")
        changes = checked(s.AdvisoryEditSerializer, request.data)
        matrix = [v.series for v in access.report.revision.versions.all()]
        form = advisory_forms.AdvisoryForm(
            _advisory_form_data(advisory, changes), instance=advisory, matrix=matrix
        )
        fields = form_checked(form)
        advisory.refresh_from_db()  # the form wrote onto the instance; the service owns the write
        advisory = advisory_services.update_advisory(
            advisory=advisory,
            by=request.user,
            fields={name: fields[name] for name in advisory_services.ADVISORY_FIELDS},
        )
        return Response(s.AdvisoryDraftSerializer(advisory).data)


# --- Members --------------------------------------------------------------------------------------


class Members(TokenView):
    @extend_schema(
        operation_id="project_members_list",
        responses={200: s.MembersSerializer, **errors(401, 404, 429)},
    )
    def get(self, request, slug):
        """The project's members and pending invitations (its admins only)."""
        project = members_access(request, slug)
        page = project_selectors.members_page(project=project)
        data = {"members": page.members, "invitations": page.invitations}
        return Response(s.MembersSerializer(data).data)

    @extend_schema(
        operation_id="project_member_invite",
        request=s.InviteInputSerializer,
        responses={201: s.InvitationSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, slug):
        """Invite an address to join the project with a role (its admins only)."""
        project = members_access(request, slug)
        data = checked(s.InviteInputSerializer, request.data)
        invitation = project_services.invite_member(
            project=project, email=data["email"], role=data["role"], by=request.user
        )
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class MemberRole(TokenView):
    @extend_schema(
        operation_id="project_member_role_update",
        request=s.RoleInputSerializer,
        responses={200: s.MemberSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def patch(self, request, slug, membership_id):
        """Change a member's role (the project's admins; never their own)."""
        project = members_access(request, slug)
        membership = project_selectors.membership(project=project, membership_id=membership_id)
        data = checked(s.RoleInputSerializer, request.data)
        membership = project_services.change_role(
            membership=membership, role=data["role"], by=request.user
        )
        return Response(s.MemberSerializer(membership).data)
