"""Publishing in tests, as the rules allow it today (advisories.publication): where the policy
reviews the fix with the reporter (TeamMail), after the fix and its schedule are approved, the
release recorded and the advisory approved; elsewhere after the reporter agreed to a disclosure
today. Tests about the rules themselves do not use this.
"""

from django.utils import timezone

from advisories import publication
from advisories import services as advisory_services
from advisories.models import Advisory


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
