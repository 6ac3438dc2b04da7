from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from api import token_views, views
from api.schema import SchemaView

app_name = "api"

urlpatterns = [
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # Public.
    path("api/projects/", views.ProjectList.as_view(), name="projects"),
    path("api/projects/<slug:slug>/", views.ProjectDetail.as_view(), name="project"),
    path(
        "api/projects/<slug:slug>/advisories/",
        views.ProjectAdvisories.as_view(),
        name="project_advisories",
    ),
    path("api/projects/<slug:slug>/hall-of-fame/", views.HallOfFame.as_view(), name="hall_of_fame"),
    path("api/advisories/<str:identifier>/", views.AdvisoryDetail.as_view(), name="advisory"),
    # With a token.
    path("api/projects/<slug:slug>/members/", views.Members.as_view(), name="members"),
    path(
        "api/projects/<slug:slug>/members/<int:membership_id>/",
        views.MemberRole.as_view(),
        name="member",
    ),
    path("api/reports/", views.ReportList.as_view(), name="reports"),
    path("api/reports/<str:tracking_id>/", views.ReportDetail.as_view(), name="report"),
    path("api/reports/<str:tracking_id>/comments/", views.Comments.as_view(), name="comments"),
    path(
        "api/reports/<str:tracking_id>/attachments/",
        views.Attachments.as_view(),
        name="attachments",
    ),
    path(
        "api/reports/<str:tracking_id>/attachments/<int:attachment_id>/",
        views.AttachmentDownload.as_view(),
        name="attachment",
    ),
    path(
        "api/reports/<str:tracking_id>/transitions/<str:name>/",
        views.Transition.as_view(),
        name="transition",
    ),
    path("api/reports/<str:tracking_id>/cvss/", views.Cvss.as_view(), name="cvss"),
    path(
        "api/reports/<str:tracking_id>/advisory/",
        views.AdvisoryDraft.as_view(),
        name="advisory_draft",
    ),
    # Anything else under /api/ is the API's own 404 (JSON), not the site's page.
    re_path(r"^api/.*$", views.NotFound.as_view(), name="not_found"),
    # The account page's tokens (HTML, signed in).
    path("account/tokens/", token_views.tokens, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", token_views.revoke, name="revoke_token"),
]
