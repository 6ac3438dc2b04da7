"""Personal access tokens: made on the account page and shown once, stored hashed, refused when
expired, revoked, of the wrong scope or project, held to the second-factor rule, rate-limited.
"""

import datetime
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import AccessToken
from tests.api.conftest import client_for, make_token
from tests.factories import MembershipFactory
from tests.signin import enroll_totp

pytestmark = pytest.mark.django_db


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def create_on_page(client, **fields):
    data = {
        "name": "CI bot",
        "scope": "read",
        "expires_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        **fields,
    }
    return client.post("/account/tokens/", data)


def test_the_token_is_shown_once_and_only_its_hash_is_stored(client, reporter):
    client.sign_in(reporter)
    response = create_on_page(client)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    token = AccessToken.objects.get(user=reporter)
    page = response.content.decode()
    start = page.index('id="new-token-secret">') + len('id="new-token-secret">')
    secret = page[start : page.index("<", start)]
    assert secret.startswith("dsc_")
    assert len(secret) > 40
    # Hashed at rest: the digest is its SHA-256, no column holds the secret.
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    row = AccessToken.objects.filter(pk=token.pk).values().get()
    assert not [name for name, value in row.items() if secret in str(value)]
    assert token.prefix == secret[:12]
    # The list shows the prefix, never the secret again.
    again = client.get("/account/tokens/").content.decode()
    assert secret not in again
    assert f"{token.prefix}…" in again
    assert bearer(secret).get("/api/reports/").status_code == 200


def test_the_list_shows_last_use_and_revoking_stops_the_token(client, reporter):
    created = make_token(reporter, scope="read")
    api = bearer(created.secret)
    assert api.get("/api/reports/").status_code == 200
    client.sign_in(reporter)
    page = client.get("/account/tokens/").content.decode()
    assert "never" not in page.split('id="token-list"')[1].split("</table>")[0]
    response = client.post(f"/account/tokens/{created.token.pk}/revoke/")
    assert response.status_code == 302
    refused = api.get("/api/reports/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    assert 'Bearer realm="api"' in refused["WWW-Authenticate"]


def test_nobody_revokes_someone_elses_token(client, reporter, stranger):
    created = make_token(reporter)
    client.sign_in(stranger)
    client.post(f"/account/tokens/{created.token.pk}/revoke/")
    created.token.refresh_from_db()
    assert created.token.revoked_at is None
    assert bearer(created.secret).get("/api/reports/").status_code == 200


def test_expired_tokens_are_refused(reporter, time_machine):
    created = make_token(reporter, days=1)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=3))
    response = bearer(created.secret).get("/api/reports/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "invalid_token",
            "message": "The token is not valid: unknown, expired or revoked.",
        }
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer dsc_unknown", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9", "Bearer " + "x" * 5000],
)
def test_unknown_and_malformed_tokens_are_refused_alike(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = client.get("/api/projects/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_disabled_account_s_token_is_refused(reporter):
    created = make_token(reporter)
    reporter.is_active = False
    reporter.save()
    assert bearer(created.secret).get("/api/reports/").status_code == 401


def test_a_read_token_cannot_write(api_world, reporter):
    client = client_for(reporter, scope="read")
    url = f"/api/reports/{api_world.report.tracking_id}/comments/"
    response = client.post(url, {"body": "Hello"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert not api_world.report.comments.filter(body="Hello").exists()
    assert client.get(f"/api/reports/{api_world.report.tracking_id}/").status_code == 200


def test_a_project_token_sees_nothing_of_other_projects(api_world, maintainer, other_project):
    from tests.api.conftest import file
    from tests.factories import PolicyRevisionFactory, UserFactory

    PolicyRevisionFactory(project=other_project)
    MembershipFactory(project=other_project, user=maintainer, role="admin")
    elsewhere = file(other_project, UserFactory(email="someone@example.org"), title="Elsewhere")
    narrow = client_for(maintainer, project=api_world.project)
    wide = client_for(maintainer)
    assert wide.get(f"/api/reports/{elsewhere.tracking_id}/").status_code == 200
    assert narrow.get(f"/api/reports/{elsewhere.tracking_id}/").status_code == 404
    assert narrow.get(f"/api/reports/{api_world.report.tracking_id}/").status_code == 200
    listed = [row["tracking_id"] for row in narrow.get("/api/reports/").json()["results"]]
    assert elsewhere.tracking_id not in listed
    assert api_world.report.tracking_id in listed
    assert narrow.get("/api/reports/?project=other").json()["results"] == []
    assert narrow.get("/api/projects/other/members/").status_code == 404
    assert wide.get("/api/projects/other/members/").status_code == 200


def test_a_token_cannot_be_restricted_to_a_project_its_owner_has_nothing_to_do_with(
    stranger, project
):
    with pytest.raises(services.TokenError):
        make_token(stranger, project=project)


def test_expiry_is_required_and_has_a_maximum(client, reporter, settings):
    client.sign_in(reporter)
    assert create_on_page(client, expires_on="").status_code == 400
    too_far = timezone.localdate() + datetime.timedelta(days=settings.API_TOKEN_MAX_DAYS + 1)
    response = create_on_page(client, expires_on=too_far.isoformat())
    assert response.status_code == 400
    assert "at most" in response.content.decode()
    past = create_on_page(client, expires_on="2000-01-01")
    assert past.status_code == 400
    assert create_on_page(client, expires_on="9999-12-31").status_code == 400
    assert not AccessToken.objects.exists()
    longest = timezone.localdate() + datetime.timedelta(days=settings.API_TOKEN_MAX_DAYS)
    assert create_on_page(client, expires_on=longest.isoformat()).status_code == 200


def test_members_pass_their_second_factor_before_they_reach_the_token_page(maintainer):
    """The site's gate stands in front of the page: a member signed in without the second
    factor is sent to it, and no token is made.
    """
    from tests.signin import Client

    client = Client()
    client.force_login(maintainer)  # a session that never passed a second factor
    enroll_totp(maintainer)
    assert client.get("/account/tokens/").status_code == 302
    assert create_on_page(client).status_code == 302
    assert not AccessToken.objects.exists()
    signed_in = Client()
    signed_in.sign_in(maintainer)  # with the second factor, as people do
    assert create_on_page(signed_in).status_code == 200
    assert AccessToken.objects.get(user=maintainer).second_factor is True


def test_the_service_refuses_a_member_without_the_second_factor(maintainer):
    with pytest.raises(services.TokenError):
        services.create_token(
            user=maintainer,
            name="x",
            scope="read",
            expires_on=timezone.localdate() + datetime.timedelta(days=1),
            second_factor_passed=False,
        )


def test_a_reporter_s_token_stops_when_they_become_a_member(reporter, project):
    created = make_token(reporter)
    assert created.token.second_factor is False
    assert bearer(created.secret).get("/api/reports/").status_code == 200
    MembershipFactory(project=project, user=reporter, role="triager")
    response = bearer(created.secret).get("/api/reports/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "second_factor_required"


def test_last_used_is_written_at_most_once_a_minute(reporter, time_machine):
    created = make_token(reporter)
    api = bearer(created.secret)

    def updates():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/reports/").status_code == 200
        return [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]

    assert len(updates()) == 1  # first use
    first = AccessToken.objects.get().last_used_at
    assert first is not None
    assert updates() == []  # within the minute: no write
    time_machine.move_to(timezone.now() + datetime.timedelta(seconds=61))
    assert len(updates()) == 1
    assert AccessToken.objects.get().last_used_at > first


def test_the_rate_limit_per_token_answers_429(reporter, settings):
    settings.RATE_LIMIT_API = "3/h/token"
    api = bearer(make_token(reporter).secret)
    statuses = [api.get("/api/reports/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/reports/")
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # Another token of the same person has its own budget.
    assert bearer(make_token(reporter).secret).get("/api/reports/").status_code == 200


def test_the_token_page_offers_only_the_projects_a_token_may_be_restricted_to(
    client, api_world, collaborator, reporter, project
):
    """A collaborator follows a report of the project without being a member or its reporter:
    the service refuses to restrict their token to it, so the page does not offer it, while
    the reporter is offered it (and My reports still lists the collaborator's project)."""
    client.sign_in(collaborator)
    assert list(client.get("/account/tokens/").context["form"].fields["project"].queryset) == []
    with pytest.raises(services.TokenError):
        make_token(collaborator, project=project)
    assert [p.slug for p in client.get("/reports/?view=mine").context["projects"]] == [project.slug]
    client.sign_in(reporter)
    offered = client.get("/account/tokens/").context["form"].fields["project"].queryset
    assert [p.slug for p in offered] == [project.slug]
