"""Shared fixtures: the Numba JIT is warmed once per test session (cache=True keeps it)."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def warm_jit():
    """Compile (or load from the cache) every kernel once, on a tiny scenario."""
    from salvosim.engine.montecarlo import run_compiled
    from tests.scenario_kit import compile_dict, oracle_scenario
    sc, labels = compile_dict(oracle_scenario())
    run_compiled(sc, labels, reps=2, seed=1, engine="numba", threads=1)
    return True


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20261124)
