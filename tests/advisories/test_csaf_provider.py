"""The platform as CSAF 2.0 provider, crawled the way an aggregator crawls it (issue 14, part 4).

Advisories of three projects are published over two years (one revised, one withdrawn, one left
a draft); then the crawl starts where an aggregator starts, at the instance's security.txt
(`CSAF:`), validates provider-metadata.json against the official provider schema and follows
its distributions: the directory's index.txt (every document fetched, its hash files checked
against the bytes, the document run through BSI's validator, its `self` reference the URL it
came from), changes.csv against the documents' current_release_date, and the ROLIE feed
against the index, its hash links checked too. With a signing key (a throwaway key generated
here), every document's .asc verifies against the public key the metadata names.
"""

import csv
import datetime
import hashlib
import io
import json
import re

import pytest
from django.core.management import call_command

from advisories import exports, revisions, selectors
from advisories.models import Advisory, AdvisoryRevision
from mailer import openpgp
from projects.models import Membership, Project
from tests.advisories.publishing import drafted_advisory, edit_draft, publish_now
from tests.csaf_validator import validate_csaf
from tests.factories import MembershipFactory, UserFactory
from tests.schema_validation import validate

pytestmark = pytest.mark.django_db

SITE_URL = "https://disclosure.example.org"
METADATA_URL = f"{SITE_URL}/.well-known/csaf/provider-metadata.json"
PASSPHRASE = "correct horse battery staple"


def publish(slug, *, member, fields, title):
    advisory = drafted_advisory(
        slug,
        by=member,
        reporter=UserFactory(),
        affected_versions={
            "stalwart": ["0.13.x"],
            "mailtri-router": ["1.x.x"],
            "teammail": ["2.3"],
        }[slug],
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        title=title,
    )
    advisory = edit_draft(advisory, by=member, fields=fields)
    publish_now(advisory, by=member)
    return selectors.public_advisory(advisory.identifier)


def backdate(advisory, published_at, *revised_at):
    """The advisory as if published at `published_at` and revised at `revised_at` (the seeded
    policies are recent, so reports cannot be filed in the past; the dates are set afterwards,
    where the exports read them).
    """
    Advisory.objects.filter(pk=advisory.pk).update(
        published_at=published_at, revised_at=revised_at[-1] if revised_at else None
    )
    if advisory.withdrawn_at is not None:
        Advisory.objects.filter(pk=advisory.pk).update(withdrawn_at=revised_at[-1])
    for revision, moment in zip(advisory.revisions.order_by("number"), revised_at, strict=True):
        AdvisoryRevision.objects.filter(pk=revision.pk).update(created_at=moment)


def utc(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=datetime.UTC)


@pytest.fixture
def published(settings):
    """{name: advisory} of the crawl: two years, three projects, a revision, a withdrawal and a
    draft that must never show.
    """
    settings.SITE_URL = SITE_URL  # CSAF wants https canonical URLs (test 6.2.11)
    call_command("seed_projects", verbosity=0)
    member = UserFactory()
    for project in Project.objects.all():
        MembershipFactory(user=member, project=project, role=Membership.Role.MAINTAINER)
    stalwart = {"fixed_versions": ["0.13.4"], "cwe": "CWE-444"}
    advisories = {
        "old": publish("stalwart", member=member, fields=stalwart, title="Smuggling of 2025"),
        "router": publish(
            "mailtri-router",
            member=member,
            fields={"fixed_versions": ["1.4.2"], "cwe": "CWE-79"},
            title="Router XSS",
        ),
        "revised": publish("stalwart", member=member, fields=stalwart, title="Smuggling of 2026"),
        "withdrawn": publish(
            "teammail",
            member=member,
            fields={"fixed_versions": ["2.3.1"], "cwe": "CWE-352"},
            title="TeamMail CSRF",
        ),
    }
    revisions.amend(
        advisory=advisories["revised"],
        by=member,
        fields={"summary": "Corrected summary."},
        reason="The summary named the wrong component.",
    )
    revisions.withdraw(
        advisory=selectors.public_advisory(advisories["withdrawn"].identifier),
        by=member,
        reason="Not a vulnerability after all.",
    )
    advisories = {name: Advisory.objects.get(pk=a.pk) for name, a in advisories.items()}
    backdate(advisories["old"], utc(2025, 9, 10))
    backdate(advisories["router"], utc(2026, 2, 3))
    backdate(advisories["revised"], utc(2026, 3, 4), utc(2026, 4, 1))
    backdate(advisories["withdrawn"], utc(2026, 3, 20), utc(2026, 5, 2))
    advisories["draft"] = drafted_advisory(
        "mailtri-router", by=member, reporter=UserFactory(), affected_versions=["1.x.x"]
    )
    return {name: Advisory.objects.get(pk=a.pk) for name, a in advisories.items()}


@pytest.fixture
def signing_key(monkeypatch):
    """A throwaway ed25519 signing key with a passphrase, generated in a fresh GNUPGHOME (removed
    with its agent) and configured as the instance's key; its fingerprint.
    """
    with openpgp.gpg_home() as gpg:
        generated = gpg.gen_key(
            gpg.gen_key_input(
                key_type="EDDSA",
                key_curve="ed25519",
                key_usage="sign",
                name_real="Disclosure CSAF signing (test)",
                name_email="csaf@disclosure.example.org",
                passphrase=PASSPHRASE,
                expire_date=0,
            )
        )
        assert generated.fingerprint, generated.stderr
        armored = gpg.export_keys(generated.fingerprint, secret=True, passphrase=PASSPHRASE)
    monkeypatch.setenv("CSAF_OPENPGP_KEY", armored)
    monkeypatch.setenv("CSAF_OPENPGP_PASSPHRASE", PASSPHRASE)
    return generated.fingerprint


def get(client, url):
    """What an aggregator fetches: a URL of the provider, 200 or the test fails."""
    assert url.startswith(SITE_URL + "/"), url
    response = client.get(url.removeprefix(SITE_URL))
    assert response.status_code == 200, (url, response.status_code)
    return response


def check_hash_file(client, url, data):
    """A hash file (requirement 18): "<hex>  <filename>" of exactly `data`."""
    algorithm = url.rsplit(".", 1)[1]
    text = get(client, url).content.decode()
    digest, filename = text.split()
    assert digest == hashlib.new(algorithm, data).hexdigest(), url
    assert filename == url.rsplit("/", 1)[1].removesuffix(f".{algorithm}")


def crawl(client):
    """Everything an aggregator takes from the provider: {document URL: (bytes, document)},
    the metadata, the changes rows and the feed, each checked on the way.
    """
    security_txt = get(client, f"{SITE_URL}/.well-known/security.txt").content.decode()
    (metadata_url,) = re.findall(r"^CSAF: (\S+)$", security_txt, flags=re.MULTILINE)
    assert metadata_url == METADATA_URL
    metadata = get(client, metadata_url).json()
    assert validate("csaf_provider", metadata) == []
    assert metadata["canonical_url"] == metadata_url
    (distribution,) = metadata["distributions"]

    directory = distribution["directory_url"]
    index = get(client, f"{directory}index.txt").content.decode().splitlines()
    documents = {}
    for line in index:
        url = directory + line
        data = get(client, url).content
        for algorithm in ("sha256", "sha512"):
            check_hash_file(client, f"{url}.{algorithm}", data)
        document = json.loads(data)
        (self_reference,) = [
            r["url"] for r in document["document"]["references"] if r["category"] == "self"
        ]
        assert self_reference == url
        tracking = document["document"]["tracking"]
        assert line.startswith(f"{tracking['initial_release_date'][:4]}/")  # requirement 11
        documents[url] = (data, document)

    changes = list(csv.reader(io.StringIO(get(client, f"{directory}changes.csv").content.decode())))
    assert sorted(path for path, _ in changes) == sorted(index)
    for path, date in changes:
        assert (
            date == documents[directory + path][1]["document"]["tracking"]["current_release_date"]
        )
    assert [date for _, date in changes] == sorted((date for _, date in changes), reverse=True)

    (feed_ref,) = distribution["rolie"]["feeds"]
    assert feed_ref["tlp_label"] == "WHITE"
    feed = get(client, feed_ref["url"]).json()["feed"]
    assert feed["link"] == [{"rel": "self", "href": feed_ref["url"]}]
    assert feed["category"] == [
        {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}
    ]
    assert feed["updated"] == metadata["last_updated"]
    assert sorted(entry["content"]["src"] for entry in feed["entry"]) == sorted(documents)
    for entry in feed["entry"]:
        url = entry["content"]["src"]
        data, document = documents[url]
        tracking = document["document"]["tracking"]
        assert entry["id"] == tracking["id"]
        assert entry["title"] == document["document"]["title"]
        assert entry["published"] == tracking["initial_release_date"]
        assert entry["updated"] == tracking["current_release_date"]
        assert entry["content"]["type"] == "application/json"
        assert entry["format"] == {
            "schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
            "version": "2.0",
        }
        links = {}
        for link in entry["link"]:
            links.setdefault(link["rel"], []).append(link["href"])
        assert links["self"] == [url]
        assert sorted(links["hash"]) == [f"{url}.sha256", f"{url}.sha512"]
        for hash_url in links["hash"]:
            check_hash_file(client, hash_url, data)
        entry["signature_links"] = links.get("signature", [])
    return documents, metadata, changes, feed


def test_an_aggregator_crawls_the_provider(client, published):
    documents, metadata, changes, feed = crawl(client)

    assert metadata["role"] == "csaf_provider"  # no signatures: not a trusted provider
    assert "public_openpgp_keys" not in metadata
    assert metadata["publisher"] == {
        "category": "coordinator",
        "name": "Disclosure",
        "namespace": SITE_URL,
    }
    assert metadata["list_on_CSAF_aggregators"] is metadata["mirror_on_CSAF_aggregators"] is True
    # The published advisories, the withdrawn one included; never the draft.
    distributed = {document["document"]["tracking"]["id"] for _, document in documents.values()}
    assert distributed == {
        published[n].identifier for n in ("old", "router", "revised", "withdrawn")
    }
    directory = f"{SITE_URL}/.well-known/csaf/white/"
    old = f"{directory}2025/{published['old'].identifier.lower()}.json"
    assert old in documents
    assert sum(url.startswith(f"{directory}2026/") for url in documents) == 3
    # The revision history comes from the advisory's revisions.
    revised = documents[f"{directory}2026/{published['revised'].identifier.lower()}.json"][1]
    tracking = revised["document"]["tracking"]
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert tracking["version"] == "2"
    assert tracking["current_release_date"] == "2026-04-01T10:00:00Z"
    # changes.csv: the latest change first (the withdrawal), exactly as CSAF 2.0 quotes it.
    withdrawn_path = f"2026/{published['withdrawn'].identifier.lower()}.json"
    assert changes[0] == [withdrawn_path, "2026-05-02T10:00:00Z"]
    raw_changes = client.get("/.well-known/csaf/white/changes.csv").content.decode()
    assert raw_changes.splitlines()[0] == f'"{withdrawn_path}","2026-05-02T10:00:00Z"'
    assert metadata["last_updated"] == "2026-05-02T10:00:00Z"
    assert all(entry["signature_links"] == [] for entry in feed["entry"])

    # Every document passes BSI's validator: the schema and the mandatory tests.
    results = validate_csaf([document for _, document in documents.values()])
    for (_, document), result in zip(documents.values(), results, strict=True):
        assert validate("csaf", document) == []
        assert result["schema"] == [], result
        assert result["mandatory"] == [], result


def test_with_a_signing_key_every_document_is_signed(client, published, signing_key, tmp_path):
    documents, metadata, _, feed = crawl(client)

    assert metadata["role"] == "csaf_trusted_provider"
    (key,) = metadata["public_openpgp_keys"]
    assert key["fingerprint"] == signing_key
    assert key["url"] == f"{SITE_URL}/.well-known/csaf/openpgp/{signing_key}.asc"
    with openpgp.gpg_home() as verifier:  # removed afterwards with any agent it started
        imported = verifier.import_keys(get(client, key["url"]).content.decode())
        assert imported.fingerprints == [key["fingerprint"]]
        assert "PRIVATE KEY" not in get(client, key["url"]).content.decode()
        for entry in feed["entry"]:
            assert entry["signature_links"] == [entry["content"]["src"] + ".asc"]
        for url, (data, _) in documents.items():
            signature_file = tmp_path / "document.json.asc"
            signature_file.write_bytes(get(client, f"{url}.asc").content)
            verified = verifier.verify_data(str(signature_file), data)
            assert verified.valid, (url, verified.status)
            assert verified.pubkey_fingerprint == key["fingerprint"]
            # A changed byte no longer verifies: the signature is of exactly what was served.
            assert not verifier.verify_data(str(signature_file), data + b" ").valid
    year_listing = get(client, f"{SITE_URL}/.well-known/csaf/white/2025/").content.decode()
    assert f"{published['old'].identifier.lower()}.json.asc" in year_listing


def test_an_unusable_signing_key_claims_no_signatures(client, published, monkeypatch):
    monkeypatch.setenv("CSAF_OPENPGP_KEY", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnonsense\n")

    metadata = client.get("/.well-known/csaf/provider-metadata.json").json()

    assert metadata["role"] == "csaf_provider"
    assert "public_openpgp_keys" not in metadata


def test_a_key_that_cannot_sign_is_an_outage_not_a_crash(
    client, published, signing_key, monkeypatch
):
    monkeypatch.setenv("CSAF_OPENPGP_PASSPHRASE", "wrong passphrase")
    path = f"/.well-known/csaf/white/2025/{published['old'].identifier.lower()}.json.asc"

    response = client.get(path)

    assert response.status_code == 503
    assert response.content == b"The signature cannot be made right now."


def test_without_a_signing_key_there_are_no_signatures(client, published):
    path = f"/.well-known/csaf/white/2025/{published['old'].identifier.lower()}.json"

    assert client.get(path).status_code == 200
    assert client.get(f"{path}.asc").status_code == 404
    fingerprint = "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C"
    assert client.get(f"/.well-known/csaf/openpgp/{fingerprint}.asc").status_code == 404


def test_another_fingerprint_is_no_key(client, signing_key):
    other = "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C"

    assert client.get(f"/.well-known/csaf/openpgp/{other}.asc").status_code == 404
    assert client.get(f"/.well-known/csaf/openpgp/{signing_key}.asc").status_code == 200


def test_documents_are_the_same_bytes_on_every_request(client, published):
    path = f"/.well-known/csaf/white/2026/{published['revised'].identifier.lower()}.json"

    first, second = client.get(path), client.get(path)

    assert first.content == second.content
    assert first["Content-Type"] == "application/json"
    assert first["Last-Modified"] == "Wed, 01 Apr 2026 10:00:00 GMT"


def test_the_download_on_the_advisory_page_is_the_distributed_document(client, published):
    """A reader who downloads the CSAF from the advisory page has the file the hashes and the
    signature were made of, so checking it against the provider's .sha256 works."""
    for advisory in (published["old"], published["withdrawn"]):
        download = client.get(f"/advisories/{advisory.identifier}.csaf.json")
        distributed = client.get(exports.csaf_url(advisory).removeprefix(SITE_URL))

        assert distributed.status_code == 200
        assert download.content == distributed.content


def test_an_aggregator_that_has_a_file_gets_304(client, published):
    index = client.get("/.well-known/csaf/white/index.txt")
    document_path = f"/.well-known/csaf/white/2025/{published['old'].identifier.lower()}.json"
    document = client.get(document_path)

    assert (
        client.get(
            "/.well-known/csaf/white/index.txt", headers={"if-none-match": index["ETag"]}
        ).status_code
        == 304
    )
    assert (
        client.get(
            document_path, headers={"if-modified-since": document["Last-Modified"]}
        ).status_code
        == 304
    )
    # A project leaves: the index changes although no advisory did; its ETag says so.
    Project.objects.filter(slug="teammail").update(active=False)
    again = client.get(
        "/.well-known/csaf/white/index.txt", headers={"if-none-match": index["ETag"]}
    )
    assert again.status_code == 200
    assert again["ETag"] != index["ETag"]
    assert "Last-Modified" not in again


def test_drafts_and_wrong_locations_are_not_found(client, published):
    draft = published["draft"].identifier.lower()
    old = published["old"].identifier.lower()
    for path in (
        f"/.well-known/csaf/white/2026/{draft}.json",
        f"/.well-known/csaf/white/2026/{draft}.json.sha256",
        f"/.well-known/csaf/white/2026/{old}.json",  # published in 2025
        f"/.well-known/csaf/white/2026/{old}.json.sha512",
        "/.well-known/csaf/white/2024/",  # no document of that year
    ):
        assert client.get(path).status_code == 404, path
    for path in ("index.txt", "changes.csv", "csaf-feed-tlp-white.json", ""):
        assert draft not in client.get(f"/.well-known/csaf/white/{path}").content.decode()


def test_an_inactive_projects_advisories_leave_the_provider(client, published):
    Project.objects.filter(slug="teammail").update(active=False)
    withdrawn = published["withdrawn"].identifier.lower()

    index = client.get("/.well-known/csaf/white/index.txt").content.decode()

    assert withdrawn not in index
    assert len(index.splitlines()) == 3
    assert client.get(f"/.well-known/csaf/white/2026/{withdrawn}.json").status_code == 404


def test_an_empty_provider_is_valid(client, db, settings):
    settings.SITE_URL = SITE_URL

    metadata = client.get("/.well-known/csaf/provider-metadata.json").json()
    feed = client.get("/.well-known/csaf/white/csaf-feed-tlp-white.json").json()

    assert validate("csaf_provider", metadata) == []
    assert metadata["last_updated"] == "1970-01-01T00:00:00Z"
    assert feed["feed"]["entry"] == []
    assert client.get("/.well-known/csaf/white/index.txt").content == b""
    assert client.get("/.well-known/csaf/white/changes.csv").content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/csaf/provider-metadata.json",
        "/.well-known/csaf/white/index.txt",
        "/.well-known/csaf/white/changes.csv",
        "/.well-known/csaf/white/csaf-feed-tlp-white.json",
        "/.well-known/csaf/white/",
        "/.well-known/csaf/white/2026/",
    ],
)
def test_lists_read_one_query_whatever_the_number_of_advisories(
    client, published, django_assert_num_queries, path
):
    # 1. SELECT the published advisories of active projects (JOIN project), newest first.
    with django_assert_num_queries(1):
        few = client.get(path)
    more = Advisory.objects.filter(state=Advisory.State.PUBLISHED).count()
    # More advisories, same query count: copies of a published one under new identifiers.
    template = published["router"]
    for n in range(3):
        reports_copy = template.report
        reports_copy.pk = None
        reports_copy.tracking_id = f"{reports_copy.tracking_id}-C{n}"
        reports_copy.sequence += 100 + n
        reports_copy.save()
        copy_ = Advisory.objects.get(pk=template.pk)
        copy_.pk = None
        copy_.report = reports_copy
        copy_.identifier = f"{template.identifier}-C{n}"
        copy_.save()
    with django_assert_num_queries(1):
        many = client.get(path)
    assert few.status_code == many.status_code == 200
    assert Advisory.objects.filter(state=Advisory.State.PUBLISHED).count() == more + 3
    if path.endswith("index.txt"):
        assert len(many.content.decode().splitlines()) == more + 3


def test_the_signing_key_is_read_from_a_file(settings, tmp_path, monkeypatch, signing_key):
    armored = openpgp.signing_key().armored
    monkeypatch.delenv("CSAF_OPENPGP_KEY")
    monkeypatch.delenv("CSAF_OPENPGP_PASSPHRASE")
    (tmp_path / "csaf.asc").write_text(armored)
    (tmp_path / "csaf.pass").write_text(PASSPHRASE + "\n")
    settings.CSAF_OPENPGP_KEY_FILE = str(tmp_path / "csaf.asc")
    settings.CSAF_OPENPGP_PASSPHRASE_FILE = str(tmp_path / "csaf.pass")

    key = openpgp.signing_key()

    assert key.passphrase == PASSPHRASE
    assert openpgp.sign_detached(b"{}", private=key).startswith("-----BEGIN PGP SIGNATURE-----")
    settings.CSAF_OPENPGP_KEY_FILE = str(tmp_path / "missing.asc")
    assert openpgp.signing_key() is None
