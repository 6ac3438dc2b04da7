"""Form fields the apps' forms share: the bounds of what people type (projects is the floor every
app stands on, so each rule here has one home).
"""

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from projects.models import DISPLAY_NAME_MAX, Membership

OPENPGP_KEY_MAX_CHARS = 100_000

# Dates people type: release dates, disclosure dates. Outside these a date is a typo, and the
# far ends of the calendar break arithmetic (9999-12-31 plus a week's disclosure delay overflows).
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


class CalendarDateField(forms.DateField):
    """A date between EARLIEST_DATE and LATEST_DATE, with one clear error outside, and the same
    bounds on the browser's date picker.
    """

    widget = forms.DateInput(attrs={"type": "date"})

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        message = f"Enter a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."
        self.validators += [
            MinValueValidator(EARLIEST_DATE, message=message),
            MaxValueValidator(LATEST_DATE, message=message),
        ]

    def widget_attrs(self, widget):
        return {
            **super().widget_attrs(widget),
            "min": f"{EARLIEST_DATE:%Y-%m-%d}",
            "max": f"{LATEST_DATE:%Y-%m-%d}",
        }


class MarkdownTextarea(forms.Textarea):
    """A text area for Markdown (rendered by projects.markdown): a syntax hint under it, and Write
    / Preview tabs that static/js/markdown-preview.js shows and fills from the server's renderer.
    Without the script the hint stays and the text area works as any other.
    """

    template_name = "projects/widgets/markdown_textarea.html"

    def __init__(self, attrs=None):
        super().__init__({"rows": 4, **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        if widget_attrs.get("id"):
            hint = f"{widget_attrs['id']}_markdown"
            described = widget_attrs.get("aria-describedby", "")
            widget_attrs["aria-describedby"] = f"{described} {hint}".strip()
            context["widget"]["hint_id"] = hint
        # crispy-forms marks the text area invalid; its error message below the widget is shown
        # by site.css for a widget marked so (Bootstrap only shows it beside the control itself).
        context["widget"]["invalid"] = "is-invalid" in widget_attrs.get("class", "").split()
        return context


class InviteMemberForm(forms.Form):
    """An address and the role it is invited to (the members page)."""

    email = forms.EmailField(
        max_length=254,
        help_text="The link is sent to this address; whoever signs in with it verified may "
        "accept, once.",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.TRIAGER)


class RoleForm(forms.Form):
    """Another role for a member: one form per row of the members page."""

    role = forms.ChoiceField(choices=Membership.Role.choices)

    @classmethod
    def of(cls, membership):
        """The row's form, its current role chosen, named for the member (one per row)."""
        form = cls(initial={"role": membership.role}, auto_id=f"id_member_{membership.pk}_%s")
        form.fields["role"].widget.attrs["aria-label"] = f"Role of {membership.user.email}"
        return form


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        label="Display name",
        help_text="How others on this site see you: in comments, on reports and in emails. "
        "Leave it empty to be shown without a name.",
    )


class OpenPGPKeyForm(forms.Form):
    """A public key pasted on the account page; mailer.openpgp.set_key decides if it serves."""

    armored = forms.CharField(
        label="Public key",
        # Keys with many signatures run to some dozen kilobytes; far more is not a key.
        max_length=OPENPGP_KEY_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "class": "font-monospace",
                "spellcheck": "false",
                "placeholder": "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            }
        ),
        help_text="The ASCII-armored public key, as gpg --armor --export you@example.org "
        "prints it. Never paste your private key.",
    )
