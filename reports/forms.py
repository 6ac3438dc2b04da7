from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import escape

from projects.forms import MarkdownTextarea
from projects.intake import STANDARD_FIELDS
from projects.models import version_numbers
from projects.people import shown_name
from projects.selectors import member_accounts
from reports.cvss import validate_vector
from reports.models import CLOSURES, CreditDisplay, Report, Severity, State

OTHER_VERSION = "other/unknown"
LONG_TEXT = {"affected_components", "description", "steps_to_reproduce", "impact", "file_paths",
             "configuration", "proof_of_concept", "suggested_fix"}  # fmt: skip


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input: at most ATTACHMENT_MAX_FILES of ATTACHMENT_MAX_BYTES each."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            f"Proof-of-concept files: up to {settings.ATTACHMENT_MAX_FILES} files of "
            f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each.",
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > settings.ATTACHMENT_MAX_FILES:
            raise forms.ValidationError(
                f"Attach at most {settings.ATTACHMENT_MAX_FILES} files.", code="too_many"
            )
        single = super().clean
        cleaned = [single(file, initial) for file in files]
        for file in cleaned:
            if file.size > settings.ATTACHMENT_MAX_BYTES:
                raise forms.ValidationError(
                    f"{file.name} is larger than {filesizeformat(settings.ATTACHMENT_MAX_BYTES)}.",
                    code="too_big",
                )
        return cleaned


def version_label(version, today):
    if version.is_supported_on(today):
        return version.series
    return f"{version.series} (no longer supported)"


class IntakeForm(forms.Form):
    """The report form of a policy revision: its required, helpful and extra fields.

    Versions: an exact "Affected version" on every form. Where the policy asks for affected
    versions and has a version matrix, the exact version must fall in one of its series, and
    that series is ticked for the reporter (the boxes are for other affected series, or Other /
    unknown); where it asks without a matrix, the exact version is free text and the whole
    question; where it does not ask (TeamMail), the version is welcome, never required.
    """

    title = forms.CharField(max_length=200, help_text="One line that names the problem.")

    def __init__(self, *args, revision, **kwargs):
        super().__init__(*args, **kwargs)
        self.revision = revision
        self.matrix = list(revision.versions.all())
        self.versions_required = False
        today = timezone.localdate()
        self.extra_names = []
        for spec in revision.intake_fields():
            if spec.name == "affected_versions":
                self._add_version_fields(spec, today)
                continue
            if spec.standard and spec.name in LONG_TEXT:
                field = forms.CharField(widget=MarkdownTextarea())
            else:
                field = forms.CharField(max_length=200)
            field.label = spec.label
            field.required = spec.required
            if not spec.standard:
                self.extra_names.append(spec.name)
            self.fields[spec.name] = field
        if "affected_version" not in self.fields:
            self.fields["affected_version"] = forms.CharField(
                required=False,
                max_length=100,
                label="Affected version (optional)",
                help_text="The version you found the issue in, if you know it.",
            )
        self.fields["cvss_vector"] = forms.CharField(
            required=False,
            max_length=200,
            label="CVSS vector (optional)",
            help_text="Your suggested CVSS 3.1 or 4.0 vector, "
            "e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            validators=[validate_vector],
        )
        self.fields["attachments"] = AttachmentsField()

    def _add_version_fields(self, spec, today):
        self.versions_required = spec.required
        if not self.matrix:
            self.fields["affected_version"] = forms.CharField(
                required=spec.required,
                max_length=100,
                label=spec.label,
                help_text="The version you found the issue in, e.g. 1.4.2.",
            )
            return
        series = ", ".join(v.series for v in self.matrix)
        self.fields["affected_version"] = forms.CharField(
            required=False,
            max_length=100,
            label="Affected version",
            # Help texts are rendered as HTML; the series labels ("< 0.11") are text.
            help_text=escape(
                f"The exact version you found the issue in, e.g. 1.2.3; it must fall in one of "
                f"the series {series}, which is then ticked for you."
            ),
        )
        choices = [(v.series, version_label(v, today)) for v in self.matrix]
        self.fields["affected_versions"] = forms.MultipleChoiceField(
            choices=[*choices, (OTHER_VERSION, "Other / unknown")],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            label=spec.label,
            help_text="Tick other series that are affected too; without an exact version, tick "
            "the affected series, or Other / unknown.",
        )

    def clean(self):
        data = super().clean()
        if not self.matrix or "affected_versions" not in self.fields:
            return data
        version = data.get("affected_version", "").strip()
        chosen = list(data.get("affected_versions") or [])
        if version:
            row = self.revision.series_of(version)
            if row is None:
                self.add_error("affected_version", self._outside_matrix(version))
            elif row.series not in chosen:
                chosen.append(row.series)
        elif self.versions_required and not chosen and "affected_versions" not in self.errors:
            self.add_error(
                "affected_version",
                "Give the affected version, or tick the affected series (Other / unknown if "
                "you do not know it).",
            )
        order = [v.series for v in self.matrix] + [OTHER_VERSION]
        data["affected_versions"] = sorted(chosen, key=order.index)
        return data

    def _outside_matrix(self, version):
        series = ", ".join(v.series for v in self.matrix)
        if version_numbers(version) is None:
            return f"“{version}” is not a version number: give one like 1.2.3."
        return (
            f"{version} is in none of the series of {self.revision.project.name}'s version "
            f"matrix ({series}). Check the version, or leave it empty and tick Other / unknown."
        )

    def report_fields(self):
        """Report column values for reports.services.file_report."""
        data = self.cleaned_data
        values = {
            "title": data["title"],
            "reporter_cvss_vector": data["cvss_vector"].strip(),
            "affected_version": data["affected_version"].strip(),
        }
        for name in STANDARD_FIELDS:
            if name in data:
                values[name] = data[name] or ([] if name == "affected_versions" else "")
        values["extra_fields"] = {name: data[name] for name in self.extra_names}
        return values


class CommentForm(forms.Form):
    body = forms.CharField(widget=MarkdownTextarea(), label="Comment")
    internal = forms.BooleanField(
        required=False, label="Internal note (project members only, never shown to the reporter)"
    )

    def __init__(self, *args, can_write_internal, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_write_internal:
            del self.fields["internal"]


class AttachmentForm(forms.Form):
    attachments = AttachmentsField(required=True)


class MessageForm(forms.Form):
    message = forms.CharField(widget=MarkdownTextarea({"rows": 3}), required=False)


def cvss_label(report):
    if report.cvss_score is None:
        return "CVSS being scored"
    return f"CVSS {report.cvss_score} {report.cvss_severity}"


class SeverityFields(forms.Form):
    """The severity as reports.services.assess_severity takes it. Without a maintainers' CVSS
    vector: a choice. With one, the severity follows the score; choosing another is an override
    and asks for its reason.
    """

    severity = forms.ChoiceField(choices=Severity.choices)
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for the override",
        help_text="Members only. Required to override the CVSS severity.",
    )

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        if not report.cvss_vector:
            del self.fields["override_reason"]
            return
        follow = f"Follow the CVSS score ({cvss_label(report)})"
        self.fields["severity"] = forms.ChoiceField(
            choices=[("", follow), *Severity.choices],
            required=False,
            label="Severity",
            help_text="Follows the maintainers' CVSS score; choose another one only to override "
            "it, with a reason.",
            initial=report.severity if report.severity_is_override else "",
        )
        self.fields["override_reason"].initial = report.severity_override_reason
        self.order_fields(["severity", "override_reason"])

    def clean(self):
        data = super().clean()
        if "override_reason" not in self.fields:
            return data
        severity, reason = data.get("severity"), data.get("override_reason", "").strip()
        if severity and not reason:
            self.add_error("override_reason", "Give the reason for overriding the CVSS severity.")
        if reason and not severity and "severity" not in self.errors:
            self.add_error(
                "severity",
                "Choose the severity that overrides the CVSS score, or leave the reason empty.",
            )
        return data


class SeverityForm(SeverityFields):
    """Set, override or return to the CVSS severity outside triage (the report page)."""


class TriageForm(MessageForm, SeverityFields):
    pass


class CloseForm(MessageForm):
    resolution = forms.ChoiceField(choices=[(state.value, state.label) for state in CLOSURES])
    duplicate_of = forms.CharField(
        required=False, max_length=32, help_text="Tracking ID of the original, for duplicates."
    )

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report

    def clean_duplicate_of(self):
        tracking_id = self.cleaned_data["duplicate_of"].strip()
        if not tracking_id:
            return None
        original = Report.objects.filter(
            project=self.report.project, tracking_id=tracking_id
        ).first()
        if original is None or original.pk == self.report.pk:
            raise forms.ValidationError("No other report of this project has that tracking ID.")
        return original


TRANSITION_FORMS = {"triage": TriageForm, "close": CloseForm}


def transition_form(name, report, data=None):
    """The form of a transition (the site's and the admin's). Its ids carry the transition's
    name: the report page shows one form per transition, and each label must point at its own
    field.
    """
    form_class = TRANSITION_FORMS.get(name, MessageForm)
    extra = {"report": report} if name in ("close", "triage") else {}
    return form_class(data, auto_id=f"id_{name}_%s", **extra)


class SpamForm(forms.Form):
    """Marking a report as spam, confirmed: it closes the report and blocks its reporter."""

    confirm = forms.BooleanField(
        label="Close as spam and block the reporter's address for this project",
        error_messages={"required": "Tick the box to confirm: the reporter's address is blocked."},
    )

    def __init__(self, *args, report=None, **kwargs):
        """`report`: the one report marked (its reporter and project are named); none: any of
        several (the admin's action).
        """
        super().__init__(*args, auto_id="id_spam_%s", **kwargs)
        who, where = "The reporter's address", "the project"
        if report is not None:
            who, where = report.reporter.email, report.project.name
        self.fields["confirm"].help_text = (
            f"{who} can no longer report to {where}, by the form or by email, until an admin of "
            "the project unblocks it. The reporter is told only that the report was closed as "
            "spam."
        )


class CvssForm(forms.Form):
    vector = forms.CharField(
        max_length=200,
        label="CVSS vector",
        help_text="CVSS 3.1 or 4.0; the maintainers' vector is authoritative.",
        validators=[validate_vector],
    )


class InviteForm(forms.Form):
    # 254: RFC 5321's longest address, and the Invitation column's length.
    email = forms.EmailField(label="Collaborator's email address", max_length=254)


class CreditForm(forms.Form):
    """How the person wants to be credited when the report is disclosed."""

    display = forms.ChoiceField(
        choices=CreditDisplay.choices,
        initial=CreditDisplay.NAME,
        widget=forms.RadioSelect,
        label="Credit me",
    )
    name = forms.CharField(required=False, max_length=200, label="Name to credit")
    handle = forms.CharField(
        required=False, max_length=100, label="Handle to credit", help_text="e.g. @ada"
    )

    def clean(self):
        data = super().clean()
        display = data.get("display")
        if display == CreditDisplay.NAME and not data.get("name", "").strip():
            self.add_error("name", "Give the name to credit, or choose another way.")
        if display == CreditDisplay.HANDLE and not data.get("handle", "").strip():
            self.add_error("handle", "Give the handle to credit, or choose another way.")
        return data

    def credit(self):
        """{display, name, handle} for reports.services (only what the choice shows)."""
        data = self.cleaned_data
        display = data["display"]
        return {
            "display": display,
            "name": data["name"].strip() if display == CreditDisplay.NAME else "",
            "handle": data["handle"].strip() if display == CreditDisplay.HANDLE else "",
        }


class AssignmentForm(forms.Form):
    """Whom a report is assigned to: one of its project's members (projects.selectors)."""

    assignee = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Nobody",
        label="Assigned to",
        error_messages={"invalid_choice": "Choose a member of the project."},
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = member_accounts(project=project)
        self.fields["assignee"].label_from_instance = lambda user: shown_name(user, email=True)


SEARCH_MAX_LENGTH = 200


# The lists' filter choices, read once: an enum's `choices` and `values` are built anew on every
# access, and the queue reads them on every request.
STATE_CHOICES, SEVERITY_CHOICES = State.choices, Severity.choices
STATE_VALUES, SEVERITY_VALUES = frozenset(State.values), frozenset(Severity.values)


def queue_filters(params, *, projects, sorts, default_sort):
    """The clean filters of the queue's and My reports' query string `params` (request.GET):
    {name: value} for reports.selectors.report_queue. Lenient: a value that is not one of the
    choices means no filter (or the default sort), not an error page, as old bookmarks and
    hand-edited addresses deserve. `projects`: those the user may filter by.
    """
    state, severity, sort = params.get("state", ""), params.get("severity", ""), params.get("sort")
    return {
        "search": params.get("q", "").strip()[:SEARCH_MAX_LENGTH],
        "sort": sort if sort in sorts else default_sort,
        "project": next((p for p in projects if p.slug == params.get("project")), None),
        "state": state if state == "open" or state in STATE_VALUES else "",
        "severity": severity if severity in SEVERITY_VALUES else "",
        "overdue": params.get("overdue") == "1",
        "assigned_to_me": params.get("assigned") == "me",
        "cursor": params.get("after") or None,
    }
