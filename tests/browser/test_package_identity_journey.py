"""A project admin states the project's package in the Django admin, as a person fills the form:
a purl that names another ecosystem is refused with the reason and nothing is stored; once it
agrees, the published advisory's OSV record names the package (issue 14, part 2)."""

import json

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from projects.models import Membership, Project
from tests.advisories.publishing import drafted_advisory, edit_draft, publish_now
from tests.browser.helpers import sign_in
from tests.factories import UserFactory
from tests.projects.test_admin import staff_member

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_project_admin_states_the_package_and_the_osv_record_names_it(page, live_server):
    call_command("seed_projects", verbosity=0)
    project = Project.objects.get(slug="mailtri-router")
    admin = staff_member(project, Membership.Role.ADMIN)
    draft = drafted_advisory(
        "mailtri-router", by=admin, reporter=UserFactory(), affected_versions=["1.4.1"]
    )
    advisory = publish_now(
        edit_draft(draft, by=admin, fields={"fixed_versions": ["1.4.2"]}), by=admin
    )
    sign_in(page, live_server, admin)

    page.goto(live_server.url + "/admin/")
    page.locator("tr.model-project").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project.name, exact=True).click()
    page.get_by_label("OSV ecosystem").select_option("npm")
    page.get_by_label("Package name").fill("mailtri-router")
    page.get_by_label("purl").fill("pkg:pypi/mailtri-router")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.get_by_text("A package in npm has a purl of type npm")).to_be_visible()
    project.refresh_from_db()
    assert (project.osv_ecosystem, project.package_name, project.purl) == ("", "", "")

    page.get_by_label("purl").fill("pkg:npm/mailtri-router")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.get_by_text("was changed successfully")).to_be_visible()
    response = page.request.get(f"{live_server.url}/advisories/{advisory.identifier}.osv.json")
    record = json.loads(response.body())
    assert record["affected"][0]["package"] == {
        "ecosystem": "npm",
        "name": "mailtri-router",
        "purl": "pkg:npm/mailtri-router",
    }
