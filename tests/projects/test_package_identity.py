"""A project's package identity (projects.identity, issue 14 part 2): the OSV ecosystem and
package, the purl and CPE, the vendor. Each field refuses what it cannot be with a message
saying why, and the fields agree with each other; project admins edit them in the admin, and
the seeds state only what the policies state (each quoted below).
"""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from projects import identity
from projects.models import Membership, Project
from projects.services import load_seed, seed_project
from tests.factories import ProjectFactory
from tests.projects.test_admin import staff_member
from tests.schema_validation import OFFICIAL_DIR

pytestmark = pytest.mark.django_db

CRATE = {
    "osv_ecosystem": "crates.io",
    "package_name": "example-mail",
    "purl": "pkg:cargo/example-mail",
    "cpe": "cpe:2.3:a:example:example_mail:*:*:*:*:*:*:*:*",
    "vendor": "Example Labs",
}


def errors_of(**fields):
    project = ProjectFactory.build(**fields)
    with pytest.raises(ValidationError) as caught:
        project.full_clean()
    return caught.value.message_dict


# --- The fields and their rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        CRATE,
        {**CRATE, "cpe": "", "vendor": ""},
        {"osv_ecosystem": "Maven", "package_name": "org.example:mail",
         "purl": "pkg:maven/org.example/mail"},
        {"osv_ecosystem": "npm", "package_name": "@example/mail",
         "purl": "pkg:npm/%40example/mail"},
        {"osv_ecosystem": "PyPI", "package_name": "Example_Mail", "purl": "pkg:pypi/example-mail"},
        {"osv_ecosystem": "Go", "package_name": "github.com/example/mail",
         "purl": "pkg:golang/github.com/example/mail"},
        {"osv_ecosystem": "Packagist", "package_name": "example/mail"},
        # A purl without an ecosystem: an image is no OSV ecosystem, but it has a purl.
        {"purl": "pkg:docker/example/mail"},
        {"cpe": "cpe:2.3:a:example:mail\\:server:*:*:*:*:*:*:*:*"},
        {},
    ],
)  # fmt: skip
def test_consistent_identities_are_accepted(fields):
    project = ProjectFactory.build(**fields)

    project.full_clean(validate_unique=False)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"purl": "cargo/example-mail"}, "purl", "Not a package URL"),
        ({"purl": "pkg:cargo/example-mail@1.2.3"}, "purl", "without a version (drop @1.2.3)"),
        ({"cpe": "cpe:/a:example:example_mail"}, "cpe", "Not a CPE 2.3 formatted string"),
        ({"cpe": "cpe:2.3:a:example:example_mail:1.2.3:*:*:*:*:*:*:*"}, "cpe",
         "with * as its version (not '1.2.3')"),
        ({"cpe": "cpe:2.3:h:example:example_mail:*:*:*:*:*:*:*:*"}, "cpe", 'must be "a"'),
        ({"cpe": "cpe:2.3:a:*:example_mail:*:*:*:*:*:*:*:*"}, "cpe", "names its vendor"),
        ({"cpe": "cpe:2.3:a:example:example mail:*:*:*:*:*:*:*:*"}, "cpe",
         "product is not valid"),
        ({"osv_ecosystem": "crates.io"}, "package_name", "Give the package's name in crates.io"),
        ({"package_name": "example-mail"}, "osv_ecosystem", "Choose the OSV ecosystem"),
        ({**CRATE, "purl": "pkg:npm/example-mail"}, "purl",
         "A package in crates.io has a purl of type cargo (pkg:cargo/...), not npm."),
        ({**CRATE, "purl": "pkg:cargo/other-crate"}, "purl",
         "The purl names the package other-crate, the package name is example-mail."),
        ({"osv_ecosystem": "Maven", "package_name": "org.example:mail",
          "purl": "pkg:maven/org.example/other"}, "purl", "names the package org.example:other"),
        # A container image is no OSV ecosystem: there is no such choice.
        ({"osv_ecosystem": "Docker", "package_name": "example/mail"}, "osv_ecosystem",
         "not a valid choice"),
    ],
)  # fmt: skip
def test_what_cannot_be_is_refused_with_the_reason(fields, field, message):
    errors = errors_of(**fields)

    assert message in " ".join(errors[field]), errors


def test_the_curated_ecosystems_are_the_official_schemas():
    """Every choice is an ecosystem of the official OSV schema, with the purl type the purl spec
    gives it; none is a distribution or a container registry.
    """
    schema = json.loads((OFFICIAL_DIR / "osv_schema.json").read_text())
    official = set(schema["$defs"]["ecosystemName"]["enum"])
    assert set(identity.ECOSYSTEMS) <= official
    assert not set(identity.ECOSYSTEMS) & {"Debian", "Alpine", "Ubuntu", "Bitnami", "Chainguard"}
    assert {name: e.purl_type for name, e in identity.ECOSYSTEMS.items() if name in {
        "crates.io", "npm", "PyPI", "Maven", "Go", "Packagist", "RubyGems", "NuGet", "Pub", "Hex"
    }} == {
        "crates.io": "cargo", "npm": "npm", "PyPI": "pypi", "Maven": "maven", "Go": "golang",
        "Packagist": "composer", "RubyGems": "gem", "NuGet": "nuget", "Pub": "pub", "Hex": "hex",
    }  # fmt: skip


def test_names_are_stored_as_the_exports_give_them():
    """OSV wants a PyPI name normalized (PEP 503); the purl is kept in the purl spec's canonical
    form (pypi: lower case, "_" as "-").
    """
    project = ProjectFactory.build(
        osv_ecosystem="PyPI", package_name=" Example.Mail ", purl="pkg:pypi/Example_Mail "
    )

    project.full_clean(validate_unique=False)

    assert (project.package_name, project.purl) == ("example-mail", "pkg:pypi/example-mail")


def test_versions_go_where_the_product_is_one_version():
    assert identity.purl_at("pkg:npm/%40example/mail", "1.4.2") == "pkg:npm/%40example/mail@1.4.2"
    assert identity.purl_at("pkg:cargo/example-mail") == "pkg:cargo/example-mail"
    assert identity.cpe_at(CRATE["cpe"], "0.13.4") == (
        "cpe:2.3:a:example:example_mail:0.13.4:*:*:*:*:*:*:*"
    )
    assert identity.cpe_at(CRATE["cpe"]) == CRATE["cpe"]


# --- The admin ----------------------------------------------------------------------------------


def change_form(client, url, project, member):
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {"intake_addresses-TOTAL_FORMS": "0", "intake_addresses-INITIAL_FORMS": "0",
         "revisions-TOTAL_FORMS": "1", "revisions-INITIAL_FORMS": "1",
         "revisions-0-id": project.revisions.get().pk, "revisions-0-project": project.pk,
         "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
         "memberships-0-id": member.memberships.get().pk, "memberships-0-project": project.pk}
    )  # fmt: skip
    return data


def test_a_project_admin_sets_the_identity_in_the_admin(client, project):
    admin = staff_member(project, Membership.Role.ADMIN)
    url = f"/admin/projects/project/{project.pk}/change/"
    client.sign_in(admin)
    page = client.get(url).content.decode()
    assert "Package identity" in page

    response = client.post(url, {**change_form(client, url, project, admin), **CRATE})

    assert response.status_code == 302
    project.refresh_from_db()
    assert {name: getattr(project, name) for name in CRATE} == CRATE


def test_a_bad_identity_is_refused_in_the_admin_and_nothing_is_stored(client, project):
    admin = staff_member(project, Membership.Role.ADMIN)
    url = f"/admin/projects/project/{project.pk}/change/"
    client.sign_in(admin)
    data = {**change_form(client, url, project, admin), **CRATE, "purl": "pkg:npm/example-mail"}

    response = client.post(url, data)

    assert response.status_code == 200
    assert "A package in crates.io has a purl of type cargo" in response.content.decode()
    project.refresh_from_db()
    assert (project.osv_ecosystem, project.purl) == ("", "")


def test_members_below_project_admin_cannot_change_the_identity(client, project):
    maintainer = staff_member(project, Membership.Role.MAINTAINER)
    client.sign_in(maintainer)

    response = client.post(f"/admin/projects/project/{project.pk}/change/", CRATE)

    assert response.status_code == 403
    project.refresh_from_db()
    assert project.osv_ecosystem == ""


# --- The seeds state only what the policies state -----------------------------------------------


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


def identity_of(slug):
    return Project.objects.filter(slug=slug).values(
        "repository_url", "osv_ecosystem", "package_name", "purl", "cpe", "vendor"
    )[0]


NOTHING = {"osv_ecosystem": "", "package_name": "", "purl": "", "cpe": "", "vendor": ""}


def test_stalwart_is_its_repository_and_no_package(seeded):
    """Stalwart's SECURITY.md points to "[GitHub releases](https://github.com/stalwartlabs/
    stalwart/releases)", the repository. It has "Official Docker images" in scope (a container
    image is no OSV ecosystem) and "Regular security audits of dependencies using `cargo
    audit`" (the crates it uses, not a crate of its own): no ecosystem, package, purl, CPE or
    vendor is stated, so its OSV records give GIT ranges on the repository.
    """
    assert identity_of("stalwart") == {
        "repository_url": "https://github.com/stalwartlabs/stalwart",
        **NOTHING,
    }


def test_teammail_is_its_repository_and_no_package(seeded):
    """TeamMail's policy is security.md in linagora/tmail-flutter (the seed's own source line:
    "TeamMail's security policy (security.md in linagora/tmail-flutter)"); it says "We use
    automated tools to review our docker images and dependencies" and names no package.
    """
    assert identity_of("teammail") == {
        "repository_url": "https://github.com/linagora/tmail-flutter",
        **NOTHING,
    }


def test_mailtri_router_states_neither_repository_nor_package(seeded):
    """mailtri-router's SECURITY.md says "**Watch the repository**: Get notified of new
    releases" without naming one, and "**Keep dependencies updated**: Regularly update npm
    packages" of the packages it uses: nothing to name its software by.
    """
    assert identity_of("mailtri-router") == {"repository_url": "", **NOTHING}


def test_seeding_holds_a_project_to_the_identity_rules(db):
    seed = load_seed("stalwart.toml")
    seed["project"].update(osv_ecosystem="crates.io", package_name="", purl="pkg:npm/x")

    with pytest.raises(ValidationError) as caught:
        seed_project(seed=seed)

    assert set(caught.value.message_dict) == {"package_name", "purl"}
    assert not Project.objects.filter(slug="stalwart").exists()
