"""CI guard on the flagship's speed, robust to the speed of the machine.

In one process it times a fixed calibration workload (deterministic pure-Python and numpy work,
0.1 to 0.2 s) and the flagship scenario on the numba engine (1 thread, JIT warmed), interleaved,
keeping the fastest of each (the runs least disturbed by other jobs). The normalized rate

    flagship replications per second x calibration seconds
    (= replications per calibration run: the rate divided by the machine's calibration score)

mostly cancels the machine's speed. It is compared with bench/baseline.json: the guard fails
(exit 1, one line) when it is more than 30 % below the baseline.

    python -m bench.guard            # measure, print value, baseline and ratio; exit 1 on a drop
    python -m bench.guard --record   # measure and write the baseline (date and machine included)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

BASELINE = Path(__file__).with_name("baseline.json")
FLAGSHIP = Path(__file__).resolve().parents[1] / "scenarios" / "al_asad_drone_raid.toml"
TOLERANCE = 0.30            # fail when the normalized rate is more than 30 % below the baseline
FLAGSHIP_REPS = 128         # replications per timed flagship run (about 0.6 s)
ROUNDS = 5                  # interleaved calibration and flagship runs; the fastest of each counts
CALIBRATION_SIZE = 300_000  # the fixed workload (0.1 to 0.2 s); scale < 1 only for quick tests


def calibration_work(scale: float = 1.0) -> int:
    """A fixed, deterministic workload: an integer recurrence and dict lookups in pure Python
    (the interpreter's speed) and sorts, cumulative sums and small matrix products in numpy on
    small integer arrays (exact, so the same bits on every machine; in cache, so less sensitive
    to the memory traffic of other jobs). Returns a checksum of the results: same work, same
    checksum."""
    n = max(1, int(CALIBRATION_SIZE * scale))
    x, acc, table = 12345, 0, {}
    for i in range(n):                               # pure Python: about half the time
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        key = x & 1023
        table[key] = table.get(key, 0) + (i & 7)
        acc ^= x >> 3
    # numpy on small integer arrays: exact (the same bits everywhere), in cache (less disturbed
    # by the memory traffic of other jobs)
    a = (np.arange(1 << 15, dtype=np.int64) * 2654435761 + 12345) % 2147483647
    for _ in range(max(1, n // 3000)):
        a = np.cumsum(np.sort(a) % 1000003) % 2147483647
    m = (np.arange(64 * 64, dtype=np.int64).reshape(64, 64) * 7919) % 1009
    for _ in range(max(1, n // 2500)):
        m = (m @ m + 1) % 1009
    checksum = (acc + sum(table.values()) + int(a.sum()) + int(m.sum())) & 0xFFFFFFFF
    return checksum


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def measure(rounds: int = ROUNDS, reps: int = FLAGSHIP_REPS, scale: float = 1.0) -> dict:
    """Calibration and flagship, interleaved `rounds` times in this process; the fastest of each."""
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import run_block_numba
    from salvosim.engine.variants import load_scenario
    sc, _ = compile_scenario(load_scenario(FLAGSHIP))
    run_block_numba(sc, 1, 0, 4, threads=1)          # warm the JIT (or load its cache)
    cal, flag, checksum = [], [], None
    for _ in range(rounds):
        seconds, checksum = timed(calibration_work, scale)
        cal.append(seconds)
        flag.append(timed(run_block_numba, sc, 1, 0, reps, 1)[0])
    rate = reps / min(flag)
    return {"normalized_rate": rate * min(cal), "flagship_reps_per_s": rate,
            "calibration_s": min(cal), "calibration_checksum": checksum}


def compare(normalized: float, baseline: float, tolerance: float = TOLERANCE) -> tuple[bool, float]:
    """(passes, ratio): passes unless the value is more than `tolerance` below the baseline."""
    ratio = normalized / baseline
    return ratio >= (1.0 - tolerance) - 1e-12, ratio


def cpuinfo_field(name: str) -> str | None:
    """The first value of a /proc/cpuinfo field (Linux), else None."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.split(":", 1)[0].strip() == name)
    except (OSError, StopIteration):
        return None


def machine() -> dict:
    cpu = cpuinfo_field("model name") or platform.processor() or platform.machine()
    family, model = cpuinfo_field("cpu family"), cpuinfo_field("model")
    if family is not None and model is not None:
        cpu += f" (family {family} model {model})"      # "AMD EPYC" alone names no generation
    return {"node": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": _version("numba")}


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "absent"


def record(result: dict, path: Path = BASELINE) -> dict:
    data = {**result, "tolerance": TOLERANCE, "calibration_size": CALIBRATION_SIZE,
            "flagship_reps": FLAGSHIP_REPS, "rounds": ROUNDS,
            "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine(),
            "note": "normalized_rate = flagship_reps_per_s (numba, 1 thread) x calibration_s; "
                    "update with `python -m bench.guard --record` after a deliberate change"}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def check(result: dict, path: Path = BASELINE) -> tuple[int, str]:
    """(exit status, one line) for a measurement against the recorded baseline."""
    try:
        base = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return 2, f"guard: error: no usable baseline in {path} ({exc}); record one with --record"
    if base.get("calibration_checksum") != result["calibration_checksum"]:
        return 2, ("guard: error: the calibration workload changed since the baseline was recorded; "
                   "record a new one with `python -m bench.guard --record`")
    ok, ratio = compare(result["normalized_rate"], base["normalized_rate"],
                        base.get("tolerance", TOLERANCE))
    line = (f"guard: normalized flagship rate {result['normalized_rate']:.2f} "
            f"(flagship {result['flagship_reps_per_s']:.1f} reps/s x calibration "
            f"{result['calibration_s']:.3f} s), baseline {base['normalized_rate']:.2f} "
            f"({base.get('recorded', '?')}), ratio {ratio:.2f}")
    if not ok:
        return 1, (f"guard: FAIL: normalized flagship rate {result['normalized_rate']:.2f} is "
                   f"{(1 - ratio) * 100:.0f} % below the baseline {base['normalized_rate']:.2f} "
                   f"(allowed {base.get('tolerance', TOLERANCE) * 100:.0f} %)")
    return 0, line


def main(argv: list[str] | None = None, measure_fn=measure, path: Path = BASELINE) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.guard", description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help=f"write the baseline ({path.name})")
    args = parser.parse_args(argv)
    result = measure_fn()
    if args.record:
        data = record(result, path)
        print(f"guard: recorded normalized flagship rate {data['normalized_rate']:.2f} "
              f"(flagship {data['flagship_reps_per_s']:.1f} reps/s x calibration "
              f"{data['calibration_s']:.3f} s) in {path}")
        return 0
    status, line = check(result, path)
    print(line, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
