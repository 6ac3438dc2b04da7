"""Publishing in tests, as the rules allow it today (advisories.publication): where the policy
reviews the fix with the reporter (TeamMail), after the fix and its schedule are approved, the
release recorded and the advisory approved; elsewhere after the reporter agreed to a disclosure
today. Tests about the rules themselves do not use this.
"""

from django.utils import timezone

from advisories import publication
from advisories import services as advisory_services
from advisories.models import Advisory
from projects.models import Project
from reports import services as report_services


def ready_to_publish(advisory, *, by):
    report = advisory.report
    policy, reporter, today = report.revision, report.reporter, timezone.localdate()
    if policy.reporter_reviews_fix:
        review = advisory_services.share_fix(
            report=report,
            by=by,
            fix_url="https://example.org/fix.patch",
            release_on=today,
            announce_on=today,
        )
        advisory_services.respond_to_fix(review=review, by=reporter, approve=True)
        advisory = Advisory.objects.get(pk=advisory.pk)
        if advisory.state == Advisory.State.DRAFT:
            advisory = advisory_services.share_for_review(advisory=advisory, by=by)
        if advisory.reporter_approved_at is None:
            advisory_services.approve(advisory=advisory, by=reporter)
    else:
        proposal = advisory_services.propose_disclosure(
            report=report, by=by, date=today, reason="The fixed release is out."
        )
        advisory_services.respond_to_disclosure(proposal=proposal, by=reporter, agree=True)
    if policy.disclosure_days_after_release:
        advisory_services.set_fix_release(report=report, by=by, version="1.0.1", released_on=today)
    return Advisory.objects.get(pk=advisory.pk)


def publish_now(advisory, *, by):
    return publication.publish(advisory=ready_to_publish(advisory, by=by), by=by)


# The report the export matrices publish advisories of: SMTP smuggling, as Stalwart saw it.
SMUGGLING = {
    "title": "SMTP smuggling in the inbound relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_components": "smtp-inbound",
    "description": "A bare LF before the final dot ends DATA early.",
    "steps_to_reproduce": "Send `\\n.\\n` inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}


def drafted_advisory(
    slug, *, by, reporter, affected_versions, vector="", severity="critical", credit=None, **fields
):
    """The advisory drafted from a report of the seeded project `slug` that went through the
    services: filed (SMUGGLING, with `fields` over it), triaged, scored when `vector` is given,
    fixed and, with `credit`, credited as the reporter chose.
    """
    report = report_services.file_report(
        project=Project.objects.get(slug=slug),
        reporter=reporter,
        fields={**SMUGGLING, "affected_versions": affected_versions, **fields},
    )
    report_services.transition(
        report=report, by=by, name="triage", message="Confirmed.", severity=severity
    )
    if vector:
        report_services.set_cvss_vector(report=report, by=by, vector=vector)
        report_services.compute_cvss(report_id=report.pk)
    report_services.transition(report=report, by=by, name="mark_fixed", message="Released.")
    if credit is not None:
        report_services.set_credit(report=report, by=reporter, **credit)
    return advisory_services.draft_advisory(report=report, by=by)


def edit_draft(advisory, *, by, fields):
    """The draft edited as the form stores it. A project without a version matrix (TeamMail)
    has no affected series, which update_advisory refuses; the model allows it, so those fields
    are written directly.
    """
    if advisory.affected_series:
        return advisory_services.update_advisory(advisory=advisory, by=by, fields=fields)
    Advisory.objects.filter(pk=advisory.pk).update(**fields)
    return Advisory.objects.get(pk=advisory.pk)
