"""Deliveries to a real HTTP receiver on loopback: what is sent (body, headers, the signature the
README's snippet verifies), to whom (subscribed hooks of the event's project; internal comments
only to internal hooks), retries with backoff, giving up, disabling a hook that keeps failing
with an email to the project's admins, redelivery, redirects not followed, bounded answers.
"""

import json
import re
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from mailer.models import OutboundEmail
from reports import services as report_services
from reports import sweep as reminder_sweep
from reports.models import Reminder, ReportEvent
from tests.advisories.publishing import publish_now
from tests.reports.conftest import file
from tests.webhooks.conftest import make_hook
from webhooks import services, signing, sweep
from webhooks.models import EventType, Webhook, WebhookAttempt, WebhookCursor, WebhookDelivery

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verifier():
    """The verification snippet of README "Webhooks", run as a receiver would run it."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify_webhook"]


def test_the_readme_snippet_verifies_a_real_delivery(project, reporter, hook, receiver):
    report = file(reporter, project)
    assert sweep.sweep() == 1

    (request,) = receiver.requests
    verify = readme_verifier()
    assert verify(hook.secret, request.headers, request.body)
    # Any change of the body, the timestamp or the key fails it.
    assert not verify(hook.secret, request.headers, request.body + b" ")
    assert not verify("whsec_other", request.headers, request.body)
    signed_at = int(request.headers["X-Disclosure-Timestamp"])
    older = {**request.headers, "X-Disclosure-Timestamp": str(signed_at - 1)}
    assert not verify(hook.secret, older, request.body)
    stale = {
        **request.headers,
        "X-Disclosure-Timestamp": str(int(time_now()) - 3600),
    }
    stale["X-Disclosure-Signature"] = signing.signature(
        hook.secret, stale["X-Disclosure-Timestamp"], request.body
    )
    assert not verify(hook.secret, stale, request.body)  # a replay an hour later

    payload = json.loads(request.body)
    delivery = WebhookDelivery.objects.get()
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Disclosure-Event"] == "report.filed"
    assert request.headers["X-Disclosure-Event-Id"] == str(delivery.event_id) == payload["id"]
    assert payload["type"] == "report.filed"
    assert payload["project"] == {"slug": "acme", "name": "Acme"}
    assert payload["report"]["tracking_id"] == report.tracking_id
    assert payload["report"]["url"].endswith(f"/reports/{report.tracking_id}/")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.status_code == 200
    assert delivery.response_excerpt == "ok"
    assert delivery.duration_ms is not None
    assert delivery.attempts == 1


def time_now():
    return timezone.now().timestamp()


def test_every_event_type_is_sent_with_its_own_stable_id(
    project, reporter, maintainer, hook, receiver, settings, tmp_path
):
    settings.ATTACHMENT_ROOT = tmp_path
    report = file(reporter, project)
    report_services.add_comment(
        report=report, by=reporter, body="More detail.", internal=False, by_member=False
    )
    report_services.transition(
        report=report, by=maintainer, name="triage", message="Confirmed.", severity="high"
    )
    report_services.transition(report=report, by=maintainer, name="mark_fixed", message="Done.")
    advisory = advisory_for(report, maintainer)
    publish_now(advisory, by=maintainer)
    sweep.sweep()

    types = [request.headers["X-Disclosure-Event"] for request in receiver.requests]
    assert sorted(types) == sorted(
        [
            "report.filed",
            "report.comment",
            "report.state_changed",  # triaged
            "report.state_changed",  # fixed
            "report.state_changed",  # disclosed
            "advisory.published",
        ]
    )
    ids = receiver.event_ids()
    assert len(set(ids)) == len(ids)  # the disclosure's two events have ids of their own
    bodies = {
        request.headers["X-Disclosure-Event"]: json.loads(request.body)
        for request in receiver.requests
    }
    assert bodies["report.comment"]["comment"]["body"] == "More detail."
    assert bodies["report.comment"]["comment"]["by"] == "reporter"
    assert bodies["advisory.published"]["advisory"]["identifier"] == advisory.identifier
    changes = [
        json.loads(r.body)["change"] for r in receiver.requests if "change" in json.loads(r.body)
    ]
    assert {
        "from_state": "new",
        "to_state": "triaged",
        "message": "Confirmed.",
        "by": "project",
    } in changes

    # Reading the trail again (the cursor reset) stores nothing twice and sends nothing again.
    WebhookCursor.objects.update(position=0)
    sweep.sweep()
    assert len(receiver.requests) == 6
    assert WebhookDelivery.objects.count() == 6


def advisory_for(report, maintainer):
    from advisories import services as advisory_services

    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    return advisory_services.update_advisory(
        advisory=advisory, by=maintainer, fields={"fixed_versions": ["1.0.1"]}
    )


def test_a_passed_deadline_is_recorded_and_sent(project, reporter, hook, receiver):
    report = file(reporter, project)
    overdue_at = report.ack_due + timezone.timedelta(minutes=1)
    reminder_sweep.sweep(now=overdue_at)
    event = ReportEvent.objects.get(kind=ReportEvent.Kind.DEADLINE_OVERDUE)
    assert not event.public  # members' timeline only
    assert event.data["deadline"] == "ack_due"
    sweep.sweep(now=overdue_at)

    overdue = [
        json.loads(r.body)
        for r in receiver.requests
        if r.headers["X-Disclosure-Event"] == "report.deadline_overdue"
    ]
    assert [body["deadline"]["deadline"] for body in overdue] == ["ack_due"]
    assert overdue[0]["deadline"]["label"] == "Acknowledgment overdue"
    # The reminder is sent once, the deadline recorded once.
    reminder_sweep.sweep(now=overdue_at)
    assert ReportEvent.objects.filter(kind=ReportEvent.Kind.DEADLINE_OVERDUE).count() == 1
    assert (
        Reminder.objects.filter(report=report, kind="ack_overdue", sent_at__isnull=False).count()
        == 1
    )


def test_internal_comments_reach_only_internal_hooks(
    project, reporter, maintainer, local_targets, receiver
):
    public_hook = make_hook(project, receiver.url("/public"), events=[EventType.COMMENT])
    internal_hook = make_hook(
        project, receiver.url("/internal"), events=[EventType.COMMENT], internal=True
    )
    report = file(reporter, project)
    report_services.add_comment(
        report=report, by=maintainer, body="Secret triage note.", internal=True, by_member=True
    )
    report_services.add_comment(
        report=report, by=maintainer, body="We are on it.", internal=False, by_member=True
    )
    sweep.sweep()

    by_path = {}
    for request in receiver.requests:
        by_path.setdefault(request.path, []).append(json.loads(request.body)["comment"]["body"])
    assert by_path["/public"] == ["We are on it."]
    assert sorted(by_path["/internal"]) == ["Secret triage note.", "We are on it."]
    assert not any(
        b"Secret triage note." in r.body for r in receiver.requests if r.path == "/public"
    )
    assert not WebhookDelivery.objects.filter(
        webhook=public_hook, payload__comment__internal=True
    ).exists()
    assert internal_hook.deliveries.count() == 2


def test_a_hook_hears_of_its_project_and_its_event_types_only(
    project, other_project, reporter, local_targets, receiver
):
    from tests.factories import PolicyRevisionFactory

    PolicyRevisionFactory(project=other_project)
    make_hook(project, receiver.url("/states"), events=[EventType.STATE_CHANGED])
    make_hook(other_project, receiver.url("/other"), events=[EventType.REPORT_FILED])
    file(reporter, project)
    sweep.sweep()
    assert receiver.requests == []  # acme's filing: not a state change; other's hook: not acme's

    file(reporter, other_project)
    sweep.sweep()
    assert [r.path for r in receiver.requests] == ["/other"]
    assert json.loads(receiver.requests[0].body)["project"]["slug"] == "other"


def test_events_before_a_hook_existed_are_not_sent(project, reporter, local_targets, receiver):
    file(reporter, project)
    later = make_hook(project, receiver.url())
    Webhook.objects.filter(pk=later.pk).update(
        created_at=timezone.now() + timezone.timedelta(seconds=1)
    )
    sweep.sweep()
    assert receiver.requests == []


def test_switched_off_hooks_collect_nothing(project, reporter, hook, receiver):
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    file(reporter, project)
    sweep.sweep()
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_the_cursor_moves_only_past_settled_events(project, reporter, hook, receiver, settings):
    settings.WEBHOOK_EVENT_SETTLE_SECONDS = 300
    file(reporter, project)
    created = ReportEvent.objects.get()
    sweep.collect(now=timezone.now())
    cursor = WebhookCursor.objects.get(source="report_event")
    assert cursor.position < created.pk  # too young: read again next time
    assert WebhookDelivery.objects.count() == 1
    sweep.collect(now=timezone.now())
    assert WebhookDelivery.objects.count() == 1  # read twice, stored once
    sweep.collect(now=created.created_at + timezone.timedelta(seconds=301))
    cursor.refresh_from_db()
    assert cursor.position == created.pk


def test_collecting_reads_the_trail_in_batches(project, reporter, hook, receiver):
    for _ in range(5):
        file(reporter, project)
    later = timezone.now() + timezone.timedelta(hours=1)
    assert sweep.collect(now=later, batch_size=2) == 5
    assert (
        WebhookCursor.objects.get(source="report_event").position
        == ReportEvent.objects.order_by("pk").last().pk
    )


# --- Failures ---------------------------------------------------------------------------------


def test_a_500_is_retried_with_exponential_backoff_then_given_up(
    project, reporter, hook, receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.WEBHOOK_RETRY_MAX_SECONDS = 200
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    receiver.answer(500, b"boom", times=4)
    file(reporter, project)
    start = timezone.now()
    sweep.sweep(now=start)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("pending", 1, 500)
    assert delivery.error == "HTTP 500"
    assert delivery.response_excerpt == "boom"
    assert delivery.next_attempt_at == start + timezone.timedelta(seconds=60)

    # Not due yet: nothing is sent.
    assert sweep.deliver_due(now=start + timezone.timedelta(seconds=59)) == 0
    waits = []
    moment = start
    for _ in range(3):
        moment = delivery.next_attempt_at
        assert sweep.deliver_due(now=moment) == 1
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - moment).total_seconds())
    assert waits[:2] == [120, 200]  # doubling, capped at the maximum
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 4
    assert len(receiver.requests) == 4
    assert len(set(receiver.event_ids())) == 1  # every attempt: the same event id
    assert sweep.deliver_due(now=moment + timezone.timedelta(days=1)) == 0
    # Each attempt is in the delivery's log, not only the last.
    log = WebhookAttempt.objects.filter(delivery=delivery).order_by("pk")
    assert [(a.status_code, a.error, a.response_excerpt) for a in log] == [
        (500, "HTTP 500", "boom")
    ] * 4
    assert [a.attempted_at for a in log] == [
        start,
        start + timezone.timedelta(seconds=60),
        start + timezone.timedelta(seconds=180),
        start + timezone.timedelta(seconds=380),
    ]


def test_a_success_after_failures_delivers_and_resets_the_hook(project, reporter, hook, receiver):
    receiver.answer(503)
    file(reporter, project)
    now = timezone.now()
    sweep.sweep(now=now)
    hook.refresh_from_db()
    assert hook.failure_count == 1
    sweep.deliver_due(now=now + timezone.timedelta(hours=1))
    hook.refresh_from_db()
    assert hook.failure_count == 0
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_a_hook_that_keeps_failing_is_disabled_and_its_admins_told(
    project, reporter, project_admin, maintainer, hook, receiver, settings
):
    settings.WEBHOOK_MAX_FAILURES = 3
    receiver.answer(500, times=3)
    for _ in range(5):
        file(reporter, project)
    OutboundEmail.objects.all().delete()
    sweep.sweep()

    hook.refresh_from_db()
    assert hook.disabled_at is not None
    assert hook.failure_count == 3
    assert len(receiver.requests) == 3  # nothing more once disabled
    (email,) = OutboundEmail.objects.filter(subject__contains="webhook was disabled")
    assert email.to == project_admin.email  # the admins, not the maintainer
    assert hook.url in email.body
    assert "HTTP 500" in email.body
    # Disabled: later sweeps send nothing and do not tell anyone again.
    sweep.deliver_due(now=timezone.now() + timezone.timedelta(days=1))
    assert len(receiver.requests) == 3
    assert OutboundEmail.objects.filter(subject__contains="webhook was disabled").count() == 1

    # Switched on again by an admin: what waited goes out.
    services.update_webhook(
        webhook=hook,
        url=hook.url,
        events=hook.events,
        internal=False,
        active=True,
        by=project_admin,
    )
    hook.refresh_from_db()
    assert (hook.disabled_at, hook.failure_count) == (None, 0)
    sweep.deliver_due(now=timezone.now() + timezone.timedelta(days=1))
    assert WebhookDelivery.objects.filter(status="delivered").count() == 5


def test_redirects_are_not_followed(project, reporter, hook, receiver):
    receiver.answer(302, headers={"Location": receiver.url("/elsewhere")})
    file(reporter, project)
    sweep.sweep()
    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code == 302
    assert "redirects are not followed" in delivery.error
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_the_answer_is_read_up_to_the_bound(project, reporter, hook, receiver, settings):
    settings.WEBHOOK_RESPONSE_EXCERPT_BYTES = 16
    receiver.answer(200, b"x" * 100_000)
    file(reporter, project)
    sweep.sweep()
    assert WebhookDelivery.objects.get().response_excerpt == "x" * 16


def test_an_unreachable_receiver_is_a_failed_attempt(project, reporter, local_targets):
    hook = make_hook(project, "http://127.0.0.1:9/nobody-listens")
    Webhook.objects.filter(pk=hook.pk).update(
        created_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    file(reporter, project)
    sweep.sweep()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.status_code is None
    assert delivery.error


def test_redelivery_sends_the_same_event_again(
    project, reporter, project_admin, hook, receiver, django_capture_on_commit_callbacks
):
    file(reporter, project)
    sweep.sweep()
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):  # the sending starts after commit
        services.redeliver(delivery=delivery, by=project_admin)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["X-Disclosure-Event-Id"] == second.headers["X-Disclosure-Event-Id"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    # The round starts again; the log keeps the attempts of both.
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_event_ids_are_uuids_derived_from_the_row(project, reporter, hook, receiver):
    file(reporter, project)
    sweep.sweep()
    event = ReportEvent.objects.get()
    from webhooks.events import event_id

    assert WebhookDelivery.objects.get().event_id == event_id(
        "report_event", event.pk, "report.filed"
    )
    assert isinstance(WebhookDelivery.objects.get().event_id, uuid.UUID)
