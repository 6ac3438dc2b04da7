"""projects/precompiled.py: a values_list query written once and run again with new parameters
gives what the queryset gives, the ORM's value converters applied on every run (SQLite's
booleans and datetimes), worked out once per connection."""

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models.sql.compiler import SQLCompiler

from projects.precompiled import Precompiled


@pytest.mark.django_db(transaction=True)
def test_rows_convert_like_the_queryset_and_ask_for_the_converters_once(monkeypatch):
    users = get_user_model().objects
    active = users.create_user("a", "a@example.org", is_active=True)
    inactive = users.create_user("b", "b@example.org", is_active=False)
    compiled = Precompiled.of(
        users.filter(pk=0).values_list("pk", "is_active", "date_joined", "last_login")
    )
    asked = []
    get_converters = SQLCompiler.get_converters

    def counted(self, expressions):
        asked.append(self.connection)
        return get_converters(self, expressions)

    monkeypatch.setattr(SQLCompiler, "get_converters", counted)

    for user in (active, inactive, active):
        expected = users.filter(pk=user.pk).values_list(
            "pk", "is_active", "date_joined", "last_login"
        )
        assert compiled.rows((user.pk,)) == list(expected)
    [(_, is_active, joined, last_login)] = compiled.rows((active.pk,))
    assert is_active is True
    assert joined.tzinfo is not None
    assert joined.utcoffset() == dt.timedelta(0)
    assert last_login is None
    # The queryset above asked each time; the precompiled query once, on its first run.
    assert asked.count(connections["default"]) == 3 + 1

    # Another thread has a connection of its own, and converters worked out for it.
    seen = []

    def other_thread():
        try:
            seen.append(compiled.rows((inactive.pk,)))
        finally:
            connections.close_all()  # its own connection, closed before the test database goes

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [list(users.filter(pk=inactive.pk).values_list(
        "pk", "is_active", "date_joined", "last_login"
    ))]  # fmt: skip
    assert len(asked) == 3 + 1 + 1 + 1  # the thread's first run, and the queryset above
