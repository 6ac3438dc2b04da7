"""The database health check (disclosure/postgresql/base.py): a persistent connection the server
has dropped is replaced before a request uses it, and a healthy idle one costs no query."""

import select
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

from projects.models import Project

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_checks(monkeypatch):
    """Counts Django's own check (`SELECT 1`), which ours falls back to."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(self.alias)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def from_another_connection(sql, params=()):
    dsn = connection.get_connection_params()
    dsn = {key: dsn[key] for key in ("dbname", "user", "host", "port", "password") if key in dsn}
    with psycopg.connect(**dsn, autocommit=True) as other:
        other.execute(sql, params)


def wait_until_the_server_has_spoken():
    deadline = time.monotonic() + 5
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "nothing arrived on the connection"


def new_request():
    """What Django does when a request starts (request_started): health check on next use."""
    connection.close_if_unusable_or_obsolete()


def test_the_engine_is_ours_with_health_checks_on():
    assert settings.DATABASES["default"]["ENGINE"] == "disclosure.postgresql"
    assert connection.health_check_enabled


def test_a_healthy_idle_connection_is_used_without_asking_the_server(server_checks):
    Project.objects.count()
    backend = connection.connection.info.backend_pid
    new_request()
    assert Project.objects.count() == 0
    assert connection.connection.info.backend_pid == backend
    assert server_checks == []


def test_a_connection_the_server_dropped_is_replaced_before_the_request_uses_it(server_checks):
    Project.objects.count()
    backend = connection.connection.info.backend_pid
    from_another_connection("SELECT pg_terminate_backend(%s)", [backend])
    wait_until_the_server_has_spoken()
    new_request()
    assert Project.objects.count() == 0  # no error: a new connection served it
    assert connection.connection.info.backend_pid != backend
    assert server_checks == ["default"]


def test_something_else_waiting_on_the_connection_is_read_by_django_s_check(server_checks):
    with connection.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    backend = connection.connection.info.backend_pid
    from_another_connection("NOTIFY health_check_test")
    wait_until_the_server_has_spoken()
    new_request()
    assert Project.objects.count() == 0
    assert connection.connection.info.backend_pid == backend  # still healthy: kept
    assert server_checks == ["default"]
