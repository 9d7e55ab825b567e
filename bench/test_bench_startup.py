"""Whole-process costs of the CLI, and the CI speed guard (bench/guard.py).

`make bench` measures, each in a subprocess:
- cold compile: `salvosim run scenarios/tower22_drone.toml --reps 2` with an empty
  NUMBA_CACHE_DIR (every njit function compiled; about a minute on 2 cores);
- warm whole process: `salvosim run scenarios/al_asad_drone_raid.toml --reps 1000 --quiet`
  (after one warm run: the cache loaded, not compiled);
- peak memory (maximum resident set) of the flagship at 10,000 and 100,000 replications and
  their ratio (issue 11's target: within 10 %: the accumulators have a fixed size). The
  100,000-replication run takes minutes until the engine is faster
  (SALVOSIM_BENCH_MEMORY_REPS=1000,10000 picks other sizes);
- the guard: flagship rate / calibration score against bench/baseline.json (fails when more
  than 30 % below).
`make test` (--benchmark-disable) runs the same commands at tiny sizes (the cache warm; 10 to 40
replications) and checks the guard's arithmetic and calibration without timing anything.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench import guard
from bench.conftest import NOTES, VALUES

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = "scenarios/al_asad_drone_raid.toml"
TINY = "scenarios/tower22_drone.toml"
_script = Path(sys.executable).with_name("salvosim")
SALVOSIM = [str(_script)] if _script.exists() else [sys.executable, "-m", "salvosim.engine.cli"]
TIME = "/usr/bin/time"
# the two sizes of the memory comparison (e.g. SALVOSIM_BENCH_MEMORY_REPS=1000,10000 for a quick look)
MEMORY_REPS = tuple(int(n) for n in os.environ.get("SALVOSIM_BENCH_MEMORY_REPS", "10000,100000").split(","))


def salvosim(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run([*SALVOSIM, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def mean_seconds(benchmark) -> float | None:
    stats = getattr(benchmark, "stats", None)
    return stats.stats.mean if stats is not None and getattr(stats, "stats", None) else None


def test_cold_compile(benchmark):
    """A first run with an empty Numba cache (`make test`: the cache warm, only the command)."""
    cache = tempfile.mkdtemp(prefix="salvosim-cold-cache-")
    env = dict(os.environ)
    if not benchmark.disabled:
        env["NUMBA_CACHE_DIR"] = cache
    try:
        benchmark.pedantic(salvosim, args=("run", TINY, "--reps", "2", "--quiet"),
                           kwargs={"env": env}, rounds=1, warmup_rounds=0)
        if not benchmark.disabled:
            assert any(Path(cache).iterdir()), "the cold run wrote nothing in NUMBA_CACHE_DIR"
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if (seconds := mean_seconds(benchmark)) is not None:
        NOTES["cold compile (tower22, --reps 2)"] = f"{seconds:8.1f} s"
        VALUES["cold_compile_s"] = seconds


def test_warm_whole_process_1000_replications(benchmark):
    reps = "20" if benchmark.disabled else "1000"
    args = ("run", FLAGSHIP, "--reps", reps, "--quiet")
    if not benchmark.disabled:
        salvosim(*args)                               # warm: the cache filled and in the page cache
    benchmark.pedantic(salvosim, args=args, rounds=1 if benchmark.disabled else 3,
                       warmup_rounds=0)
    if (seconds := mean_seconds(benchmark)) is not None:
        NOTES[f"warm whole process (flagship, {reps} reps)"] = f"{seconds:8.2f} s"
        VALUES["warm_run_s"] = seconds


def peak_rss_kib(*args: str) -> int:
    """Maximum resident set size (KiB) of one `salvosim` process."""
    if os.path.exists(TIME):
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            subprocess.run([TIME, "-o", out.name, "-f", "%M", *SALVOSIM, *args], cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL)
            return int(out.read().split()[-1])
    # No GNU time: a fresh interpreter whose only child is the run (RUSAGE_CHILDREN is a maximum
    # over every child ever waited for, so it must not be read in this long-lived process).
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *SALVOSIM, *args], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.split()[-1])


def test_peak_memory_10k_vs_100k_replications(benchmark):
    small, large = (10, 40) if benchmark.disabled else MEMORY_REPS
    peaks = benchmark.pedantic(
        lambda: [peak_rss_kib("run", FLAGSHIP, "--reps", str(n), "--quiet") for n in (small, large)],
        rounds=1, warmup_rounds=0)
    assert all(p > 0 for p in peaks)
    if not benchmark.disabled:
        NOTES[f"peak memory ({small} / {large} reps)"] = (
            f"{peaks[0] / 1024:8.1f} / {peaks[1] / 1024:.1f} MiB, ratio {peaks[1] / peaks[0]:.3f} "
            "(target within 10 %)")
        VALUES["memory_ratio"] = peaks[1] / peaks[0]


# --- the CI guard (bench/guard.py) -------------------------------------------------------------

def test_guard_calibration_is_fixed_deterministic_work():
    small = guard.calibration_work(0.01)
    assert guard.calibration_work(0.01) == small
    assert guard.calibration_work(0.02) != small        # the checksum follows the work done
    baseline = json.loads(guard.BASELINE.read_text())
    assert baseline["calibration_size"] == guard.CALIBRATION_SIZE
    # the full workload (~0.2 s) is the one the baseline was recorded with
    assert guard.calibration_work() == baseline["calibration_checksum"]


def test_guard_comparison_arithmetic():
    assert guard.compare(100.0, 100.0) == (True, 1.0)
    assert guard.compare(150.0, 100.0)[0]
    assert guard.compare(70.0, 100.0)[0]                 # exactly 30 % below: still passes
    assert not guard.compare(69.9, 100.0)[0]
    ok, ratio = guard.compare(35.0, 50.0, tolerance=0.1)
    assert not ok and ratio == pytest.approx(0.7)


def test_guard_main_exit_status_and_one_line(tmp_path, capsys):
    base = tmp_path / "baseline.json"
    result = {"normalized_rate": 30.0, "flagship_reps_per_s": 200.0, "calibration_s": 0.15,
              "calibration_checksum": 1234}
    assert guard.main([], measure_fn=lambda: result, path=base) == 2       # no baseline yet
    assert guard.main(["--record"], measure_fn=lambda: result, path=base) == 0
    recorded = json.loads(base.read_text())
    assert recorded["normalized_rate"] == 30.0 and recorded["recorded"] and recorded["machine"]
    capsys.readouterr()
    assert guard.main([], measure_fn=lambda: {**result, "normalized_rate": 25.0}, path=base) == 0
    assert "ratio 0.83" in capsys.readouterr().out
    assert guard.main([], measure_fn=lambda: {**result, "normalized_rate": 20.0}, path=base) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "FAIL" in err and "33 % below" in err
    changed = {**result, "calibration_checksum": 99}
    assert guard.main([], measure_fn=lambda: changed, path=base) == 2


def test_guard_flagship_rate_against_baseline(benchmark):
    """The real guard: under `make bench`, and alone in CI after `make test` (`make guard`);
    not inside `make test`, where a timing check among the tests would flake."""
    if benchmark.disabled:
        pytest.skip("the speed guard runs under make bench (--benchmark-only) and make guard")
    result = benchmark.pedantic(guard.measure, rounds=1, warmup_rounds=0)
    status, line = guard.check(result)
    NOTES["guard"] = line.removeprefix("guard: ")
    assert status == 0, line
