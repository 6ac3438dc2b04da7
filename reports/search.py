"""Search over the reports a user sees: by tracking ID, and full text over what they may read.

What a searcher may read is the rule here: the report's own text (every participant reads it),
public comments (everyone who sees the report), internal comments only for members of the
report's project (superusers: every project). A reporter searching a word that occurs only in an
internal note finds nothing. The caller narrows to `Report.objects.visible_to` first.

PostgreSQL: `websearch` full-text queries against GIN expression indexes over exactly the
vectors below (migration 0013); `tests/reports/test_search.py` checks with EXPLAIN that the plan
uses them, so the expressions here and there cannot drift apart unnoticed. SQLite (development):
case-insensitive substring matching over the same fields.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

from reports.models import Comment, Report

SEARCH_CONFIG = "english"
# The report's text fields, all readable by everyone who sees the report.
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


def report_vector():
    """The report's document (index report_search_idx)."""
    return SearchVector(*REPORT_TEXT_FIELDS, config=SEARCH_CONFIG)


def comment_vector():
    """A comment's document (index comment_search_idx)."""
    return SearchVector("body", config=SEARCH_CONFIG)


def readable_comments(viewer):
    """Comments whose text `viewer` may read, on reports they see: public ones, and internal
    ones on reports of their projects.
    """
    if viewer.sees_everything:
        return Comment.objects.all()
    return Comment.objects.filter(Q(internal=False) | Q(report__project_id__in=list(viewer.roles)))


def tracking_id_of(text):
    """The tracking ID `text` would be, whatever its case (prefixes are capitals: STW-2026-0001)."""
    return text.strip().upper()


def matching(reports, *, text, viewer):
    """`reports` narrowed to those whose tracking ID is `text` (any case) or whose readable text
    matches it: each arm is its own indexed lookup (the tracking ID's unique index, the GIN
    indexes), joined by ids.
    """
    text = text.strip()
    comments = readable_comments(viewer)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        documents = Report.objects.annotate(document=report_vector()).filter(document=query)
        comments = comments.annotate(document=comment_vector()).filter(document=query)
    else:
        any_field = Q()
        for field in REPORT_TEXT_FIELDS:
            any_field |= Q(**{f"{field}__icontains": text})
        documents = Report.objects.filter(any_field)
        comments = comments.filter(body__icontains=text)
    return reports.filter(
        Q(tracking_id=tracking_id_of(text))
        | Q(pk__in=documents.values("pk"))
        | Q(pk__in=comments.values("report_id"))
    )
