"""Shared fixtures: the Numba JIT is warmed once per test session (cache=True keeps it)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = "scenarios/tower22_drone.toml"
COLD_RUN: dict = {}     # what warm_jit's cold run left (when it found the cache cold)


def cold_run(out_dir: Path, cache_dir: Path | None = None) -> tuple[subprocess.CompletedProcess,
                                                                   list[str]]:
    """`salvosim run` of TINY on the numba engine, compiled in two processes when the cache is
    cold, then on the reference engine, in one new Python process (its JSON results in
    out_dir/numba.json and out_dir/reference.json). Returns the process and the names of the
    compiled files in the cache afterwards (cache_dir, else Numba's own: NUMBA_CACHE_DIR or the
    sources' __pycache__ folders)."""
    env = {**os.environ, "SALVOSIM_COMPILE_PROCESSES": "2"}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    runs = (f"from salvosim.engine.cli import main; import sys; "
            f"sys.exit(main(['run', {TINY!r}, '--reps', '2', '--threads', '2', '--quiet', "
            f"'--json', {str(out_dir / 'numba.json')!r}]) "
            f"or main(['run', {TINY!r}, '--reps', '2', '--engine', 'reference', '--quiet', "
            f"'--json', {str(out_dir / 'reference.json')!r}]))")
    out = subprocess.run([sys.executable, "-c", runs], env=env, capture_output=True, text=True,
                         cwd=ROOT)
    cache = cache_dir or os.environ.get("NUMBA_CACHE_DIR")
    roots = [Path(cache)] if cache else [ROOT / d for d in ("engine", "defenses", "threats",
                                                            "bases", "salvosim")]
    return out, [p.name for root in roots for p in root.rglob("*.nbc")]


@pytest.fixture(scope="session")
def warm_jit(tmp_path_factory):
    """Compile (or load from the cache) every kernel once, on a tiny scenario. With a cold
    cache (CI), the compile is tests/engine/test_cold_compile.py's cold run, in a new process,
    and that test checks what it left (one cold compile per session, not two)."""
    from salvosim.engine.montecarlo import jit_cache_is_cold, run_compiled
    if jit_cache_is_cold():
        out_dir = tmp_path_factory.mktemp("cold_run")
        out, cached = cold_run(out_dir)
        COLD_RUN.update(out=out, cached=cached, out_dir=out_dir)
    from tests.scenario_kit import compile_dict, oracle_scenario
    sc, labels = compile_dict(oracle_scenario())
    run_compiled(sc, labels, reps=2, seed=1, engine="numba", threads=1)
    return True


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20261124)
