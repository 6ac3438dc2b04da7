"""A superuser connects a project's IMAP mailbox in the admin: the form never asks for the
password, the page says where the platform looks for it and whether it found it, and once
enabled the mailbox is polled from a real IMAP server (dovecot, tests/mail_servers.py).

The gateway is not under test: a recorder stands in for inbox.gateway.ingest (monkeypatched).
"""

import pytest
from playwright.sync_api import expect

from inbox import gateway, tasks
from tests.browser.helpers import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.imap, pytest.mark.django_db(transaction=True)]

MESSAGE = (
    b"From: Reporter <reporter@example.net>\r\n"
    b"To: security@acme.example.org\r\n"
    b"Subject: Heap overflow\r\n"
    b"Message-ID: <journey@example.net>\r\n"
    b"\r\n"
    b"The parser overflows.\r\n"
)


def test_a_superuser_connects_a_project_mailbox(
    page, live_server, project, imap_server, settings, monkeypatch
):
    handed_over = []
    monkeypatch.setattr(
        gateway,
        "ingest",
        lambda raw, *, recipients=None, project=None: (
            handed_over.append((raw, project)) or gateway.Delivery(status=gateway.DELIVERED)
        ),
    )
    settings.INBOX_IMAP_CA_FILE = imap_server.ca_file
    root = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    sign_in(page, live_server, root)

    page.goto(live_server.url + "/admin/")
    page.get_by_role("link", name="IMAP mailboxes").click()
    page.get_by_role("link", name="Add IMAP mailbox").click()
    # Where the password goes is said before anything is saved; there is no field for it.
    expect(page.get_by_text("INBOX_IMAP_PASSWORD_<SLUG>")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    page.get_by_label("Project").select_option(label=project.name)
    page.get_by_label("Host").fill(imap_server.host)
    page.get_by_label("Port").fill(str(imap_server.port))
    page.get_by_label("Username").fill(imap_server.username)
    expect(page.get_by_label("Enabled")).not_to_be_checked()
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.get_by_text("missing: put it in the environment variable")).to_be_visible()
    expect(page.get_by_text("INBOX_IMAP_PASSWORD_ACME")).to_be_visible()

    # The operator sets the variable (here: for the server process, which is this one).
    monkeypatch.setenv("INBOX_IMAP_PASSWORD_ACME", imap_server.password)
    page.reload()
    expect(
        page.get_by_text("read from the environment variable INBOX_IMAP_PASSWORD_ACME")
    ).to_be_visible()
    page.get_by_label("Enabled").check()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    imap_server.append(MESSAGE)
    tasks.poll_mailboxes()  # what beat runs every INBOX_IMAP_POLL_SECONDS

    assert handed_over == [(MESSAGE, project)]
    assert imap_server.messages("Processed") == [MESSAGE]
    page.reload()
    expect(page.locator(".field-last_polled_at .readonly")).not_to_have_text("-")
    expect(page.locator(".field-last_error .readonly")).to_have_text("-")
    assert imap_server.password not in page.content()
