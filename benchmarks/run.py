"""Issue 15's targets in one run: lists, guardian baseline, keyset depth, HTTP, sweep, intake.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python benchmarks/run.py --database disclosure_bench_gen

`--database NAME`: a database made by `generate.py --keep` on the server DATABASE_URL names (the
URL's own database is never touched); without it, `--generate N` reports (default 20,000) are
generated first into `--run-database` (default `disclosure_bench_run`; a name of its own lets
several runs share a server), and that database is dropped at the end unless `--keep`.
Production settings (DEBUG off, collected static, whitenoise) for the in-process and the gunicorn
measurements. Writes benchmarks/results/<YYYY-MM-DD>.json and .md unless
`--no-write`. Each section records its error and the run goes on. See benchmarks/README.md.
"""

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import io
import json
import math
import os
import pstats
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUN_DATABASE = "disclosure_bench_run"
MAINTAINER = "maintainer0.stalwart@bench.example"
HEAVY_REPORTER = "heavy-reporter@bench.example"
SECTIONS = ("lists", "sweep", "http", "intake")
GUNICORN_WORKERS = 2
CELERY_CONCURRENCY = 2
TARGETS = {
    "queries per page": "<= 6, the same on page 1 and deep",
    "sql p50 ms": "<= 5",
    "page p95 ms": "<= 25",
    "guardian / ours": ">= 8",
    "deep / page 1": "<= 1.5",
    "queue / minimal (HTTP)": ">= 0.25 (0.5: the best Django pages)",
    "sweep 10k seconds": "<= 5, queries per batch constant",
    "intake reports/s": ">= 50 with a 1 MB attachment each",
}


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--database", help="an existing generated database (generate.py --keep)")
    source.add_argument("--generate", type=int, help="reports to generate first (default 20000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--run-database",
        default=RUN_DATABASE,
        help=f"the database --generate builds (dropped first if it exists; default {RUN_DATABASE})",
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--requests", type=int, default=50, help="timed requests per list page")
    parser.add_argument("--deep-pages", type=int, default=2000, help="depth of the keyset page")
    parser.add_argument("--http-seconds", type=float, default=10, help="per URL")
    parser.add_argument("--http-clients", type=int, default=4, help="load generator threads")
    parser.add_argument(
        "--http-rounds", type=int, default=5, help="interleaved rounds the seconds are split in"
    )
    parser.add_argument("--intake", type=int, default=200, help="reports posted")
    parser.add_argument("--attachment-bytes", type=int, default=1024 * 1024)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-write", action="store_true", help="print only (trial runs)")
    options = parser.parse_args(argv)
    if options.database is None and options.generate is None:
        options.generate = 20_000
    if options.database is not None and options.run_database != RUN_DATABASE:
        parser.error("--run-database names the database --generate builds, not with --database")
    return options


# --- Setting up -------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment(*, static_root, attachment_root, port):
    """What run.py, gunicorn and the Celery worker share: production settings on loopback.

    Plain HTTP on loopback stands for a TLS proxy (DJANGO_BEHIND_TLS_PROXY and the clients'
    X-Forwarded-Proto), so secure cookies and the HTTPS redirect stay as in production. The
    per-user filing and upload limits are raised: the benchmark files hundreds of reports an hour
    from a few accounts (the limit check itself still runs).
    """
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SETTINGS_MODULE="benchmarks.overlay_settings",
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_ATTACHMENT_ROOT=str(attachment_root),
        SITE_URL=f"https://127.0.0.1:{port}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_BEHIND_TLS_PROXY="1",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        RATE_LIMIT_REPORTS="1000000/h/user,1000000/h/ip",
        RATE_LIMIT_UPLOADS="1000000/h/user,1000000/h/ip",
        DJANGO_LOG_LEVEL="WARNING",
    )
    os.environ.pop("EMAIL_URL", None)
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))


def point_at(name):
    """DATABASE_URL naming `name` on the configured server; returns the server's admin URL."""
    configured = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(configured)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit("run.py needs PostgreSQL: set DATABASE_URL to the server (…/postgres).")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return urlunsplit(parts._replace(path="/postgres", query=""))


def main():
    options = arguments()
    sys.path.insert(0, str(REPO))
    workdir = Path(tempfile.mkdtemp(prefix="disclosure-run-"))
    port = free_port()
    production_environment(
        static_root=workdir / "static", attachment_root=workdir / "attachments", port=port
    )
    name = options.database or options.run_database
    server = point_at(name)
    generated = options.generate is not None
    results = {
        "date": dt.datetime.now(tz=dt.UTC).isoformat(timespec="seconds"),
        "database": name,
        "machine": {"cores": os.cpu_count(), "load average": os.getloadavg()},
        "targets": TARGETS,
    }
    try:
        if generated:
            import psycopg

            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{name}"')
        import django

        django.setup()
        from django.core.management import call_command

        if generated:
            from benchmarks import generate

            began = time.perf_counter()
            call_command("migrate", verbosity=0)
            counts = generate.generate(reports=options.generate, projects=50, progress=True)
            counts.pop("seconds")
            results["generated"] = counts | {"seconds": round(time.perf_counter() - began, 1)}
        call_command("collectstatic", interactive=False, verbosity=0)
        results["reports"] = report_count()
        measure_all(options, results, port=port, workdir=workdir)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
        if generated and not options.keep:
            import psycopg

            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    text = markdown(results)
    print(text)
    if not options.no_write:
        options.out.mkdir(parents=True, exist_ok=True)
        stem = options.out / results["date"][:10]
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        stem.with_suffix(".md").write_text(text)
        print(f"wrote {stem}.json and {stem}.md")


def report_count():
    from reports.models import Report

    return Report.objects.count()


def measure_all(options, results, *, port, workdir):
    sections = {
        "lists": lambda: measure_lists(requests=options.requests, deep_pages=options.deep_pages),
        "sweep": measure_sweep,
        "http": lambda: measure_http(
            port=port,
            workdir=workdir,
            seconds=options.http_seconds,
            clients=options.http_clients,
            rounds=options.http_rounds,
        ),
        "intake": lambda: measure_intake(
            port=port, count=options.intake, size=options.attachment_bytes, workdir=workdir
        ),
    }
    for name in options.only:
        print(f"measuring {name} …", file=sys.stderr)
        results[name] = section(sections[name])


def section(measure):
    """A section's figures, or its error: one failing piece does not stop the run."""
    try:
        return measure()
    except Exception as error:  # recorded in the results; the run goes on
        return {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}


# --- Timing helpers ---------------------------------------------------------------------------


class SqlTimer:
    """connection.execute_wrapper: every query's time and text while it is installed."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - began, sql))

    @contextlib.contextmanager
    def running(self):
        from django.db import connection

        self.queries = []
        with connection.execute_wrapper(self):
            yield self

    @property
    def seconds(self):
        return sum(s for s, _ in self.queries)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds):
    return round(seconds * 1000, 3)


def get(client, url):
    """GET over "HTTPS" (secure, and the proxy's header where production reads it): a 200."""
    response = client.get(url, secure=True, headers={"X-Forwarded-Proto": "https"})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.get('Location', '')}")
    return response


def timed_requests(client, url, *, count):
    """`count` GETs after 3 warm-ups: queries per request, SQL and page times, and the CPU
    time of this process per request (process_time: the whole request in-process, the test
    client's share included; it holds up when the shared machine is loaded, wall time does not).
    """
    timer = SqlTimer()
    for _ in range(3):
        get(client, url)
    pages, cpu, sql, queries = [], [], [], set()
    for _ in range(count):
        with timer.running():
            began, began_cpu = time.perf_counter(), time.process_time()
            get(client, url)
            cpu.append(time.process_time() - began_cpu)
            pages.append(time.perf_counter() - began)
        sql.append(timer.seconds)
        queries.add(len(timer.queries))
    return {
        "url": url,
        "requests": count,
        "queries": sorted(queries),
        "sql p50 ms": ms(statistics.median(sql)),
        "page p50 ms": ms(statistics.median(pages)),
        "page p95 ms": ms(percentile(pages, 0.95)),
        "cpu p50 ms": ms(statistics.median(cpu)),
        "last request's queries": [f"{ms(took)} ms {text[:160]}" for took, text in timer.queries],
    }


def sql_p50(run, *, count):
    """Median SQL time (all queries `run()` makes) over `count` runs after 3 warm-ups."""
    timer = SqlTimer()
    for _ in range(3):
        run()
    times, queries = [], set()
    for _ in range(count):
        with timer.running():
            run()
        times.append(timer.seconds)
        queries.add(len(timer.queries))
    return ms(statistics.median(times)), sorted(queries)


# --- 1. The queue and "my reports" in-process ------------------------------------------------


def signed_in_session(user):
    """A session as a real sign-in leaves it: the user, and allauth's records of a password and
    a second factor (SecondFactorGate requires one of members; the user gets an authenticator
    if they have none, as every member must). Returns its key.
    """
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.account.internal.flows.login import _AUTHENTICATION_METHODS_USER_SESSION_KEY
    from allauth.account.internal.userkit import user_id_to_str
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    if not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())  # enrolled, as every member must be
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    now = time.time()
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session.create()  # saves
    return session.session_key


def client_for(user):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = signed_in_session(user)
    return client


def deep_cursor(rows, *, sort, depth, page_size):
    """The page link to page `depth + 1` without walking there: the row that ends page `depth`,
    read with OFFSET (once, untimed), encoded as the page before it would have. Returns the
    cursor and the depth reached (fewer pages when the list is shorter)."""
    from reports import selectors

    order = selectors.SORTS[sort]
    total = rows.count()
    depth = min(depth, max(0, (total - 1) // page_size))
    if depth == 0:
        return None, 0
    value, pk = rows.order_by(*order.order_by()).values_list(order.column, "pk")[
        depth * page_size - 1
    ]
    row = SimpleNamespace(pk=pk, **{order.column: value})
    return selectors.encode_cursor(sort, row), depth


def measure_lists(*, requests=50, deep_pages=2000, maintainer=MAINTAINER, reporter=HEAVY_REPORTER):
    """The maintainer's queue and the heavy reporter's "my reports": page 1 and a page
    `deep_pages` deep through the test client, and each list's selector against guardian's
    get_objects_for_user for the same user and page."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from guardian.shortcuts import get_objects_for_user

    from reports import selectors
    from reports.models import Report, Viewer

    users = get_user_model().objects
    page_size = settings.REPORTS_PAGE_SIZE
    sort = selectors.DEFAULT_SORT
    figures = {"page size": page_size, "sort": sort}
    for name, email, view in (
        ("queue", maintainer, selectors.QUEUE),
        ("my reports", reporter, selectors.MINE),
    ):
        user = users.get(email=email)
        viewer = Viewer.of(user)
        client = client_for(user)
        mine = selectors.report_queue(
            user=user, viewer=viewer, view=view, now=timezone.now(), page_size=10**9
        )
        rows = Report.objects.filter(pk__in=[r.pk for r in mine.reports])
        if view == selectors.QUEUE:
            rows = Report.objects.filter(project_id__in=list(viewer.roles))
        first = timed_requests(client, f"/reports/?view={view}", count=requests)
        cursor, depth = deep_cursor(rows, sort=sort, depth=deep_pages, page_size=page_size)
        result = {"user": email, "rows": rows.count(), "page 1": first}
        if cursor:
            deep = timed_requests(client, f"/reports/?view={view}&after={cursor}", count=requests)
            result["deep page"] = deep | {"depth (pages)": depth}
            result["deep / page 1 (page p50)"] = round(
                deep["page p50 ms"] / first["page p50 ms"], 2
            )
            result["deep / page 1 (sql p50)"] = round(deep["sql p50 ms"] / first["sql p50 ms"], 2)
            result["queries constant"] = first["queries"] == deep["queries"]

        def ours(user=user, viewer=viewer, view=view):
            selectors.report_queue(
                user=user, viewer=viewer, view=view, now=timezone.now(), page_size=page_size
            )

        def guardian(user=user):
            found = get_objects_for_user(user, "reports.view_report", klass=Report)
            list(
                found.select_related("project", "assignee__profile").order_by(
                    *selectors.SORTS[sort].order_by()
                )[: page_size + 1]
            )

        ours_ms, ours_queries = sql_p50(ours, count=requests)
        guardian_ms, guardian_queries = sql_p50(guardian, count=requests)
        result["selector sql p50 ms"] = ours_ms
        result["selector queries"] = ours_queries
        result["guardian sql p50 ms"] = guardian_ms
        result["guardian queries"] = guardian_queries
        result["guardian / ours"] = round(guardian_ms / ours_ms, 2) if ours_ms else None
        figures[name] = result
    return figures


# --- 3. The SLA sweep ------------------------------------------------------------------------


def measure_sweep():
    """`reports.sweep.sweep()` over the due reminders, rolled back (the dataset keeps its
    backlog): seconds, and the queries of each batch (split at each batch's SELECT … FOR UPDATE).
    """
    from django.conf import settings
    from django.db import transaction
    from django.urls import reverse
    from django.utils import timezone

    from reports import sweep
    from reports.models import Reminder

    now = timezone.now()
    due = Reminder.objects.filter(sent_at__isnull=True, send_at__lte=now).count()
    # A worker sweeps every minute with its URL configuration long loaded (the emails' links
    # reverse through it): load it before the clock starts, as in the worker (~0.3 s).
    reverse("reports:list")
    timer = SqlTimer()
    with transaction.atomic(), timer.running():
        began, cpu = time.perf_counter(), time.process_time()
        sent = sweep.sweep(now=now)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        transaction.set_rollback(True)
    batches = []
    for _, sql in timer.queries:
        if "FOR UPDATE" in sql and '"reports_reminder"' in sql:
            batches.append(0)
        if batches:
            batches[-1] += 1
    full = batches[:-1]  # the last batch finds nothing (or less than a batch)
    return {
        "due": due,
        "sent": sent,
        "batch size": settings.REMINDER_BATCH_SIZE,
        "seconds": round(seconds, 3),
        # This process's CPU (not PostgreSQL's): on a shared machine, steadier than seconds.
        "cpu seconds": round(cpu, 3),
        "reminders/s": round(sent / seconds) if seconds else None,
        "sql seconds": round(timer.seconds, 3),
        "queries": len(timer.queries),
        "queries per batch": batches,
        "queries per batch constant": len(set(full[:-1])) <= 1,
    }


# --- 2. HTTP through gunicorn ----------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(port, log_path, *, workers=GUNICORN_WORKERS):
    """gunicorn serving the overlay settings (the environment run.py set), `workers` sync
    workers on loopback: the deployment's server and worker class (docker-compose.yml), with
    the two workers issue 15's measurements name (the deployment runs three)."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "disclosure.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process, log_path)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for_port(port, process, log, *, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {Path(log).read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"no server on port {port} after {seconds} s")


def headers(port, session_key=None):
    from django.conf import settings

    sent = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
    if session_key:
        sent["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    return sent


def rate(port, path, *, seconds, clients, sent_headers):
    """Requests/s of `clients` threads GETting `path` for `seconds` (a new connection each:
    gunicorn's sync workers close after every response). Every answer must be a 200."""
    import http.client

    done, failures = [0] * clients, []
    stop = time.monotonic() + seconds

    def client(k):
        while time.monotonic() < stop and not failures:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers=sent_headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"{path}: {response.status}")
                done[k] += 1
            finally:
                connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(failures[0])
    total = sum(done)
    return {"requests": total, "seconds": round(elapsed, 2), "per s": round(total / elapsed)}


def keeping_cookies(port, path, sent_headers):
    """`sent_headers` with the cookies one GET of `path` set added to its Cookie header, as a
    browser sends back what it was given (the CSRF cookie of a page with a form: without it
    every request would make a new secret, which no browser's second visit does)."""
    import http.client
    from http.cookies import SimpleCookie

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=sent_headers)
        response = connection.getresponse()
        response.read()
        given = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            given.load(header)
    finally:
        connection.close()
    kept = dict(part.split("=", 1) for part in sent_headers.get("Cookie", "").split("; ") if part)
    kept |= {name: morsel.value for name, morsel in given.items()}
    cookie = "; ".join(f"{name}={value}" for name, value in kept.items())
    return sent_headers | ({"Cookie": cookie} if cookie else {})


# The HTTP section's pages: name, path, signed in (the maintainer's session cookie).
HTTP_PAGES = (
    ("minimal", "/bench-minimal/", False),
    ("health", "/health/", False),
    ("queue", "/reports/", True),
)


def measure_http(*, port, workdir, seconds=10, clients=4, rounds=5, maintainer=MAINTAINER):
    """Each page's requests/s through gunicorn, in `rounds` interleaved rounds of `seconds` /
    `rounds` per page (minimal, health, queue, then again): a machine whose speed drifts
    during the run (a shared host's neighbours) slows each page alike, where three blocks of
    `seconds` one after the other gave the drift to whichever page ran in it. With each page's
    CPU per request by party (http_figures)."""
    from django.contrib.auth import get_user_model

    session = signed_in_session(get_user_model().objects.get(email=maintainer))
    sent = {name: headers(port, session if signed else None) for name, _, signed in HTTP_PAGES}
    measured = []
    with gunicorn(port, workdir / "gunicorn.log") as server:
        for name, path, _ in HTTP_PAGES:  # warm: imports, connections, caches
            rate(port, path, seconds=1, clients=clients, sent_headers=sent[name])
            sent[name] = keeping_cookies(port, path, sent[name])
        cpu = CpuUse({"gunicorn": lambda: process_tree(server.pid)})
        for _ in range(rounds):
            one = {}
            for name, path, _ in HTTP_PAGES:
                before = cpu.sample()
                one[name] = rate(
                    port, path, seconds=seconds / rounds, clients=clients, sent_headers=sent[name]
                )
                one[name]["cpu seconds"] = CpuUse.seconds(before, cpu.sample())
            measured.append(one)
    return {
        "gunicorn workers": GUNICORN_WORKERS,
        "load generator": f"{clients} Python threads, same machine",
    } | http_figures(measured)


def http_figures(rounds):
    """Each page's figures over the rounds (requests, seconds, requests/s, CPU ms per request
    by party and over all of them) and the ratios: queue / minimal over the whole run (the
    target's figure), in each round (how steady it was), and by CPU over all parties (what the
    ratio would be if both pages kept the two cores busy)."""
    figures = {}
    for name, path, _ in HTTP_PAGES:
        parts = [one[name] for one in rounds]
        requests = sum(part["requests"] for part in parts)
        seconds = sum(part["seconds"] for part in parts)
        cpu = {
            party: sum(part["cpu seconds"][party] for part in parts)
            for party in parts[0]["cpu seconds"]
        }
        figures[name] = {
            "path": path,
            "requests": requests,
            "seconds": round(seconds, 2),
            "per s": round(requests / seconds),
            "server cpu ms per request": ms(cpu["gunicorn"] / requests),
            "cpu ms per request": {party: ms(used / requests) for party, used in cpu.items()},
            "cpu ms per request (all parties)": ms(sum(cpu.values()) / requests),
        }

    def rate_of(part):
        return part["requests"] / part["seconds"]

    for name in ("queue", "health"):
        figures[f"{name} / minimal"] = round(
            rate_of(figures[name]) / rate_of(figures["minimal"]), 3
        )
    figures["queue / minimal by round"] = [
        round(rate_of(one["queue"]) / rate_of(one["minimal"]), 3) for one in rounds
    ]
    figures["queue / minimal by CPU (all parties)"] = round(
        figures["minimal"]["cpu ms per request (all parties)"]
        / figures["queue"]["cpu ms per request (all parties)"],
        3,
    )
    return figures


# --- 4. Intake end to end ---------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds a live process has used (/proc/<pid>/stat); 0 when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, ... utime stime
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid):
    """`pid` and every process below it (gunicorn's workers, Celery's pool)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        tree.update(children)
        frontier.extend(children)
    return tree


def database_backends():
    """The PostgreSQL server processes serving this database (every connection to it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def machine_busy_seconds():
    """CPU seconds every core of the machine spent busy since boot (/proc/stat), anyone's."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def redis_cpu_seconds():
    """CPU seconds the Redis server has used (its INFO), or None without REDIS_URL: the cache
    (sessions, queue counts) and, when it is the same server, the broker."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    info = _redis(url).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


@functools.cache
def _redis(url):
    """One client per server for the run's samples: a new one per sample connected anew, and
    Redis counted the connection in the CPU being measured."""
    import redis

    return redis.Redis.from_url(url)


class CpuUse:
    """CPU time used by each party of a measurement while it runs: our servers' processes
    (`parties`: name -> the pids to read, e.g. gunicorn's master and workers), the database
    server's processes for this database, the Redis server, and this process (the load
    generator's threads); and the machine's busy time, to see how much went to others (other
    test runs share the two cores). Read from /proc and Redis's INFO, so the figures hold
    however loaded the machine is; a connection opened and closed within the run is missed
    (none are: CONN_MAX_AGE keeps them open)."""

    def __init__(self, parties):
        self.parties = parties | {"postgres": database_backends}

    def sample(self):
        own = os.times()
        return {
            "processes": {
                name: {pid: cpu_seconds(pid) for pid in pids()}
                for name, pids in self.parties.items()
            },
            "redis": redis_cpu_seconds(),
            "load generator": own.user + own.system,
            "machine": machine_busy_seconds(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def seconds(before, after):
        """CPU seconds each party used between two samples (Redis only when measured)."""
        used = {
            name: sum(cpu - before["processes"][name].get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in after["processes"].items()
        }
        if after["redis"] is not None:
            used["redis"] = after["redis"] - before["redis"]
        used["load generator"] = after["load generator"] - before["load generator"]
        return used

    @staticmethod
    def used(before, after, *, filings):
        """Milliseconds of CPU per filing by party, their total, and the machine's share."""
        per_filing = CpuUse.seconds(before, after)
        ours = sum(per_filing.values())
        wall = after["wall"] - before["wall"]
        busy = after["machine"] - before["machine"]
        return {
            "cpu ms per filing": {name: ms(sec / filings) for name, sec in per_filing.items()},
            "cpu ms per filing (all parties)": ms(ours / filings),
            "cores": os.cpu_count(),
            "ceiling reports/s (cores / cpu per filing)": round(os.cpu_count() * filings / ours, 1),
            "machine busy (all processes, core-seconds)": round(busy, 1),
            "of which other processes": round(max(0.0, busy - ours), 1),
            "wall seconds": round(wall, 2),
        }


def intake_fields(project):
    """A valid filing for `project`'s intake form: each field's first choice, or some text."""
    from reports import forms

    form = forms.IntakeForm(revision=project.revision_in_force())
    data = {"credit-display": "handle", "credit-handle": "@bench"}
    for name, field in form.fields.items():
        if name == "attachments":
            continue
        choices = [value for value, _ in getattr(field, "choices", ()) if value not in ("", None)]
        if choices:
            multiple = field.widget.allow_multiple_selected
            data[name] = [str(choices[0])] if multiple else str(choices[0])
        elif field.required or name == "title":
            data[name] = f"Benchmark filing: {name}"
    return data


@contextlib.contextmanager
def celery_worker(log_path):
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "disclosure", "worker",
             "--queues", "celery,notifications", "--concurrency", str(CELERY_CONCURRENCY),
             "--loglevel", "WARNING"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def wait_for_worker(outbox, *, seconds=600):
    """Until no message is left on the broker and no email in the outbox."""
    deadline = time.monotonic() + seconds
    while broker_backlog() or outbox.objects.filter(sent_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not finish within {seconds} s")
        time.sleep(0.05)


def token_of(cookie):
    """The CSRF token already in our Cookie header (the server sets it only once)."""
    from django.conf import settings

    for part in cookie.split("; "):
        name, _, value = part.partition("=")
        if name == settings.CSRF_COOKIE_NAME:
            return value
    return None


def broker_backlog():
    """Messages waiting or taken but not acknowledged, on the broker (Redis)."""
    import redis
    from django.conf import settings

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sum(broker.llen(q) for q in ("celery", "notifications")) + broker.hlen("unacked")


def measure_intake(*, port, count=200, size=1024 * 1024, workdir, clients=4):
    """`count` filings with a `size`-byte attachment each, posted through gunicorn by `clients`
    signed-in reporters (CSRF token from the form, as a browser), a real Celery worker on the
    broker: reports/s from the first post until the worker has done what they triggered (no
    message left on the broker, no email left in the outbox)."""
    import requests
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from mailer.models import OutboundEmail
    from projects.models import Project

    if not settings.CELERY_BROKER_URL:
        raise RuntimeError("set CELERY_BROKER_URL (Redis) for the intake measurement")
    project = Project.objects.get(slug="stalwart")
    data = intake_fields(project)
    # Reporters of this run only: on a kept database, earlier runs' uploads count against a
    # reporter's storage quota (ATTACHMENT_QUOTA_BYTES), which a few runs would exhaust.
    run = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%d%H%M%S")
    reporters = [
        get_user_model().objects.create(
            username=f"intake{k}.{run}@bench.example", email=f"intake{k}.{run}@bench.example"
        )
        for k in range(clients)
    ]
    attachment = os.urandom(size)
    url = f"/projects/{project.slug}/report/"
    posted, failures, latencies = [0] * clients, [], []

    def reporter(k, share):
        # Cookies by hand: production's are Secure, and requests would not send them back over
        # the loopback's plain HTTP (the proxy's TLS is stood in for by X-Forwarded-Proto).
        http = requests.Session()
        session = signed_in_session(reporters[k])
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        http.headers.update(headers(port))
        for n in range(share):
            form = http.get(f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie})
            token = form.cookies.get(settings.CSRF_COOKIE_NAME) or token_of(cookie)
            if form.status_code != 200 or not token:
                failures.append(f"GET intake: {form.status_code}")
                return
            cookie = (
                f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}"
            )
            began = time.perf_counter()
            response = http.post(
                f"http://127.0.0.1:{port}{url}",
                data=data | {"csrfmiddlewaretoken": token},
                files={"attachments": (f"poc-{k}-{n}.bin", attachment, "application/octet-stream")},
                headers={"Referer": f"https://127.0.0.1:{port}{url}", "Cookie": cookie},
                allow_redirects=False,
            )
            latencies.append(time.perf_counter() - began)
            if response.status_code != 302:
                failures.append(f"POST intake: {response.status_code} {response.text[:300]}")
                return
            posted[k] += 1

    before = OutboundEmail.objects.count()
    with (
        gunicorn(port, workdir / "gunicorn.log") as server,
        celery_worker(workdir / "celery.log") as worker,
    ):
        # One filing profiled in-process first (its tasks go to the same worker), then wait
        # until the worker has done them before timing.
        profile = profile_one_filing(project, data, size)
        wait_for_worker(OutboundEmail)
        threads = [
            threading.Thread(target=reporter, args=(k, count // clients + (k < count % clients)))
            for k in range(clients)
        ]
        cpu = CpuUse(
            {
                "gunicorn": lambda: process_tree(server.pid),
                "celery worker": lambda: process_tree(worker.pid),
            }
        )
        start = cpu.sample()
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        posting = time.perf_counter() - began
        wait_for_worker(OutboundEmail)
        total = time.perf_counter() - began
        end = cpu.sample()
    if failures:
        raise RuntimeError(failures[0])
    filed = sum(posted)
    return {
        "gunicorn workers": GUNICORN_WORKERS,
        "celery concurrency": CELERY_CONCURRENCY,
        "reports": filed,
        "attachment bytes": size,
        "clients": clients,
        "posting seconds": round(posting, 2),
        "end to end seconds": round(total, 2),
        "reports/s (posting)": round(filed / posting, 1),
        "reports/s (end to end)": round(filed / total, 1),
        "post p50 ms": ms(statistics.median(latencies)),
        "post p95 ms": ms(percentile(latencies, 0.95)),
        "emails delivered": OutboundEmail.objects.count() - before,
        "where the CPU went": CpuUse.used(start, end, filings=filed),
        "profile of one filing": profile,
    }


def profile_one_filing(project, data, size, *, top=25):
    """cProfile of one filing in-process (test client, same settings), after an unprofiled one
    (imports and first-use caches): where a request's time goes, by cumulative time and by the
    time spent in each function itself."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = get_user_model().objects.get_or_create(
        username="intake-profile@bench.example", defaults={"email": "intake-profile@bench.example"}
    )[0]
    client = client_for(user)
    url = f"/projects/{project.slug}/report/"
    profile, timer = cProfile.Profile(), SqlTimer()
    for profiled in (False, True):
        upload = SimpleUploadedFile("poc.bin", os.urandom(size), "application/octet-stream")
        with timer.running():
            began = time.perf_counter()
            if profiled:
                profile.enable()
            response = client.post(
                url, data | {"attachments": upload}, secure=True,
                headers={"X-Forwarded-Proto": "https"},
            )  # fmt: skip
            profile.disable()
            seconds = time.perf_counter() - began
        if response.status_code != 302:
            raise RuntimeError(f"profiled filing: {response.status_code}")
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(15)
    return {
        "ms": ms(seconds),
        "queries": len(timer.queries),
        "sql ms": ms(timer.seconds),
        "the queries": [f"{ms(took)} ms {text[:160]}" for took, text in timer.queries],
        "cprofile": out.getvalue(),
    }


# --- The table ---------------------------------------------------------------------------------


def markdown(results):
    lines = [
        f"# Benchmarks {results['date']}",
        "",
        f"Database `{results['database']}`: {results.get('reports', '?'):,} reports; "
        f"{results['machine']['cores']} cores, load average at start "
        f"{', '.join(f'{x:.1f}' for x in results['machine']['load average'])}.",
        "",
        "| figure | measured | target |",
        "| --- | --- | --- |",
    ]

    def row(figure, measured, target=""):
        lines.append(f"| {figure} | {measured} | {target} |")

    lists = results.get("lists", {})
    for name in ("queue", "my reports"):
        figures = lists.get(name)
        if not figures:
            continue
        first = figures["page 1"]
        row(f"{name}: queries per page (page 1)", first["queries"], TARGETS["queries per page"])
        if "deep page" in figures:
            deep = figures["deep page"]
            row(f"{name}: queries per page ({deep['depth (pages)']} pages deep)", deep["queries"])
        row(f"{name}: SQL p50 ms", first["sql p50 ms"], TARGETS["sql p50 ms"])
        row(f"{name}: page p95 ms", first["page p95 ms"], TARGETS["page p95 ms"])
        row(f"{name}: CPU ms per page (p50, in-process)", first.get("cpu p50 ms"))
        row(
            f"{name}: guardian / ours (selector SQL p50: {figures['guardian sql p50 ms']} / "
            f"{figures['selector sql p50 ms']} ms)",
            figures["guardian / ours"],
            TARGETS["guardian / ours"],
        )
        if "deep page" in figures:
            row(
                f"{name}: deep / page 1 (page p50; SQL p50 {figures['deep / page 1 (sql p50)']})",
                figures["deep / page 1 (page p50)"],
                TARGETS["deep / page 1"],
            )
    http = results.get("http", {})
    if "queue / minimal" in http:
        for name, _, _ in HTTP_PAGES:
            page = http[name]
            if "cpu ms per request" in page:
                parts = ", ".join(f"{n} {took}" for n, took in page["cpu ms per request"].items())
                cpu = f"CPU ms per request {page['cpu ms per request (all parties)']}: {parts}"
            else:  # results written before the parties were measured
                cpu = f"gunicorn CPU ms per request {page.get('server cpu ms per request')}"
            row(f"HTTP {page['path']} requests/s ({cpu})", page["per s"])
        row("HTTP queue / minimal", http["queue / minimal"], TARGETS["queue / minimal (HTTP)"])
        if "queue / minimal by round" in http:
            row(
                "HTTP queue / minimal, each round",
                " ".join(map(str, http["queue / minimal by round"])),
            )
            row(
                "HTTP queue / minimal by CPU over all parties (minimal's / queue's)",
                http["queue / minimal by CPU (all parties)"],
            )
    sweep = results.get("sweep", {})
    if "seconds" in sweep:
        row(
            f"SLA sweep: {sweep['sent']:,} reminders, seconds",
            sweep["seconds"],
            TARGETS["sweep 10k seconds"],
        )
        if "cpu seconds" in sweep:  # results written before it was measured have none
            row("SLA sweep: CPU seconds of this process", sweep["cpu seconds"])
        row("SLA sweep: queries per batch constant", sweep["queries per batch constant"])
    intake = results.get("intake", {})
    if "reports/s (end to end)" in intake:
        row(
            f"intake: {intake['reports']} filings, reports/s end to end",
            intake["reports/s (end to end)"],
            TARGETS["intake reports/s"],
        )
        row("intake: reports/s while posting", intake["reports/s (posting)"])
        row("intake: POST p50 / p95 ms", f"{intake['post p50 ms']} / {intake['post p95 ms']}")
        cpu = intake.get("where the CPU went")
        if cpu:
            parts = ", ".join(f"{name} {took}" for name, took in cpu["cpu ms per filing"].items())
            row(f"intake: CPU ms per filing ({parts})", cpu["cpu ms per filing (all parties)"])
            row(
                f"intake: ceiling on {cpu['cores']} cores (reports/s if nothing else ran)",
                cpu["ceiling reports/s (cores / cpu per filing)"],
            )
            row(
                "intake: core-seconds busy / of which other processes",
                f"{cpu['machine busy (all processes, core-seconds)']} / "
                f"{cpu['of which other processes']} in {cpu['wall seconds']} s",
            )
    for name in SECTIONS:
        if name in results and "error" in results[name]:
            error = results[name]["error"].replace("|", "/").replace("\n", " ")
            row(f"{name}: ERROR", error[:300])
    for name in ("queue", "my reports"):
        if name in lists:
            lines += ["", f"## {name}: the queries of page 1 (last request)", "", "```"]
            lines += [*lists[name]["page 1"]["last request's queries"], "```"]
    if "profile of one filing" in intake:
        profile = intake["profile of one filing"]
        lines += [
            "",
            "## Where one filing's time goes",
            "",
            f"One filing in-process (profiled): {profile['ms']} ms, {profile['queries']} queries "
            f"taking {profile['sql ms']} ms of it. cProfile, by cumulative and by own time:",
            "",
            "```",
            profile["cprofile"].strip(),
            "```",
        ]
        if "the queries" in profile:
            lines += ["", "The filing's queries:", "", "```", *profile["the queries"], "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
