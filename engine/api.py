"""The Python API (`import salvosim`): load, run, compare, sweep.

It does what the CLI does, without files: every result converts to plain dicts and lists of
row dicts (`pd.DataFrame(res.by_unit())` gives a table). Like the CLI, this module sits above
engine.views; nothing else in the engine imports it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from salvosim.engine.montecarlo import run_scenario
from salvosim.engine.results import Results
from salvosim.engine.scenario import Scenario
from salvosim.engine.variants import load_scenario, parse_vary_list
from salvosim.engine.views import analysis

__all__ = ["load", "run", "compare", "sweep", "Comparison", "Sweep"]


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (InputError names the file, key path and what is
    allowed)."""
    return load_scenario(path)


def _scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(scenario: Scenario | str | Path, reps: int | None = None, seed: int | None = None,
        engine: str = "numba", threads: int | None = None,
        keep_outcomes: bool = False) -> Results:
    """Monte Carlo of one scenario (its baseline: [[variants]] are for `compare`).

    reps and seed default to the scenario's; `engine` is "numba" or "reference"."""
    scn = _scenario(scenario)
    return run_scenario(scn, reps or scn.header.replications,
                        scn.header.seed if seed is None else seed, engine, threads,
                        keep_outcomes)


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
    plan = analysis.plan_sweep(scn, parse_vary_list(list(vary)), seed, reps)
    return Sweep(analysis.sweep_in_memory(plan, engine, threads))
