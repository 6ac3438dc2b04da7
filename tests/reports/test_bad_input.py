"""Form input the database cannot hold, or the platform does not know, is a form error.

An address longer than 254 characters (RFC 5321's limit, and Invitation.email's column) reached
the database: a 500 on PostgreSQL, a stored unusable invitation on SQLite.
"""

import pytest
from django.contrib.messages import get_messages

from reports.forms import InviteForm
from reports.models import Invitation

pytestmark = pytest.mark.django_db

TOO_LONG = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.org"  # 259 characters


def errors(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_the_invite_form_takes_254_characters_at_most():
    longest = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".ex.org"
    assert len(longest) == 254
    assert InviteForm({"email": longest}).is_valid()
    form = InviteForm({"email": TOO_LONG})
    assert not form.is_valid()
    assert form.errors["email"] == ["Ensure this value has at most 254 characters (it has 259)."]


@pytest.mark.parametrize("email", [TOO_LONG, "a" * 250 + "@example.org", "nul\x00@example.org"])
def test_an_unusable_address_is_refused_on_the_report_page(client, report, reporter, email):
    invitations = Invitation.objects.count()
    client.sign_in(reporter)
    response = client.post(f"/reports/{report.tracking_id}/collaborators/", {"email": email})
    assert response.status_code == 302
    assert errors(response) == ["Enter a valid email address."]
    assert Invitation.objects.count() == invitations


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("triage", {"severity": "apocalyptic"}, "Select a valid choice."),
        ("close", {"resolution": "vaporised"}, "Select a valid choice."),
        ("close", {"resolution": "spam\x00"}, "Select a valid choice."),
    ],
)
def test_unknown_choices_are_refused_with_a_form_error(
    client, report, maintainer, name, data, message
):
    client.sign_in(maintainer)
    response = client.post(f"/reports/{report.tracking_id}/transitions/{name}/", data)
    assert response.status_code == 302
    assert len(errors(response)) == 1
    assert errors(response)[0].startswith(message)
    report.refresh_from_db()
    assert report.state == "new"
