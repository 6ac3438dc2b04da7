"""Real Celery workers for tests (DESIGN §5): `celery worker` subprocesses on a queue of their
own, against the test's PostgreSQL database and CI's Redis; the `celery_worker` fixture (exposed
by tests/conftest.py) starts, kills and cleans them up.
"""

import contextlib
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

from disclosure.celery import app

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
