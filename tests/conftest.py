"""The fixed cast of DESIGN §7 and the service guard for CI.

Tests marked `services` need the real PostgreSQL/Redis, tests marked `imap` Debian's dovecot
(tests/mail_servers.py), tests marked `pg_tools` PostgreSQL and Debian's postgresql-client
(pg_dump, pg_restore: the backup round trip). Locally, without those, they are reported as
skipped with the reason; in CI (CI=true) a missing service is a failure.
"""

import os
import shutil

import pytest
from django.conf import settings

from projects.models import Membership
from tests.celery_workers import celery_worker  # noqa: F401 -- real workers, for any test
from tests.factories import MembershipFactory, PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.mail_servers import dovecot, dovecot_missing, imap_server, smtp_server  # noqa: F401
from tests.signin import Client


def missing_services():
    checks = (
        (
            "DATABASE_URL (PostgreSQL)",
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        ),
        ("CELERY_BROKER_URL (Redis)", bool(settings.CELERY_BROKER_URL)),
    )
    return [name for name, present in checks if not present]


def missing_pg_tools():
    checks = (
        (
            "DATABASE_URL (PostgreSQL)",
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        ),
        ("pg_dump (postgresql-client)", shutil.which("pg_dump") is not None),
        ("pg_restore (postgresql-client)", shutil.which("pg_restore") is not None),
    )
    return [name for name, present in checks if not present]


def pytest_collection_modifyitems(items):
    """The longest tests first (marked `heavy`, then the browser journeys), the rest in file order:
    the worker that starts on the first half (`make test`: --dist worksteal) runs the long ones
    while plenty of short ones are left behind them to even out the end, which the other worker
    takes over once done with its own half, instead of one worker running a minute-long sweep
    alone after the other has finished.
    """

    def rank(item):
        return 0 if item.get_closest_marker("heavy") else 1 if "browser" in item.path.parts else 2

    items.sort(key=rank)


def pytest_runtest_setup(item):
    if item.get_closest_marker("imap") is not None and (reason := dovecot_missing()):
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test against a real IMAP server: {reason}")
        pytest.skip(reason)
    if item.get_closest_marker("pg_tools") is not None:
        missing = missing_pg_tools()
    elif item.get_closest_marker("services") is not None:
        missing = missing_services()
    else:
        return
    if not missing:
        return
    reason = "needs " + " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test against the real services: {reason}")
    pytest.skip(f"{reason}; CI sets them (see README)")


@pytest.fixture
def project(db):
    project = ProjectFactory(slug="acme", name="Acme", tracking_prefix="ACME")
    PolicyRevisionFactory(project=project)
    return project


@pytest.fixture
def other_project(db):
    return ProjectFactory(slug="other", name="Other", tracking_prefix="OTH")


@pytest.fixture
def maintainer(project):
    return MembershipFactory(project=project, role=Membership.Role.MAINTAINER).user


@pytest.fixture
def triager(project):
    return MembershipFactory(project=project, role=Membership.Role.TRIAGER).user


@pytest.fixture
def project_admin(project):
    return MembershipFactory(project=project, role=Membership.Role.ADMIN).user


@pytest.fixture
def other_member(other_project):
    return MembershipFactory(project=other_project, role=Membership.Role.ADMIN).user


@pytest.fixture
def reporter(db):
    return UserFactory(email="reporter@example.org")


@pytest.fixture
def collaborator(db):
    return UserFactory(email="collaborator@example.org")


@pytest.fixture
def stranger(db):
    return UserFactory(email="stranger@example.org")


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def cast(
    stranger, other_member, reporter, collaborator, triager, maintainer, project_admin, superuser
):
    """The whole cast by name; anonymous is None."""
    return {
        "anonymous": None,
        "stranger": stranger,
        "other_member": other_member,
        "reporter": reporter,
        "collaborator": collaborator,
        "triager": triager,
        "maintainer": maintainer,
        "project_admin": project_admin,
        "superuser": superuser,
    }


@pytest.fixture
def client():
    """A test client that signs people in as they do (tests/signin.py): `client.sign_in(user)`."""
    return Client()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's many rounds per test user would dominate the run time; hashing is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# A CNA of the test instance (a fixed random UUID): CVE exports exist only where one is set.
CVE_CNA_ORG_ID = "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
CVE_CNA_SHORT_NAME = "disclosure-test"


@pytest.fixture(autouse=True)
def _cve_cna(settings):
    """Every test runs as an instance configured as a CNA; tests of the unconfigured instance
    clear the two settings themselves.
    """
    settings.CVE_CNA_ORG_ID = CVE_CNA_ORG_ID
    settings.CVE_CNA_SHORT_NAME = CVE_CNA_SHORT_NAME


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks run inline in tests, also when CI sets CELERY_BROKER_URL: notification emails land in
    mailoutbox. Tests with a real worker opt out with the `celery_worker` fixture.
    """
    from celery.result import allow_join_result

    from disclosure.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # Each test may wait for a task's result, as a fresh process may. Celery marks the eager run
    # of a task in a process-wide flag, which threads running tasks at once (the concurrency
    # tests, the live server) can leave set: later tests of the worker then failed with "Never
    # call result.get() within a task!" (4 tests after tests/inbox/ in one run). A task that
    # waits for another still fails: the eager run sets the flag again inside.
    with allow_join_result():
        yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _private_cache(settings, request):
    """A fresh local cache per test: CI's shared Redis would carry allauth's rate limits, used
    TOTP codes and cooldowns from one test (or run) into the next. Local-memory caches of the
    same LOCATION share their store within a process, so each test names its own.
    """
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Transactional tests (live server, real workers, migrations) end with Django's flush, which
    empties every table with one TRUNCATE. On PostgreSQL that gives each of the ~50 tables and
    their indexes new files, for tables that hold a few rows: an empty transactional test's
    teardown took ~1.1 s here, ~0.5 s with DELETE (post_migrate's re-creation of the content
    types and permissions included; 8 tests, 3 runs each way). The foreign keys Django creates are
    deferred, so the tables are emptied in any order within the flush's transaction; neither way
    resets the sequences (pytest-django's reset_sequences still truncates), and post_migrate runs
    after both.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    truncate = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        delete = style.SQL_KEYWORD("DELETE FROM")
        return [f"{delete} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = truncate
