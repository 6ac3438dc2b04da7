from django import forms
from django.utils import timezone

from advisories.models import COMMIT, COMMIT_HELP, VERSION, Advisory
from advisories.publication import EarlyReason
from advisories.services import ADVISORY_FIELDS
from projects.forms import CalendarDateField, MarkdownTextarea

NOTES_MAX_LENGTH = 20_000


class ChecklistForm(forms.Form):
    """Checkbox per task, text per summary field, a text area per phase's notes, built from the
    report's checklist items.
    """

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            name = f"item_{item.pk}"
            if item.kind == item.Kind.NOTES:
                self.fields[name] = forms.CharField(
                    required=False,
                    label="Updates",
                    help_text=item.label,
                    initial=item.value,
                    max_length=NOTES_MAX_LENGTH,
                    widget=MarkdownTextarea({"class": "form-control"}),
                )
            elif item.kind == item.Kind.TASK:
                self.fields[name] = forms.BooleanField(
                    required=False,
                    label=item.label,
                    initial=item.done,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            else:
                self.fields[name] = forms.CharField(
                    required=False, label=item.label, initial=item.value, max_length=2000
                )

    def grouped(self):
        """[(phase, notes, [bound fields of tasks and summary fields])] in checklist order, for
        the template; `notes` is (bound field, saved item) or None.
        """
        phases = {}
        for item in self.items:
            group = phases.setdefault(item.phase, {"notes": None, "fields": []})
            if item.kind == item.Kind.NOTES:
                group["notes"] = (self[f"item_{item.pk}"], item)
            else:
                group["fields"].append(self[f"item_{item.pk}"])
        return [(phase, group["notes"], group["fields"]) for phase, group in phases.items()]

    def done_and_values(self):
        done = {
            i.pk for i in self.items if i.kind == i.Kind.TASK and self.cleaned_data[f"item_{i.pk}"]
        }
        values = {
            i.pk: self.cleaned_data[f"item_{i.pk}"] for i in self.items if i.kind != i.Kind.TASK
        }
        return done, values


class DisclosureProposalForm(forms.Form):
    date = CalendarDateField(label="Disclosure date")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    actively_exploited = forms.BooleanField(
        required=False, label="Actively exploited (early disclosure, where the policy allows it)"
    )

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date < timezone.localdate():
            raise forms.ValidationError("The disclosure date cannot be in the past.")
        return date


class DisclosureResponseForm(forms.Form):
    agree = forms.TypedChoiceField(
        choices=[("yes", "Agree"), ("no", "Object")], coerce=lambda v: v == "yes"
    )
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class FixReleaseForm(forms.Form):
    """The fixed release: its version and its date, recorded together."""

    fix_version = forms.CharField(
        max_length=100, label="Fixed version", help_text="The released version, e.g. 0.13.4"
    )
    released_on = CalendarDateField(label="Fix released on")

    def clean_fix_version(self):
        version = self.cleaned_data["fix_version"].strip()
        if not VERSION.match(version):
            raise forms.ValidationError(f"Not a version number: {version} (e.g. 0.13.4).")
        return version


def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def _unique_lines(lines):
    return list(dict.fromkeys(lines))


class AdvisoryForm(forms.ModelForm):
    affected_series = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=False, label="Affected series"
    )
    fixed_versions = forms.CharField(
        required=False,
        help_text="One released version per line, e.g. 0.13.4",
        label="Fixed versions",
    )
    fix_commits = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Fix commits",
        help_text="Full git commit hashes of the fix in the project's repository, one per line "
        "(one per branch it was applied to). OSV records give them as GIT ranges.",
    )
    references = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One URL per line."
    )

    class Meta:
        model = Advisory
        fields = ADVISORY_FIELDS
        widgets = {
            "details": MarkdownTextarea({"rows": 6}),
            "workaround": MarkdownTextarea({"rows": 3}),
        }

    def __init__(self, *args, matrix, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affected_series"].choices = [(s, s) for s in matrix]
        self.initial["fixed_versions"] = "\n".join(self.instance.fixed_versions)
        self.initial["fix_commits"] = "\n".join(self.instance.fix_commits)
        self.initial["references"] = "\n".join(self.instance.references)

    def clean_fixed_versions(self):
        versions = _lines(self.cleaned_data["fixed_versions"])
        bad = [v for v in versions if not VERSION.match(v)]
        if bad:
            raise forms.ValidationError(f"Not a version number: {', '.join(bad)}")
        return versions

    def clean_fix_commits(self):
        commits = _unique_lines(line.lower() for line in _lines(self.cleaned_data["fix_commits"]))
        bad = [c for c in commits if not COMMIT.match(c)]
        if bad:
            raise forms.ValidationError(f"Not {COMMIT_HELP}: {', '.join(bad)}")
        return commits

    def clean_introduced_commit(self):
        commit = self.cleaned_data["introduced_commit"].strip().lower()
        if commit and not COMMIT.match(commit):
            raise forms.ValidationError(f"Not {COMMIT_HELP}: {commit}")
        return commit

    def clean_references(self):
        urls = _lines(self.cleaned_data["references"])
        validate = forms.URLField(assume_scheme="https").clean
        return [validate(url) for url in urls]

    def advisory_fields(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PublishForm(forms.Form):
    """The confirmation of publishing; before the disclosure date, the reason the reporter is
    told (advisories.publication).
    """

    confirm = forms.BooleanField(
        label="Publish now: the advisory becomes public and the report is disclosed"
    )
    early_reason = forms.ChoiceField(
        required=False,
        choices=[("", "Not before the disclosure date"), *EarlyReason.CHOICES],
        label="Before the disclosure date, because",
    )
    early_note = forms.CharField(
        required=False,
        widget=MarkdownTextarea({"rows": 2}),
        label="What the reporter is told",
        help_text="Required to publish before the disclosure date.",
    )


class FixShareForm(forms.Form):
    fix_url = forms.URLField(
        required=False, assume_scheme="https", label="Link to the fix (commit, pull request, patch)"
    )
    attachment = forms.ModelChoiceField(
        queryset=None, required=False, label="Or one of the report's attachments"
    )
    release_on = CalendarDateField(label="The fixed release ships on")
    announce_on = CalendarDateField(label="The vulnerability is announced on")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachment"].queryset = report.attachments.all()


class FixResponseForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("yes", "Approve the fix and its schedule"), ("no", "Ask for changes")],
        coerce=lambda v: v == "yes",
        label="Your answer",
    )
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


REASON_MAX_LENGTH = 2000  # published with the revision: CVE texts allow 4096 characters


class AmendForm(AdvisoryForm):
    """The draft form's fields, prefilled from the published advisory, and the reason for the
    amendment (published in its revision history). The CVSS is taken from the report.
    """

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for the amendment",
        help_text="Published in the advisory's revision history.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "amend")  # beside the withdrawal form on one page
        super().__init__(*args, **kwargs)


class WithdrawForm(forms.Form):
    """The reason for withdrawing, then a confirmation step: the first post shows what is about
    to happen, the confirmation page posts again with `confirm` set.
    """

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for the withdrawal",
        help_text="Shown with the advisory, its feed entry and exports.",
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "withdraw")
        super().__init__(*args, **kwargs)

    def confirmation(self):
        """The form of the confirmation page: the same reason, confirmed."""
        return WithdrawForm(initial={"reason": self.cleaned_data["reason"], "confirm": True})
