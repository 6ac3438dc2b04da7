"""Beat's IMAP poll on real Celery workers (tests/celery_workers.py) against the real dovecot and
gateway: two polls at once on two worker processes, each message becomes one report.
"""

import pytest

from inbox import tasks
from reports.models import Report

pytestmark = [pytest.mark.services, pytest.mark.imap]

COUNT = 6


def message(number):
    return (
        f"From: Finder {number} <finder{number}@example.net>\r\n"
        "To: security@acme.example.org\r\n"
        f"Subject: Finding {number}\r\n"
        f"Message-ID: <worker-finding-{number}@example.net>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        "\r\n"
        f"Details of finding {number}.\r\n"
    ).encode()


def test_two_polls_at_once_on_real_workers_file_each_message_once(
    celery_worker, project, imap_server
):
    imap_server.mailbox_for(
        project,
        enabled=True,
    )
    for number in range(COUNT):
        imap_server.append(message(number))
    celery_worker.start(
        concurrency=2,
        INBOX_IMAP_PASSWORD_ACME=imap_server.password,
        INBOX_IMAP_CA_FILE=imap_server.ca_file,
    )

    polls = [celery_worker.send(tasks.poll_mailboxes) for _ in range(2)]
    celery_worker.wait_until(lambda: len(celery_worker.results(polls)) == 2, "both polls to finish")

    # Whether the second poll found the lease taken or the folder empty, it moved nothing.
    moved = sorted(celery_worker.results(polls).values())
    assert moved == [0, COUNT]
    titles = sorted(Report.objects.filter(project=project).values_list("title", flat=True))
    assert titles == sorted(f"Finding {number}" for number in range(COUNT))
    assert imap_server.messages("INBOX") == []
    assert len(imap_server.messages("Processed")) == COUNT
