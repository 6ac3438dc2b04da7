"""The reminder sweep (beat, every minute): sends every reminder whose time has come.

Reminders about reports, whichever app planned them, are locked set-based (SELECT ... FOR UPDATE
SKIP LOCKED, in batches); their emails are written to the outbox and the reminders marked sent in
the same transaction: two sweeps never take the same reminder, and a sweep that dies mid-batch
rolls back whole, so its reminders are taken again by the next one. Then every other registered
source (projects' end of support) sweeps its own. This sits above the services: closing a report
nobody answered is a transition.
"""

import contextlib
import gc

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone

from mailer import outbox
from mailer.bulk import copy_rows, prepared
from projects.access import member_roles
from projects.models import Project
from reports import emails, extensions, reminders, services
from reports.models import Reminder, Report, ReportEvent, ReportUserObjectPermission, State
from reports.reminders import Audience

# What a batch reads of each reminder and its report: the emails print a few strings, so the
# report's texts and the policy revision stay in the database (closing reads the report again).
# Read as tuples, made into instances by `_batch` (see there why).
BATCH_COLUMNS = (
    "pk", "kind", "due_at", "send_at", "report_id", "report__tracking_id", "report__title",
    "report__project_id", "report__project__name", "report__project__backup_email",
    "report__project__security_email", "report__reporter__email",
)  # fmt: skip


def sweep(*, now=None, batch_size=None):
    """Send what is due; returns how many reminders. Safe to run concurrently."""
    now = now or timezone.now()
    total = sweep_report_reminders(now=now, batch_size=batch_size)
    for source in extensions.reminder_sources():
        if hasattr(source, "sweep"):
            total += source.sweep(now=now)
    return total


def sweep_report_reminders(*, now, batch_size=None):
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    kinds = reminders.kinds()
    # Each template is rendered once per shape of message (kind, audience, footer) for the
    # whole sweep, and every reminder's own strings are put in: no rendering per reminder.
    stencils = outbox.Stencils()
    with _collector_paused():
        total = _sweep_batches(kinds=kinds, now=now, batch_size=batch_size, stencils=stencils)
    if total:
        outbox.deliver_after_commit()  # one delivery run for the whole sweep
    return total


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while the sweep runs, as it was after. A sweep
    makes a few container objects per email (~50,000 emails per 10,000 reminders) that live for
    their batch: enough for ~700 collections, a few of them over the worker's whole heap
    (0.6 s of CPU of 4 s). What the sweep makes is freed by reference counting when its batch
    ends; the collector sees the rest at its next run.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _sweep_batches(*, kinds, now, batch_size, stencils):
    """Batch after batch, each in its own transaction, until none is left; returns how many
    reminders.
    """
    total, after = 0, Q()
    while True:
        with transaction.atomic():
            batch, reporters = _batch(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(after, sent_at__isnull=True, send_at__lte=now, kind__in=list(kinds))
                .order_by("send_at", "pk")
                .values_list(*BATCH_COLUMNS)[:batch_size]
            )
            if not batch:
                break
            total += _send(batch, reporters=reporters, kinds=kinds, now=now, stencils=stencils)
        # The next batch starts after this one in the pending index: the sent reminders' old
        # entries stay in it until vacuum (and, in one enclosing transaction, stay unmarked),
        # so starting from the top again would step over all of them once per batch.
        last = batch[-1]
        after = Q(send_at__gt=last.send_at) | Q(send_at=last.send_at, pk__gt=last.pk)
    return total


def _batch(rows):
    """(reminders, {report id: its reporter's address}) of the rows of BATCH_COLUMNS: each
    reminder with its report, each report with its project (one instance per project), holding
    only the columns read. Made as `_loaded` instances: through the ORM (select_related, only)
    a batch of 500 cost ~30 ms of CPU, most of it Report's __init__ going over its 55 fields for
    the four it holds; the other columns load on access, as deferred fields do.
    """
    projects, reporters, batch = {}, {}, []
    for (
        pk, kind, due_at, send_at, report_id, tracking_id, title, project_id, name,
        backup_email, security_email, reporter_email,
    ) in rows:  # fmt: skip
        project = projects.get(project_id)
        if project is None:
            project = projects[project_id] = _loaded(
                Project, id=project_id, name=name, backup_email=backup_email,
                security_email=security_email,
            )  # fmt: skip
        report = _loaded(
            Report, id=report_id, tracking_id=tracking_id, title=title, project_id=project_id
        )
        _REPORT_PROJECT.set_cached_value(report, project)
        reminder = _loaded(
            Reminder, id=pk, kind=kind, due_at=due_at, send_at=send_at, report_id=report_id
        )
        _REMINDER_REPORT.set_cached_value(reminder, report)
        reporters[report_id] = reporter_email
        batch.append(reminder)
    return batch, reporters


_REPORT_PROJECT = Report._meta.get_field("project")
_REMINDER_REPORT = Reminder._meta.get_field("report")


def _loaded(model, **values):
    """An instance of `model` as the database gave it, holding `values` (attnames) and no other
    field: what Model.from_db makes, without __init__'s walk over every field (no signal is
    connected to these models' initialisation; tests/reports/test_reminders.py checks).
    """
    instance = model.__new__(model)
    instance.__dict__.update(values)
    instance._state = ModelState()
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return instance


def _send(batch, *, reporters, kinds, now, stencils):
    """Emails of one locked batch in the outbox, reminders marked sent: a constant number of
    queries per batch (closures aside, which run the withdraw transition).
    """
    project_ids = {r.report.project_id for r in batch}
    roles = member_roles(project_ids)
    collaborators = _collaborators_by_report(
        {r.report_id for r in batch if kinds[r.kind].audience == Audience.REPORTER_SIDE}
    )
    # Everyone the batch may write to, resolved to accounts at once (their reply addresses).
    accounts = emails.accounts_of(
        [
            *(address for members in roles.values() for address, _ in members),
            *reporters.values(),
            *(address for addresses in collaborators.values() for address in addresses),
        ]
    )
    urls = emails.report_urls(r.report for r in batch)
    zone = timezone.get_current_timezone()
    messages, closing = [], []
    for reminder in batch:
        report, spec = reminder.report, kinds[reminder.kind]
        if spec.audience == Audience.CLOSE:
            closing.append(reminder)
            continue
        context = {
            "kind": reminder.kind,
            "label": spec.label,
            "to_reporter": spec.audience == Audience.REPORTER_SIDE,
        }
        printed = {**emails.reminder_printed(reminder, zone=zone), "url": urls[report.pk]}
        dedup_key = f"reports.reminder:{reminder.pk}"
        if spec.audience == Audience.REPORTER_SIDE:
            to = [reporters[report.pk], *collaborators.get(report.pk, [])]
            messages += emails.compose(
                spec.template,
                report=report,
                subject=spec.label,
                to=to,
                context=context,
                printed=printed,
                stencils=stencils,
                dedup_key=dedup_key,
                accounts=accounts,
            )
            continue
        # The project's side: who hears of it is reports.emails' rule, from the roles read
        # above for the whole batch (no query per reminder).
        escalating = spec.audience == Audience.ESCALATION
        messages += emails.for_project(
            spec.template,
            report=report,
            subject=spec.label,
            minimum=spec.minimum,
            members=roles[report.project_id],
            contacts=[report.project.backup_email] if escalating else (),
            context=context,
            printed=printed,
            stencils=stencils,
            dedup_key=dedup_key,
            accounts=accounts,
        )
    outbox.send(messages)
    _record_overdue(batch, now=now)
    _mark_sent([r.pk for r in batch], now=now)
    # Last: closing re-plans the report's reminders, which drops its still-pending ones; the
    # batch's own are marked sent by now and stay as history.
    for reminder in closing:
        _close_unanswered(reminder)
    return len(batch)


# The batch's reminders marked sent, their ids as one parameter: Django writes `id IN (%s, ...)`
# with a placeholder per id, which the driver then quotes one by one (~3.5 ms of CPU per batch
# of 500, against ~0.2 ms for the one string).
MARK_SENT_SQL = """
    UPDATE reports_reminder SET sent_at = %s
    WHERE id = ANY(string_to_array(%s, ',')::bigint[])
"""


def _mark_sent(ids, *, now):
    if connection.vendor != "postgresql":
        Reminder.objects.filter(pk__in=ids).update(sent_at=now)
        return
    sent_at = Reminder._meta.get_field("sent_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(MARK_SENT_SQL, [sent_at, ",".join(map(str, ids))])


def _record_overdue(batch, *, now):
    """A deadline that passed is part of the report's audit trail (members only), written once
    with its notice in the batch's transaction (one statement per batch that has any).
    """
    labels = {}  # kind -> its label, looked up once per batch
    given = [
        {
            "report_id": reminder.report_id,
            "kind": ReportEvent.Kind.DEADLINE_OVERDUE.value,
            "message": labels.get(reminder.kind)
            or labels.setdefault(reminder.kind, str(reminders.Kind(reminder.kind).label)),
            "public": False,
            "data": {
                "deadline": reminders.OVERDUE[reminder.kind],
                "due_at": reminder.due_at.isoformat(),
            },
            "created_at": now,
        }
        for reminder in batch
        if reminder.kind in reminders.OVERDUE
    ]
    if not given:
        return
    if connection.vendor != "postgresql":
        ReportEvent.objects.bulk_create([ReportEvent(**values) for values in given])
        return
    # COPY, as the outbox writes a sweep's emails (mailer.bulk), each row made from the values
    # and the other fields' defaults, without a ReportEvent: its __init__ and the generic
    # preparing of every value cost ~40 µs an event (~4,000 per 10,000 reminders).
    fields = [field for field in ReportEvent._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    rows = []
    for values in given:
        row = {**defaults, **values}
        rows.append(prepared(fields, [row[field.attname] for field in fields]))
    with connection.cursor() as cursor:
        copy_rows(cursor, ReportEvent._meta.db_table, fields, rows)


def _collaborators_by_report(report_ids):
    if not report_ids:
        return {}
    users = get_user_model().objects.filter(is_active=True)
    rows = ReportUserObjectPermission.objects.filter(
        content_object_id__in=report_ids,
        permission__codename="view_report",
        user__in=users,
    ).values_list("content_object_id", "user__email")
    found = {}
    for report_id, email in rows:
        found.setdefault(report_id, []).append(email)
    return found


def _close_unanswered(reminder):
    """Withdraw the report if it still waits for the same answer. The reporter may have answered
    while this sweep held the reminder (re-planning skips held reminders rather than wait).
    """
    report = services.lock_report(reminder.report)
    closure = reminders.Planned(reminders.Kind.INFO_AUTO_CLOSE, reminder.due_at, reminder.due_at)
    if report.state != State.NEEDS_INFO or reminders.waiting_for_reporter(report)[-1] != closure:
        return
    services.transition(
        report=report,
        by=None,
        name="withdraw",
        message=(
            f"Closed automatically: no answer to the request for information within "
            f"{report.revision.needs_info_close_days} days. Comment to have it reopened."
        ),
    )
