from django import forms

from webhooks.models import EventType


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Payload URL",
        max_length=500,
        assume_scheme="https",
        help_text="https, on a public address. Events are POSTed here as JSON, signed with the "
        "hook's secret (see README, Webhooks).",
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(EventType.values),
    )
    internal = forms.BooleanField(
        required=False,
        label="Internal",
        help_text="Also send internal comments (members only). Leave off for hooks whose "
        "receivers do not see everything the project's members see.",
    )


class EditWebhookForm(WebhookForm):
    active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="Nothing is sent while off. Switching on a hook disabled for failing enables "
        "it again.",
    )


class LogPageForm(forms.Form):
    before = forms.IntegerField(required=False, min_value=1)
