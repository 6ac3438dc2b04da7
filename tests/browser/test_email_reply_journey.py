"""A reporter answers a notification by email; the maintainer reads the comment on the report
page, marked "by email", and opens the original message; the reporter sees the mark only."""

import pytest
from playwright.sync_api import expect

from inbox import gateway
from mailer.models import reference
from mailer.replies import reply_address
from tests.browser.helpers import (
    QUEUE_NAV,
    filed_stalwart_report,
    member_of,
    open_report,
    seeded_project,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = """\
From: Rita Reporter <{sender}>
To: {to}
Subject: Re: [{tracking_id}] Acknowledged by the Stalwart security team
Message-ID: <journey-reply@mail.example.org>
Date: Tue, 01 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

It also works against 0.13.2 with the default relay settings.

On Tue, Dec 1, 2026 at 9:00 AM Disclosure <noreply@disclosure.example.org> wrote:
> Which versions did you test?
"""


def test_a_reply_by_email_on_the_report_page(page, live_server):
    stalwart = seeded_project("stalwart")
    maintainer = member_of(stalwart, "maintainer@example.org")
    report = filed_stalwart_report(stalwart)
    reporter = report.reporter
    address = reply_address(reference(report), reporter.pk)
    raw = REPLY.format(sender=reporter.email, to=address, tracking_id=report.tracking_id)

    delivery = gateway.ingest(raw.replace("\n", "\r\n").encode(), recipients=[address])
    assert delivery.status == gateway.DELIVERED

    sign_in(page, live_server, maintainer)
    open_report(page, report.tracking_id, nav=QUEUE_NAV)
    comment = page.get_by_role("listitem").filter(has_text="It also works against 0.13.2")
    expect(comment).to_contain_text("by email")
    expect(comment).not_to_contain_text("Which versions did you test?")  # the quote is trimmed
    with page.expect_download() as download:
        comment.get_by_role("link", name="original message").click()
    original = download.value.path().read_text()
    assert "> Which versions did you test?" in original
    assert f"To: {address}" in original
    sign_out(page)

    sign_in(page, live_server, reporter)
    open_report(page, report.tracking_id)
    comment = page.get_by_role("listitem").filter(has_text="It also works against 0.13.2")
    expect(comment).to_contain_text("by email")
    expect(comment.get_by_role("link", name="original message")).to_have_count(0)
