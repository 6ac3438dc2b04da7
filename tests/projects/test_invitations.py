"""Invitations to join a project (projects.services), and the claim of a project nobody holds.

An invitation is sent to an address; whoever signs in with that address verified accepts it,
once, before it expires (PROJECT_INVITATION_MAX_AGE_DAYS), unless it was revoked; every refusal
reads the same. The first report to a project without an active member invites its security
contact to claim the project as its admin (one invitation at a time).
"""

import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mailer.models import OutboundEmail
from projects import services
from projects.models import Membership, ProjectEvent, ProjectInvitation
from reports import services as report_services
from reports import sweep
from reports.models import Reminder, Report
from reports.reminders import Kind
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

CONTACT = "security@acme.example.org"  # the `project` fixture's security_email
SITE = "https://disclosure.example.org"
LINK = re.compile(rf"{re.escape(SITE)}/projects/invitations/([A-Za-z0-9_-]+)/")
REFUSED = services.INVITATION_REFUSED
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def mail_to(address, subject=""):
    return list(OutboundEmail.objects.filter(to=address, subject__contains=subject).order_by("pk"))


def claim_mail():
    (message,) = mail_to(CONTACT, "claim Acme")
    return message


def token_in(message):
    (token,) = set(LINK.findall(message.body))
    assert f'href="{SITE}/projects/invitations/{token}/"' in message.html
    return token


def accept(client, token):
    return client.post(f"/projects/invitations/{token}/")


# --- The claim of a project nobody holds --------------------------------------------------------


def test_the_first_report_to_a_project_without_members_invites_its_contact_to_claim_it(
    project, reporter, clock
):
    report = file(reporter, project, title="Heap overflow SENTINEL-claim")
    invitation = ProjectInvitation.objects.get()
    assert (invitation.project, invitation.email, invitation.role) == (
        project,
        CONTACT,
        Membership.Role.ADMIN,
    )
    assert invitation.invited_by is None  # the platform
    assert invitation.expires_at == T0 + dt.timedelta(days=14)
    message = claim_mail()
    assert message.subject == "[Acme] A security report arrived: claim Acme on Disclosure"
    assert token_in(message) == invitation.token
    assert f"{SITE}/accounts/signup/" in message.body
    assert "2026-12-15 09:30 UTC" in message.body  # until when the link works
    assert "SENTINEL-claim" not in message.body + message.html  # nothing of the report
    # The contact also hears that a report arrived, without its content (test_contact_routing).
    assert [m.subject for m in mail_to(CONTACT, report.tracking_id)] == [
        f"[{report.tracking_id}] New report for Acme"
    ]
    (event,) = ProjectEvent.objects.all()
    assert (event.kind, event.actor, event.project) == (ProjectEvent.Kind.INVITED, None, project)
    assert CONTACT in event.message


def test_one_claim_at_a_time_and_a_new_one_once_it_expired(project, reporter, clock):
    file(reporter, project)
    file(reporter, project)
    assert ProjectInvitation.objects.count() == 1
    assert len(mail_to(CONTACT, "claim Acme")) == 1
    first = ProjectInvitation.objects.get()

    clock.move_to(T0 + dt.timedelta(days=15))
    file(reporter, project)
    assert ProjectInvitation.objects.count() == 2
    first.refresh_from_db()
    assert first.revoked_at is not None  # the expired one made way
    assert len(mail_to(CONTACT, "claim Acme")) == 2


def test_a_project_with_an_active_member_is_not_offered_for_claiming(project, reporter, triager):
    file(reporter, project)
    assert not ProjectInvitation.objects.exists()
    assert mail_to(CONTACT) == []


def test_a_project_whose_only_member_is_disabled_is_offered_for_claiming(project, reporter):
    MembershipFactory(
        project=project, role=Membership.Role.ADMIN, user=UserFactory(is_active=False)
    )
    file(reporter, project)
    assert ProjectInvitation.objects.get().email == CONTACT


def test_the_claim_is_filed_with_the_report_or_not_at_all(project, reporter, settings):
    """The invitation is written in the filing transaction: a report that fails (here: over
    the attachment limit, checked after the report is written) leaves none.
    """
    settings.ATTACHMENTS_PER_REPORT = 0
    poc = SimpleUploadedFile("poc.txt", b"proof")
    with pytest.raises(report_services.ReportError, match="at most 0 attachments"):
        report_services.file_report(
            project=project, reporter=reporter, fields={"title": "T"}, files=[poc]
        )
    assert not Report.objects.exists()
    assert not ProjectInvitation.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_the_contact_claims_the_project_and_from_then_on_hears_as_its_admin(
    project, reporter, client, settings
):
    """The contact signs in with an account that has the contact address verified (here beside
    a personal address), accepts, and is the project's admin: the second-factor gate now
    applies, and the project's mail goes to them in full, no more to the contact address.
    """
    first = file(reporter, project)
    token = token_in(claim_mail())
    alice = UserFactory(email="alice@acme.example.org")
    EmailAddress.objects.create(user=alice, email=CONTACT, verified=True)
    client.sign_in(alice)

    page = client.get(f"/projects/invitations/{token}/")
    assert page.status_code == 200
    assert "Accept the invitation" in page.content.decode()
    response = accept(client, token)
    assert response.status_code == 302
    assert response["Location"] == "/projects/acme/members/"
    membership = Membership.objects.get(user=alice)
    assert (membership.project, membership.role) == (project, Membership.Role.ADMIN)
    accepted = ProjectEvent.objects.get(kind=ProjectEvent.Kind.INVITATION_ACCEPTED)
    assert (accepted.actor, accepted.project) == (alice, project)
    # A member now: nothing internal before a second factor (expected, DESIGN §3).
    assert client.get("/projects/acme/members/")["Location"].startswith("/accounts/2fa/")
    client.sign_in(alice)
    assert client.get(f"/reports/{first.tracking_id}/").status_code == 200

    OutboundEmail.objects.all().delete()
    later = file(reporter, project, title="Second SENTINEL-admin")
    assert mail_to(CONTACT) == []
    (full,) = mail_to(alice.email)
    assert full.subject == f"[{later.tracking_id}] New report for Acme"
    assert "SENTINEL-admin" in full.body
    assert not ProjectInvitation.objects.pending(now=timezone.now()).exists()
    # Reminders too: the admin's, not the contact's.
    when = Reminder.objects.get(report=later, kind=Kind.ACK_OVERDUE).send_at
    OutboundEmail.objects.all().delete()
    assert sweep.sweep(now=when) >= 2
    assert mail_to(CONTACT) == []
    assert {m.subject for m in mail_to(alice.email)} >= {
        f"[{later.tracking_id}] Acknowledgment due soon",
        f"[{later.tracking_id}] Acknowledgment overdue",
    }


# --- Accepting: once, in time, unrevoked, with the address verified ----------------------------


@pytest.fixture
def invitation(project, project_admin):
    return services.invite_member(
        project=project, email="newcomer@example.org", role="maintainer", by=project_admin
    )


@pytest.fixture
def newcomer(db):
    return UserFactory(email="newcomer@example.org")


def refused(response):
    assert response.status_code == 404
    assert REFUSED in response.content.decode()
    return True


def test_an_invited_account_joins_with_the_role(client, invitation, newcomer, project):
    client.sign_in(newcomer)
    response = accept(client, invitation.token)
    assert response.status_code == 302
    assert response["Location"] == "/projects/acme/"  # a maintainer has no members page
    assert Membership.objects.get(user=newcomer).role == Membership.Role.MAINTAINER
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_an_invitation_is_single_use(client, invitation, newcomer):
    client.sign_in(newcomer)
    assert accept(client, invitation.token).status_code == 302
    Membership.objects.filter(user=newcomer).delete()
    assert refused(accept(client, invitation.token))
    assert not Membership.objects.filter(user=newcomer).exists()


def test_an_invitation_expires(client, invitation, newcomer, settings):
    later = timezone.now() + dt.timedelta(days=settings.PROJECT_INVITATION_MAX_AGE_DAYS, hours=1)
    with time_machine.travel(later):
        client.sign_in(newcomer)
        assert refused(accept(client, invitation.token))
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_age_limit_is_a_setting(project, project_admin, settings, clock):
    settings.PROJECT_INVITATION_MAX_AGE_DAYS = 3
    sent = services.invite_member(
        project=project, email="soon@example.org", role="triager", by=project_admin
    )
    assert sent.expires_at == T0 + dt.timedelta(days=3)


def test_a_revoked_invitation_no_longer_works(client, invitation, newcomer, project_admin):
    services.revoke_invitation(invitation=invitation, by=project_admin)
    client.sign_in(newcomer)
    assert refused(accept(client, invitation.token))


def test_the_invited_address_must_be_a_verified_address_of_the_account(
    client, invitation, stranger
):
    client.sign_in(stranger)
    assert refused(accept(client, invitation.token))  # someone else's
    EmailAddress.objects.create(user=stranger, email="newcomer@example.org", verified=False)
    assert refused(accept(client, invitation.token))  # theirs, not verified
    EmailAddress.objects.filter(email="newcomer@example.org").update(verified=True)
    assert accept(client, invitation.token).status_code == 302  # verified: it works
    assert Membership.objects.get(user=stranger).role == Membership.Role.MAINTAINER


def test_every_refusal_reads_the_same(client, invitation, stranger, project, project_admin):
    """Someone else's, unknown, revoked, expired: the same page, word for word."""
    revoked = services.invite_member(
        project=project, email=stranger.email, role="triager", by=project_admin
    )
    services.revoke_invitation(invitation=revoked, by=project_admin)
    expired = ProjectInvitation.objects.create(
        project=project,
        email=stranger.email,
        role="triager",
        token="expired-expired-expired",
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    client.sign_in(stranger)
    pages = {
        token: accept(client, token)
        for token in (invitation.token, "x" * 43, revoked.token, expired.token)
    }
    assert all(refused(page) for page in pages.values())
    # Word for word, but for the CSRF token of the sign-out form (masked anew per response).
    texts = {CSRF.sub("", page.content.decode()) for page in pages.values()}
    assert len(texts) == 1
    assert not Membership.objects.filter(user=stranger).exists()


def test_accepting_needs_a_signed_in_account(client, invitation):
    response = client.get(f"/projects/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/projects/invitations/")
    assert accept(client, invitation.token).status_code == 302
    assert not Membership.objects.filter(role=Membership.Role.MAINTAINER).exists()


def test_an_invitation_never_lowers_a_role_and_may_raise_one(project, project_admin):
    member = MembershipFactory(project=project, role=Membership.Role.MAINTAINER).user
    lower = ProjectInvitation.objects.create(
        project=project,
        email=member.email,
        role="triager",
        token="lower-lower-lower-lower",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    assert services.accept_invitation(token=lower.token, user=member).role == "maintainer"
    higher = ProjectInvitation.objects.create(
        project=project,
        email=member.email,
        role="admin",
        token="higher-higher-higher-higher",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    assert services.accept_invitation(token=higher.token, user=member).role == "admin"


# --- Inviting: the rules ------------------------------------------------------------------------


def test_an_invitation_is_emailed_with_its_link_and_recorded(invitation, project_admin):
    (message,) = mail_to("newcomer@example.org")
    assert message.subject == "[Acme] You are invited to join as maintainer"
    assert token_in(message) == invitation.token
    assert "As maintainer: Everything a triager does" in message.body
    event = ProjectEvent.objects.get(kind=ProjectEvent.Kind.INVITED)
    assert (event.actor, event.message) == (
        project_admin,
        "newcomer@example.org invited as maintainer",
    )


def test_only_the_projects_admins_invite(project, maintainer, other_member, project_admin):
    for who in (maintainer, other_member):
        with pytest.raises(PermissionDenied):
            services.invite_member(project=project, email="x@example.org", role="triager", by=who)
    assert not ProjectInvitation.objects.exists()


@pytest.mark.parametrize(
    ("email", "role", "error"),
    [
        ("pending@example.org", "triager", "has been invited already"),
        ("member@example.org", "triager", "already a member of Acme (triager)"),
        ("MEMBER-ALIAS@example.org", "admin", "already a member of Acme (triager)"),
        ("admin@example.org", "triager", "cannot invite yourself"),
        ("new@example.org", "owner", "Unknown role"),
        ("not an address", "triager", "is not an email address"),
    ],
)
def test_refused_invitations(project, email, role, error):
    admin = MembershipFactory(
        project=project, role="admin", user=UserFactory(email="admin@example.org")
    ).user
    member = MembershipFactory(
        project=project, role="triager", user=UserFactory(email="member@example.org")
    ).user
    EmailAddress.objects.create(user=member, email="member-alias@example.org", verified=True)
    services.invite_member(project=project, email="pending@example.org", role="triager", by=admin)
    before = ProjectInvitation.objects.count()
    with pytest.raises(services.MembershipError, match=re.escape(error)):
        services.invite_member(project=project, email=email, role=role, by=admin)
    assert ProjectInvitation.objects.count() == before


def test_an_expired_invitation_makes_way_for_a_new_one(invitation, project, project_admin):
    with time_machine.travel(timezone.now() + dt.timedelta(days=15)):
        again = services.invite_member(
            project=project, email="NewComer@example.org", role="triager", by=project_admin
        )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert (again.email, again.role) == ("newcomer@example.org", "triager")


def test_revoking_is_for_admins_of_pending_invitations(invitation, maintainer, project_admin):
    with pytest.raises(PermissionDenied):
        services.revoke_invitation(invitation=invitation, by=maintainer)
    services.revoke_invitation(invitation=invitation, by=project_admin)
    with pytest.raises(services.MembershipError, match="no longer pending"):
        services.revoke_invitation(invitation=invitation, by=project_admin)
    (notice,) = mail_to("newcomer@example.org", "withdrawn")
    assert "its link no longer works" in notice.body
    assert ProjectEvent.objects.filter(kind=ProjectEvent.Kind.INVITATION_REVOKED).count() == 1
