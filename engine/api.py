"""The Python API (`import salvosim`): load, run, compare, sweep.

It does what the CLI does, without files: every result converts to plain dicts and lists of
row dicts (`pd.DataFrame(res.by_unit())` gives a table). Like the CLI, this module sits above
engine.views; nothing else in the engine imports it.
"""
from __future__ import annotations

import dataclasses
import numbers
from pathlib import Path

from salvosim.engine.errors import UsageError
from salvosim.engine.montecarlo import ENGINES, run_scenario
from salvosim.engine.results import Results
from salvosim.engine.scenario import Scenario
from salvosim.engine.schema import MAX_REPS, MAX_SEED
from salvosim.engine.variants import load_scenario, parse_vary_list
from salvosim.engine.views import analysis

__all__ = ["load", "run", "compare", "sweep", "Comparison", "Sweep"]


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (InputError names the file, key path and what is
    allowed)."""
    return load_scenario(path)


def _scenario(scenario: Scenario | str | Path) -> Scenario:
    if not isinstance(scenario, (Scenario, str, Path)):
        raise TypeError(f"scenario: expected a Scenario (salvosim.load) or a file path, got "
                        f"{type(scenario).__name__}")
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _whole(value, name: str, lo: int, hi: int) -> int:
    """value as an int in lo .. hi: TypeError for a non-integer (a bool or 2.0 too),
    UsageError out of range, as the CLI checks its options."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected a whole number, got {type(value).__name__} "
                        f"{value!r}")
    if not lo <= int(value) <= hi:
        raise UsageError(f"{name} = {int(value)}: allowed {lo} .. {hi:,}")
    return int(value)


def _options(reps, seed, engine, threads) -> tuple:
    """(reps, seed, threads) checked as the CLI checks its options (None stays None: the
    scenario's own reps and seed, every core)."""
    if reps is not None:
        reps = _whole(reps, "reps", 1, MAX_REPS)
    if seed is not None:
        seed = _whole(seed, "seed", 0, MAX_SEED)
    if engine not in ENGINES:
        raise UsageError(f"engine = {engine!r}: allowed {', '.join(map(repr, ENGINES))}")
    if threads is not None:
        threads = _whole(threads, "threads", 1, 1 << 16)
    analysis.check_threads(engine, threads)
    return reps, seed, threads


def run(scenario: Scenario | str | Path, reps: int | None = None, seed: int | None = None,
        engine: str = "numba", threads: int | None = None,
        keep_outcomes: bool = False) -> Results:
    """Monte Carlo of one scenario (its baseline: [[variants]] are for `compare`).

    reps and seed default to the scenario's; `engine` is "numba" or "reference"."""
    scn = _scenario(scenario)
    reps, seed, threads = _options(reps, seed, engine, threads)
    return run_scenario(scn, reps or scn.header.replications,
                        scn.header.seed if seed is None else seed, engine, threads,
                        bool(keep_outcomes))


@dataclasses.dataclass
class Comparison:
    """Defense mixes run on common random numbers: per-mix figures and paired differences."""
    data: dict

    def to_dict(self) -> dict:
        return self.data

    def mixes(self) -> list[dict]:
        return self.data["variants"]

    def __repr__(self) -> str:
        rows = ", ".join(f"{v['variant']!r}: {v['leakers']['mean']:.2f}" for v in self.mixes())
        return (f"<Comparison of {len(self.mixes())} mixes, {self.data['replications']} "
                f"replications: leakers {rows}>")


def compare(*scenarios: Scenario | str | Path, reps: int | None = None, seed: int | None = None,
            engine: str = "numba", threads: int | None = None) -> Comparison:
    """Every [[variants]] mix of the scenario(s), paired on the same seed and replications."""
    if not scenarios:
        raise UsageError("compare: give one or more scenarios (Scenario objects or paths)")
    reps, seed, threads = _options(reps, seed, engine, threads)
    scns = [_scenario(s) for s in scenarios]
    seed = scns[0].header.seed if seed is None else seed
    variants = analysis.comparison_variants(scns, seed)
    paired = analysis.run_paired(variants, reps or scns[0].header.replications, seed, engine,
                                 threads)
    return Comparison(analysis.comparison_json(paired))


@dataclasses.dataclass
class Sweep:
    """A grid of key-path values, every mix at every point, and each mix's saturation point."""
    data: dict

    def to_dict(self) -> dict:
        return self.data

    def saturation(self) -> list[dict]:
        return self.data["saturation"]

    def __repr__(self) -> str:
        return (f"<Sweep of {', '.join(self.data['keys'])}: {len(self.data['points'])} points, "
                f"{len(self.data['variants'])} mixes>")


def sweep(scenario: Scenario | str | Path, *vary: str, reps: int | None = None,
          seed: int | None = None, engine: str = "numba",
          threads: int | None = None) -> Sweep:
    """`vary`: one or more "KEY=START:STOP:STEP" or "KEY=V1,V2,..." (as `salvosim sweep
    --vary`), e.g. sweep("scenarios/al_asad_mixes.toml", "raids.0.count=10:50:10")."""
    scn = _scenario(scenario)
    if not vary or not all(isinstance(v, str) for v in vary):
        raise UsageError('sweep: give one or more vary specs, strings such as '
                         '"raids.0.count=10:50:10"')
    reps, seed, threads = _options(reps, seed, engine, threads)
    plan = analysis.plan_sweep(scn, parse_vary_list(list(vary)), seed, reps)
    return Sweep(analysis.sweep_in_memory(plan, engine, threads))
