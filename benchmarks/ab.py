"""A/B in one run: the CPU per request of one page in two checkouts, in alternating batches.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python benchmarks/ab.py --database disclosure_bench_gen --base HEAD~1

On a shared machine the same code reads a fifth to a half apart in runs minutes apart, so a
change is ranked against its base measured beside it: two processes (this checkout, and `--base`
checked out into a temporary git worktree) each serve `--path` to the maintainer in-process
(Django's test client, run.py's production settings), taking turns for `--rounds` batches of
`--batch` requests, the first turn alternating. Each batch reports the process's CPU per request
and that of the PostgreSQL backend serving it. The figures are the medians and the median of
the paired differences (B - A). Prints only. See benchmarks/README.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a database generate.py --keep made")
    parser.add_argument("--base", required=True, help="the commit to compare with (A)")
    parser.add_argument("--path", default="/reports/", help="the page (default the queue)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch", type=int, default=300, help="requests per turn")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a checkout to serve
    return parser.parse_args(argv)


def compare(a, b):
    """Medians of each side's batches and of the paired differences (B - A), by figure:
    `a`, `b`: lists of {figure: ms per request}, one per round."""
    result = {}
    for figure in a[0]:
        median_a = statistics.median(batch[figure] for batch in a)
        change = statistics.median(y[figure] - x[figure] for x, y in zip(a, b, strict=True))
        result[figure] = {
            "A": round(median_a, 3),
            "B": round(statistics.median(batch[figure] for batch in b), 3),
            "B - A": round(change, 3),
            "B - A %": round(100 * change / median_a, 1),
        }
    return result


def serve(checkout, database, path):
    """The child: `checkout`'s code serving `path` in-process; per line of stdin (a number of
    requests) one line out: the process's and its PostgreSQL backend's CPU ms per request."""
    sys.path.insert(0, str(checkout))
    os.chdir(checkout)
    from benchmarks import run

    work = Path(tempfile.mkdtemp(prefix="disclosure-ab-"))
    run.production_environment(
        static_root=work / "static", attachment_root=work / "attachments", port=8000
    )
    run.point_at(database)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)
    client = run.client_for(get_user_model().objects.get(email=run.MAINTAINER))
    for _ in range(100):  # warm: imports, caches, prepared statements
        run.get(client, path)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    print("ready", flush=True)
    for line in sys.stdin:
        requests = int(line)
        began, server = time.process_time(), run.cpu_seconds(backend)
        for _ in range(requests):
            run.get(client, path)
        own = (time.process_time() - began) * 1000 / requests
        postgres = (run.cpu_seconds(backend) - server) * 1000 / requests
        print(f"{own:.4f} {postgres:.4f}", flush=True)


def main():
    options = arguments()
    if options.child:
        return serve(options.child, options.database, options.path)
    with tempfile.TemporaryDirectory(prefix="disclosure-ab-base-") as base:
        subprocess.run(  # noqa: S603 - git with our own arguments
            ["git", "worktree", "add", "--detach", base, options.base],  # noqa: S607
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        try:
            return measure(options, {"A": Path(base), "B": REPO})
        finally:
            subprocess.run(  # noqa: S603
                ["git", "worktree", "remove", "--force", base],  # noqa: S607
                cwd=REPO, check=False, capture_output=True,
            )  # fmt: skip


def child(options, checkout):
    """A process serving the page with `checkout`'s code (serve)."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--child", str(checkout), "--database", options.database,
         "--base", options.base, "--path", options.path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def measure(options, checkouts):
    children = {side: child(options, checkout) for side, checkout in checkouts.items()}
    for side, process in children.items():
        if process.stdout.readline().strip() != "ready":
            sys.exit(f"{side} ({checkouts[side]}) did not start")
    batches = {side: [] for side in children}
    for turn in range(options.rounds):
        for side in ("A", "B") if turn % 2 == 0 else ("B", "A"):
            children[side].stdin.write(f"{options.batch}\n")
            children[side].stdin.flush()
            own, postgres = map(float, children[side].stdout.readline().split())
            batches[side].append({"process": own, "postgres": postgres})
    for process in children.values():
        process.stdin.close()
        process.wait()
    print(f"A = {options.base}, B = this checkout; {options.path}, {options.rounds} rounds of "
          f"{options.batch} requests; CPU ms per request")  # fmt: skip
    for figure, result in compare(batches["A"], batches["B"]).items():
        print(f"{figure:9} A {result['A']:7.3f}  B {result['B']:7.3f}  "
              f"B - A {result['B - A']:+.3f} ({result['B - A %']:+.1f} %)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
