"""Malformed input answers 4xx, never 500 (disclosure.middleware.RefuseNulBytes).

PostgreSQL refuses NUL in text ("PostgreSQL text fields cannot contain NUL (0x00) bytes"), so a
NUL that reaches a lookup is a 500 there and a plain miss on SQLite: these tests matter on
PostgreSQL (CI) most. tests/disclosure/test_fuzz.py throws the same values at every URL.
"""

import pytest
from django.test import Client as PlainClient

from tests.signin import Client

pytestmark = pytest.mark.django_db


def quiet_client():
    """A client that sees a 500 as a status instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "url",
    [
        "/advisories/%00/",
        "/advisories/A%00B.osv.json",
        "/advisories/A%00B.csaf.json",
        "/reports/invitations/%00/",
    ],
)
def test_a_nul_byte_in_the_path_is_not_found_for_anyone(project, url):
    response = quiet_client().get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/reports/A%00B/"),
        ("get", "/reports/A%00B/attachments/1/"),
        ("get", "/reports/invitations/%00/"),
        ("post", "/reports/invitations/%00/"),
        ("post", "/reports/A%00B/comment/"),
    ],
)
def test_a_nul_byte_in_the_path_is_not_found_when_signed_in(reporter, method, url):
    client = quiet_client()
    client.sign_in(reporter)
    response = getattr(client, method)(url)
    assert response.status_code == 404
    # The page is the site's, with the signed-in navigation and its security headers.
    body = response.content.decode()
    assert "Not found" in body
    assert reporter.email in body
    assert "Content-Security-Policy" in response


@pytest.mark.parametrize(
    "query",
    ["project=%00", "after=%00", "state=open%00", "severity=%00", "%00=1", "overdue=1&x=a%00b"],
)
def test_a_nul_byte_in_the_query_string_is_a_bad_request(reporter, query):
    client = quiet_client()
    client.sign_in(reporter)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_a_nul_byte_in_a_public_query_string_is_a_bad_request(project):
    assert quiet_client().get("/projects/acme/?q=%00").status_code == 400
    assert quiet_client().get("/accounts/login/?next=/%00").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "project=nope",
        "project=" + "x" * 10_000,
        "state=nope",
        "state=' OR '1'='1",
        "severity=%F0%9F%92%A3",
        "overdue=maybe",
        "after=garbage",
        "after=" + "A" * 10_000,
        "after=../../etc/passwd",
        "q=" + "x" * 10_000,
        "q=' OR '1'='1",
        'q="unterminated',
        "q=-",
        "q=%3A*%26%7C!()",
        "q=%E2%80%AE",
        "sort=nope",
        "sort=severity&after=garbage",
        "view=nope",
        "view=queue&assigned=you",
    ],
)
@pytest.mark.parametrize("who", ["reporter", "maintainer"])  # My reports, the queue
def test_hostile_filters_of_the_report_list_never_fail(request, who, query):
    client = quiet_client()
    client.sign_in(request.getfixturevalue(who))
    assert client.get(f"/reports/?{query}").status_code in {200, 400}


def test_a_session_cookie_with_a_nul_byte_is_ignored(project):
    client = PlainClient(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefghijkl\x00mnop"
    assert client.get("/").status_code == 200
    response = client.get("/reports/")
    assert response.status_code == 302  # to sign in: the cookie names no session
    assert response["Location"].startswith("/accounts/login/")
