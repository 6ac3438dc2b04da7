"""Writes of incident response and disclosure. Each service runs in one transaction on the locked
report, writes the report's audit event and notifies through the reports app. The report's
Disclosure (dates, exploitation, checklist progress) is written only here.
"""

import hashlib
import json
import tomllib
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from advisories.models import (
    VERSION,
    Advisory,
    ChecklistItem,
    ChecklistTemplate,
    Disclosure,
    DisclosureProposal,
    FixReview,
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


def start_disclosure(report):
    """A new report's Disclosure, with the policy's date, in one INSERT (intake hook: called in
    the transaction that files the report)."""
    disclosure = Disclosure(report=report)
    disclosure.due = disclosure.compute_due()
    disclosure.save(force_insert=True)
    return disclosure


def open_disclosure(report):
    """The report's Disclosure, with the policy's date (opened now if the report has none)."""
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


def checklist_fingerprint(phases):
    """A stable digest of a template's phases (key order and JSON spacing aside)."""
    canonical = json.dumps(phases, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def seed_checklists():
    """Checklist templates shipped with the platform (Stalwart's).

    A missing template is created. An existing one is the project's: it is left alone, unless it
    is still exactly a version this platform shipped before (its fingerprint is in the seed's
    `replaces`), i.e. nobody customised it; that one is brought up to date. Checklists already
    started on reports are copies and never move. Returns what was done, one line each.
    """
    done = []
    for path in sorted(SEED_DIR.glob("*-checklist.toml")):
        with path.open("rb") as handle:
            seed = tomllib.load(handle)
        project = Project.objects.filter(slug=seed["project"]).first()
        if project is None:
            continue
        template, made = ChecklistTemplate.objects.get_or_create(
            project=project, defaults={"phases": seed["phases"]}
        )
        if made:
            done.append(f"created {project.slug} incident checklist")
        elif checklist_fingerprint(template.phases) in seed.get("replaces", ()):
            template.phases = seed["phases"]
            template.save(update_fields=["phases", "updated_at"])
            done.append(
                f"updated {project.slug} incident checklist (not customised) to this version"
            )
    return done


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
            (ChecklistItem.Kind.NOTES, [phase.get("updates", "")]),  # one notes box per phase
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
    """Tick tasks (`done`: ids of done tasks), fill summary fields and write phase notes
    (`values`: id -> text). One audit event names what changed.
    """
    report = _locked(report)
    now = timezone.now()
    changed = []
    for item in report.checklist_items.all():
        if item.kind == ChecklistItem.Kind.TASK:
            new_done, new_value = item.pk in done, item.value
        elif item.kind == ChecklistItem.Kind.NOTES:
            new_done, new_value = False, values.get(item.pk, item.value).strip()
        else:
            new_value = values.get(item.pk, item.value).strip()
            new_done = bool(new_value)
        if (new_done, new_value) != (item.done, item.value):
            item.done, item.value, item.updated_by, item.updated_at = new_done, new_value, by, now
            changed.append(item)
    ChecklistItem.objects.bulk_update(changed, ["done", "value", "updated_by", "updated_at"])
    _store_progress(report)
    if changed:
        _event(report, by=by, message=_checklist_change(changed), public=False)
    return report


def _checklist_change(changed):
    notes = [item.phase for item in changed if item.kind == ChecklistItem.Kind.NOTES]
    parts = []
    if len(changed) > len(notes):
        parts.append(f"{len(changed) - len(notes)} item(s) updated")
    if notes:
        parts.append(f"notes of {', '.join(notes)} updated")
    return f"Checklist: {'; '.join(parts)}."


def checklist_progress(report):
    """(done, total) over tasks and summary fields; a field counts as done once filled. Phase
    notes are kept, not done: they count in neither.
    """
    items = [i for i in report.checklist_items.all() if i.kind != ChecklistItem.Kind.NOTES]
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
def set_fix_release(*, report, by, version, released_on):
    """The fixed release is out, named by its version and date (both, together): policies
    counting from the release (TeamMail) get their date, and a draft advisory without fixed
    versions yet starts from this one.
    """
    version = (version or "").strip()
    if not VERSION.match(version):
        raise AdvisoryError("Give the fixed release's version number, e.g. 0.13.4.")
    if released_on is None:
        raise AdvisoryError("Give the date of the fixed release.")
    report = _locked(report)
    disclosure = open_disclosure(report)
    disclosure.fix_version, disclosure.fix_released_on = version, released_on
    _save(disclosure, "fix_version", "fix_released_on")
    draft = Advisory.objects.filter(report=report, state=Advisory.State.DRAFT).first()
    if draft is not None and not draft.fixed_versions:
        draft.fixed_versions = [version]
        draft.save(update_fields=["fixed_versions", "updated_at"])
    _event(
        report,
        by=by,
        public=True,
        message=f"Fix released in version {version} on {released_on:%Y-%m-%d}.",
    )
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
    """An advisory prefilled from the report: title, impact, affected series, CVSS. Credits come
    from the participants' own choices (reports.CreditPreference) when it is published.
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
    fix_version = open_disclosure(report).fix_version
    advisory = Advisory.objects.create(
        report=report,
        project=report.project,
        identifier=_next_identifier(report.project, timezone.now().year),
        title=report.title,
        summary=report.title,
        details=report.impact or report.description,
        affected_series=[s for s in report.affected_versions if s in matrix],
        fixed_versions=[fix_version] if fix_version else [],
        cvss_vector=report.cvss_vector,
        cvss_score=report.cvss_score,
        cvss_severity=report.cvss_severity,
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
    "fix_commits",
    "introduced_commit",
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


# --- Fix review ---------------------------------------------------------------------------------


@transaction.atomic
def share_fix(*, report, by, release_on, announce_on, fix_url="", attachment=None, note=""):
    """Share the proposed fix (a link or one of the report's attachments) and its release and
    announcement schedule with the reporter, replacing one still waiting for an answer.
    """
    report = _locked(report)
    if not report.is_open:
        raise AdvisoryError("The report is closed; there is no fix to review.")
    if not fix_url and attachment is None:
        raise AdvisoryError("Link the fix (commit, pull request or patch) or attach it.")
    if attachment is not None and attachment.report_id != report.pk:
        raise AdvisoryError("Choose one of this report's attachments.")
    if announce_on < release_on:
        raise AdvisoryError("The announcement cannot come before the fixed release.")
    report.fix_reviews.filter(status=FixReview.Status.PENDING).update(
        status=FixReview.Status.SUPERSEDED
    )
    review = FixReview.objects.create(
        report=report,
        fix_url=fix_url,
        attachment=attachment,
        release_on=release_on,
        announce_on=announce_on,
        note=note,
        shared_by=by,
    )
    _event(
        report,
        by=by,
        public=True,
        message=f"Proposed fix shared for review: release on {release_on:%Y-%m-%d}, "
        f"announcement on {announce_on:%Y-%m-%d}. {note}".strip(),
    )
    return review


@transaction.atomic
def respond_to_fix(*, review, by, approve, response=""):
    """The reporter approves the fix and its schedule (the announcement date becomes the agreed
    disclosure date) or asks for changes, saying which.
    """
    report = _locked(review.report)
    review = FixReview.objects.select_for_update().get(pk=review.pk)
    if review.status != FixReview.Status.PENDING:
        raise AdvisoryError("This fix review has already been answered or replaced.")
    if not approve and not response.strip():
        raise AdvisoryError("Say what should change, so the maintainers can revise the fix.")
    review.status = FixReview.Status.APPROVED if approve else FixReview.Status.CHANGES
    review.response, review.responded_by, review.responded_at = response, by, timezone.now()
    review.save()
    if approve:
        disclosure = open_disclosure(report)
        disclosure.agreed_on = review.announce_on
        _save(disclosure, "agreed_on")
        message = (
            f"Reporter approved the fix and its schedule: announcement on "
            f"{review.announce_on:%Y-%m-%d}. {response}"
        )
    else:
        message = f"Reporter asked for changes to the proposed fix. {response}"
    _event(report, by=by, public=True, message=message.strip())
    return review
