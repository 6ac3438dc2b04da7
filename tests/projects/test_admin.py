import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.utils import timezone

from mailer.models import OutboundEmail
from projects import services
from projects.models import Membership, PolicyRevision, ProjectEvent
from tests.factories import MembershipFactory, PolicyRevisionFactory, UserFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db


def test_superuser_sees_projects_with_revisions_and_members_inline(client, superuser, project):
    client.sign_in(superuser)
    response = client.get(f"/admin/projects/project/{project.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Policy revisions" in body
    assert "Memberships" in body


def test_revision_in_force_is_read_only_in_the_admin(client, superuser, project):
    revision = project.revisions.get()
    client.sign_in(superuser)
    page = client.get(f"/admin/projects/policyrevision/{revision.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(
        f"/admin/projects/policyrevision/{revision.pk}/change/",
        {"project": project.pk, "effective_from": "2025-01-01", "ack_hours": "1"},
    )
    assert response.status_code == 403
    revision.refresh_from_db()
    assert revision.ack_hours == 24
    assert client.post(f"/admin/projects/policyrevision/{revision.pk}/delete/").status_code == 403
    assert PolicyRevision.objects.filter(pk=revision.pk).exists()


def test_upcoming_revision_with_matrix_is_editable(client, superuser, project):
    upcoming = PolicyRevisionFactory(project=project, effective_from=datetime.date(2099, 1, 1))
    client.sign_in(superuser)
    page = client.get(f"/admin/projects/policyrevision/{upcoming.pk}/change/")
    assert 'name="_save"' in page.content.decode()
    assert "versions-TOTAL_FORMS" in page.content.decode()


def test_staff_see_only_projects_they_are_members_of(client, project, other_project):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_project"]))
    MembershipFactory(user=staff, project=project)
    client.sign_in(staff)
    body = client.get("/admin/projects/project/").content.decode()
    assert "Acme" in body
    assert "Other" not in body
    assert client.get(f"/admin/projects/project/{other_project.pk}/change/").status_code == 302


# --- Staff stay inside their projects -----------------------------------------------------------

MEMBERSHIP_PERMISSIONS = ("view_membership", "add_membership", "change_membership",
                          "delete_membership", "view_user", "view_project")  # fmt: skip


def staff_member(project, role, *codenames):
    """A staff member of `project` with `role` and the model permissions named (all if none)."""
    staff = UserFactory(is_staff=True)
    permissions = Permission.objects.all()
    if codenames:
        permissions = permissions.filter(codename__in=codenames)
    staff.user_permissions.add(*permissions)
    MembershipFactory(user=staff, project=project, role=role)
    return staff


def test_staff_cannot_join_another_project_and_read_its_reports(
    client, project, other_project, reporter
):
    PolicyRevisionFactory(project=other_project)
    theirs = file(reporter, other_project)
    triager = staff_member(project, Membership.Role.TRIAGER, *MEMBERSHIP_PERMISSIONS)
    client.sign_in(triager)
    response = client.post(
        "/admin/projects/membership/add/",
        {
            "user": triager.pk,
            "email": triager.email,
            "project": other_project.pk,
            "role": Membership.Role.ADMIN,
        },
    )
    assert response.status_code in {200, 403}
    assert not Membership.objects.filter(user=triager, project=other_project).exists()
    client.sign_in(triager)  # a fresh request: any role gained would show now
    assert client.get(f"/reports/{theirs.tracking_id}/").status_code == 404


def test_nobody_raises_their_own_role(client, project):
    for role in (Membership.Role.TRIAGER, Membership.Role.ADMIN):
        staff = staff_member(project, role, *MEMBERSHIP_PERMISSIONS)
        own = Membership.objects.get(user=staff)
        client.sign_in(staff)
        url = f"/admin/projects/membership/{own.pk}/change/"
        assert 'name="_save"' not in client.get(url).content.decode()
        assert client.post(url, {"role": Membership.Role.ADMIN}).status_code == 403
        assert (
            client.post(f"/admin/projects/membership/{own.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        own.refresh_from_db()
        assert own.role == role


def test_a_project_admin_manages_its_members_through_the_service(client, project, other_project):
    admin = staff_member(project, Membership.Role.ADMIN, *MEMBERSHIP_PERMISSIONS)
    newcomer = UserFactory(email="newcomer@example.org")
    client.sign_in(admin)
    add = "/admin/projects/membership/add/"
    form = client.get(add)
    choices = {
        str(choice.value)
        for choice, _ in form.context["adminform"].form.fields["project"].choices
        if choice
    }
    assert choices == {str(project.pk)}  # only projects they administer
    response = client.post(
        add, {"email": "NEWCOMER@example.org", "project": project.pk, "role": "triager"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer, project=project)
    assert membership.role == "triager"
    url = f"/admin/projects/membership/{membership.pk}/change/"
    assert client.post(url, {"role": "maintainer", "project": other_project.pk}).status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.project) == ("maintainer", project)
    assert (
        client.post(
            f"/admin/projects/membership/{membership.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_admins_membership_pages_write_events_and_email_the_person(client, project, superuser):
    newcomer = UserFactory(email="newcomer@example.org")
    client.sign_in(superuser)
    add = client.post(
        "/admin/projects/membership/add/",
        {"email": newcomer.email, "project": project.pk, "role": "triager"},
    )
    assert add.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    change = f"/admin/projects/membership/{membership.pk}/change/"
    assert client.post(change, {"role": "admin"}).status_code == 302
    delete = f"/admin/projects/membership/{membership.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert [(e.kind, e.actor) for e in ProjectEvent.objects.order_by("pk")] == [
        (ProjectEvent.Kind.MEMBER_ADDED, superuser),
        (ProjectEvent.Kind.ROLE_CHANGED, superuser),
        (ProjectEvent.Kind.MEMBER_REMOVED, superuser),
    ]
    assert [m.subject for m in OutboundEmail.objects.filter(to=newcomer.email).order_by("pk")] == [
        "[Acme] You are now triager of the project",
        "[Acme] Your role is now admin",
        "[Acme] You are no longer a member of the project",
    ]


def test_adding_a_member_names_an_account_and_never_lists_them(client, project, stranger):
    admin = staff_member(project, Membership.Role.ADMIN, *MEMBERSHIP_PERMISSIONS)
    client.sign_in(admin)
    lookup = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "projects",
            "model_name": "membership",
            "field_name": "user",
            "term": "example",
        },
    )
    assert lookup.status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403
    for email, error in (("nobody@example.org", "No active account"), (admin.email, "your own")):
        response = client.post(
            "/admin/projects/membership/add/",
            {"email": email, "project": project.pk, "role": "admin"},
        )
        assert response.status_code == 200
        assert error in response.content.decode()
    assert Membership.objects.filter(project=project).count() == 1


def test_staff_who_are_not_project_admins_see_memberships_read_only(client, project):
    maintainer = staff_member(project, Membership.Role.MAINTAINER)
    other = MembershipFactory(project=project, role=Membership.Role.TRIAGER)
    client.sign_in(maintainer)
    assert client.get("/admin/projects/membership/").status_code == 200
    url = f"/admin/projects/membership/{other.pk}/change/"
    assert 'name="_save"' not in client.get(url).content.decode()
    assert client.post(url, {"role": Membership.Role.ADMIN}).status_code == 403
    assert (
        client.post(f"/admin/projects/membership/{other.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/projects/membership/add/").status_code == 403
    other.refresh_from_db()
    assert other.role == Membership.Role.TRIAGER


def test_staff_cannot_publish_another_projects_policy(client, project, other_project):
    """A revision dated today would be in force at once, and read-only for good."""
    admin = staff_member(project, Membership.Role.ADMIN)
    client.sign_in(admin)
    today = timezone.localdate()
    for target, day in ((other_project, today + datetime.timedelta(days=30)), (project, today)):
        response = client.post(
            "/admin/projects/policyrevision/add/",
            {**REVISION_FORM, "project": target.pk, "effective_from": day.isoformat()},
        )
        assert response.status_code == 200  # the form again, with the error
    assert not PolicyRevision.objects.filter(project=other_project).exists()
    assert not PolicyRevision.objects.filter(project=project, effective_from=today).exists()


def test_a_project_admin_schedules_an_upcoming_revision(client, project):
    admin = staff_member(project, Membership.Role.ADMIN)
    client.sign_in(admin)
    day = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        "/admin/projects/policyrevision/add/",
        {**REVISION_FORM, "project": project.pk, "effective_from": day.isoformat(),
         "versions-TOTAL_FORMS": "1", "versions-0-series": "3.x", "versions-0-order": "0",
         "versions-0-supported": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-3000:]
    upcoming = PolicyRevision.objects.get(project=project, effective_from=day)
    assert list(upcoming.versions.values_list("series", flat=True)) == ["3.x"]
    # It cannot be brought into force early either.
    url = f"/admin/projects/policyrevision/{upcoming.pk}/change/"
    today = timezone.localdate().isoformat()
    moved = client.post(url, {**REVISION_FORM, "project": project.pk, "effective_from": today})
    assert moved.status_code == 200
    upcoming.refresh_from_db()
    assert upcoming.effective_from == day


def test_only_project_admins_write_revisions(client, project):
    upcoming = PolicyRevisionFactory(
        project=project, effective_from=timezone.localdate() + datetime.timedelta(days=30)
    )
    maintainer = staff_member(project, Membership.Role.MAINTAINER)
    client.sign_in(maintainer)
    assert client.get("/admin/projects/policyrevision/add/").status_code == 403
    url = f"/admin/projects/policyrevision/{upcoming.pk}/change/"
    assert client.post(url, {**REVISION_FORM, "ack_hours": "1"}).status_code == 403
    assert (
        client.post(
            f"/admin/projects/policyrevision/{upcoming.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    upcoming.refresh_from_db()
    assert upcoming.ack_hours == 24


def test_project_admins_edit_their_project_and_only_superusers_add_projects(client, project):
    maintainer = staff_member(project, Membership.Role.MAINTAINER)
    admin = staff_member(project, Membership.Role.ADMIN)
    url = f"/admin/projects/project/{project.pk}/change/"
    client.sign_in(maintainer)
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    client.sign_in(admin)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {"name": "Acme Security",
         "intake_addresses-TOTAL_FORMS": "0", "intake_addresses-INITIAL_FORMS": "0",
         "revisions-TOTAL_FORMS": "1", "revisions-INITIAL_FORMS": "1",
         "revisions-0-id": project.revisions.get().pk, "revisions-0-project": project.pk,
         "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "2",
         "memberships-0-id": maintainer.memberships.get().pk, "memberships-0-project": project.pk,
         "memberships-1-id": admin.memberships.get().pk, "memberships-1-project": project.pk}
    )  # fmt: skip
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert project.name == "Acme Security"
    assert client.get("/admin/projects/project/add/").status_code == 403
    assert (
        client.post(f"/admin/projects/project/{project.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


REVISION_FORM = {
    "how_to_report": "Email us.",
    "ack_hours": "24",
    "needs_info_nudge_days": "7",
    "intake_required": '["description"]',
    "intake_helpful": "[]",
    "intake_extra_fields": "[]",
    "versions-TOTAL_FORMS": "0",
    "versions-INITIAL_FORMS": "0",
}


# --- The membership service ---------------------------------------------------------------------


def test_only_a_project_admin_adds_members(project, maintainer, project_admin, superuser, stranger):
    with pytest.raises(PermissionDenied):
        services.add_member(project=project, user=stranger, role="triager", by=maintainer)
    added = services.add_member(project=project, user=stranger, role="triager", by=project_admin)
    assert (added.user, added.role) == (stranger, "triager")
    with pytest.raises(services.MembershipError, match="already a member"):
        services.add_member(project=project, user=stranger, role="admin", by=superuser)
    with pytest.raises(services.MembershipError, match="own membership"):
        services.add_member(project=project, user=superuser, role="admin", by=superuser)


def test_nobody_changes_or_removes_their_own_membership(project, project_admin, triager, superuser):
    own = Membership.objects.get(user=project_admin)
    with pytest.raises(services.MembershipError, match="own membership"):
        services.change_role(membership=own, role="triager", by=project_admin)
    with pytest.raises(services.MembershipError, match="own membership"):
        services.remove_member(membership=own, by=project_admin)
    theirs = Membership.objects.get(user=triager)
    with pytest.raises(PermissionDenied):
        services.change_role(membership=own, role="triager", by=triager)
    with pytest.raises(services.MembershipError, match="Unknown role"):
        services.change_role(membership=theirs, role="owner", by=project_admin)
    assert (
        services.change_role(membership=theirs, role="maintainer", by=project_admin).role
        == "maintainer"
    )
    services.remove_member(membership=theirs, by=superuser)
    assert not Membership.objects.filter(pk=theirs.pk).exists()


def test_invitations_and_the_members_history_are_read_only_in_the_admin(
    client, superuser, project, project_admin
):
    """Invitations are sent and revoked on the members page, the history is append-only: the
    admin shows them, to superusers too, and changes nothing; an invitation's link is not shown.
    """
    invitation = services.invite_member(
        project=project, email="invitee@example.org", role="triager", by=project_admin
    )
    event = ProjectEvent.objects.get()
    client.sign_in(superuser)
    for model, obj in (("projectinvitation", invitation), ("projectevent", event)):
        changelist = client.get(f"/admin/projects/{model}/")
        assert changelist.status_code == 200
        assert "invitee@example.org" in changelist.content.decode()
        page = client.get(f"/admin/projects/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert invitation.token not in page.content.decode()
        assert client.post(f"/admin/projects/{model}/{obj.pk}/change/", {}).status_code == 403
        delete = client.post(f"/admin/projects/{model}/{obj.pk}/delete/", {"post": "yes"})
        assert delete.status_code == 403
        assert client.get(f"/admin/projects/{model}/add/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert ProjectEvent.objects.get() == event


# --- Intake addresses (the email gateway routes by them) ------------------------------------------


def project_change(client, url, *, project, member, addresses):
    """The project's change form as its page sends it, with `addresses` as the intake address
    rows (the existing one first)."""
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    existing = project.intake_addresses.get()
    data.update(
        {"intake_addresses-TOTAL_FORMS": str(len(addresses)),
         "intake_addresses-INITIAL_FORMS": "1", "intake_addresses-0-id": existing.pk,
         "revisions-TOTAL_FORMS": "1", "revisions-INITIAL_FORMS": "1",
         "revisions-0-id": project.revisions.get().pk, "revisions-0-project": project.pk,
         "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
         "memberships-0-id": member.memberships.get().pk, "memberships-0-project": project.pk}
    )  # fmt: skip
    for number, address in enumerate(addresses):
        data[f"intake_addresses-{number}-project"] = project.pk
        data[f"intake_addresses-{number}-address"] = address
    return data


def test_only_superusers_change_intake_addresses_members_read_them(client, superuser, project):
    project.intake_addresses.create(address="security@acme.example.org")
    admin = staff_member(project, Membership.Role.ADMIN)
    url = f"/admin/projects/project/{project.pk}/change/"

    client.sign_in(admin)
    assert "security@acme.example.org" in client.get(url).content.decode()
    data = project_change(
        client,
        url,
        project=project,
        member=admin,
        addresses=["security@elsewhere.example.org", "security@other-project.example.org"],
    )
    data["name"] = "Acme Security"
    assert client.post(url, data).status_code == 302
    # The project admin's edit of the project went through; the addresses did not change.
    project.refresh_from_db()
    assert project.name == "Acme Security"
    assert list(project.intake_addresses.values_list("address", flat=True)) == [
        "security@acme.example.org"
    ]

    client.sign_in(superuser)
    data = project_change(
        client,
        url,
        project=project,
        member=admin,
        addresses=["security@acme.example.org", "Hello@Acme.example.org"],
    )
    assert client.post(url, data).status_code == 302
    # Stored lower-cased: the gateway looks addresses up that way.
    assert sorted(project.intake_addresses.values_list("address", flat=True)) == [
        "hello@acme.example.org",
        "security@acme.example.org",
    ]


def test_an_intake_address_is_stored_lower_case_or_not_at_all(project):
    with pytest.raises(IntegrityError):
        project.intake_addresses.create(address="Security@Acme.example.org")
