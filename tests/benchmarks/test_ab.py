"""benchmarks/ab.py's comparison: medians of each side and of the paired differences, so that a
batch slowed by the shared machine slows its pair and does not decide the result."""

import pytest

from benchmarks import ab


def test_the_change_is_the_median_of_the_paired_differences():
    # The machine slowed down in rounds 3 and 4 (both sides alike): B is 1 ms cheaper throughout.
    a = [{"process": x, "postgres": 1.0} for x in (5.0, 5.2, 9.0, 9.4, 5.1)]
    b = [{"process": x - 1, "postgres": 0.75} for x in (5.0, 5.2, 9.0, 9.4, 5.1)]
    result = ab.compare(a, b)
    assert result["process"] == {"A": 5.2, "B": 4.2, "B - A": -1.0, "B - A %": -19.2}
    assert result["postgres"] == {"A": 1.0, "B": 0.75, "B - A": -0.25, "B - A %": -25.0}


def test_rounds_must_pair_up():
    with pytest.raises(ValueError, match="shorter"):
        ab.compare([{"process": 1.0}] * 3, [{"process": 1.0}] * 2)


def test_the_base_and_the_database_are_required():
    options = ab.arguments(["--database", "disclosure_bench_gen", "--base", "HEAD~1"])
    assert (options.path, options.rounds, options.batch) == ("/reports/", 12, 300)
    with pytest.raises(SystemExit):
        ab.arguments(["--database", "disclosure_bench_gen"])


def test_instructions_are_read_from_callgrinds_dump(tmp_path):
    dump = tmp_path / "callgrind.4242.1"
    dump.write_text(
        "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 4242\n"
        "cmd:  python ab.py\npart: 1\n\ndesc: Trigger: Client Request: dump\n\n"
        "positions: line\nevents: Ir\nsummary: 583103453\n\nfl=(1) python.c\nfn=(1) main\n"
        "0 12\ntotals: 633174099\n"
    )
    assert ab.instructions(dump) == 583103453
    dump.write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no summary"):
        ab.instructions(dump)


def test_instruction_counting_runs_each_side_under_callgrind(tmp_path):
    options = ab.arguments(["--database", "db", "--base", "HEAD", "--instructions"])
    assert options.instructions
    assert ab.own_figure(options) == "Minstr"
    assert ab.own_figure(ab.arguments(["--database", "db", "--base", "HEAD"])) == "process"
    command = ab.callgrind_command(["python", "ab.py", "--child", "x"], tmp_path)
    assert command == [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp_path}/callgrind.%p",
        "python", "ab.py", "--child", "x",
    ]  # fmt: skip


def test_the_counter_counts_what_runs_between_start_and_stop(tmp_path):
    """A process under callgrind counts a loop twice as long as twice the instructions, and the
    same loop again as the same count: what the counter measures is the work, not the clock."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path\n"
        "from benchmarks.ab import Counter\n"
        "counter = Counter(Path(sys.argv[2]))\n"
        "for n in (20000, 40000, 20000):\n"
        "    counter.start(); sum(i * i for i in range(n)); print(counter.stop())\n"
    )
    repo = Path(ab.__file__).resolve().parent.parent
    done = subprocess.run(
        ab.callgrind_command([sys.executable, "-c", script, str(repo), str(tmp_path)], tmp_path),
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    once, twice, again = map(int, done.stdout.split())
    assert 1.8 < twice / once < 2.2
    assert abs(again - once) / once < 0.01
