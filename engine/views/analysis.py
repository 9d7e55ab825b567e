"""Analyst workflows on top of the engines: paired comparisons of defense mixes and sweeps.

- **Paired comparisons.** Random numbers are keyed by (seed, replication, stream, threat, k)
  and never depend on the defense (MODEL.md §9), so every mix run on the same seed and the same
  replication numbers meets the same threats: differences are paired (common random numbers).
  Mixes run in lockstep, block by block; per-replication figures are folded into sums and sums
  of squares (and of the differences to the first mix), so memory does not grow with
  replications.
- **Sweeps.** A grid of key-path values (engine.variants), every mix at every point, written
  after every point (atomically) so that an interrupted sweep can be resumed, and the
  saturation point of each mix: the smallest swept value where P(>= 1 leaker) >= 0.5, and where
  leakers exceed 10 % of the real threats launched.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import json
import math
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from salvosim.engine.compile import compile_scenario
from salvosim.engine.errors import UsageError
from salvosim.engine.fileio import write_atomic
from salvosim.engine.montecarlo import (
    BLOCK_REPS,
    Block,
    Progress,
    accumulator_from_state,
    accumulator_state,
    available_threads,
    block_ranges,
    block_size,
    iter_blocks,
)
from salvosim.engine.results import (
    Accumulator,
    Results,
    block_metrics,
    ci95_half_width,
    ci_text,
    figure_bounds,
    json_clean,
    mean_ci95,
    no_interval,
    output_header,
    p_any_ci95,
    real_threat_count,
    sample_variance,
    text_table,
    usd,
)
from salvosim.engine.variants import BASELINE, Scenario, Variant, VarySpec, point_scenarios, variants_of

SATURATION_P_ANY = 0.5          # P(>= 1 leaker) at or above this: saturated
SATURATION_LEAK_FRACTION = 0.10  # leakers / real threats launched above this: saturated
SWEEP_FORMAT = 1


# ----------------------------------------------------------------------------------------
# Paired runs
METRICS = ("leakers", "any_leaker", "value_hit", "asset_hits", "shots", "cost_usd")
METRIC_LABELS = {"leakers": "leakers", "any_leaker": "P(>=1 leaker)", "value_hit": "value hit",
                 "asset_hits": "assets hit", "shots": "shots", "cost_usd": "cost"}


def replication_metrics(sc, block: Block) -> np.ndarray:
    """[n, len(METRICS)] per-replication figures of a block."""
    m = block_metrics(sc, block)
    return np.stack([m["leakers"].astype(np.float64), (m["leakers"] > 0).astype(np.float64),
                     m["value_hit"].astype(np.float64),
                     block.asset_hits.sum(axis=1).astype(np.float64),
                     block.shots.sum(axis=1).astype(np.float64),
                     m["cost_usd"].astype(np.float64)], axis=1)


class PairedAccumulator:
    """Sums and sums of squares of each mix's per-replication figures and of their
    differences to the first mix. Fixed size: [mixes, metrics]."""

    def __init__(self, n_variants: int):
        shape = (n_variants, len(METRICS))
        self.n = 0
        self.sum, self.sum_sq = np.zeros(shape), np.zeros(shape)
        self.diff_sum, self.diff_sum_sq = np.zeros(shape), np.zeros(shape)

    def add(self, per_variant: list[np.ndarray]) -> None:
        ref = per_variant[0]
        self.n += ref.shape[0]
        for v, x in enumerate(per_variant):
            d = x - ref
            self.sum[v] += x.sum(axis=0)
            self.sum_sq[v] += (x * x).sum(axis=0)
            self.diff_sum[v] += d.sum(axis=0)
            self.diff_sum_sq[v] += (d * d).sum(axis=0)

    STATE = ("n", "sum", "sum_sq", "diff_sum", "diff_sum_sq")

    def merge(self, other) -> None:
        """Add another accumulator of the same mixes (other replications). Folding one per
        block in replication order gives the sums of `add` bit for bit (0.0 + x == x)."""
        self.n += other.n
        for name in self.STATE[1:]:
            getattr(self, name)[...] += getattr(other, name)

    def state(self) -> dict:
        return {name: getattr(self, name) for name in self.STATE}

    @classmethod
    def from_state(cls, state: dict) -> "PairedAccumulator":
        acc = cls(state["sum"].shape[0])
        for name in cls.STATE:
            setattr(acc, name, state[name])
        return acc

    def _var(self, total, total_sq) -> float:
        return sample_variance(float(total), float(total_sq), self.n)

    def mean_ci(self, v: int, metric: str, scale: float = 1.0,
                most: float = math.inf) -> tuple[float, float, float]:
        """Every metric is non-negative: the CI never goes below 0 and a zero total gets the
        one-sided bound (results.mean_ci95, with results.figure_bounds' scale and most)."""
        m = METRICS.index(metric)
        return mean_ci95(float(self.sum[v, m]), float(self.sum_sq[v, m]), self.n, True, scale,
                         most)

    def paired(self, v: int, metric: str) -> tuple[float, float, float]:
        """Mean difference (mix v - first mix) and its 95% CI from paired replications."""
        m = METRICS.index(metric)
        mean = self.diff_sum[v, m] / self.n
        half = ci95_half_width(self._var(self.diff_sum[v, m], self.diff_sum_sq[v, m]), self.n)
        return mean, mean - half, mean + half

    def unpaired(self, v: int, metric: str) -> tuple[float, float, float]:
        """The same difference with a 95% CI that ignores the pairing (independent samples)."""
        m = METRICS.index(metric)
        mean = (self.sum[v, m] - self.sum[0, m]) / self.n
        var = self._var(self.sum[v, m], self.sum_sq[v, m]) + self._var(self.sum[0, m], self.sum_sq[0, m])
        half = ci95_half_width(var, self.n)     # t with n - 1 df: conservative
        return mean, mean - half, mean + half


@dataclasses.dataclass
class PairedRun:
    names: list
    variants: list            # Variant
    compiled: list            # (CompiledScenario, Labels)
    paired: PairedAccumulator
    accs: list                # engine.results.Accumulator per mix
    seed: int
    reps: int
    engine: str
    threads: int
    elapsed_s: float
    kept: list | None = None  # blocks of the first mix (keep_first=True)

    def results(self, v: int = 0) -> Results:
        res = Results(acc=self.accs[v], seed=self.seed, engine=self.engine,
                      elapsed_s=self.elapsed_s, threads=self.threads,
                      kept=self.kept if v == 0 else None)
        res.scenario_name = self.variants[v].scenario.name
        res.scenario_file = self.variants[v].scenario.file
        return res


def check_threads(engine: str, threads: int | None) -> None:
    if threads is not None and engine == "reference":
        raise UsageError("--threads applies to the numba engine only")
    if threads is not None and threads > available_threads():
        raise UsageError(f"--threads {threads}: this machine has {available_threads()} "
                         f"cores; allowed: 1 .. {available_threads()}")


def paired_blocks(compiled: list, reps: int, seed: int, engine: str = "numba",
                  threads: int | None = None, block_reps: int = BLOCK_REPS, rep0: int = 0,
                  kept: list | None = None, on_reps: Callable[[int], None] | None = None):
    """(PairedAccumulator, [Accumulator per mix]) of each block of replications rep0 ..
    rep0 + reps - 1, every mix in lockstep, in replication order (blocks on the boundaries of
    a run from replication 0 when rep0 is on one). kept: collects the first mix's blocks;
    on_reps(n): n more replications of one mix are done."""
    size = block_size(engine, block_reps)
    done = 0
    while done < reps:
        n = min(size, reps - done)
        paired = PairedAccumulator(len(compiled))
        accs, per_variant = [], []
        for v, (sc, labels) in enumerate(compiled):
            blocks = list(iter_blocks(sc, n, seed, engine, threads, block_reps=n,
                                      rep0=rep0 + done))
            acc = Accumulator(sc, labels)
            for b in blocks:
                acc.add(b)
            accs.append(acc)
            if kept is not None and v == 0:
                kept.extend(blocks)
            per_variant.append(np.concatenate([replication_metrics(sc, b) for b in blocks]))
            if on_reps is not None:
                on_reps(n)
        paired.add(per_variant)
        yield paired, accs
        done += n


def run_paired(variants: list[Variant], reps: int, seed: int, engine: str = "numba",
               threads: int | None = None, keep_first: bool = False,
               block_reps: int = BLOCK_REPS, progress: bool | str = False) -> PairedRun:
    """Run every mix on the same seed and replication numbers, block by block in lockstep
    (folded one block at a time, in replication order, as run_paired_dask folds its ranges).
    progress: montecarlo.Progress's `enabled` (a bar of every mix's replications)."""
    check_threads(engine, threads)
    compiled = [compile_scenario(v.scenario) for v in variants]
    paired = PairedAccumulator(len(variants))
    accs = [Accumulator(sc, labels) for sc, labels in compiled]
    kept: list[Block] = []
    t0 = time.perf_counter()
    bar = Progress(reps * len(variants), enabled=progress)
    try:
        for block_paired, block_accs in paired_blocks(compiled, reps, seed, engine, threads,
                                                      block_reps,
                                                      kept=kept if keep_first else None,
                                                      on_reps=bar.add):
            paired.merge(block_paired)
            for acc, part in zip(accs, block_accs):
                acc.merge(part)
    finally:
        bar.close()
    used_threads = (threads or available_threads()) if engine == "numba" else 1
    return PairedRun([v.name for v in variants], variants, compiled, paired, accs, seed, reps,
                     engine, used_threads, time.perf_counter() - t0,
                     kept if keep_first else None)


def variant_summary(run: PairedRun, v: int) -> dict:
    """Figures of one mix (JSON-ready)."""
    p, n = run.paired, run.paired.n
    sc = run.compiled[v][0]
    n_real = real_threat_count(sc)
    leak = p.mean_ci(v, "leakers", *figure_bounds(sc, "leakers"))
    k_any = int(round(p.sum[v, METRICS.index("any_leaker")]))
    lo, hi = p_any_ci95(k_any, n, n_real)
    frac = [x / n_real if n_real else math.nan for x in leak]

    def mci(metric):
        mean, a, b = p.mean_ci(v, metric, *figure_bounds(sc, metric))
        return {"mean": mean, "ci95": [a, b]}

    return {"variant": run.names[v], "threats": n_real,
            "leakers": {"mean": leak[0], "ci95": [leak[1], leak[2]]},
            "p_any": {"value": k_any / n if n else math.nan, "ci95": [lo, hi]},
            "leak_fraction": {"mean": frac[0], "ci95": [frac[1], frac[2]]},
            "value_hit": mci("value_hit"), "asset_hits": mci("asset_hits"),
            "shots": mci("shots"), "cost_usd": mci("cost_usd")}


def variant_differences(run: PairedRun, v: int) -> dict:
    """Differences of mix v to the first mix: paired and unpaired 95% CIs."""
    out = {}
    for metric in METRICS:
        mean, plo, phi = run.paired.paired(v, metric)
        _, ulo, uhi = run.paired.unpaired(v, metric)
        # within what the two figures can be: a difference of probabilities in [-1, 1],
        # of leakers within the real threats of each mix, of value hit within its asset values
        low, high = -math.inf, math.inf
        if metric == "any_leaker":
            low, high = -1.0, 1.0
        elif metric in ("leakers", "value_hit"):
            low = -figure_bounds(run.compiled[0][0], metric)[1]
            high = figure_bounds(run.compiled[v][0], metric)[1]
        plo, phi, ulo, uhi = max(plo, low), min(phi, high), max(ulo, low), min(uhi, high)
        out[metric] = {"mean": mean, "paired_ci95": [plo, phi], "unpaired_ci95": [ulo, uhi]}
    return out


_WORKER_MIXES: dict = {}


def compare_range_task(sources: list[tuple[str, str]], seed: int, reps: int, rep0: int,
                       engine: str, threads: int | None, block_reps: int,
                       cache_dir: str | None = None) -> list[tuple[dict, list[dict]]]:
    """A worker task of a comparison: (paired state, [accumulator state per mix]) of each
    block of replications rep0 .. rep0 + reps - 1. sources: (TOML text, file name) of each
    scenario file; the mixes are rebuilt and compiled once per worker."""
    from salvosim.engine.distributed import use_cache_dir, worker_scenario
    use_cache_dir(cache_dir)
    key = (tuple(sources), seed)
    if key not in _WORKER_MIXES:
        variants = comparison_variants([worker_scenario(t, f) for t, f in sources], seed)
        _WORKER_MIXES[key] = [compile_scenario(v.scenario) for v in variants]
    compiled = _WORKER_MIXES[key]
    return [(p.state(), [accumulator_state(a) for a in accs])
            for p, accs in paired_blocks(compiled, reps, seed, engine,
                                         threads if engine == "numba" else None, block_reps,
                                         rep0)]


def run_paired_dask(client, scenarios: list[Scenario], variants: list[Variant], reps: int,
                    seed: int, engine: str = "numba", threads: int | None = None,
                    block_reps: int = BLOCK_REPS, n_ranges: int | None = None,
                    cache_dir: str | None = None, progress: bool | str = False) -> PairedRun:
    """run_paired on a Dask cluster: replication ranges on block boundaries as tasks, folded
    in ascending replication order (the same PairedRun figures, bit for bit). progress: as
    run_paired's, advanced as each range arrives."""
    from salvosim.engine.distributed import (
        TASKS_PER_SLOT,
        as_arrived,
        scenario_source,
        slots,
        submit_all,
        warm,
    )
    compiled = [compile_scenario(v.scenario) for v in variants]
    sources = [scenario_source(s) for s in scenarios]
    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    t0 = time.perf_counter()
    warm(client, *sources[0], engine, cache_dir)
    ranges = block_ranges(reps, n_ranges or TASKS_PER_SLOT * slots(client), engine, block_reps)
    futures = submit_all(client, compare_range_task,
                         ((r0, (sources, seed, n, r0, engine, threads or 1, block_reps, cache))
                          for r0, n in ranges), "compare")
    paired = PairedAccumulator(len(variants))
    accs = [Accumulator(sc, labels) for sc, labels in compiled]
    arrived: dict[int, list] = {}
    order = [r0 for r0, _ in ranges]
    bar = Progress(reps * len(variants), enabled=progress)
    try:
        for r0, parts in as_arrived(client, futures):
            arrived[r0] = parts
            bar.add(sum(state["reps"] for _, acc_states in parts for state in acc_states))
            while order and order[0] in arrived:
                for p_state, acc_states in arrived.pop(order.pop(0)):
                    paired.merge(PairedAccumulator.from_state(p_state))
                    for (sc, labels), acc, state in zip(compiled, accs, acc_states):
                        acc.merge(accumulator_from_state(sc, labels, state))
    finally:
        bar.close()
    return PairedRun([v.name for v in variants], variants, compiled, paired, accs, seed, reps,
                     engine, slots(client), time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------
# compare
def comparison_variants(scenarios: list[Scenario], seed: int | None) -> list[Variant]:
    """The mixes of one or more scenario files, named '<file stem>: <mix>' for several files."""
    out: list[Variant] = []
    stems = [Path(s.file).stem for s in scenarios]
    for i, s in enumerate(scenarios):
        label = stems[i] if stems.count(stems[i]) == 1 else s.file
        for v in variants_of(s, seed):
            if len(scenarios) == 1:
                name = v.name
            else:
                name = label if v.name == BASELINE else f"{label}: {v.name}"
            out.append(Variant(name, v.description, v.scenario, v.data))
    names = [v.name for v in out]
    for n in names:
        if names.count(n) > 1:
            raise UsageError(f"two mixes are both named '{n}'; give the files different names")
    return out


def same_threats(a, b) -> bool:
    """True if two compiled scenarios launch the same threats (needed for pairing)."""
    fields = [f for f in a._fields if f.startswith(("th_", "rd_"))]
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in fields)


def comparison_json(run: PairedRun) -> dict:
    ref_sc = run.compiled[0][0]
    rows = []
    for v in range(len(run.names)):
        row = variant_summary(run, v)
        row["file"] = run.variants[v].scenario.file
        row["description"] = run.variants[v].description
        row["same_threats_as_reference"] = same_threats(ref_sc, run.compiled[v][0])
        row["vs_reference"] = variant_differences(run, v) if v > 0 else None
        rows.append(row)
    return json_clean({**output_header("compare"), "reference": run.names[0], "seed": run.seed,
                       "replications": run.reps, "engine": run.engine, "variants": rows})


def _ci(x: dict, fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(x['mean'])} [{ci_text(*x['ci95'], fmt=fmt, sep=', ')}]"


def _bracket(ci: list, show) -> str:
    """[lo, hi] with `show` for each bound, or [n/a] (one replication)."""
    return "[n/a]" if no_interval(*ci) else f"[{show(ci[0])}, {show(ci[1])}]"


def comparison_text(run: PairedRun, cmp: dict) -> str:
    lines = [f"Comparison of {len(run.names)} defense mixes — {run.reps} replications, seed "
             f"{run.seed}, {run.engine} engine, {run.elapsed_s:.1f} s",
             "Same seed and replications for every mix: common random numbers, so the "
             "differences are paired.", ""]
    rows = []
    for r in cmp["variants"]:
        p = r["p_any"]
        rows.append([r["variant"], r["threats"], _ci(r["leakers"]),
                     f"{p['value']:.3f} [{p['ci95'][0]:.3f}, {p['ci95'][1]:.3f}]",
                     _ci(r["asset_hits"]), f"{r['shots']['mean']:.1f}",
                     usd(r["cost_usd"]["mean"])])
    lines += text_table(["mix", "threats", "leakers [95% CI]", "P(>=1 leaker) [95% CI]",
                     "assets hit [95% CI]", "shots", "cost"], rows, "lrrrrrr")
    if len(run.names) > 1:
        lines += ["", f"Differences to '{run.names[0]}' (mix minus reference, per attack): the "
                      f"paired 95% CI, and the unpaired one for contrast"]
        rows = []
        for r in cmp["variants"][1:]:
            d = r["vs_reference"]
            for k, (metric, fmt) in enumerate((("leakers", "{:+.2f}"), ("any_leaker", "{:+.3f}"),
                                               ("asset_hits", "{:+.2f}"), ("shots", "{:+.1f}"),
                                               ("cost_usd", None))):
                x = d[metric]
                show = _signed_usd if fmt is None else fmt.format
                rows.append([r["variant"] if k == 0 else "", METRIC_LABELS[metric],
                             show(x["mean"]),
                             _bracket(x["paired_ci95"], show),
                             _bracket(x["unpaired_ci95"], show)])
        lines += text_table(["mix", "figure", "difference", "paired 95% CI", "unpaired 95% CI"],
                        rows, "llrrr")
        odd = [r["variant"] for r in cmp["variants"] if not r["same_threats_as_reference"]]
        if odd:
            lines += ["", f"Note: {', '.join(odd)} launch(es) other threats than "
                          f"'{run.names[0]}': those differences are not common-random-number "
                          f"pairs of the same raid."]
    return "\n".join(lines)


def _signed_usd(x: float) -> str:
    return ("+" if x >= 0 else "-") + usd(abs(x))


# ----------------------------------------------------------------------------------------
# sweep
def file_sha256(path: str | Path) -> str:
    """Hash of a scenario file's content ('' for a scenario that is not a file)."""
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


@dataclasses.dataclass
class SweepPlan:
    scn: Scenario
    specs: list
    grid: list               # tuples of values, first key slowest
    variants: list           # [point][mix] Variant
    names: list
    seed: int
    reps: int
    seed_arg: int | None = None   # the seed given (None: each point's scenario seed)


def plan_sweep(scn: Scenario, specs: list[VarySpec], seed: int | None,
               reps: int | None) -> SweepPlan:
    """Every grid point and mix, validated before anything runs (UsageError on a bad value).

    seed: replaces the scenario's seed (a swept `scenario.seed` replaces it at its points)."""
    grid = list(itertools.product(*(s.values for s in specs)))
    points = [point_scenarios(scn, specs, values, seed) for values in grid]
    return SweepPlan(scn, specs, grid, points, [v.name for v in points[0]],
                     seed if seed is not None else scn.header.seed,
                     reps or scn.header.replications, seed)


def point_record(index: int, plan: SweepPlan, run: PairedRun) -> dict:
    values = {s.path.text: v for s, v in zip(plan.specs, plan.grid[index])}
    results = []
    for v in range(len(run.names)):
        row = variant_summary(run, v)
        if v > 0:
            d = run.paired.paired(v, "leakers")
            row["leakers_vs_first"] = {"mean": d[0], "ci95": [d[1], d[2]]}
        results.append(row)
    return json_clean({"index": index, "values": values, "seed": run.seed, "results": results})


def saturation_points(record: dict) -> list[dict]:
    """For each mix (and each combination of the other swept keys): the smallest value of the
    first swept key with P(>= 1 leaker) >= 0.5, and with leak fraction > 10 % (None: not
    reached within the sweep)."""
    keys = record["keys"]
    first, others = keys[0], keys[1:]
    groups: dict = {}
    for point in sorted(record["points"], key=lambda p: p["index"]):
        fixed = tuple(point["values"][k] for k in others)
        for row in point["results"]:
            groups.setdefault((row["variant"], fixed), []).append((point["values"][first], row))
    out = []
    for (variant, fixed), rows in groups.items():
        rows.sort(key=lambda x: x[0])
        p_sat = next((x for x, r in rows if r["p_any"]["value"] is not None
                      and r["p_any"]["value"] >= SATURATION_P_ANY), None)
        f_sat = next((x for x, r in rows if r["leak_fraction"]["mean"] is not None
                      and r["leak_fraction"]["mean"] > SATURATION_LEAK_FRACTION), None)
        out.append({"variant": variant, "fixed": dict(zip(others, fixed)), "key": first,
                    "p_any_ge_0_5": p_sat, "leak_fraction_gt_0_1": f_sat,
                    "swept": [rows[0][0], rows[-1][0]]})
    return out


CSV_FIELDS = ("variant", "reps", "seed", "threats", "leakers_mean", "leakers_lo", "leakers_hi",
              "p_any", "p_any_lo", "p_any_hi", "leak_fraction", "leak_fraction_lo",
              "leak_fraction_hi", "value_hit_mean", "value_hit_lo", "value_hit_hi",
              "assets_hit_mean", "shots_mean", "cost_usd_mean", "cost_usd_lo", "cost_usd_hi",
              "leakers_vs_first", "leakers_vs_first_lo", "leakers_vs_first_hi")


CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell):
    """A CSV cell that a spreadsheet will not run as a formula (OWASP: a text cell starting with
    = + - @ tab or CR gets a leading quote); numbers, negative ones too, stay numbers."""
    if isinstance(cell, str) and cell.startswith(CSV_FORMULA_STARTS):
        return "'" + cell
    return cell


class _SafeCsvWriter:
    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row) -> None:
        self.writer.writerow([csv_safe(c) for c in row])


def sweep_csv(record: dict) -> str:
    buf = io.StringIO()
    w = _SafeCsvWriter(csv.writer(buf, lineterminator="\n"))
    w.writerow(["point", *record["keys"], *CSV_FIELDS])
    for point in sorted(record["points"], key=lambda p: p["index"]):
        for r in point["results"]:
            d = r.get("leakers_vs_first") or {"mean": 0.0, "ci95": [0.0, 0.0]}
            w.writerow([point["index"], *(point["values"][k] for k in record["keys"]),
                        r["variant"], record["replications"], point["seed"], r["threats"],
                        r["leakers"]["mean"], *r["leakers"]["ci95"],
                        r["p_any"]["value"], *r["p_any"]["ci95"],
                        r["leak_fraction"]["mean"], *r["leak_fraction"]["ci95"],
                        r["value_hit"]["mean"], *r["value_hit"]["ci95"],
                        r["asset_hits"]["mean"], r["shots"]["mean"],
                        r["cost_usd"]["mean"], *r["cost_usd"]["ci95"],
                        d["mean"], *d["ci95"]])
    return buf.getvalue()


def sweep_header(plan: SweepPlan, file_hash: str) -> dict:
    return {**output_header("sweep"), "salvosim_sweep": SWEEP_FORMAT, "scenario": plan.scn.name,
            "file": plan.scn.file,
            "file_sha256": file_hash, "vary": [s.text for s in plan.specs],
            "keys": [s.path.text for s in plan.specs], "seed": plan.seed,
            "replications": plan.reps, "variants": plan.names, "grid_points": len(plan.grid)}


RESUME_CHECKS = (("file_sha256", "scenario file content"), ("vary", "--vary options"),
                 ("seed", "seed"), ("replications", "replications (--reps)"))


def load_for_resume(path: Path, header: dict) -> dict[int, dict]:
    """Finished points of an earlier sweep with the same file, --vary, seed and reps."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--resume: cannot read {path}: {exc}") from None
    if not isinstance(old, dict) or old.get("salvosim_sweep") != SWEEP_FORMAT:
        raise UsageError(f"--resume: {path} is not a salvosim sweep file")
    for key, what in RESUME_CHECKS:
        if old.get(key) != header[key]:
            raise UsageError(f"--resume: {path} was made with different {what} "
                             f"({old.get(key)!r}, now {header[key]!r}); run without --resume "
                             f"to start again, or give another --out")
    points = old.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise UsageError(f"--resume: {path} is damaged (its 'points' are not a list of "
                         f"tables); run without --resume to start again")
    done = {}
    for point in points:
        i = point.get("index")
        if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < header["grid_points"]:
            done[i] = point
    try:   # every use of a finished point, on a copy: a damaged one fails here, not later
        record = dict(header, points=[done[i] for i in sorted(done)])
        for point in record["points"]:
            if (sorted(point["values"]) != sorted(header["keys"])
                    or [r["variant"] for r in point["results"]] != header["variants"]):
                raise ValueError("a point of other keys or mixes")
            _print_point(point, header["keys"], [1] * len(header["keys"]), 1, lambda _l: None)
        sweep_csv(dict(record, keys=header["keys"]))
        saturation_points(record)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise UsageError(f"--resume: {path} is damaged ({type(exc).__name__}: {exc}); run "
                         f"without --resume to start again, or give another --out") from None
    return done


def run_point(plan: SweepPlan, i: int, variants: list[Variant], engine: str = "numba",
              threads: int | None = None) -> dict:
    """The record of grid point i (its mixes: `variants`)."""
    run = run_paired(variants, plan.reps, variants[0].scenario.header.seed, engine, threads)
    return point_record(i, plan, run)


def iter_points(plan: SweepPlan, engine: str = "numba", threads: int | None = None,
                skip: set = frozenset()):
    """(index, point record) of every grid point not in `skip`, in grid order."""
    for i in range(len(plan.grid)):
        if i in skip:
            continue
        yield i, run_point(plan, i, plan.variants[i], engine, threads)


# A sweep on a Dask cluster: one task per grid point (engine.distributed).
PointRunner = Callable[[set], Iterable[tuple[int, dict]]]


def sweep_point_task(text: str, file: str, specs: list, seed_arg: int | None, reps: int,
                     index: int, engine: str, threads: int | None,
                     cache_dir: str | None = None) -> dict:
    """A worker task: grid point `index` of a sweep of the scenario in TOML `text`, the same
    record as the local sweep's."""
    from salvosim.engine.distributed import use_cache_dir, worker_scenario
    use_cache_dir(cache_dir)
    scn = worker_scenario(text, file)
    grid = list(itertools.product(*(s.values for s in specs)))
    variants = point_scenarios(scn, specs, grid[index], seed_arg)
    plan = SweepPlan(scn, specs, grid, [], [v.name for v in variants],
                     seed_arg if seed_arg is not None else scn.header.seed, reps, seed_arg)
    return run_point(plan, index, variants, engine,
                     threads if engine == "numba" else None)


def dask_point_runner(client, plan: SweepPlan, engine: str = "numba",
                      threads: int | None = None, cache_dir: str | None = None) -> PointRunner:
    """A point runner for run_sweep / sweep_in_memory: the points not skipped as Dask tasks,
    (index, record) as each arrives."""
    from salvosim.engine.distributed import as_arrived, scenario_source, submit_all, warm

    def run(skip: set):
        todo = [i for i in range(len(plan.grid)) if i not in skip]
        if not todo:
            return
        text, file = scenario_source(plan.scn)
        warm(client, text, file, engine, cache_dir)
        cache = str(Path(cache_dir).resolve()) if cache_dir else None
        futures = submit_all(client, sweep_point_task,
                             ((i, (text, file, plan.specs, plan.seed_arg, plan.reps, i, engine,
                                   threads or 1, cache)) for i in todo), "point")
        yield from as_arrived(client, futures)
    return run


def sweep_in_memory(plan: SweepPlan, engine: str = "numba", threads: int | None = None,
                    progress: Callable[[str], None] | None = None,
                    runner: PointRunner | None = None) -> dict:
    """A sweep record (as in PREFIX.json) without writing files. runner: where the points run
    (default: here, in grid order; dask_point_runner: on a cluster)."""
    record = dict(sweep_header(plan, file_sha256(plan.scn.file)), engine=engine, points=[])
    points = runner(set()) if runner is not None else iter_points(plan, engine, threads)
    for i, point in points:
        record["points"].append(point)
        if progress is not None:
            progress(f"  point {i + 1}/{len(plan.grid)} done")
    record["points"].sort(key=lambda p: p["index"])
    record["complete"] = True
    record["saturation"] = saturation_points(record)
    return json_clean(record)


def check_resumable(plan: SweepPlan, out_prefix: str) -> None:
    """--resume: an existing PREFIX.json must be a sweep of the same file, --vary, seed and
    reps (load_for_resume's one-line UsageError otherwise), checked before anything runs or
    is printed; run_sweep reads it again."""
    json_path = Path(f"{out_prefix}.json")
    if json_path.exists():
        load_for_resume(json_path, sweep_header(plan, file_sha256(plan.scn.file)))


def run_sweep(plan: SweepPlan, out_prefix: str, engine: str = "numba",
              threads: int | None = None, resume: bool = False,
              print_line: Callable[[str], None] = print,
              after_point: Callable[[int], None] | None = None,
              runner: PointRunner | None = None) -> dict:
    """Run every unfinished point; rewrite PREFIX.json and PREFIX.csv after each one (as it
    arrives, the points always in grid order in the files; lines printed in grid order).
    runner: where the points run (default: here, in grid order; dask_point_runner: on a
    cluster, in any order)."""
    check_threads(engine, threads)
    json_path, csv_path = Path(f"{out_prefix}.json"), Path(f"{out_prefix}.csv")
    header = sweep_header(plan, file_sha256(plan.scn.file))
    done: dict[int, dict] = {}
    if resume:
        if json_path.exists():
            done = load_for_resume(json_path, header)
            print_line(f"resuming {json_path}: {len(done)} of {len(plan.grid)} points done")
        else:
            print_line(f"no {json_path} to resume: starting a new sweep")
    record = dict(header, engine=engine, points=[], saturation=[], complete=False)

    def write() -> None:
        record["points"] = [done[i] for i in sorted(done)]
        record["complete"] = len(done) == len(plan.grid)
        record["saturation"] = saturation_points(record) if done else []
        write_atomic(json_path, json.dumps(json_clean(record), indent=1))
        write_atomic(csv_path, sweep_csv(record))

    keys = [s.path.text for s in plan.specs]
    widths = [max(len(k), 6) for k in keys]
    name_w = max(len(n) for n in plan.names)
    print_line("  ".join(k.rjust(w) for k, w in zip(keys, widths)) + "  "
               + "mix".ljust(name_w) + "  threats  leakers [95% CI]        P(>=1) [95% CI]       "
               "leak %    shots        cost")
    for i in sorted(done):
        _print_point(done[i], keys, widths, name_w, print_line, cached=True)
    ran_any = False
    skip = set(done)
    waiting = [i for i in range(len(plan.grid)) if i not in skip]   # to print, in grid order
    points = runner(skip) if runner is not None else iter_points(plan, engine, threads, skip)
    for i, point in points:
        ran_any = True
        done[i] = point
        write()
        while waiting and waiting[0] in done:
            _print_point(done[waiting.pop(0)], keys, widths, name_w, print_line)
        if after_point is not None:
            after_point(i)
    if not ran_any:
        write()
    return json_clean(record)


def _print_point(point: dict, keys, widths, name_w, print_line, cached: bool = False) -> None:
    for k, r in enumerate(point["results"]):
        vals = "  ".join((str(point["values"][key]) if k == 0 else "").rjust(w)
                         for key, w in zip(keys, widths))
        p, leak = r["p_any"], r["leak_fraction"]["mean"]
        # no real threat (every raid a decoy): the leak fraction is null in the JSON
        leak_text = "-" if leak is None else f"{100 * leak:.1f}"
        print_line(f"{vals}  {r['variant'].ljust(name_w)}  {r['threats']:7d}  "
                   f"{r['leakers']['mean']:7.2f} [{ci_text(*r['leakers']['ci95'], '{:6.2f}', ', '):>14}]"
                   f"  {p['value']:5.3f} [{p['ci95'][0]:5.3f}, "
                   f"{p['ci95'][1]:5.3f}]  {leak_text:>6} %  "
                   f"{r['shots']['mean']:7.1f}  {usd(r['cost_usd']['mean']):>10}"
                   + ("  (done earlier)" if cached and k == 0 else ""))


def saturation_value(s: dict, key: str) -> str:
    """A saturation point as text: 'not reached', or the value, as '≤ value' when it is the
    first swept value (the threshold may already be crossed below the swept range)."""
    value = s[key]
    if value is None:
        return "not reached"
    if value == s["swept"][0]:
        return f"≤ {value}"
    return str(value)


def saturation_text(record: dict) -> str:
    key = record["keys"][0]
    swept = [p["values"][key] for p in record["points"]]
    span = f"{min(swept)} .. {max(swept)}" if swept else "? .. ?"
    lines = [f"Saturation points along {key} (smallest swept value reaching the threshold; "
             f"'not reached' within {span}):"]
    rows = []
    for s in record["saturation"]:
        fixed = ", ".join(f"{k} = {v}" for k, v in s["fixed"].items())
        rows.append([s["variant"] + (f" ({fixed})" if fixed else ""),
                     saturation_value(s, "p_any_ge_0_5"),
                     saturation_value(s, "leak_fraction_gt_0_1")])
    lines += text_table(["mix", "P(>=1 leaker) >= 0.5", "leakers > 10 % of threats"], rows, "lrr")
    return "\n".join(lines)


def default_sweep_prefix(scn: Scenario) -> str:
    return f"sweep_{Path(scn.file).stem}"
