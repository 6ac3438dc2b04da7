"""Two deliveries of one message at the same moment (an MTA retrying while the first run is
still busy, or two MX hosts): PostgreSQL's unique constraint on the Message-ID decides, the
loser answers delivered and nothing is stored twice."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from inbox import gateway
from mailer.models import InboundEmail, OutboundEmail
from reports.models import Report
from tests.inbox.conftest import deliver

WORKERS = 4


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_of_one_message_file_one_report(seeded):
    barrier = threading.Barrier(WORKERS, timeout=30)

    def run(_):
        try:
            connection.ensure_connection()
            barrier.wait()
            return deliver("plain")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        deliveries = list(pool.map(run, range(WORKERS)))

    assert sorted(delivery.outcome for delivery in deliveries) == ["", "", "", "report"]
    assert {delivery.status for delivery in deliveries} == {gateway.DELIVERED}
    assert Report.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert get_user_model().objects.count() == 1
    assert OutboundEmail.objects.filter(subject__endswith="Report received").count() == 1
