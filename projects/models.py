"""Hosted projects and their published security policies.

A project's SECURITY.md becomes a PolicyRevision: the revision in force on a day is the latest one
whose effective date is not after that day, and once in force a revision never changes (reports
filed under it keep the promises it made). Each revision carries its own supported-version matrix.
"""

import datetime
import enum
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from projects import identity, intake

DISPLAY_NAME_MAX = 80


class Project(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    tracking_prefix = models.CharField(
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,8}$", "Two to eight capital letters, e.g. STW.")],
        help_text="Prefix of the project's tracking IDs, e.g. STW for STW-2026-0001.",
    )
    description = models.CharField(max_length=300, blank=True)
    homepage = models.URLField(blank=True)
    repository_url = models.URLField(verbose_name="repository URL", blank=True)
    security_email = models.EmailField(help_text="Primary security contact.")
    backup_email = models.EmailField(blank=True, help_text="Contact when the primary is silent.")
    backup_after_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Hours without acknowledgment before the backup is used."
    )
    pgp_key_url = models.URLField(verbose_name="PGP key URL", blank=True)
    cve_threshold = models.DecimalField(
        verbose_name="CVE threshold",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text="CVSS score from which a CVE is requested (blank: no rule).",
    )
    preferred_languages = models.CharField(
        max_length=50,
        blank=True,
        help_text="Comma-separated language tags (RFC 5646), only those the policy states; "
        "blank: security.txt names none.",
    )
    # Package identity (projects.identity): what the OSV, CSAF and CVE exports name the
    # affected software by. Only what the project itself states; blank is "not known".
    osv_ecosystem = models.CharField(
        verbose_name="OSV ecosystem",
        max_length=20,
        blank=True,
        choices=identity.ECOSYSTEM_CHOICES,
        help_text="The package registry where the project publishes its software as a package. "
        "Blank: none (a container image is no OSV ecosystem); OSV records then give GIT ranges "
        "on the repository.",
    )
    package_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The package's name in that ecosystem (Maven: groupId:artifactId).",
    )
    purl = models.CharField(
        verbose_name="package URL (purl)",
        max_length=300,
        blank=True,
        validators=[identity.validate_purl],
        help_text="Without a version, e.g. pkg:cargo/example-crate.",
    )
    cpe = models.CharField(
        verbose_name="CPE",
        max_length=300,
        blank=True,
        validators=[identity.validate_cpe],
        help_text="CPE 2.3 with * as version, "
        "e.g. cpe:2.3:a:example:example_server:*:*:*:*:*:*:*:*",
    )
    vendor = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who makes the software, as CVE records name it. Blank: not stated (CVE "
        'records say "n/a" where they need a vendor).',
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["active", "name"], name="project_active_name_idx")]

    def __str__(self):
        return self.name

    def revision_in_force(self, on=None):
        return self.revisions.in_force_on(on or timezone.localdate()).first()

    def clean(self):
        self.purl, self.cpe = self.purl.strip(), self.cpe.strip()
        self.package_name, self.vendor = self.package_name.strip(), self.vendor.strip()
        self.package_name, self.purl = identity.canonical(
            ecosystem=self.osv_ecosystem, package_name=self.package_name, purl=self.purl
        )
        errors = identity.check(
            ecosystem=self.osv_ecosystem, package_name=self.package_name, purl=self.purl
        )
        if errors:
            raise ValidationError(errors)

    @property
    def ecosystem(self):
        """The projects.identity.Ecosystem of the project's package, or None."""
        return identity.ECOSYSTEMS.get(self.osv_ecosystem)


class IntakeAddress(models.Model):
    """An address whose mail becomes reports of the project (the inbox app): the address the
    policy publishes. An address belongs to one project; stored lower-cased. Besides these, the
    platform's own INBOX_ADDRESS plus the project's slug (security+stalwart@...) reaches it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="intake_addresses")
    address = models.EmailField(unique=True, help_text="Lower-case.")

    class Meta:
        verbose_name = "intake address"
        verbose_name_plural = "intake addresses"
        constraints = [
            # The gateway looks addresses up lower-cased: "Security@" must not escape the unique
            # index as a second row.
            models.CheckConstraint(
                condition=models.Q(address=Lower("address")), name="intake_address_lower"
            )
        ]

    def __str__(self):
        return self.address


class PolicyRevisionQuerySet(models.QuerySet):
    def in_force_on(self, day):
        """Revisions that were ever in force by `day`, the one in force first."""
        return self.filter(effective_from__lte=day).order_by("-effective_from")


class PolicyRevision(models.Model):
    """One published version of a project's security policy, in force from `effective_from`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="revisions")
    effective_from = models.DateField()
    source_url = models.URLField(
        verbose_name="source URL", blank=True, help_text="Where this policy text was published."
    )
    # effective_from is the platform's date: the day this text was taken in (and is in force here
    # from). What the text itself says of its date is kept in its own words.
    effective_statement = models.TextField(
        blank=True,
        help_text="Markdown: the text's own statement of when it is effective, word for word "
        '(Stalwart: "This security policy is effective as of June 20, 2025 ...").',
    )
    introduction = models.TextField(blank=True, help_text="Markdown.")
    how_to_report = models.TextField(blank=True, help_text="Markdown.")
    subject_tag = models.CharField(
        max_length=100, blank=True, help_text="Tag the project asks for in report subjects."
    )
    # Intake: keys of projects.intake.STANDARD_FIELDS, plus project-specific extra fields.
    intake_required = models.JSONField(default=list, blank=True)
    intake_helpful = models.JSONField(default=list, blank=True)
    intake_extra_fields = models.JSONField(
        default=list, blank=True, help_text='List of {"name", "label", "required"} objects.'
    )
    # SLA targets (blank: the policy makes no promise).
    ack_hours = models.PositiveIntegerField(
        verbose_name="acknowledgment hours", null=True, blank=True
    )
    detail_hours = models.PositiveIntegerField(null=True, blank=True)
    update_days = models.PositiveIntegerField(null=True, blank=True)
    fix_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days from the detailed response to a proposed fix."
    )
    resolve_days = models.PositiveIntegerField(null=True, blank=True)
    sla_text = models.TextField(
        verbose_name="SLA text", blank=True, help_text="Markdown: the policy's own words on timing."
    )
    # Waiting for the reporter: nudge after this many days, close as withdrawn after that many.
    needs_info_nudge_days = models.PositiveIntegerField(default=7)
    # Closing a reporter's report is a rule against the reporter: only a policy that states it
    # has it (none of the seeded policies does).
    needs_info_close_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only if the policy says so: reports waiting for the reporter's answer are "
        "closed as withdrawn after this many days. Blank: never closed automatically.",
    )
    # Disclosure rule.
    disclosure_days_after_report = models.PositiveIntegerField(null=True, blank=True)
    disclosure_days_after_release = models.PositiveIntegerField(null=True, blank=True)
    early_disclosure_if_exploited = models.BooleanField(default=False)
    reporter_reviews_fix = models.BooleanField(
        default=False, help_text="The reporter reviews the fix and the advisory before publication."
    )
    disclosure_text = models.TextField(blank=True, help_text="Markdown.")
    versions_note = models.TextField(blank=True, help_text="Markdown, shown under the matrix.")
    scope_in = models.TextField(blank=True, help_text="Markdown.")
    scope_out = models.TextField(blank=True, help_text="Markdown.")
    safe_harbor = models.TextField(blank=True, help_text="Markdown.")
    recognition = models.TextField(blank=True, help_text="Markdown.")
    additional_text = models.TextField(
        blank=True, help_text="Markdown: threat model, best practices and other policy sections."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "effective_from"], name="one_revision_per_project_and_day"
            )
        ]

    def __str__(self):
        return f"{self.project} policy of {self.effective_from:%Y-%m-%d}"

    def is_locked(self, on=None):
        """In force (or superseded): published promises never change; add a new revision."""
        return self.pk is not None and self.effective_from <= (on or timezone.localdate())

    def validate_upcoming(self, on=None):
        """Revisions are written ahead of their date: one dated today or earlier would be in force
        at once, and a revision in force never changes (is_locked). The seeds import published
        history and do not ask this.
        """
        if self.effective_from <= (on or timezone.localdate()):
            raise ValidationError(
                "A revision takes effect after today: one in force is a published promise and "
                "is never written afterwards."
            )

    def clean(self):
        if self.pk is not None:
            stored = type(self).objects.get(pk=self.pk)
            if stored.is_locked():
                raise ValidationError(
                    "This revision is in force and cannot be changed. Add a new revision instead."
                )
        intake.validate_field_keys(self.intake_required, "intake_required")
        intake.validate_field_keys(self.intake_helpful, "intake_helpful")
        intake.validate_extra_fields(self.intake_extra_fields)

    @property
    def has_scope(self):
        """The policy has a scope section (the policy page shows it; the intake links to it)."""
        return bool(self.scope_in or self.scope_out)

    def sla_commitments(self):
        """(label, promise) pairs of the targets this revision sets, in a report's order of life."""
        targets = [
            ("Acknowledgment", self.ack_hours, "hours"),
            ("Detailed response", self.detail_hours, "hours"),
            ("Status updates", self.update_days, "update_days"),
            ("Proposed fix", self.fix_days, "days"),
            ("Resolution target", self.resolve_days, "days"),
        ]
        return [(label, _duration(value, unit)) for label, value, unit in targets if value]

    def disclosure_rule(self):
        """One sentence: when a vulnerability becomes public under this revision."""
        if self.disclosure_days_after_report:
            rule = f"Public disclosure {self.disclosure_days_after_report} days after the report"
        elif self.disclosure_days_after_release:
            days = self.disclosure_days_after_release
            rule = f"Public disclosure {days} days after the fixed release"
        else:
            return "Disclosure is coordinated with the reporter; the policy sets no fixed delay."
        if self.early_disclosure_if_exploited:
            rule += ", earlier if the vulnerability is actively exploited"
        return rule + "."

    def matrix_on(self, day, *, in_force):
        """This revision's matrix as [(row, status on `day`)], and whether `day`'s statuses come
        from another revision.

        Only the revision in force says what is supported on `day`: a superseded (or upcoming)
        text's rows say what that text says, and the status on `day` of each of its series is
        the in-force matrix's row of the same series (None when the matrix in force does not
        list it, or no revision is in force). Stalwart's 0.12-era text lists 0.12.x with no end
        of support; the matrix in force ends it on 2025-12-31.
        """
        rows = list(self.versions.all())
        if in_force is not None and in_force.pk == self.pk:
            return [(row, row.status_on(day)) for row in rows], False
        today = {} if in_force is None else {v.series: v for v in in_force.versions.all()}
        return [
            (row, today[row.series].status_on(day) if row.series in today else None) for row in rows
        ], True

    def unsupported_series(self, series, *, on):
        """Which of the chosen `series` this revision's matrix says are out of support on `on`,
        in matrix order (choices outside the matrix, such as "other/unknown", are not judged).
        """
        chosen = set(series)
        return [
            v.series
            for v in self.versions.all()
            if v.series in chosen and not v.is_supported_on(on)
        ]

    def series_of(self, version):
        """The row of this revision's matrix that holds the exact `version` (the first, newest
        first), or None: no such row, or not a version number.
        """
        numbers = version_numbers(version)
        if numbers is None:
            return None
        return next((v for v in self.versions.all() if series_includes(v.series, numbers)), None)

    def intake_fields(self):
        """The report form's fields under this revision, in display order."""
        return intake.fields_for(
            required=self.intake_required,
            helpful=self.intake_helpful,
            extra=self.intake_extra_fields,
        )


def _duration(value, unit):
    if unit == "update_days":
        return f"every {value} days until resolved"
    if unit == "hours" and value % 24 == 0 and value >= 48:
        return f"within {value // 24} days"
    return f"within {value} {unit}"


# An exact version as reporters write it: "0.13.2", "v1.4", "0.13.2-rc1"; its numbers decide.
EXACT_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-+~][0-9A-Za-z.+~-]*)?$")
BELOW = re.compile(r"^<\s*v?(\d+(?:\.\d+)*)$")
WILDCARD = re.compile(r"^(\d+(?:\.\d+)*)((?:\.[xX*])+)$")


def version_numbers(version):
    """The numbers of an exact version ("0.13.2" -> (0, 13, 2)), or None when it is not one."""
    match = EXACT_VERSION.match(version.strip())
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _padded(numbers, length):
    return numbers + (0,) * (length - len(numbers))


def series_includes(series, numbers):
    """Whether a matrix label holds the version with these numbers: "0.13.x" holds 0.13 and
    every 0.13.*, "1.x.x" every 1.*, "< 0.11" every version below 0.11, "0.12.3" only itself.
    A label written otherwise holds nothing (the reporter ticks it by hand).
    """
    label = series.strip()
    if match := BELOW.match(label):
        bound = tuple(int(part) for part in match.group(1).split("."))
        length = max(len(bound), len(numbers))
        return _padded(numbers, length) < _padded(bound, length)
    if match := WILDCARD.match(label):
        prefix = tuple(int(part) for part in match.group(1).split("."))
        return numbers[: len(prefix)] == prefix
    exact = version_numbers(label) if EXACT_VERSION.match(label) else None
    if exact is not None:
        length = max(len(exact), len(numbers))
        return _padded(numbers, length) == _padded(exact, length)
    return False


class SupportStatus(enum.Enum):
    SUPPORTED = "supported"  # no end date announced ("TBD")
    SUPPORTED_UNTIL = "supported_until"  # supported, end date announced
    ENDED = "ended"

    @property
    def is_supported(self):
        return self is not SupportStatus.ENDED


class SupportedVersion(models.Model):
    """A row of a revision's version matrix. Whether it is supported today follows from the date."""

    revision = models.ForeignKey(PolicyRevision, on_delete=models.CASCADE, related_name="versions")
    series = models.CharField(max_length=40, help_text='e.g. "0.13.x" or "< 0.11".')
    order = models.PositiveSmallIntegerField(default=0, help_text="Newest first.")
    supported = models.BooleanField(
        default=True, help_text="As published; untick for series the policy lists as ended."
    )
    end_of_support = models.DateField(
        null=True, blank=True, help_text="Last supported day; blank means TBD."
    )

    class Meta:
        ordering = ["revision", "order"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "series"], name="one_row_per_series")
        ]

    def __str__(self):
        return self.series

    def status_on(self, day: datetime.date) -> SupportStatus:
        if not self.supported:
            return SupportStatus.ENDED
        if self.end_of_support is None:
            return SupportStatus.SUPPORTED
        if day > self.end_of_support:
            return SupportStatus.ENDED
        return SupportStatus.SUPPORTED_UNTIL

    def is_supported_on(self, day: datetime.date) -> bool:
        return self.status_on(day).is_supported


class Membership(models.Model):
    """The maintainer side of authorization: a user's role in a project."""

    class Role(models.TextChoices):
        TRIAGER = "triager", "Triager"
        MAINTAINER = "maintainer", "Maintainer"
        ADMIN = "admin", "Admin"

    # Roles are ordered: triager < maintainer < admin (projects.access.has_role).
    RANK = {Role.TRIAGER: 1, Role.MAINTAINER: 2, Role.ADMIN: 3}

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TRIAGER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project")
        ]
        indexes = [models.Index(fields=["project", "role"], name="membership_project_role_idx")]

    def __str__(self):
        return f"{self.user} — {self.project} ({self.get_role_display()})"


class EndOfSupportNotice(models.Model):
    """Members were told, once, that a supported series is about to reach its end of support."""

    version = models.OneToOneField(
        SupportedVersion, on_delete=models.CASCADE, related_name="end_of_support_notice"
    )
    sent_at = models.DateTimeField()

    def __str__(self):
        return f"End-of-support notice for {self.version_id}"


class ProjectInvitationQuerySet(models.QuerySet):
    def pending(self, *, now):
        """Invitations that can still be accepted: not used, not revoked, not expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class ProjectInvitation(models.Model):
    """An invitation to join a project with a role, sent to an address: accepted once, by
    whoever signs in with that address verified, before it expires; revocable until then.

    `invited_by` is empty when the platform invited: the claim of a project nobody holds yet
    (its security contact, at the first report) or an operator's `invite_member` command.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["project", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_project_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.project_id} as {self.role}"


class ProjectEvent(models.Model):
    """The append-only audit trail of a project's members: who invited, added, changed or
    removed whom, and when. Written by projects.services only; shown to the project's admins.
    """

    class Kind(models.TextChoices):
        INVITED = "invited", "Invitation sent"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        MEMBER_ADDED = "member_added", "Member added"
        ROLE_CHANGED = "role_changed", "Role changed"
        MEMBER_REMOVED = "member_removed", "Member removed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: the platform (the claim of a project, an operator's command).",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "created_at"], name="project_event_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message}"


class Profile(models.Model):
    """What a person chooses to be called on the site (projects is the floor every app stands
    on, so every page and email names people through projects.people). Never derived from the
    email address: without a display name, each audience is shown what it may see
    (projects.people.shown_name).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(
        max_length=DISPLAY_NAME_MAX,
        blank=True,
        help_text="Shown instead of the account's email address where others see the person.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.display_name or f"Profile of user {self.user_id}"
