from django.contrib import admin
from django.urls import include, path

from disclosure.health import health
from projects.views import instance_security_txt

admin.site.site_header = "Disclosure administration"
admin.site.site_title = "Disclosure admin"

urlpatterns = [
    path(".well-known/security.txt", instance_security_txt, name="security_txt"),
    path("health/", health, name="health"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("projects.urls")),
    path("", include("reports.urls")),
    path("", include("advisories.urls")),
]
