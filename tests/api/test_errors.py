"""One error shape, and no 500 for anything a client sends: garbage bodies, bad cursors, bad
filters, unknown addresses, wrong methods and content types.
"""

import pytest

from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

GARBAGE = (
    b"{not json",
    b"\xff\xfe\x00garbage",
    b"[]",
    b"null",
    b'{"body": {"nested": [1, 2]}}',
    b'{"body": "\\u0000"}',
    b'"a string"',
    b"1e999999",
)


def error_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str)
    return body["error"]


BODY_ENDPOINTS = (
    ("post", "/api/reports/{tid}/comments/"),
    ("post", "/api/reports/{tid}/transitions/acknowledge/"),
    ("post", "/api/reports/{tid}/transitions/close/"),
    ("post", "/api/reports/{tid}/cvss/"),
    ("patch", "/api/reports/{tid}/advisory/"),
    ("post", "/api/projects/acme/members/"),
    ("patch", "/api/projects/acme/members/{membership}/"),
)


def test_garbage_bodies_answer_400(api_world, project_admin):
    client = client_for(project_admin)
    values = {"tid": api_world.report.tracking_id, "membership": api_world.spare.pk}
    for method, path in BODY_ENDPOINTS:
        for payload in GARBAGE:
            response = getattr(client, method)(
                path.format(**values), payload, content_type="application/json"
            )
            error_of(response, 400)


def test_field_errors_name_their_fields(api_world, project_admin):
    client = client_for(project_admin)
    url = f"/api/reports/{api_world.report.tracking_id}/cvss/"
    error = error_of(client.post(url, {"vector": "CVSS:9.9/nonsense"}, format="json"), 400)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["vector"]
    error = error_of(client.post("/api/projects/acme/members/", {}, format="json"), 400)
    assert set(error["fields"]) == {"email", "role"}


def test_a_refusal_of_the_rules_is_400_refused(api_world, maintainer):
    client = client_for(maintainer)
    url = f"/api/reports/{api_world.report.tracking_id}/transitions/close/"
    body = {"message": "Dup.", "resolution": "duplicate"}
    error = error_of(client.post(url, body, format="json"), 400)
    assert error == {
        "code": "refused",
        "message": "Name the report this one duplicates.",
        "fields": {"non_field_errors": ["Name the report this one duplicates."]},
    }


BAD_QUERIES = (
    "after=garbage",
    "after=" + "x" * 5000,
    "state=nonsense",
    "severity=extreme",
    "sort=random",
    "view=everything",
    "overdue=perhaps",
    "assigned=you",
    "project=no-such-project",
    "q=" + "x" * 300,
)


def test_bad_filters_and_cursors_answer_400(api_world, maintainer):
    client = client_for(maintainer)
    for query in BAD_QUERIES:
        error_of(client.get(f"/api/reports/?{query}"), 400)


def test_a_nul_byte_is_refused_before_the_api_in_its_error_shape(api_world, maintainer):
    """disclosure.middleware.RefuseNulBytes refuses NUL for the whole site (PostgreSQL text
    cannot hold it); under /api/ its answers are the API's JSON errors."""
    client = client_for(maintainer)
    assert error_of(client.get("/api/reports/?project=%00"), 400)["code"] == "invalid"
    assert error_of(client.get("/api/reports/STW%00/"), 404)["code"] == "not_found"
    assert client.get("/reports/?project=%00").status_code == 400  # the site's own page


def test_a_cursor_of_another_sort_is_refused(api_world, maintainer, settings):
    settings.REPORTS_PAGE_SIZE = 1
    client = client_for(maintainer)
    following = client.get("/api/reports/?sort=newest").json()["next"]
    assert following
    cursor = following.split("after=")[1]
    error = error_of(client.get(f"/api/reports/?sort=oldest&after={cursor}"), 400)
    assert "another sort order" in error["fields"]["after"][0]


def test_unknown_addresses_methods_and_media_types(api_world, maintainer):
    client = client_for(maintainer)
    assert error_of(client.get("/api/nowhere/"), 404)["code"] == "not_found"
    assert error_of(client.delete("/api/nowhere/"), 404)["code"] == "not_found"
    assert error_of(client.delete("/api/projects/"), 405)["code"] == "method_not_allowed"
    url = f"/api/reports/{api_world.report.tracking_id}/comments/"
    response = client.post(url, b"body=x", content_type="text/plain")
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    tid = api_world.report.tracking_id
    assert error_of(client.post(f"/api/reports/{tid}/transitions/fly/", {}), 404)
    assert error_of(client.get("/api/reports/NOPE-2026-0001/"), 404)
    assert error_of(client.get(f"/api/reports/{tid}/attachments/999999/"), 404)
    assert error_of(client.get("/api/advisories/NOPE/"), 404)


def test_anonymous_requests_to_token_endpoints_answer_401(api_world):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/reports/")
    assert error_of(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
