"""The reminder sweep and the outbox on a real Celery worker (DESIGN §5): PostgreSQL row locks
(SELECT ... FOR UPDATE SKIP LOCKED), Redis as the broker, prefork worker processes.

Each test starts its own worker as a subprocess on the test database, consuming a queue of its own
(parallel xdist processes never take each other's tasks), and everything the test process
enqueues goes to that queue. CI runs these; locally they are skipped without the services.
"""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from mailer import outbox
from mailer import tasks as mailer_tasks
from mailer.models import OutboundEmail
from reports import services, tasks
from reports.models import Reminder
from reports.reminders import Kind

pytestmark = [pytest.mark.heavy, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def due_reminders(project, reporter, count, *, reports=10):
    """`count` due reminders (send_at in the past, each its own deadline) over `reports` reports
    of `project`, bulk-created. Members get them: one outbox row per member.
    """
    filed = [
        services.file_report(project=project, reporter=reporter, fields={"title": f"Report {n}"})
        for n in range(reports)
    ]
    start = timezone.now() - dt.timedelta(days=2)
    reminders = [
        Reminder(
            report=filed[n % reports],
            kind=Kind.UPDATE_OVERDUE,
            due_at=start + dt.timedelta(seconds=n),
            send_at=start + dt.timedelta(seconds=n),
        )
        for n in range(count)
    ]
    return Reminder.objects.bulk_create(reminders, batch_size=1000)


def still_due():
    return Reminder.objects.filter(sent_at__isnull=True, send_at__lte=timezone.now()).count()


def reminder_rows():
    """Outbox rows written for reminders: their dedup key names the reminder."""
    return OutboundEmail.objects.filter(dedup_key__startswith="reports.reminder:")


def outbox_by_reminder(ids):
    """{reminder id: sorted addresses} of the outbox rows written for reminders in `ids`."""
    found = {}
    for key, address in reminder_rows().order_by("to").values_list("dedup_key", "to"):
        reminder_id = int(key.split(":")[1])
        if reminder_id in ids:
            found.setdefault(reminder_id, []).append(address)
    return found


def assert_sent_once(ids, recipients):
    """Every reminder in `ids` is sent, with exactly one outbox row per recipient."""
    assert not Reminder.objects.filter(pk__in=ids, sent_at__isnull=True).exists()
    assert outbox_by_reminder(set(ids)) == dict.fromkeys(ids, recipients)
    duplicates = (
        reminder_rows().values("dedup_key", "to").annotate(copies=Count("id")).filter(copies__gt=1)
    )
    assert not duplicates.exists()


COUNT = 1000  # enough for the two sweeps to overlap for a second or so


def test_two_sweeps_at_once_send_every_reminder_once(
    celery_worker, project, maintainer, triager, reporter
):
    created = due_reminders(project, reporter, COUNT)
    ids = [reminder.pk for reminder in created]
    celery_worker.start(concurrency=2, REMINDER_BATCH_SIZE="20")

    sweeps = [celery_worker.send(tasks.sweep_reminders) for _ in range(2)]
    celery_worker.wait_until(lambda: still_due() == 0, "every due reminder to be sent")
    celery_worker.wait_until(
        lambda: len(celery_worker.results(sweeps)) == 2, "both sweeps to finish"
    )

    assert_sent_once(ids, sorted([maintainer.email, triager.email]))
    assert reminder_rows().count() == 2 * COUNT
    # Each reminder was taken by exactly one of the two sweeps.
    taken = celery_worker.results(sweeps)
    assert sum(taken.values()) == COUNT
    assert all(taken.values()), f"the sweeps did not overlap: {taken}"


def test_a_worker_killed_mid_sweep_leaves_whole_batches_and_the_next_sweep_finishes(
    celery_worker, project, maintainer, triager, reporter
):
    count, batch = 3000, 50
    created = due_reminders(project, reporter, count)
    ids = [reminder.pk for reminder in created]
    recipients = sorted([maintainer.email, triager.email])
    worker = celery_worker.start(concurrency=1, REMINDER_BATCH_SIZE=str(batch))

    celery_worker.send(tasks.sweep_reminders)
    sent = Reminder.objects.filter(pk__in=ids, sent_at__isnull=False)
    celery_worker.wait_until(lambda: sent.count() >= 2 * batch, "two batches", interval=0.01)
    celery_worker.kill(worker)

    done = set(sent.values_list("pk", flat=True))
    assert 0 < len(done) < count, "the sweep ended before the worker could be killed"
    assert len(done) % batch == 0  # only whole batches were committed
    # The batch in flight rolled back whole: outbox rows exactly for the reminders marked sent.
    assert outbox_by_reminder(set(ids)) == dict.fromkeys(done, recipients)

    celery_worker.start(concurrency=2, REMINDER_BATCH_SIZE=str(batch))
    celery_worker.send(tasks.sweep_reminders)
    celery_worker.wait_until(lambda: still_due() == 0, "the new worker to send the rest")

    assert_sent_once(ids, recipients)
    assert reminder_rows().count() == 2 * count


def test_a_worker_delivers_the_outbox(celery_worker, project, maintainer, triager, reporter):
    report = services.file_report(
        project=project, reporter=reporter, fields={"title": "Heap overflow in the parser"}
    )  # the worker is not started yet: its notifications are delivered in-process
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()

    celery_worker.start(concurrency=1)
    services.add_comment(
        report=report, by=maintainer, body="We can reproduce it.", internal=False, by_member=True
    )
    comment_mail = OutboundEmail.objects.filter(
        subject=f"[{report.tracking_id}] New comment from the Acme security team"
    )
    celery_worker.wait_until(comment_mail.exists, "the comment's emails in the outbox")
    assert sorted(comment_mail.values_list("to", flat=True)) == sorted(
        [reporter.email, triager.email]
    )

    # deliver_outbox on the worker (besides any the service enqueued after its commit).
    delivery = celery_worker.send(mailer_tasks.deliver_outbox)
    celery_worker.wait_until(
        lambda: delivery in celery_worker.results([delivery]), "deliver_outbox to finish"
    )
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    # The worker sent each of them once (console backend: the messages are in its log).
    assert sum(celery_worker.results(task="mailer.tasks.deliver_outbox").values()) == 2
    log = celery_worker.log()
    for email in comment_mail:
        assert (email.attempts, email.last_error) == (0, "")
        assert log.count(f"Message-ID: {outbox.message_id(email)}") == 1
    assert (
        log.count(f"Subject: [{report.tracking_id}] New comment from the Acme security team") == 2
    )
