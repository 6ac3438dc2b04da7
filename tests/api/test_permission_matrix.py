"""The site's permission matrix rerun through the API: every endpoint of the OpenAPI document by
every member of the cast (tests/conftest.py), each with a write token of their own.

Each cell is run in a savepoint that is rolled back, so every request meets the same world
(tests/api/conftest.py). Expected: the statuses of EXPECTED and nothing else; in particular no
2xx to anyone not named there, 404 (never 403) where the report or project is invisible, 401
without a token. The reporter side's responses never hold internal content.

ENDPOINTS must list exactly the document's operations: an endpoint added to the API without a
row here fails test_every_operation_of_the_document_is_in_the_matrix, so every endpoint is
exercised by this test for everyone.
"""

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from rest_framework.test import APIClient

from tests.api.conftest import INTERNAL_NOTE, OVERRIDE_REASON, make_token

pytestmark = pytest.mark.django_db

CAST = (
    "anonymous",
    "stranger",
    "other_member",
    "reporter",
    "collaborator",
    "triager",
    "maintainer",
    "project_admin",
    "superuser",
)
EVERYONE = frozenset(CAST)
WITH_TOKEN = EVERYONE - {"anonymous"}
SEES_REPORT = frozenset(
    {"reporter", "collaborator", "triager", "maintainer", "project_admin", "superuser"}
)
REPORTER_SIDE = frozenset({"reporter", "collaborator"})
MEMBERS = frozenset({"triager", "maintainer", "project_admin", "superuser"})
MAINTAINERS = frozenset({"maintainer", "project_admin", "superuser"})
ADMINS = frozenset({"project_admin", "superuser"})


class RollbackError(Exception):
    pass


def row(method, path, ok, *, forbidden=frozenset(), body=None, multipart=False, success=200):
    """An endpoint: who gets `success`, who gets 403 (sees the object, may not act); everyone
    else with a token gets 404, anonymous 401 (public endpoints: `ok` is everyone).
    """
    return {
        "method": method,
        "path": path,
        "ok": frozenset(ok),
        "forbidden": frozenset(forbidden),
        "body": body,
        "multipart": multipart,
        "success": success,
    }


def endpoints(world):
    report = world.report.tracking_id
    return [
        # Public: everyone, with a token or without.
        row("GET", "/api/projects/", EVERYONE),
        row("GET", "/api/projects/{slug}/", EVERYONE),
        row("GET", "/api/projects/{slug}/advisories/", EVERYONE),
        row("GET", "/api/projects/{slug}/hall-of-fame/", EVERYONE),
        row("GET", "/api/advisories/{identifier}/", EVERYONE),
        # Reports: everyone with a token has a list (their own reports, or none).
        row("GET", "/api/reports/", WITH_TOKEN),
        row("GET", "/api/reports/{tracking_id}/", SEES_REPORT),
        row(
            "POST",
            "/api/reports/{tracking_id}/comments/",
            SEES_REPORT,
            body={"body": "A comment."},
            success=201,
        ),
        row(
            "POST",
            "/api/reports/{tracking_id}/attachments/",
            SEES_REPORT,
            body=lambda: {"attachments": [SimpleUploadedFile("log.txt", b"log\n")]},
            multipart=True,
            success=201,
        ),
        row("GET", "/api/reports/{tracking_id}/attachments/{attachment_id}/", SEES_REPORT),
        row(
            "POST",
            "/api/reports/{tracking_id}/transitions/{name}/",
            MAINTAINERS,
            forbidden=REPORTER_SIDE | {"triager"},
            body={"message": "On it."},
        ),
        row(
            "POST",
            "/api/reports/{tracking_id}/cvss/",
            MEMBERS,
            forbidden=REPORTER_SIDE,
            body={"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        ),
        # The draft is not shared yet: the reporter side does not see it (404, like missing).
        row("GET", "/api/reports/{tracking_id}/advisory/", MEMBERS),
        row(
            "POST",
            "/api/reports/{tracking_id}/advisory/",
            MAINTAINERS,
            forbidden=REPORTER_SIDE | {"triager"},
        ),
        row(
            "PATCH",
            "/api/reports/{tracking_id}/advisory/",
            MAINTAINERS,
            forbidden=REPORTER_SIDE | {"triager"},
            body={"summary": "A better summary."},
        ),
        # Members: the project's admins only; for everyone else the page does not exist.
        row("GET", "/api/projects/{slug}/members/", ADMINS),
        row(
            "POST",
            "/api/projects/{slug}/members/",
            ADMINS,
            body={"email": "newcomer@example.org", "role": "triager"},
            success=201,
        ),
        row(
            "PATCH",
            "/api/projects/{slug}/members/{membership_id}/",
            ADMINS,
            body={"role": "maintainer"},
        ),
    ], {
        "slug": world.project.slug,
        "identifier": world.published.identifier,
        "tracking_id": report,
        "attachment_id": world.attachment.pk,
        "name": "start_fix",  # the report is triaged: maintainers start the fix
        "membership_id": world.spare.pk,
    }


def expected_status(entry, who):
    if who in entry["ok"]:
        return entry["success"]
    if who in entry["forbidden"]:
        return 403
    return 401 if who == "anonymous" else 404


def request(client, entry, values):
    url = entry["path"].format(**values)
    body = entry["body"]() if callable(entry["body"]) else entry["body"]
    method = getattr(client, entry["method"].lower())
    if entry["multipart"]:
        return method(url, body, format="multipart")
    return method(url, body, format="json") if body is not None else method(url)


def contents(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


@pytest.fixture
def clients(cast):
    made = {}
    for who, user in cast.items():
        made[who] = APIClient()
        if user is not None:
            secret = make_token(user).secret
            made[who].credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return made


def test_every_endpoint_for_every_member_of_the_cast(api_world, cast, clients, maintainer, triager):
    table, values = endpoints(api_world)
    wrong, leaks = [], []
    secrets = [INTERNAL_NOTE, OVERRIDE_REASON, maintainer.email, triager.email]
    for entry in table:
        for who in CAST:
            try:
                with transaction.atomic():
                    response = request(clients[who], entry, values)
                    raise RollbackError
            except RollbackError:
                pass
            expected = expected_status(entry, who)
            if response.status_code != expected:
                wrong.append(
                    f"{entry['method']} {entry['path']} as {who}: {response.status_code}, "
                    f"expected {expected}: {contents(response)[:200]}"
                )
            if response.status_code >= 400 and not response.streaming:
                assert set(response.json()) == {"error"}, response.content
            if who in REPORTER_SIDE:
                text = contents(response)
                leaks += [
                    f"{entry['method']} {entry['path']} as {who} holds {secret!r}"
                    for secret in secrets
                    if secret in text
                ]
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)


def test_members_do_read_the_internal_content(api_world, clients):
    """The leak check above can fail: the same strings are in a member's view of the report."""
    text = clients["triager"].get(f"/api/reports/{api_world.report.tracking_id}/").content
    assert INTERNAL_NOTE.encode() in text
    assert OVERRIDE_REASON.encode() in text


def test_every_operation_of_the_document_is_in_the_matrix(api_world, client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = yaml.safe_load(response.content)
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    table, _values = endpoints(api_world)
    in_matrix = [(entry["method"], entry["path"]) for entry in table]
    assert len(in_matrix) == len(set(in_matrix))
    assert set(in_matrix) == documented


def test_internal_comments_only_by_members(api_world, clients):
    url = f"/api/reports/{api_world.report.tracking_id}/comments/"
    body = {"body": "Only for the team.", "internal": True}
    for who in REPORTER_SIDE:
        response = clients[who].post(url, body, format="json")
        assert response.status_code == 403, who
    assert not api_world.report.comments.filter(body="Only for the team.").exists()
    response = clients["triager"].post(url, body, format="json")
    assert response.status_code == 201
    assert json.loads(response.content)["internal"] is True
    assert api_world.report.comments.get(body="Only for the team.").internal
