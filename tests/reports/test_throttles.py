"""Rate limits on new reports, invitations, comments and uploads (per user and per address), and
attachment quotas (per report, per person): over a limit, a clear answer and nothing stored.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mailer.models import OutboundEmail
from reports.models import Attachment, Comment, Invitation, Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Set `action`'s rate for the test; the others keep theirs."""

    def set_rate(action, rate):
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, action: rate}

    return set_rate


def assert_too_many(response):
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many requests" in body
    assert "nothing was stored" in body
    assert "vendor/bootstrap/css/bootstrap.min.css" in body  # the site's page


def test_comments_are_limited_per_user(client, report, reporter, rates):
    rates("comment", "2/h/user")
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/comment/"
    for n in range(2):
        assert client.post(url, {"body": f"Ping {n}"}).status_code == 302
    assert_too_many(client.post(url, {"body": "Ping 2"}))
    assert Comment.objects.filter(report=report).count() == 2


def test_comments_are_limited_per_address(client, report, reporter, collaborator, rates):
    rates("comment", "2/h/ip")
    url = f"/reports/{report.tracking_id}/comment/"
    client.sign_in(reporter)
    assert client.post(url, {"body": "One"}, REMOTE_ADDR="10.1.1.1").status_code == 302
    client.sign_in(collaborator)
    assert client.post(url, {"body": "Two"}, REMOTE_ADDR="10.1.1.1").status_code == 302
    assert_too_many(client.post(url, {"body": "Three"}, REMOTE_ADDR="10.1.1.1"))
    assert client.post(url, {"body": "Elsewhere"}, REMOTE_ADDR="10.2.2.2").status_code == 302
    assert Comment.objects.filter(report=report).count() == 3


def test_new_reports_are_limited(client, project, reporter, rates):
    rates("file_report", "1/h/user")
    client.sign_in(reporter)
    data = {
        "title": "Overflow",
        "description": "It overflows.",
        "steps_to_reproduce": "Send.",
        "credit-display": "anonymous",
    }
    assert client.post("/projects/acme/report/", data).status_code == 302
    assert_too_many(client.post("/projects/acme/report/", {**data, "title": "Again"}))
    assert list(Report.objects.values_list("title", flat=True)) == ["Overflow"]
    # Looking at the form is not a submission.
    assert client.get("/projects/acme/report/").status_code == 200


def test_invitations_are_limited(client, report, reporter, rates, mailoutbox):
    rates("invite", "1/h/user")
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/collaborators/"
    before = Invitation.objects.count()
    assert client.post(url, {"email": "a@example.org"}).status_code == 302
    assert_too_many(client.post(url, {"email": "b@example.org"}))
    assert Invitation.objects.count() == before + 1
    assert not OutboundEmail.objects.filter(to="b@example.org").exists()


def poc(name="poc.txt", size=10):
    return SimpleUploadedFile(name, b"x" * size)


def test_a_report_holds_a_limited_number_of_attachments(
    client, report, reporter, settings, private_storage
):
    settings.ATTACHMENTS_PER_REPORT = 2
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/attachments/"
    assert client.post(url, {"attachments": [poc("a.txt"), poc("b.txt")]}).status_code == 302
    response = client.post(url, {"attachments": [poc("c.txt")]}, follow=True)
    assert "A report holds at most 2 attachments; nothing was uploaded." in (
        response.content.decode()
    )
    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["a.txt", "b.txt"]
    assert len(list(private_storage.rglob("*.txt"))) == 2  # nothing written for c.txt


def test_each_person_has_a_storage_quota(client, project, report, reporter, settings):
    settings.ATTACHMENT_QUOTA_BYTES = 25
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/attachments/"
    assert client.post(url, {"attachments": [poc(size=20)]}).status_code == 302
    response = client.post(url, {"attachments": [poc(size=10)]}, follow=True)
    assert "would exceed your storage quota of 25" in response.content.decode()
    assert Attachment.objects.count() == 1
    # Someone else's uploads do not count against the reporter, nor the reporter's against them.
    other = UserFactory()
    client.sign_in(other)
    data = {
        "title": "Mine",
        "description": "d",
        "steps_to_reproduce": "s",
        "credit-display": "anonymous",
        "attachments": [poc()],
    }
    assert client.post("/projects/acme/report/", data).status_code == 302
    assert Attachment.objects.filter(uploaded_by=other).count() == 1
