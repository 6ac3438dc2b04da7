import datetime

from django import forms
from django.conf import settings
from django.utils import timezone

from api.models import AccessToken


class TokenForm(forms.Form):
    """A new personal access token (api.services.create_token holds the rules)."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CI bot”.")
    scope = forms.ChoiceField(
        choices=AccessToken.Scope.choices,
        initial=AccessToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Writing (comments, transitions, uploads, ...) takes the write scope.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"The last day it works (UTC); at most {settings.API_TOKEN_MAX_DAYS} days ahead.",
    )
    project = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Every project I see",
        help_text="Restrict the token to one project: it sees nothing of the others.",
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["expires_on"].initial = timezone.localdate() + datetime.timedelta(days=30)
