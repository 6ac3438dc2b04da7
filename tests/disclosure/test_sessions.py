"""Session cookies (disclosure/sessions.py): only keys Django issues are looked up."""

import warnings

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.site_map import HOSTILE

pytestmark = pytest.mark.django_db


def session_lookups(client, cookie):
    """Queries of the session table while the home page is answered with `cookie`."""
    client.cookies["sessionid"] = cookie.encode().decode("latin-1")  # as WSGI hands it on
    cache.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a CacheKeyWarning: the value reached the cache
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/")
    assert response.status_code == 200
    return [query for query in queries.captured_queries if "django_session" in query["sql"]]


@pytest.mark.parametrize("cookie", [*HOSTILE, "a" * 31, "a" * 33, "A" * 32, "abcdefgh"])
def test_a_cookie_that_is_no_session_key_is_not_looked_up(client, cookie):
    assert session_lookups(client, cookie) == []


def test_an_unknown_key_of_the_right_shape_is_looked_up_and_finds_nothing(client):
    assert len(session_lookups(client, "0123456789abcdefghijklmnopqrstuv")) == 1


def test_a_real_session_survives_its_eviction_from_the_cache(client, reporter):
    client.sign_in(reporter)
    assert client.get("/reports/").status_code == 200
    cache.clear()  # evicted: the database still has it, nobody is signed out
    response = client.get("/reports/")
    assert response.status_code == 200
    assert response.wsgi_request.user == reporter
