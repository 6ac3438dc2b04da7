import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db.utils import OperationalError, ProgrammingError
from django.utils import timezone

from disclosure import health, tasks
from disclosure.models import Heartbeat
from mailer.models import OutboundEmail
from mailer.outbox import MAX_ATTEMPTS

pytestmark = pytest.mark.django_db

as_json = DjangoJSONEncoder().default
NOT_EXPECTED = {"last_sweep_at": None, "age_seconds": None, "expected": False, "ok": True}
NOTHING_PENDING = {"oldest_undelivered_at": None, "age_seconds": None, "ok": True}


def test_health_embedded_mode_is_healthy(client, settings, django_assert_num_queries):
    settings.CELERY_BROKER_URL = ""
    # SELECT 1; the beat heartbeat; the oldest pending outbox row.
    with django_assert_num_queries(3):
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "db": "ok",
        "broker": "eager",
        "beat": NOT_EXPECTED,
        "outbox": NOTHING_PENDING,
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_reports_503_when_the_broker_is_down(client, settings):
    # Nothing listens on port 1: connection refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 1
    Heartbeat.objects.create(name="beat", at=timezone.now())
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["db"] == "ok"
    assert body["broker"].startswith("error: ")


def test_health_reports_503_when_the_database_is_down(client, settings):
    settings.CELERY_BROKER_URL = ""
    with mock.patch(
        "disclosure.health.connection.cursor", side_effect=OperationalError("server closed")
    ):
        response = client.get("/health/")
    assert response.status_code == 503
    # No ages without a database: "db" says what is wrong.
    assert response.json() == {"db": "error: OperationalError", "broker": "eager"}


@pytest.mark.services
def test_health_with_the_real_broker_and_database(client):
    tasks.beat_heartbeat()
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert (body["db"], body["broker"]) == ("ok", "ok")
    assert body["beat"]["ok"] is True
    assert body["beat"]["age_seconds"] <= 5


# --- Staleness: the beat heartbeat and the outbox ------------------------------------------------


@pytest.fixture
def with_broker(settings):
    """An instance with a broker (beat expected), whose broker answers."""
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"
    settings.HEALTH_BEAT_MAX_AGE = 900
    settings.HEALTH_OUTBOX_MAX_AGE = 600
    with mock.patch("disclosure.health.broker_status", return_value="ok"):
        yield


def _beat_at(seconds_ago):
    return Heartbeat.objects.create(
        name="beat", at=timezone.now() - dt.timedelta(seconds=seconds_ago)
    ).at


def _pending_email(seconds_ago, **fields):
    email = OutboundEmail.objects.create(to="someone@example.org", subject="S", body="B", **fields)
    created = timezone.now() - dt.timedelta(seconds=seconds_ago)
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=created)
    return created


def test_a_recent_heartbeat_is_healthy(client, with_broker, django_assert_num_queries):
    at = _beat_at(30)
    with django_assert_num_queries(3):
        response = client.get("/health/")
    assert response.status_code == 200
    beat = response.json()["beat"]
    assert beat["ok"] is True
    assert beat["expected"] is True
    assert 30 <= beat["age_seconds"] <= 35
    assert beat["last_sweep_at"] == as_json(at)


def test_a_stale_heartbeat_answers_503(client, with_broker):
    _beat_at(901)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["beat"]["ok"] is False
    assert body["beat"]["age_seconds"] >= 901
    assert body["outbox"] == NOTHING_PENDING


def test_no_heartbeat_yet_is_healthy_during_the_start_up_grace(client, with_broker):
    with mock.patch.object(health, "STARTED_AT", timezone.now() - dt.timedelta(seconds=60)):
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["beat"]["last_sweep_at"] is None
    assert response.json()["beat"]["ok"] is True


def test_no_heartbeat_long_after_start_answers_503(client, with_broker):
    with mock.patch.object(health, "STARTED_AT", timezone.now() - dt.timedelta(seconds=1000)):
        response = client.get("/health/")
    assert response.status_code == 503
    beat = response.json()["beat"]
    assert beat["last_sweep_at"] is None
    assert beat["ok"] is False
    assert beat["age_seconds"] >= 1000


def test_embedded_mode_expects_no_beat_however_old_the_heartbeat(client, settings):
    settings.CELERY_BROKER_URL = ""
    _beat_at(100_000)
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["beat"]["expected"] is False


def test_a_recent_pending_email_is_healthy(client, with_broker):
    _beat_at(10)
    _pending_email(60)
    response = client.get("/health/")
    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert outbox["ok"] is True
    assert 60 <= outbox["age_seconds"] <= 65


def test_an_old_pending_email_answers_503(client, with_broker):
    _beat_at(10)
    # Ids follow creation: the oldest row comes first.
    created = _pending_email(601, attempts=MAX_ATTEMPTS - 1)
    _pending_email(60)
    response = client.get("/health/")
    assert response.status_code == 503
    outbox = response.json()["outbox"]
    assert outbox["ok"] is False
    assert outbox["oldest_undelivered_at"] == as_json(created)
    assert outbox["age_seconds"] >= 601
    assert response.json()["beat"]["ok"] is True


def test_old_emails_sent_or_given_up_do_not_count(client, with_broker):
    _beat_at(10)
    _pending_email(5000, sent_at=timezone.now())
    _pending_email(5000, attempts=MAX_ATTEMPTS, last_error="SMTPRecipientsRefused")
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["outbox"] == NOTHING_PENDING


def test_the_beat_heartbeat_task_records_now(settings):
    before = timezone.now()
    tasks.beat_heartbeat()
    tasks.beat_heartbeat()
    (heartbeat,) = Heartbeat.objects.all()
    assert heartbeat.name == "beat"
    assert before <= heartbeat.at <= timezone.now()


# --- The beat container's health check ----------------------------------------------------------


def test_check_heartbeat_passes_on_a_recent_heartbeat(with_broker):
    _beat_at(30)
    out = io.StringIO()
    call_command("check_heartbeat", stdout=out)
    assert out.getvalue().startswith("beat heartbeat 3")


@pytest.mark.parametrize(
    ("seconds_ago", "message"),
    [(None, "no beat heartbeat yet"), (901, r"the last beat heartbeat is 90\d s old")],
)
def test_check_heartbeat_fails_without_a_fresh_heartbeat(with_broker, seconds_ago, message):
    if seconds_ago is not None:
        _beat_at(seconds_ago)
    with pytest.raises(CommandError, match=message):
        call_command("check_heartbeat")


def test_check_heartbeat_fails_in_embedded_mode(settings):
    settings.CELERY_BROKER_URL = ""
    with pytest.raises(CommandError, match="no beat runs"):
        call_command("check_heartbeat")


def test_an_unmigrated_database_answers_503_with_the_error(client, settings):
    settings.CELERY_BROKER_URL = ""
    with mock.patch(
        "disclosure.health.oldest_undelivered", side_effect=ProgrammingError("no such table")
    ):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"db": "error: ProgrammingError", "broker": "eager"}
