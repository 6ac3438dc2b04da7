import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.utils import timezone

from reports import services
from reports.models import Invitation, Report, ReportEvent
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db


def test_download_is_an_attachment_that_is_never_sniffed(client, report, collaborator, poc_file):
    services.add_attachments(report=report, by=collaborator, files=[poc_file])
    attachment = report.attachments.get()
    client.sign_in(collaborator)
    response = client.get(f"/reports/{report.tracking_id}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="poc.py"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"print('pwned')\n"


def test_attachment_of_another_report_answers_404(client, report, project, reporter, poc_file):
    other = file(reporter, project)
    services.add_attachments(report=other, by=reporter, files=[poc_file])
    attachment = other.attachments.get()
    client.sign_in(reporter)
    # Visible report, but the attachment id belongs to another one: tampered URL.
    url = f"/reports/{report.tracking_id}/attachments/{attachment.pk}/"
    assert client.get(url).status_code == 404


def test_attachments_have_no_public_url(report, reporter, poc_file):
    services.add_attachments(report=report, by=reporter, files=[poc_file])
    with pytest.raises(ValueError, match="no public URL"):
        report.attachments.get().file.url  # noqa: B018


def test_upload_limits_apply_after_intake_too(client, report, reporter, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 10
    client.sign_in(reporter)
    response = client.post(
        f"/reports/{report.tracking_id}/attachments/",
        {"attachments": [SimpleUploadedFile("big.bin", b"x" * 11)]},
        follow=True,
    )
    assert "big.bin is larger than" in response.content.decode()
    assert report.attachments.count() == 0


def test_an_upload_without_a_file_is_refused(client, report, reporter):
    """The upload form's field is required: posting it empty records no "attachment" event."""
    client.sign_in(reporter)
    events = report.events.count()
    response = client.post(f"/reports/{report.tracking_id}/attachments/", {}, follow=True)
    assert "This field is required." in response.content.decode()
    assert report.events.count() == events
    assert report.attachments.count() == 0


def accept_link(mailoutbox, address):
    message = next(m for m in reversed(mailoutbox) if m.to == [address])
    return re.search(r"https?://[^/]+(/reports/invitations/[^/\s]+/)", message.body).group(1)


def test_reporter_invites_an_existing_account(
    client, project, reporter, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    report = file(reporter, project)
    client.sign_in(stranger)
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404
    client.sign_in(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reports/{report.tracking_id}/collaborators/", {"email": stranger.email})
    client.sign_in(stranger)
    # An account does not let anyone in by itself: the emailed link does, once accepted.
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404
    response = client.post(accept_link(mailoutbox, stranger.email))
    assert response["Location"] == f"/reports/{report.tracking_id}/"
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 200
    assert ReportEvent.objects.filter(report=report, kind="collaborator_added").exists()
    # and removes them again
    client.sign_in(reporter)
    client.post(f"/reports/{report.tracking_id}/collaborators/{stranger.pk}/remove/")
    client.sign_in(stranger)
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404


@pytest.mark.parametrize("owner", ["member", "account", "unverified_account", "nobody"])
def test_inviting_says_the_same_whoever_owns_the_address(
    client, project, reporter, owner, mailoutbox, django_capture_on_commit_callbacks
):
    """The reporter must not learn who the maintainers are or who has an account here."""
    address = "someone@example.org"
    if owner == "member":
        MembershipFactory(project=project, user=UserFactory(email=address))
    elif owner in ("account", "unverified_account"):
        UserFactory(email=address, verified=owner == "account")
    report = file(reporter, project)
    client.sign_in(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/reports/{report.tracking_id}/collaborators/", {"email": address}, follow=True
        )
    page = response.content.decode()
    assert f"An invitation was sent to {address}." in page
    events = list(report.events.exclude(kind="created").values_list("kind", "message"))
    assert events == [("collaborator_invited", address)]
    invitations = [m.subject for m in mailoutbox if m.to == [address] and "Invit" in m.subject]
    assert invitations == [f"[{report.tracking_id}] Invitation to a security report for Acme"]
    assert not services.collaborators(report).exists()


def test_an_invitation_binds_only_a_verified_address(client, project, reporter):
    """An account whose address was never verified cannot take the invitation sent to it."""
    report = file(reporter, project)
    invitation = services.invite_collaborator(
        report=report, by=reporter, email="claimed@example.org"
    )
    squatter = UserFactory(email="claimed@example.org", verified=False)
    client.sign_in(squatter)
    assert client.post(f"/reports/invitations/{invitation.token}/").status_code == 404
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404


def test_invitations_expire(client, project, reporter, stranger, settings):
    settings.INVITATION_MAX_AGE_DAYS = 14
    report = file(reporter, project)
    invitation = services.invite_collaborator(report=report, by=reporter, email=stranger.email)
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime - datetime.timedelta(days=14)) < datetime.timedelta(seconds=1)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    client.sign_in(stranger)
    response = client.post(f"/reports/invitations/{invitation.token}/")
    assert response.status_code == 404
    assert "it may have expired" in response.content.decode()
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404
    # An expired invitation makes way for a new one.
    again = services.invite_collaborator(report=report, by=reporter, email=stranger.email)
    assert client.post(f"/reports/invitations/{again.token}/").status_code == 302


def test_pending_invitations_are_listed_and_revocable(
    client, project, reporter, maintainer, collaborator, stranger
):
    report = file(reporter, project)
    invitation = services.invite_collaborator(report=report, by=reporter, email=stranger.email)
    url = f"/reports/{report.tracking_id}/"
    client.sign_in(maintainer)
    assert "stranger@example.org" in client.get(url).content.decode()
    revoke = f"{url}invitations/{invitation.pk}/revoke/"
    # Who may not manage collaborators may not revoke either (the collaborator is one).
    share(report, by=reporter, with_user=collaborator)
    client.sign_in(collaborator)
    assert client.post(revoke).status_code == 403
    client.sign_in(reporter)
    response = client.post(revoke, follow=True)
    assert "The invitation is revoked" in response.content.decode()
    assert revoke not in client.get(url).content.decode()
    assert services.pending_invitations(report) == []
    event = report.events.latest("pk")
    assert (event.kind, event.message) == ("invitation_revoked", "stranger@example.org")
    client.sign_in(stranger)
    assert client.post(f"/reports/invitations/{invitation.token}/").status_code == 404
    assert client.get(url).status_code == 404
    client.sign_in(reporter)
    assert client.post(revoke).status_code == 404  # once


def test_a_removed_collaborator_cannot_come_back_with_an_old_link(
    client, project, reporter, stranger
):
    """Removed while a second invitation (say, to another address of theirs) was still open:
    removing them revokes it.
    """
    report = file(reporter, project)
    first = services.invite_collaborator(report=report, by=reporter, email=stranger.email)
    EmailAddress.objects.create(user=stranger, email="alias@example.org", verified=True)
    second = services.invite_collaborator(report=report, by=reporter, email="alias@example.org")
    services.accept_invitation(token=first.token, user=stranger)
    services.remove_collaborator(report=report, by=reporter, user_id=stranger.pk)
    client.sign_in(stranger)
    for token in (first.token, second.token):
        assert client.post(f"/reports/invitations/{token}/").status_code == 404
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404


def test_invitation_of_a_new_address_is_accepted_after_sign_up(
    client, project, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    report = file(reporter, project)
    client.sign_in(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reports/{report.tracking_id}/collaborators/", {"email": "New@Example.org"})
    invitation = Invitation.objects.get()
    assert invitation.email == "new@example.org"
    email = next(m for m in mailoutbox if m.to == ["new@example.org"])
    assert email.subject == f"[{report.tracking_id}] Invitation to a security report for Acme"
    accept_path = re.search(r"https?://[^/]+(/reports/invitations/[^/\s]+/)", email.body).group(1)
    assert report.title not in email.body  # nothing of the report before sign-up

    newcomer = UserFactory(email="new@example.org", verified=False)
    client.sign_in(newcomer)
    client.post(accept_path)
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404  # unverified address
    EmailAddress.objects.create(user=newcomer, email="new@example.org", verified=True, primary=True)
    response = client.post(accept_path)
    assert response["Location"] == f"/reports/{report.tracking_id}/"
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 200
    # The link works once.
    assert client.post(accept_path).status_code == 404


def test_invitation_link_is_useless_to_another_account(client, project, reporter, stranger):
    report = file(reporter, project)
    services.invite_collaborator(report=report, by=reporter, email="someone@example.org")
    token = Invitation.objects.get().token
    client.sign_in(stranger)
    assert client.post(f"/reports/invitations/{token}/").status_code == 404
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404


def test_removing_someone_who_is_not_a_collaborator_is_404(client, report, reporter, stranger):
    client.sign_in(reporter)
    url = f"/reports/{report.tracking_id}/collaborators/{stranger.pk}/remove/"
    assert client.post(url).status_code == 404


def test_duplicate_of_another_projects_report_is_refused(
    client, report, maintainer, other_project, reporter
):
    from tests.factories import PolicyRevisionFactory

    PolicyRevisionFactory(project=other_project)
    foreign = file(reporter, other_project)
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/transitions/close/",
        {"resolution": "duplicate", "message": "Dup.", "duplicate_of": foreign.tracking_id},
        follow=True,
    )
    assert "No other report of this project has that tracking ID." in response.content.decode()
    report.refresh_from_db()
    assert report.state == "new"


def test_reporter_sees_a_duplicate_closure_reason_but_not_the_original(
    client, report, maintainer, reporter, project, stranger
):
    original = file(stranger, project)
    services.transition(
        report=report,
        by=maintainer,
        name="close",
        resolution="duplicate",
        message="Already reported in January.",
        duplicate_of=original,
    )
    client.sign_in(reporter)
    body = client.get(f"/reports/{report.tracking_id}/").content.decode()
    assert "Already reported in January." in body
    assert "Duplicate of an earlier report." in body
    assert original.tracking_id not in body
    client.sign_in(maintainer)
    assert original.tracking_id in client.get(f"/reports/{report.tracking_id}/").content.decode()


def staff_member(project):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_report", "change_report", "view_comment", "view_reportevent"]
        )
    )
    if project is not None:
        MembershipFactory(user=staff, project=project)
    return staff


def test_admin_shows_staff_only_their_projects_reports(client, report, other_project, reporter):
    from tests.factories import PolicyRevisionFactory

    PolicyRevisionFactory(project=other_project)
    foreign = file(reporter, other_project)
    services.add_comment(
        report=foreign, by=reporter, body="foreign-note", internal=False, by_member=False
    )
    client.sign_in(staff_member(report.project))
    body = client.get("/admin/reports/report/").content.decode()
    assert report.tracking_id in body
    assert foreign.tracking_id not in body
    assert client.get(f"/admin/reports/report/{foreign.pk}/change/").status_code == 302
    assert "foreign-note" not in client.get("/admin/reports/comment/").content.decode()

    client.sign_in(staff_member(None))
    assert report.tracking_id not in client.get("/admin/reports/report/").content.decode()


def test_audit_trail_is_read_only_in_the_admin(client, report, superuser):
    event = ReportEvent.objects.filter(report=report).first()
    client.sign_in(superuser)
    assert client.get(f"/admin/reports/reportevent/{event.pk}/change/").status_code == 200
    response = client.post(f"/admin/reports/reportevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ReportEvent.objects.filter(pk=event.pk).exists()
    assert client.get("/admin/reports/reportevent/add/").status_code == 403


def test_admin_acknowledge_action_goes_through_the_service(client, report, superuser):
    client.sign_in(superuser)
    client.post(
        "/admin/reports/report/",
        {"action": "acknowledge", "_selected_action": [report.pk], "apply": "yes"},
    )
    report = Report.objects.get(pk=report.pk)
    assert report.state == "acknowledged"
    assert report.ack_due is None
    assert ReportEvent.objects.filter(report=report, to_state="acknowledged").exists()
