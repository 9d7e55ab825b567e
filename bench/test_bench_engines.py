"""Speed of the flagship scenario: numba engine (1 and 2 threads) and reference engine.

`make bench` times them (JIT warmed first) and prints the ratios measured in this one run;
`make test` runs each once with --benchmark-disable so that the benchmarks never rot.
"""
import numpy as np
import pytest
from numba import njit

from bench.conftest import VALUES, record
from salvosim.engine.instances import new_instances, prepare
from salvosim.engine.jit import JIT
from salvosim.engine.montecarlo import run_block_numba, run_block_reference

NUMBA_REPS = 512
REFERENCE_REPS = 2
GEOMETRY_REPS = 2000


@njit(**JIT)
def prepare_replications(sc, seed, rep0, n_reps, inst):
    """instances.prepare (the draws, detections and windows of a replication, before its event
    loop) for replications rep0 .. rep0+n_reps-1, as run_chunk calls it: one call from Python
    for all of them, so that the time is the geometry's, not the call's."""
    for rep in range(rep0, rep0 + n_reps):
        prepare(sc, seed, rep, inst)


@pytest.mark.parametrize("threads", [1, 2])
def test_numba_engine_flagship(benchmark, flagship, threads):
    sc, _ = flagship
    block = benchmark.pedantic(run_block_numba, args=(sc, 1, 0, NUMBA_REPS, threads),
                               rounds=5, warmup_rounds=1)
    assert (block.fate > 0).all()
    record(benchmark, "numba_1_thread" if threads == 1 else "numba_2_threads", NUMBA_REPS)


def test_reference_engine_flagship(benchmark, flagship):
    sc, _ = flagship
    block = benchmark.pedantic(run_block_reference, args=(sc, 1, 0, REFERENCE_REPS),
                               rounds=5, warmup_rounds=1)
    assert (block.fate > 0).all()
    record(benchmark, "reference", REFERENCE_REPS)


def test_numba_engine_flagship_10000_replications(benchmark, flagship):
    """The planner's run: 10,000 replications on 2 threads (target <= 2 s)."""
    sc, _ = flagship
    reps = 200 if benchmark.disabled else 10000     # `make test` only checks it still runs
    block = benchmark.pedantic(run_block_numba, args=(sc, 1, 0, reps, 2), rounds=1,
                               warmup_rounds=0)
    assert block.fate.shape[0] == reps
    record(benchmark, "numba_2_threads_10k", reps)


def test_geometry_per_flagship_replication(benchmark, flagship):
    """Draws + detections + engagement windows of one flagship replication (issue 11: <= 0.25 ms),
    on one thread."""
    sc, _ = flagship
    inst = new_instances(sc)
    reps = 20 if benchmark.disabled else GEOMETRY_REPS
    benchmark.pedantic(prepare_replications, args=(sc, 1, 0, reps, inst), rounds=5,
                       warmup_rounds=1)
    assert np.isfinite(inst.t_end).all() and (inst.t_end > inst.t_launch).all()
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        VALUES["geometry_ms"] = stats.stats.mean / reps * 1e3
