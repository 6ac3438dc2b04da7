"""A project admin adds a webhook from the project page (its secret shown), a report is filed,
beat's sweep delivers it to a receiver on loopback, the admin reads the delivery in the log and
redelivers it: the receiver gets the same event, with the same id, twice; then the admin makes
a new secret and the next attempt is signed with it.
"""

import json

import pytest
from playwright.sync_api import expect

from projects.models import Membership
from reports import services as report_services
from tests.browser.helpers import sign_in
from tests.factories import MembershipFactory, PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.webhooks.conftest import Receiver
from webhooks import signing, sweep
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    """A receiver on loopback over plain HTTP, which only development and tests may allow."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = True
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_an_admin_adds_a_webhook_sees_a_delivery_and_redelivers_it(page, live_server, receiver):
    project = ProjectFactory(slug="acme", name="Acme", tracking_prefix="ACME")
    PolicyRevisionFactory(project=project)
    admin = MembershipFactory(
        project=project, user=UserFactory(email="admin@acme.example"), role=Membership.Role.ADMIN
    ).user

    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/projects/acme/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks of Acme")).to_be_visible()
    page.get_by_label("Payload URL*").fill(receiver.url())
    page.get_by_label("Comment (internal ones only to internal hooks)").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_text("Webhook created. Its secret is shown below.")).to_be_visible()
    hook = Webhook.objects.get()
    expect(page.locator("#webhook-secret")).to_have_text(hook.secret)
    assert "report.comment" not in hook.events
    expect(page.get_by_text("Nothing delivered yet")).to_be_visible()

    # A report is filed; beat's sweep sends it.
    reporter = UserFactory(email="reporter@example.org")
    report = report_services.file_report(
        project=project, reporter=reporter, fields={"title": "Heap overflow"}
    )
    sweep.sweep()
    (first,) = receiver.requests
    assert json.loads(first.body)["report"]["tracking_id"] == report.tracking_id
    timestamp = first.headers["X-Disclosure-Timestamp"]
    assert first.headers["X-Disclosure-Signature"] == signing.signature(
        hook.secret, timestamp, first.body
    )

    page.reload()
    event_id = first.headers["X-Disclosure-Event-Id"]
    row = page.get_by_role("row").filter(has_text=event_id)
    expect(row).to_contain_text("report.filed")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("HTTP 200")

    receiver.answer(500, b"receiver is down")
    row.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("Redelivery started")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=event_id)
    expect(row).to_contain_text("HTTP 500")
    expect(row).to_contain_text("receiver is down")
    row.get_by_text("All 2 attempts").click()  # the first attempt's answer is kept too
    expect(row.get_by_role("listitem")).to_have_count(2)
    expect(row.get_by_role("listitem").last).to_contain_text("HTTP 200")
    assert receiver.event_ids() == [event_id, event_id]
    assert receiver.requests[1].body == first.body

    # The secret leaked: the admin makes a new one; the next attempt is signed with it.
    old = hook.secret
    page.get_by_role("button", name="Make a new secret").click()
    expect(page.get_by_text("New secret made: put it in your receiver.")).to_be_visible()
    hook.refresh_from_db()
    assert hook.secret != old
    expect(page.locator("#webhook-secret")).to_have_text(hook.secret)
    receiver.answer(200, b"ok")
    page.get_by_role("row").filter(has_text=event_id).get_by_role(
        "button", name="Redeliver"
    ).click()
    expect(page.get_by_text("Redelivery started")).to_be_visible()
    third = receiver.requests[2]
    stamp = third.headers["X-Disclosure-Timestamp"]
    assert third.headers["X-Disclosure-Signature"] == signing.signature(
        hook.secret, stamp, third.body
    )
