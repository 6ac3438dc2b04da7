"""The admin against staff who hold every model permission (DESIGN §3).

Every model registered in admin.site is covered in COVERAGE (a new registration fails the sweeps
until someone says what staff may do with it). Against it, two staff members holding
Permission.objects.all():

- the ADMIN of project A goes for project B's objects: the changelist, change and history pages,
  a POST of the change form with a field changed, the delete page, the bulk delete action, the
  add form pointing at another project C (a membership for C, a revision of C in force today,
  a checklist template for C...), A's own objects moved to C, and the autocomplete lookups;
- a TRIAGER of A goes for A's own objects: the site lets a triager change none of them through a
  form (only through the actions of the site's table, see tests/reports/test_admin.py).

Nothing may succeed: each attempt answers 403/404/a redirect to the admin index/a form error,
and the database is compared row by row before and after each write attempt. The form posted is
the one a superuser's browser would submit from the same page, with the field changed.
"""

import dataclasses
import json
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories.models import Advisory, ChecklistTemplate, DisclosureProposal
from inbox.models import Mailbox
from mailer.models import InboundEmail
from projects.models import Membership, PolicyRevision, Project, ProjectEvent, ProjectInvitation
from reports.models import Attachment, BlockedSender, Comment, Report, ReportEvent
from tests.admin_helpers import (
    PHASES,
    build_world,
    changed_tables,
    snapshot,
    staff_with_every_permission,
    submitted_form,
    with_changes,
)
from tests.factories import PolicyRevisionFactory, ProjectFactory, UserFactory
from tests.signin import Client
from webhooks.models import Webhook, WebhookDelivery

pytestmark = [pytest.mark.heavy, pytest.mark.django_db]

User = get_user_model()
TODAY = timezone.localdate


@dataclasses.dataclass(frozen=True)
class Case:
    """What staff try on one model. `objects(world)`: the world's rows of the model; `change`:
    the field changed in the change form; `add(target)`: the add form's fields, pointing at the
    Target; `moves(world, project)`: (own object, fields pointing at `project`).
    """

    objects: Callable
    change: dict
    add: Callable
    moves: Callable = lambda world, target: []


@dataclasses.dataclass(frozen=True)
class Target:
    """What an add form is pointed at: a project, a report, an account to take over (`victim`)
    and the account someone tries to make a member (`joiner`).
    """

    project: object
    report: object
    victim: object
    joiner: object


def hook_of(project):
    """The id of a webhook of `project` (none: "", the form refuses it then)."""
    return Webhook.objects.filter(project=project).values_list("pk", flat=True).first() or ""


COVERAGE = {
    Project: Case(
        objects=lambda w: [w.project],
        change={"name": "Taken over"},
        add=lambda t: {
            "name": "Annexed",
            "slug": "annexed",
            "tracking_prefix": "ANX",
            "security_email": "annex@example.org",
            "preferred_languages": "en",
        },
    ),
    PolicyRevision: Case(
        objects=lambda w: [w.future_revision, w.project.revisions.order_by("effective_from")[0]],
        change={"ack_hours": 1},
        add=lambda t: {
            "project": t.project.pk,
            "effective_from": TODAY().isoformat(),
            "ack_hours": 1,
            "needs_info_nudge_days": 7,
        },
        moves=lambda w, project: [(w.future_revision, {"project": project.pk})],
    ),
    Membership: Case(
        objects=lambda w: [w.membership],
        change={"role": Membership.Role.TRIAGER},
        add=lambda t: {
            "user": t.joiner.pk,
            "email": t.joiner.email,
            "project": t.project.pk,
            "role": Membership.Role.ADMIN,
        },
        moves=lambda w, project: [(w.membership, {"project": project.pk})],
    ),
    # Invitations are sent and revoked on the members page; the audit trail is append-only:
    # read-only for everyone, shown to the project's admins.
    ProjectInvitation: Case(
        objects=lambda w: [w.invitation],
        change={"role": Membership.Role.ADMIN, "email": "taken-over@example.org"},
        add=lambda t: {
            "project": t.project.pk,
            "email": t.joiner.email,
            "role": Membership.Role.ADMIN,
            "token": "planted-token-planted-token",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
        },
        moves=lambda w, project: [(w.invitation, {"project": project.pk})],
    ),
    ProjectEvent: Case(
        objects=lambda w: [w.project_event],
        change={"message": "Rewritten"},
        add=lambda t: {"project": t.project.pk, "kind": "member_added", "message": "Planted"},
        moves=lambda w, project: [(w.project_event, {"project": project.pk})],
    ),
    Report: Case(
        objects=lambda w: [w.report],
        change={"title": "Rewritten", "severity": "low"},
        add=lambda t: {"project": t.project.pk, "title": "Planted"},
    ),
    Comment: Case(
        objects=lambda w: [w.comment],
        change={"body": "Rewritten", "internal": None},
        add=lambda t: {
            "report": t.report.pk,
            "author": t.joiner.pk,
            "body": "Planted",
            "internal": "on",
        },
    ),
    ReportEvent: Case(
        objects=lambda w: [w.event],
        change={"message": "Rewritten"},
        add=lambda t: {
            "report": t.report.pk,
            "kind": "created",
            "message": "Planted",
        },
    ),
    Attachment: Case(
        objects=lambda w: [w.attachment],
        change={"name": "renamed.py"},
        add=lambda t: {"report": t.report.pk, "name": "x", "size": 1},
    ),
    Advisory: Case(
        objects=lambda w: [w.advisory],
        change={"title": "Rewritten", "details": "Text the reporter never saw."},
        add=lambda t: {
            "report": t.report.pk,
            "project": t.project.pk,
            "identifier": "PLANTED-1",
            "title": "Planted",
            "summary": "Planted",
            "details": "Planted",
        },
        moves=lambda w, project: [(w.advisory, {"project": project.pk})],
    ),
    ChecklistTemplate: Case(
        objects=lambda w: [w.template],
        change={"phases": json.dumps([])},
        add=lambda t: {"project": t.project.pk, "phases": json.dumps(PHASES)},
        moves=lambda w, project: [(w.template, {"project": project.pk})],
    ),
    DisclosureProposal: Case(
        objects=lambda w: [w.proposal],
        change={"reason": "Rewritten", "status": "agreed"},
        add=lambda t: {
            "report": t.report.pk,
            "proposed_date": TODAY().isoformat(),
            "reason": "Planted",
            "proposed_by": t.joiner.pk,
            "status": "agreed",
        },
    ),
    # Blocks are set by marking spam on the site and lifted by the "unblock" action only.
    BlockedSender: Case(
        objects=lambda w: [w.blocked_sender],
        change={"email": "rewritten@example.org"},
        add=lambda t: {
            "project": t.project.pk,
            "email": "planted@example.org",
            "created_at_0": TODAY().isoformat(),
            "created_at_1": "00:00:00",
        },
        moves=lambda w, project: [(w.blocked_sender, {"project": project.pk})],
    ),
    # Accounts and the site are the instance's: staff take over B's admin through them.
    User: Case(
        objects=lambda w: [w.admin],
        change={"email": "taken-over@example.org", "is_superuser": "on"},
        add=lambda t: {
            "username": "planted",
            "usable_password": "true",
            "password1": "A long planted passphrase 42",
            "password2": "A long planted passphrase 42",
        },
    ),
    Group: Case(
        objects=lambda w: [Group.objects.get(name="everyone")],
        change={"name": "renamed"},
        add=lambda t: {"name": "planted"},
    ),
    EmailAddress: Case(
        objects=lambda w: [w.email_address],
        change={"email": "taken-over@example.org"},
        add=lambda t: {
            "user": t.victim.pk,
            "email": "planted@example.org",
            "verified": "on",
            "primary": "on",
        },
    ),
    Authenticator: Case(
        objects=lambda w: [w.authenticator],
        change={"type": "recovery_codes"},
        add=lambda t: {
            "user": t.victim.pk,
            "type": "totp",
            "data": "{}",
        },
    ),
    # Infrastructure: a mailbox pointed at another server reads or swallows a project's reports.
    Mailbox: Case(
        objects=lambda w: [w.mailbox],
        change={"host": "imap.attacker.example", "enabled": "on"},
        add=lambda t: {
            "project": t.project.pk,
            "host": "imap.attacker.example",
            "port": 993,
            "security": "imaps",
            "username": "planted",
            "folder": "INBOX",
            "done_folder": "Processed",
            "enabled": "on",
        },
        moves=lambda w, project: [(w.mailbox, {"project": project.pk})],
    ),
    # The gateway's log holds raw messages of anyone (superusers only); nobody writes it here.
    InboundEmail: Case(
        objects=lambda w: [w.inbound_email],
        change={"detail": "tampered", "sender": "taken-over@example.org"},
        add=lambda t: {
            "message_id": "<planted@example.org>",
            "outcome": "comment",
            "size": 1,
            "received_at_0": TODAY().isoformat(),
            "received_at_1": "10:00:00",
        },
    ),
    # Webhooks change on the project's webhook pages (their URL checked there); the sweep writes
    # the deliveries: read-only for everyone, shown to the project's admins.
    Webhook: Case(
        objects=lambda w: [w.webhook],
        change={"url": "https://attacker.example/", "internal": "on"},
        add=lambda t: {
            "project": t.project.pk,
            "url": "https://attacker.example/",
            "events": json.dumps(["report.comment"]),
            "internal": "on",
            "active": "on",
            "failure_count": 0,
            "created_at_0": TODAY().isoformat(),
            "created_at_1": "00:00:00",
        },
        moves=lambda w, project: [(w.webhook, {"project": project.pk})],
    ),
    WebhookDelivery: Case(
        objects=lambda w: [w.webhook_delivery],
        change={"status": "pending", "payload": json.dumps({"planted": True})},
        add=lambda t: {
            "webhook": Webhook.objects.filter(project=t.project)
            .values_list("pk", flat=True)
            .first()
            or "",
            "event_id": "3f0c8f62-6a55-4c1e-9d7e-2b1f0e6c9a41",
            "event_type": "report.filed",
            "payload": "{}",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at_0": TODAY().isoformat(),
            "next_attempt_at_1": "00:00:00",
            "created_at_0": TODAY().isoformat(),
            "created_at_1": "00:00:00",
        },
    ),
}


INSTANCE_WIDE = {User, Group, EmailAddress, Authenticator, Mailbox, InboundEmail}


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def refused(response):
    """403, 404, or Django's "does not exist" redirect to the admin index."""
    if response.status_code in {403, 404}:
        return True
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def form_refused(response):
    """A refused write: `refused`, or the form shown again with its errors."""
    return refused(response) or response.status_code in {200, 400}


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"


@pytest.fixture
def worlds(project, other_project):
    PolicyRevisionFactory(project=other_project)
    third = ProjectFactory(slug="third", name="Third", tracking_prefix="THR")
    PolicyRevisionFactory(project=third)
    Group.objects.create(name="everyone")
    return {
        "A": build_world(project, prefix="alpha"),
        "B": build_world(other_project, prefix="bravo"),
        "C": third,  # a bare project: nothing of its own to collide with
    }


@pytest.fixture
def root(superuser):
    """The superuser's browser: the forms it is shown are the ones posted, fields changed."""
    browser = Client()
    browser.sign_in(superuser)
    return browser


class Attempts:
    """Runs write attempts and collects every one that got through."""

    def __init__(self, client, root):
        self.client, self.root, self.successes = client, root, []

    def listed(self, model, obj):
        changelist = self.client.get(url(model, "changelist"))
        if changelist.status_code != 200:
            return False
        return obj.pk in {row.pk for row in changelist.context["cl"].result_list}

    def view(self, model, obj):
        changelist = self.client.get(url(model, "changelist"))
        if changelist.status_code == 200:
            shown = {row.pk for row in changelist.context["cl"].result_list}
            if obj.pk in shown:
                self.successes.append(f"{model._meta.label} {obj.pk}: listed")
        elif not refused(changelist):
            self.successes.append(f"{model._meta.label} changelist: {changelist.status_code}")
        for view in ("change", "history"):
            response = self.client.get(url(model, view, obj.pk))
            if not refused(response):
                self.successes.append(f"{model._meta.label} {obj.pk} {view}: shown")

    def write(self, what, target, data, check=form_refused):
        before = snapshot()
        try:
            response = self.client.post(target, data)
        except Exception as error:  # a crash is reported with the rest
            self.successes.append(f"{what}: crashed with {error!r}")
            return
        changed = changed_tables(before, snapshot())
        if changed or not check(response):
            self.successes.append(f"{what}: {response.status_code}, changed {changed}")

    def change(self, model, obj, changes):
        form = submitted_form(self.root.get(url(model, "change", obj.pk)))
        data = with_changes(form, changes)
        self.write(f"change {model._meta.label} {obj.pk}", url(model, "change", obj.pk), data)

    def delete(self, model, obj):
        self.write(
            f"delete {model._meta.label} {obj.pk}",
            url(model, "delete", obj.pk),
            {"post": "yes"},
            check=refused,
        )
        self.write(
            f"bulk delete {model._meta.label} {obj.pk}",
            url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
            check=lambda response: True,  # the changelist answers; the database tells
        )

    def add(self, model, fields):
        form = submitted_form(self.root.get(url(model, "add")))
        self.write(
            f"add {model._meta.label} {fields}", url(model, "add"), with_changes(form, fields)
        )

    def move(self, model, obj, changes):
        """Own object pointed at another project: it stays where it was, nothing is created."""
        form = submitted_form(self.root.get(url(model, "change", obj.pk)))
        counts = {label: len(rows) for label, rows in snapshot().items()}
        self.client.post(url(model, "change", obj.pk), with_changes(form, changes))
        now = {label: len(rows) for label, rows in snapshot().items()}
        now[LogEntry._meta.label] = counts[LogEntry._meta.label]  # a saved no-op is logged
        stored = model._default_manager.values_list("project_id", flat=True).get(pk=obj.pk)
        if stored != obj.project_id or now != counts:
            self.successes.append(f"move {model._meta.label} {obj.pk} to {changes}")


def test_staff_of_one_project_can_do_nothing_to_another(client, root, worlds, project):
    """The ADMIN of A, with every permission, against B's objects and pointing A's at C."""
    assert set(admin.site._registry) == set(COVERAGE), "say what staff may do with a new model"
    attacker = staff_with_every_permission(project, Membership.Role.ADMIN)
    client.sign_in(attacker)
    attempts = Attempts(client, root)
    target = Target(
        project=worlds["C"], report=worlds["B"].report, victim=worlds["B"].admin, joiner=attacker
    )
    for model, case in COVERAGE.items():
        # The control: the attacker administers A (the instance's own rows are for superusers).
        own = case.objects(worlds["A"])
        assert all(attempts.listed(model, obj) for obj in own) == (model not in INSTANCE_WIDE)
        for obj in case.objects(worlds["B"]):
            attempts.view(model, obj)
            attempts.change(model, obj, case.change)
            attempts.delete(model, obj)
        attempts.add(model, case.add(target))
        for obj, changes in case.moves(worlds["A"], worlds["C"]):
            attempts.move(model, obj, changes)
    assert not attempts.successes, "\n".join(attempts.successes)


def test_a_triager_changes_nothing_of_their_own_project_through_admin_forms(
    client, root, worlds, project
):
    """The site lets a triager change no project, revision, membership, template, report,
    comment, event, attachment, advisory or proposal directly: neither does the admin.
    """
    assert set(admin.site._registry) == set(COVERAGE), "say what staff may do with a new model"
    triager = staff_with_every_permission(project, Membership.Role.TRIAGER)
    newcomer = UserFactory(email="newcomer@example.org")
    client.sign_in(triager)
    attempts = Attempts(client, root)
    own = worlds["A"]
    target = Target(project=own.project, report=own.report, victim=own.admin, joiner=newcomer)
    for model, case in COVERAGE.items():
        for obj in case.objects(own):
            attempts.change(model, obj, case.change)
            attempts.delete(model, obj)
        attempts.add(model, case.add(target))
    # Raising their own role is changing their own membership.
    mine = Membership.objects.get(user=triager)
    attempts.change(Membership, mine, {"role": Membership.Role.ADMIN})
    assert not attempts.successes, "\n".join(attempts.successes)


def test_autocomplete_lookups_show_nothing_beyond_the_changelists(client, worlds, project):
    """The autocomplete view answers from the target model's admin: a lookup from any field
    must not list B's objects, nor the instance's accounts.
    """
    attacker = staff_with_every_permission(project, Membership.Role.ADMIN)
    client.sign_in(attacker)
    foreign = {
        model: {obj.pk for obj in case.objects(worlds["B"])} for model, case in COVERAGE.items()
    }
    seen = []
    for source in COVERAGE:
        for field in source._meta.get_fields():
            target = getattr(field, "related_model", None)
            if not field.is_relation or not field.concrete or target not in COVERAGE:
                continue
            response = client.get(
                "/admin/autocomplete/",
                {
                    "app_label": source._meta.app_label,
                    "model_name": source._meta.model_name,
                    "field_name": field.name,
                    "term": "",
                },
            )
            if response.status_code != 200:
                continue
            ids = {int(row["id"]) for row in response.json()["results"]}
            if ids & foreign[target] or (target is User and ids - {attacker.pk}):
                seen.append(f"{source._meta.label}.{field.name}: {sorted(ids)}")
    assert not seen, seen


def test_changelists_do_not_query_per_row(client, superuser, worlds, other_project):
    """Each changelist costs the same number of queries with one more project's rows."""
    client.sign_in(superuser)
    before = {}
    for model in COVERAGE:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(model, "changelist")).status_code == 200
        before[model] = len(queries)
    extra = ProjectFactory(slug="delta", name="Delta", tracking_prefix="DLT")
    PolicyRevisionFactory(project=extra)
    Group.objects.create(name="more")
    build_world(extra, prefix="delta")
    grown = []
    for model in COVERAGE:
        with CaptureQueriesContext(connection) as queries:
            client.get(url(model, "changelist"))
        if len(queries) != before[model]:
            sql = "\n".join(query["sql"][:200] for query in queries.captured_queries)
            grown.append(f"{model._meta.label}: {before[model]} -> {len(queries)}\n{sql}")
    assert not grown, "\n\n".join(grown)


def test_old_object_permission_pages_answer_404(client, superuser, worlds):
    """guardian's object-permission pages granted view_report around the collaborator rules."""
    client.sign_in(superuser)
    report, stranger = worlds["A"].report, worlds["B"].admin
    base = f"/admin/reports/report/{report.pk}/permissions/"
    for page in (base, f"{base}user-manage/{stranger.pk}/", f"{base}group-manage/1/"):
        assert client.get(page).status_code == 404, page
    response = client.post(base, {"user": stranger.username, "submit_manage_user": "1"})
    assert response.status_code == 404
    assert not stranger.has_perm("reports.view_report", report)


def test_the_sites_row_is_not_administered(client, superuser):
    """allauth needs the sites framework's row; the platform itself reads SITE_URL. Deleting the
    row from the admin would break every sign-in, so nobody can.
    """
    client.sign_in(superuser)
    assert client.get("/admin/sites/site/").status_code == 404
