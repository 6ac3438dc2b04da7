"""/health/: is this instance able to serve, and is its background work alive? Probed by
docker-compose and monitors.

Besides the database and the broker it reports two ages, each against a threshold (settings):
- beat: since the last beat heartbeat (disclosure.tasks.beat_heartbeat, scheduled with the sweeps
  and run on their queue), so a dead beat or a dead sweeps worker is noticed;
- outbox: of the oldest email still waiting for delivery, so a dead notifications worker (or an
  unreachable mail server) is noticed.
Either older than its threshold answers 503.
"""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from kombu import Connection

from disclosure.models import Heartbeat
from mailer.outbox import oldest_undelivered

BEAT = "beat"
# Until the first heartbeat, the age counts from the start of this process: a new instance gets
# HEALTH_BEAT_MAX_AGE to start beat and a worker before it reports them missing.
STARTED_AT = timezone.now()


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "down"; the kind is reported
        return f"error: {type(error).__name__}"
    return "ok"


def broker_status():
    if not settings.CELERY_BROKER_URL:
        # Embedded mode: tasks run in-process, there is no broker to lose.
        return "eager"
    try:
        with Connection(
            settings.CELERY_BROKER_URL, connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT
        ) as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


def record_beat():
    """The beat heartbeat: now."""
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"at": timezone.now()})


def _age(since, now):
    return max(0, round((now - since).total_seconds()))


def beat_status(now=None):
    """{last_sweep_at, age_seconds, expected, ok}. In embedded mode (no broker) no beat runs and
    none is expected: always ok.
    """
    now = now or timezone.now()
    last = Heartbeat.objects.filter(name=BEAT).values_list("at", flat=True).first()
    if not settings.CELERY_BROKER_URL:
        return {"last_sweep_at": last, "age_seconds": None, "expected": False, "ok": True}
    age = _age(last or STARTED_AT, now)
    return {
        "last_sweep_at": last,
        "age_seconds": age,
        "expected": True,
        "ok": age <= settings.HEALTH_BEAT_MAX_AGE,
    }


def outbox_status(now=None):
    """{oldest_undelivered_at, age_seconds, ok}: nothing pending is ok."""
    now = now or timezone.now()
    oldest = oldest_undelivered()
    age = None if oldest is None else _age(oldest, now)
    return {
        "oldest_undelivered_at": oldest,
        "age_seconds": age,
        "ok": age is None or age <= settings.HEALTH_OUTBOX_MAX_AGE,
    }


def status():
    """The whole report and whether the instance is healthy."""
    report = {"db": database_status(), "broker": broker_status()}
    healthy = report["db"] == "ok" and report["broker"] in {"ok", "eager"}
    if report["db"] == "ok":
        # Without a database there is no age to read; "db" already says what is wrong.
        now = timezone.now()
        try:
            ages = {"beat": beat_status(now), "outbox": outbox_status(now)}
        except DatabaseError as error:  # e.g. not migrated yet: unhealthy, and why
            report["db"] = f"error: {type(error).__name__}"
            return report, False
        report.update(ages)
        healthy = healthy and report["beat"]["ok"] and report["outbox"]["ok"]
    return report, healthy


@never_cache
def health(request):
    report, healthy = status()
    return JsonResponse(report, status=200 if healthy else 503)
