"""Reads of advisories. Public readers see published advisories of active projects only; the
report side reads through reports.access first.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from advisories.models import Advisory, AdvisoryRevision, Credit, Disclosure
from reports.selectors import QueueRow


def published_for_project(project):
    """Published advisories of the project, withdrawn ones included (they stay public with
    their notice), newest first.
    """
    return list(
        Advisory.objects.published().filter(project=project).order_by("-published_at", "-id")
    )


def feed_entries(project, *, limit=50):
    """The newest published advisories of the project with their revisions (what changed)."""
    return list(
        Advisory.objects.published()
        .filter(project=project)
        .order_by("-published_at", "-id")
        .prefetch_related("revisions")[:limit]
    )


def public_advisory(identifier):
    """A published advisory with what its page and exports show (credits, version matrix,
    revisions); 404 for anything else.
    """
    queryset = (
        Advisory.objects.published()
        .select_related("project", "report__revision")
        .prefetch_related("credits", "report__revision__versions", "revisions")
    )
    return get_object_or_404(queryset, identifier=identifier)


def exported(*, project=None):
    """Published advisories (withdrawn ones included: OSV keeps them, marked `withdrawn`) with
    everything the exports read, oldest first, of one project or of all active ones. A fixed
    number of queries whatever their number.
    """
    queryset = Advisory.objects.published()
    if project is not None:
        queryset = queryset.filter(project=project)
    return list(
        queryset.select_related("project", "report__revision")
        .prefetch_related("credits", "report__revision__versions", "revisions")
        .order_by("published_at", "id")
    )


def csaf_distributed():
    """The advisories the CSAF provider distributes: every published one of an active project,
    withdrawn ones included (their documents say so), newest first, in one query. Only the
    advisory's own columns are read (advisories.csaf_provider), nothing related.
    """
    return list(Advisory.objects.published().order_by("-published_at", "-id"))


def hall_of_fame(project):
    """Published credits of the project, newest first; anonymous ones stay anonymous."""
    return list(
        Credit.objects.filter(advisory__in=Advisory.objects.published().filter(project=project))
        .select_related("advisory")
        .order_by("-advisory__published_at", "id")
    )


def advisory_of(report):
    """The report's advisory with its credits and revisions (and who made them), or None."""
    revisions = AdvisoryRevision.objects.select_related("created_by__profile")
    return (
        Advisory.objects.filter(report=report)
        .prefetch_related("credits", Prefetch("revisions", queryset=revisions))
        .first()
    )


def disclosure_of(report):
    """(the report's Disclosure, its advisory or None), in one query."""
    disclosure = Disclosure.objects.filter(pk=report.pk).select_related("report__advisory").first()
    if disclosure is None:  # reports filed before the Disclosure existed and not migrated
        return None, advisory_of(report)
    advisory = getattr(disclosure.report, "advisory", None)  # joined: no query when missing
    disclosure.report = report  # the caller's instance, with what it has loaded
    return disclosure, advisory


def checklist_progress(reports):
    """{report id: (done, total)} of the reports' started checklists: from the rows of the list
    (reports.selectors.QueueRow: the queue joins the disclosures' columns), else one query for
    a page.
    """
    if all(isinstance(report, QueueRow) for report in reports):
        return {
            row.pk: (row.checklist_done, row.checklist_total)
            for row in reports
            if row.checklist_total  # None without a disclosure row, 0 before a checklist
        }
    return {
        report_id: (done, total)
        for report_id, done, total in Disclosure.objects.filter(
            pk__in=[report.pk for report in reports], checklist_total__gt=0
        ).values_list("pk", "checklist_done", "checklist_total")
    }
