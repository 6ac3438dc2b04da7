"""The emails of one sweep, byte for byte: a mixed batch (every reminder kind of both planners,
every audience) against tests/reports/sweep_emails.json, the outbox rows the sweep wrote before
its templates were rendered once per batch (issue 15). Any change to what a reminder says shows
here first; a wanted one is recorded with

    SWEEP_EMAILS_RECORD=1 .venv/bin/python -m pytest tests/reports/test_sweep_emails.py

and the diff of the JSON file reviewed like code.

The batch: a Stalwart report (title full of characters HTML escapes) with every SLA and
disclosure-date reminder due, its reporter holding an OpenPGP key and a collaborator; a second
Stalwart report paused for information (nudge, closure warning, automatic closure) whose reporter
has left (no account: no reply address); a report of a project with only a triager (the
disclosure dates go to its security contact as content-free notices, the escalation to a backup
address that is also the triager's). Everything that depends on database ids (references, reply
addresses, Message-IDs, dedup keys) is named before comparing, so the record holds on SQLite and
PostgreSQL and in any test order.
"""

import datetime as dt
import email
import email.policy
import io
import json
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

import mailer.outbox
from advisories.reminders import Kind as DisclosureKind
from mailer import openpgp
from mailer.models import OutboundEmail, reference
from mailer.replies import reply_address
from projects.models import Membership, Project
from reports import services, sweep
from reports.models import Reminder, Report
from reports.reminders import Kind
from tests.factories import MembershipFactory, PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.mailer.test_openpgp import decrypt_as, fixture
from tests.reports.conftest import share

pytestmark = pytest.mark.django_db

RECORD = Path(__file__).with_name("sweep_emails.json")
T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
SWEPT_AT = T0 + dt.timedelta(days=120)  # every reminder planned above is due by then
TITLE = """Relay <script>alert("x")</script> & 'quoted' "smuggling\""""
FIELDS = {
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x"],
    "affected_components": "smtp-inbound",
    "description": "The relay accepts a bare LF.",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}
ROWS = ("about", "dedup_key", "to", "subject", "reply_to", "in_reply_to", "references")


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://disclosure.example"
    settings.SITE_NAME = "Disclosure <Example> & Co"
    settings.INBOX_REPLY_ADDRESS = "reply@disclosure.example"
    settings.REMINDER_LEAD_FRACTION = 0.25
    settings.REMINDER_BATCH_SIZE = 500  # one batch: threading inside a batch is what is recorded


@pytest.fixture
def world(site, db):
    """The three reports, filed at T0; returns the names of everything ids depend on."""
    call_command("seed_projects", stdout=io.StringIO())
    stalwart = Project.objects.get(slug="stalwart")
    stalwart.revisions.update(needs_info_close_days=30)
    people = {
        role: MembershipFactory(
            project=stalwart, role=role, user=UserFactory(email=f"{role}@stalw.example")
        ).user
        for role in Membership.Role.values
    }
    people["reporter"] = UserFactory(email="reporter@example.org")
    people["helper"] = UserFactory(email="helper@example.org")
    people["leaver"] = UserFactory(email="leaver@example.org")
    acme = ProjectFactory(
        slug="acme",
        name="O'Reilly & <Sons>",
        tracking_prefix="ACME",
        security_email="security@acme.example",
        backup_email="triage@acme.example",
        backup_after_hours=48,
    )
    PolicyRevisionFactory(project=acme, resolve_days=90, update_days=14)
    people["acme_triager"] = MembershipFactory(
        project=acme, role=Membership.Role.TRIAGER, user=UserFactory(email="triage@acme.example")
    ).user
    openpgp.set_key(user=people["helper"], armored=fixture("reporter.pub.asc"))

    with time_machine.travel(T0, tick=False) as clock:
        reports = {
            "every_kind": services.file_report(
                project=stalwart, reporter=people["reporter"], fields={**FIELDS, "title": TITLE}
            ),
            "needs_info": services.file_report(
                project=stalwart,
                reporter=people["leaver"],
                fields={**FIELDS, "title": "Open relay & friends"},
            ),
            "contact": services.file_report(
                project=acme, reporter=people["reporter"], fields={**FIELDS, "title": "<b>bold</b>"}
            ),
        }
        share(reports["every_kind"], by=people["reporter"], with_user=people["helper"])
        share(reports["needs_info"], by=people["leaver"], with_user=people["helper"])
        clock.move_to(T0 + dt.timedelta(hours=1))
        services.transition(
            report=Report.objects.get(pk=reports["needs_info"].pk),
            by=people["maintainer"],
            name="request_info",
            message="Which relay configuration do you run?",
        )
    get_user_model().objects.filter(pk=people["leaver"].pk).update(is_active=False)
    return reports, people


def names(reports, people):
    """{text that depends on ids: its name}, longest first (an id inside a longer one)."""
    found = {}
    for report_name, report in reports.items():
        about = reference(report)
        found[about] = f"{{{report_name}}}"
        for person, user in people.items():
            found[reply_address(about, user.pk)] = f"{{reply {report_name} {person}}}"
            found[reply_address(about, user.pk, internal=True)] = (
                f"{{internal {report_name} {person}}}"
            )
    for reminder in Reminder.objects.select_related("report"):
        report_name = next(n for n, r in reports.items() if r.pk == reminder.report_id)
        found[f"reports.reminder:{reminder.pk}:"] = (
            f"reports.reminder:{{{report_name} {reminder.kind}}}:"
        )
    for ordinal, email_id in enumerate(OutboundEmail.objects.order_by("pk").values_list("pk")):
        found[mailer.outbox.message_id(OutboundEmail(pk=email_id[0]))] = f"<outbound #{ordinal}>"
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def named(value, replacements):
    if not value:
        return value
    pattern = re.compile("|".join(re.escape(text) for text in replacements))
    return pattern.sub(lambda match: replacements[match[0]], value)


def recorded(rows, replacements):
    entries = [
        {
            **{field: named(getattr(row, field) or "", replacements) for field in ROWS},
            "body": named(row.body, replacements),
            "html": named(row.html, replacements),
        }
        for row in rows
    ]
    return sorted(entries, key=lambda entry: (entry["dedup_key"], entry["to"], entry["subject"]))


def test_the_emails_of_a_mixed_batch_are_what_they_were(world, mailoutbox):
    reports, people = world
    before = set(OutboundEmail.objects.values_list("pk", flat=True))
    due = Reminder.objects.filter(sent_at__isnull=True, send_at__lte=SWEPT_AT).count()
    with time_machine.travel(SWEPT_AT, tick=False):
        assert sweep.sweep() == due
    rows = list(OutboundEmail.objects.exclude(pk__in=before))
    entries = recorded(rows, names(reports, people))

    # The batch is as mixed as it claims: every kind of both planners, and every audience.
    kinds = {
        re.match(r"reports\.reminder:\{\w+ (\w+)\}", entry["dedup_key"])[1]
        for entry in entries
        if entry["dedup_key"].startswith("reports.reminder:")
    }
    assert kinds == {*Kind.values, *DisclosureKind.values} - {Kind.INFO_AUTO_CLOSE}
    assert Report.objects.get(pk=reports["needs_info"].pk).state == "withdrawn"  # auto closure
    addressees = {entry["to"] for entry in entries}
    assert {"hello@stalw.art", "security@acme.example", "triage@acme.example"} <= addressees
    assert {"helper@example.org", "leaver@example.org"} <= addressees
    assert any(entry["in_reply_to"] for entry in entries)
    assert any(not entry["reply_to"] for entry in entries if entry["to"] == "leaver@example.org")

    if os.environ.get("SWEEP_EMAILS_RECORD"):
        RECORD.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
    assert entries == json.loads(RECORD.read_text())

    # Delivery of these rows: the headers they name, the text and HTML recorded, and the
    # collaborator's mail encrypted to their key (PGP/MIME: only the key's holder reads it).
    mailer.outbox.deliver_pending()
    delivered = {message.extra_headers["Message-ID"]: message for message in mailoutbox}
    encrypted = []
    for row in rows:
        message = delivered[mailer.outbox.message_id(row)]
        assert (message.subject, message.to, message.reply_to) == (
            row.subject,
            [row.to],
            [row.reply_to] if row.reply_to else [],
        )
        assert message.extra_headers == mailer.outbox.headers(row)
        if row.to == "helper@example.org":
            assert message.message().get_content_type() == "multipart/encrypted"
            encrypted.append((row, message))
            continue
        assert message.message().get_content_type() == "multipart/alternative"
        assert (message.body, message.alternatives[0][0]) == (row.body, row.html)
    row, message = next(pair for pair in encrypted if pair[0].dedup_key.startswith("reports.rem"))
    _, payload = message.message().get_payload()
    inner = email.message_from_bytes(
        decrypt_as("reporter.sec.asc", payload.get_payload()), policy=email.policy.default
    )
    text, html = inner.get_payload()
    wire = (text.get_content(), html.get_content())
    assert tuple(part.replace("\r\n", "\n") for part in wire) == (row.body, row.html)
