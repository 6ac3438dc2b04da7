import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from advisories.models import Advisory
from projects.models import Project
from tests.advisories.test_exports import drafted, published
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    call_command("seed_projects", verbosity=0)
    user = UserFactory()
    MembershipFactory(user=user, project=Project.objects.get(slug="stalwart"))
    return user


@pytest.fixture
def stalwart_draft(member):
    finder = UserFactory()
    return drafted("stalwart", by=member, reporter=finder, affected_versions=["0.13.x"],
                   fixed_versions=["0.13.4"])  # fmt: skip


def staff_of(project):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_advisory", "change_advisory"])
    )
    if project is not None:
        MembershipFactory(user=staff, project=project)
    return staff


def test_staff_see_only_their_projects_advisories(client, stalwart_draft):
    client.sign_in(staff_of(stalwart_draft.project))
    assert stalwart_draft.identifier in client.get("/admin/advisories/advisory/").content.decode()
    client.sign_in(staff_of(None))
    body = client.get("/admin/advisories/advisory/").content.decode()
    assert stalwart_draft.identifier not in body
    url = f"/admin/advisories/advisory/{stalwart_draft.pk}/change/"
    assert client.get(url).status_code == 403  # staff of no project administer no advisory


def test_a_published_advisory_is_read_only_and_the_admin_cannot_publish(
    client, superuser, stalwart_draft, member
):
    client.sign_in(superuser)
    url = f"/admin/advisories/advisory/{stalwart_draft.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="_save"' in page
    assert 'name="state"' not in page  # state is read-only: publishing goes through the site
    published(stalwart_draft, by=member)
    assert 'name="_save"' not in client.get(url).content.decode()
    response = client.post(url, {"title": "Rewritten after the fact"})
    assert response.status_code == 403
    assert Advisory.objects.get().title != "Rewritten after the fact"
