"""A project's package identity: where its software is published as a package, as the OSV, CSAF
and CVE exports name it (advisories.exports), and the rules that keep those names consistent.

- The OSV ecosystem is one of the language package registries of the official OSV 1.7.5 schema
  (tests/schemas/official/osv_schema.json, `ecosystemName`) where a project publishes a package
  of its own. Distributions (Debian, Alpine...) package other people's software, and a container
  image is no OSV ecosystem at all, so neither is offered.
- Each ecosystem has its purl type (the purl spec's registry of types), the OSV range type its
  versions are compared with, and the CVE `collectionURL` of its registry. SEMVER is kept for
  registries that enforce semantic versions (Cargo, npm, Go modules, Hex, Pub, SwiftPM tags);
  the OSV spec asks for ECOSYSTEM where SemVer is only recommended ("Some ecosystems may
  recommend using SemVer 2.0 for versioning without explicitly enforcing it. In those cases you
  should use the ECOSYSTEM type instead."). The collection URLs are the CVE 5.1.1 schema's own
  examples for `collectionURL`; an ecosystem without one there gives none.
- A purl here names the package, never a version (OSV's `package.purl` is "without the @version
  component"); the exports append a version where they speak of one.
- A CPE is a CPE 2.3 formatted string of an application ("cpe:2.3:a:vendor:product:*:..."),
  stored with `*` as its version; the exports put a version in its place where they speak of one.
"""

import contextlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from packageurl import PackageURL

SEMVER = "SEMVER"
ECOSYSTEM = "ECOSYSTEM"


@dataclass(frozen=True)
class Ecosystem:
    name: str  # the OSV ecosystem, as the schema spells it
    purl_type: str
    range_type: str  # SEMVER or ECOSYSTEM (OSV affected[].ranges[].type)
    collection_url: str  # CVE affected[].collectionURL, "" where the schema gives none

    def package_name_of(self, purl):
        """The OSV package name a purl of this ecosystem stands for ("" where the two are not
        comparable: a SwiftURL name is a Git URL).
        """
        if self.name == "SwiftURL":
            return ""
        separator = ":" if self.purl_type == "maven" else "/"
        return separator.join(part for part in (purl.namespace, purl.name) if part)


ECOSYSTEMS = {
    ecosystem.name: ecosystem
    for ecosystem in (
        Ecosystem("crates.io", "cargo", SEMVER, "https://crates.io"),
        Ecosystem("npm", "npm", SEMVER, "https://registry.npmjs.org"),
        Ecosystem("PyPI", "pypi", ECOSYSTEM, "https://pypi.python.org"),
        Ecosystem("Maven", "maven", ECOSYSTEM, "https://repo.maven.apache.org/maven2"),
        Ecosystem("Go", "golang", SEMVER, "https://golang.org/pkg"),
        Ecosystem("Packagist", "composer", ECOSYSTEM, "https://packagist.org"),
        Ecosystem("RubyGems", "gem", ECOSYSTEM, "https://rubygems.org"),
        Ecosystem("NuGet", "nuget", ECOSYSTEM, "https://nuget.org/packages"),
        Ecosystem("Pub", "pub", SEMVER, "https://pub.dev"),
        Ecosystem("Hex", "hex", SEMVER, "https://repo.hex.pm"),
        Ecosystem("Hackage", "hackage", ECOSYSTEM, "https://hackage.haskell.org"),
        Ecosystem("CRAN", "cran", ECOSYSTEM, "https://cran.r-project.org"),
        Ecosystem("ConanCenter", "conan", ECOSYSTEM, "https://conan.io/center"),
        Ecosystem("SwiftURL", "swift", SEMVER, ""),
    )
}
ECOSYSTEM_CHOICES = [(name, name) for name in ECOSYSTEMS]


def _pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# --- purl ---------------------------------------------------------------------------------------


def parse_purl(value):
    """The PackageURL of `value`, or ValidationError saying what is wrong with it."""
    try:
        purl = PackageURL.from_string(value)
    except ValueError as error:
        raise ValidationError(
            f"Not a package URL: {error} A purl looks like pkg:cargo/example-crate.",
            code="purl",
        ) from error
    if purl.version:
        raise ValidationError(
            f"Give the package URL without a version (drop @{purl.version}): the exports add "
            "the version of each product themselves.",
            code="purl_version",
        )
    return purl


def validate_purl(value):
    parse_purl(value)


def canonical(*, ecosystem, package_name, purl):
    """(package name, purl) as the exports give them: a PyPI name normalized as OSV asks
    (PEP 503), the purl in the purl spec's canonical form (pkg:pypi/Example_Mail ->
    pkg:pypi/example-mail); a purl that does not parse is left for its validator to refuse.
    """
    if ecosystem == "PyPI":
        package_name = _pep503(package_name)
    with contextlib.suppress(ValidationError):
        purl = parse_purl(purl).to_string() if purl else purl
    return package_name, purl


def purl_at(purl, version=None):
    """The purl with `version` appended (@version, encoded as the purl spec says), or as it is."""
    if not version:
        return purl
    return PackageURL.from_string(purl)._replace(version=version).to_string()


# --- CPE ----------------------------------------------------------------------------------------

# One component of a CPE 2.3 formatted string (CPE Naming 2.3, §6.2): the pattern the CSAF 2.0
# and CVE 5.1.1 schemas check, split per component so the error can say which one is wrong.
_CPE_VALUE = r"(?:\?*|\*?)(?:[a-zA-Z0-9\-._]|\\[\\*?!\"#$%&'()+,/:;<=>@\[\]^`{|}~])+(?:\?*|\*?)"
_CPE_COMPONENT = re.compile(rf"^(?:{_CPE_VALUE}|[*\-])$")
_CPE_NAMED = re.compile(rf"^{_CPE_VALUE}$")
_CPE_LANGUAGE = re.compile(r"^(?:[a-zA-Z]{2,3}(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?|[*\-])$")
CPE_NAMES = (
    "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw",
    "target_hw", "other",
)  # fmt: skip
_CPE_EXAMPLE = "cpe:2.3:a:example:example_server:*:*:*:*:*:*:*:*"


def _split_cpe(value):
    # A colon escaped with a backslash belongs to its component.
    return re.split(r"(?<!\\):", value)


def validate_cpe(value):
    """A CPE 2.3 formatted string of an application with `*` as version, e.g. _CPE_EXAMPLE."""
    parts = _split_cpe(value)
    if len(parts) != 13 or parts[:2] != ["cpe", "2.3"]:
        raise ValidationError(
            f"Not a CPE 2.3 formatted string (13 parts separated by colons), e.g. {_CPE_EXAMPLE}.",
            code="cpe",
        )
    if parts[2] != "a":
        raise ValidationError(
            'The CPE part must be "a" (an application): cpe:2.3:a:...', code="cpe_part"
        )
    for name, component in zip(CPE_NAMES, parts[3:], strict=True):
        pattern = _CPE_LANGUAGE if name == "language" else _CPE_COMPONENT
        if not pattern.match(component):
            raise ValidationError(f"The CPE's {name} is not valid: {component!r}.", code="cpe")
    for name, component in zip(CPE_NAMES[:2], parts[3:5], strict=True):
        if not _CPE_NAMED.match(component) or "*" in component or "?" in component:
            raise ValidationError(
                f"The CPE names its {name} (no wildcard): {component!r}.", code="cpe_name"
            )
    if parts[5] != "*":
        raise ValidationError(
            f"Give the CPE with * as its version (not {parts[5]!r}): the exports put the "
            "version of each product in its place.",
            code="cpe_version",
        )


def cpe_at(cpe, version=None):
    """The CPE with `version` in place of its `*` version, escaped as CPE 2.3 asks."""
    if not version:
        return cpe
    parts = _split_cpe(cpe)
    parts[5] = re.sub(r"([^a-zA-Z0-9\-._])", r"\\\1", version)
    return ":".join(parts)


# --- The rules between the fields ---------------------------------------------------------------


def check(*, ecosystem, package_name, purl):
    """{field: message} of what disagrees between a project's ecosystem, package name and purl
    (each valid on its own): an ecosystem names a package, a package needs its ecosystem, and a
    purl of a project with an ecosystem is that ecosystem's type and names the same package.
    """
    errors = {}
    if ecosystem and not package_name:
        errors["package_name"] = f"Give the package's name in {ecosystem}."
    if package_name and not ecosystem:
        errors["osv_ecosystem"] = "Choose the OSV ecosystem the package is published in."
    if not (ecosystem and purl) or ecosystem not in ECOSYSTEMS:
        return errors
    try:
        parsed = parse_purl(purl)
    except ValidationError:
        return errors  # the field's own validator says what is wrong
    expected = ECOSYSTEMS[ecosystem]
    if parsed.type != expected.purl_type:
        errors["purl"] = (
            f"A package in {ecosystem} has a purl of type {expected.purl_type} "
            f"(pkg:{expected.purl_type}/...), not {parsed.type}."
        )
        return errors
    named = expected.package_name_of(parsed)
    if package_name and named:
        same = (
            _pep503(named) == _pep503(package_name)
            if ecosystem == "PyPI"
            else named.lower() == package_name.lower()
        )
        if not same:
            errors["purl"] = (
                f"The purl names the package {named}, the package name is {package_name}."
            )
    return errors
