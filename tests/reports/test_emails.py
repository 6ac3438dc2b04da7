"""Notification emails (reports.emails): their shape, who receives what, and the outbox.

Every email is written to the outbox (OutboundEmail) and delivered by the deliver_outbox task;
tests run tasks in-process (tests/conftest.py) and on-commit work runs inside
django_capture_on_commit_callbacks(execute=True), so what a real commit would send lands in
mailoutbox.
"""

import datetime as dt
import re

import pytest
from django.db import transaction

from mailer import tasks
from mailer.models import OutboundEmail
from reports import emails, services, sweep
from reports.models import Report, ReportEvent
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

SITE = "https://disclosure.example.org"
MESSAGE_ID = re.compile(r"<outbound-(\d+)@disclosure\.example\.org>")
SENTINEL = "SENTINEL-internal-4b1d"
NEWCOMER = "newcomer@example.org"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


def texts(message):
    return [message.subject, message.body, *(content for content, _ in message.alternatives)]


def check_email(message, report):
    """The shape every notification has; returns the subject without the tracking ID."""
    prefix = f"[{report.tracking_id}] "
    assert message.subject.startswith(prefix), message.subject
    url = f"{SITE}/reports/{report.tracking_id}/"
    assert message.body.strip()
    assert url in message.body
    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert html.lstrip().startswith("<!doctype html>")
    assert f'href="{url}"' in html
    header = message.extra_headers["Message-ID"]
    assert MESSAGE_ID.fullmatch(header), header
    assert message.message()["Message-ID"] == header  # the header actually sent
    (to,) = message.to
    row = OutboundEmail.objects.get(pk=int(MESSAGE_ID.fullmatch(header)[1]))
    assert (row.to, row.subject, row.about) == (to, message.subject, f"reports.report:{report.pk}")
    assert row.body == message.body
    assert row.sent_at is not None
    return message.subject.removeprefix(prefix)


def received(mailoutbox, report):
    """{(recipient, subject without the tracking ID)} of everything sent, each checked."""
    return {(m.to[0], check_email(m, report)) for m in mailoutbox}


# --- Every notification -------------------------------------------------------------------------


def test_report_received_and_new_report(
    project, reporter, maintainer, triager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = file(reporter, project)
    assert received(mailoutbox, report) == {
        (reporter.email, "Report received"),
        (maintainer.email, "New report for Acme"),
        (triager.email, "New report for Acme"),
    }


def test_state_change(
    report, reporter, collaborator, maintainer, triager, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(report=report, by=triager, name="acknowledge", message="Got it.")
    # Everyone who follows the report except the one who acted.
    subject = "Acknowledged by the Acme security team"
    assert received(mailoutbox, report) == {
        (reporter.email, subject),
        (collaborator.email, subject),
        (maintainer.email, subject),
    }
    assert all("Got it." in m.body for m in mailoutbox)


def test_public_comment(
    report, reporter, collaborator, maintainer, triager, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(
            report=report, by=maintainer, body="We reproduced it.", internal=False, by_member=True
        )
    assert received(mailoutbox, report) == {
        (reporter.email, "New comment from the Acme security team"),
        (collaborator.email, "New comment from the Acme security team"),
        (triager.email, "New comment from the Acme security team"),
    }
    assert all("We reproduced it." in m.body for m in mailoutbox)


def test_collaborator_invited_then_added(
    report, reporter, collaborator, maintainer, triager, stranger, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_collaborator(report=report, by=reporter, email=stranger.email)
    # An invitation, whoever owns the address; the event goes to everyone else who follows the
    # report (not to the reporter, who invited).
    assert received(mailoutbox, report) == {
        (stranger.email, "Invitation to a security report for Acme"),
        (collaborator.email, f"{stranger.email} was invited to follow the report"),
        (maintainer.email, f"{stranger.email} was invited to follow the report"),
        (triager.email, f"{stranger.email} was invited to follow the report"),
    }
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_invitation(token=invitation.token, user=stranger)
    assert received(mailoutbox, report) == {
        (stranger.email, "You were added to a report"),
        (reporter.email, f"{stranger.email} was added to the report"),
        (collaborator.email, f"{stranger.email} was added to the report"),
        (maintainer.email, f"{stranger.email} was added to the report"),
        (triager.email, f"{stranger.email} was added to the report"),
    }


def test_invitation(report, reporter, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_collaborator(report=report, by=reporter, email=NEWCOMER)
    invitation = next(m for m in mailoutbox if m.to == [NEWCOMER] and "Invitation" in m.subject)
    assert check_email(invitation, report) == "Invitation to a security report for Acme"
    token = report.invitations.get(email=NEWCOMER).token
    assert f"{SITE}/reports/invitations/{token}/" in invitation.body
    assert f"{SITE}/accounts/signup/" in invitation.body
    for message in mailoutbox:
        check_email(message, report)


def test_sla_reminders_to_members(
    report, maintainer, triager, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    # Acme promises acknowledgment within 24 h: warned 6 h before, then overdue.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.sweep(now=report.created_at + (report.ack_due - report.created_at) * 1.1)
    assert received(mailoutbox, report) == {
        (maintainer.email, "Acknowledgment due soon"),
        (triager.email, "Acknowledgment due soon"),
        (maintainer.email, "Acknowledgment overdue"),
        (triager.email, "Acknowledgment overdue"),
    }
    assert {m.to[0] for m in mailoutbox}.isdisjoint({reporter.email})


def test_reminder_to_the_reporter_side(
    report, triager, reporter, collaborator, mailoutbox, django_capture_on_commit_callbacks
):
    services.transition(report=report, by=triager, name="request_info", message="Which version?")
    OutboundEmail.objects.all().delete()  # the request's own notification is not under test
    report.refresh_from_db()
    nudge = report.paused_at + dt.timedelta(days=report.revision.needs_info_nudge_days, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.sweep(now=nudge) == 1
    subject = "Reporter reminded of the open question"
    assert received(mailoutbox, report) == {
        (reporter.email, subject),
        (collaborator.email, subject),
    }


# --- Internal content ---------------------------------------------------------------------------


def test_internal_comments_are_emailed_to_members_only(
    report, reporter, collaborator, maintainer, triager, project_admin, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(
            report=report, by=triager, body=f"Between us: {SENTINEL}", internal=True, by_member=True
        )
    assert received(mailoutbox, report) == {
        (maintainer.email, "Internal note"),
        (project_admin.email, "Internal note"),
    }
    for message in mailoutbox:
        assert all(SENTINEL in text for text in texts(message)[1:])


def test_the_reporter_side_never_receives_internal_text(
    report, reporter, collaborator, maintainer, triager, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(
            report=report, by=triager, body=f"Internal {SENTINEL}", internal=True, by_member=True
        )
        services.transition(report=report, by=triager, name="acknowledge", message="Thanks.")
        services.add_comment(
            report=report, by=maintainer, body=f"Also {SENTINEL}", internal=True, by_member=True
        )
        services.add_comment(
            report=report, by=maintainer, body="Public update.", internal=False, by_member=True
        )
        services.add_comment(
            report=report, by=reporter, body="Any news?", internal=False, by_member=False
        )
        event = ReportEvent.objects.create(
            report=report,
            actor=triager,
            kind=ReportEvent.Kind.SEVERITY,
            message=f"Internal event {SENTINEL}",
            public=False,
            created_at=report.created_at,
        )
        emails.event(event)
        services.invite_collaborator(report=report, by=reporter, email=NEWCOMER)
        sweep.sweep(now=report.created_at + (report.ack_due - report.created_at) * 2)
    reporter_side = {reporter.email, collaborator.email, NEWCOMER}
    to_reporter_side = [m for m in mailoutbox if m.to[0] in reporter_side]
    assert {m.to[0] for m in to_reporter_side} == reporter_side
    for message in to_reporter_side:
        check_email(message, report)
        for text in texts(message):
            assert SENTINEL not in text, (message.to, message.subject)
    # The check can fail: the members did get the internal text.
    to_members = [m for m in mailoutbox if m.to[0] not in reporter_side]
    assert any(SENTINEL in text for m in to_members for text in texts(m))


# --- The outbox and the transaction -------------------------------------------------------------


def act_comment(report, cast):
    services.add_comment(
        report=report, by=cast["maintainer"], body="Update.", internal=False, by_member=True
    )


def act_transition(report, cast):
    services.transition(report=report, by=cast["triager"], name="acknowledge")


def act_file(report, cast):
    file(cast["reporter"], report.project, title="Another one")


def act_invite(report, cast):
    services.invite_collaborator(report=report, by=cast["reporter"], email=NEWCOMER)


def act_cvss(report, cast):
    services.set_cvss_vector(
        report=report,
        by=cast["maintainer"],
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )


def act_sweep(report, cast):
    sweep.sweep(now=report.created_at + (report.ack_due - report.created_at) * 2)


def act_and_fail(act, report, cast):
    """The service's work inside a transaction that then fails."""
    with transaction.atomic():
        act(report, cast)
        raise RuntimeError("rolled back")


ACTS = [act_comment, act_transition, act_file, act_invite, act_cvss, act_sweep]


@pytest.fixture
def cast(reporter, collaborator, maintainer, triager):
    return {"reporter": reporter, "maintainer": maintainer, "triager": triager}


@pytest.mark.parametrize("act", ACTS, ids=[a.__name__.removeprefix("act_") for a in ACTS])
def test_nothing_is_emailed_for_work_that_rolled_back(
    report, cast, mailoutbox, django_capture_on_commit_callbacks, act
):
    reports_before = Report.objects.count()
    capture = django_capture_on_commit_callbacks
    with capture(execute=True), pytest.raises(RuntimeError, match="rolled back"):
        act_and_fail(act, report, cast)
    assert Report.objects.count() == reports_before
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []

    # The same work committed does send: the check above can fail.
    with django_capture_on_commit_callbacks(execute=True):
        act(report, cast)
    assert OutboundEmail.objects.exists()
    assert len(mailoutbox) == OutboundEmail.objects.filter(sent_at__isnull=False).count() > 0


def test_delivery_failures_stay_in_the_outbox_with_the_same_message_id(
    report, maintainer, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.reports.test_emails.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        act_comment(report, {"maintainer": maintainer})
    pending = list(OutboundEmail.objects.order_by("pk"))
    assert pending
    assert all(e.sent_at is None and e.attempts == 1 for e in pending)
    assert mailoutbox == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.deliver_outbox.delay().get() == len(pending)
    assert sorted(m.extra_headers["Message-ID"] for m in mailoutbox) == sorted(
        f"<outbound-{e.pk}@disclosure.example.org>" for e in pending
    )


class BrokenBackend:
    """An email backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.parametrize("site_url", [SITE, "https://reports.example.org/STW-2026-0001"])
def test_the_links_of_many_reports_are_each_reports_own(settings, site_url):
    """reports.emails.report_urls (the sweep links thousands of reports at once) gives what
    report_url gives each, tracking IDs that a path quotes and a site URL holding an ID included.
    """
    settings.SITE_URL = site_url
    tracking_ids = ["STW-2026-0001", "STW-2026-0002", "Ä B%1", "ACME-2026-0001", "x~y_z.1"]
    reports = [Report(pk=n, tracking_id=value) for n, value in enumerate(tracking_ids, start=1)]
    urls = emails.report_urls(reports)
    assert urls == {report.pk: emails.report_url(report) for report in reports}
    assert urls[4] == f"{site_url}/reports/ACME-2026-0001/"


def test_a_filings_emails_are_each_what_its_own_rendering_gives(
    project, reporter, maintainer, triager, project_admin, version, monkeypatch
):
    """new_report renders the members' message once and puts each member's reply addresses in
    (outbox.Stencils); every message must be byte for byte what rendering it alone gives."""
    from django.template.loader import render_to_string

    from mailer import outbox

    class RenderingEach:  # the templates rendered for every message, as before stencils
        def render(self, template, *, context, printed):
            full = {**context, **outbox._nested(printed)}
            return tuple(
                render_to_string(f"emails/{template}.{suffix}", full) for suffix in ("txt", "html")
            )

        def filler(self, template, *, context, printed, names):
            def fill(*strings):
                every = {**printed, **dict(zip(names, strings, strict=True))}
                return (*self.render(template, context=context, printed=every), None)

            return fill

    report = file(
        reporter,
        project,
        title="<Heap> & overflow",
        affected_version="2.1",
        affected_versions=["2.x"],
    )
    sent, renders = [], []

    def counted(name, context):
        renders.append(name)
        return render_to_string(name, context)

    monkeypatch.setattr(outbox, "send", sent.append)
    monkeypatch.setattr(outbox, "render_to_string", counted)
    emails.new_report(report)
    for message in sent[0]:  # put together when stored (outbox.Message): here, now
        message.texts()
    # Two renderings (text, HTML) per shape: the acknowledgment, the members' news.
    assert len(renders) == 4
    monkeypatch.setattr(outbox, "Stencils", RenderingEach)
    emails.new_report(report)
    stenciled, each = (
        [(m.to, m.subject, m.body, m.html, m.reply_to) for m in rows] for rows in sent
    )
    assert stenciled == each
    assert len(stenciled) == 4  # the reporter and three members, each with their own address
    assert len({reply_to for *_, reply_to in stenciled}) == 4
    assert all("&lt;Heap&gt; &amp; overflow" in html for _, _, _, html, _ in stenciled)
