import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from projects import services
from projects.models import Membership, PolicyRevision
from tests.factories import MembershipFactory, PolicyRevisionFactory, UserFactory

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
