"""Aggregates over replications (MODEL.md §7): fixed-size accumulators, tables and JSON.

Both engines produce the same per-replication block arrays; the Accumulator folds them into
sums whose size does not depend on the number of replications: a leaker histogram, fates by
threat type, shots/rounds/engagements/kills by unit, hits by asset, and sums and sums of
squares of the per-replication leakers, asset value hit and interceptor cost.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from salvosim.engine.constants import (
    FAILED,
    FATE_NAMES,
    KILLED,
    LEAKED,
    MISSED,
    N_CLASSES,
    THREAT_CLASSES,
    WHY_NAMES,
)

Z95 = 1.959963984540054      # the standard normal's 97.5 % quantile (Wilson intervals)


ZERO_COUNT_UPPER = -math.log(0.05)   # 2.996: one-sided 95% Poisson upper bound of a zero total

T_EXPANSION_FROM_DF = 100     # t_975: Cornish-Fisher above this many degrees of freedom


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz;
    Numerical Recipes 6.4), for x < (a + 1) / (a + b + 2), where it converges in
    O(sqrt(max(a, b))) terms: at most 300 for the a <= 50 of t_975."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 301):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_upper_tail(t: float, df: int) -> float:
    """P(T > t) for Student's t with df degrees of freedom, t >= 0."""
    return 0.5 * _regularized_beta(0.5 * df, 0.5, df / (df + t * t))


@functools.lru_cache(maxsize=64)
def t_975(df: int) -> float:
    """Student's t 97.5 % quantile with df degrees of freedom: the factor of a two-sided 95 %
    CI of a mean from df + 1 replications (1.96 as df grows; 12.7 at df = 1; +inf at df = 0,
    one replication says nothing of the spread). Up to T_EXPANSION_FROM_DF, bisection on the
    upper tail (60 halvings of [0, 16]: the quantile is 12.71 at df = 1); above it the
    Cornish-Fisher expansion to 1/df^4 (error below 1e-10 there)."""
    if df < 1:
        return math.inf
    if df > T_EXPANSION_FROM_DF:
        z = Z95
        g = ((z ** 3 + z) / 4,
             (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96,
             (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384,
             (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160)
        return z + sum(gi / df ** (i + 1) for i, gi in enumerate(g))
    lo, hi = 0.0, 16.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if t_upper_tail(mid, df) > 0.025:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def mean_ci95(total: float, total_sq: float, n: int, nonnegative: bool = True,
              scale: float = 1.0, most: float = math.inf) -> tuple[float, float, float]:
    """Mean and 95% CI (Student's t with n - 1 degrees of freedom: t_975) from a sum and a
    sum of squares.

    A non-negative figure never gets a bound below 0, and a zero total (nothing seen in n
    replications) gets the one-sided bound [0, 3.0 x scale / n] instead of [0, 0]
    (figure_bounds: scale 1 for a count); no bound exceeds `most`. One replication of a figure
    that was seen gives no interval (nan bounds: JSON null)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = total / n
    if nonnegative and total == 0:
        return 0.0, 0.0, min(ZERO_COUNT_UPPER * scale / n, most)
    half = ci95_half_width(sample_variance(total, total_sq, n), n)
    if math.isnan(half):
        return mean, math.nan, math.nan
    lo = mean - half if not nonnegative else max(0.0, mean - half)
    return mean, min(lo, most), min(mean + half, most)


def figure_bounds(sc, key: str) -> tuple[float, float]:
    """(scale, most) of a per-attack figure for mean_ci95: nothing seen in n attacks bounds its
    mean by ZERO_COUNT_UPPER x scale / n (a count: scale 1; the asset value hit: the total
    asset value, since P(any hit) <= 3.0 / n), and no bound exceeds `most` (leakers: the real
    threats launched; value hit: the total asset value)."""
    if key == "leakers":
        return 1.0, float(real_threat_count(sc))
    if key == "value_hit":
        total = float(sc.as_value.sum())
        return total, total
    return 1.0, math.inf


def real_threat_count(sc) -> int:
    """Threats of the scenario that are not decoys."""
    return int((~sc.th_decoy).sum())


def p_any_ci95(k_any: int, n: int, real_threats: int) -> tuple[float, float]:
    """P(>= 1 leaker)'s interval: Wilson's, or [0, 0] with no real threat (P is 0)."""
    return wilson_ci95(k_any, n) if real_threats else (0.0, 0.0)


def no_interval(lo, hi) -> bool:
    """A CI of one replication: nan bounds (None once in JSON)."""
    return lo is None or hi is None or math.isnan(lo) or math.isnan(hi)


def ci_text(lo, hi, fmt: str = "{:.2f}", sep: str = " – ") -> str:
    """A CI's bounds for people: "n/a" for no interval (one replication)."""
    if no_interval(lo, hi):
        return "n/a"
    return f"{fmt.format(lo)}{sep}{fmt.format(hi)}"


def sample_variance(total: float, total_sq: float, n: int) -> float:
    """The unbiased variance of n values from their sum and sum of squares (0 for n < 2)."""
    if n < 2:
        return 0.0
    mean = total / n
    return max(total_sq / n - mean * mean, 0.0) * n / (n - 1)


def ci95_half_width(var: float, n: int) -> float:
    """Half the width of a mean's 95 % CI of n values of variance var: t_975(n - 1) x
    sqrt(var / n); nan for one replication."""
    if n < 2:
        return math.nan
    return t_975(n - 1) * math.sqrt(var / n)


def histogram_quantile(hist: np.ndarray, q: float) -> int:
    """The q-quantile of an integer figure from its histogram (counts of 0, 1, 2, ...): the
    least k with at least a fraction q of replications at or below k."""
    total = int(hist.sum())
    if total == 0:
        return 0
    return int(np.searchsorted(np.cumsum(hist), math.ceil(q * total) if q > 0 else 1))


def wilson_ci95(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k / n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1.0 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    # The bounds hold p (exactly 1 or 0 at k = n or 0); rounding left the upper one at
    # 0.9999999999999999 for p = 1, an interval without its own estimate.
    return min(max(0.0, centre - half), p), max(min(1.0, centre + half), p)


def block_metrics(sc, block) -> dict[str, np.ndarray]:
    """Per-replication figures of a block: leakers (real threats only), decoy leakers,
    asset value hit, interceptor cost."""
    real = ~sc.th_decoy
    leaked = block.fate == LEAKED
    return {
        "leakers": (leaked & real).sum(axis=1).astype(np.int64),
        "decoy_leakers": (leaked & ~real).sum(axis=1).astype(np.int64),
        # An asset's value counts once per replication, however often it is hit (§7 v2).
        "value_hit": (block.asset_hits > 0) @ sc.as_value,
        "cost_usd": block.shots @ sc.un_cost_usd,
    }


@dataclass
class Accumulator:
    sc: object
    labels: object
    reps: int = 0
    leak_hist: np.ndarray = None
    fates_by_group: np.ndarray = None     # [G, 5] threat-replications by fate
    unit_sums: np.ndarray = None          # [U, 4] shots, rounds, engagements, kills
    asset_hits: np.ndarray = None         # [A] hits summed over replications
    asset_reps_hit: np.ndarray = None     # [A] replications in which the asset was hit
    fates_by_raid: np.ndarray = None      # [R, 5] threat-replications by fate
    why_by_fate: np.ndarray = None        # [N_WHY, 5] never-engaged threat-replications
    engagements_by_raid: np.ndarray = None  # [R] engagements of the raid's threats
    shots_by_class: np.ndarray = None     # [U, N_CLASSES + 1] shots by target class (last: decoys)
    kills_by_class: np.ndarray = None     # [U, N_CLASSES + 1] kills by target class (last: decoys)
    sums: dict = field(default_factory=dict)
    sums_sq: dict = field(default_factory=dict)

    def __post_init__(self):
        sc = self.sc
        n_real = int((~sc.th_decoy).sum())
        G = len(self.labels.groups)
        self.leak_hist = np.zeros(n_real + 1, np.int64)
        self.fates_by_group = np.zeros((G, 5), np.int64)
        self.unit_sums = np.zeros((len(sc.un_e), 4), np.int64)
        self.asset_hits = np.zeros(len(sc.as_value), np.int64)
        self.asset_reps_hit = np.zeros(len(sc.as_value), np.int64)
        self.group_of = sc.th_group
        self.fates_by_raid = np.zeros((len(self.labels.raids), 5), np.int64)
        self.why_by_fate = np.zeros((len(WHY_NAMES), 5), np.int64)
        self.engagements_by_raid = np.zeros(len(self.labels.raids), np.int64)
        self.shots_by_class = np.zeros((len(sc.un_e), N_CLASSES + 1), np.int64)
        self.kills_by_class = np.zeros((len(sc.un_e), N_CLASSES + 1), np.int64)
        self.target_column = np.where(sc.th_decoy, N_CLASSES, sc.th_class)

    def add(self, block) -> None:
        sc = self.sc
        n = block.fate.shape[0]
        self.reps += n
        m = block_metrics(sc, block)
        self.leak_hist += np.bincount(m["leakers"], minlength=len(self.leak_hist))
        for fate in (KILLED, FAILED, LEAKED, MISSED):
            per_threat = (block.fate == fate).sum(axis=0)
            np.add.at(self.fates_by_group[:, fate], self.group_of, per_threat)
            np.add.at(self.fates_by_raid[:, fate], sc.th_raid, per_threat)
            self.why_by_fate[:, fate] += np.bincount(block.why[block.fate == fate],
                                                     minlength=len(WHY_NAMES))
        np.add.at(self.engagements_by_raid, sc.th_raid, block.threat_engagements.sum(axis=0))
        self.shots_by_class += block.shots_by_class.sum(axis=0)
        killed = block.kill_unit >= 0
        np.add.at(self.kills_by_class,
                  (block.kill_unit[killed], np.broadcast_to(self.target_column, killed.shape)[killed]),
                  1)
        for k, arr in enumerate((block.shots, block.rounds, block.engagements, block.kills)):
            self.unit_sums[:, k] += arr.sum(axis=0)
        self.asset_hits += block.asset_hits.sum(axis=0)
        self.asset_reps_hit += (block.asset_hits > 0).sum(axis=0)
        for key, values in m.items():
            values = values.astype(np.float64)
            self.sums[key] = self.sums.get(key, 0.0) + float(values.sum())
            self.sums_sq[key] = self.sums_sq.get(key, 0.0) + float((values * values).sum())

    def merge(self, other) -> None:
        """Add the replications of another accumulator of the same scenario.

        Every field is additive (the leaker histogram is padded to the longer). The integer
        fields do not depend on the order; sums and sums_sq are floats, so folding per-block
        accumulators of one run in ascending replication order gives, bit for bit, the sums of
        `add` over the same blocks (0.0 + x == x): engine.montecarlo folds every run that way."""
        self.reps += other.reps
        if len(other.leak_hist) > len(self.leak_hist):
            self.leak_hist = np.concatenate(
                [self.leak_hist, np.zeros(len(other.leak_hist) - len(self.leak_hist), np.int64)])
        self.leak_hist[:len(other.leak_hist)] += other.leak_hist
        for name in ("fates_by_group", "unit_sums", "asset_hits", "asset_reps_hit",
                     "fates_by_raid", "why_by_fate", "engagements_by_raid", "shots_by_class",
                     "kills_by_class"):
            getattr(self, name)[...] += getattr(other, name)
        for key, value in other.sums.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        for key, value in other.sums_sq.items():
            self.sums_sq[key] = self.sums_sq.get(key, 0.0) + value

    def mean_ci(self, key: str) -> tuple[float, float, float]:
        return mean_ci95(self.sums.get(key, 0.0), self.sums_sq.get(key, 0.0), self.reps,
                         True, *figure_bounds(self.sc, key))


@dataclass
class Results:
    acc: Accumulator
    seed: int
    engine: str
    elapsed_s: float
    threads: int = 1
    kept: list | None = None
    scenario_name: str = ""
    scenario_file: str = ""

    @property
    def reps(self) -> int:
        return self.acc.reps

    def to_dict(self) -> dict:
        """Every figure as plain dicts and lists (the JSON that `run --json` writes)."""
        return results_json(self)

    def __repr__(self) -> str:
        lk = self.leakers()
        return (f"<Results {self.scenario_name!r}: {self.reps} replications, seed {self.seed}, "
                f"{self.engine}; leakers {lk['mean']:.2f} [{ci_text(*lk['ci95'], sep=', ')}], "
                f"P(>=1) {lk['p_any']:.3f}>")

    # ------------------------------------------------------------------ figures
    def leakers(self) -> dict:
        acc = self.acc
        mean, lo, hi = acc.mean_ci("leakers")      # at most the real threats launched
        k_any = int(acc.reps - acc.leak_hist[0])
        p_lo, p_hi = p_any_ci95(k_any, acc.reps, real_threat_count(acc.sc))
        hist = acc.leak_hist
        last = int(np.nonzero(hist)[0].max()) + 1 if hist.any() else 1
        return {"mean": mean, "ci95": [lo, hi], "p_any": k_any / acc.reps,
                "p_any_ci95": [p_lo, p_hi],
                "quantiles": {name: histogram_quantile(hist, q) for name, q in
                              (("median", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99),
                               ("max", 1.0))},
                "histogram": [int(x) for x in hist[:last]],
                "decoy_leakers_mean": acc.mean_ci("decoy_leakers")[0]}

    def by_type(self) -> list[dict]:
        acc, lab, sc = self.acc, self.acc.labels, self.acc.sc
        n = acc.reps
        rows = []
        for g, name in enumerate(lab.groups):
            launched = int((sc.th_group == g).sum())
            f = acc.fates_by_group[g]
            rows.append({"type": name, "decoy": bool(sc.th_decoy[sc.th_group == g][0]),
                         "launched": launched, "failed": f[FAILED] / n, "killed": f[KILLED] / n,
                         "leaked": f[LEAKED] / n, "missed": f[MISSED] / n,
                         "cost_usd": launched * lab.group_cost_usd[g]})
        return rows

    def by_raid(self) -> list[dict]:
        """Fates per [[raids]] entry (two raids of one type stay apart)."""
        acc, lab, sc = self.acc, self.acc.labels, self.acc.sc
        n = acc.reps
        rows = []
        for k, name in enumerate(lab.raids):
            mine = sc.th_raid == k
            f = acc.fates_by_raid[k]
            rows.append({"raid": name, "type": lab.groups[sc.th_group[mine][0]],
                         "decoy": bool(sc.th_decoy[mine][0]), "launched": int(mine.sum()),
                         "engagements": acc.engagements_by_raid[k] / n,
                         "failed": f[FAILED] / n, "killed": f[KILLED] / n,
                         "leaked": f[LEAKED] / n, "missed": f[MISSED] / n})
        return rows

    def not_engaged(self) -> list[dict]:
        """Threats no unit ever engaged, by reason (mean per replication), with their fates."""
        acc, n = self.acc, self.acc.reps
        return [{"reason": WHY_NAMES[w], "threats": acc.why_by_fate[w].sum() / n,
                 "leaked": acc.why_by_fate[w, LEAKED] / n,
                 "missed": acc.why_by_fate[w, MISSED] / n,
                 "failed": acc.why_by_fate[w, FAILED] / n}
                for w in range(1, len(WHY_NAMES)) if acc.why_by_fate[w].sum() > 0]

    def by_unit(self) -> list[dict]:
        acc, lab, sc = self.acc, self.acc.labels, self.acc.sc
        n = acc.reps
        rows = []
        for u, name in enumerate(lab.units):
            cost = acc.unit_sums[u, 0] * sc.un_cost_usd[u]
            kills = acc.unit_sums[u, 3]
            rows.append({"unit": name, "type": lab.unit_types[u],
                         "shots": acc.unit_sums[u, 0] / n, "rounds": acc.unit_sums[u, 1] / n,
                         "engagements": acc.unit_sums[u, 2] / n, "kills": kills / n,
                         "cost_usd": cost / n,
                         "cost_per_kill_usd": cost / kills if kills else math.nan,
                         "decoy_shots": acc.shots_by_class[u, N_CLASSES] / n,
                         "decoy_kills": acc.kills_by_class[u, N_CLASSES] / n,
                         "decoy_cost_usd": acc.shots_by_class[u, N_CLASSES] * sc.un_cost_usd[u] / n})
        return rows

    def by_target_class(self) -> list[dict]:
        """Interceptor shots, kills and cost by the class of what was shot at (decoys apart):
        cost per kill, and the cost spent on decoys."""
        acc, sc, n = self.acc, self.acc.sc, self.acc.reps
        rows = []
        for c, name in enumerate(THREAT_CLASSES + ("decoy",)):
            shots = acc.shots_by_class[:, c]
            if not shots.any():
                continue
            cost = float(shots @ sc.un_cost_usd)
            kills = int(acc.kills_by_class[:, c].sum())
            rows.append({"class": name, "shots": shots.sum() / n, "kills": kills / n,
                         "cost_usd": cost / n,
                         "cost_per_kill_usd": cost / kills if kills else math.nan})
        return rows

    def by_asset(self) -> list[dict]:
        acc, lab, sc = self.acc, self.acc.labels, self.acc.sc
        n = acc.reps
        return [{"asset": name, "hits": acc.asset_hits[a] / n,
                 "p_hit": acc.asset_reps_hit[a] / n,
                 "value_hit": acc.asset_reps_hit[a] / n * sc.as_value[a]}
                for a, name in enumerate(lab.assets)]

    def cost(self) -> dict:
        interceptors = self.acc.mean_ci("cost_usd")
        threats = float(sum(r["cost_usd"] for r in self.by_type()))
        return {"interceptors_usd": interceptors[0],
                "interceptors_usd_ci95": [interceptors[1], interceptors[2]],
                "threats_usd": threats,
                "exchange_ratio": interceptors[0] / threats if threats > 0 else math.nan}

    def outcomes_arrays(self) -> dict[str, np.ndarray]:
        """Per-replication, per-threat outcomes (with --keep-outcomes)."""
        if not self.kept:
            return {}
        lab = self.acc.labels
        out = {f: np.concatenate([getattr(b, f) for b in self.kept]) for f in
               ("fate", "fate_t", "kill_unit", "impact_e", "impact_n", "shots", "rounds",
                "engagements", "kills", "asset_hits", "threat_engagements", "why",
                "shots_by_class")}
        out["why_names"] = np.array(WHY_NAMES)
        out["fate_names"] = np.array(FATE_NAMES)
        out["threat_names"] = np.array(lab.threat_names)
        out["unit_names"] = np.array(lab.units)
        out["asset_names"] = np.array(lab.assets)
        out["threat_group"] = self.acc.sc.th_group
        out["group_names"] = np.array(lab.groups)
        return out


def json_clean(x):
    """JSON-safe values: numpy scalars to Python, NaN to None."""
    if isinstance(x, dict):
        return {k: json_clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, np.bool_):
        return bool(x)
    return x


SCHEMA_VERSION = 2   # of every JSON output (run, compare, sweep): README "JSON outputs"


@functools.lru_cache(maxsize=1)
def salvosim_version() -> str:
    """The installed package's version (importlib.metadata: about 15 ms the first time, so it
    is looked up only when an output or --version needs it)."""
    try:
        from importlib.metadata import version
        return version("salvosim")
    except Exception:            # a source checkout that is not installed
        return "0+unknown"


def output_header(kind: str) -> dict:
    """The first keys of every JSON output: what it is, its schema and the salvosim that wrote
    it."""
    return {"kind": kind, "schema_version": SCHEMA_VERSION, "salvosim_version": salvosim_version()}


def results_json(res: Results) -> dict:
    """Machine-readable results. Identical for the same scenario and seed (no timings)."""
    value = res.acc.mean_ci("value_hit")
    return json_clean({
        **output_header("run"),
        "scenario": res.scenario_name, "file": res.scenario_file, "seed": res.seed,
        "replications": res.reps, "engine": res.engine,
        "leakers": res.leakers(), "by_type": res.by_type(), "by_raid": res.by_raid(),
        "not_engaged": res.not_engaged(), "by_unit": res.by_unit(),
        "by_target_class": res.by_target_class(),
        "by_asset": res.by_asset(),
        "asset_value_hit": {"mean": value[0], "ci95": [value[1], value[2]]},
        "cost": res.cost(),
    })


def text_table(headers: list[str], rows: list[list], aligns: str) -> list[str]:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                             for c, w, a in zip(r, widths, aligns)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def usd(x: float, millions_digits: int = 2, thousands_digits: int = 1) -> str:
    """US dollars in text: $1.23 M, $45.6 k, $789 (figures use fewer digits)."""
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.{millions_digits}f} M"
    if abs(x) >= 1e3:
        return f"${x / 1e3:,.{thousands_digits}f} k"
    return f"${x:,.0f}"


def results_text(res: Results) -> str:
    lk = res.leakers()
    lines = [f"{res.scenario_name} — {res.reps} replications, seed {res.seed}, "
             f"{res.engine} engine"
             + (f" ({res.threads} threads)" if res.engine == "numba" else "")
             + f", {res.elapsed_s:.2f} s", ""]
    q = lk["quantiles"]
    lines.append(f"Leakers per attack (real threats): mean {lk['mean']:.2f} "
                 f"[95% CI {ci_text(*lk['ci95'])}]; "
                 f"P(>= 1 leaker) = {lk['p_any']:.3f} "
                 f"[{lk['p_any_ci95'][0]:.3f} – {lk['p_any_ci95'][1]:.3f}]")
    lines.append(f"Leakers quantiles: median {q['median']}, 90% {q['p90']}, 95% {q['p95']}, "
                 f"99% {q['p99']}, max {q['max']}")
    if any(r["decoy"] for r in res.by_type()):
        lines.append(f"Decoys reaching the defended area: mean {lk['decoy_leakers_mean']:.2f}")
    value = res.acc.mean_ci("value_hit")
    lines.append(f"Asset value hit per attack: mean {value[0]:.2f} "
                 f"[95% CI {ci_text(value[1], value[2])}]")
    lines.append("")
    lines.append("By threat type (mean per attack)")
    lines += text_table(["type", "launched", "failed", "killed", "leaked", "missed"],
                    [[r["type"], r["launched"], f"{r['failed']:.2f}", f"{r['killed']:.2f}",
                      f"{r['leaked']:.2f}", f"{r['missed']:.2f}"] for r in res.by_type()],
                    "lrrrrr")
    lines.append("")
    lines.append("By raid (mean per attack)")
    lines += text_table(["raid", "type", "launched", "engagements", "failed", "killed", "leaked",
                     "missed"],
                    [[r["raid"], r["type"], r["launched"], f"{r['engagements']:.2f}",
                      f"{r['failed']:.2f}", f"{r['killed']:.2f}", f"{r['leaked']:.2f}",
                      f"{r['missed']:.2f}"] for r in res.by_raid()], "llrrrrrr")
    why = res.not_engaged()
    lines.append("")
    lines.append("Threats no unit engaged, by reason (mean per attack; decoys included)")
    if why:
        lines += text_table(["reason", "threats", "leaked", "missed", "failed"],
                        [[r["reason"], f"{r['threats']:.2f}", f"{r['leaked']:.2f}",
                          f"{r['missed']:.2f}", f"{r['failed']:.2f}"] for r in why], "lrrrr")
    else:
        lines.append("  none: every threat was engaged")
    lines.append("")
    lines.append("By fire unit (mean per attack)")
    lines += text_table(["unit", "type", "engagements", "shots", "rounds", "kills", "cost",
                     "cost/kill", "on decoys"],
                    [[r["unit"], r["type"], f"{r['engagements']:.2f}", f"{r['shots']:.2f}",
                      f"{r['rounds']:.1f}", f"{r['kills']:.2f}", usd(r["cost_usd"]),
                      "-" if math.isnan(r["cost_per_kill_usd"]) else usd(r["cost_per_kill_usd"]),
                      usd(r["decoy_cost_usd"])]
                     for r in res.by_unit()], "llrrrrrrr")
    lines.append("")
    lines.append("Interceptors by target class (mean per attack; decoys apart)")
    lines += text_table(["target", "shots", "kills", "cost", "cost/kill"],
                    [[r["class"], f"{r['shots']:.2f}", f"{r['kills']:.2f}", usd(r["cost_usd"]),
                      "-" if math.isnan(r["cost_per_kill_usd"]) else usd(r["cost_per_kill_usd"])]
                     for r in res.by_target_class()], "lrrrr")
    hit = [r for r in res.by_asset() if r["hits"] > 0]
    lines.append("")
    lines.append("Assets hit (mean hits per attack, P(hit))")
    if hit:
        lines += text_table(["asset", "hits", "P(hit)", "value hit"],
                        [[r["asset"], f"{r['hits']:.2f}", f"{r['p_hit']:.3f}",
                          f"{r['value_hit']:.2f}"]
                         for r in sorted(hit, key=lambda r: -r["value_hit"])], "lrrr")
    else:
        lines.append("  none")
    c = res.cost()
    lines.append("")
    ratio = c["exchange_ratio"]
    lines.append(f"Interceptor cost per attack {usd(c['interceptors_usd'])} vs threats "
                 f"{usd(c['threats_usd'])}: cost-exchange ratio "
                 + (f"{ratio:.2f}" if math.isfinite(ratio) else "n/a (the threats cost nothing)"))
    hist = lk["histogram"]
    lines.append("")
    lines.append("Leaker distribution (replications with k leakers)")
    peak = max(hist) if hist else 1
    for k, count in enumerate(hist):
        if count:
            lines.append(f"  {k:3d} {count:8d} {'#' * max(1, round(40 * count / peak))}")
    return "\n".join(lines)
