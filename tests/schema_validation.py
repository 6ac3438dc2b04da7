"""Offline validation of exports against the official advisory-format schemas.

    errors = validate("osv", document)   # or "csaf", "csaf_provider", "cve", "cve_cna"...
    assert errors == [], errors

The schemas are unmodified copies of the released ones in tests/schemas/official/ (OSV 1.7.5,
CSAF 2.0 with FIRST's CVSS schemas and its provider and aggregator schemas, CVE JSON 5.1.1
record and CNA published container; sources and checksums in tests/schemas/README.md, and a
test checks the checksums), never copies rebuilt or edited to make a document pass.
Every schema is registered in one `referencing.Registry` under its own id and under the URIs the
schemas use for each other (CSAF 2.0 points at FIRST's CVSS schemas by URL), and the registry's
`retrieve` refuses everything else: a `$ref` to a schema that is not vendored raises
`referencing.exceptions.Unresolvable` instead of reaching for the network.

Formats are checked with `jsonschema.FormatChecker()`. jsonschema checks "date-time" and "uri"
only when its optional libraries (rfc3339-validator, rfc3987) are installed; where they are not,
the stdlib stand-ins below fill in, so a timestamp without a time zone or a relative URL is
still reported.
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
OFFICIAL_DIR = SCHEMA_DIR / "official"

# kind -> the official schema a document of that kind is validated against.
SCHEMAS = {
    "osv": "osv_schema.json",
    "csaf": "csaf_2.0_json_schema.json",
    # CSAF 2.0 provider metadata (provider-metadata.json) and aggregator (aggregator.json).
    "csaf_provider": "csaf_2.0_provider_json_schema.json",
    "csaf_aggregator": "csaf_2.0_aggregator_json_schema.json",
    "cve": "cve/CVE_JSON_bundled_5.1.1.json",
    # The CNA container alone (advisories.exports.cve_cna).
    "cve_cna": "cve/CVE_JSON_cnaPublishedContainer_5.1.1.json",
}

# Every schema, with the URIs other schemas use to reach it besides its own id. FIRST's released
# CVSS files: v3.1 carries a `$id` with a date query, v2.0 and v3.0 a draft-04 `id`; CSAF 2.0
# refers to all three by the bare URL, so both forms are registered.
RESOURCES = {
    "osv_schema.json": (),
    "csaf_2.0_json_schema.json": (),
    # The provider schema takes the publisher from the CSAF schema, the aggregator schema parts of
    # the provider's: by their ids, which the registry resolves to these copies.
    "csaf_2.0_provider_json_schema.json": (),
    "csaf_2.0_aggregator_json_schema.json": (),
    "first/cvss-v2.0.json": ("https://www.first.org/cvss/cvss-v2.0.json",),
    "first/cvss-v3.0.json": ("https://www.first.org/cvss/cvss-v3.0.json",),
    "first/cvss-v3.1.json": ("https://www.first.org/cvss/cvss-v3.1.json",),
    "cve/CVE_JSON_bundled_5.1.1.json": (),
    "cve/CVE_JSON_cnaPublishedContainer_5.1.1.json": (),
}

_RFC3339_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _refuse_retrieval(uri):
    """The registry's `retrieve`: nothing outside tests/schemas/ is ever fetched."""
    raise NoSuchResource(ref=uri)


def _load(relative_path):
    return json.loads((OFFICIAL_DIR / relative_path).read_text(encoding="utf-8"))


@cache
def registry():
    """All schemas, keyed by their ids and by the URIs they are referred to by."""
    resources = []
    for relative_path, aliases in RESOURCES.items():
        resource = Resource.from_contents(_load(relative_path))
        uris = {*aliases, (OFFICIAL_DIR / relative_path).as_uri()}
        if resource.id():
            uris.add(resource.id())
        resources.extend((uri, resource) for uri in sorted(uris))
    return Registry(retrieve=_refuse_retrieval).with_resources(resources).crawl()


def _is_rfc3339_date_time(instance):
    if not isinstance(instance, str):
        return True
    if not _RFC3339_DATE_TIME.match(instance):
        return False
    try:
        datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_absolute_uri(instance):
    if not isinstance(instance, str):
        return True
    if not _URI_SCHEME.match(instance) or any(c.isspace() for c in instance):
        return False
    try:
        urlsplit(instance)
    except ValueError:
        return False
    return True


@cache
def format_checker():
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(_is_rfc3339_date_time)
    if "uri" not in checker.checkers:
        checker.checks("uri")(_is_absolute_uri)
    return checker


@cache
def validator(kind):
    """The validator for `kind`, its class picked from the schema's own `$schema`."""
    if kind not in SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(SCHEMAS)}")
    schema = _load(SCHEMAS[kind])
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry(), format_checker=format_checker())


def _messages(error):
    """The "<JSON path>: <message>" lines for `error`.

    A document that matches none of the alternatives of a `oneOf`/`anyOf` (the CVE record is a
    oneOf of PUBLISHED and REJECTED) is reported by jsonschema as one error whose message repeats
    the whole instance. Its sub-errors are grouped by alternative instead, and those of the
    alternative that came closest (fewest errors) are reported where they occur.
    """
    if not error.context:
        yield f"{error.json_path}: {error.message}"
        return
    alternatives = {}
    for sub_error in error.context:
        alternatives.setdefault(sub_error.relative_schema_path[0], []).append(sub_error)
    closest = min(alternatives.values(), key=len)
    for sub_error in closest:
        yield from _messages(sub_error)


def validate(kind: str, document: dict) -> list[str]:
    """Every error of `document` against the official `kind` schema, as "<JSON path>: <message>",
    sorted. An empty list means the document is valid. `kind` is "osv", "csaf",
    "csaf_provider" (provider-metadata.json), "csaf_aggregator" (aggregator.json), "cve" or
    "cve_cna" (a CNA container).
    """
    errors = validator(kind).iter_errors(document)
    return sorted({message for error in errors for message in _messages(error)})
