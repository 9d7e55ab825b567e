"""Cost per replication against raid size: the flagship raid scaled from 26 to 400 threats.

Every raid of scenarios/al_asad_drone_raid.toml (100 threats) has its `count` scaled by the same
factor (rounded, at least 1). Two shapes:

- `dense`: each raid keeps its time span (interval_s shrinks as count grows), so the arrival
  rate grows with the raid: 400 threats arrive in the window of the original 100, the
  saturation case the issue asks about;
- `spread`: interval_s is kept, so a larger raid lasts longer at the same arrival rate.

`make bench` times the numba engine on one thread (JIT warmed first; the fastest of 9 rounds,
the least disturbed by other jobs on a shared machine) at 26, 50, 100, 200 and
400 threats and prints, per shape, the milliseconds per replication and the exponent k of a
least-squares fit of log(time per replication) on log(threats): time ~ n^k (issue 11's target:
k <= 1.1). `make test` runs two small sizes for a couple of replications so it never rots.
"""
import copy
import tomllib

import pytest

from bench.conftest import record_seconds_per_rep
from salvosim.engine.compile import compile_scenario
from salvosim.engine.montecarlo import run_block_numba
from salvosim.engine.variants import scenario_from_data

FLAGSHIP = "scenarios/al_asad_drone_raid.toml"
SIZES = [26, 50, 100, 200, 400]           # threats (the flagship has 100)
QUICK_SIZES = [26, 50]                    # `make test` (--benchmark-disable)
WORK_PER_ROUND = 2000                     # threat-replications per timed round (~0.1-0.3 s)


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


@pytest.mark.parametrize("shape", ["dense", "spread"])
@pytest.mark.parametrize("threats", SIZES)
def test_numba_cost_per_replication_vs_raid_size(benchmark, flagship, shape, threats):
    if benchmark.disabled and threats not in QUICK_SIZES:
        pytest.skip("make test runs the small sizes only (make bench runs them all)")
    sc = scaled_flagship(threats, dense=shape == "dense")
    n_threats = len(sc.th_raid)
    reps = 2 if benchmark.disabled else max(4, WORK_PER_ROUND // threats)
    run_block_numba(sc, 1, 0, 2, threads=1)         # warm: this scenario's sizes, its heap
    block = benchmark.pedantic(run_block_numba, args=(sc, 1, 0, reps, 1), rounds=9,
                               warmup_rounds=1)
    assert block.fate.shape == (reps, n_threats)
    record_seconds_per_rep(benchmark, shape, n_threats, reps)
