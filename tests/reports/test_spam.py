"""Marking a report as spam closes it and blocks its reporter's address for the project; the
project's admins lift the block in the admin (issue 13, part 5).

The reporter is told only what any spam closure says; the members see the block on the report
page; the blocked address cannot file to that project by the web form (the email gateway asks
inbox.limits, tested in tests/inbox/test_limits.py), and still can to any other.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from mailer.models import OutboundEmail
from reports import selectors, services
from reports.models import Attachment, BlockedSender, Report, ReportEvent, State
from tests.factories import MembershipFactory, PolicyRevisionFactory, UserFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

CONFIRM = {"confirm": "on"}


def spam_url(report):
    return f"/reports/{report.tracking_id}/spam/"


def page_of(client, report):
    return client.get(f"/reports/{report.tracking_id}/").content.decode()


def messages_of(response):
    """What the post answered (signing in leaves its own message before it)."""
    return [str(m) for m in response.context["messages"] if "signed in" not in str(m)]


def intake(client, project, **extra):
    data = {
        "title": "Header injection",
        "description": "The header parser lets CRLF through.",
        "steps_to_reproduce": "Send a header with CRLF.",
        "credit-display": "anonymous",
        **extra,
    }
    return client.post(f"/projects/{project.slug}/report/", data, follow=True)


# --- Marking as spam ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["triager", "maintainer", "project_admin", "superuser"])
def test_a_member_who_may_close_marks_spam_closing_it_and_blocking_the_sender(
    client, cast, report, who, django_capture_on_commit_callbacks
):
    client.sign_in(cast[who])
    before = set(report.events.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(spam_url(report), CONFIRM, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        f"Closed as spam: {cast['reporter'].email} can no longer report to this project. The "
        "reporter is told only that the report was closed as spam."
    ]
    report.refresh_from_db()
    assert report.state == State.SPAM
    assert report.resolution_reason == services.SPAM_CLOSURE_MESSAGE
    # One audit event: the closure, through the transition machinery.
    (event,) = ReportEvent.objects.filter(report=report).exclude(pk__in=before)
    assert (event.kind, event.actor, event.from_state, event.to_state) == (
        "transition",
        cast[who],
        "new",
        "spam",
    )
    block = BlockedSender.objects.get()
    assert (block.project, block.email, block.report, block.blocked_by) == (
        report.project,
        cast["reporter"].email.lower(),
        report,
        cast[who],
    )


def test_the_reporter_side_is_told_of_a_spam_closure_and_nothing_of_the_block(
    client, cast, report, django_capture_on_commit_callbacks, mailoutbox
):
    client.sign_in(cast["triager"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(spam_url(report), CONFIRM, follow=True)  # the triager reads the answer
    to_reporter_side = [
        m for m in mailoutbox if {cast["reporter"].email, cast["collaborator"].email} & set(m.to)
    ]
    assert {tuple(m.to) for m in to_reporter_side} == {
        (cast["reporter"].email,),
        (cast["collaborator"].email,),
    }
    for message in to_reporter_side:
        assert message.subject == f"[{report.tracking_id}] Closed as spam"
        assert services.SPAM_CLOSURE_MESSAGE in message.body
        assert "block" not in message.body.lower()
    for who in ("reporter", "collaborator"):
        client.sign_in(cast[who])
        body = page_of(client, report)
        assert "Closed: spam" in body
        assert "Sender blocked" not in body
        assert "can no longer report" not in body
        assert "Mark as spam" not in body


def test_members_see_that_the_sender_is_blocked(client, cast, report):
    services.mark_spam(report=report, by=cast["triager"])
    for who in ("triager", "maintainer", "project_admin"):
        client.sign_in(cast[who])
        body = page_of(client, report)
        assert "Sender blocked." in body, who
        assert f"{cast['reporter'].email} can no longer report to {report.project.name}" in body


def test_the_button_is_offered_to_members_while_the_report_may_be_closed(client, cast, report):
    client.sign_in(cast["triager"])
    body = page_of(client, report)
    assert "Mark as spam" in body
    assert "Sender blocked." not in body
    services.transition(
        report=report, by=cast["triager"], name="close", message="No.", resolution="informative"
    )
    assert "Mark as spam" not in page_of(client, report)


@pytest.mark.parametrize(
    ("who", "status"),
    [("reporter", 403), ("collaborator", 403), ("other_member", 404), ("stranger", 404)],
)
def test_nobody_else_marks_spam(client, cast, report, who, status):
    client.sign_in(cast[who])
    assert client.post(spam_url(report), CONFIRM).status_code == status
    report.refresh_from_db()
    assert report.state == State.NEW
    assert not BlockedSender.objects.exists()


def test_marking_spam_needs_a_post_and_the_confirmation(client, cast, report):
    client.sign_in(cast["triager"])
    assert client.get(spam_url(report)).status_code == 405
    response = client.post(spam_url(report), {}, follow=True)
    assert messages_of(response) == ["Tick the box to confirm: the reporter's address is blocked."]
    report.refresh_from_db()
    assert report.state == State.NEW
    assert not BlockedSender.objects.exists()


def test_a_closed_report_is_not_marked_and_nothing_is_blocked(client, cast, report):
    services.transition(
        report=report, by=cast["triager"], name="close", message="No.", resolution="informative"
    )
    client.sign_in(cast["triager"])
    response = client.post(spam_url(report), CONFIRM, follow=True)
    assert messages_of(response) == ["Cannot close: the report is closed: informative."]
    assert Report.objects.get(pk=report.pk).state == State.INFORMATIVE
    assert not BlockedSender.objects.exists()


def test_a_second_spam_of_the_same_sender_keeps_the_first_block(cast, project, report):
    second = file(cast["reporter"], project)  # filed before the first was marked
    services.mark_spam(report=report, by=cast["triager"])
    services.mark_spam(report=second, by=cast["maintainer"])
    block = BlockedSender.objects.get()
    assert (block.report, block.blocked_by) == (report, cast["triager"])


# --- The web intake of a blocked sender ---------------------------------------------------------


def test_a_blocked_sender_cannot_file_to_that_project_and_nothing_is_stored(
    client, cast, project, report
):
    services.mark_spam(report=report, by=cast["triager"])
    reports_before = Report.objects.count()
    client.sign_in(cast["reporter"])
    upload = SimpleUploadedFile("poc.py", b"print('pwned')\n", content_type="text/x-python")
    response = intake(client, project, attachments=upload)
    assert response.status_code == 200
    assert (
        f"Acme does not accept reports from {cast['reporter'].email}. Nothing was stored."
        in response.content.decode()
    )
    assert Report.objects.count() == reports_before
    assert not Attachment.objects.exists()


def test_a_sender_blocked_by_one_project_still_reports_to_another(
    client, cast, project, other_project, report
):
    PolicyRevisionFactory(project=other_project)
    services.mark_spam(report=report, by=cast["triager"])
    client.sign_in(cast["reporter"])
    response = intake(client, other_project)
    assert response.redirect_chain[-1][0].startswith("/reports/OTH-")
    assert Report.objects.filter(project=other_project, reporter=cast["reporter"]).exists()


def test_the_block_holds_whatever_the_case_of_the_address(project):
    BlockedSender.objects.create(
        project=project, email="spammer@example.org", created_at="2026-01-01T00:00Z"
    )
    assert selectors.sender_blocked(project, " Spammer@Example.ORG ")
    shouting = UserFactory(email="SPAMMER@example.org")
    with pytest.raises(services.ReportError, match="does not accept reports"):
        file(shouting, project)


# --- Unblocking ---------------------------------------------------------------------------------


def test_unblocking_takes_reports_again_and_leaves_an_internal_event(cast, project, report):
    services.mark_spam(report=report, by=cast["triager"])
    OutboundEmail.objects.all().delete()
    services.unblock_sender(project=project, email=cast["reporter"].email, by=cast["project_admin"])
    assert not BlockedSender.objects.exists()
    event = report.events.order_by("pk").last()
    assert (event.kind, event.actor, event.public) == (
        "sender_unblocked",
        cast["project_admin"],
        False,
    )
    assert not OutboundEmail.objects.exists()  # nobody is emailed about it
    assert file(cast["reporter"], project).state == State.NEW


def test_unblocking_an_address_that_is_not_blocked_is_an_error(cast, project):
    with pytest.raises(services.ReportError, match="is not blocked for Acme"):
        services.unblock_sender(project=project, email="nobody@example.org", by=cast["superuser"])


# --- The admin ----------------------------------------------------------------------------------

CHANGELIST = "/admin/reports/blockedsender/"


def staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.all())
    return user


@pytest.fixture
def blocks(cast, project, other_project, report):
    """The cast's reporter blocked by Acme, and a spammer blocked by Other."""
    PolicyRevisionFactory(project=other_project)
    services.mark_spam(report=report, by=cast["triager"])
    other_admin = MembershipFactory(project=other_project, role="admin").user
    spammer = UserFactory(email="spammer@example.org")
    services.mark_spam(report=file(spammer, other_project), by=other_admin)
    return BlockedSender.objects.get(project=project), BlockedSender.objects.get(
        project=other_project
    )


def listed(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    return {row.email for row in response.context["cl"].result_list}


def offered(client):
    form = client.get(CHANGELIST).context["action_form"]
    return set() if form is None else {value for value, _ in form.fields["action"].choices}


def unblock(client, *rows):
    return client.post(
        CHANGELIST, {"action": "unblock", "_selected_action": [row.pk for row in rows]}
    )


def test_staff_see_the_blocks_of_their_projects_only(client, cast, blocks):
    ours, theirs = blocks
    for who in ("triager", "project_admin"):
        client.sign_in(staff(cast[who]))
        assert listed(client) == {ours.email}, who
        assert client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code in {302, 403, 404}
    client.sign_in(cast["superuser"])
    assert listed(client) == {ours.email, theirs.email}


def test_the_projects_admin_unblocks_through_the_service(client, cast, blocks):
    ours, theirs = blocks
    client.sign_in(staff(cast["project_admin"]))
    assert "unblock" in offered(client)
    assert unblock(client, ours).status_code == 302
    assert list(BlockedSender.objects.all()) == [theirs]
    event = ours.report.events.order_by("pk").last()
    assert (event.kind, event.actor) == ("sender_unblocked", cast["project_admin"])


def test_below_admin_the_unblock_action_is_neither_offered_nor_taken(client, cast, blocks):
    ours, _ = blocks
    for who in ("triager", "maintainer"):
        client.sign_in(staff(cast[who]))
        assert "unblock" not in offered(client), who
        unblock(client, ours)  # crafted: the admin knows no such action for them
        assert BlockedSender.objects.filter(pk=ours.pk).exists(), who


def test_an_admin_of_one_project_cannot_unblock_for_another(client, cast, blocks):
    ours, theirs = blocks
    client.sign_in(staff(cast["project_admin"]))
    unblock(client, theirs)
    assert BlockedSender.objects.filter(pk=theirs.pk).exists()
    # Each row is checked: as a maintainer of Other they see its block, and still may not lift it.
    MembershipFactory(project=theirs.project, user=cast["project_admin"], role="maintainer")
    unblock(client, ours, theirs)
    assert list(BlockedSender.objects.all()) == [theirs]


def test_the_reports_admin_marks_spam_with_the_sites_rule_and_service(client, cast, project):
    spam, kept = file(cast["stranger"], project), file(cast["reporter"], project)
    reports = "/admin/reports/report/"
    client.sign_in(staff(cast["triager"]))
    page = client.post(reports, {"action": "mark_spam", "_selected_action": [spam.pk]})
    assert "Close as spam and block the reporter&#x27;s address" in page.content.decode()
    unconfirmed = {"action": "mark_spam", "_selected_action": [spam.pk], "apply": "yes"}
    client.post(reports, unconfirmed)
    assert not BlockedSender.objects.exists()
    client.post(reports, {**unconfirmed, **CONFIRM})
    assert Report.objects.get(pk=spam.pk).state == State.SPAM
    assert list(BlockedSender.objects.values_list("email", flat=True)) == [cast["stranger"].email]
    assert Report.objects.get(pk=kept.pk).state == State.NEW
