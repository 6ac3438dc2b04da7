"""Assigning a report to a member of its project (reports.services.assign, the "assign" action):
who may, to whom, what the audit trail and the assignee's email say, and what the reporter side
never sees.
"""

import pytest

from reports import services
from reports.models import Report, ReportEvent
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client, report, assignee):
    return client.post(
        f"/reports/{report.tracking_id}/assignee/",
        {"assignee": "" if assignee is None else assignee.pk},
    )


def test_a_triager_assigns_a_maintainer_who_gets_an_email(
    client, report, triager, maintainer, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    client.sign_in(triager)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, report, maintainer)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.assignee == maintainer
    event = report.events.get(kind=ReportEvent.Kind.ASSIGNMENT)
    assert event.message == f"Assigned to {maintainer.email}"
    assert event.public is False
    assert event.actor == triager
    (email,) = mailoutbox
    assert email.to == [maintainer.email]
    assert email.subject == f"[{report.tracking_id}] Assigned to you"
    assert f"{triager.email} assigned the security report {report.tracking_id}" in email.body
    assert report.title in email.body
    page = client.get(response["Location"]).content.decode()
    assert f"Assigned to {maintainer.email}." in page  # the success message


def test_unassigning_is_recorded_and_sends_nothing(
    client, report, maintainer, mailoutbox, django_capture_on_commit_callbacks
):
    services.assign(report=report, by=maintainer, assignee=maintainer)
    client.sign_in(maintainer)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, report, None).status_code == 302
    report.refresh_from_db()
    assert report.assignee is None
    assert list(report.events.filter(kind="assignment").values_list("message", flat=True)) == [
        f"Assigned to {maintainer.email}",
        "Unassigned",
    ]
    assert mailoutbox == []  # assigning oneself and unassigning tell nobody


def test_assigning_again_to_the_same_person_changes_nothing(report, maintainer, triager):
    services.assign(report=report, by=maintainer, assignee=triager)
    services.assign(report=report, by=maintainer, assignee=triager)
    assert report.events.filter(kind="assignment").count() == 1


def test_only_members_of_the_project_can_be_assigned(
    client, report, maintainer, other_member, reporter
):
    client.sign_in(maintainer)
    for outsider in (other_member, reporter, UserFactory()):
        response = post(client, report, outsider)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "Choose a member of the project." in page
    assert Report.objects.get(pk=report.pk).assignee is None
    # The service holds the rule too, whoever calls it.
    with pytest.raises(services.ReportError, match="is not a member of Acme"):
        services.assign(report=report, by=maintainer, assignee=other_member)
    former = MembershipFactory(project=report.project).user
    former.is_active = False
    former.save()
    with pytest.raises(services.ReportError):
        services.assign(report=report, by=maintainer, assignee=former)
    assert not report.events.filter(kind="assignment").exists()


@pytest.mark.parametrize("who", ["reporter", "collaborator"])
def test_the_reporter_side_may_not_assign(client, cast, report, maintainer, who):
    client.sign_in(cast[who])
    assert post(client, report, maintainer).status_code == 403
    assert Report.objects.get(pk=report.pk).assignee is None


@pytest.mark.parametrize("who", ["stranger", "other_member"])
def test_those_who_do_not_see_the_report_get_404(client, cast, report, maintainer, who):
    client.sign_in(cast[who])
    assert post(client, report, maintainer).status_code == 404


def test_assign_takes_posts_only(client, report, maintainer):
    client.sign_in(maintainer)
    assert client.get(f"/reports/{report.tracking_id}/assignee/").status_code == 405


def test_members_see_the_assignment_the_reporter_side_never(
    client, report, maintainer, triager, reporter, collaborator
):
    services.assign(report=report, by=triager, assignee=maintainer)
    url = f"/reports/{report.tracking_id}/"
    client.sign_in(triager)
    body = client.get(url).content.decode()
    assert f"Assigned to <strong>{maintainer.email}</strong>" in body
    assert 'action="/reports/' + report.tracking_id + '/assignee/"' in body
    assert f'<option value="{maintainer.pk}" selected>{maintainer.email}</option>' in body
    assert "Unassign" in body
    for who in (reporter, collaborator):
        client.sign_in(who)
        body = client.get(url).content.decode()
        assert maintainer.email not in body
        assert "Assignment" not in body
        assert "/assignee/" not in body
