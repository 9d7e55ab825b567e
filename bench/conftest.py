"""Benchmark fixtures and the one-run ratio summary (numba engine vs reference engine)."""
import pytest

RATES: dict[str, float] = {}   # benchmark name -> replications per second


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


def pytest_terminal_summary(terminalreporter):
    if not RATES:
        return
    tr = terminalreporter
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
