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

With `--instructions` each process runs under valgrind's callgrind and a batch reports the
instructions it executed per request instead of its CPU time: the same code gives the same count
(within a tenth of a per cent) however loaded the machine is, so a few small batches rank a
change of a few per cent. Instructions are not time (system calls and cache misses are not in
them); the PostgreSQL figure stays its backend's CPU.
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
    parser.add_argument(
        "--instructions", action="store_true",
        help="count instructions under valgrind's callgrind instead of CPU time "
        "(repeatable; try --rounds 2 --batch 40: each request runs ~50 times slower)",
    )  # fmt: skip
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a checkout to serve
    parser.add_argument("--dumps", type=Path, help=argparse.SUPPRESS)  # callgrind's, per child
    return parser.parse_args(argv)


def instructions(dump):
    """The instructions counted in one of callgrind's dumps (its `summary:` line)."""
    for line in Path(dump).read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise ValueError(f"{dump}: no summary line")


def callgrind_command(command, dumps):
    """`command` run under callgrind, its dumps written as `dumps`/callgrind.<pid>.<n>."""
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dumps}/callgrind.%p", *command]


class Counter:
    """The instructions this process (run under callgrind) executes between `start` and `stop`:
    callgrind_control zeroes the counts and then writes them out, dump after dump."""

    def __init__(self, dumps):
        self.dumps, self.made = dumps, 0

    def control(self, *arguments):
        subprocess.run(  # noqa: S603 - valgrind's own tool, our arguments
            ["callgrind_control", *arguments, str(os.getpid())],  # noqa: S607
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self):
        self.control("--zero")

    def stop(self):
        self.control("--dump")
        self.made += 1
        return instructions(self.dumps / f"callgrind.{os.getpid()}.{self.made}")


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


def serve(checkout, database, path, dumps=None):
    """The child: `checkout`'s code serving `path` in-process; per line of stdin (a number of
    requests) one line out: the process's CPU ms per request (with `dumps`, under callgrind:
    its millions of instructions per request) and its PostgreSQL backend's CPU ms per request."""
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
    counter = Counter(dumps) if dumps else None
    print("ready", flush=True)
    for line in sys.stdin:
        requests = int(line)
        if counter:
            counter.start()
        began, server = time.process_time(), run.cpu_seconds(backend)
        for _ in range(requests):
            run.get(client, path)
        own = (time.process_time() - began) * 1000 / requests
        postgres = (run.cpu_seconds(backend) - server) * 1000 / requests
        if counter:
            own = counter.stop() / requests / 1e6
        print(f"{own:.4f} {postgres:.4f}", flush=True)


def main():
    options = arguments()
    if options.child:
        return serve(options.child, options.database, options.path, options.dumps)
    with tempfile.TemporaryDirectory(prefix="disclosure-ab-base-") as base:
        subprocess.run(  # noqa: S603 - git with our own arguments
            ["git", "worktree", "add", "--detach", base, options.base],  # noqa: S607
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        try:
            with tempfile.TemporaryDirectory(prefix="disclosure-ab-callgrind-") as dumps:
                options.dumps = Path(dumps) if options.instructions else None
                return measure(options, {"A": Path(base), "B": REPO})
        finally:
            subprocess.run(  # noqa: S603
                ["git", "worktree", "remove", "--force", base],  # noqa: S607
                cwd=REPO, check=False, capture_output=True,
            )  # fmt: skip


def child(options, checkout):
    """A process serving the page with `checkout`'s code (serve)."""
    command = [sys.executable, __file__, "--child", str(checkout), "--database", options.database,
               "--base", options.base, "--path", options.path]  # fmt: skip
    if options.dumps:
        command = callgrind_command([*command, "--dumps", str(options.dumps)], options.dumps)
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script (under valgrind)
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def own_figure(options):
    return "Minstr" if options.instructions else "process"


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
            batches[side].append({own_figure(options): own, "postgres": postgres})
    for process in children.values():
        process.stdin.close()
        process.wait()
    unit = "millions of instructions (Minstr)" if options.instructions else "CPU ms"
    print(f"A = {options.base}, B = this checkout; {options.path}, {options.rounds} rounds of "
          f"{options.batch} requests; {unit} per request (postgres: CPU ms)")  # fmt: skip
    for figure, result in compare(batches["A"], batches["B"]).items():
        print(f"{figure:9} A {result['A']:7.3f}  B {result['B']:7.3f}  "
              f"B - A {result['B - A']:+.3f} ({result['B - A %']:+.1f} %)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
