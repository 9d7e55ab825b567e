"""Cost per replication against raid size: the flagship raid scaled from 26 to 400 threats.

Every raid of scenarios/al_asad_drone_raid.toml (100 threats) has its `count` scaled by the same
factor (rounded, at least 1). Two shapes:

- `dense`: each raid keeps its time span (interval_s shrinks as count grows), so the arrival
  rate grows with the raid: 400 threats arrive in the window of the original 100, the
  saturation case the issue asks about;
- `spread`: interval_s is kept, so a larger raid lasts longer at the same arrival rate.

`make bench` times the numba engine on one thread (JIT warmed first) at 26, 50, 100, 200 and
400 threats, in 9 rounds that each time every size once (interleaved, so that a shared machine
whose speed drifts slows all sizes alike), takes each size's fastest run, and prints, per
shape, the milliseconds per replication and the exponent k of a least-squares fit of
log(time per replication) on log(threats): time ~ n^k (issue 11's target: k <= 1.1). `make test`
runs two small sizes for a couple of replications so it never rots.
"""
import copy
import functools
import math
import time
import tomllib

import pytest

from bench.conftest import record_seconds_per_rep
from salvosim.engine.compile import compile_scenario
from salvosim.engine.montecarlo import run_block_numba
from salvosim.engine.variants import scenario_from_data

FLAGSHIP = "scenarios/al_asad_drone_raid.toml"
SIZES = [26, 50, 100, 200, 400]           # threats (the flagship has 100)
QUICK_SIZES = [26, 50]                    # `make test` (--benchmark-disable)
WORK_PER_ROUND = 4000                     # threat-replications per timed run (30-70 ms)
ROUNDS = 9


def scaled_raid_data(data: dict, threats: int, dense: bool) -> dict:
    """The scenario data with every raid's count scaled so that the total is about `threats`."""
    out = copy.deepcopy(data)
    factor = threats / sum(r["count"] for r in data["raids"])
    for raid in out["raids"]:
        count0 = raid["count"]
        raid["count"] = max(1, round(count0 * factor))
        if dense and count0 > 1 and raid["count"] > 1 and "interval_s" in raid:
            raid["interval_s"] = raid["interval_s"] * (count0 - 1) / (raid["count"] - 1)
    return out


def scaled_flagship(threats: int, dense: bool):
    with open(FLAGSHIP, "rb") as f:
        data = tomllib.load(f)
    sc, _ = compile_scenario(scenario_from_data(scaled_raid_data(data, threats, dense), FLAGSHIP))
    return sc


def test_scaled_raid_counts():
    with open(FLAGSHIP, "rb") as f:
        data = tomllib.load(f)
    for threats in SIZES:
        for dense in (False, True):
            scaled = scaled_raid_data(data, threats, dense)
            total = sum(r["count"] for r in scaled["raids"])
            assert abs(total - threats) <= len(data["raids"]) // 2 + 1
            for r0, r in zip(data["raids"], scaled["raids"]):
                span0 = r0.get("interval_s", 0.0) * (r0["count"] - 1)
                span = r.get("interval_s", 0.0) * (r["count"] - 1)
                if dense and r["count"] > 1:
                    assert span == pytest.approx(span0)
                elif not dense:
                    assert r.get("interval_s") == r0.get("interval_s")
    assert sum(r["count"] for r in data["raids"]) == 100        # the sizes assume the flagship's


def interleaved_minimum_seconds(runs: list, rounds: int) -> list[float]:
    """The fastest of `rounds` timings of each run (a no-argument callable), the runs taken in
    turn in every round: a machine whose speed drifts (a shared host) slows every size alike
    instead of the sizes timed last."""
    best = [math.inf] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            t0 = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("shape", ["dense", "spread"])
def test_numba_cost_per_replication_vs_raid_size(benchmark, flagship, shape):
    sizes = QUICK_SIZES if benchmark.disabled else SIZES
    cases = []
    for threats in sizes:
        sc = scaled_flagship(threats, dense=shape == "dense")
        reps = 2 if benchmark.disabled else max(4, WORK_PER_ROUND // threats)
        block = run_block_numba(sc, 1, 0, reps, threads=1)  # warm: its sizes, its heap
        assert block.fate.shape == (reps, len(sc.th_raid))
        cases.append((len(sc.th_raid), reps, functools.partial(run_block_numba, sc, 1, 0, reps, 1)))
    rounds = 1 if benchmark.disabled else ROUNDS
    best = benchmark.pedantic(interleaved_minimum_seconds,
                              args=([run for _, _, run in cases], rounds), rounds=1,
                              warmup_rounds=0)
    assert all(0.0 < seconds < math.inf for seconds in best)
    if not benchmark.disabled:
        for (n_threats, reps, _), seconds in zip(cases, best):
            record_seconds_per_rep(shape, n_threats, seconds / reps)


def test_interleaved_timing_takes_turns_and_keeps_each_fastest(monkeypatch):
    calls, clock = [], iter([0.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 10.0])   # run a: 3 then 1 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    best = interleaved_minimum_seconds([lambda: calls.append("a"), lambda: calls.append("b")],
                                       rounds=2)
    assert calls == ["a", "b", "a", "b"]
    assert best == [1.0, 1.0]                      # a: min(3, 1); b: min(1, 5)
