"""Affected ranges and the standard exports (OSV, CSAF 2.0, CVE JSON 5) of a published advisory.
Written against the official schemas vendored in tests/schemas/ (and validated there).
"""

import datetime
import re

from django.conf import settings
from django.urls import reverse

SERIES = re.compile(r"^(\d+)((?:\.(?:\d+|x))*)$")


def series_bounds(series):
    """("0.12.x") -> ("0.12.0", "0.12."), ("< 0.11") -> ("0", None, limit "0.11.0")."""
    label = series.strip()
    if label.startswith("<"):
        upper = label.lstrip("< ").strip()
        return "0", None, _padded(upper)
    fixed_part = label.split(".x", 1)[0]
    return _padded(fixed_part), fixed_part + ".", None


def _padded(version):
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def affected_ranges(advisory, matrix):
    """One range per affected series of the matrix, in matrix order: introduced at the series'
    first version, fixed at the advisory's fixed version of that series (if any), and a limit
    for "< x" rows (unsupported versions, never fixed).
    """
    ranges = []
    for series in matrix:
        if series not in advisory.affected_series:
            continue
        introduced, prefix, limit = series_bounds(series)
        fixed = next((v for v in advisory.fixed_versions if prefix and v.startswith(prefix)), None)
        ranges.append({"series": series, "introduced": introduced, "fixed": fixed, "limit": limit})
    return ranges


def _iso(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absolute(path):
    return settings.SITE_URL + path


def _matrix(advisory):
    return [v.series for v in advisory.report.revision.versions.all()]


def _cvss_type(vector):
    return "CVSS_V4" if vector.startswith("CVSS:4.0/") else "CVSS_V3"


def _page(advisory):
    return _absolute(reverse("advisories:advisory_page", args=[advisory.identifier]))


def _credits(advisory):
    """(public name, credit type) for every credit; anonymous credits carry no name at all."""
    return [(c.public_name, c.type) for c in advisory.credits.all()]


def osv(advisory):
    """OSV (https://ossf.github.io/osv-schema/) record of a published advisory."""
    project = advisory.project
    events = []
    for affected in affected_ranges(advisory, _matrix(advisory)):
        events.append({"introduced": affected["introduced"]})
        if affected["fixed"]:
            events.append({"fixed": affected["fixed"]})
        elif affected["limit"]:
            events.append({"limit": affected["limit"]})
    record = {
        "schema_version": "1.6.0",
        "id": advisory.identifier,
        "modified": _iso(advisory.updated_at),
        "published": _iso(advisory.published_at),
        "aliases": [i for i in (advisory.cve_id, advisory.ghsa_id) if i],
        "summary": advisory.summary,
        "details": advisory.details,
        "affected": [
            {
                "package": {"name": project.name, "ecosystem": "GIT"}
                if not project.repository_url
                else {"name": project.repository_url, "ecosystem": "GIT"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": _page(advisory)}]
        + [{"type": "WEB", "url": url} for url in advisory.references],
        "credits": [
            {"name": name, "type": credit_type.upper()} for name, credit_type in _credits(advisory)
        ],
        "database_specific": {"cwe_ids": [advisory.cwe] if advisory.cwe else []},
    }
    if advisory.cvss_vector:
        record["severity"] = [
            {"type": _cvss_type(advisory.cvss_vector), "score": advisory.cvss_vector}
        ]
    return record


def csaf(advisory):
    raise ValueError("CSAF export is written against the vendored schema; see tests")


def cve(advisory):
    raise ValueError("CVE export is written against the vendored schema; see tests")
