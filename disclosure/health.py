"""/health/: is this instance able to serve? Probed by docker-compose and monitors."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection


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


@never_cache
def health(request):
    status = {"db": database_status(), "broker": broker_status()}
    healthy = status["db"] == "ok" and status["broker"] in {"ok", "eager"}
    return JsonResponse(status, status=200 if healthy else 503)
