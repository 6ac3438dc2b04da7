"""The platform as CSAF 2.0 provider (CSAF 2.0 §7): what an aggregator crawls.

Every published advisory's CSAF document (advisories.exports.csaf) is distributed under
/.well-known/csaf/ (requirement 9), TLP:WHITE only (every document is labelled WHITE):
- provider-metadata.json (requirement 7), named in the instance's security.txt (requirement 8);
- white/<year of the initial release>/<file>.json (requirements 2, 11), with index.txt and
  changes.csv beside the years (12, 13) and HTML listings of the folders (14);
- the ROLIE feed white/csaf-feed-tlp-white.json (15; the optional service and category
  documents, 16 and 17, are left out);
- <file>.json.sha256 and .sha512 beside each document (18), and, when the instance's signing key
  is configured (mailer.openpgp.signing_key), <file>.json.asc, a detached signature of the exact
  bytes served (19), verified by the public key at openpgp/<fingerprint>.asc (20).

The role the metadata claims is earned, not configured: "csaf_trusted_provider" needs 18 to 20,
so it is claimed only while a usable signing key is configured; otherwise "csaf_provider".

A document's bytes are a pure function of the advisory (exports.csaf sorts its keys), so its
hashes and signature hold between requests; signatures are cached by the hash of the bytes and
the key's fingerprint, so gpg runs once per version of a document.

Lists read one query whatever the number of advisories: the year is the first publication
(`published_at`) and the current release the last revision (`Advisory.modified_at`, what
`document.tracking.current_release_date` gives), both columns of the advisory.
"""

import datetime
import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder

from advisories import exports
from mailer import openpgp

logger = logging.getLogger(__name__)

TLP_LABEL = "WHITE"
FEED_ID = "csaf-feed-tlp-white"
HASHES = ("sha256", "sha512")
CSAF_SCHEMA = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
ROLIE_INFORMATION_TYPE = "urn:ietf:params:rolie:category:information-type"
# last_updated before anything was published: a fixed time, so the metadata stays the same
# until the first publication.
NOTHING_PUBLISHED = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def document_bytes(advisory):
    """The CSAF document of a published advisory exactly as it is served, hashed and signed."""
    document = exports.csaf(advisory)
    return json.dumps(document, indent=2, cls=DjangoJSONEncoder).encode("utf-8")


def document_path(advisory):
    """Where the document lies under the TLP:WHITE directory: "<year>/<file>.json"."""
    return f"{exports.csaf_year(advisory)}/{exports.csaf_filename(advisory)}"


def current_release(advisory):
    return advisory.modified_at


def last_updated(advisories):
    """The latest change of any of the advisories (publication or revision). A deactivated
    project's documents leave the lists without changing it: the lists' ETags tell that.
    """
    return max((current_release(a) for a in advisories), default=NOTHING_PUBLISHED)


def index_txt(advisories):
    """Requirement 12: every document's path relative to the directory, one a line."""
    return "".join(f"{document_path(advisory)}\n" for advisory in advisories)


def changes_csv(advisories):
    """Requirement 13: "<path>","<current_release_date>" of every document, no heading, the
    latest change first (ties by path, so the file is the same on every request).
    """
    rows = sorted(
        ((current_release(a), document_path(a)) for a in advisories),
        key=lambda row: (row[0], row[1]),
        reverse=True,
    )
    return "".join(f'"{path}","{exports.iso_timestamp(moment)}"\n' for moment, path in rows)


def hash_file(data, *, algorithm, filename):
    """Requirement 18, in the format of sha256sum/sha512sum: "<hex>  <filename>"."""
    return f"{hashlib.new(algorithm, data).hexdigest()}  {filename}\n"


# --- Signing ------------------------------------------------------------------------------------


def public_key():
    """The public half (fingerprint, armored) of the configured signing key, or None when none
    is configured. A configured key that cannot be read is logged and treated as none: the
    provider then claims no signatures rather than failing.
    """
    private = openpgp.signing_key()
    if private is None:
        return None
    try:
        return openpgp.public_half(private.armored)
    except openpgp.OpenPGPError as error:
        logger.error("the CSAF signing key is unusable: %s", error)
        return None


def signature(data):
    """The detached armored signature of `data` by the configured key, or None without one."""
    key = public_key()
    if key is None:
        return None
    cache_key = f"csaf-signature:{key.fingerprint}:{hashlib.sha256(data).hexdigest()}"
    armored = cache.get(cache_key)
    if armored is None:
        armored = openpgp.sign_detached(data, private=openpgp.signing_key())
        cache.set(cache_key, armored, timeout=None)
    return armored


def public_key_url(key):
    return exports.absolute_url("advisories:csaf_public_key", key.fingerprint)


# --- The provider's documents -------------------------------------------------------------------


def feed_url():
    return exports.absolute_url("advisories:csaf_feed")


def directory_url():
    return exports.absolute_url("advisories:csaf_directory")


def provider_metadata(advisories, *, key):
    """provider-metadata.json (requirement 7) for the published `advisories` and the signing
    key's public half `key` (None: no signatures, so no trusted provider).
    """
    metadata = {
        "canonical_url": exports.absolute_url("advisories:csaf_provider_metadata"),
        "distributions": [
            {
                "directory_url": directory_url(),
                "rolie": {
                    "feeds": [
                        {
                            "summary": f"TLP:WHITE advisories of {settings.SITE_NAME}.",
                            "tlp_label": TLP_LABEL,
                            "url": feed_url(),
                        }
                    ]
                },
            }
        ],
        "last_updated": exports.iso_timestamp(last_updated(advisories)),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": exports.csaf_publisher(),
        "role": "csaf_trusted_provider" if key else "csaf_provider",
    }
    if key:
        metadata["public_openpgp_keys"] = [
            {"fingerprint": key.fingerprint, "url": public_key_url(key)}
        ]
    return metadata


def feed(advisories, *, signed):
    """The ROLIE feed of the TLP:WHITE documents (requirement 15, RFC 8322 as JSON), newest
    change first, each entry linking its document, hash files and (`signed`) its signature.
    """
    entries = []
    for advisory in sorted(
        advisories, key=lambda a: (current_release(a), a.identifier), reverse=True
    ):
        url = exports.csaf_url(advisory)
        links = [{"rel": "self", "href": url}]
        links += [{"rel": "hash", "href": f"{url}.{algorithm}"} for algorithm in HASHES]
        if signed:
            links.append({"rel": "signature", "href": f"{url}.asc"})
        entries.append(
            {
                "id": advisory.identifier,
                "title": advisory.title,
                "link": links,
                "published": exports.iso_timestamp(advisory.published_at),
                "updated": exports.iso_timestamp(current_release(advisory)),
                "summary": {"content": advisory.summary},
                "content": {"type": "application/json", "src": url},
                "format": {"schema": CSAF_SCHEMA, "version": "2.0"},
            }
        )
    return {
        "feed": {
            "id": FEED_ID,
            "title": f"{settings.SITE_NAME} CSAF feed (TLP:WHITE)",
            "link": [{"rel": "self", "href": feed_url()}],
            "category": [{"scheme": ROLIE_INFORMATION_TYPE, "term": "csaf"}],
            "updated": exports.iso_timestamp(last_updated(advisories)),
            "entry": entries,
        }
    }


def years(advisories):
    """The year folders of the directory, newest first."""
    return sorted({exports.csaf_year(advisory) for advisory in advisories}, reverse=True)


def files_of_year(advisories, year, *, signed):
    """The file names in one year folder: each document with its hash files and signature."""
    names = []
    for advisory in advisories:
        if exports.csaf_year(advisory) != year:
            continue
        filename = exports.csaf_filename(advisory)
        names += [filename, *(f"{filename}.{algorithm}" for algorithm in HASHES)]
        if signed:
            names.append(f"{filename}.asc")
    return sorted(names)
