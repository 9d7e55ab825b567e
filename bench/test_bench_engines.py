"""Speed of the flagship scenario: numba engine (1 and 2 threads) and reference engine.

`make bench` times them (JIT warmed first) and prints the ratios measured in this one run;
`make test` runs each once with --benchmark-disable so that the benchmarks never rot.
"""
import pytest

from bench.conftest import record
from salvosim.engine.montecarlo import run_block_numba, run_block_reference

NUMBA_REPS = 512
REFERENCE_REPS = 2


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
