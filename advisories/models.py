"""Working a report to a published advisory: incident checklist, disclosure-date proposals,
the advisory with its reporter review, its revisions after publication, and credits.

Nothing here is public before `Advisory.published_at` is set; public pages, feeds and exports
read through `advisories.selectors.published`. A published advisory stays public: it changes
only by a revision (an amendment, or its withdrawal), see AdvisoryRevision.
"""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from projects.models import Project
from reports.models import Report


def start_of_day(day):
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


class Disclosure(models.Model):
    """When a report's vulnerability becomes public, and the incident work towards it.

    One per report, opened in the transaction that files it (advisories.services.start_disclosure,
    registered as an intake hook by the glue).
    """

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="disclosure"
    )
    agreed_on = models.DateField(
        null=True,
        blank=True,
        help_text="Agreed with the reporter, or set early for active exploitation; "
        "overrides the policy's rule.",
    )
    fix_released_on = models.DateField(
        null=True, blank=True, help_text='Starts TeamMail\'s "one week after the release".'
    )
    fix_version = models.CharField(
        max_length=100,
        blank=True,
        help_text='The released version with the fix, e.g. "0.13.4", recorded with its date; '
        "the advisory's fixed versions start from it.",
    )
    actively_exploited = models.BooleanField(default=False)
    checklist_done = models.PositiveSmallIntegerField(default=0)
    checklist_total = models.PositiveSmallIntegerField(default=0)
    due = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="The disclosure date (compute_due)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Disclosure of report {self.report_id}"

    def compute_due(self):
        """The agreed date if there is one, else the policy's rule: days after the report
        (Stalwart: "90 days after the report") or days after the fixed release (TeamMail: "one
        week after the release"; unknown until the release date is set).

        It follows the revision the report was filed under, from the filing time and these
        fields only: waiting for the reporter does not move it.
        """
        policy = self.report.revision
        if self.agreed_on:
            return start_of_day(self.agreed_on)
        if policy.disclosure_days_after_report:
            days = policy.disclosure_days_after_report
            return self.report.created_at + datetime.timedelta(days=days)
        if policy.disclosure_days_after_release and self.fix_released_on:
            days = policy.disclosure_days_after_release
            return start_of_day(self.fix_released_on) + datetime.timedelta(days=days)
        return None


NOTES_PROMPT_MAX = 300  # the prompt becomes ChecklistItem.label


class ChecklistTemplate(models.Model):
    """A project's incident checklist: phases with tasks and summary fields (Stalwart's
    SECURITY_PROCESS.md). `phases` is a list of {"title", "tasks": [...], "fields": [...]} with an
    optional "updates": the prompt of the phase's notes box (every phase has one on a report).
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="checklist")
    phases = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Incident checklist of {self.project}"

    def clean(self):
        # start_checklist copies these keys onto reports: a template without them would break
        # every incident of the project.
        shape = (
            'A list of phases, each {"title": text, "tasks": [text], "fields": [text]} and '
            'optionally "updates": text (the prompt of the phase\'s notes).'
        )
        if not isinstance(self.phases, list) or not self.phases:
            raise ValidationError({"phases": shape})
        for phase in self.phases:
            if not (
                isinstance(phase, dict)
                and isinstance(phase.get("title"), str)
                and phase["title"].strip()
                and all(
                    isinstance(phase.get(key), list)
                    and all(isinstance(label, str) and label.strip() for label in phase[key])
                    for key in ("tasks", "fields")
                )
                and isinstance(phase.get("updates", ""), str)
                and len(phase.get("updates", "")) <= NOTES_PROMPT_MAX
            ):
                raise ValidationError({"phases": shape})


class ChecklistItem(models.Model):
    """One task, summary field or phase's notes of a report's checklist, copied from the
    template at start. Each phase opens with its notes (Stalwart's "Updates": free markdown,
    label = the template's prompt); notes are kept, not ticked, and count in no progress.
    """

    class Kind(models.TextChoices):
        TASK = "task", "Task"
        FIELD = "field", "Summary field"
        NOTES = "notes", "Phase notes"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="checklist_items")
    phase = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=300)
    done = models.BooleanField(default=False)
    value = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report", "order"]
        constraints = [
            models.UniqueConstraint(fields=["report", "order"], name="one_item_per_position")
        ]

    def __str__(self):
        return self.label


class DisclosureProposal(models.Model):
    """A member proposes a disclosure date with a reason; the reporter agrees or objects."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the reporter"
        AGREED = "agreed", "Agreed"
        OBJECTED = "objected", "Objected"
        EXPLOITED = "exploited", "Set early: actively exploited"
        WITHDRAWN = "withdrawn", "Superseded"

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="disclosure_proposals"
    )
    proposed_date = models.DateField()
    reason = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Disclose {self.report_id} on {self.proposed_date}"


CWE = RegexValidator(r"^CWE-[1-9][0-9]*$", "A CWE identifier, e.g. CWE-79.")
GHSA = RegexValidator(
    r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$", "A GitHub advisory ID, e.g. GHSA-xxxx-xxxx-xxxx."
)
CVE = RegexValidator(r"^CVE-[0-9]{4}-[0-9]{4,19}$", "A CVE ID, e.g. CVE-2026-12345.")
VERSION = re.compile(r"^\d+(\.\d+)*$")
# A full git commit hash, SHA-1 or SHA-256, as OSV's GIT ranges require it.
COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
COMMIT_HELP = "a full git commit hash: all 40 (or 64) hex digits, as `git rev-parse HEAD` prints"


def validate_commit(value):
    if not COMMIT.match(value):
        raise ValidationError(f"Not {COMMIT_HELP}: {value!r}.", code="commit")


def validate_commits(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("A list of full git commit hashes.", code="commits")
    for item in value:
        validate_commit(item)
    if len(set(value)) != len(value):
        raise ValidationError("A fix commit is listed twice.", code="commits")


class AdvisoryQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=Advisory.State.PUBLISHED, project__active=True)


class Advisory(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review with the reporter"
        PUBLISHED = "published", "Published"

    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="advisory")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="advisories")
    identifier = models.CharField(
        max_length=40, unique=True, help_text="The platform's advisory ID, e.g. STW-ADV-2026-0001."
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    details = models.TextField(help_text="Markdown.")
    affected_series = models.JSONField(
        default=list, blank=True, help_text="Series of the version matrix that are affected."
    )
    fixed_versions = models.JSONField(
        default=list,
        blank=True,
        help_text='Released versions with the fix, e.g. ["0.13.4", "0.12.9"].',
    )
    fix_commits = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_commits],
        help_text="Full git commit hashes of the fix in the project's repository, one per branch "
        "it was applied to (OSV GIT ranges).",
    )
    introduced_commit = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_commit],
        help_text="The commit that introduced the vulnerability, if known (full hash).",
    )
    workaround = models.TextField(blank=True)
    cwe = models.CharField(verbose_name="CWE", max_length=20, blank=True, validators=[CWE])
    cvss_vector = models.CharField(verbose_name="CVSS vector", max_length=200, blank=True)
    cvss_score = models.DecimalField(
        verbose_name="CVSS score", max_digits=3, decimal_places=1, null=True, blank=True
    )
    cvss_severity = models.CharField(verbose_name="CVSS severity", max_length=10, blank=True)
    ghsa_id = models.CharField(verbose_name="GHSA ID", max_length=30, blank=True, validators=[GHSA])
    cve_id = models.CharField(verbose_name="CVE ID", max_length=30, blank=True, validators=[CVE])
    references = models.JSONField(default=list, blank=True)
    reporter_approved_at = models.DateTimeField(null=True, blank=True)
    scheduled = models.BooleanField(
        default=False, help_text="Published by the beat sweep when the disclosure date comes."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Revisions after publication (AdvisoryRevision); kept here too so lists and feeds read them
    # without a query per advisory.
    revised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last revision after publication was made."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    objects = AdvisoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "advisories"
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["project", "state", "published_at"], name="advisory_public_idx"),
            # The publication sweep: scheduled advisories not yet published.
            models.Index(
                fields=["report"],
                condition=models.Q(scheduled=True, published_at__isnull=True),
                name="advisory_scheduled_idx",
            ),
        ]

    def __str__(self):
        return f"{self.identifier}: {self.title}"

    @property
    def is_published(self):
        return self.state == self.State.PUBLISHED

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    @property
    def modified_at(self):
        """When the published advisory last changed: its last revision, else its publication."""
        return self.revised_at or self.published_at

    def revision_refusal(self):
        """Why the advisory cannot be revised (amended or withdrawn) now, or None.

        Only a published advisory is revised (a draft is edited); a withdrawn one is final.
        """
        if not self.is_published:
            return "Only a published advisory can be amended or withdrawn; edit the draft instead."
        if self.is_withdrawn:
            return (
                f"{self.identifier} was withdrawn on {self.withdrawn_at:%Y-%m-%d}: "
                "a withdrawn advisory cannot be amended or withdrawn again."
            )
        return None

    def history(self):
        """The revision history as the exports and pages give it, oldest first: the publication
        is revision 1 (not stored: it is `published_at`), then the stored revisions. Reads
        `revisions`; prefetch them where several advisories are shown.
        """
        if self.published_at is None:
            return []
        publication = AdvisoryRevision(
            advisory=self,
            number=1,
            kind=AdvisoryRevision.Kind.PUBLISHED,
            reason="Published.",
            created_at=self.published_at,
        )
        return [publication, *self.revisions.all()]


# What an amendment may change, with the label a revision history shows: the draft form's fields
# and the CVSS, taken from the report (advisories.revisions.amend).
REVISED_FIELDS = {
    "title": "Title",
    "summary": "Summary",
    "details": "Details",
    "affected_series": "Affected series",
    "fixed_versions": "Fixed versions",
    "fix_commits": "Fix commits",
    "introduced_commit": "Introduced commit",
    "workaround": "Workaround",
    "cwe": "CWE",
    "ghsa_id": "GHSA ID",
    "cve_id": "CVE ID",
    "references": "References",
    "cvss_vector": "CVSS",
    "cvss_score": "CVSS",
    "cvss_severity": "CVSS",
}


class AdvisoryRevision(models.Model):
    """A change to a published advisory, with its reason: an amendment (`changes` holds
    {field: {"from": old, "to": new}} of what changed) or the withdrawal. Append-only, written by
    advisories.revisions only.

    The publication is revision 1 and is not stored (Advisory.history); stored revisions number
    on from 2, so `number` is the advisory's version after the change (CSAF's
    tracking.version).
    """

    class Kind(models.TextChoices):
        PUBLISHED = "published", "Published"  # revision 1 only, never stored
        AMENDED = "amended", "Amended"
        WITHDRAWN = "withdrawn", "Withdrawn"

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField()
    changes = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["advisory", "number"]
        constraints = [
            models.UniqueConstraint(fields=["advisory", "number"], name="one_revision_per_number")
        ]

    def __str__(self):
        return f"{self.advisory_id} revision {self.number} ({self.kind})"

    @property
    def summary(self):
        """One line for revision histories: the reason, saying so for a withdrawal."""
        if self.kind == self.Kind.WITHDRAWN:
            return f"Withdrawn: {self.reason}"
        return self.reason

    def changed_fields(self):
        """Labels of the fields an amendment changed, in the order of REVISED_FIELDS."""
        return list(dict.fromkeys(REVISED_FIELDS[name] for name in self.changes))


class FixReview(models.Model):
    """The proposed fix and its release-and-announcement schedule, shared with the reporter, who
    approves it or asks for changes (TeamMail: "We will propose a fix that we will review with
    you"). Where the policy says so (PolicyRevision.reporter_reviews_fix), publishing waits for
    the approval; the approved announcement date becomes the agreed disclosure date.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the reporter"
        APPROVED = "approved", "Approved"
        CHANGES = "changes", "Changes asked"
        SUPERSEDED = "superseded", "Superseded"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="fix_reviews")
    fix_url = models.URLField(
        verbose_name="fix URL", blank=True, help_text="The commit, pull request or patch."
    )
    attachment = models.ForeignKey(
        "reports.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_on = models.DateField(help_text="When the fixed release ships.")
    announce_on = models.DateField(help_text="When the vulnerability is announced.")
    note = models.TextField(blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Fix review of {self.report_id} ({self.status})"


class Credit(models.Model):
    """Recognition on an advisory. Types follow OSV/CVE/CSAF credit roles."""

    class Type(models.TextChoices):
        FINDER = "finder", "Finder"
        REPORTER = "reporter", "Reporter"
        ANALYST = "analyst", "Analyst"
        COORDINATOR = "coordinator", "Coordinator"
        REMEDIATION_DEVELOPER = "remediation_developer", "Remediation developer"
        REMEDIATION_REVIEWER = "remediation_reviewer", "Remediation reviewer"
        REMEDIATION_VERIFIER = "remediation_verifier", "Remediation verifier"
        TOOL = "tool", "Tool"
        SPONSOR = "sponsor", "Sponsor"
        OTHER = "other", "Other"

    class Display(models.TextChoices):
        NAME = "name", "Name"
        HANDLE = "handle", "Handle"
        ANONYMOUS = "anonymous", "Anonymous"

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="credits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    type = models.CharField(max_length=30, choices=Type.choices, default=Type.FINDER)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.NAME)
    name = models.CharField(max_length=200, blank=True)
    handle = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["advisory", "id"]

    def __str__(self):
        return f"{self.public_name} ({self.get_type_display()})"

    @property
    def public_name(self):
        """What the world sees: never the name or handle of an anonymous credit."""
        if self.display == self.Display.ANONYMOUS:
            return "Anonymous"
        if self.display == self.Display.HANDLE and self.handle:
            return self.handle
        return self.name or self.handle or "Anonymous"
