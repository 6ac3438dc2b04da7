"""CWE names come from the catalogue BSI's CSAF validator ships (its test 6.1.11 compares them)."""

from django.core.management import call_command

from advisories import cwe
from advisories.management.commands import refresh_cwe_catalogue


def test_name_of_a_known_weakness_is_its_official_name():
    assert cwe.name_of("CWE-79") == (
        "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
    )
    assert cwe.name_of("CWE-444") == (
        "Inconsistent Interpretation of HTTP Requests ('HTTP Request/Response Smuggling')"
    )


def test_name_of_an_unknown_weakness_is_none():
    assert cwe.name_of("CWE-999999") is None
    assert cwe.name_of("79") is None


def test_refresh_regenerates_the_vendored_catalogue_from_node_modules(tmp_path, monkeypatch):
    # Fails (never skips) without node or the package: `make install` runs npm ci. A difference
    # means package.json moved to a new validator release and the catalogue was not refreshed.
    target = tmp_path / "cwe_catalogue.json"
    monkeypatch.setattr(refresh_cwe_catalogue, "CATALOGUE_PATH", target)
    call_command("refresh_cwe_catalogue")
    assert target.read_text(encoding="utf-8") == cwe.CATALOGUE_PATH.read_text(encoding="utf-8")
