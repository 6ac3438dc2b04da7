"""The session store: Django's cached_db (the cache first, the database behind it), refusing
keys Django never issues before they reach either.

Django makes every session key of 32 lowercase letters and digits, but accepts any cookie value
of 8 characters or more and looks it up: a 10,000-character or NUL-laden cookie became a cache
key (and a database query) on every request. Such a cookie now means no session, as an unknown
key does, at no cost.
"""

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

KEY_LENGTH = 32  # SessionBase._get_new_session_key


class SessionStore(cached_db.SessionStore):
    def _validate_session_key(self, key):
        return (
            isinstance(key, str)
            and len(key) == KEY_LENGTH
            and all(character in VALID_KEY_CHARS for character in key)
        )
