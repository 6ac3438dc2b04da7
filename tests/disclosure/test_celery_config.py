"""Celery is configured for production (DESIGN §5): late acknowledgment with idempotent tasks,
JSON only, time limits under Redis's visibility timeout, notifications on their own queue, the
periodic sweeps in the beat schedule, and a compose file whose worker and beat match.

Values are read from the Celery app (app.conf), not only from Django settings, so a CELERY_* name
Celery does not map would show up here.
"""

import ast
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from disclosure.celery import app

ROOT = Path(__file__).resolve().parents[2]

# Notifications are written to the outbox by the services; only delivery is a task.
NOTIFICATION_TASKS = ("mailer.tasks.deliver_outbox",)
DEFAULT_QUEUE_TASKS = (
    "reports.tasks.sweep_reminders",
    "reports.tasks.compute_cvss",
    "reports.tasks.score_unscored",
    "disclosure.tasks.beat_heartbeat",
)


def task_names():
    """Every top-level function of every app's tasks.py: each must be a registered task."""
    names = []
    for path in sorted(ROOT.glob("*/tasks.py")):
        tree = ast.parse(path.read_text())
        module = f"{path.parent.name}.tasks"
        names += [
            f"{module}.{node.name}" for node in tree.body if isinstance(node, ast.FunctionDef)
        ]
    return names


def queue_of(name):
    return app.amqp.router.route({}, name)["queue"].name


def seconds(schedule):
    if isinstance(schedule, int | float):
        return schedule
    if isinstance(schedule, dt.timedelta):
        return schedule.total_seconds()
    return schedule.run_every.total_seconds()  # celery.schedules.schedule


# --- Reliability --------------------------------------------------------------------------------


def test_tasks_are_acknowledged_late_and_requeued_when_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_only_json_is_sent_and_accepted():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_time_limits_fit_under_the_visibility_timeout():
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit
    assert 0 < soft < hard
    # Redis redelivers an unacknowledged task after the visibility timeout: a task still running
    # then would run twice at once. The hard limit ends every task before that.
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > hard


# --- Queues -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTIFICATION_TASKS)
def test_notifications_go_to_their_own_queue(name):
    assert queue_of(name) == "notifications"


@pytest.mark.parametrize("name", DEFAULT_QUEUE_TASKS)
def test_sweeps_and_scoring_stay_on_the_default_queue(name):
    assert app.conf.task_default_queue == "celery"
    assert queue_of(name) == "celery"


def test_every_task_is_registered_and_routed_to_a_known_queue():
    names = task_names()
    assert {*NOTIFICATION_TASKS, *DEFAULT_QUEUE_TASKS} <= set(names)
    registered = set(app.tasks.keys())
    missing = [name for name in names if name not in registered]
    assert not missing, f"not registered with the Celery app: {missing}"
    assert {queue_of(name) for name in names} == {"celery", "notifications"}


# --- Beat ---------------------------------------------------------------------------------------


def test_beat_runs_the_reminder_sweep_and_the_outbox_delivery():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert seconds(schedule["reports.tasks.sweep_reminders"]) == settings.REMINDER_SWEEP_SECONDS
    assert 0 < seconds(schedule["mailer.tasks.deliver_outbox"]) <= 300
    # /health/ reads the heartbeat's age: its interval must stay well inside the threshold.
    assert (
        0
        < seconds(schedule["disclosure.tasks.beat_heartbeat"]) * 2
        <= (settings.HEALTH_BEAT_MAX_AGE)
    )
    assert set(schedule) <= set(app.tasks.keys())


# --- Settings read once per process: checked in a subprocess ------------------------------------

PRINT = (
    "from django.conf import settings; from disclosure.celery import app; "
    "print('EAGER', settings.CELERY_TASK_ALWAYS_EAGER, app.conf.task_always_eager); "
    "print('BROKER', repr(app.conf.broker_url)); "
    "print('SWEEP', [e['schedule'] for e in app.conf.beat_schedule.values() "
    "if e['task'] == 'reports.tasks.sweep_reminders'])"
)


def shell(**env):
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "REDIS_", "REMINDER_", "DATABASE_"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT],
        cwd=ROOT,
        env={**kept, "DJANGO_DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    keys = ("EAGER ", "BROKER ", "SWEEP ")
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(keys))


def test_tasks_run_eagerly_only_without_a_broker():
    bare = shell()
    assert bare["EAGER"] == "True True"
    # A broker URL is only parsed here, never connected to.
    brokered = shell(CELERY_BROKER_URL="redis://broker.invalid:6379/0", REMINDER_SWEEP_SECONDS="30")
    assert brokered["EAGER"] == "False False"
    assert brokered["BROKER"] == "'redis://broker.invalid:6379/0'"
    assert brokered["SWEEP"] == "[30]"


# --- docker-compose.yml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def words(service):
    command = service.get("command", "")
    return command.split() if isinstance(command, str) else list(command)


def option(argv, *names):
    for index, word in enumerate(argv):
        for name in names:
            if word == name:
                return argv[index + 1]
            if word.startswith(f"{name}="):
                return word.split("=", 1)[1]
    return None


def test_the_worker_consumes_both_queues(services):
    workers = [s for s in services.values() if words(s)[:1] == ["celery"] and "worker" in words(s)]
    assert len(workers) == 1
    argv = words(workers[0])
    assert option(argv, "--queues", "-Q") == "celery,notifications"
    routed = {queue_of(name) for name in task_names()}
    assert routed <= set(option(argv, "--queues", "-Q").split(","))
    # Beat runs on its own, once: never embedded in a worker that may be scaled.
    assert "-B" not in argv
    assert "--beat" not in argv


def test_exactly_one_beat(services):
    beats = [
        (name, s)
        for name, s in services.items()
        if words(s)[:1] == ["celery"] and ("beat" in words(s) or "-B" in words(s))
    ]
    assert [name for name, _ in beats] == ["beat"]
    beat = beats[0][1]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat
