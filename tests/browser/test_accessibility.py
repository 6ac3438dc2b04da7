"""axe-core (the npm package, pinned in package-lock.json, installed by `make install`) finds no
serious or critical violation on the main pages, for visitors, reporters and maintainers.

axe is injected as a script, which the site's CSP rightly blocks: these pages are opened in a
context of their own with the CSP bypassed. The journeys keep the CSP (the `page` fixture). The
<details> panels of a page are opened first, so the forms folded inside are checked too.

Without node_modules the test is skipped locally and fails in CI (CI=true), like the Chromium
check in conftest.py.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from advisories import services as advisory_services
from projects.models import Project
from reports import services
from reports.models import CreditDisplay
from tests.advisories.publishing import publish_now
from tests.browser.conftest import TIMEOUT_MS, watch
from tests.browser.helpers import member_of, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical", "moderate", "minor")
RUN_AXE = """async () => {
  document.querySelectorAll("details").forEach((panel) => { panel.open = true; });
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\n/g, " ")),
  }));
}"""


@pytest.fixture
def axe_page(browser, live_server, browser_problems):
    # `make install` (so `make test` and CI) runs npm ci: a missing axe-core is a broken install.
    assert AXE.exists(), f"{AXE} is missing: run make install (npm ci)"
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    watch(tab, live_server.url, browser_problems)
    yield tab
    context.close()
    assert not browser_problems, browser_problems


def violations(page, path):
    """The serious and critical violations axe finds on `path`, one line each."""
    response = page.goto(path)
    assert response.status == 200, path
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    return [
        f"{path}: {v['impact']} {v['id']} ({v['help']})\n    " + "\n    ".join(v["nodes"])
        for v in found
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page, paths):
    problems = [line for path in paths for line in violations(page, path)]
    assert not problems, "axe-core found:\n" + "\n".join(problems)


@pytest.fixture
def world():
    """Stalwart with an open report (a comment, a reporter's CVSS) and a disclosed one whose
    advisory is published with its reporter credited by name.
    """
    call_command("seed_projects", stdout=io.StringIO())
    stalwart = Project.objects.get(slug="stalwart")
    maintainer = member_of(stalwart, "maintainer@example.org")
    reporter = UserFactory(email="reporter@example.org")
    fields = {
        "vulnerability_type": "SMTP smuggling",
        "affected_versions": ["0.13.x"],
        "affected_components": "smtp-inbound",
        "steps_to_reproduce": "Send a **bare LF** dot LF inside `DATA`.",
        "impact": "Spoofed mail from any local sender.",
        "reporter_cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }
    credit = {"display": CreditDisplay.NAME, "name": "Ada Lovelace", "handle": ""}
    open_report = services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={"title": "SMTP smuggling in the relay", **fields},
        credit=credit,
    )
    services.add_comment(
        report=open_report, by=reporter, body="Any update?", internal=False, by_member=False
    )
    services.transition(report=open_report, by=maintainer, name="acknowledge")
    services.add_comment(
        report=open_report, by=maintainer, body="Reproduced.", internal=True, by_member=True
    )
    disclosed = services.file_report(
        project=stalwart,
        reporter=reporter,
        fields={"title": "IMAP literal overflow", **fields},
        credit=credit,
    )
    services.transition(
        report=disclosed, by=maintainer, name="triage", severity="high", message="Confirmed."
    )
    services.transition(report=disclosed, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=disclosed, by=maintainer)
    advisory = advisory_services.update_advisory(
        advisory=advisory,
        by=maintainer,
        fields={"fixed_versions": ["0.13.4"], "details": "A `{4294967295}` literal."},
    )
    advisory = publish_now(advisory, by=maintainer)
    return {
        "maintainer": maintainer,
        "reporter": reporter,
        "open": open_report,
        "advisory": advisory,
    }


def test_public_pages(axe_page, world):
    assert_accessible(
        axe_page,
        [
            "/",
            "/projects/stalwart/",
            "/projects/stalwart/advisories/",
            f"/advisories/{world['advisory'].identifier}/",
            "/projects/stalwart/hall-of-fame/",
            "/accounts/login/",
            "/accounts/signup/",
        ],
    )


def test_reporter_pages(axe_page, live_server, world):
    sign_in(axe_page, live_server, world["reporter"])
    tracking_id = world["open"].tracking_id
    assert_accessible(
        axe_page,
        [
            "/projects/stalwart/report/",
            "/reports/",
            f"/reports/{tracking_id}/",
            f"/reports/{world['advisory'].report.tracking_id}/",
            "/accounts/email/",
            "/account/tokens/",
        ],
    )


def test_maintainer_pages(axe_page, live_server, world):
    sign_in(axe_page, live_server, world["maintainer"])
    tracking_id = world["open"].tracking_id
    assert_accessible(
        axe_page,
        [
            "/reports/",
            f"/reports/{tracking_id}/",
            f"/reports/{world['advisory'].report.tracking_id}/advisory/",
            "/projects/stalwart/sla/",
        ],
    )
    # The checklist, started: 71 items in their phases.
    axe_page.goto(f"/reports/{tracking_id}/")
    axe_page.get_by_role("button", name="Start the incident checklist").click()
    expect(axe_page.get_by_role("heading", name="Incident checklist")).to_be_visible()
    assert_accessible(axe_page, [f"/reports/{tracking_id}/checklist/"])


def test_axe_reports_what_it_finds(axe_page):
    """The check itself: an unlabelled field and low-contrast text on a page are reported."""
    axe_page.goto("/")
    axe_page.evaluate(
        """() => {
          const field = document.createElement("input");
          field.type = "text";
          const faint = document.createElement("p");
          faint.textContent = "faint";
          faint.style.color = "#eee";
          document.querySelector("main").append(field, faint);
        }"""
    )
    axe_page.add_script_tag(path=str(AXE))
    found = {v["id"]: v["impact"] for v in axe_page.evaluate(RUN_AXE)}
    assert found == {"label": "critical", "color-contrast": "serious"}
