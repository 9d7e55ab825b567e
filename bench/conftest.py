"""Benchmark fixtures and the one-run summary: flagship rates and their ratios (numba engine vs
reference engine), raid-size scaling with its fitted exponent, startup times and peak memory."""
import math

import pytest

RATES: dict[str, float] = {}   # benchmark name -> replications per second
SCALING: dict[str, list[tuple[int, float]]] = {}   # raid shape -> [(threats, seconds per rep)]
NOTES: dict[str, str] = {}     # other measurements, one printed line each (name -> value text)
VALUES: dict[str, float] = {}  # cold_compile_s, warm_run_s, memory_ratio, geometry_ms (targets)

# Issue 11's targets: (what, key, kind, target); kind "min" (at least) or "max" (at most).
TARGETS = [
    ("flagship, 2 threads (reps/s)", "numba_2_threads", "min", 5000.0),
    ("flagship, 1 thread (reps/s)", "numba_1_thread", "min", 2500.0),
    ("numba per core / reference", "per_core_over_reference", "min", 250.0),
    ("cost per replication, dense (exponent)", "exponent_dense", "max", 1.1),
    ("cold compile (s)", "cold_compile_s", "max", 20.0),
    ("warm run, 1,000 replications (s)", "warm_run_s", "max", 1.0),
    ("peak memory, 100k / 10k replications", "memory_ratio", "max", 1.1),
    ("draws + geometry per replication (ms)", "geometry_ms", "max", 0.25),
]


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


def record_seconds_per_rep(shape: str, threats: int, seconds_per_rep: float) -> None:
    """One point of the raid-size scaling."""
    SCALING.setdefault(shape, []).append((threats, seconds_per_rep))


def fit_exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(seconds per replication) against log(threats)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))


def target_rows(rates: dict, scaling: dict, values: dict) -> list[tuple[str, float, str, bool]]:
    """(what, measured, target text, met) for each target this run measured."""
    measured = dict(values)
    for name in ("numba_2_threads", "numba_1_thread"):
        if name in rates:
            measured[name] = rates[name]
    if rates.get("numba_1_thread") and rates.get("reference"):
        measured["per_core_over_reference"] = rates["numba_1_thread"] / rates["reference"]
    for shape, points in scaling.items():
        if len(points) >= 2:
            measured[f"exponent_{shape}"] = fit_exponent(sorted(points))
    rows = []
    for what, key, kind, target in TARGETS:
        if key in measured:
            value = measured[key]
            met = value >= target if kind == "min" else value <= target
            rows.append((what, value, f"{'>=' if kind == 'min' else '<='} {target:g}", met))
    return rows


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
    rows = target_rows(RATES, SCALING, VALUES)
    if rows:
        from bench.guard import machine
        host = machine()
        tr.section("salvosim: issue 11's targets (this run)")
        tr.write_line(f"on {host['cpu']}, {host['cores']} cores: absolute targets depend on "
                      "the CPU (the guard's calibration time compares hosts)")
        for what, value, target, met in rows:
            shown = (f"{value:,.1f}" if value >= 100 else f"{value:.2f}" if value >= 10
                     else f"{value:.4f}")    # enough digits to tell a near miss from a hit
            tr.write_line(f"{what:42s} {shown:>10s}   target {target:8s} "
                          f"{'met' if met else 'NOT MET'}")
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
