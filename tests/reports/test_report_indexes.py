"""Reminders and events by report: one index each leads with report_id (reports migration 0021
dropped the ForeignKeys' own, which every row written kept up: the reminder sweep writes
thousands of both, issue 15), and lookups by report still read an index.
"""

import pytest
from django.db import connection

from reports.models import Reminder, ReportEvent

pytestmark = pytest.mark.django_db


def indexes_leading_with(model, column):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        name
        for name, constraint in constraints.items()
        if (constraint["index"] or constraint["unique"])
        and not constraint["foreign_key"]
        and constraint["columns"][:1] == [column]
    )


def test_reminders_and_events_have_one_index_leading_with_their_report():
    assert indexes_leading_with(Reminder, "report_id") == ["one_reminder_per_deadline"]
    assert indexes_leading_with(ReportEvent, "report_id") == ["event_report_idx"]


@pytest.mark.services
@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (
            lambda: Reminder.objects.filter(report_id=1),
            "one_reminder_per_deadline",
        ),
        (lambda: ReportEvent.objects.filter(report_id=1), "event_report_idx"),
        (
            lambda: ReportEvent.objects.filter(report_id=1).order_by("-created_at"),
            "event_report_idx",
        ),
    ],
)
def test_lookups_by_report_read_the_remaining_index(queryset, index):
    """Sequential scans off: with a handful of rows the planner rightly prefers them."""
    sql, params = queryset().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
