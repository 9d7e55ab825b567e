"""Benchmark fixtures and the one-run summary: flagship rates and their ratios (numba engine vs
reference engine), raid-size scaling with its fitted exponent, startup times and peak memory."""
import math

import pytest

RATES: dict[str, float] = {}   # benchmark name -> replications per second
SCALING: dict[str, list[tuple[int, float]]] = {}   # raid shape -> [(threats, seconds per rep)]
NOTES: dict[str, str] = {}     # other measurements, one printed line each (name -> value text)


@pytest.fixture(scope="session")
def flagship():
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import run_block_numba, run_block_reference
    from salvosim.engine.variants import load_scenario
    sc, labels = compile_scenario(load_scenario("scenarios/al_asad_drone_raid.toml"))
    run_block_numba(sc, 1, 0, 4, threads=1)        # warm the JIT (or load its cache)
    run_block_reference(sc, 1, 0, 1)               # ... and the reference's specializations
    return sc, labels


def record(benchmark, name: str, reps_per_call: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        RATES[name] = reps_per_call / stats.stats.mean


def record_seconds_per_rep(benchmark, shape: str, threats: int, reps_per_call: int) -> None:
    """One point of the raid-size scaling (the fastest round: the least disturbed by other jobs)."""
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        SCALING.setdefault(shape, []).append((threats, stats.stats.min / reps_per_call))


def fit_exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(seconds per replication) against log(threats)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    if SCALING:
        tr.section("salvosim: cost per replication vs raid size (numba, 1 thread, this run)")
        for shape, points in SCALING.items():
            points = sorted(points)
            for n, t in points:
                tr.write_line(f"{shape:8s} {n:5d} threats {t * 1e3:10.3f} ms/rep")
            if len(points) >= 2:
                tr.write_line(f"{shape:8s} time per replication ~ n^{fit_exponent(points):.2f} "
                              f"({points[0][0]}..{points[-1][0]} threats; target <= n^1.1)")
    if NOTES:
        tr.section("salvosim: startup, whole-process time and memory (this run)")
        for name, text in NOTES.items():
            tr.write_line(f"{name:42s} {text}")
    if not RATES:
        return
    tr.section("salvosim: replications per second (flagship, this run)")
    for name, rate in RATES.items():
        tr.write_line(f"{name:28s} {rate:12.1f} reps/s")
    ref = RATES.get("reference")
    one = RATES.get("numba_1_thread")
    two = RATES.get("numba_2_threads")
    if ref and one:
        tr.write_line(f"numba (1 thread) / reference: {one / ref:8.1f}x")
    if one and two:
        tr.write_line(f"numba 2 threads / 1 thread:   {two / one:8.2f}x")
