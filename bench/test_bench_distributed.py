"""A sweep on a local Dask cluster (--dask local:2) against the same sweep run here.

`make bench` runs an 8-point sweep of scenarios/al_asad_mixes.toml (200 replications per point
and mix) both ways and prints the times, their ratio and the overhead per task; `make test`
runs it once at 20 replications so that it never rots.

Scaling model. A sweep of P points on W single-thread workers takes about

    T(W) = T1 / W + P * o / W + s

with T1 the one-thread compute time, o the overhead of one task (Dask's round trip, ~3 ms
here; shipping the scenario text and the point record; rebuilding and compiling the point's
mixes from the TOML text on the worker, which the local sweep did once while planning: about
0.24 s for the 5 mixes of this scenario, measured on 2 cores) and s
the start (cluster start and one Numba warm-up per worker, seconds; not in the times below).
A local run already uses every core with threads, so on one machine --dask is not faster
(on 2 cores the ratio is about 1, or below for short points, where P * o is not small against
T1); it pays when W is the number of cores of many machines, and when each task is long
against o (hundreds of replications per point, or more).
"""
import os
import time

import pytest

from salvosim.engine.variants import load_scenario, parse_vary_list
from salvosim.engine.views.analysis import dask_point_runner, plan_sweep, sweep_in_memory

distributed = pytest.importorskip("distributed")

MIXES = "scenarios/al_asad_mixes.toml"
VARY = ["raids.0.count=10:80:10"]
WORKERS = 2


def _noop(i):
    return i


def test_sweep_on_a_local_cluster_vs_here(benchmark, flagship, capsys):
    reps = 20 if benchmark.disabled else 200
    plan = plan_sweep(load_scenario(MIXES), parse_vary_list(VARY), None, reps)
    sweep_in_memory(plan_sweep(load_scenario(MIXES), parse_vary_list(VARY), None, 2))  # warm JIT
    t0 = time.perf_counter()
    here = sweep_in_memory(plan)                       # every core, threads
    t_here = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep_in_memory(plan, threads=1)
    t_one = time.perf_counter() - t0
    from salvosim.engine.distributed import NO_DASHBOARD
    with distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                  **NO_DASHBOARD) as cluster, \
            distributed.Client(cluster) as client:
        runner = dask_point_runner(client, plan)
        small = plan_sweep(load_scenario(MIXES), parse_vary_list(VARY), None, 2)
        sweep_in_memory(small, runner=dask_point_runner(client, small))     # warm the workers
        t0 = time.perf_counter()
        futures = client.map(_noop, range(50), pure=False)
        client.gather(futures)
        t_noop = (time.perf_counter() - t0) / 50
        t0 = time.perf_counter()
        dist = benchmark.pedantic(sweep_in_memory, args=(plan,), kwargs={"runner": runner},
                                  rounds=1, warmup_rounds=0)
        t_dist = time.perf_counter() - t0
    assert dist == here      # the same record, bit for bit
    points = len(plan.grid)
    overhead = (WORKERS * t_dist - t_one) / points
    with capsys.disabled():
        print(f"\nsweep of {points} points x {len(plan.names)} mixes x {reps} reps, "
              f"{os.cpu_count()} cores: here (threads) {t_here:.2f} s, here (1 thread) "
              f"{t_one:.2f} s, --dask local:{WORKERS} {t_dist:.2f} s; ratio here/dask "
              f"{t_here / t_dist:.2f}x; overhead per task ~{1000 * overhead:.0f} ms "
              f"(empty task round trip {1000 * t_noop:.1f} ms)")
