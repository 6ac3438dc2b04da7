"""A reporter makes an API token on the account page, copies it from the page (shown once),
uses it from a program as curl would, sees when it was last used, and revokes it: the next
request is refused.
"""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from reports import services
from tests.browser.helpers import sign_in
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def call(url, token, body=None):
    """One HTTP request as `curl -H "Authorization: Bearer $TOKEN"` sends it: (status, JSON)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_reporter_makes_uses_and_revokes_a_token(page, live_server):
    project = ProjectFactory(slug="acme", name="Acme", tracking_prefix="ACME")
    PolicyRevisionFactory(project=project)
    reporter = UserFactory(email="ada@example.org")
    report = services.file_report(
        project=project,
        reporter=reporter,
        fields={"title": "Overflow", "description": "It overflows.", "steps_to_reproduce": "Run."},
    )

    sign_in(page, live_server, reporter)
    page.get_by_role("link", name=reporter.email).first.click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
    page.get_by_label("Name*").fill("CI bot")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create token").click()

    notice = page.locator("#new-token")
    expect(notice).to_contain_text("Copy it now: it is shown only this once")
    token = page.locator("#new-token-secret").inner_text().strip()
    assert token.startswith("dsc_")

    # A program uses it, as curl would.
    status, listed = call(f"{live_server.url}/api/reports/", token)
    assert status == 200
    assert [row["tracking_id"] for row in listed["results"]] == [report.tracking_id]
    status, comment = call(
        f"{live_server.url}/api/reports/{report.tracking_id}/comments/",
        token,
        {"body": "Sent from CI."},
    )
    assert status == 201
    assert comment["body"] == "Sent from CI."

    # Back on the page (not a reload, which would post the form again): the token is listed
    # by its prefix and its last use, never again whole.
    page.get_by_role("link", name="API tokens").click()
    row = page.get_by_role("row", name="CI bot")
    expect(row).to_contain_text(token[:12])
    expect(row).to_contain_text("active")
    expect(row).not_to_contain_text("never")
    expect(page.get_by_text(token)).to_have_count(0)

    row.get_by_role("button", name="Revoke CI bot").click()
    expect(page.get_by_text("Token revoked: it no longer works.")).to_be_visible()
    expect(page.get_by_role("row", name="CI bot")).to_contain_text("revoked")
    status, refused = call(f"{live_server.url}/api/reports/", token)
    assert status == 401
    assert refused["error"]["code"] == "invalid_token"
