"""Writes of incident response and disclosure. Each service runs in one transaction on the locked
report, writes the report's audit event and notifies through the reports app. The report's
Disclosure (dates, exploitation, checklist progress) is written only here.
"""

import tomllib
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from advisories.models import (
    Advisory,
    ChecklistItem,
    ChecklistTemplate,
    Credit,
    Disclosure,
    DisclosureProposal,
)
from projects.models import Project
from reports import reminders
from reports import services as report_services
from reports.models import ReportEvent, State

SEED_DIR = Path(__file__).resolve().parent / "seeds"
Event = ReportEvent.Kind


class AdvisoryError(report_services.ReportError):
    """A request the disclosure rules refuse; the message is shown to the user."""


_locked = report_services.lock_report


def _event(report, *, by, message, public):
    return report_services.record_event(
        report, actor=by, kind=Event.DISCLOSURE, message=message, public=public
    )


# --- Disclosure ---------------------------------------------------------------------------------


def open_disclosure(report):
    """The report's Disclosure, with the policy's date (intake hook: called as it is filed)."""
    disclosure, created = Disclosure.objects.get_or_create(report=report)
    disclosure.report = report  # the caller's (locked) instance, revision loaded
    if created:
        disclosure.due = disclosure.compute_due()
        disclosure.save(update_fields=["due"])
    return disclosure


def _save(disclosure, *fields):
    """Store changed Disclosure fields with the date they imply, and re-plan the reminders."""
    disclosure.due = disclosure.compute_due()
    disclosure.save(update_fields=[*fields, "due", "updated_at"])
    reminders.sync(disclosure.report)


# --- Checklist ----------------------------------------------------------------------------------


def seed_checklists():
    """Checklist templates shipped with the platform (Stalwart's); existing ones are kept."""
    created = []
    for path in sorted(SEED_DIR.glob("*-checklist.toml")):
        with path.open("rb") as handle:
            seed = tomllib.load(handle)
        project = Project.objects.filter(slug=seed["project"]).first()
        if project is None:
            continue
        _, made = ChecklistTemplate.objects.get_or_create(
            project=project, defaults={"phases": seed["phases"]}
        )
        if made:
            created.append(f"{project.slug} incident checklist")
    return created


@transaction.atomic
def start_checklist(*, report, by):
    """Copy the project's template onto the report (once; later template edits don't move it)."""
    report = _locked(report)
    if report.checklist_items.exists():
        return report
    template = ChecklistTemplate.objects.filter(project_id=report.project_id).first()
    if template is None:
        raise AdvisoryError(f"{report.project.name} has no incident checklist template.")
    items, order = [], 0
    for phase in template.phases:
        for kind, labels in (
            (ChecklistItem.Kind.TASK, phase["tasks"]),
            (ChecklistItem.Kind.FIELD, phase["fields"]),
        ):
            for label in labels:
                items.append(
                    ChecklistItem(
                        report=report, phase=phase["title"], order=order, kind=kind, label=label
                    )
                )
                order += 1
    ChecklistItem.objects.bulk_create(items)
    _store_progress(report)
    _event(report, by=by, message="Incident checklist started.", public=False)
    return report


@transaction.atomic
def update_checklist(*, report, by, done, values):
    """Tick tasks (`done`: ids of done tasks) and fill summary fields (`values`: id -> text)."""
    report = _locked(report)
    now = timezone.now()
    changed = []
    for item in report.checklist_items.all():
        if item.kind == ChecklistItem.Kind.TASK:
            new_done, new_value = item.pk in done, item.value
        else:
            new_done, new_value = item.done, values.get(item.pk, item.value).strip()
            new_done = bool(new_value)
        if (new_done, new_value) != (item.done, item.value):
            item.done, item.value, item.updated_by, item.updated_at = new_done, new_value, by, now
            changed.append(item)
    ChecklistItem.objects.bulk_update(changed, ["done", "value", "updated_by", "updated_at"])
    _store_progress(report)
    if changed:
        _event(report, by=by, message=f"Checklist: {len(changed)} item(s) updated.", public=False)
    return report


def checklist_progress(report):
    """(done, total) over tasks and summary fields; a field counts as done once filled."""
    items = report.checklist_items.all()
    return sum(item.done for item in items), len(items)


def _store_progress(report):
    disclosure = open_disclosure(report)
    disclosure.checklist_done, disclosure.checklist_total = checklist_progress(report)
    disclosure.save(update_fields=["checklist_done", "checklist_total", "updated_at"])


# --- Disclosure date ----------------------------------------------------------------------------


@transaction.atomic
def propose_disclosure(*, report, by, date, reason, actively_exploited=False):
    """A member proposes a date. It takes effect when the reporter agrees, or at once when the
    vulnerability is actively exploited and the policy allows early disclosure (Stalwart).
    """
    report = _locked(report)
    if not report.is_open and report.state != State.FIXED:
        raise AdvisoryError("The report is closed; there is nothing to disclose.")
    if not reason.strip():
        raise AdvisoryError("Give the reason for the proposed date.")
    if date < timezone.localdate():
        raise AdvisoryError("The disclosure date cannot be in the past.")
    early = actively_exploited and report.revision.early_disclosure_if_exploited
    if actively_exploited and not early:
        raise AdvisoryError("This policy does not allow early disclosure for exploitation.")
    report.disclosure_proposals.filter(status=DisclosureProposal.Status.PENDING).update(
        status=DisclosureProposal.Status.WITHDRAWN
    )
    status = DisclosureProposal.Status.EXPLOITED if early else DisclosureProposal.Status.PENDING
    proposal = DisclosureProposal.objects.create(
        report=report, proposed_date=date, reason=reason, proposed_by=by, status=status
    )
    if early:
        disclosure = open_disclosure(report)
        disclosure.actively_exploited, disclosure.agreed_on = True, date
        _save(disclosure, "actively_exploited", "agreed_on")
        _event(
            report,
            by=by,
            public=True,
            message=f"Disclosure moved to {date:%Y-%m-%d}: actively exploited. {reason}",
        )
    else:
        _event(
            report, by=by, public=True, message=f"Disclosure proposed for {date:%Y-%m-%d}: {reason}"
        )
    return proposal


@transaction.atomic
def respond_to_disclosure(*, proposal, by, agree, response=""):
    """The reporter agrees (the date becomes the disclosure date) or objects (it stays)."""
    report = _locked(proposal.report)
    proposal = DisclosureProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != DisclosureProposal.Status.PENDING:
        raise AdvisoryError("This proposal has already been answered or replaced.")
    if not agree and not response.strip():
        raise AdvisoryError("Say why you object, so the maintainers can propose another date.")
    proposal.status = (
        DisclosureProposal.Status.AGREED if agree else DisclosureProposal.Status.OBJECTED
    )
    proposal.response, proposal.responded_by, proposal.responded_at = response, by, timezone.now()
    proposal.save()
    if agree:
        disclosure = open_disclosure(report)
        disclosure.agreed_on = proposal.proposed_date
        _save(disclosure, "agreed_on")
    verdict = "agreed to" if agree else "objected to"
    _event(
        report,
        by=by,
        public=True,
        message=f"Reporter {verdict} disclosure on {proposal.proposed_date:%Y-%m-%d}. {response}",
    )
    return proposal


@transaction.atomic
def set_fix_release(*, report, by, released_on):
    """The fixed release is out: policies counting from the release (TeamMail) get their date."""
    report = _locked(report)
    disclosure = open_disclosure(report)
    disclosure.fix_released_on = released_on
    _save(disclosure, "fix_released_on")
    _event(report, by=by, public=True, message=f"Fix released on {released_on:%Y-%m-%d}.")
    return report


# --- Advisory -----------------------------------------------------------------------------------

# An advisory is drafted from a report the maintainers have assessed.
DRAFTABLE = frozenset({State.TRIAGED, State.FIXING, State.FIXED})


def _next_identifier(project, year):
    taken = Advisory.objects.filter(
        project=project, identifier__startswith=(f"{project.tracking_prefix}-ADV-{year}-")
    ).count()
    return f"{project.tracking_prefix}-ADV-{year}-{taken + 1:04d}"


@transaction.atomic
def draft_advisory(*, report, by):
    """An advisory prefilled from the report: title, impact, affected series, CVSS, the reporter's
    credit (named as the account's email until the reporter chooses how to be credited: anonymous
    by default, see Credit.display).
    """
    report = _locked(report)
    existing = Advisory.objects.filter(report=report).first()
    if existing is not None:
        return existing
    if report.state not in DRAFTABLE:
        raise AdvisoryError("Draft the advisory once the report is triaged.")
    # Lock the project so two drafts of the same year cannot take the same identifier.
    Project.objects.select_for_update().get(pk=report.project_id)
    matrix = {v.series for v in report.revision.versions.all()}
    advisory = Advisory.objects.create(
        report=report,
        project=report.project,
        identifier=_next_identifier(report.project, timezone.now().year),
        title=report.title,
        summary=report.title,
        details=report.impact or report.description,
        affected_series=[s for s in report.affected_versions if s in matrix],
        cvss_vector=report.cvss_vector,
        cvss_score=report.cvss_score,
        cvss_severity=report.cvss_severity,
    )
    Credit.objects.create(
        advisory=advisory,
        user=report.reporter,
        type=Credit.Type.FINDER,
        display=Credit.Display.ANONYMOUS,
    )
    _event(report, by=by, public=False, message=f"Advisory {advisory.identifier} drafted.")
    return advisory


def _locked_advisory(advisory):
    _locked(advisory.report)
    return (
        Advisory.objects.select_for_update().select_related("report", "project").get(pk=advisory.pk)
    )


ADVISORY_FIELDS = (
    "title",
    "summary",
    "details",
    "affected_series",
    "fixed_versions",
    "workaround",
    "cwe",
    "ghsa_id",
    "cve_id",
    "references",
)


def take_report_cvss(advisory):
    """The report's score is authoritative: the advisory carries the report's CVSS as it is now.
    Taken on every edit of the draft, at publication and by an amendment; a published advisory
    keeps its score until it is amended (advisories.revisions.amend).
    """
    report = advisory.report
    advisory.cvss_vector = report.cvss_vector
    advisory.cvss_score, advisory.cvss_severity = report.cvss_score, report.cvss_severity


@transaction.atomic
def update_advisory(*, advisory, by, fields):
    """Edit the draft. Any edit after the reporter approved asks for approval again."""
    advisory = _locked_advisory(advisory)
    if advisory.is_published:
        raise AdvisoryError("A published advisory cannot be edited.")
    for name in ADVISORY_FIELDS:
        if name in fields:
            setattr(advisory, name, fields[name])
    report = advisory.report
    take_report_cvss(advisory)
    advisory.reporter_approved_at = None
    advisory.full_clean(exclude=["report", "project", "identifier"])
    advisory.save()
    _event(
        report,
        by=by,
        public=advisory.state != Advisory.State.DRAFT,
        message=f"Advisory {advisory.identifier} edited.",
    )
    return advisory


@transaction.atomic
def share_for_review(*, advisory, by):
    """Show the draft to the reporter and collaborators, who comment and approve."""
    advisory = _locked_advisory(advisory)
    if advisory.state != Advisory.State.DRAFT:
        raise AdvisoryError("Only a draft can be shared for review.")
    advisory.state = Advisory.State.IN_REVIEW
    advisory.save(update_fields=["state", "updated_at"])
    _event(
        advisory.report,
        by=by,
        public=True,
        message=f"Advisory {advisory.identifier} shared with the reporter for review.",
    )
    return advisory


@transaction.atomic
def approve(*, advisory, by):
    advisory = _locked_advisory(advisory)
    if advisory.state != Advisory.State.IN_REVIEW:
        raise AdvisoryError("Only an advisory in review can be approved.")
    advisory.reporter_approved_at = timezone.now()
    advisory.save(update_fields=["reporter_approved_at", "updated_at"])
    _event(
        advisory.report,
        by=by,
        public=True,
        message=f"Reporter approved advisory {advisory.identifier}.",
    )
    return advisory


@transaction.atomic
def set_credit_preference(*, advisory, by, display, name="", handle=""):
    """The reporter chooses how they are credited: name, handle or anonymous."""
    advisory = _locked_advisory(advisory)
    if advisory.is_published:
        raise AdvisoryError("The advisory is published; ask the maintainers to change credits.")
    if display == Credit.Display.NAME and not name.strip():
        raise AdvisoryError("Give the name to credit.")
    if display == Credit.Display.HANDLE and not handle.strip():
        raise AdvisoryError("Give the handle to credit.")
    credit = advisory.credits.filter(user=by).first()
    if credit is None:
        credit = Credit(advisory=advisory, user=by, type=Credit.Type.FINDER)
    credit.display, credit.name, credit.handle = display, name.strip(), handle.strip()
    if display == Credit.Display.ANONYMOUS:
        credit.name = credit.handle = ""  # nothing to leak later
    credit.save()
    return credit


@transaction.atomic
def publish(*, advisory, by):
    """Publish: the advisory becomes public and the report moves to disclosed."""
    advisory = _locked_advisory(advisory)
    report = advisory.report
    if advisory.is_published:
        raise AdvisoryError("The advisory is already published.")
    if report.state != State.FIXED:
        raise AdvisoryError("Publish once the report is fixed.")
    if report.revision.reporter_reviews_fix and advisory.reporter_approved_at is None:
        raise AdvisoryError(
            f"{report.project.name}'s policy has the reporter review the advisory: "
            "share it and wait for the approval."
        )
    if not advisory.fixed_versions:
        raise AdvisoryError("Name the fixed versions first.")
    advisory.state = Advisory.State.PUBLISHED
    advisory.published_at = timezone.now()
    take_report_cvss(advisory)  # a score changed since the last edit of the draft
    advisory.save(
        update_fields=[
            "state", "published_at", "cvss_vector", "cvss_score", "cvss_severity", "updated_at",
        ]
    )  # fmt: skip
    report_services.transition(
        report=report, by=by, name="disclose", message=f"Advisory {advisory.identifier} published."
    )
    return advisory
