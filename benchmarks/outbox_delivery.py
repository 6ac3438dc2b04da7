"""How delivery of an outbox backlog scales: 2,800 and 28,000 pending emails, one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        DJANGO_DEBUG=1 .venv/bin/python benchmarks/outbox_delivery.py [--large 28000] ...

Works on a database of its own, created and dropped here: with DATABASE_URL pointing at
PostgreSQL, a database named disclosure_bench_outbox on that server (the configured database
itself is never touched); otherwise a throwaway SQLite file under /tmp (never var/db.sqlite3).
See benchmarks/README.md for what the figures mean.
"""

import argparse
import statistics
import time

from harness import run_on_own_database

BENCH_DATABASE = "disclosure_bench_outbox"
# About the size of a report notification: the text part and its HTML alternative.
BODY = "A new comment on STW-2026-0001 (Stalwart):\n\n" + "Lorem ipsum dolor sit amet. " * 40
HTML = f"<!doctype html><html><body><p>{BODY}</p></body></html>"


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", type=int, default=28_000, help="the large backlog")
    parser.add_argument("--small", type=int, default=2_800, help="the backlog it is compared with")
    parser.add_argument(
        "--history", type=int, default=20_000, help="emails already sent, in the table beforehand"
    )
    parser.add_argument("--batch-size", type=int, default=50, help="deliver_pending's batch size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median counts")
    return parser.parse_args()


def emails(count, *, to="person", sent_at=None):
    """Outbox rows as reports.emails writes them: ~5 recipients per report, threaded."""
    from mailer.models import OutboundEmail

    return (
        OutboundEmail(
            about=f"reports.report:{n // 5}",
            to=f"{to}{n % 5}@bench.example",
            subject=f"[STW-2026-{n // 5:05d}] New comment",
            body=BODY,
            html=HTML,
            reply_to=f"reply+reports.report.{n // 5}.{n % 5}.0123456789abcdef0123@bench.example",
            sent_at=sent_at,
        )
        for n in range(count)
    )


def history(count):
    """Emails sent long ago, and statistics that know them (autovacuum ran since)."""
    from django.db import connection
    from django.utils import timezone

    from mailer.models import OutboundEmail

    OutboundEmail.objects.bulk_create(emails(count, sent_at=timezone.now()), batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE mailer_outboundemail")


def timed_delivery(count, *, batch_size):
    """A burst of `count` pending emails (statistics not updated since: the situation right
    after a sweep), delivered with the locmem backend. The previous burst leaves first; the
    history stays as it was.
    """
    from django.core import mail

    from mailer import outbox
    from mailer.models import OutboundEmail

    OutboundEmail.objects.filter(to__startswith="burst").delete()
    OutboundEmail.objects.bulk_create(emails(count, to="burst"), batch_size=2000)
    mail.outbox = []
    began = time.perf_counter()
    delivered = outbox.deliver_pending(batch_size=batch_size)
    seconds = time.perf_counter() - began
    if not delivered == count == len(mail.outbox):
        raise RuntimeError(f"delivered {delivered} of {count}; locmem got {len(mail.outbox)}")
    return seconds


def main():
    options = arguments()
    run_on_own_database(BENCH_DATABASE, lambda: run(options))


def run(options):
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"database: {engine}; batch size {options.batch_size}; "
        f"{options.history:,} emails sent before"
    )
    history(options.history)
    timed_delivery(200, batch_size=options.batch_size)  # warm-up
    timings = {}
    for count in (options.small, options.large):
        runs = [timed_delivery(count, batch_size=options.batch_size) for _ in range(options.repeat)]
        seconds = timings[count] = statistics.median(runs)
        print(
            f"deliver_pending {count:>6,} emails: {seconds:7.3f} s"
            f"  {count / seconds:8,.0f} emails/s"
            f"  (median of {', '.join(f'{s:.3f}' for s in runs)})"
        )
    ratio = timings[options.large] / timings[options.small]
    linear = options.large / options.small
    print(
        f"deliver_pending ratio {options.large:,} / {options.small:,}: {ratio:5.2f}"
        f"  (linear: {linear:.0f}; target: at most {1.2 * linear:.0f})"
    )


if __name__ == "__main__":
    main()
