"""manage.py invite_member <project> <email> --role: the members page's invitation, for
operators. The platform invites (no inviting account), the link is emailed and the audit trail
records it; an unknown project or role is a clear error.
"""

import io

import pytest
from django.core.management import CommandError, call_command

from mailer.models import OutboundEmail
from projects.models import ProjectEvent, ProjectInvitation

pytestmark = pytest.mark.django_db


def invite(*args):
    out = io.StringIO()
    call_command("invite_member", *args, stdout=out)
    return out.getvalue()


def test_an_operator_invites_a_maintainer(project, settings):
    settings.SITE_URL = "https://disclosure.example.org"
    output = invite("acme", "Lead@Example.org", "--role", "maintainer")
    invitation = ProjectInvitation.objects.get()
    assert (invitation.project, invitation.email, invitation.role, invitation.invited_by) == (
        project,
        "lead@example.org",
        "maintainer",
        None,
    )
    link = f"https://disclosure.example.org/projects/invitations/{invitation.token}/"
    assert output.startswith("Invited lead@example.org to join Acme as maintainer")
    assert link in output
    (message,) = OutboundEmail.objects.filter(to="lead@example.org")
    assert message.subject == "[Acme] You are invited to join as maintainer"
    assert link in message.body
    (event,) = ProjectEvent.objects.all()
    assert (event.kind, event.actor) == (ProjectEvent.Kind.INVITED, None)
    assert event.message == "lead@example.org invited as maintainer by an operator of the platform"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nowhere", "a@example.org", "--role", "admin"), "No project with the slug 'nowhere'"),
        (("acme", "a@example.org", "--role", "owner"), "Unknown role 'owner': choose one of"),
        (("acme", "not-an-address", "--role", "admin"), "is not an email address"),
    ],
)
def test_clear_errors(project, args, error):
    with pytest.raises(CommandError, match=error):
        invite(*args)
    assert not ProjectInvitation.objects.exists()


def test_the_role_is_required(project):
    with pytest.raises(CommandError, match="--role"):
        invite("acme", "a@example.org")


def test_a_second_invitation_to_a_pending_address_is_refused(project):
    invite("acme", "a@example.org", "--role", "triager")
    with pytest.raises(CommandError, match="has been invited already"):
        invite("acme", "a@example.org", "--role", "admin")
    assert ProjectInvitation.objects.count() == 1
