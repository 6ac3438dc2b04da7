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
