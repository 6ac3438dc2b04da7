import datetime
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from advisories import services as advisory_services
from advisories.models import Advisory, ChecklistTemplate, Credit
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
    assert 'name="_save"' not in page  # drafts are edited on the site, through the service
    assert 'name="state"' not in page  # publishing goes through the site
    assert f'href="/reports/{stalwart_draft.report.tracking_id}/advisory/"' in page
    published(stalwart_draft, by=member)
    assert 'name="_save"' not in client.get(url).content.decode()
    response = client.post(url, {"title": "Rewritten after the fact"})
    assert response.status_code == 403
    assert Advisory.objects.get().title != "Rewritten after the fact"


# --- Advisories, credits and checklists are written through the site ---------------------------


def staff_with(project, role):
    """Staff holding every model permission, with `role` in `project`."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.all())
    MembershipFactory(user=staff, project=project, role=role)
    return staff


@pytest.fixture
def approved(stalwart_draft, member):
    """A draft the reporter approved, as the site does it, with a credit added by hand."""
    Credit.objects.create(
        advisory=stalwart_draft, type=Credit.Type.ANALYST, display="name", name="An Analyst"
    )
    shared = advisory_services.share_for_review(advisory=stalwart_draft, by=member)
    return advisory_services.approve(advisory=shared, by=stalwart_draft.report.reporter)


def test_advisory_text_is_not_edited_in_the_admin(client, approved, superuser):
    """The site needs a maintainer and asks the reporter again (update_advisory); the admin
    would keep the approval of a text the reporter never saw.
    """
    project = approved.project
    for user in (staff_with(project, "triager"), staff_with(project, "maintainer"), superuser):
        client.sign_in(user)
        url = f"/admin/advisories/advisory/{approved.pk}/change/"
        data = {"title": "Quietly rewritten", "summary": "x", "details": "Text never reviewed.",
                "credits-TOTAL_FORMS": "1", "credits-INITIAL_FORMS": "1",
                "credits-0-id": approved.credits.get().pk, "credits-0-advisory": approved.pk,
                "credits-0-display": "name", "credits-0-name": "Someone Else"}  # fmt: skip
        assert client.post(url, data).status_code == 403
    advisory = Advisory.objects.get(pk=approved.pk)
    assert advisory.title == approved.title
    assert advisory.reporter_approved_at == approved.reporter_approved_at
    credit = advisory.credits.get()
    assert (credit.display, credit.name) == ("name", "An Analyst")


def test_sharing_for_review_in_the_admin_follows_the_site(client, stalwart_draft):
    project = stalwart_draft.project
    action = {"action": "edit_advisory", "_selected_action": [stalwart_draft.pk], "apply": "yes"}
    client.sign_in(staff_with(project, "triager"))
    client.post("/admin/advisories/advisory/", action)
    assert Advisory.objects.get().state == "draft"
    maintainer = staff_with(project, "maintainer")
    client.sign_in(maintainer)
    client.post("/admin/advisories/advisory/", action)
    assert Advisory.objects.get().state == "in_review"
    event = stalwart_draft.report.events.order_by("pk").last()
    assert (event.actor, event.kind) == (maintainer, "disclosure")


def test_disclosure_proposals_are_read_only(client, stalwart_draft, member, superuser):
    proposal = advisory_services.propose_disclosure(
        report=stalwart_draft.report,
        by=member,
        date=timezone.localdate() + datetime.timedelta(days=10),
        reason="After the release.",
    )
    client.sign_in(superuser)
    url = f"/admin/advisories/disclosureproposal/{proposal.pk}/"
    assert client.post(f"{url}change/", {"status": "agreed"}).status_code == 403
    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_a_checklist_template_stays_with_its_project(client, member):
    stalwart = Project.objects.get(slug="stalwart")
    teammail = Project.objects.get(slug="teammail")
    template = ChecklistTemplate.objects.get(project=stalwart)
    url = f"/admin/advisories/checklisttemplate/{template.pk}/change/"
    maintainer = staff_with(stalwart, "maintainer")
    client.sign_in(maintainer)
    assert client.post(url, {"project": teammail.pk, "phases": "[]"}).status_code == 403
    admin = staff_with(stalwart, "admin")
    client.sign_in(admin)
    phases = [{"title": "Triage", "tasks": ["Reproduce"], "fields": ["Root cause"]}]
    response = client.post(url, {"project": teammail.pk, "phases": json.dumps(phases)})
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.project, template.phases) == (stalwart, phases)
    broken = client.post(url, {"phases": json.dumps([{"title": "No tasks"}])})
    assert broken.status_code == 200  # start_checklist needs tasks and fields in every phase
    added = client.post(
        "/admin/advisories/checklisttemplate/add/",
        {"project": teammail.pk, "phases": json.dumps(phases)},
    )
    assert added.status_code == 200  # not one of their projects: not a valid choice
    assert not ChecklistTemplate.objects.filter(project=teammail).exists()
