"""The Redis cache of production (disclosure.cache): Django's, reusing one Redis client."""

import uuid

import pytest
from django.conf import settings

from disclosure.cache import RedisCache

pytestmark = pytest.mark.services


@pytest.fixture
def redis_cache():
    # The run's cache database (REDIS_URL), else the broker's; keys of this test only.
    cache = RedisCache(
        settings.REDIS_URL or settings.CELERY_BROKER_URL,
        {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"},
    )
    yield cache
    cache.delete_many(["a", "b", "counts"])


def test_it_stores_reads_and_forgets_like_djangos(redis_cache):
    redis_cache.set("a", {"roles": [1, 2]}, timeout=60)
    redis_cache.set_many({"b": 2, "counts": (3, 1)}, timeout=60)
    assert redis_cache.get("a") == {"roles": [1, 2]}
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": {"roles": [1, 2]}, "b": 2}
    assert redis_cache.add("b", 5) is False
    redis_cache.delete("a")
    assert redis_cache.get("a", "gone") == "gone"
    assert redis_cache.incr("b") == 3


def test_calls_share_one_client_per_connection_pool(redis_cache):
    client = redis_cache._cache.get_client(write=False)
    assert redis_cache._cache.get_client(write=True) is client
    assert client.connection_pool is redis_cache._cache._get_connection_pool(False)
