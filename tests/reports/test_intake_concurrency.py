"""Tracking IDs (PREFIX-YYYY-NNNN): one gapless sequence per project and year, also when many
reporters file at the same moment (PostgreSQL row locks; DESIGN §4 intake).
"""

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection

from mailer.models import OutboundEmail
from reports import services
from reports.models import Report, TrackingCounter
from tests.factories import PolicyRevisionFactory

SUBMISSIONS = 50
WORKERS = 10
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
TRACKING_ID = re.compile(r"^(?P<prefix>[A-Z]{2,8})-(?P<year>\d{4})-(?P<number>\d{4})$")


def file(project, reporter, title="Heap overflow in the header parser"):
    fields = {"title": title, "description": "A long header overflows."}
    return services.file_report(project=project, reporter=reporter, fields=fields)


@pytest.fixture
def enqueued():
    """Report ids whose "report received" email reached the outbox: written in the filing's
    transaction, so one per committed report.
    """

    class Received:
        def ids(self):
            rows = OutboundEmail.objects.filter(subject__endswith="Report received")
            about = rows.values_list("about", flat=True)  # "reports.report:<pk>"
            return [int(reference.rsplit(":", 1)[1]) for reference in about]

        def __iter__(self):
            return iter(self.ids())

        def __len__(self):
            return len(self.ids())

    return Received()


def file_concurrently(jobs):
    """Run services.file_report for each (project, reporter, title) in WORKERS threads.

    Every wave of WORKERS calls starts together at a barrier, with its connection already open,
    so the calls really overlap. Returns (reports, errors).
    """
    barrier = threading.Barrier(WORKERS, timeout=30)

    def run(job):
        project, reporter, title = job
        try:
            connection.ensure_connection()
            barrier.wait()
            return file(project, reporter, title), None
        except Exception as error:  # reported by the test, not swallowed
            barrier.abort()
            return None, error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(run, jobs))
    return [r for r, _ in results if r is not None], [e for _, e in results if e is not None]


def assert_gapless(reports, project, count, year):
    ids = [report.tracking_id for report in reports]
    assert len(set(ids)) == count
    assert sorted(report.sequence for report in reports) == list(range(1, count + 1))
    for report in reports:
        match = TRACKING_ID.match(report.tracking_id)
        assert match, report.tracking_id
        assert match["prefix"] == project.tracking_prefix
        assert int(match["year"]) == year == report.year
        assert int(match["number"]) == report.sequence
    stored = Report.objects.filter(project=project)
    assert sorted(stored.values_list("tracking_id", flat=True)) == sorted(ids)
    assert sorted(stored.values_list("sequence", flat=True)) == list(range(1, count + 1))
    counter = TrackingCounter.objects.get(project=project)
    assert (counter.year, counter.last) == (year, count)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_first_reports_of_the_year_get_gapless_ids(project, reporter, enqueued):
    assert not TrackingCounter.objects.exists()  # the first report of the year creates the row
    jobs = [(project, reporter, f"Report {n}") for n in range(SUBMISSIONS)]

    with time_machine.travel(NOW, tick=True):
        reports, errors = file_concurrently(jobs)

    assert errors == []
    assert len(reports) == SUBMISSIONS
    assert_gapless(reports, project, SUBMISSIONS, year=2026)
    assert sorted(report.tracking_id for report in reports) == [
        f"ACME-2026-{n:04d}" for n in range(1, SUBMISSIONS + 1)
    ]
    assert TrackingCounter.objects.count() == 1
    assert sorted(enqueued) == sorted(report.pk for report in reports)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_to_two_projects_get_their_own_sequences(
    project, other_project, reporter, enqueued
):
    PolicyRevisionFactory(project=other_project)
    assert not TrackingCounter.objects.exists()
    jobs = [
        (target, reporter, f"Report {n} to {target.slug}")
        for n in range(SUBMISSIONS // 2)
        for target in (project, other_project)
    ]

    with time_machine.travel(NOW, tick=True):
        reports, errors = file_concurrently(jobs)

    assert errors == []
    assert len(reports) == SUBMISSIONS
    for target in (project, other_project):
        mine = [report for report in reports if report.project_id == target.pk]
        assert_gapless(mine, target, SUBMISSIONS // 2, year=2026)
    assert TrackingCounter.objects.count() == 2
    assert len(enqueued) == SUBMISSIONS


# --- Sequential intake (any database) -----------------------------------------------------------


@pytest.mark.django_db
def test_sequential_reports_get_consecutive_ids_and_a_new_year_starts_at_one(
    project, other_project, reporter
):
    PolicyRevisionFactory(project=other_project)
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC), tick=False) as t:
        first = [file(project, reporter) for _ in range(3)]
        elsewhere = file(other_project, reporter)
        t.move_to(dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
        last_of_year = file(project, reporter)
        t.move_to(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
        new_year = [file(project, reporter) for _ in range(2)]
        elsewhere_new_year = file(other_project, reporter)

    assert [r.tracking_id for r in first] == ["ACME-2026-0001", "ACME-2026-0002", "ACME-2026-0003"]
    assert last_of_year.tracking_id == "ACME-2026-0004"
    assert [r.tracking_id for r in new_year] == ["ACME-2027-0001", "ACME-2027-0002"]
    assert elsewhere.tracking_id == "OTH-2026-0001"
    assert elsewhere_new_year.tracking_id == "OTH-2027-0001"
    assert [(r.year, r.sequence) for r in new_year] == [(2027, 1), (2027, 2)]
    counters = TrackingCounter.objects.order_by("project__tracking_prefix", "year")
    assert list(counters.values_list("project__tracking_prefix", "year", "last")) == [
        ("ACME", 2026, 4),
        ("ACME", 2027, 2),
        ("OTH", 2026, 1),
        ("OTH", 2027, 1),
    ]
    stored = Report.objects.get(pk=new_year[0].pk)
    assert (stored.tracking_id, stored.year, stored.sequence) == ("ACME-2027-0001", 2027, 1)


@pytest.mark.django_db
def test_a_failed_filing_leaves_no_gap(project, reporter, monkeypatch):
    def broken_storage(report, *, by, files, **kwargs):
        raise OSError("disk full")

    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC), tick=False):
        assert file(project, reporter).tracking_id == "ACME-2026-0001"
        with monkeypatch.context() as patch:
            patch.setattr(services, "_store_attachments", broken_storage)
            with pytest.raises(OSError, match="disk full"):
                file(project, reporter)
        assert Report.objects.count() == 1
        assert TrackingCounter.objects.get().last == 1
        assert file(project, reporter).tracking_id == "ACME-2026-0002"
