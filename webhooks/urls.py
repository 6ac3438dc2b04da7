from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("projects/<slug:slug>/webhooks/", views.webhook_list, name="list"),
    path("projects/<slug:slug>/webhooks/new/", views.create, name="create"),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/", views.detail, name="detail"),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/edit/", views.update, name="update"),
    path(
        "projects/<slug:slug>/webhooks/<int:webhook_id>/secret/",
        views.rotate_secret,
        name="rotate_secret",
    ),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/delete/", views.delete, name="delete"),
    path(
        "projects/<slug:slug>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/",
        views.redeliver,
        name="redeliver",
    ),
]
