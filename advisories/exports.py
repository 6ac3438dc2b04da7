"""Affected ranges and the standard exports (OSV, CSAF 2.0, CVE JSON 5.1) of a published advisory.
Written against the official schemas, copied unmodified into tests/schemas/official/ (and
validated there).

Each export is a pure function of a published advisory (it reads the advisory, its credits, its
project and the version matrix of the report's policy revision, nothing else) and returns a dict.
Decisions shared by the three formats:

- Affected versions come from the version matrix: one range per affected series, from the
  series' first version to the advisory's fixed version in that series; a "< x" row (unsupported,
  never fixed) ends at x; a supported series without a fix of its own ends where the series
  ends (0.13.x -> 0.14.0), since every release of it is affected. Versions are read as semantic
  versions (the matrices are "0.13.x", "1.x.x", "< 0.11").
- Anonymous credits are left out entirely, in every format: no name, no handle, no placeholder.
  Nothing about a credited person is read beyond `Credit.public_name`; never the user account.
- Package identity (projects.identity, set per project in the admin): a project that publishes
  a package in an OSV ecosystem is named by it (OSV `package`, CVE `collectionURL` and
  `packageName`), and its purl and CPE identify each CSAF product (with the product's version
  where it is one) and the CVE `cpes`. A project without one (Stalwart is a server released from
  its repository, not a crates.io package) is named by its repository: OSV GIT ranges on the
  fix commits, the CVE `repo`. Nothing about a project's identity is ever made up from its name:
  a CVE record without a stated vendor says "n/a", as the CVE schema allows.
- OSV (1.7.5): ranges from the version matrix, SEMVER or, for ecosystems that do not enforce
  semantic versions, ECOSYSTEM (or the affected versions, see `osv`); a GIT range on the
  repository when the fix commits are known. `affected[].database_specific` says which project
  the record is about. CVSS 3.x and 4.0 are `severity`.
- CSAF 2.0 has no CVSS 4.0 either: a 4.0 vector is given as a vulnerability note, not a score.
  Its canonical URL (`self`) is the §5.1 location of the document on this provider,
  /.well-known/csaf/white/<year of the initial release>/<csaf_filename>, served there; its
  `cwe.name` is the official name from the catalogue BSI's validator checks against
  (advisories.cwe); its keys are sorted (CSAF recommended test 6.2.13).
- CVE: a record needs a CVE ID, so `cve()` and `cve_cna()` raise `NoCveId` for an advisory
  without one (the download answers 404), and the CNA that assigned it: its org id and short
  name come from the settings CVE_CNA_ORG_ID and CVE_CNA_SHORT_NAME, and without them both raise
  `CveNotConfigured` rather than invent an org id CVE Services would refuse. `cve_cna()` is the
  CNA container alone (what CVE Services' publish call takes, wrapped there as
  {"cnaContainer": ...}); the record's containers.cna is exactly that container. Descriptions
  and workarounds are Markdown here: the CVE `value` is its plain-text rendering (CVE consumers
  show it as text) and the Markdown itself rides along in `supportingMedia`.

Revisions (advisories.revisions): the publication is revision 1, each amendment and the
withdrawal one more (Advisory.history). Every format gives the first publication, the time of
the last revision and the history:
- OSV: `published` stays the first publication, `modified` is the last revision; the history is
  in `database_specific.revisions` (OSV has no field for it). A withdrawn record has
  `withdrawn` and, as the OSV specification asks, the rationale in its `summary`.
- CSAF 2.0: `document.tracking` has one revision_history entry per revision (summary: the
  reason), `version` is the last number, `current_release_date` its date. CSAF 2.0 has no
  withdrawn status (2.1 adds a profile for it): a withdrawn advisory stays `final` with its
  withdrawal as the last revision and a `general` document note saying so.
- CVE: `dateUpdated` in cveMetadata and the CNA's providerMetadata; the history as the CNA
  container's `timeline`. A withdrawn advisory's record is REJECTED: the schema's rejected
  form keeps the metadata and the CNA's providerMetadata with `rejectedReasons`, and allows no
  timeline, so the history goes to its `x_` extension, `x_revisionHistory`.
- The OSV `id` is the identifier behind the OSV_ID_PREFIX setting: the official OSV schema
  accepts only the registered prefixes of known databases, or `x_` for any other.
"""

import datetime
import io
import json
import re
import zipfile
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from advisories import cwe
from advisories.models import VERSION, Credit
from projects import identity
from projects.markdown import markdown_to_text
from reports import cvss

SERIES = re.compile(r"^(\d+)((?:\.(?:\d+|x))*)$")
CVE_TEXT_LIMIT = 4096  # maxLength of every free text of a CVE record
CVE_MEDIA_LIMIT = 16384  # maxLength of a supporting media value


class NoCveId(LookupError):  # noqa: N818 -- the name the views map to 404
    """The advisory has no CVE ID, so there is no CVE record to give."""


class CveNotConfigured(LookupError):  # noqa: N818 -- pairs with NoCveId
    """The instance names no CNA (CVE_CNA_ORG_ID, CVE_CNA_SHORT_NAME): no CVE documents."""


CVE_NOT_CONFIGURED = "CVE export needs configuring: set CVE_CNA_ORG_ID and CVE_CNA_SHORT_NAME"


class NotPublishedError(ValueError):
    """Exports exist for published advisories only; a draft must never be exported."""


def series_bounds(series):
    """("0.12.x") -> ("0.12.0", "0.12.", None); ("< 0.11") -> ("0", None, "0.11.0"): the first
    version of the series, the prefix its versions share, and the limit of a "< x" row.
    """
    label = series.strip()
    if label.startswith("<"):
        upper = label.lstrip("< ").strip()
        return "0", None, _padded(upper)
    fixed_part = label.split(".x", 1)[0]
    return _padded(fixed_part), fixed_part + ".", None


def _padded(version):
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def _series_end(prefix):
    """The first version after a series: "0.13." -> "0.14.0", "1." -> "2.0.0"."""
    parts = prefix.rstrip(".").split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return _padded(".".join(parts))


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


def _ranges(advisory):
    """affected_ranges with the exclusive upper bound of each range under "end": the fixed
    version, the limit of a "< x" row, or the end of a series that has no fix of its own.
    """
    ranges = []
    for affected in affected_ranges(advisory, _matrix(advisory)):
        _, prefix, _ = series_bounds(affected["series"])
        end = affected["fixed"] or affected["limit"] or _series_end(prefix)
        ranges.append({**affected, "end": _padded(end)})
    return ranges


# --- Shared reading of the advisory -------------------------------------------------------------


def _published(advisory):
    if not advisory.is_published or advisory.published_at is None:
        raise NotPublishedError(f"{advisory.identifier} is not published.")
    return advisory


def iso_timestamp(moment):
    """A time as every export gives it: UTC, to the second, with "Z" (RFC 3339)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def absolute_url(name, *args):
    """The full address of a named route, on this instance's SITE_URL: what every export links."""
    return settings.SITE_URL + reverse(name, args=args)


def _matrix(advisory):
    return [v.series for v in advisory.report.revision.versions.all()]


def _page(advisory):
    return absolute_url("advisories:advisory_page", advisory.identifier)


def _unique(items):
    return list(dict.fromkeys(items))


def _history(advisory):
    """[{"number", "date", "summary"}] of the advisory's revisions, oldest first."""
    return [
        {"number": str(r.number), "date": iso_timestamp(r.created_at), "summary": r.summary}
        for r in advisory.history()
    ]


def _withdrawal_notice(advisory):
    return (
        f"{advisory.identifier} was withdrawn on {advisory.withdrawn_at:%Y-%m-%d}: "
        f"{advisory.withdrawn_reason}"
    )


def _external_references(advisory):
    """The advisory's references without the page itself and without repeats."""
    page = _page(advisory)
    return [url for url in _unique(advisory.references) if url != page]


def _named_credits(advisory):
    """(public name, credit type) of the credits that name someone. Anonymous credits are left
    out, and so is a credit that has nothing to show (public_name would say "Anonymous").
    """
    return _unique(
        (credit.public_name, credit.type)
        for credit in advisory.credits.all()
        if credit.display != Credit.Display.ANONYMOUS and (credit.name or credit.handle)
    )


# --- CVSS ---------------------------------------------------------------------------------------


def _cvss(advisory):
    """{"version", "vectorString", "baseScore", "baseSeverity"} of the advisory's vector, or None.
    The severity is derived from the score with the CVSS bands (the same for 3.x and 4.0), so
    it always matches the score, as the CVE schema checks.
    """
    vector = advisory.cvss_vector.strip()
    if not vector:
        return None
    score = advisory.cvss_score
    if score is None:  # the scoring task has not run yet
        score = cvss.score(vector).base_score
    score = float(Decimal(str(score)).quantize(Decimal("0.1")))
    return {
        "version": vector[len("CVSS:") : len("CVSS:") + 3],
        "vectorString": vector,
        "baseScore": score,
        "baseSeverity": _severity(score),
    }


def _severity(score):
    if score == 0:
        return "NONE"
    if score < 4:
        return "LOW"
    if score < 7:
        return "MEDIUM"
    if score < 9:
        return "HIGH"
    return "CRITICAL"


# --- OSV ----------------------------------------------------------------------------------------

OSV_SCHEMA_VERSION = "1.7.5"

# Reference types (OSV "references[].type") told from the URL, first match wins. The advisory's
# own page is ADVISORY; links nobody can classify stay WEB.
OSV_REFERENCE_TYPES = (
    ("ADVISORY", re.compile(r"/advisories/GHSA-|/security/advisories/|//www\.cve\.org/|nvd\.nist")),
    ("FIX", re.compile(r"/commit/|/commits/|/pull/|/merge_requests/|/compare/|\.(patch|diff)$")),
    ("REPORT", re.compile(r"/issues/\d|bugzilla|hackerone\.com/reports/")),
    (
        "PACKAGE",
        re.compile(
            r"//(crates\.io/crates|pypi\.org/project|www\.npmjs\.com/package|pkg\.go\.dev"
            r"|rubygems\.org/gems|packagist\.org/packages|www\.nuget\.org/packages"
            r"|pub\.dev/packages|hex\.pm/packages|mvnrepository\.com/artifact)/"
        ),
    ),
)


def osv(advisory):
    """OSV 1.7.5 (https://ossf.github.io/osv-schema/) record of a published advisory.

    Which software: the project's package (ecosystem, name, purl) where it has one, else none;
    `database_specific` names the project either way. What is affected: ranges from the version
    matrix (`_osv_ranges`, of the ecosystem's range type; SEMVER without a package); where the
    matrix gives none (a project without a matrix, TeamMail), the versions the advisory knows to
    be affected are enumerated instead (`_osv_versions`), so the record never says "nothing".
    With the fix commits and the project's repository, a GIT range too (`_osv_git_range`); the
    OSV spec asks for the enumerated versions beside GIT and ECOSYSTEM ranges, so they are given
    there as well. The dates come from the revision history: `published` is revision 1,
    `modified` the last revision, `withdrawn` the withdrawal revision.
    """
    advisory = _published(advisory)
    project = advisory.project
    history = advisory.history()
    affected = {}
    ecosystem = project.ecosystem
    if ecosystem is not None:
        affected["package"] = {"ecosystem": ecosystem.name, "name": project.package_name}
        if project.purl:
            affected["package"]["purl"] = project.purl
    affected["database_specific"] = {
        "project": project.slug,
        "name": project.name,
        **({"repository": project.repository_url} if project.repository_url else {}),
        "fixed_versions": list(advisory.fixed_versions),
    }
    range_type = ecosystem.range_type if ecosystem else identity.SEMVER
    ranges = _osv_ranges(advisory, range_type)
    git = _osv_git_range(advisory)
    # SEMVER ranges say it all; without ranges, or beside ECOSYSTEM or GIT ones, the versions
    # known to be affected are enumerated.
    enumerated = not ranges or range_type != identity.SEMVER or git is not None
    versions = _osv_versions(advisory) if enumerated else []
    if versions:
        affected["versions"] = versions
    elif not ranges and advisory.fixed_versions:
        # Nothing known but the fix: every earlier release is what the advisory is about.
        first_fix = min(advisory.fixed_versions, key=_semver_key)
        ranges = [{"type": range_type, "events": [{"introduced": "0"}, {"fixed": first_fix}]}]
    if git:
        ranges = [*ranges, git]
    if ranges:
        affected["ranges"] = ranges
    record = {
        "schema_version": OSV_SCHEMA_VERSION,
        "id": osv_id(advisory),
        "modified": iso_timestamp(history[-1].created_at),
        "published": iso_timestamp(history[0].created_at),
        "summary": advisory.summary,
        "details": advisory.details,
        "affected": [affected],
        "references": [{"type": "ADVISORY", "url": _page(advisory)}]
        + [
            {"type": _osv_reference_type(url), "url": url} for url in _external_references(advisory)
        ],
        "database_specific": {
            "cwe_ids": [advisory.cwe] if advisory.cwe else [],
            "revisions": _history(advisory),
        },
    }
    aliases = [i for i in (advisory.cve_id, advisory.ghsa_id) if i]
    if aliases:  # OSV consumers read an empty list as a claim; leave it out instead
        record["aliases"] = aliases
    withdrawal = next((r for r in history if r.kind == r.Kind.WITHDRAWN), None)
    if withdrawal is not None:
        record["withdrawn"] = iso_timestamp(withdrawal.created_at)
        record["summary"] = "Withdrawn: " + " ".join(advisory.withdrawn_reason.split())
        record["details"] = f"**{_withdrawal_notice(advisory)}**\n\n{advisory.details}"
    credits = [{"name": name, "type": kind.upper()} for name, kind in _named_credits(advisory)]
    if credits:
        record["credits"] = credits
    score = _cvss(advisory)
    if score:
        kind = "CVSS_V3" if score["version"].startswith("3.") else "CVSS_V4"
        record["severity"] = [{"type": kind, "score": score["vectorString"]}]
    return record


def _semver_key(version):
    return tuple(int(part) for part in _padded(version).split("."))


def _osv_git_range(advisory):
    """The GIT range of the fix commits in the project's repository, or None: introduced at the
    commit that introduced the vulnerability ("0": from the first commit, when it is not known),
    fixed at each fix commit (one per branch, as the OSV spec asks, so other branches are not
    matched by mistake). Without fix commits there is no GIT range: nothing else is a commit.
    """
    repository = advisory.project.repository_url
    if not (repository and advisory.fix_commits):
        return None
    return {
        "type": "GIT",
        "repo": repository,
        "events": [
            {"introduced": advisory.introduced_commit or "0"},
            *({"fixed": commit} for commit in advisory.fix_commits),
        ],
    }


def _osv_ranges(advisory, range_type=identity.SEMVER):
    """Ranges (SEMVER or ECOSYSTEM) of the affected series, adjacent or overlapping ones
    merged, each as introduced/fixed. OSV's `limit` is for GIT ranges only, so a range never
    ends in one: the end of a merged range is the first version the advisory does not call
    affected (its fix, the next series, or the bound of a "< x" row). Merging keeps that true:
    0.12.x without a fix of its own next to an affected 0.13.x is one range ending at 0.13.x's
    fix, not a range "fixed" at 0.13.0, which is itself affected.
    """
    intervals = sorted(
        (_semver_key(r["introduced"]), _semver_key(r["end"]), r) for r in _ranges(advisory)
    )
    merged = []
    for start, end, affected in intervals:
        if merged and start <= merged[-1]["end_key"]:
            last = merged[-1]
            if end > last["end_key"]:
                last["end_key"], last["end"] = end, affected["end"]
            last["series"].append(affected["series"])
            continue
        merged.append(
            {
                "introduced": affected["introduced"],
                "end": affected["end"],
                "end_key": end,
                "series": [affected["series"]],
            }
        )
    return [
        {
            "type": range_type,
            "events": [{"introduced": r["introduced"]}, {"fixed": r["end"]}],
            "database_specific": {"series": r["series"]},
        }
        for r in merged
    ]


def _osv_versions(advisory):
    """The versions known to be affected where the matrix gives no range: the version the
    reporter found affected and any exact versions among the report's affected versions.
    """
    report = advisory.report
    candidates = [report.affected_version, *report.affected_versions]
    return _unique(v.strip() for v in candidates if v and VERSION.match(v.strip()))


def _osv_reference_type(url):
    return next((kind for kind, pattern in OSV_REFERENCE_TYPES if pattern.search(url)), "WEB")


def osv_archive(advisories):
    """A zip of the advisories' OSV records, one `<id>.json` each (the layout of OSV.dev's own
    per-ecosystem all.zip, which importers and mirrors read). Each entry is dated with its
    record's `modified`, so the archive changes only when a record does.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for advisory in advisories:
            record = osv(advisory)
            modified = advisory.history()[-1].created_at.astimezone(datetime.UTC)
            entry = zipfile.ZipInfo(f"{record['id']}.json", date_time=modified.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, json.dumps(record, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def osv_listing(advisories):
    """[{"id", "modified", "url"}] of the advisories' OSV records, newest change first: what an
    importer polls to fetch only the records that changed (OSV.dev's modified_id.csv, as JSON).
    """
    listing = [
        {
            "id": osv_id(advisory),
            "modified": iso_timestamp(advisory.history()[-1].created_at),
            "url": absolute_url("advisories:osv", advisory.identifier),
        }
        for advisory in advisories
    ]
    return sorted(listing, key=lambda entry: (entry["modified"], entry["id"]), reverse=True)


def osv_id(advisory):
    """The OSV id: the instance's OSV_ID_PREFIX (a registered prefix or "x_...", the only ones
    OSV.dev accepts), "-", and the identifier.
    """
    return f"{settings.OSV_ID_PREFIX}-{advisory.identifier}"


# --- CSAF 2.0 -----------------------------------------------------------------------------------


def csaf(advisory):
    """CSAF 2.0 security advisory (https://docs.oasis-open.org/csaf/csaf/v2.0/) of a published
    advisory, published by this platform as coordinator. The product tree has one
    product_version_range per affected series (a vers range, e.g. "vers:semver/>=0.13.0|<0.13.4")
    and one product_version per fixed version. A project without a version matrix (TeamMail)
    has no affected series: its known affected product is then the project's releases without
    the fix, a full product name, since which versions those are is not known.
    """
    advisory = _published(advisory)
    project = advisory.project
    ranges = _ranges(advisory)
    affected_ids = [f"CSAFPID-{n:04d}" for n in range(1, len(ranges) + 1)]
    fixed_ids = {
        version: f"CSAFPID-{n:04d}"
        for n, version in enumerate(advisory.fixed_versions, start=len(ranges) + 1)
    }
    branches = [
        _csaf_branch(
            "product_version_range",
            _vers(r),
            {"name": f"{project.name} {r['series']}", "product_id": pid},
            project,
        )
        for r, pid in zip(ranges, affected_ids, strict=True)
    ] + [
        _csaf_branch(
            "product_version",
            version,
            {"name": f"{project.name} {version}", "product_id": pid},
            project,
            version=version,
        )
        for version, pid in fixed_ids.items()
    ]
    product_tree = {}
    if branches:
        product = {"category": "product_name", "name": project.name, "branches": branches}
        # The vendor as the project states it; without one the tree starts at the product
        # rather than present the project's name as its vendor.
        product_tree["branches"] = [
            {"category": "vendor", "name": project.vendor, "branches": [product]}
            if project.vendor
            else product
        ]
    if not ranges:
        unfixed = f"CSAFPID-{len(fixed_ids) + 1:04d}"
        affected_ids = [unfixed]
        product_tree["full_product_names"] = [
            _csaf_product({"name": _unfixed_releases(advisory), "product_id": unfixed}, project)
        ]
    document = {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en",
        "distribution": {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}},
        "publisher": csaf_publisher(),
        "title": advisory.title,
        "tracking": _csaf_tracking(advisory),
        "notes": [{"category": "summary", "title": "Summary", "text": advisory.summary}],
        "references": [
            {
                "category": "self",
                "summary": f"{advisory.identifier} as CSAF 2.0 on {settings.SITE_NAME}",
                "url": csaf_url(advisory),
            },
            {
                "category": "external",
                "summary": f"{advisory.identifier} on {settings.SITE_NAME}",
                "url": _page(advisory),
            },
        ],
    }
    if advisory.is_withdrawn:
        document["notes"].insert(
            0, {"category": "general", "title": "Withdrawn", "text": _withdrawal_notice(advisory)}
        )
    acknowledgments = [
        {"names": [name], "summary": Credit.Type(kind).label}
        for name, kind in _named_credits(advisory)
    ]
    if acknowledgments:
        document["acknowledgments"] = acknowledgments
    return _sorted_keys(
        {
            "document": document,
            "product_tree": product_tree,
            "vulnerabilities": [
                _csaf_vulnerability(advisory, ranges, affected_ids, list(fixed_ids.values()))
            ],
        }
    )


def csaf_filename(advisory):
    """The §5.1 file name: the tracking id in lower case, other characters than + - a-z 0-9
    replaced by "_", and ".json" (what CSAF test 6.2.11 expects the canonical URL to end with).
    """
    return re.sub(r"[^+\-a-z0-9]+", "_", advisory.identifier.lower()) + ".json"


def csaf_publisher():
    """The issuing party of every CSAF document and of the provider metadata (one value for
    both): the platform, as coordinator, since it publishes on behalf of the projects it hosts.
    """
    return {"category": "coordinator", "name": settings.SITE_NAME, "namespace": settings.SITE_URL}


def csaf_year(advisory):
    """The §5.1 directory: the year of the initial release, the first publication (revision 1
    of the history is `published_at`; read directly, so listings need no revisions).
    """
    return advisory.published_at.astimezone(datetime.UTC).year


def csaf_url(advisory):
    year, filename = csaf_year(advisory), csaf_filename(advisory)
    return absolute_url("advisories:csaf_distribution", year, filename)


def _sorted_keys(value):
    """The same JSON with every object's keys in alphabetical order: CSAF recommended test
    6.2.13 asks for it, so a diff of two documents shows content changes only.
    """
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _unfixed_releases(advisory):
    name = advisory.project.name
    if advisory.fixed_versions:
        return f"{name} releases without the fix ({', '.join(advisory.fixed_versions)})"
    return f"{name} (every release)"


def _csaf_tracking(advisory):
    """Version and dates from the revision history: the version is the last revision's number
    (CSAF test 6.1.16) and the current release its date, the initial release revision 1's.
    """
    history = _history(advisory)
    return {
        "id": advisory.identifier,
        "status": "final",
        "version": history[-1]["number"],
        "revision_history": history,
        "initial_release_date": history[0]["date"],
        "current_release_date": history[-1]["date"],
    }


def _vers(affected):
    """The vers range (https://github.com/package-url/purl-spec, VERS) of an affected range."""
    end = f"<{affected['end']}"
    if affected["introduced"] == "0":
        return f"vers:semver/{end}"
    return f"vers:semver/>={affected['introduced']}|{end}"


def _csaf_branch(category, name, product, project, version=None):
    return {
        "category": category,
        "name": name,
        "product": _csaf_product(product, project, version),
    }


def _csaf_product(product, project, version=None):
    """The full product name with its identification helper: the project's purl and CPE, with
    `version` where the product is that one version. A range or "every release" product keeps
    the purl without version (CSAF 2.0's purl pattern allows it) and the CPE's `*`. A project
    without either has no helper to give (CSAF recommended test 6.2.16 says so, rightly).
    """
    helper = {}
    if project.purl:
        helper["purl"] = identity.purl_at(project.purl, version)
    if project.cpe:
        helper["cpe"] = identity.cpe_at(project.cpe, version)
    if helper:
        product = {**product, "product_identification_helper": helper}
    return product


def _csaf_vulnerability(advisory, ranges, affected_ids, fixed_ids):
    vulnerability = {}
    if advisory.cve_id:
        vulnerability["cve"] = advisory.cve_id
    name = cwe.name_of(advisory.cwe) if advisory.cwe else None
    if name:
        # CSAF test 6.1.11 rejects any name but the official one, and an id the validator's
        # catalogue does not know, so such an id is left out rather than named wrongly.
        vulnerability["cwe"] = {"id": advisory.cwe, "name": name}
    vulnerability["ids"] = [
        {"system_name": f"{settings.SITE_NAME} advisory", "text": advisory.identifier}
    ]
    if advisory.ghsa_id:
        vulnerability["ids"].append(
            {"system_name": "GitHub Security Advisories", "text": advisory.ghsa_id}
        )
    vulnerability["title"] = advisory.title
    vulnerability["release_date"] = iso_timestamp(advisory.published_at)
    vulnerability["notes"] = [
        {"category": "summary", "title": "Summary", "text": advisory.summary},
        {
            "category": "description",
            "title": "Details",
            "text": advisory.details or advisory.summary,
        },
    ]
    status = {}
    if affected_ids:
        status["known_affected"] = affected_ids
    if fixed_ids:
        status["fixed"] = fixed_ids
        status["recommended"] = fixed_ids
    if status:
        vulnerability["product_status"] = status
    remediations = _csaf_remediations(advisory, ranges, affected_ids)
    if remediations:
        vulnerability["remediations"] = remediations
    score = _cvss(advisory)
    if score and score["version"].startswith("3.") and affected_ids:
        vulnerability["scores"] = [{"products": affected_ids, "cvss_v3": score}]
    elif score and not score["version"].startswith("3."):
        # CSAF 2.0 scores know CVSS v2 and v3 only.
        vulnerability["notes"].append(
            {
                "category": "other",
                "title": f"CVSS v{score['version']}",
                "text": f"{score['vectorString']} (base score {score['baseScore']}, "
                f"{score['baseSeverity'].lower()})",
            }
        )
    references = [
        {"category": "external", "summary": "Reference", "url": url}
        for url in _external_references(advisory)
    ]
    if references:
        vulnerability["references"] = references
    return vulnerability


def _csaf_remediations(advisory, ranges, affected_ids):
    project = advisory.project
    upgrade = _upgrade_sentence(advisory)
    remediations = []
    for affected, product_id in zip(ranges, affected_ids if ranges else [], strict=True):
        if affected["fixed"]:
            category = "vendor_fix"
            details = f"Upgrade to {project.name} {affected['fixed']} or a later version."
        elif affected["limit"]:
            category = "no_fix_planned"
            details = f"{project.name} {affected['series']} is not supported. {upgrade}"
        else:
            category = "none_available"
            details = f"No fixed release of {project.name} {affected['series']}. {upgrade}"
        remediations.append(
            {
                "category": category,
                "details": details,
                "product_ids": [product_id],
                "url": _page(advisory),
            }
        )
    if not ranges:
        # The project's releases without the fix are the one known affected product.
        category = "vendor_fix" if advisory.fixed_versions else "none_available"
        remediations.append(
            {
                "category": category,
                "details": upgrade,
                "product_ids": affected_ids,
                "url": _page(advisory),
            }
        )
    if advisory.workaround:
        workaround = {"category": "workaround", "details": advisory.workaround}
        if affected_ids:
            workaround["product_ids"] = affected_ids
        remediations.append(workaround)
    return remediations


def _upgrade_sentence(advisory):
    versions = [f"{advisory.project.name} {v}" for v in advisory.fixed_versions]
    if not versions:
        return "No fixed release is available yet."
    return f"Upgrade to a fixed release: {', '.join(versions)}."


# --- CVE JSON 5.1 -------------------------------------------------------------------------------


def cve_configured():
    """Whether this instance names the CNA its CVE documents come from (both settings set)."""
    return bool(settings.CVE_CNA_ORG_ID and settings.CVE_CNA_SHORT_NAME)


def has_cve_documents(advisory):
    """Whether the CVE downloads of `advisory` exist: the pages link them only then."""
    return bool(advisory.cve_id) and cve_configured()


def _cve_checked(advisory):
    advisory = _published(advisory)
    if not advisory.cve_id:
        raise NoCveId(f"{advisory.identifier} has no CVE ID.")
    if not cve_configured():
        raise CveNotConfigured(CVE_NOT_CONFIGURED)
    return advisory


def _cna_provider(advisory):
    return {
        "orgId": settings.CVE_CNA_ORG_ID,
        "shortName": settings.CVE_CNA_SHORT_NAME,
        "dateUpdated": iso_timestamp(advisory.modified_at),
    }


def cve(advisory):
    """CVE JSON 5.1 record (https://github.com/CVEProject/cve-schema) of a published advisory with
    a CVE ID, its CNA container being `cve_cna(advisory)`; NoCveId without a CVE ID,
    CveNotConfigured without the CNA settings. A withdrawn advisory's record is REJECTED.
    """
    advisory = _cve_checked(advisory)
    metadata = {
        "cveId": advisory.cve_id,
        "assignerOrgId": settings.CVE_CNA_ORG_ID,
        "assignerShortName": settings.CVE_CNA_SHORT_NAME,
        "state": "REJECTED" if advisory.is_withdrawn else "PUBLISHED",
        "datePublished": iso_timestamp(advisory.published_at),
        "dateUpdated": iso_timestamp(advisory.modified_at),
    }
    if advisory.is_withdrawn:
        metadata["dateRejected"] = iso_timestamp(advisory.withdrawn_at)
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": metadata,
        "containers": {"cna": cve_cna(advisory)},
    }


def cve_cna(advisory):
    """The CNA container of the advisory's CVE record: what the CNA submits to CVE Services
    (valid against CVE JSON 5.1's cnaPublishedContainer schema). Affected: one semver range per
    affected series ("lessThan" the fixed version, the limit of a "< x" row or the end of an
    unfixed series); every other version is unaffected. For a project without a version matrix
    only the fixed versions are known: they are listed as unaffected and the rest is "unknown".
    A withdrawn advisory gives the rejected container (what CVE Services' reject call takes).
    """
    advisory = _cve_checked(advisory)
    if advisory.is_withdrawn:
        return _cve_rejected_container(advisory)
    ranges = _ranges(advisory)
    product = _cve_product(advisory.project)
    if ranges:
        product["versions"] = [
            {
                "version": r["introduced"],
                "status": "affected",
                "lessThan": r["end"],
                "versionType": "semver",
            }
            for r in ranges
        ]
        product["defaultStatus"] = "unaffected"
    else:
        fixed = [{"version": v, "status": "unaffected"} for v in _unique(advisory.fixed_versions)]
        if fixed:
            product["versions"] = fixed
        product["defaultStatus"] = "unknown"
    cna = {
        "providerMetadata": _cna_provider(advisory),
        "title": advisory.title,
        "datePublic": iso_timestamp(advisory.published_at),
        "descriptions": [_cve_description(advisory.details or advisory.summary or advisory.title)],
        "affected": [product],
        "references": [
            {"url": _page(advisory), "name": advisory.identifier, "tags": ["vendor-advisory"]}
        ]
        + [{"url": url} for url in _external_references(advisory)],
    }
    if advisory.cwe:
        cna["problemTypes"] = [{"descriptions": [_cve_problem_type(advisory.cwe)]}]
    metric = _cve_metric(advisory)
    if metric:
        cna["metrics"] = [metric]
    if advisory.workaround:
        cna["workarounds"] = [_cve_description(advisory.workaround)]
    if advisory.fixed_versions:
        cna["solutions"] = [{"lang": "en", "value": _clip(_upgrade_sentence(advisory))}]
    credits = [
        {"lang": "en", "value": _clip(name), "type": kind.replace("_", " ")}
        for name, kind in _named_credits(advisory)
    ]
    if credits:
        cna["credits"] = credits
    cna["timeline"] = [
        {"time": entry["date"], "lang": "en", "value": _clip(_cve_event(advisory, entry))}
        for entry in _history(advisory)
    ]
    return cna


def _cve_product(project):
    """The CVE `affected` entry's names of the software: the product (the project's name), the
    vendor the project states, the package in its registry's collection (`collectionURL`,
    `packageName`), the repository (`repo`) and the CPE. The schema wants vendor and product,
    or collectionURL and packageName: without either, the vendor is "n/a", as it allows.
    """
    product = {"product": project.name}
    if project.vendor:
        product["vendor"] = project.vendor
    ecosystem = project.ecosystem
    if ecosystem is not None and ecosystem.collection_url:
        product["collectionURL"] = ecosystem.collection_url
        product["packageName"] = project.package_name
    elif not project.vendor:
        product["vendor"] = "n/a"
    if project.repository_url:
        product["repo"] = project.repository_url
    if project.cpe:
        product["cpes"] = [project.cpe]
    return product


def _cve_problem_type(cwe_id):
    """ "CWE-444 Inconsistent Interpretation of HTTP Requests (...)", the form CVE records use;
    the id alone when the catalogue does not know it.
    """
    name = cwe.name_of(cwe_id)
    description = f"{cwe_id} {name}" if name else cwe_id
    return {"lang": "en", "description": description, "cweId": cwe_id, "type": "CWE"}


def _normalised_newlines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _cve_description(markdown):
    """A CVE description of Markdown text: the plain text as `value`, the Markdown (LF line
    breaks) as its supporting media.
    """
    source = _normalised_newlines(markdown).strip()
    return {
        "lang": "en",
        "value": _clip(markdown_to_text(source) or source),
        "supportingMedia": [
            {"type": "text/markdown", "base64": False, "value": _clip(source, CVE_MEDIA_LIMIT)}
        ],
    }


def _cve_event(advisory, entry):
    return f"{advisory.identifier} revision {entry['number']}: {entry['summary']}"


def _cve_rejected_container(advisory):
    """The CNA container of a withdrawn advisory's REJECTED record: the schema's rejected form
    allows providerMetadata, rejectedReasons and `x_` extensions only, so the history goes to
    `x_revisionHistory`.
    """
    return {
        "providerMetadata": _cna_provider(advisory),
        "rejectedReasons": [{"lang": "en", "value": _clip(_withdrawal_notice(advisory))}],
        "x_revisionHistory": _history(advisory),
    }


def _cve_metric(advisory):
    score = _cvss(advisory)
    if score is None:
        return None
    key = {"3.0": "cvssV3_0", "3.1": "cvssV3_1", "4.0": "cvssV4_0"}[score["version"]]
    return {"format": "CVSS", "scenarios": [{"lang": "en", "value": "GENERAL"}], key: score}


def _clip(text, limit=CVE_TEXT_LIMIT):
    return text if len(text) <= limit else text[: limit - 1] + "…"
