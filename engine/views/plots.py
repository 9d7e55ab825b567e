"""Pictures of results for planners: impact map, engagement timeline, leaker histogram,
interceptor expenditure, saturation curves and mix comparison.

Every function returns a matplotlib Figure (no pyplot, Agg canvas, no display needed);
`save_figure` writes PNG, or SVG when the path ends in .svg, under a temporary name and
renames it. `write_standard_plots` is what `salvosim run --plots DIR` writes.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patches import Polygon as PolygonPatch

from salvosim.engine.constants import FAILED, KILLED, LEAKED, MISSED
from salvosim.engine.results import ci_text, no_interval, usd
from salvosim.engine.views.maps import (
    CENTRE_OFFSETS,
    UNIT_COLOURS,
    Labeller,
    colour_table,
    draw_base,
    inner_points,
    plain_text,
    setup_axes,
)

LEAK_RED = "#d62728"
KILL_GREEN = "#2ca02c"
MISS_GREY = "#7f7f7f"
VARIANT_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                   "#e377c2", "#bcbd22", "#555555")
STANDARD_PLOTS = ("impacts.png", "timeline.png", "leakers_hist.png", "expenditure.png")


# ----------------------------------------------------------------------------------------
# Files
@plain_text
def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 130) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path) -> str:
    """PNG, or SVG if the path ends in .svg; atomic (temporary name, then rename)."""
    from salvosim.engine.fileio import write_atomic
    fmt = "svg" if str(path).lower().endswith(".svg") else "png"
    write_atomic(path, figure_bytes(fig, fmt))
    return str(path)


def write_standard_plots(res, scn, out_dir) -> list[str]:
    """impacts.png, timeline.png, leakers_hist.png and expenditure.png in out_dir.

    res: engine.results.Results run with keep_outcomes=True (res.kept)."""
    out = Path(out_dir)
    out.mkdir(exist_ok=True)
    figures = (impact_map_figure(res, scn), timeline_figure(scn, res.seed, rep=typical_replication(res)[0]),
               leaker_histogram_figure(res), expenditure_figure(res))
    return [save_figure(fig, out / name) for fig, name in zip(figures, STANDARD_PLOTS)]


def typical_replication(res) -> tuple[int, int | None]:
    """(replication, leakers) of a typical attack: the first kept replication whose number of
    leakers (real threats) is the median; (first replication, None) when none were kept."""
    if not res.kept:
        return 0, None
    sc = res.acc.sc
    rows = [(b.rep0 + i, int(n)) for b in res.kept
            for i, n in enumerate(((b.fate == LEAKED) & ~sc.th_decoy).sum(axis=1))]
    median = sorted(n for _, n in rows)[(len(rows) - 1) // 2]
    return next((r, n) for r, n in rows if n == median)


def _usd(x: float) -> str:
    """US dollars for figure text, one digit fewer than results.usd (figures are drawn with
    mathtext off: see maps.plain_text)."""
    return usd(x, millions_digits=1, thousands_digits=0)


# ----------------------------------------------------------------------------------------
# Impact map
@plain_text
def impact_map_figure(res, scn) -> Figure:
    """Where the threats came down over the base, over every kept replication: leakers red
    (points, or density when there are many), killed and missed threats' aim-and-error impact
    points faded, assets hit outlined in red with P(hit); a bar chart of P(hit) by asset."""
    sc, lab = res.acc.sc, res.acc.labels
    fate = np.concatenate([b.fate for b in res.kept])
    e = np.concatenate([b.impact_e for b in res.kept]) / 1000.0
    n = np.concatenate([b.impact_n for b in res.kept]) / 1000.0
    decoy = np.broadcast_to(sc.th_decoy, fate.shape)
    n_reps = fate.shape[0]

    fig = Figure(figsize=(16.0, 8.0))
    grid = fig.add_gridspec(1, 2, width_ratios=[2.1, 1.0], left=0.05, right=0.97, top=0.86,
                            bottom=0.1, wspace=0.3)
    ax = fig.add_subplot(grid[0, 0])
    bars = fig.add_subplot(grid[0, 1])

    minx, miny, maxx, maxy = (v / 1000.0 for v in scn.base.perimeter.bounds)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) / 2 * 1.15
    setup_axes(ax, half, (cx, cy))
    ax.set_ylim(cy - (maxy - miny) / 2 * 1.25, cy + (maxy - miny) / 2 * 1.25)
    ax.apply_aspect()           # the base's own proportions, before labels are placed
    draw_base(ax, scn)

    killed = fate == KILLED
    missed = fate == MISSED
    leaked_real = (fate == LEAKED) & ~decoy
    leaked_decoy = (fate == LEAKED) & decoy
    faded = dict(s=5, linewidths=0, zorder=4)
    ax.scatter(e[killed], n[killed], color="#4a78c2", alpha=_alpha(killed.sum(), 0.35), **faded)
    ax.scatter(e[missed], n[missed], color=MISS_GREY, alpha=_alpha(missed.sum(), 0.45), **faded)
    ax.scatter(e[leaked_decoy], n[leaked_decoy], facecolors="none", edgecolors="#555555",
               s=14, linewidths=0.6, alpha=_alpha(leaked_decoy.sum(), 0.7), zorder=5)
    n_leak = int(leaked_real.sum())
    density = n_leak > 4000
    if density:
        hb = ax.hexbin(e[leaked_real], n[leaked_real], gridsize=60, mincnt=1, cmap="Reds",
                       extent=(cx - half, cx + half, cy - half, cy + half), zorder=6,
                       linewidths=0.0, alpha=0.9,
                       C=np.full(n_leak, 1.0 / n_reps), reduce_C_function=np.sum)
        cb = fig.colorbar(hb, ax=ax, shrink=0.6, pad=0.01)
        cb.set_label("leakers per attack in the cell", fontsize=8)
        ax.apply_aspect()
    else:
        ax.scatter(e[leaked_real], n[leaked_real], color=LEAK_RED, s=16,
                   alpha=max(_alpha(n_leak, 0.9), 0.4), edgecolors="#5a0000", linewidths=0.3,
                   zorder=6)

    by_asset = res.by_asset()
    p_hit = {r["asset"]: r["p_hit"] for r in by_asset}
    for a in scn.base.assets:
        if p_hit.get(a.name, 0.0) > 0:
            xy = np.asarray(a.polygon.exterior.coords) / 1000.0
            ax.add_patch(PolygonPatch(xy, closed=True, fill=False, edgecolor=LEAK_RED,
                                      linewidth=1.0 + 5.0 * p_hit[a.name], zorder=7))
    lab = Labeller(fig)
    for a in sorted(scn.base.assets, key=lambda a: a.polygon.area):
        inner = inner_points(a.polygon)
        hit = p_hit.get(a.name, 0.0) > 0
        lab.place(ax, a.name + (f" {p_hit[a.name]:.2f}" if hit else ""), inner[0],
                  CENTRE_OFFSETS, leader=True, anchors=inner, fontsize=7,
                  color="#8b0000" if hit else "#333333", weight="bold" if hit else "normal",
                  zorder=9)
    ax.set_title(f"Impact points, {n_reps} replications (labels: asset, P(hit))", fontsize=10)
    handles = [Line2D([], [], marker="o", linestyle="none", color=LEAK_RED,
                      label=f"leaker (real threat): {n_leak / n_reps:.2f} per attack"
                      + (" — density" if density else "")),
               Line2D([], [], marker="o", linestyle="none", color="#4a78c2", alpha=0.5,
                      label=f"killed (where it would have hit): {killed.sum() / n_reps:.2f}"),
               Line2D([], [], marker="o", linestyle="none", color=MISS_GREY, alpha=0.6,
                      label=f"missed the defended area: {missed.sum() / n_reps:.2f}"),
               Patch(facecolor="none", edgecolor=LEAK_RED, linewidth=2.5,
                     label="asset hit (line width ~ P(hit))")]
    if leaked_decoy.any():
        handles.insert(1, Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
                                 markeredgecolor="#555555",
                                 label=f"decoy reaching the area: {leaked_decoy.sum() / n_reps:.2f}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.07), fontsize=8,
              ncol=2, frameon=False)

    order = sorted(by_asset, key=lambda r: r["p_hit"])
    y = np.arange(len(order))
    bars.barh(y, [r["p_hit"] for r in order], color=[LEAK_RED if r["p_hit"] > 0 else "#cccccc"
                                                     for r in order], height=0.65)
    for yi, r in zip(y, order):
        bars.text(r["p_hit"] + 0.01, yi, f"{r['p_hit']:.2f}  (value {r['value_hit']:.1f}/raid)",
                  va="center", fontsize=7.5)
    bars.set_yticks(y, [r["asset"] for r in order], fontsize=8)
    top = max([r["p_hit"] for r in order] + [0.05])
    bars.set_xlim(0, min(1.0, top * 1.45) if top < 0.69 else 1.45)
    bars.set_xlabel("P(asset hit at least once per attack)", fontsize=9)
    bars.set_title("Assets hit", fontsize=10)
    bars.grid(True, axis="x", color="#e5e5e5")
    bars.tick_params(labelsize=8)
    lk = res.leakers()
    fig.suptitle(f"{res.scenario_name or scn.name} — where the threats came down",
                 fontsize=13, weight="bold")
    fig.text(0.5, 0.915, f"leakers per attack {lk['mean']:.2f} [95% CI {ci_text(*lk['ci95'])}"
             f"], P(≥1 leaker) {lk['p_any']:.3f}; seed {res.seed}; "
             f"schematic base geometry", ha="center", fontsize=9.5, color="#333333")
    return fig


def _alpha(count: int, top: float) -> float:
    """Transparency that keeps dense point clouds readable."""
    return float(np.clip(top * 300.0 / max(count, 1), 0.06, top))


# ----------------------------------------------------------------------------------------
# Engagement timeline (one replication, reference engine)
def record_replication(sc, labels, seed: int, rep: int):
    """Run one replication with the reference engine and record every channel hold.

    Returns (outcome, holds) with holds a list of dicts: unit, threat, engagement number,
    t_fire_s, t_free_s (channel free again, retarget included), t_intercept_s, shots."""
    from salvosim.engine.reference import ReferenceReplication

    class Recorder(ReferenceReplication):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.holds: list[dict] = []
            self._pending: dict | None = None

        def engagement(self, u, j, e, n_shots, t_intercept):
            self._pending = {"unit": u, "threat": j, "engagement": e, "t_fire_s": self.env.now,
                             "t_intercept_s": t_intercept, "shots": n_shots}
            return super().engagement(u, j, e, n_shots, t_intercept)

        def hold_channel(self, u, request, t_free):
            hold = dict(self._pending, t_free_s=t_free)
            self.holds.append(hold)
            return super().hold_channel(u, request, t_free)

    sim = Recorder(sc, seed, rep, labels=labels)
    out = sim.run()
    for h in sim.holds:
        j = h["threat"]
        h["kill"] = bool(out.fate[j] == KILLED and out.kill_unit[j] == h["unit"]
                         and abs(out.fate_t[j] - h["t_intercept_s"]) < 1e-9)
    return out, sim.holds


def assign_channels(holds: list[dict], channels) -> None:
    """Give each hold a channel lane: the lowest lane free when it starts."""
    free_at: dict[int, list[float]] = {}
    for h in sorted(holds, key=lambda h: (h["t_fire_s"], h["unit"])):
        lanes = free_at.setdefault(h["unit"], [-math.inf] * int(channels[h["unit"]]))
        k = next((i for i, t in enumerate(lanes) if t <= h["t_fire_s"] + 1e-9), None)
        if k is None:          # cannot happen with the model's channel rule; keep it visible
            lanes.append(-math.inf)
            k = len(lanes) - 1
        lanes[k] = h["t_free_s"]
        h["channel"] = k


@plain_text
def timeline_figure(scn, seed: int, rep: int = 0) -> Figure:
    """A Gantt chart of one replication: each fire unit's channels busy (bars), shots (ticks),
    kills (green X) and misses (open circles) at the intercept time; below it, the threats'
    fates over time (cumulative killed, leaked, failed, missed) with each leak marked."""
    from salvosim.engine.compile import compile_scenario
    sc, labels = compile_scenario(scn)
    out, holds = record_replication(sc, labels, seed, rep)
    assign_channels(holds, sc.un_channels)

    rows = []                                   # (unit, channel)
    for u in range(len(labels.units)):
        used = max([h["channel"] for h in holds if h["unit"] == u] + [0])
        rows += [(u, k) for k in range(used + 1)]     # the channels it used (at least one row)
    row_of = {r: i for i, r in enumerate(rows)}
    unit_colour = colour_table(labels.unit_types, UNIT_COLOURS)

    fates_t = out.fate_t
    ended = np.isfinite(fates_t)
    times = [h["t_fire_s"] for h in holds] + [max(h["t_free_s"], h["t_intercept_s"]) for h in holds]
    times += list(fates_t[ended & ((out.fate == LEAKED) | (out.fate == KILLED))])
    if not times:
        times = list(fates_t[ended]) or [0.0, 1.0]
    t0, t1 = min(times), max(times)
    pad = max(5.0, 0.03 * (t1 - t0))
    t0, t1 = t0 - pad, t1 + pad

    height = 2.6 + 0.32 * len(rows)
    fig = Figure(figsize=(15.0, height + 3.2))
    grid = fig.add_gridspec(2, 1, height_ratios=[height, 2.6], hspace=0.12, left=0.14,
                            right=0.98, top=1 - 0.9 / (height + 3.2), bottom=0.07)
    ax = fig.add_subplot(grid[0])
    low = fig.add_subplot(grid[1], sharex=ax)

    for h in holds:
        y = row_of[(h["unit"], h["channel"])]
        col = unit_colour[labels.unit_types[h["unit"]]]
        ax.barh(y, h["t_free_s"] - h["t_fire_s"], left=h["t_fire_s"], height=0.62, color=col,
                alpha=0.55, edgecolor=col, linewidth=0.6, zorder=2)
        ax.plot([h["t_fire_s"]], [y], marker="|", markersize=9, color="black", zorder=3)
        if h["kill"]:
            ax.plot([h["t_intercept_s"]], [y], marker="X", markersize=7.5, color=KILL_GREEN,
                    markeredgecolor="black", markeredgewidth=0.4, zorder=4)
        else:
            ax.plot([h["t_intercept_s"]], [y], marker="o", markersize=5.5, markerfacecolor="white",
                    markeredgecolor="black", markeredgewidth=0.8, zorder=4)
    leaks = np.flatnonzero(out.fate == LEAKED)
    for j in leaks:
        ax.axvline(out.fate_t[j], color=LEAK_RED, linewidth=0.8, alpha=0.6, zorder=1)
    ax.set_yticks(range(len(rows)), [f"{labels.units[u]} ch {k + 1}" if sc.un_channels[u] > 1
                                     else labels.units[u] for u, k in rows], fontsize=8)
    for tick, (u, _k) in zip(ax.get_yticklabels(), rows):
        tick.set_color(unit_colour[labels.unit_types[u]])
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_xlim(t0, t1)
    ax.grid(True, axis="x", color="#e5e5e5", zorder=0)
    ax.tick_params(labelbottom=False)
    handles = [Patch(color="#999999", alpha=0.6, label="channel busy (engagement, retarget)"),
               Line2D([], [], marker="|", color="black", linestyle="none", markersize=9,
                      label="shot fired"),
               Line2D([], [], marker="X", color=KILL_GREEN, markeredgecolor="black",
                      linestyle="none", label="intercept: kill"),
               Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="black",
                      linestyle="none", label="intercept: miss (or target already gone)"),
               Line2D([], [], color=LEAK_RED, label="a leaker impacts")]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=5, fontsize=8,
              frameon=False)

    # Fates over time
    for fate, col, name in ((KILLED, KILL_GREEN, "killed"), (LEAKED, LEAK_RED, "leaked"),
                            (FAILED, "#bbbbbb", "failed"), (MISSED, MISS_GREY, "missed")):
        t = np.sort(out.fate_t[out.fate == fate])
        if len(t):
            low.step(np.concatenate([[t0], t, [t1]]), np.concatenate([[0], np.arange(1, len(t) + 1),
                                                                     [len(t)]]),
                     where="post", color=col, linewidth=1.8, label=f"{name}: {len(t)}")
    if len(leaks):
        low.plot(out.fate_t[leaks], np.zeros(len(leaks)), marker="|", markersize=12,
                 color=LEAK_RED, linestyle="none", clip_on=False)
    low.set_ylabel("threats (cumulative)", fontsize=8.5)
    low.set_xlabel("time from scenario start, s", fontsize=9)
    low.grid(True, color="#e5e5e5")
    low.tick_params(labelsize=8)
    low.legend(loc="upper left", fontsize=8, frameon=False)
    low.set_ylim(bottom=0)

    n_real = int((~sc.th_decoy).sum())
    leaked_real = int(((out.fate == LEAKED) & ~sc.th_decoy).sum())
    fig.suptitle(f"{scn.name} — engagement timeline of replication {rep} (seed {seed}, "
                 f"reference engine)", fontsize=12, weight="bold")
    fig.text(0.5, 1 - 0.62 / (height + 3.2),
             f"{int(out.shots.sum())} shots in {len(holds)} engagements, "
             f"{int((out.fate == KILLED).sum())} kills, {leaked_real} of {n_real} real threats "
             f"leaked; one row per fire channel", ha="center", fontsize=9.5, color="#333333")
    return fig


# ----------------------------------------------------------------------------------------
# Leakers and expenditure
@plain_text
def leaker_histogram_figure(res) -> Figure:
    """Distribution of leakers per attack over the replications."""
    lk = res.leakers()
    hist = np.asarray(lk["histogram"], dtype=float)
    frac = hist / max(res.reps, 1)
    fig = Figure(figsize=(10.0, 5.6))
    ax = fig.add_subplot(111)
    k = np.arange(len(frac))
    ax.bar(k, frac, color=[KILL_GREEN if i == 0 else LEAK_RED for i in k], width=0.8,
           edgecolor="white")
    ax.axvline(lk["mean"], color="black", linestyle="--", linewidth=1.2)
    if not no_interval(*lk["ci95"]):
        ax.axvspan(lk["ci95"][0], lk["ci95"][1], color="black", alpha=0.08)
    ax.text(lk["mean"], ax.get_ylim()[1] * 0.97, f"mean {lk['mean']:.2f}\n[95% CI "
            f"{ci_text(*lk['ci95'])}]", va="top", ha="left", fontsize=9,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#999999", alpha=0.9))
    ax.set_xlabel("leakers (real threats reaching the defended area) in one raid", fontsize=10)
    ax.set_ylabel("fraction of replications", fontsize=10)
    if len(k) <= 30:
        ax.set_xticks(k)
    ax.tick_params(labelsize=8.5)
    ax.grid(True, axis="y", color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.set_title(f"{res.scenario_name} — leakers per attack ({res.reps} replications, seed "
                 f"{res.seed})\nP(≥1 leaker) = {lk['p_any']:.3f} [95% CI "
                 f"{lk['p_any_ci95'][0]:.3f} – {lk['p_any_ci95'][1]:.3f}]; green: no leaker",
                 fontsize=11)
    return fig


@plain_text
def expenditure_figure(res) -> Figure:
    """Shots and kills per fire unit, and what the shots cost (mean per attack)."""
    rows = res.by_unit()
    lab = res.acc.labels
    colour = colour_table(lab.unit_types, UNIT_COLOURS)
    fig = Figure(figsize=(14.0, 1.6 + 0.42 * max(len(rows), 3)))
    grid = fig.add_gridspec(1, 2, wspace=0.08, left=0.14, right=0.97, top=0.8, bottom=0.16)
    ax, cost_ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    y = np.arange(len(rows))
    cols = [colour[r["type"]] for r in rows]
    ax.barh(y, [r["shots"] for r in rows], color=cols, alpha=0.45, height=0.7, label="shots")
    ax.barh(y, [r["kills"] for r in rows], color=cols, height=0.35, label="kills")
    for yi, r in zip(y, rows):
        unit = "bursts" if r["rounds"] > r["shots"] else "shots"
        ax.text(r["shots"], yi, f"  {r['shots']:.1f} {unit}, {r['kills']:.1f} kills"
                + (f" ({r['rounds']:.0f} rounds)" if r["rounds"] > r["shots"] else ""),
                va="center", fontsize=7.5)
    ax.set_yticks(y, [f"{r['unit']} ({r['type']})" for r in rows], fontsize=8)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    top = max([r["shots"] for r in rows] + [1.0])
    ax.set_xlim(0, top * 1.6)
    ax.set_xlabel("mean per attack (wide bar: shots, narrow bar: kills)", fontsize=9)
    ax.grid(True, axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    ax.set_title("Shots and kills", fontsize=10)

    costs = [r["cost_usd"] for r in rows]
    cost_ax.barh(y, costs, color=cols, height=0.7)
    for yi, c in zip(y, costs):
        cost_ax.text(c, yi, f"  {_usd(c)}", va="center", fontsize=7.5)
    cost_ax.set_yticks(y, [""] * len(rows))
    cost_ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    cost_ax.set_xlim(0, max(costs + [1.0]) * 1.35)
    cost_ax.xaxis.set_major_formatter(lambda x, _pos: _usd(x))
    cost_ax.set_xlabel("interceptor cost per attack, USD", fontsize=9)
    cost_ax.grid(True, axis="x", color="#e5e5e5")
    cost_ax.set_axisbelow(True)
    cost_ax.set_title("Cost", fontsize=10)
    for a in (ax, cost_ax):
        a.tick_params(labelsize=8)
    c = res.cost()
    ratio = "n/a" if c["exchange_ratio"] is None or not math.isfinite(c["exchange_ratio"]) \
        else f"{c['exchange_ratio']:.2f}"
    fig.suptitle(f"{res.scenario_name} — interceptor expenditure (mean per attack, {res.reps} "
                 f"replications)", fontsize=12, weight="bold")
    fig.text(0.5, 0.875, f"interceptors {_usd(c['interceptors_usd'])} per attack against threats "
             f"worth {_usd(c['threats_usd'])}: cost-exchange ratio {ratio}", ha="center",
             fontsize=9.5, color="#333333")
    return fig


# ----------------------------------------------------------------------------------------
# Sweeps and comparisons
@plain_text
def saturation_figure(record: dict) -> Figure:
    """Saturation curves of a sweep record (engine.analysis): mean leakers with its 95% CI band
    and P(>= 1 leaker) with its Wilson band against the first swept key, one line per mix
    (and per value of the other swept keys); saturation points marked."""
    key = record["keys"][0]
    others = record["keys"][1:]
    points = sorted(record["points"], key=lambda p: p["index"])
    series: dict = {}
    for p in points:
        fixed = tuple(p["values"][k] for k in others)
        for r in p["results"]:
            series.setdefault((r["variant"], fixed), []).append((p["values"][key], r))
    sat = {(s["variant"], tuple(s["fixed"][k] for k in others)): s for s in record["saturation"]}
    variants = record["variants"]
    fixed_values = sorted({f for _v, f in series})
    styles = ("-", "--", ":", "-.")

    fig = Figure(figsize=(15.0, 6.4))
    grid = fig.add_gridspec(1, 2, wspace=0.18, left=0.06, right=0.98, top=0.84, bottom=0.24)
    ax, pax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    threshold = None
    for (variant, fixed), rows in series.items():
        rows.sort(key=lambda x: x[0])
        x = np.array([v for v, _ in rows], dtype=float)
        if len(variants) == 1:       # one mix: colours tell the other swept values apart
            col = VARIANT_COLOURS[fixed_values.index(fixed) % len(VARIANT_COLOURS)]
            ls = "-"
        else:
            col = VARIANT_COLOURS[variants.index(variant) % len(VARIANT_COLOURS)]
            ls = styles[fixed_values.index(fixed) % len(styles)]
        mean = np.array([r["leakers"]["mean"] for _, r in rows])
        lo = np.array([r["leakers"]["ci95"][0] for _, r in rows], dtype=float)  # None: nan
        hi = np.array([r["leakers"]["ci95"][1] for _, r in rows], dtype=float)
        p = np.array([r["p_any"]["value"] for _, r in rows])
        plo = np.array([r["p_any"]["ci95"][0] for _, r in rows])
        phi = np.array([r["p_any"]["ci95"][1] for _, r in rows])
        s = sat.get((variant, fixed), {})
        label = variant + ("" if not others else
                           " (" + ", ".join(f"{k} = {v}" for k, v in zip(others, fixed)) + ")")
        p_sat, f_sat = s.get("p_any_ge_0_5"), s.get("leak_fraction_gt_0_1")
        label += f" — P(≥1 leaker) ≥ 0.5 {_reached(p_sat)}; leakers > 10 % {_reached(f_sat)}"
        ax.plot(x, mean, color=col, linestyle=ls, marker="o", markersize=3.5, linewidth=1.8,
                label=label)
        ax.fill_between(x, lo, hi, color=col, alpha=0.15, linewidth=0)
        pax.plot(x, p, color=col, linestyle=ls, marker="o", markersize=3.5, linewidth=1.8)
        pax.fill_between(x, plo, phi, color=col, alpha=0.15, linewidth=0)
        if p_sat is not None:
            pax.plot([p_sat], [p[list(x).index(float(p_sat))]], marker="D", markersize=9,
                     color=col, markeredgecolor="black", zorder=5)
        if f_sat is not None:
            ax.plot([f_sat], [mean[list(x).index(float(f_sat))]], marker="D", markersize=9,
                    color=col, markeredgecolor="black", zorder=5)
        if threshold is None:
            threshold = (x, 0.1 * np.array([r["threats"] for _, r in rows], dtype=float))
    if threshold is not None:
        ax.plot(*threshold, color="black", linestyle=(0, (4, 3)), linewidth=1.0,
                label="10 % of the real threats launched")
    pax.axhline(SAT_P, color="black", linestyle=(0, (4, 3)), linewidth=1.0)
    pax.text(pax.get_xlim()[1], SAT_P, "P = 0.5 ", va="bottom", ha="right", fontsize=8)
    for a in (ax, pax):
        a.set_xlabel(_key_label(key), fontsize=10)
        a.grid(True, color="#e5e5e5")
        a.tick_params(labelsize=8.5)
        a.set_axisbelow(True)
    ax.set_ylabel("leakers per attack (mean, 95% CI band)", fontsize=10)
    ax.set_ylim(bottom=0)
    pax.set_ylabel("P(≥1 leaker) (95% Wilson band)", fontsize=10)
    pax.set_ylim(-0.02, 1.02)
    ax.set_title("Mean leakers (◆: first value above 10 % of the threats)", fontsize=10)
    pax.set_title("Probability of at least one leaker (◆: saturation point, P ≥ 0.5)",
                  fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"{record['scenario']} — saturation curves", fontsize=13, weight="bold")
    fig.text(0.5, 0.905, f"{record['replications']} replications per point and mix, seed "
             f"{record['seed']}, common random numbers across mixes", ha="center", fontsize=9.5,
             color="#333333")
    return fig


SAT_P = 0.5


def _reached(value) -> str:
    return "not reached" if value is None else f"from {value}"


def _key_label(key: str) -> str:
    if key.startswith("raids.") and key.endswith(".count"):
        return f"raid size ({key})"
    return key


@plain_text
def compare_figure(cmp: dict) -> Figure:
    """Mean leakers (95% CI) and interceptor cost per mix, from engine.analysis.comparison_json."""
    rows = cmp["variants"]
    fig = Figure(figsize=(14.0, 1.8 + 0.5 * max(len(rows), 3)))
    grid = fig.add_gridspec(1, 2, wspace=0.06, left=0.16, right=0.97, top=0.8, bottom=0.18)
    ax, cost_ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    y = np.arange(len(rows))
    cols = [VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i in range(len(rows))]
    means = [r["leakers"]["mean"] for r in rows]
    # the CI's bounds, or the mean where there is none (one replication: no error bar)
    ends = [(m, m) if no_interval(*r["leakers"]["ci95"]) else tuple(r["leakers"]["ci95"])
            for m, r in zip(means, rows)]
    err = np.array([[m - lo, hi - m] for m, (lo, hi) in zip(means, ends)]).T
    ax.barh(y, means, xerr=err, color=cols, alpha=0.8, height=0.6, capsize=3)
    for yi, r, (_, hi) in zip(y, rows, ends):
        ax.text(hi, yi, f"  {r['leakers']['mean']:.2f}, P(≥1) "
                f"{r['p_any']['value']:.2f}", va="center", fontsize=8)
    ax.set_yticks(y, [r["variant"] for r in rows], fontsize=8.5)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_xlim(0, max([hi for _, hi in ends] + [0.5]) * 1.5)
    ax.set_xlabel("leakers per attack (mean, 95% CI)", fontsize=9)
    ax.grid(True, axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    costs = [max(r["cost_usd"]["mean"], 1.0) for r in rows]
    cost_ax.barh(y, costs, color=cols, alpha=0.8, height=0.6)
    for yi, c in zip(y, costs):
        cost_ax.text(c, yi, f"  {_usd(c)}", va="center", fontsize=8)
    cost_ax.set_xscale("log")
    cost_ax.set_xlim(min(costs) / 2, max(costs) * 8)
    cost_ax.set_yticks(y, [""] * len(rows))
    cost_ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    cost_ax.set_xlabel("interceptor cost per attack, USD (log scale)", fontsize=9)
    cost_ax.grid(True, axis="x", color="#e5e5e5")
    cost_ax.set_axisbelow(True)
    for a in (ax, cost_ax):
        a.tick_params(labelsize=8)
    fig.suptitle(f"Defense mixes — {cmp['replications']} replications, seed {cmp['seed']}",
                 fontsize=12, weight="bold")
    return fig
