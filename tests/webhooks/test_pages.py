"""The webhook pages, /projects/<slug>/webhooks/...: a project's admins (and superusers) list,
create (the secret shown), edit, delete hooks and read and redeliver their deliveries; everyone
else gets 404 on every one of them, GET or POST, like a hidden report. Query counts pinned.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import PolicyRevisionFactory
from tests.reports.conftest import file
from tests.webhooks.conftest import make_hook
from webhooks import signing, sweep
from webhooks.models import EventType, Webhook, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db

LIST = "/projects/acme/webhooks/"
CREATE = "/projects/acme/webhooks/new/"


READ = {"list", "detail"}  # GET pages; the others are actions (POST)


def urls(hook, delivery):
    base = f"/projects/acme/webhooks/{hook.pk}/"
    return {
        "list": LIST,
        "create": CREATE,
        "detail": base,
        "update": f"{base}edit/",
        "rotate_secret": f"{base}secret/",
        "delete": f"{base}delete/",
        "redeliver": f"{base}deliveries/{delivery.pk}/redeliver/",
    }


@pytest.fixture
def delivered(project, reporter, hook, receiver):
    file(reporter, project)
    sweep.sweep()
    return WebhookDelivery.objects.get()


@pytest.mark.parametrize(
    "who",
    ["anonymous", "stranger", "reporter", "collaborator", "triager", "maintainer", "other_member"],
)
def test_everyone_but_the_project_admins_gets_404_everywhere(client, cast, hook, delivered, who):
    if cast[who] is not None:
        client.sign_in(cast[who])
    form = {"url": "https://example.com/x", "events": ["report.filed"], "active": "on"}
    for name, url in urls(hook, delivered).items():
        if cast[who] is None:
            # Not signed in: to the sign-in page first (nothing is said about the project).
            assert client.get(url).status_code in {302, 405}, name
            continue
        # The method a page does not take is 405 for everyone alike; the other one is 404.
        get, post = (404, 405) if name in READ else (405, 404)
        assert client.get(url).status_code == get, name
        assert client.post(url, form).status_code == post, name
    secret = hook.secret
    hook.refresh_from_db()
    assert Webhook.objects.count() == 1
    assert hook.url.startswith("http://127.0.0.1")
    assert hook.secret == secret
    delivered.refresh_from_db()
    assert delivered.attempts == 1


def test_another_projects_admin_cannot_reach_this_projects_hooks(
    client, other_project, other_member, hook, delivered
):
    PolicyRevisionFactory(project=other_project)
    client.sign_in(other_member)
    # This project's pages, and their own project's address with this project's ids: 404.
    for name, url in urls(hook, delivered).items():
        if name in READ:
            assert client.get(url).status_code == 404, name
        else:
            assert client.post(url, {"url": "https://example.com/"}).status_code == 404, name
    for name in ("detail", "update", "rotate_secret", "delete", "redeliver"):
        url = urls(hook, delivered)[name].replace("/acme/", "/other/")
        if name in READ:
            assert client.get(url).status_code == 404, name
        else:
            assert client.post(url, {"url": "https://example.com/"}).status_code == 404, name
    assert Webhook.objects.filter(pk=hook.pk, secret=hook.secret).exists()


@pytest.mark.parametrize("who", ["project_admin", "superuser"])
def test_admins_create_a_hook_and_see_its_secret(
    client, cast, project, local_targets, receiver, who
):
    client.sign_in(cast[who])
    assert client.get(LIST).status_code == 200
    form = {"url": receiver.url(), "events": ["report.filed", "report.comment"]}
    response = client.post(CREATE, form)
    hook = Webhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/acme/webhooks/{hook.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert hook.secret in page
    assert hook.secret.startswith("whsec_")
    assert hook.events == ["report.filed", "report.comment"]
    assert not hook.internal
    assert hook.created_by == cast[who]


def test_creating_refuses_internal_and_plain_http_targets(client, project_admin, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    client.sign_in(project_admin)
    response = client.post(CREATE, {"url": "http://example.com/", "events": ["report.filed"]})
    assert response.status_code == 200
    assert "must use https" in response.content.decode()
    response = client.post(CREATE, {"url": "https://127.0.0.1/", "events": ["report.filed"]})
    assert "internal address" in response.content.decode()
    response = client.post(CREATE, {"url": "https://example.com/", "events": []})
    assert response.status_code == 200
    assert not Webhook.objects.exists()


def test_admins_edit_the_events_and_switch_a_hook_off(client, project_admin, hook):
    client.sign_in(project_admin)
    url = f"/projects/acme/webhooks/{hook.pk}/edit/"
    form = {"url": hook.url, "events": ["advisory.published"], "internal": "on"}
    assert client.post(url, form).status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["advisory.published"]
    assert hook.internal
    assert not hook.active  # "active" left unticked


def test_admins_make_a_new_secret_and_the_next_attempt_is_signed_with_it(
    client, project_admin, hook, delivered, receiver
):
    old = hook.secret
    (first,) = receiver.requests
    stamp = first.headers["X-Disclosure-Timestamp"]
    assert first.headers["X-Disclosure-Signature"] == signing.signature(old, stamp, first.body)
    client.sign_in(project_admin)
    response = client.post(f"/projects/acme/webhooks/{hook.pk}/secret/")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/acme/webhooks/{hook.pk}/"
    hook.refresh_from_db()
    assert hook.secret.startswith("whsec_")
    assert hook.secret != old
    page = client.get(response["Location"]).content.decode()
    assert hook.secret in page
    assert old not in page
    assert "New secret made: put it in your receiver." in page
    # A retry of an event from before the change is signed when it is sent: with the new one.
    WebhookDelivery.objects.update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    sweep.sweep()
    again = receiver.requests[1]
    assert again.headers["X-Disclosure-Event-Id"] == first.headers["X-Disclosure-Event-Id"]
    stamp = again.headers["X-Disclosure-Timestamp"]
    assert again.headers["X-Disclosure-Signature"] == signing.signature(
        hook.secret, stamp, again.body
    )
    assert again.headers["X-Disclosure-Signature"] != signing.signature(old, stamp, again.body)


def test_admins_delete_a_hook(client, project_admin, hook, delivered):
    client.sign_in(project_admin)
    response = client.post(f"/projects/acme/webhooks/{hook.pk}/delete/")
    assert response.status_code == 302
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_deliveries_log_and_redelivery(
    client, project_admin, hook, delivered, receiver, django_capture_on_commit_callbacks
):
    client.sign_in(project_admin)
    page = client.get(f"/projects/acme/webhooks/{hook.pk}/").content.decode()
    assert str(delivered.event_id) in page
    assert "HTTP 200" in page
    receiver.answer(500, b"receiver is down")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(urls(hook, delivered)["redeliver"])
    assert response.status_code == 302
    assert len(receiver.requests) == 2
    page = client.get(f"/projects/acme/webhooks/{hook.pk}/").content.decode()
    assert "HTTP 500" in page
    assert "receiver is down" in page
    # Both attempts are listed under the delivery: the redelivery's 500 and the first 200.
    assert "All 2 attempts" in page
    history = page.split("All 2 attempts", 1)[1].split("</details>", 1)[0]
    assert history.index("HTTP 500") < history.index("HTTP 200")


def test_the_deliveries_log_pages_by_keyset(client, project_admin, hook, settings):
    settings.WEBHOOK_DELIVERIES_PAGE_SIZE = 2
    add_deliveries(hook, 5)
    newest = list(WebhookDelivery.objects.order_by("-pk").values_list("event_id", flat=True))
    client.sign_in(project_admin)
    response = client.get(f"/projects/acme/webhooks/{hook.pk}/")
    first = response.content.decode()
    assert str(newest[0]) in first
    assert str(newest[1]) in first
    assert str(newest[2]) not in first
    before = response.context["next_before"]
    second = client.get(f"/projects/acme/webhooks/{hook.pk}/?before={before}").content.decode()
    assert str(newest[2]) in second
    assert str(newest[1]) not in second
    assert client.get(f"/projects/acme/webhooks/{hook.pk}/?before=nonsense").status_code == 200


def add_deliveries(hook, count):
    import uuid

    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook=hook,
            event_id=uuid.uuid4(),
            event_type=EventType.REPORT_FILED,
            payload={},
            next_attempt_at=now,
            created_at=now,
            status=WebhookDelivery.Status.DELIVERED,
            status_code=200,
            duration_ms=12,
            response_excerpt="ok",
        )
        for _ in range(count)
    )


def add_attempts(deliveries, count):
    now = timezone.now()
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(delivery=delivery, attempted_at=now, status_code=503, error="HTTP 503")
        for delivery in deliveries
        for _ in range(count)
    )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries), [query["sql"] for query in queries.captured_queries]


def test_the_pages_cost_the_same_with_more_rows(
    client, project, project_admin, hook, local_targets, receiver
):
    """List: session, user, second-factor gate's roles (+ authenticators), project, the
    membership check, the hooks. Detail: the same but the hook instead of the hooks, one page
    of deliveries and their attempts.
    """
    client.sign_in(project_admin)
    add_deliveries(hook, 1)
    detail = f"/projects/acme/webhooks/{hook.pk}/"
    list_before, _ = count_queries(client, LIST)
    detail_before, _ = count_queries(client, detail)
    for n in range(4):
        make_hook(project, receiver.url(f"/more{n}"))
    add_deliveries(hook, 30)
    add_attempts(WebhookDelivery.objects.all(), 3)
    list_after, sql = count_queries(client, LIST)
    assert list_after == list_before, "\n".join(sql)
    detail_after, sql = count_queries(client, detail)
    assert detail_after == detail_before, "\n".join(sql)
    assert list_after <= 8, "\n".join(sql)
    assert detail_after <= 8, "\n".join(sql)


def test_the_project_page_links_the_webhooks_for_its_admins(client, cast):
    for who, linked in [("maintainer", False), ("project_admin", True), ("superuser", True)]:
        client.sign_in(cast[who])
        page = client.get("/projects/acme/").content.decode()
        assert ('href="/projects/acme/webhooks/"' in page) is linked, who
