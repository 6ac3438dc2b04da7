"""How the reminder sweep and outbox delivery scale: 1,000 and 10,000 due reminders, one run.

    DJANGO_DEBUG=1 .venv/bin/python benchmarks/sweep_reminders.py [--reminders 10000] ...

Works on a database of its own, created and dropped here: with DATABASE_URL pointing at
PostgreSQL, a database named disclosure_bench on that server (the configured database itself is
never touched); otherwise a throwaway SQLite file under /tmp (never var/db.sqlite3). See
benchmarks/README.md for what the figures mean.
"""

import argparse
import datetime as dt
import io
import statistics
import time

from harness import run_on_own_database

BENCH_DATABASE = "disclosure_bench"
# Member-side kinds (to every member, the escalation to the backup and the admins, advisories'
# disclosure dates) and one reporter-side kind, so the collaborator lookup is part of the figure.
KINDS = (
    "ack_warning", "ack_overdue", "backup_escalation", "detail_warning", "detail_overdue",
    "update_warning", "update_overdue", "resolve_warning", "resolve_overdue", "info_nudge",
    "disclosure_warning", "disclosure_due",
)  # fmt: skip


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=10_000, help="the large run")
    parser.add_argument("--small", type=int, default=1_000, help="the run it is compared with")
    parser.add_argument("--reports", type=int, default=300, help="reports they are spread over")
    parser.add_argument("--batch-size", type=int, default=None, help="REMINDER_BATCH_SIZE")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median counts")
    parser.add_argument(
        "--database",
        default=BENCH_DATABASE,
        help="the database created (and dropped) on the PostgreSQL server DATABASE_URL names",
    )
    return parser.parse_args()


def populate(count, *, reports, cast):
    """`count` due reminders over `reports` Stalwart reports, each its own deadline."""
    from reports.models import Reminder, Report, ReportUserObjectPermission

    project, revision, reporter, collaborator, view_report = cast
    now = dt.datetime.now(tz=dt.UTC)
    filed = now - dt.timedelta(days=120)
    year = filed.year
    start = Report.objects.filter(project=project, year=year).count()
    made = Report.objects.bulk_create(
        Report(
            project=project,
            revision=revision,
            reporter=reporter,
            year=year,
            sequence=start + n + 1,
            tracking_id=f"STW-{year}-{start + n + 1:05d}",
            title=f"Benchmark report {n}",
            created_at=filed,
            last_update_at=filed,
        )
        for n in range(reports)
    )
    ReportUserObjectPermission.objects.bulk_create(
        ReportUserObjectPermission(user=collaborator, permission=view_report, content_object=r)
        for r in made
    )
    base = now - dt.timedelta(days=1, seconds=count)
    Reminder.objects.bulk_create(
        (
            Reminder(
                report=made[n % reports],
                kind=KINDS[n % len(KINDS)],
                due_at=base + dt.timedelta(seconds=n),
                send_at=base + dt.timedelta(seconds=n),
            )
            for n in range(count)
        ),
        batch_size=2000,
    )


def clear():
    from advisories.models import Disclosure
    from mailer.models import OutboundEmail
    from reports.models import Reminder, Report, ReportUserObjectPermission

    OutboundEmail.objects.all().delete()
    Reminder.objects.all().delete()
    Disclosure.objects.all().delete()
    ReportUserObjectPermission.objects.all().delete()
    Report.objects.all().delete()


def timed_sweep(count, *, reports, cast, batch_size):
    from reports import sweep

    clear()
    populate(count, reports=reports, cast=cast)
    began = time.perf_counter()
    swept = sweep.sweep(batch_size=batch_size)
    seconds = time.perf_counter() - began
    if swept != count:
        raise RuntimeError(f"the sweep sent {swept} reminders of {count}")
    return seconds, swept


def main():
    options = arguments()
    run_on_own_database(options.database, lambda: run(options))


def run(options):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.core.management import call_command

    from mailer import outbox
    from projects.models import Membership, Project

    call_command("migrate", verbosity=0)
    call_command("seed_projects", stdout=io.StringIO())
    # Timed separately below: the sweep must not deliver right after its commits.
    outbox.deliver_after_commit = lambda: None

    users = get_user_model().objects
    project = Project.objects.get(slug="stalwart")
    for role in Membership.Role.values:
        user = users.create_user(username=f"{role}@bench.example", email=f"{role}@bench.example")
        Membership.objects.create(project=project, user=user, role=role)
    cast = (
        project,
        project.revision_in_force(),
        users.create_user(username="reporter@bench.example", email="reporter@bench.example"),
        users.create_user(username="helper@bench.example", email="helper@bench.example"),
        Permission.objects.get(codename="view_report", content_type__app_label="reports"),
    )
    batch_size = options.batch_size or settings.REMINDER_BATCH_SIZE
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; batch size {batch_size}; {options.reports} reports; 3 members")

    timed_sweep(200, reports=options.reports, cast=cast, batch_size=batch_size)  # warm-up
    timed_delivery()
    sweeps, deliveries = {}, {}
    for count in (options.small, options.reminders):
        runs = [
            timed_sweep(count, reports=options.reports, cast=cast, batch_size=batch_size)
            for _ in range(options.repeat)
        ]
        seconds = statistics.median(s for s, _ in runs)
        sweeps[count] = seconds
        print(
            f"sweep {count:>6,} reminders: {seconds:7.3f} s  {count / seconds:8,.0f} reminders/s"
            f"  (median of {', '.join(f'{s:.3f}' for s, _ in runs)})"
        )
        # The outbox the last sweep left, delivered with the locmem backend.
        delivered, seconds = timed_delivery()
        deliveries[count] = seconds
        print(
            f"  deliver_pending {delivered:>6,} emails: {seconds:7.3f} s"
            f"  {delivered / seconds:8,.0f} emails/s"
        )

    linear = options.reminders / options.small
    for name, figures in (("sweep", sweeps), ("deliver_pending", deliveries)):
        ratio = figures[options.reminders] / figures[options.small]
        print(
            f"{name} ratio {options.reminders:,} / {options.small:,}: {ratio:5.2f}"
            f"  (linear: {linear:.0f})"
        )


def timed_delivery():
    from django.core import mail

    from mailer import outbox
    from mailer.models import OutboundEmail

    mail.outbox = []
    pending = OutboundEmail.objects.filter(sent_at__isnull=True).count()
    began = time.perf_counter()
    delivered = outbox.deliver_pending()
    seconds = time.perf_counter() - began
    if not delivered == pending == len(mail.outbox):
        raise RuntimeError(f"delivered {delivered} of {pending}; locmem got {len(mail.outbox)}")
    return delivered, seconds


if __name__ == "__main__":
    main()
