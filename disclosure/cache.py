"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's RedisCacheClient makes a new `redis.Redis` around its pool for every cache call, and
building one (its table of response callbacks) cost more CPU than the call itself: a signed-in
page reads its session and the queue's counts from the cache, two clients per request. A
client is a thin, thread-safe wrapper around its pool, so each pool keeps the one it made.
Everything else (pools, serializer, options) is Django's.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
