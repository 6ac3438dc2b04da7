from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("projects/<slug:slug>/", views.project_detail, name="detail"),
    path(
        "projects/<slug:slug>/policy/<int:revision_id>/",
        views.revision_detail,
        name="revision",
    ),
    path("projects/<slug:slug>/security.txt", views.project_security_txt, name="security_txt"),
]
