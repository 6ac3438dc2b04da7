"""Error pages as production serves them: DEBUG off, static files from the collected manifest.

400, 403 (a refused action, and a refused CSRF token), 404 and 429 (allauth's rate limits) are
the site's pages: base.html's layout, navigation and stylesheet. 500 renders from nothing: no
request, no context processors (Django's server_error renders the template bare), so it must
not extend base.html.
"""

import pytest
from django.core.management import call_command
from django.template import loader
from django.test import Client as PlainClient
from django.test import override_settings
from django.urls import path

from tests.reports.conftest import file
from tests.signin import Client

pytestmark = pytest.mark.django_db

PRODUCTION_STATIC = "whitenoise.storage.CompressedManifestStaticFilesStorage"
HASHED_STYLESHEET = "/static/vendor/bootstrap/css/bootstrap.min."  # + hash + ".css"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """`collectstatic` as the image runs it (Dockerfile), once for this module."""
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": PRODUCTION_STATIC},
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root, storages


@pytest.fixture
def production(settings, collected):
    root, storages = collected
    settings.DEBUG = False
    settings.STATIC_ROOT = root
    settings.STORAGES = storages


def quiet_client(**options):
    return Client(raise_request_exception=False, **options)


def assert_site_layout(response, status, title):
    assert response.status_code == status
    body = response.content.decode()
    assert f"<title>{title} · Disclosure</title>" in body
    assert HASHED_STYLESHEET in body  # the manifest's name: production static files
    assert '<nav class="navbar' in body
    assert "coordinated vulnerability disclosure" in body  # the footer
    assert "Traceback" not in body
    return body


def test_404_uses_the_site_layout(production, reporter):
    client = quiet_client()
    client.sign_in(reporter)
    body = assert_site_layout(client.get("/nowhere/"), 404, "Not found")
    assert reporter.email in body  # the signed-in navigation
    assert "Django tried these URL patterns" not in body


def test_403_of_a_refused_action_uses_the_site_layout(production, project, reporter):
    report = file(reporter, project)
    client = quiet_client()
    client.sign_in(reporter)
    response = client.post(f"/reports/{report.tracking_id}/transitions/acknowledge/")
    body = assert_site_layout(response, 403, "Not allowed")
    assert "You may not acknowledge on this report." in body


def test_403_of_a_refused_csrf_token_uses_the_site_layout(production, project):
    client = PlainClient(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post("/accounts/login/", {"login": "a@example.org", "password": "x"})
    body = assert_site_layout(response, 403, "Not allowed")
    assert "reload the page" in body


def test_400_uses_the_site_layout(production, reporter):
    client = quiet_client()
    client.sign_in(reporter)
    assert_site_layout(client.get("/reports/?after=tampered"), 400, "Bad request")
    assert_site_layout(client.get("/reports/?project=%00"), 400, "Bad request")


def test_429_uses_the_site_layout(production, reporter):
    client = quiet_client()
    statuses = [
        client.post("/accounts/password/reset/", {"email": reporter.email}).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]  # allauth: 5 per minute and address
    response = client.post("/accounts/password/reset/", {"email": reporter.email})
    body = assert_site_layout(response, 429, "Too many requests")
    assert "try again" in body


def test_500_renders_without_a_request_or_context(production):
    body = loader.get_template("500.html").render()
    assert "Server error" in body
    assert HASHED_STYLESHEET in body
    assert "{{" not in body


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom)]


def test_500_is_served_for_a_bug(production, settings):
    settings.ROOT_URLCONF = __name__
    response = PlainClient(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Server error" in body
    assert HASHED_STYLESHEET in body
    assert "a bug" not in body
