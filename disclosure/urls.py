from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from disclosure.health import health
from projects.views import instance_security_txt

admin.site.site_header = "Disclosure administration"
admin.site.site_title = "Disclosure admin"

urlpatterns = [
    path(".well-known/security.txt", instance_security_txt, name="security_txt"),
    path("health/", health, name="health"),
    path("accounts/", include("allauth.urls")),
    # The admin signs in through allauth like the site: the same second factor and rate limits.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="admin_login",
    ),
    path("admin/", admin.site.urls),
    path("", include("projects.urls")),
    path("", include("reports.urls")),
    path("", include("advisories.urls")),
    path("", include("api.urls")),
    path("", include("webhooks.urls")),
]
