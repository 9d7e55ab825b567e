"""A cold compile on two cores (montecarlo.compile_in_two_processes): a second process compiles
kernel.run_events into Numba's cache while the first compiles the rest, and run_chunk uses
exactly what the second process compiled."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from salvosim.engine import montecarlo
from tests.scenario_kit import compile_file

TINY = "scenarios/tower22_drone.toml"


def test_a_cold_run_compiles_the_event_loop_once_in_two_processes(tmp_path):
    """A run with an empty cache: the event loop compiled by the second process is the one
    run_chunk loads, and the functions each process compiles for the other (targeting and
    reset_state and finish_replication in the second, central_c2 and c2_assign in the first) are
    the ones the event loop and run_chunk call: one compiled version of each in the cache, not
    two."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "SALVOSIM_COMPILE_PROCESSES": "2"}
    # Then, in the same process, the reference engine, whose prepare_replication links its own
    # copy of instances.prepare: run_chunk's copies are internal and renamed (engine/jit.py),
    # so nothing sends it to a copy with fewer arguments (that crashed the interpreter).
    runs = (f"from salvosim.engine.cli import main; import sys; "
            f"sys.exit(main(['run', {TINY!r}, '--reps', '2', '--threads', '2', '--quiet', "
            f"'--json', {str(tmp_path / 'numba.json')!r}]) "
            f"or main(['run', {TINY!r}, '--reps', '2', '--engine', 'reference', '--quiet', "
            f"'--json', {str(tmp_path / 'reference.json')!r}]))")
    out = subprocess.run([sys.executable, "-c", runs], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    fast, ref = (json.loads((tmp_path / f"{e}.json").read_text()) for e in ("numba", "reference"))
    for key in ("leakers", "by_raid", "by_unit", "not_engaged"):
        assert fast[key] == ref[key], key
    cached = [p.name for p in Path(tmp_path / "cache").rglob("*.nbc")]
    for name in ("kernel.run_events", "kernel.run_chunk", "kernel.finish_replication",
                 "kernel.reset_state", "instances.prepare-", "kernel.select_target",
                 "kernel.full_scan_target", "kernel.c2_assign", "kernel.central_c2"):
        versions = [c for c in cached if c.startswith(name)]
        assert len(versions) == 1, (name, versions)


def test_the_second_process_status_and_its_failures(monkeypatch):
    sc = compile_file(Path(TINY))
    assert montecarlo.compile_in_two_processes(sc) == 0       # the cache is warm: it loads
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import sys; sys.exit(3)")
    assert montecarlo.compile_in_two_processes(sc) == 3
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import time; time.sleep(60)")
    monkeypatch.setattr(montecarlo, "COMPILE_CHILD_TIMEOUT_S", 0.5)
    assert montecarlo.compile_in_two_processes(sc) not in (0, None)   # stopped, not waited for
    # whatever the second process did, the run is the run
    block = montecarlo.run_block_numba(sc, 1, 0, 3, 2)
    assert np.array_equal(block.fate, montecarlo.run_block_numba(sc, 1, 0, 3, 1).fate)
