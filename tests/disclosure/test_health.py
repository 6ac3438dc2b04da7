from unittest import mock

import pytest
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db


def test_health_embedded_mode_is_healthy(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "broker": "eager"}
    assert "no-cache" in response["Cache-Control"]


def test_health_reports_503_when_the_broker_is_down(client, settings):
    # Nothing listens on port 1: connection refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 1
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
    assert response.json() == {"db": "error: OperationalError", "broker": "eager"}


@pytest.mark.services
def test_health_with_the_real_broker_and_database(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "broker": "ok"}
