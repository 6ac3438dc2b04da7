"""Helpers of the admin tests: staff with every permission, a project's world of objects built
through the services, the form a browser would submit from an admin page, and a database
snapshot to prove that a refused request changed nothing.
"""

import dataclasses
import datetime
import zlib
from html.parser import HTMLParser

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from advisories import services as advisory_services
from advisories.models import ChecklistTemplate
from inbox.models import Mailbox
from mailer.models import InboundEmail
from projects import services as project_services
from projects.models import Membership
from reports import services as report_services
from reports.models import BlockedSender
from tests.factories import (
    MembershipFactory,
    PolicyRevisionFactory,
    SupportedVersionFactory,
    UserFactory,
)
from tests.signin import enroll_totp
from webhooks import services as webhook_services
from webhooks import sweep as webhook_sweep
from webhooks.models import EventType

PHASES = [{"title": "Triage", "tasks": ["Confirm the bug"], "fields": ["Root cause"]}]


def staff_with_every_permission(project, role, **fields):
    """A staff member holding every model permission of the instance and `role` in `project`."""
    staff = UserFactory(is_staff=True, **fields)
    staff.user_permissions.add(*Permission.objects.all())
    if project is not None:
        MembershipFactory(user=staff, project=project, role=role)
    return staff


@dataclasses.dataclass
class World:
    """One project's objects of every kind the admin shows."""

    project: object
    admin: object  # the project's admin (a member with the ADMIN role)
    membership: object
    future_revision: object
    template: object
    report: object
    comment: object
    event: object
    attachment: object
    advisory: object
    proposal: object
    authenticator: object
    email_address: object
    invitation: object  # to join the project, pending
    project_event: object  # the invitation's, in the members' audit trail
    mailbox: object  # the project's IMAP mailbox (instance infrastructure)
    blocked_sender: object  # the author of a report marked as spam
    inbound_email: object  # the reporter's reply by email, a comment
    webhook: object  # the project's webhook (its admins'), and one of its deliveries
    webhook_delivery: object


def build_world(project, *, prefix):
    """A project's admin, an upcoming policy revision with its matrix, an incident checklist
    template, a triaged report with an internal comment, an attachment, an advisory draft
    (with the reporter's credit) and a disclosure proposal, a pending invitation to join the
    project with its audit event, and a sender blocked for a report marked as spam, all made
    through the services.
    """
    admin = UserFactory(email=f"{prefix}-admin@example.org")
    membership = MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    reporter = UserFactory(email=f"{prefix}-reporter@example.org")
    future = PolicyRevisionFactory(
        project=project, effective_from=timezone.localdate() + datetime.timedelta(days=60)
    )
    SupportedVersionFactory(revision=future, series="9.x")
    webhook = webhook_services.create_webhook(
        project=project,
        url=f"https://93.184.215.14/{prefix}",  # a public address: saving resolves nothing
        events=list(EventType.values),
        internal=True,
        by=admin,
    )
    template = ChecklistTemplate.objects.create(project=project, phases=PHASES)
    report = report_services.file_report(
        project=project,
        reporter=reporter,
        fields={
            "title": f"{prefix} heap overflow",
            "description": "The parser overflows.",
            "steps_to_reproduce": "Send a long header.",
        },
    )
    comment = report_services.add_comment(
        report=report, by=admin, body=f"{prefix} internal note", internal=True, by_member=True
    )
    upload = SimpleUploadedFile("poc.py", b"print('pwned')\n", content_type="text/x-python")
    report_services.add_attachments(report=report, by=reporter, files=[upload])
    report_services.transition(
        report=report, by=admin, name="triage", message="Confirmed.", severity="high"
    )
    advisory = advisory_services.draft_advisory(report=report, by=admin)
    proposal = advisory_services.propose_disclosure(
        report=report,
        by=admin,
        date=timezone.localdate() + datetime.timedelta(days=30),
        reason="Release first.",
    )
    invitation = project_services.invite_member(
        project=project, email=f"{prefix}-invitee@example.org", role="triager", by=admin
    )
    mailbox = Mailbox.objects.create(
        project=project, host=f"imap.{prefix}.example.org", username=f"security@{prefix}.example"
    )
    spam = report_services.file_report(
        project=project,
        reporter=UserFactory(email=f"{prefix}-spammer@example.org"),
        fields={"title": "Buy now", "description": "Cheap.", "steps_to_reproduce": "Click."},
    )
    report_services.mark_spam(report=spam, by=admin)
    reply = InboundEmail(
        message_id=f"<{prefix}-reply@example.org>",
        sender=reporter.email,
        outcome=InboundEmail.Outcome.COMMENT,
        size=9,
        raw=zlib.compress(b"Thanks.\r\n"),
        received_at=timezone.now(),
    )
    report_services.add_comment(
        report=report, by=reporter, body="Thanks.", internal=False, by_member=False, received=reply
    )
    enroll_totp(admin)
    report.refresh_from_db()
    webhook_sweep.collect(now=timezone.now())  # its deliveries (none sent)
    return World(
        project=project,
        admin=admin,
        membership=membership,
        future_revision=future,
        template=template,
        report=report,
        comment=comment,
        event=report.events.order_by("pk").last(),
        attachment=report.attachments.get(),
        advisory=advisory,
        proposal=proposal,
        authenticator=admin.authenticator_set.get(),
        email_address=admin.emailaddress_set.get(),
        invitation=invitation,
        project_event=project.events.get(kind="invited"),
        mailbox=mailbox,
        blocked_sender=BlockedSender.objects.get(project=project),
        inbound_email=reply,
        webhook=webhook,
        webhook_delivery=webhook.deliveries.order_by("pk").first(),
    )


# --- What a browser submits ---------------------------------------------------------------------


class _FormParser(HTMLParser):
    """The successful controls of the admin's form (<form id="..._form">) as a browser would
    submit them: checked boxes only, selected options (the first when none is), no buttons,
    files or disabled controls.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data = {}
        self.in_form = False
        self.textarea = None
        self.select = None

    def add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("id") or "").endswith("_form"):
            self.in_form = True
        if not self.in_form or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.add(name, attributes.get("value", "on"))
                return
            self.add(name, attributes.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = (name, [])
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in attributes, "chosen": []}
            self.select["first"] = None
        elif tag == "option" and self.select is not None:
            value = attributes.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in attributes:
                self.select["chosen"].append(value)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "textarea" and self.textarea is not None:
            name, parts = self.textarea
            # Browsers drop the newline right after <textarea>, as Django's template writes it.
            self.add(name, "".join(parts).removeprefix("\r\n").removeprefix("\n"))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"]
            if not chosen and not self.select["multiple"] and self.select["first"] is not None:
                chosen = [self.select["first"]]
            for value in chosen:
                self.add(self.select["name"], value)
            self.select = None


def submitted_form(response):
    """{name: [values]} of the admin form on the page (empty when the page is not a form)."""
    if response.status_code != 200:
        return {}
    parser = _FormParser()
    parser.feed(response.content.decode())
    return parser.data


def with_changes(form, changes):
    """The form with `changes` ({name: value; None: left out, e.g. a box unticked}) applied,
    ready for Client.post.
    """
    data = {name: list(values) for name, values in form.items()}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = [str(value)]
    return data


# --- Proof that nothing changed -----------------------------------------------------------------

NOT_STATE = {Session}  # each request may touch its session; nothing else may change


def snapshot():
    """Every row of every table (sessions aside), to compare before and after a request."""
    return {
        model._meta.label: sorted(map(repr, model._default_manager.order_by().values()))
        for model in apps.get_models()
        if model not in NOT_STATE
    }


def changed_tables(before, after):
    return sorted(label for label in before if before[label] != after[label])
