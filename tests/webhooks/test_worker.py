"""Webhook sweeps on real Celery workers (PostgreSQL row locks, Redis) posting to a real receiver
on loopback: every event arrives although a worker is killed in the middle of a sweep, and what
arrives twice arrives with the same event id and the same body (at-least-once); two sweeps at
once send each delivery once.
"""

import json

import pytest

from tests.reports.conftest import file
from tests.webhooks.conftest import make_hook
from webhooks import tasks
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.heavy, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORKER_SETTINGS = {"WEBHOOK_ALLOW_INTERNAL_TARGETS": "1", "WEBHOOK_ALLOW_HTTP": "1"}


def delivered():
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count()


def filed(project, reporter, count):
    for n in range(count):
        file(reporter, project, title=f"Bug {n}")


def check_at_least_once(receiver, expected):
    """Every delivery's event arrived; a repeated event id came with the very same body."""
    bodies = {}
    for request in receiver.requests:
        event_id = request.headers["X-Disclosure-Event-Id"]
        assert json.loads(request.body)["id"] == event_id
        assert bodies.setdefault(event_id, request.body) == request.body
    assert set(bodies) == expected


def test_every_event_arrives_under_a_killed_worker(
    celery_worker, project, reporter, receiver, local_targets
):
    make_hook(project, receiver.url())
    filed(project, reporter, 24)
    receiver.delay = 0.2  # slow enough to kill the worker in the middle of a batch
    worker = celery_worker.start(concurrency=1, WEBHOOK_BATCH_SIZE="4", **WORKER_SETTINGS)
    celery_worker.send(tasks.sweep_webhooks)
    celery_worker.wait_until(lambda: len(receiver.requests) >= 6, "a few deliveries", interval=0.01)
    celery_worker.kill(worker)

    assert WebhookDelivery.objects.count() == 24  # collected whole before sending
    assert 0 < delivered() < 24, "the sweep ended before the worker could be killed"

    receiver.delay = 0
    celery_worker.start(concurrency=2, **WORKER_SETTINGS)
    celery_worker.send(tasks.sweep_webhooks)
    celery_worker.wait_until(lambda: delivered() == 24, "every delivery")
    expected = {str(i) for i in WebhookDelivery.objects.values_list("event_id", flat=True)}
    check_at_least_once(receiver, expected)
    # The rows of the killed batch were sent again: a duplicate carries its event's id.
    assert len(receiver.requests) >= 24


def test_two_sweeps_at_once_send_each_delivery_once(
    celery_worker, project, reporter, receiver, local_targets
):
    make_hook(project, receiver.url())
    filed(project, reporter, 20)
    receiver.delay = 0.05
    celery_worker.start(concurrency=2, WEBHOOK_BATCH_SIZE="3", **WORKER_SETTINGS)
    sweeps = [celery_worker.send(tasks.sweep_webhooks) for _ in range(2)]
    celery_worker.wait_until(lambda: len(celery_worker.results(sweeps)) == 2, "both sweeps")
    assert delivered() == 20
    assert len(receiver.requests) == 20  # SKIP LOCKED: no row sent by both
    assert sum(celery_worker.results(sweeps).values()) == 20
    check_at_least_once(
        receiver, {str(i) for i in WebhookDelivery.objects.values_list("event_id", flat=True)}
    )
