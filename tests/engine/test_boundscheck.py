"""The kernel indexes its hot loops with unsigned values (ARCHITECTURE.md, Numba discipline):
a negative index cast to uint64 would read outside its row silently, since the kernel compiles
without bounds checks. This run compiles everything with Numba's bounds checks on (its own
cache) and runs every bundled scenario in both engines: an index out of bounds raises there.
The outcomes must be those of the normal build. Slow (a cold compile): `pytest -m slow`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def run_all(out_dir: Path, env: dict) -> dict:
    results = {}
    for scenario in SCENARIOS:
        for engine, reps in (("numba", "40"), ("reference", "2")):
            out = out_dir / f"{scenario.stem}_{engine}.json"
            done = subprocess.run(
                [sys.executable, "-m", "salvosim.engine.cli", "run", str(scenario), "--reps",
                 reps, "--seed", "5", "--engine", engine, "--quiet", "--json", str(out)],
                cwd=ROOT, env=env, capture_output=True, text=True)
            assert done.returncode == 0, (scenario.name, engine, done.stderr[-2000:])
            data = json.loads(out.read_text())
            results[(scenario.stem, engine)] = {k: data[k] for k in ("leakers", "by_unit")}
    return results


@pytest.mark.slow
def test_every_bundled_scenario_runs_with_bounds_checks_and_the_same_outcomes(tmp_path):
    checked_env = dict(os.environ, NUMBA_BOUNDSCHECK="1",
                       NUMBA_CACHE_DIR=str(tmp_path / "checked-cache"))
    (tmp_path / "checked").mkdir()
    (tmp_path / "normal").mkdir()
    checked = run_all(tmp_path / "checked", checked_env)
    normal = run_all(tmp_path / "normal", dict(os.environ))
    assert checked == normal
