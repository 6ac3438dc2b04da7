"""GIN indexes for the queue's full-text search (reports.search), on PostgreSQL only: SQLite, the
development database, searches by substring without them. The expressions are those of
reports.search.report_vector and comment_vector; tests/reports/test_search.py checks with EXPLAIN
that searches use these indexes.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

REPORT_TEXT_FIELDS = (
    "title",
    "vulnerability_type",
    "affected_components",
    "description",
    "steps_to_reproduce",
    "impact",
    "file_paths",
    "commit_branch",
    "configuration",
    "proof_of_concept",
    "suggested_fix",
    "resolution_reason",
)


def indexes(apps):
    return (
        (
            apps.get_model("reports", "Report"),
            GinIndex(SearchVector(*REPORT_TEXT_FIELDS, config="english"), name="report_search_idx"),
        ),
        (
            apps.get_model("reports", "Comment"),
            GinIndex(SearchVector("body", config="english"), name="comment_search_idx"),
        ),
    )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in indexes(apps):
        schema_editor.add_index(model, index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("reports", "0013_queue_sorts_and_assignee")]

    operations = [migrations.RunPython(create, drop)]
