"""What the API shows and takes. Output serializers read objects the views loaded through the
site's selectors (no query of their own: related rows come with the objects); input serializers
describe bodies for the OpenAPI document and check their shape, while the site's forms and
services keep the rules (reports.forms, advisories.forms, the services).
"""

from django.urls import reverse
from rest_framework import serializers

from advisories import exports
from advisories.models import Advisory, Credit
from projects.access import Role
from reports import selectors as report_selectors
from reports.models import CLOSURES, Severity, State
from reports.templatetags.report_tags import participant


def absolute(request, name, *args):
    return request.build_absolute_uri(reverse(name, args=args))


# --- Public: projects, policies, advisories -------------------------------------------------------


class ProjectSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    homepage = serializers.URLField(allow_blank=True)
    repository_url = serializers.URLField(allow_blank=True)
    url = serializers.SerializerMethodField()
    security_txt = serializers.SerializerMethodField()

    def get_url(self, project) -> str:
        return absolute(self.context["request"], "api:project", project.slug)

    def get_security_txt(self, project) -> str:
        return absolute(self.context["request"], "projects:security_txt", project.slug)


class VersionSerializer(serializers.Serializer):
    series = serializers.CharField()
    status = serializers.SerializerMethodField()
    supported = serializers.SerializerMethodField()
    end_of_support = serializers.DateField(allow_null=True)

    def get_status(self, version) -> str:
        return version.status_on(self.context["today"]).value

    def get_supported(self, version) -> bool:
        return version.is_supported_on(self.context["today"])


class PolicySerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    source_url = serializers.URLField(allow_blank=True)
    ack_hours = serializers.IntegerField(allow_null=True)
    detail_hours = serializers.IntegerField(allow_null=True)
    update_days = serializers.IntegerField(allow_null=True)
    fix_days = serializers.IntegerField(allow_null=True)
    resolve_days = serializers.IntegerField(allow_null=True)
    disclosure_rule = serializers.CharField()
    disclosure_days_after_report = serializers.IntegerField(allow_null=True)
    disclosure_days_after_release = serializers.IntegerField(allow_null=True)
    early_disclosure_if_exploited = serializers.BooleanField()
    scope_in = serializers.CharField(help_text="Markdown.")
    scope_out = serializers.CharField(help_text="Markdown.")
    safe_harbor = serializers.CharField(help_text="Markdown.")
    recognition = serializers.CharField(help_text="Markdown.")
    versions = VersionSerializer(many=True, help_text="The version matrix, newest first.")


class ProjectDetailSerializer(ProjectSerializer):
    policy = serializers.SerializerMethodField(help_text="The policy in force; null before any.")

    def get_policy(self, project) -> PolicySerializer(allow_null=True):
        revision = self.context["revision"]
        if revision is None:
            return None
        return PolicySerializer(revision, context=self.context).data


class CreditSerializer(serializers.Serializer):
    name = serializers.CharField(source="public_name")
    type = serializers.ChoiceField(choices=Credit.Type.choices)


class AdvisoryLinksSerializer(serializers.Serializer):
    html = serializers.URLField()
    osv = serializers.URLField()
    csaf = serializers.URLField()
    cve = serializers.URLField(allow_null=True, help_text="Only with a CVE ID (and a CNA).")


class AdvisorySummarySerializer(serializers.Serializer):
    identifier = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    cve_id = serializers.CharField(allow_blank=True)
    ghsa_id = serializers.CharField(allow_blank=True)
    cvss_score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    cvss_severity = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    def get_url(self, advisory) -> str:
        return absolute(self.context["request"], "api:advisory", advisory.identifier)

    def get_links(self, advisory) -> AdvisoryLinksSerializer:
        request, identifier = self.context["request"], advisory.identifier
        return {
            "html": absolute(request, "advisories:advisory_page", identifier),
            "osv": absolute(request, "advisories:osv", identifier),
            "csaf": absolute(request, "advisories:csaf", identifier),
            "cve": absolute(request, "advisories:cve", identifier)
            if exports.has_cve_documents(advisory)
            else None,
        }


class AdvisorySerializer(AdvisorySummarySerializer):
    project = serializers.SlugField(source="project.slug")
    details = serializers.CharField(help_text="Markdown.")
    workaround = serializers.CharField(help_text="Markdown.")
    cwe = serializers.CharField(allow_blank=True)
    cvss_vector = serializers.CharField(allow_blank=True)
    affected_series = serializers.ListField(child=serializers.CharField())
    fixed_versions = serializers.ListField(child=serializers.CharField())
    references = serializers.ListField(child=serializers.CharField())
    credits = CreditSerializer(many=True, source="credits.all")


class HallOfFameSerializer(serializers.Serializer):
    name = serializers.CharField(source="public_name")
    type = serializers.ChoiceField(choices=Credit.Type.choices)
    advisory = serializers.CharField(source="advisory.identifier")
    published_at = serializers.DateTimeField(source="advisory.published_at")


# --- Reports --------------------------------------------------------------------------------------


class ReportRowSerializer(serializers.Serializer):
    """A row of the queue or of My reports; the assignee only for members of its project."""

    tracking_id = serializers.CharField()
    title = serializers.CharField()
    project = serializers.SlugField(source="project.slug")
    state = serializers.ChoiceField(choices=State.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, allow_blank=True)
    cvss_score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    next_due = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    assignee = serializers.SerializerMethodField(help_text="Members only (else null).")
    url = serializers.SerializerMethodField()

    def get_assignee(self, report) -> str | None:
        # context["role_in"]: the reader's role in a project (None: not a member).
        if self.context["role_in"](report.project_id) is None or report.assignee is None:
            return None
        return report.assignee.email

    def get_url(self, report) -> str:
        return absolute(self.context["request"], "api:report", report.tracking_id)


class ReportPageSerializer(serializers.Serializer):
    results = ReportRowSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")


class TimelineEntrySerializer(serializers.Serializer):
    """An event or a comment. People are named as the report page names them (reports'
    `participant`): the reporter side sees the project's security team, never a maintainer.
    """

    type = serializers.ChoiceField(choices=["event", "comment"])
    at = serializers.DateTimeField()
    by = serializers.CharField()
    internal = serializers.BooleanField(help_text="Members only; always false for others.")
    kind = serializers.CharField(help_text="The event's kind; 'comment' for comments.")
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    text = serializers.CharField(help_text="The comment's body or the event's message.")


def timeline_entry(entry, *, context):
    """One reports.selectors.TimelineEntry as TimelineEntrySerializer's fields."""
    if entry.comment is not None:
        comment = entry.comment
        return {
            "type": "comment",
            "at": entry.at,
            "by": participant(context, comment.author, comment.by_member),
            "internal": comment.internal,
            "kind": "comment",
            "from_state": "",
            "to_state": "",
            "text": comment.body,
        }
    event = entry.event
    return {
        "type": "event",
        "at": entry.at,
        "by": participant(context, event.actor, event.by_member),
        "internal": not event.public,
        "kind": event.kind,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "text": event.message,
    }


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_download(self, attachment) -> str:
        return absolute(
            self.context["request"], "api:attachment", self.context["tracking_id"], attachment.pk
        )


class MemberFieldsSerializer(serializers.Serializer):
    """What only members of the report's project see."""

    assignee = serializers.EmailField(allow_null=True)
    severity_override_reason = serializers.CharField(allow_blank=True)
    cvss_error = serializers.CharField(allow_blank=True)
    cve_request_needed = serializers.BooleanField()
    missing_fields = serializers.ListField(child=serializers.CharField())
    duplicate_of = serializers.CharField(allow_null=True)


class ReportDetailSerializer(serializers.Serializer):
    tracking_id = serializers.CharField()
    title = serializers.CharField()
    project = serializers.SlugField(source="project.slug")
    state = serializers.ChoiceField(choices=State.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, allow_blank=True)
    reporter = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    vulnerability_type = serializers.CharField(allow_blank=True)
    affected_version = serializers.CharField(allow_blank=True)
    affected_versions = serializers.ListField(child=serializers.CharField())
    affected_components = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    steps_to_reproduce = serializers.CharField(allow_blank=True)
    impact = serializers.CharField(allow_blank=True)
    proof_of_concept = serializers.CharField(allow_blank=True)
    suggested_fix = serializers.CharField(allow_blank=True)
    extra_fields = serializers.DictField(child=serializers.CharField())
    cvss_vector = serializers.CharField(allow_blank=True)
    cvss_score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    cvss_severity = serializers.CharField(allow_blank=True)
    reporter_cvss_vector = serializers.CharField(allow_blank=True)
    reporter_cvss_score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    resolution_reason = serializers.CharField(allow_blank=True)
    ack_due = serializers.DateTimeField(allow_null=True)
    detail_due = serializers.DateTimeField(allow_null=True)
    next_update_due = serializers.DateTimeField(allow_null=True)
    resolve_due = serializers.DateTimeField(allow_null=True)
    transitions = serializers.SerializerMethodField(
        help_text="The transitions this token's owner may apply now."
    )
    timeline = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    internal = serializers.SerializerMethodField(help_text="Members only (else null).")

    def _participant_context(self):
        access = self.context["access"]
        return {"access": access, "report": access.report}

    def get_reporter(self, report) -> str:
        return participant(self._participant_context(), report.reporter)

    def get_transitions(self, report) -> list[str]:
        return self.context["transitions"]

    def get_timeline(self, report) -> TimelineEntrySerializer(many=True):
        context = self._participant_context()
        return [timeline_entry(entry, context=context) for entry in self.context["timeline"]]

    def get_attachments(self, report) -> AttachmentSerializer(many=True):
        return AttachmentSerializer(
            self.context["attachments"], many=True, context=self.context
        ).data

    def get_internal(self, report) -> MemberFieldsSerializer(allow_null=True):
        if not self.context["access"].allows("view_internal"):
            return None
        return {
            "assignee": report.assignee.email if report.assignee else None,
            "severity_override_reason": report.severity_override_reason,
            "cvss_error": report.cvss_error,
            "cve_request_needed": report.cve_request_needed,
            "missing_fields": report.missing_fields,
            "duplicate_of": self.context["duplicate_of"],
        }


class QueueFilterSerializer(serializers.Serializer):
    """The queue's filters (reports.selectors.report_queue), strict: a bad value is a 400."""

    view = serializers.ChoiceField(
        choices=[report_selectors.QUEUE, report_selectors.MINE], required=False
    )
    project = serializers.SlugField(required=False)
    state = serializers.ChoiceField(choices=["open", *State.values], required=False)
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    overdue = serializers.BooleanField(required=False, default=False)
    assigned = serializers.ChoiceField(choices=["me"], required=False)
    q = serializers.CharField(required=False, max_length=200, allow_blank=True)
    sort = serializers.ChoiceField(
        choices=list(report_selectors.SORTS), default=report_selectors.DEFAULT_SORT
    )
    after = serializers.CharField(required=False, max_length=1000, help_text="Page cursor.")


class Strict(serializers.Serializer):
    """An input that names only its own fields: an unknown one (a typo) is a 400, not ignored."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)


# --- Writes ---------------------------------------------------------------------------------------


class CommentInputSerializer(Strict):
    body = serializers.CharField(max_length=100_000)
    internal = serializers.BooleanField(default=False, help_text="Members only.")


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    internal = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    body = serializers.CharField()


class AttachmentUploadSerializer(Strict):
    attachments = serializers.ListField(
        child=serializers.FileField(), help_text="One or more files (multipart/form-data)."
    )


class TransitionInputSerializer(Strict):
    message = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    severity = serializers.ChoiceField(
        choices=Severity.values, required=False, allow_blank=True, help_text="triage"
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=10_000, help_text="triage"
    )
    resolution = serializers.ChoiceField(
        choices=[state.value for state in CLOSURES], required=False, help_text="close"
    )
    duplicate_of = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="close, as duplicate"
    )


class CvssInputSerializer(Strict):
    vector = serializers.CharField(max_length=200)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()


class MembersSerializer(serializers.Serializer):
    members = MemberSerializer(many=True)
    invitations = InvitationSerializer(many=True)


class InviteInputSerializer(Strict):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleInputSerializer(Strict):
    role = serializers.ChoiceField(choices=Role.choices)


class AdvisoryDraftSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    state = serializers.ChoiceField(choices=Advisory.State.choices)
    title = serializers.CharField()
    summary = serializers.CharField()
    details = serializers.CharField()
    workaround = serializers.CharField(allow_blank=True)
    affected_series = serializers.ListField(child=serializers.CharField())
    fixed_versions = serializers.ListField(child=serializers.CharField())
    fix_commits = serializers.ListField(child=serializers.CharField())
    introduced_commit = serializers.CharField(allow_blank=True)
    cwe = serializers.CharField(allow_blank=True)
    ghsa_id = serializers.CharField(allow_blank=True)
    cve_id = serializers.CharField(allow_blank=True)
    references = serializers.ListField(child=serializers.CharField())
    cvss_vector = serializers.CharField(allow_blank=True)
    reporter_approved_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class AdvisoryEditSerializer(Strict):
    """A partial edit of the draft: the fields given change (advisories.forms rules them)."""

    title = serializers.CharField(required=False, max_length=200)
    summary = serializers.CharField(required=False, max_length=300)
    details = serializers.CharField(required=False, max_length=100_000)
    workaround = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    affected_series = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=100
    )
    fixed_versions = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=100
    )
    fix_commits = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100
    )
    introduced_commit = serializers.CharField(required=False, allow_blank=True, max_length=64)
    cwe = serializers.CharField(required=False, allow_blank=True, max_length=20)
    ghsa_id = serializers.CharField(required=False, allow_blank=True, max_length=30)
    cve_id = serializers.CharField(required=False, allow_blank=True, max_length=30)
    references = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, max_length=100
    )
