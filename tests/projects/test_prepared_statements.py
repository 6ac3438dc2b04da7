"""The queries every signed-in page runs (projects/precompiled.py) are prepared statements on
PostgreSQL: planned once per connection, not on every request; nothing else is prepared, and
DATABASE_PREPARED_STATEMENTS=0 turns them off (a pooler that cannot keep them)."""

import pytest
from django.db import connection
from django.db.backends.postgresql.base import Cursor, ServerBindingCursor
from django.test.utils import CaptureQueriesContext

from projects.access import roles_of, user_with_roles
from projects.models import Membership
from projects.precompiled import _cursor
from tests.disclosure.test_settings import PRODUCTION_ENV, manage


def prepared():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.services
def test_the_user_with_roles_is_read_by_a_prepared_statement(maintainer, project, reporter):
    before = prepared()
    with CaptureQueriesContext(connection) as queries:  # still logged, as every query
        user = user_with_roles(maintainer.pk)
    assert user == maintainer
    assert roles_of(user) == {project.pk: Membership.Role.MAINTAINER}
    assert len(queries) == 1
    # Logged as Django logs its own queries: the statement with its parameters put in.
    assert '"projects_membership"' in queries[0]["sql"]
    assert f'WHERE "auth_user"."id" = {maintainer.pk}' in queries[0]["sql"]
    new = [statement for statement in prepared() if statement not in before]
    assert len(new) == 1
    assert "projects_membership" in new[0]
    assert "$1" in new[0]
    # Another user: the same statement with their id, not one more.
    assert roles_of(user_with_roles(reporter.pk)) == {}
    assert [statement for statement in prepared() if statement not in before] == new


@pytest.mark.services
def test_django_s_own_queries_are_not_prepared(maintainer):
    before = prepared()
    for _ in range(3):
        assert list(type(maintainer).objects.filter(pk=maintainer.pk)) == [maintainer]
    assert prepared() == before


@pytest.mark.services
def test_without_the_setting_the_precompiled_queries_bind_client_side(db, monkeypatch):
    with _cursor(connection) as cursor:
        assert type(cursor.cursor) is ServerBindingCursor
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "prepare_threshold")
    with _cursor(connection) as cursor:
        assert type(cursor.cursor) is Cursor


@pytest.mark.parametrize(("setting", "options"), [(None, {"prepare_threshold": 0}), ("0", {})])
def test_prepared_statements_are_on_for_postgresql_unless_turned_off(setting, options):
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    env = PRODUCTION_ENV | {"DATABASE_URL": "postgres://app@db.example:5432/disclosure"}
    if setting is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = setting
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == repr(options)


def test_sqlite_has_no_such_option():
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "{}"
