"""The OpenAPI document (/api/schema/) and its Swagger UI (/api/docs/) under the site's CSP."""

import pytest
import yaml
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from api.schema import SchemaView

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(document):
    """{(METHOD, path)} of the document."""
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(client):
    document = schema(client)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the 3.1 specification
    assert document["components"]["securitySchemes"]["personalAccessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token made on the account page (/account/tokens/).",
    }


def test_the_validator_refuses_a_broken_document(client):
    """The check above can fail: the same document with a parameter that says not where it is."""
    document = schema(client)
    document["paths"]["/api/projects/"]["get"]["parameters"] = [{"name": "nowhere"}]
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_every_operation_has_a_unique_id(client):
    ids = [
        operation["operationId"]
        for item in schema(client)["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(ids) == len(set(ids))


def test_docs_page_loads_only_our_own_files_under_a_strict_csp(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    html = response.content.decode()
    # No inline script or style: every <script> has a src, no <style> element at all.
    assert "<style" not in html
    assert html.count("<script") == html.count("<script src=")
    for asset in (
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/css/api-docs.css",
    ):
        assert f'"{asset}"' in html
        assert finders.find(asset.removeprefix("/static/")), asset  # shipped with the site
    assert 'src="/api/docs/?script="' in html


def test_docs_init_script_is_a_script_pointing_at_the_schema(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b'url: "/api/schema/"' in response.content


def test_the_document_is_generated_once_and_served_alike_in_each_format(client, monkeypatch):
    """Generating it costs a quarter of a second of CPU on a public URL: once per process."""
    SchemaView._documents.clear()
    calls = []
    real = SchemaGenerator.get_schema
    monkeypatch.setattr(
        SchemaGenerator, "get_schema", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    first, second = schema(client), schema(client)
    as_yaml = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(as_yaml.content) == first == second
    assert first["info"]["title"].endswith("API")
    assert len(calls) == 1
    # ?lang= does not make another document.
    assert yaml.safe_load(client.get("/api/schema/?lang=de&format=json").content) == first
    assert len(calls) == 1
