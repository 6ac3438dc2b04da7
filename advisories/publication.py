"""When an advisory may become public, and publishing it: by a maintainer, or by the beat sweep
on the disclosure date when it was scheduled.

The policy's disclosure rule is the rule (advisories.models.Disclosure.compute_due): the agreed
date, else Stalwart's "90 days from report to public disclosure", TeamMail's "One week after the
release". Publishing before that date needs a maintainer's recorded reason the reporter is told
(actively exploited, already public elsewhere); a policy counting from the release needs the
release. Where the policy has the reporter review the fix (TeamMail), publication waits for both
approvals. Credits are taken from the participants' own choices at that moment.
"""

from django.db import transaction
from django.utils import timezone

from advisories.models import Advisory, Credit, Disclosure, FixReview
from advisories.services import (
    AdvisoryError,
    _locked_advisory,
    open_disclosure,
    take_report_cvss,
)
from reports import services as report_services
from reports.models import CreditDisplay, Report, State


class EarlyReason:
    """Why a maintainer may publish before the disclosure date (the reporter is told)."""

    EXPLOITED = "exploited"
    PUBLIC = "public"
    CHOICES = [
        (EXPLOITED, "It is being actively exploited"),
        (PUBLIC, "It is already public elsewhere"),
    ]


def blockers(advisory, *, now=None):
    """Why the advisory cannot be published now, whatever the date: [] when nothing stands in
    the way but, perhaps, the disclosure date (see `early`).
    """
    report, policy = advisory.report, advisory.report.revision
    found = []
    if advisory.is_published:
        found.append("The advisory is already published.")
    if report.state != State.FIXED:
        found.append("Publish once the report is fixed.")
    if not advisory.fixed_versions:
        found.append("Name the fixed versions first.")
    if policy.reporter_reviews_fix:
        if not report.fix_reviews.filter(status=FixReview.Status.APPROVED).exists():
            found.append(
                f"{report.project.name}'s policy has the reporter review the proposed fix and its "
                "schedule: share them and wait for the approval."
            )
        if advisory.reporter_approved_at is None:
            found.append(
                f"{report.project.name}'s policy has the reporter review the advisory: "
                "share it and wait for the approval."
            )
    disclosure = open_disclosure(report)
    if policy.disclosure_days_after_release and disclosure.fix_released_on is None:
        found.append(
            f"{report.project.name} discloses {policy.disclosure_days_after_release} days after "
            "the fixed release: record the release first."
        )
    return found


def early(advisory, *, now=None):
    """The disclosure date, when publishing now would come before it (else None)."""
    due = open_disclosure(advisory.report).due
    now = now or timezone.now()
    return due if due is not None and now < due else None


def credits_for(advisory):
    """The credits the advisory shows: once published, its public record; before, unsaved
    Credits from each participant's own choice (reports.CreditPreference), the reporter (who was
    promised credit) anonymously until they choose, and the credits added by hand (no account).
    """
    if advisory.is_published:
        return list(advisory.credits.all())
    report = advisory.report
    choices = {choice.user_id: choice for choice in report.credit_preferences.all()}
    people = [report.reporter_id, *(user for user in choices if user != report.reporter_id)]
    chosen = [
        Credit(
            advisory=advisory,
            user_id=user_id,
            type=Credit.Type.FINDER,
            display=choices[user_id].display if user_id in choices else CreditDisplay.ANONYMOUS,
            name=choices[user_id].name if user_id in choices else "",
            handle=choices[user_id].handle if user_id in choices else "",
        )
        for user_id in people
    ]
    return chosen + list(advisory.credits.filter(user=None))


@transaction.atomic
def publish(*, advisory, by, early_reason="", early_note="", now=None):
    """Publish: the advisory becomes public, its credits are fixed, the report is disclosed.

    Before the disclosure date only with `early_reason` (EarlyReason) and a note, recorded on
    the report and told to the reporter. `by` is None when the beat sweep publishes.
    """
    advisory = _locked_advisory(advisory)
    report = advisory.report
    now = now or timezone.now()
    problems = blockers(advisory, now=now)
    if problems:
        raise AdvisoryError(" ".join(problems))
    date = early(advisory, now=now)
    if date is not None and not (early_reason and early_note.strip()):
        raise AdvisoryError(
            f"The disclosure date is {date:%Y-%m-%d}. Publishing earlier needs the reason "
            "(actively exploited, or already public elsewhere) the reporter will be told; or "
            "agree an earlier date with the reporter, or schedule the publication."
        )
    # The credits as they stand now become the public record, the participants first.
    credits = credits_for(advisory)
    advisory.credits.all().delete()
    for credit in credits:
        credit.pk = None
    Credit.objects.bulk_create(credits)
    advisory.state = Advisory.State.PUBLISHED
    advisory.published_at = now
    advisory.scheduled = False
    take_report_cvss(advisory)  # a score changed since the last edit of the draft
    advisory.save()
    message = f"Advisory {advisory.identifier} published."
    if date is not None:
        reason = dict(EarlyReason.CHOICES)[early_reason]
        message = (
            f"Advisory {advisory.identifier} published before the disclosure date "
            f"({date:%Y-%m-%d}): {reason.lower()}. {early_note.strip()}"
        )
    elif by is None:
        message = f"Advisory {advisory.identifier} published on the disclosure date, as scheduled."
    report_services.transition(report=report, by=by, name="disclose", message=message)
    return advisory


@transaction.atomic
def schedule(*, advisory, by):
    """Have the sweep publish the advisory when the disclosure date comes; refused while anything
    but the date stands in the way, or when there is no date.
    """
    advisory = _locked_advisory(advisory)
    problems = blockers(advisory)
    if problems:
        raise AdvisoryError(" ".join(problems))
    due = open_disclosure(advisory.report).due
    if due is None:
        raise AdvisoryError("There is no disclosure date to schedule for: agree one first.")
    advisory.scheduled = True
    advisory.save(update_fields=["scheduled", "updated_at"])
    report_services.record_event(
        advisory.report,
        actor=by,
        kind=report_services.Event.DISCLOSURE,
        message=f"Advisory {advisory.identifier} will be published on the disclosure date "
        f"({due:%Y-%m-%d}).",
    )
    return advisory


@transaction.atomic
def unschedule(*, advisory, by, why=""):
    advisory = _locked_advisory(advisory)
    if not advisory.scheduled:
        raise AdvisoryError("The advisory is not scheduled.")
    advisory.scheduled = False
    advisory.save(update_fields=["scheduled", "updated_at"])
    report_services.record_event(
        advisory.report,
        actor=by,
        kind=report_services.Event.DISCLOSURE,
        message=f"Scheduled publication of {advisory.identifier} cancelled. {why}".strip(),
    )
    return advisory


class ScheduledPublications:
    """The beat sweep's part (registered with reports.extensions by the glue): publish the
    scheduled advisories whose disclosure date has come, each exactly once.

    Each advisory is published in its own transaction on its report's row lock, taken with
    SKIP LOCKED: a second sweep running at the same time passes over it, and the publish service
    finds a published advisory published. A worker killed mid-way rolls its transaction back;
    the next sweep publishes it. One that cannot be published any more (the report was reopened,
    a fix review was withdrawn...) is unscheduled with the reason, which members see.
    """

    def sweep(self, *, now):
        due = Disclosure.objects.filter(due__lte=now).values("report_id")
        candidates = list(
            Advisory.objects.filter(scheduled=True, published_at__isnull=True, report__in=due)
            .order_by("pk")
            .values_list("pk", "report_id")
        )
        published = 0
        for advisory_id, report_id in candidates:
            with transaction.atomic():
                held = (
                    Report.objects.select_for_update(no_key=True, skip_locked=True)
                    .filter(pk=report_id)
                    .exists()
                )
                advisory = Advisory.objects.get(pk=advisory_id)
                if not held or not advisory.scheduled or advisory.is_published:
                    continue
                try:
                    with transaction.atomic():
                        publish(advisory=advisory, by=None, now=now)
                except AdvisoryError as error:
                    why = f"It could not be published: {error}"
                    unschedule(advisory=advisory, by=None, why=why)
                else:
                    published += 1
        return published


SCHEDULED_PUBLICATIONS = ScheduledPublications()
