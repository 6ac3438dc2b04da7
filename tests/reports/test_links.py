"""reports.links.paths: a route's path around its argument worked out once, the same paths as
`reverse` gives each argument."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from reports import links

ARGUMENTS = ["STW-2026-0001", "acme", "a_b-c", "Ä B%1", "x~y_z.1", "a/b", "PLACEHOLDER-0"]


@pytest.mark.parametrize("name", ["reports:detail", "reports:sla_dashboard", "projects:members"])
def test_gives_what_reverse_gives(name):
    path = links.paths(name)
    for argument in ARGUMENTS:
        try:
            expected = reverse(name, args=[argument])
        except NoReverseMatch:  # not a slug: refused as reverse refuses it
            with pytest.raises(NoReverseMatch):
                path(argument)
        else:
            assert path(argument) == expected


def test_follows_the_script_prefix():
    try:
        set_script_prefix("/disclosure/")
        assert links.paths("reports:sla_dashboard")("acme") == "/disclosure/projects/acme/sla/"
        assert links.detail_paths()("STW-1") == "/disclosure/reports/STW-1/"
    finally:
        set_script_prefix("/")
    assert links.detail_paths()("STW-1") == "/reports/STW-1/"


def test_reverses_a_route_once(monkeypatch):
    links._around.cache_clear()
    calls = []
    monkeypatch.setattr(links, "reverse", lambda *a, **k: calls.append(a) or reverse(*a, **k))
    for _ in range(3):
        assert links.paths("projects:members")("acme") == "/projects/acme/members/"
    assert len(calls) == 1
