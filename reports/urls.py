from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("projects/<slug:slug>/report/", views.intake, name="intake"),
    path("projects/<slug:slug>/sla/", views.sla_dashboard, name="sla_dashboard"),
    path("reports/", views.report_list, name="list"),
    path("reports/invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("reports/<str:tracking_id>/", views.report_detail, name="detail"),
    path("reports/<str:tracking_id>/filed/", views.filed, name="filed"),
    path("reports/<str:tracking_id>/comment/", views.comment, name="comment"),
    path("reports/<str:tracking_id>/cvss/", views.score, name="score"),
    path("reports/<str:tracking_id>/severity/", views.severity, name="severity"),
    path("reports/<str:tracking_id>/assignee/", views.assign, name="assign"),
    path("reports/<str:tracking_id>/spam/", views.mark_spam, name="mark_spam"),
    path("reports/<str:tracking_id>/credit/", views.credit, name="credit"),
    path("reports/<str:tracking_id>/attachments/", views.upload, name="upload"),
    path(
        "reports/<str:tracking_id>/attachments/<int:attachment_id>/",
        views.download,
        name="download",
    ),
    path(
        "reports/<str:tracking_id>/comments/<int:comment_id>/original/",
        views.original_email,
        name="original_email",
    ),
    path("reports/<str:tracking_id>/collaborators/", views.invite, name="invite"),
    path(
        "reports/<str:tracking_id>/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path(
        "reports/<str:tracking_id>/collaborators/<int:user_id>/remove/",
        views.remove_collaborator,
        name="remove_collaborator",
    ),
    path(
        "reports/<str:tracking_id>/transitions/<str:name>/",
        views.report_transition,
        name="transition",
    ),
]
