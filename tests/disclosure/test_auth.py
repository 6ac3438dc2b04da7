"""A signed-in request reads its user and roles in one query (disclosure/auth.py), and
sessions signed in through Django's or allauth's backends before it stay valid."""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, authenticate
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disclosure.auth import PATH, SessionUserBackend
from projects.access import PROJECTS_MEMO, ROLES_MEMO, member_projects, roles_of
from projects.models import Membership
from tests.factories import ProjectFactory
from tests.signin import PASSWORD, prepare

pytestmark = pytest.mark.django_db


def membership_queries(queries):
    return [q["sql"] for q in queries.captured_queries if '"projects_membership"' in q["sql"]]


def test_signing_in_records_the_session_for_the_backend_that_reads_the_roles(client, maintainer):
    client.sign_in(maintainer)  # allauth's password form and its second-factor form
    assert client.session[BACKEND_SESSION_KEY] == PATH
    client.get("/reports/")  # the session's first page puts it in the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/reports/").status_code == 200
    # Those reading a user's row (the queue's rows read only their assignee's address).
    user_queries = [
        q["sql"] for q in queries.captured_queries if '"auth_user"."password"' in q["sql"]
    ]
    # One query names the user, and the same one reads the memberships.
    assert len(user_queries) == 1, user_queries
    assert membership_queries(queries) == user_queries


def test_a_reporter_signing_in_by_password_is_read_here_too(client, reporter):
    prepare(reporter)
    response = client.post("/accounts/login/", {"login": reporter.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == PATH
    assert client.get("/reports/").status_code == 200


@pytest.mark.parametrize(
    "backend",
    [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ],
)
def test_sessions_signed_in_through_the_other_backends_stay_valid(client, reporter, backend):
    client.force_login(reporter)
    session = client.session  # as such a session was written before disclosure.auth
    session[BACKEND_SESSION_KEY] = backend
    session.save()
    assert client.session[BACKEND_SESSION_KEY] == backend
    response = client.get("/reports/")
    assert response.status_code == 200
    assert response.wsgi_request.user == reporter


def test_it_signs_nobody_in(reporter):
    prepare(reporter)
    assert (
        SessionUserBackend().authenticate(None, username=reporter.username, password=PASSWORD)
        is None
    )
    # Django's and allauth's backends still do, and record themselves.
    user = authenticate(None, email=reporter.email, password=PASSWORD)
    assert user == reporter
    assert user.backend == "allauth.account.auth_backends.AuthenticationBackend"


def test_it_reads_the_user_as_the_orm_does_with_the_roles_by_project_name(project, maintainer):
    second = ProjectFactory(name="Aardvark")
    Membership.objects.create(user=maintainer, project=second, role=Membership.Role.ADMIN)
    with CaptureQueriesContext(connection) as queries:
        user = SessionUserBackend().get_user(maintainer.pk)
    assert len(queries.captured_queries) == 1
    expected = type(maintainer).objects.get(pk=maintainer.pk)
    assert user == expected
    for field in type(maintainer)._meta.concrete_fields:
        value = getattr(user, field.attname)
        assert value == getattr(expected, field.attname), field.name
        assert type(value) is type(getattr(expected, field.attname)), field.name  # bools, dates
    assert isinstance(user.date_joined, datetime.datetime)
    assert user.date_joined.tzinfo is not None
    assert getattr(user, ROLES_MEMO) == {
        project.pk: Membership.Role.MAINTAINER,
        second.pk: Membership.Role.ADMIN,
    }
    assert [(p.pk, p.slug, p.name) for p in getattr(user, PROJECTS_MEMO)] == [
        (second.pk, second.slug, "Aardvark"),
        (project.pk, project.slug, project.name),
    ]
    # The request's readers find them: no query more.
    with CaptureQueriesContext(connection) as queries:
        assert roles_of(user) == getattr(user, ROLES_MEMO)
        assert member_projects(user) == getattr(user, PROJECTS_MEMO)
    assert queries.captured_queries == []


def test_a_user_without_memberships_has_no_roles_and_no_query_for_them(reporter):
    user = SessionUserBackend().get_user(reporter.pk)
    assert user == reporter
    with CaptureQueriesContext(connection) as queries:
        assert roles_of(user) == {}
        assert member_projects(user) == []
    assert queries.captured_queries == []


def test_inactive_and_unknown_users_are_nobody(client, reporter):
    reporter.is_active = False
    reporter.save(update_fields=["is_active"])
    assert SessionUserBackend().get_user(reporter.pk) is None
    assert SessionUserBackend().get_user(reporter.pk + 1000) is None
    client.force_login(reporter, backend=PATH)
    response = client.get("/reports/")
    assert response.status_code == 302  # to the sign-in page
    assert not response.wsgi_request.user.is_authenticated


def test_a_changed_password_ends_the_session(client, reporter):
    client.force_login(reporter, backend=PATH)
    assert client.get("/reports/").status_code == 200
    reporter.set_password("another passphrase entirely")
    reporter.save(update_fields=["password"])
    response = client.get("/reports/")
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated
