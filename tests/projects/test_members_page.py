"""The members page, /projects/<slug>/members/: a project's admins (and superusers) see its
members and their roles, the pending invitations and the history, invite by address, change a
role, remove a member, revoke an invitation; everyone else gets 404, like a hidden report.
Each action writes a ProjectEvent and emails the person concerned. Nobody changes or removes
their own membership.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisories import access as advisory_access
from mailer.models import OutboundEmail
from projects import services
from projects.access import ADMIN, MAINTAINER, ROLE_DUTIES, TRIAGER, manages_members
from projects.models import Membership, ProjectEvent, ProjectInvitation
from reports import access as report_access
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db

PAGE = "/projects/acme/members/"
INVITE = "/projects/acme/members/invite/"


def role_url(membership, action):
    return f"/projects/acme/members/{membership.pk}/{action}/"


def revoke_url(invitation):
    return f"/projects/acme/invitations/{invitation.pk}/revoke/"


def mail_to(address, subject=""):
    """The outbox rows to `address` about the project (not about its reports)."""
    rows = OutboundEmail.objects.filter(to=address, subject__startswith=f"[Acme] {subject}")
    return list(rows.order_by("pk"))


def events(kind):
    return list(ProjectEvent.objects.filter(kind=kind))


@pytest.fixture
def shared_report(project, reporter, collaborator):
    """The reporter and the collaborator know of a report of the project: still no members."""
    report = file(reporter, project)
    share(report, by=reporter, with_user=collaborator)
    return report


@pytest.fixture
def invitation(project, project_admin):
    return services.invite_member(
        project=project, email="invitee@example.org", role="triager", by=project_admin
    )


# --- Who may see it -----------------------------------------------------------------------------

MAY_MANAGE = {"project_admin", "superuser"}


@pytest.mark.parametrize(
    "who",
    ["anonymous", "stranger", "other_member", "reporter", "collaborator", "triager",
     "maintainer", "project_admin", "superuser"],
)  # fmt: skip
def test_only_the_projects_admins_and_superusers_see_the_members_page(
    client, cast, shared_report, invitation, who
):
    user = cast[who]
    if user is not None:
        client.sign_in(user)
    response = client.get(PAGE)
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif who in MAY_MANAGE:
        assert response.status_code == 200
    else:
        assert response.status_code == 404  # as for a project that does not exist
        assert client.get("/projects/nowhere/members/").status_code == 404


@pytest.mark.parametrize("who", ["stranger", "other_member", "reporter", "triager", "maintainer"])
def test_nobody_else_can_act_on_the_members(client, cast, project, invitation, who):
    target = Membership.objects.get(user=cast["triager"])
    client.sign_in(cast[who])
    events_before = ProjectEvent.objects.count()
    attempts = [
        client.post(INVITE, {"email": "x@example.org", "role": "admin"}),
        client.post(role_url(target, "role"), {"role": "admin"}),
        client.post(role_url(target, "remove")),
        client.post(revoke_url(invitation)),
    ]
    assert [response.status_code for response in attempts] == [404] * 4
    target.refresh_from_db()
    assert target.role == TRIAGER
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert ProjectInvitation.objects.count() == 1
    assert ProjectEvent.objects.count() == events_before


def test_the_page_lists_members_roles_invitations_history_and_explains_the_roles(
    client, project_admin, triager, maintainer, invitation
):
    client.sign_in(project_admin)
    body = client.get(PAGE).content.decode()
    for text in (triager.email, maintainer.email, project_admin.email, "invitee@example.org"):
        assert text in body
    assert "invitee@example.org invited as triager" in body  # the history
    for duties in ROLE_DUTIES.values():
        assert duties.replace("'", "&#x27;") in body
    # Their own row has no controls: nobody changes or removes their own membership.
    own = Membership.objects.get(user=project_admin)
    assert role_url(own, "role") not in body
    assert role_url(own, "remove") not in body
    assert role_url(Membership.objects.get(user=triager), "remove") in body


def test_the_page_costs_the_same_queries_with_more_members(client, project, project_admin):
    client.sign_in(project_admin)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        return len(queries)

    before = count()
    for n in range(5):
        user = UserFactory(email=f"many{n}@example.org")
        services.add_member(project=project, user=user, role="triager", by=project_admin)
        services.invite_member(
            project=project, email=f"invited{n}@example.org", role="maintainer", by=project_admin
        )
    assert count() == before


# --- Links to it --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "linked"),
    [("anonymous", False), ("maintainer", False), ("project_admin", True), ("superuser", True)],
)
def test_the_project_page_links_the_members_page_for_those_who_may_use_it(
    client, cast, project, who, linked
):
    if cast[who] is not None:
        client.sign_in(cast[who])
    assert (PAGE in client.get("/projects/acme/").content.decode()) == linked


def test_the_queue_links_the_members_page_of_the_projects_one_administers(
    client, project, other_project, project_admin, maintainer
):
    MembershipFactory(project=other_project, user=project_admin, role=MAINTAINER)
    client.sign_in(project_admin)
    body = client.get("/reports/").content.decode()
    assert PAGE in body
    assert "/projects/other/members/" not in body
    client.sign_in(maintainer)
    assert PAGE not in client.get("/reports/").content.decode()


# --- Acting on the page -------------------------------------------------------------------------


def test_an_admin_invites_by_address_with_a_role(client, project_admin):
    client.sign_in(project_admin)
    response = client.post(INVITE, {"email": "New.Person@example.org", "role": "maintainer"})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    invitation = ProjectInvitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.person@example.org",
        MAINTAINER,
        project_admin,
    )
    (message,) = mail_to("new.person@example.org")
    assert f"/projects/invitations/{invitation.token}/" in message.body
    (event,) = events(ProjectEvent.Kind.INVITED)
    assert event.actor == project_admin
    page = client.get(PAGE).content.decode()
    assert "An invitation was sent to new.person@example.org" in page


def test_a_refused_invitation_shows_why_and_sends_nothing(client, project_admin, invitation):
    client.sign_in(project_admin)
    OutboundEmail.objects.all().delete()
    response = client.post(INVITE, {"email": "invitee@example.org", "role": "admin"})
    assert response.status_code == 200
    assert "has been invited already" in response.content.decode()
    response = client.post(INVITE, {"email": "not an address", "role": "owner"})
    assert response.status_code == 200
    assert ProjectInvitation.objects.count() == 1
    assert not OutboundEmail.objects.exists()


def test_an_admin_changes_a_role(client, project_admin, triager):
    client.sign_in(project_admin)
    membership = Membership.objects.get(user=triager)
    assert client.post(role_url(membership, "role"), {"role": "maintainer"})["Location"] == PAGE
    membership.refresh_from_db()
    assert membership.role == MAINTAINER
    (message,) = mail_to(triager.email)
    assert message.subject == "[Acme] Your role is now maintainer"
    assert "from triager to maintainer" in message.body
    assert ROLE_DUTIES[MAINTAINER] in message.body
    (event,) = events(ProjectEvent.Kind.ROLE_CHANGED)
    assert (event.actor, event.message) == (project_admin, f"{triager.email}: triager → maintainer")


def test_an_admin_removes_a_member(client, project_admin, maintainer, shared_report):
    client.sign_in(project_admin)
    membership = Membership.objects.get(user=maintainer)
    assert client.post(role_url(membership, "remove"))["Location"] == PAGE
    assert not Membership.objects.filter(pk=membership.pk).exists()
    (message,) = mail_to(maintainer.email)
    assert message.subject == "[Acme] You are no longer a member of the project"
    (event,) = events(ProjectEvent.Kind.MEMBER_REMOVED)
    assert (event.actor, event.message) == (
        project_admin,
        f"{maintainer.email} removed (was maintainer)",
    )
    client.sign_in(maintainer)
    assert client.get(f"/reports/{shared_report.tracking_id}/").status_code == 404


def test_an_admin_revokes_an_invitation(client, project_admin, invitation):
    client.sign_in(project_admin)
    OutboundEmail.objects.all().delete()
    assert client.post(revoke_url(invitation))["Location"] == PAGE
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    (message,) = mail_to("invitee@example.org")
    assert message.subject == "[Acme] Your invitation was withdrawn"
    assert len(events(ProjectEvent.Kind.INVITATION_REVOKED)) == 1
    assert client.post(revoke_url(invitation)).status_code == 404  # no longer pending
    invitee = UserFactory(email="invitee@example.org")
    client.sign_in(invitee)
    assert client.post(f"/projects/invitations/{invitation.token}/").status_code == 404


def test_nobody_changes_or_removes_their_own_membership_on_the_page(client, project_admin):
    client.sign_in(project_admin)
    own = Membership.objects.get(user=project_admin)
    response = client.post(role_url(own, "role"), {"role": "triager"}, follow=True)
    assert "You cannot add, change or remove your own membership." in response.content.decode()
    client.post(role_url(own, "remove"))
    own.refresh_from_db()
    assert own.role == ADMIN
    assert not ProjectEvent.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_another_projects_rows_are_not_reachable_from_this_page(
    client, project_admin, other_project, other_member
):
    theirs = Membership.objects.get(user=other_member)
    client.sign_in(project_admin)
    assert client.post(role_url(theirs, "role"), {"role": "triager"}).status_code == 404
    assert client.post(role_url(theirs, "remove")).status_code == 404
    foreign = services.invite_member(
        project=other_project, email="x@example.org", role="triager", by=other_member
    )
    assert client.post(revoke_url(foreign)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == ADMIN
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# --- The words on the page are the rules --------------------------------------------------------

# What ROLE_DUTIES says each role does, as actions of the apps' tables: the role named may take
# them and the role below may not.
DESCRIBED = {
    TRIAGER: [
        (report_access.ACTIONS, "view_internal"),
        (report_access.ACTIONS, "acknowledge"),
        (report_access.ACTIONS, "triage"),
        (report_access.ACTIONS, "request_info"),
        (report_access.ACTIONS, "close"),
        (report_access.ACTIONS, "mark_spam"),
        (report_access.ACTIONS, "score"),
        (advisory_access.ACTIONS, "checklist"),
    ],
    MAINTAINER: [
        (report_access.ACTIONS, "start_fix"),
        (report_access.ACTIONS, "mark_fixed"),
        (report_access.ACTIONS, "reopen"),
        (report_access.ACTIONS, "manage_collaborators"),
        (report_access.ACTIONS, "invite"),
        (advisory_access.ACTIONS, "propose_disclosure"),
        (advisory_access.ACTIONS, "edit_advisory"),
        (advisory_access.ACTIONS, "publish"),
    ],
}
BELOW = {TRIAGER: None, MAINTAINER: TRIAGER}


@pytest.mark.parametrize("role", [TRIAGER, MAINTAINER])
def test_the_role_descriptions_say_what_the_action_tables_allow(role):
    for actions, action in DESCRIBED[role]:
        assert report_access.member_may(action, role, actions), action
        if BELOW[role] is not None:
            assert not report_access.member_may(action, BELOW[role], actions), action


def test_only_admins_manage_members():
    assert [manages_members(role) for role in (None, TRIAGER, MAINTAINER, ADMIN)] == [
        False,
        False,
        False,
        True,
    ]
