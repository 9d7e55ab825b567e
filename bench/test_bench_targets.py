"""The targets table of `make bench` (bench/conftest.target_rows): each target is met or not by
the measured value, at least or at most as the issue states it, and only measured ones show."""
import math

import pytest

from bench.conftest import TARGETS, target_rows


def test_targets_are_judged_at_least_or_at_most():
    rates = {"numba_2_threads": 5000.0, "numba_1_thread": 2499.0, "reference": 10.0}
    points = [(26, 26e-6), (400, 400e-6 * (400 / 26) ** 0.2)]      # exponent 1.2 exactly
    values = {"cold_compile_s": 20.0, "warm_run_s": 1.01, "memory_ratio": 1.002,
              "geometry_ms": 0.26}
    rows = {what: (value, met) for what, value, _, met in target_rows(
        rates, {"dense": points, "spread": [(26, 1.0), (400, 1.0)]}, values)}
    assert rows["flagship, 2 threads (reps/s)"] == (5000.0, True)          # exactly: met
    assert rows["flagship, 1 thread (reps/s)"] == (2499.0, False)
    assert rows["numba per core / reference"] == (pytest.approx(249.9), False)
    value, met = rows["cost per replication, dense (exponent)"]
    assert value == pytest.approx(1.2) and not met
    assert rows["cold compile (s)"] == (20.0, True)
    assert rows["warm run, 1,000 replications (s)"] == (1.01, False)
    assert rows["peak memory, 100k / 10k replications"] == (1.002, True)
    assert rows["draws + geometry per replication (ms)"] == (0.26, False)
    assert len(rows) == len(TARGETS)          # the spread exponent is printed, not a target


def test_only_measured_targets_are_listed():
    assert target_rows({}, {}, {}) == []
    rows = target_rows({"numba_1_thread": 3000.0}, {"dense": [(26, 1.0)]}, {})
    assert [what for what, *_ in rows] == ["flagship, 1 thread (reps/s)"]
    assert all(not math.isnan(value) for _, value, _, _ in rows)
