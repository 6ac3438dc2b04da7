"""Structured logs (disclosure.logs): in production one JSON object per line on stdout, with
the request id and user id, never a report's text; in development runserver's one line per
request.

Settings are read once per process: the production logging configuration is applied here by
hand (the same function settings.LOGGING calls when DJANGO_DEBUG is off), and the development
server runs in a subprocess.
"""

import io
import json
import logging.config
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from disclosure.logs import json_logging

ROOT = Path(__file__).resolve().parents[2]
BODY = "Unique-report-body-4e1f: the relay accepts bare LF"

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_logs():
    """Production logging for the test; returns a function reading the JSON lines so far."""
    config = json_logging("INFO")
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    logging.config.dictConfig(config)
    (handler,) = logging.getLogger().handlers
    stream = io.StringIO()
    handler.setStream(stream)  # stdout here belongs to pytest's capture

    def lines():
        out = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        return out, [json.loads(line) for line in out.splitlines()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)


def test_a_request_logs_json_with_its_id_and_user_and_never_the_report(client, reporter, json_logs):
    call_command("seed_projects", verbosity=0)
    client.sign_in(reporter)
    json_logs()  # what signing in logged is not under test

    response = client.post(
        "/projects/stalwart/report/",
        {
            "credit-display": "handle",
            "credit-handle": "@ada",
            "title": "SMTP smuggling in the relay",
            "vulnerability_type": "SMTP smuggling",
            "affected_versions": ["0.13.x"],
            "affected_components": "smtp-inbound",
            "steps_to_reproduce": BODY,
            "impact": BODY,
            "proof_of_concept": BODY,
        },
        headers={"X-Request-ID": "proxy-7b2c.1"},
    )
    missing = client.get("/reports/STW-1999-0001/", headers={"X-Request-ID": "proxy-7b2c.2"})

    assert response.status_code == 302
    assert response["X-Request-ID"] == "proxy-7b2c.1"
    assert missing.status_code == 404
    out, records = json_logs()
    assert BODY not in out
    assert "Unique-report-body" not in out
    requests = [r for r in records if r["logger"] == "disclosure.requests"]
    (filed,) = [r for r in requests if r["method"] == "POST"]
    assert filed["request_id"] == "proxy-7b2c.1"
    assert filed["user_id"] == reporter.pk
    assert filed["route"] == "projects/<slug:slug>/report/"
    assert filed["status"] == 302
    assert filed["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", filed["time"])
    # Any record of a request carries its ids: Django's own warning about the 404 too.
    (not_found,) = [r for r in records if r["logger"] == "django.request"]
    assert not_found["message"] == "Not Found: /reports/STW-1999-0001/"
    assert (not_found["request_id"], not_found["user_id"]) == ("proxy-7b2c.2", reporter.pk)
    assert set(not_found) == {"time", "level", "logger", "message", "request_id", "user_id"}


@pytest.mark.parametrize(
    "header", ["", "has space", "x" * 101, "line\\nbreak", "id\u00e9"], ids=repr
)
def test_an_absent_or_odd_request_id_is_replaced_by_a_new_one(client, json_logs, header):
    headers = {"X-Request-ID": header} if header else {}
    first = client.get("/health/", headers=headers)["X-Request-ID"]
    second = client.get("/health/", headers=headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    _, records = json_logs()
    ids = [r["request_id"] for r in records if r["logger"] == "disclosure.requests"]
    assert ids == [first, second]
    assert [r["user_id"] for r in records if r["logger"] == "disclosure.requests"] == [None] * 2


def test_outside_a_request_the_ids_are_null(json_logs):
    logging.getLogger("reports.sweep").warning("sweep took %s s", 12)
    _, records = json_logs()
    assert records[-1]["message"] == "sweep took 12 s"
    assert (records[-1]["request_id"], records[-1]["user_id"]) == (None, None)


def test_an_exception_is_logged_with_its_traceback_in_the_same_line(json_logs):
    try:
        raise ValueError("bad vector")
    except ValueError:
        logging.getLogger("reports").exception("scoring failed")
    _, records = json_logs()
    assert records[-1]["message"] == "scoring failed"
    assert "ValueError: bad vector" in records[-1]["exception"]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_runserver_logs_one_line_per_request(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/site.css", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not answer"
                time.sleep(0.2)
        # Not migrated: /health/ answers 503, which Django also warns about (once).
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5)
        time.sleep(1)  # runserver logs the request after answering it
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    requests = [line for line in output.splitlines() if "/static/" in line or "/health/" in line]
    assert len(requests) == 3, output
    assert '"GET /static/css/site.css HTTP/1.1" 200' in requests[0]
    assert requests[1] == "Service Unavailable: /health/"
    assert '"GET /health/ HTTP/1.1" 503' in requests[2]
