"""The reminder sweep and the outbox on a real Celery worker (DESIGN §5): PostgreSQL row locks
(SELECT ... FOR UPDATE SKIP LOCKED), Redis as the broker, prefork worker processes.

Each test starts its own worker as a subprocess on the test database, consuming a queue of its own
(parallel xdist processes never take each other's tasks), and everything the test process
enqueues goes to that queue. CI runs these; locally they are skipped without the services.
"""

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.signals import after_task_publish
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from disclosure.celery import app
from mailer import outbox
from mailer import tasks as mailer_tasks
from mailer.models import OutboundEmail
from reports import services, tasks
from reports.models import Reminder
from reports.reminders import Kind

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 60  # seconds any wait on the worker may take
CONSOLE = "django.core.mail.backends.console.EmailBackend"


def worker_database_url():
    """DATABASE_URL of the database pytest-django created for this (xdist) process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(db['NAME'], safe='')}"


class Worker:
    """`celery worker` subprocesses on one queue of their own, and the tasks sent to it."""

    def __init__(self, queue, logs):
        self.queue, self.logs = queue, logs
        self.processes, self.published = [], set()

    def start(self, *, concurrency, **env):
        """Start a worker; from now on tasks are no longer run in-process (the autouse fixture
        of tests/conftest.py) but published, all of them to this worker's queue.
        """
        app.conf.task_always_eager = False
        app.conf.update(task_routes={"*": {"queue": self.queue}})
        environment = {key: value for key, value in os.environ.items() if key not in {"EMAIL_URL"}}
        environment.update(
            DJANGO_DEBUG="1",
            DATABASE_URL=worker_database_url(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            DJANGO_EMAIL_BACKEND=CONSOLE,  # emails end in the worker's log
            PYTHONUNBUFFERED="1",
            **env,
        )
        log = self.logs / f"worker-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "disclosure", "worker",
                    "--hostname", f"{self.queue}-{len(self.processes)}@%h",
                    "--queues", self.queue,
                    "--concurrency", str(concurrency),
                    "--pool", "prefork",
                    "--loglevel", "INFO",
                    "--without-heartbeat", "--without-gossip", "--without-mingle",
                ],
                cwd=REPO,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the pool too
            )  # fmt: skip
        process.log = log
        self.processes.append(process)
        self.wait_until(lambda: " ready." in self.log(process), "the worker to be ready")
        return process

    def send(self, task):
        """Publish `task` to this worker's queue; returns the task id."""
        return task.apply_async(queue=self.queue).id

    def kill(self, process):
        """SIGKILL the worker and its pool processes, as a crash or the OOM killer would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=DEADLINE)

    def stop(self, process):
        if process.poll() is None:
            process.terminate()  # warm shutdown: running tasks finish
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # pool processes that outlived it
        process.wait(timeout=DEADLINE)

    def log(self, process=None):
        chosen = [process] if process else self.processes
        return "\n".join(p.log.read_text(errors="replace") for p in chosen)

    def wait_until(self, condition, what, *, interval=0.1, running=True):
        """Poll `condition` for up to DEADLINE seconds; fail early if a worker `running` died."""
        deadline = time.monotonic() + DEADLINE
        while not condition():
            for process in self.processes if running else ():
                if process.poll() is None or process.returncode == -signal.SIGKILL:
                    continue
                pytest.fail(f"the worker exited ({process.returncode}):\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"waited {DEADLINE} s for {what}; worker log:\n{self.log()[-3000:]}")
            time.sleep(interval)

    def results(self, task_ids=None, *, task=None):
        """{task id: return value} of the tasks (of these ids, or of this name) the worker
        logged as succeeded.
        """
        found = {}
        for line in self.log().splitlines():
            match = re.search(
                r"Task ([\w.]+)\[([0-9a-f-]{36})\] succeeded in [\d.e-]+s: (.*)$", line
            )
            if match and (match[2] in (task_ids or ()) or match[1] == task):
                found[match[2]] = json.loads(match[3]) if match[3] != "None" else None
        return found


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """Real workers for the test; stopped, and their queue removed, before the database is
    flushed. Tasks published by the test process (and their descendants, published by the
    worker: deliver_outbox goes to "notifications") are cleaned out of the broker.
    """
    worker = Worker(f"reminders-test-{uuid.uuid4().hex[:12]}", tmp_path)
    eager, routes = app.conf.task_always_eager, app.conf.task_routes

    def record(sender=None, headers=None, **kwargs):
        worker.published.add(headers["id"])

    after_task_publish.connect(record, weak=False)
    try:
        yield worker
    finally:
        after_task_publish.disconnect(record)
        try:
            for process in worker.processes:
                worker.stop(process)
            worker.wait_until(no_other_sessions, "the workers' sessions to end", running=False)
        finally:
            app.conf.task_always_eager = eager
            app.conf.update(task_routes=routes)
            forget(worker.queue, worker.published)


def no_other_sessions():
    """Nobody but this process is connected to the test database (it can be flushed and, at the
    end of the run, dropped).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] == 0


def forget(queue, roots):
    """Remove the test's queue and the broker messages that stem from the test (kombu's Redis
    layout: a list per queue and priority, the "unacked" hash of delivered messages).
    """
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(queue)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for key in client.scan_iter(match="notifications*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            if json.loads(raw).get("headers", {}).get("root_id") in roots:
                client.lrem(key, 0, raw)
    for tag, raw in client.hscan_iter("unacked"):
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:  # taken by a worker the test killed
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def due_reminders(project, reporter, count, *, reports=10):
    """`count` due reminders (send_at in the past, each its own deadline) over `reports` reports
    of `project`, bulk-created. Members get them: one outbox row per member.
    """
    filed = [
        services.file_report(project=project, reporter=reporter, fields={"title": f"Report {n}"})
        for n in range(reports)
    ]
    start = timezone.now() - dt.timedelta(days=2)
    reminders = [
        Reminder(
            report=filed[n % reports],
            kind=Kind.UPDATE_OVERDUE,
            due_at=start + dt.timedelta(seconds=n),
            send_at=start + dt.timedelta(seconds=n),
        )
        for n in range(count)
    ]
    return Reminder.objects.bulk_create(reminders, batch_size=1000)


def still_due():
    return Reminder.objects.filter(sent_at__isnull=True, send_at__lte=timezone.now()).count()


def reminder_rows():
    """Outbox rows written for reminders: their dedup key names the reminder."""
    return OutboundEmail.objects.filter(dedup_key__startswith="reports.reminder:")


def outbox_by_reminder(ids):
    """{reminder id: sorted addresses} of the outbox rows written for reminders in `ids`."""
    found = {}
    for key, address in reminder_rows().order_by("to").values_list("dedup_key", "to"):
        reminder_id = int(key.split(":")[1])
        if reminder_id in ids:
            found.setdefault(reminder_id, []).append(address)
    return found


def assert_sent_once(ids, recipients):
    """Every reminder in `ids` is sent, with exactly one outbox row per recipient."""
    assert not Reminder.objects.filter(pk__in=ids, sent_at__isnull=True).exists()
    assert outbox_by_reminder(set(ids)) == dict.fromkeys(ids, recipients)
    duplicates = (
        reminder_rows().values("dedup_key", "to").annotate(copies=Count("id")).filter(copies__gt=1)
    )
    assert not duplicates.exists()


COUNT = 1000  # enough for the two sweeps to overlap for a second or so


def test_two_sweeps_at_once_send_every_reminder_once(
    celery_worker, project, maintainer, triager, reporter
):
    created = due_reminders(project, reporter, COUNT)
    ids = [reminder.pk for reminder in created]
    celery_worker.start(concurrency=2, REMINDER_BATCH_SIZE="20")

    sweeps = [celery_worker.send(tasks.sweep_reminders) for _ in range(2)]
    celery_worker.wait_until(lambda: still_due() == 0, "every due reminder to be sent")
    celery_worker.wait_until(
        lambda: len(celery_worker.results(sweeps)) == 2, "both sweeps to finish"
    )

    assert_sent_once(ids, sorted([maintainer.email, triager.email]))
    assert reminder_rows().count() == 2 * COUNT
    # Each reminder was taken by exactly one of the two sweeps.
    taken = celery_worker.results(sweeps)
    assert sum(taken.values()) == COUNT
    assert all(taken.values()), f"the sweeps did not overlap: {taken}"


def test_a_worker_killed_mid_sweep_leaves_whole_batches_and_the_next_sweep_finishes(
    celery_worker, project, maintainer, triager, reporter
):
    count, batch = 3000, 50
    created = due_reminders(project, reporter, count)
    ids = [reminder.pk for reminder in created]
    recipients = sorted([maintainer.email, triager.email])
    worker = celery_worker.start(concurrency=1, REMINDER_BATCH_SIZE=str(batch))

    celery_worker.send(tasks.sweep_reminders)
    sent = Reminder.objects.filter(pk__in=ids, sent_at__isnull=False)
    celery_worker.wait_until(lambda: sent.count() >= 2 * batch, "two batches", interval=0.01)
    celery_worker.kill(worker)

    done = set(sent.values_list("pk", flat=True))
    assert 0 < len(done) < count, "the sweep ended before the worker could be killed"
    assert len(done) % batch == 0  # only whole batches were committed
    # The batch in flight rolled back whole: outbox rows exactly for the reminders marked sent.
    assert outbox_by_reminder(set(ids)) == dict.fromkeys(done, recipients)

    celery_worker.start(concurrency=2, REMINDER_BATCH_SIZE=str(batch))
    celery_worker.send(tasks.sweep_reminders)
    celery_worker.wait_until(lambda: still_due() == 0, "the new worker to send the rest")

    assert_sent_once(ids, recipients)
    assert reminder_rows().count() == 2 * count


def test_a_worker_delivers_the_outbox(celery_worker, project, maintainer, triager, reporter):
    report = services.file_report(
        project=project, reporter=reporter, fields={"title": "Heap overflow in the parser"}
    )  # the worker is not started yet: its notifications are delivered in-process
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()

    celery_worker.start(concurrency=1)
    services.add_comment(
        report=report, by=maintainer, body="We can reproduce it.", internal=False, by_member=True
    )
    comment_mail = OutboundEmail.objects.filter(subject=f"[{report.tracking_id}] New comment")
    celery_worker.wait_until(comment_mail.exists, "the comment's emails in the outbox")
    assert sorted(comment_mail.values_list("to", flat=True)) == sorted(
        [reporter.email, triager.email]
    )

    # deliver_outbox on the worker (besides any the service enqueued after its commit).
    delivery = celery_worker.send(mailer_tasks.deliver_outbox)
    celery_worker.wait_until(
        lambda: delivery in celery_worker.results([delivery]), "deliver_outbox to finish"
    )
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    # The worker sent each of them once (console backend: the messages are in its log).
    assert sum(celery_worker.results(task="mailer.tasks.deliver_outbox").values()) == 2
    log = celery_worker.log()
    for email in comment_mail:
        assert (email.attempts, email.last_error) == (0, "")
        assert log.count(f"Message-ID: {outbox.message_id(email)}") == 1
    assert log.count(f"Subject: [{report.tracking_id}] New comment") == 2
