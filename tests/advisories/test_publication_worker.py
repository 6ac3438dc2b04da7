"""Scheduled publication on real Celery workers (PostgreSQL row locks, Redis): every scheduled
advisory whose disclosure date has come is published exactly once, by two sweeps at once, and
after a worker is killed in the middle of a sweep.

"Exactly once" is checked where it would show: one publication time, one "disclosed" transition
in the report's audit trail, one set of credits.
"""

import pytest
from django.db.models import Count
from django.utils import timezone

from advisories.models import Advisory, Credit, Disclosure
from reports import services, tasks
from reports.models import Report, ReportEvent, State

pytestmark = [pytest.mark.heavy, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def scheduled(project, reporter, maintainer, count):
    """`count` fixed reports of `project`, each with an advisory scheduled for a date that has
    passed (set directly: the services are tested elsewhere, the sweep is under test here).
    """
    reports = [
        services.file_report(project=project, reporter=reporter, fields={"title": f"Bug {n}"})
        for n in range(count)
    ]
    ids = [report.pk for report in reports]
    Report.objects.filter(pk__in=ids).update(state=State.FIXED)
    Disclosure.objects.filter(pk__in=ids).update(due=timezone.now() - timezone.timedelta(hours=1))
    Advisory.objects.bulk_create(
        Advisory(
            report=report,
            project=project,
            identifier=f"ACME-ADV-2026-{n:04d}",
            title=f"Bug {n}",
            summary=f"Bug {n}",
            details="Details.",
            fixed_versions=["2.0.1"],
            scheduled=True,
        )
        for n, report in enumerate(reports)
    )
    return ids


def published_once(ids):
    """Every report disclosed once, its advisory published once with one credit."""
    advisories = Advisory.objects.filter(report_id__in=ids)
    assert advisories.count() == len(ids)
    assert not advisories.exclude(state=Advisory.State.PUBLISHED).exists()
    assert not advisories.filter(scheduled=True).exists()
    assert not Report.objects.filter(pk__in=ids).exclude(state=State.DISCLOSED).exists()
    twice = (
        ReportEvent.objects.filter(report_id__in=ids, to_state=State.DISCLOSED)
        .values("report_id")
        .annotate(n=Count("id"))
        .exclude(n=1)
    )
    assert not twice.exists()
    assert ReportEvent.objects.filter(report_id__in=ids, to_state=State.DISCLOSED).count() == len(
        ids
    )
    assert Credit.objects.filter(advisory__report_id__in=ids).count() == len(ids)


def disclosed(ids):
    return Report.objects.filter(pk__in=ids, state=State.DISCLOSED).count()


def test_two_sweeps_at_once_publish_each_scheduled_advisory_once(
    celery_worker,
    project,
    reporter,
    maintainer,
):
    ids = scheduled(project, reporter, maintainer, 30)
    celery_worker.start(concurrency=2)
    sweeps = [celery_worker.send(tasks.sweep_reminders) for _ in range(2)]
    celery_worker.wait_until(lambda: disclosed(ids) == len(ids), "every advisory to be published")
    celery_worker.wait_until(
        lambda: len(celery_worker.results(sweeps)) == 2, "both sweeps to finish"
    )
    published_once(ids)
    # Each publication was counted by exactly one of the two sweeps (nothing else was due).
    assert sum(celery_worker.results(sweeps).values()) == len(ids)


def test_a_worker_killed_mid_sweep_publishes_nothing_twice(
    celery_worker,
    project,
    reporter,
    maintainer,
):
    ids = scheduled(project, reporter, maintainer, 60)
    worker = celery_worker.start(concurrency=1)
    celery_worker.send(tasks.sweep_reminders)
    celery_worker.wait_until(lambda: disclosed(ids) >= 3, "a few publications", interval=0.01)
    celery_worker.kill(worker)

    done = disclosed(ids)
    assert 0 < done < len(ids), "the sweep ended before the worker could be killed"
    # Each advisory is published whole or not at all: the one in flight rolled back.
    published = Advisory.objects.filter(report_id__in=ids, state=Advisory.State.PUBLISHED)
    assert published.count() == done

    celery_worker.start(concurrency=2)
    celery_worker.send(tasks.sweep_reminders)
    celery_worker.wait_until(lambda: disclosed(ids) == len(ids), "the rest to be published")
    published_once(ids)
