"""A real HTTP receiver on loopback for webhook tests, and hooks pointing at it.

`receiver` is an http.server in a thread: it records every request (path, headers, raw body) and
answers from a queue of prepared answers (200 when the queue is empty). Hooks may reach it only
with internal targets and http allowed (`local_targets`), as a development setup would.
"""

import dataclasses
import http.server
import threading
import time

import pytest
from django.utils import timezone

from webhooks import services
from webhooks.models import EventType, Webhook


@dataclasses.dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    def __init__(self):
        self.requests = []
        self.answers = []  # (status, body, headers), first out first
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (a worker killed by a test): a server gets no
                    # request out of that, only a broken connection.
                    self.close_connection = True
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    status, text, headers = (
                        receiver.answers.pop(0) if receiver.answers else (200, b"ok", {})
                    )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, status, body=b"", headers=None, *, times=1):
        self.answers += [(status, body, headers or {})] * times

    def event_ids(self):
        return [request.headers["X-Disclosure-Event-Id"] for request in self.requests]


@pytest.fixture
def receiver():
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def local_targets(settings):
    """A receiver on loopback over plain HTTP is allowed (tests and development only)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = True
    return settings


def make_hook(project, url, *, events=None, internal=False, by=None):
    return services.create_webhook(
        project=project,
        url=url,
        events=list(events or EventType.values),
        internal=internal,
        by=by,
    )


@pytest.fixture
def hook(project, receiver, local_targets):
    """A hook of the project subscribed to everything but internal comments, made a second ago
    (events of the test are newer)."""
    made = make_hook(project, receiver.url())
    Webhook.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    made.refresh_from_db()
    return made
