"""`salvosim report`: one self-contained HTML file about a scenario.

Sections: scenario summary, map, results (tables and the standard plots of the first defense
mix; a paired comparison when the file has [[variants]]), a saturation curve for the main raid
(a small sweep of raids.0.count) and the assumptions: every catalog value marked assumed in the
threat, sensor and fire-unit entries the scenario uses, with its source. Pictures are embedded
as base64 data URIs and the style sheet is inline, so the file opens anywhere, offline.
"""
from __future__ import annotations

import base64
import html
import math
import time
from typing import Callable

from salvosim import defenses, threats
from salvosim.bases.geo import bearing_of_en_deg
from salvosim.engine import variants as mixes
from salvosim.engine.results import ci_text, usd
from salvosim.engine.views import analysis
from salvosim.engine.views.maps import draw_map
from salvosim.engine.views.plots import (
    compare_figure,
    expenditure_figure,
    figure_bytes,
    impact_map_figure,
    leaker_histogram_figure,
    saturation_figure,
    timeline_figure,
    typical_replication,
)

DEFAULT_SWEEP_REPS = 100
SWEEP_FACTORS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0;
       color: #1d1d1d; background: #fafafa; line-height: 1.45; }
main { max-width: 1250px; margin: 0 auto; padding: 1.2em 2em 4em; background: white; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #d62728; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-top: 1.4em; }
p.sub { color: #555; margin-top: 0; }
nav a { margin-right: 1.2em; color: #1f4e79; text-decoration: none; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #d8d8d8; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; border: 1px solid #e3e3e3; margin: 0.4em 0 1em; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.9em; }
.tag { background: #fde2e2; color: #8b0000; border-radius: 3px; padding: 0 0.35em;
       font-size: 0.85em; white-space: nowrap; }
.src { color: #555; font-size: 0.85em; }
details { margin: 0.5em 0; }
"""


# ----------------------------------------------------------------------------------------
def build_report(scn, reps: int | None = None, seed: int | None = None, engine: str = "numba",
                 threads: int | None = None, sweep_reps: int | None = None,
                 vary: str | None = None, progress: Callable[[str], None] | None = None,
                 bar: bool | str = False) -> str:
    """The report as one HTML string. progress: a line per phase; bar: the comparison's
    progress bar (montecarlo.Progress's `enabled`)."""
    say = progress or (lambda _line: None)
    t0 = time.perf_counter()
    seed = scn.header.seed if seed is None else seed
    reps = reps or scn.header.replications
    sweep_reps = sweep_reps or DEFAULT_SWEEP_REPS
    specs = mixes.parse_vary_list([vary or default_report_vary(scn)])
    variants = mixes.variants_of(scn, seed)
    plan = analysis.plan_sweep(scn, specs, seed, sweep_reps)   # validates before running

    say(f"{scn.name}: {reps} replications of {len(variants)} mix(es), {engine} engine")
    run = analysis.run_paired(variants, reps, seed, engine, threads, keep_first=True,
                              progress=bar)
    res = run.results(0)
    first = variants[0].scenario
    cmp = analysis.comparison_json(run)
    say(f"saturation curve: {len(plan.grid)} points x {len(plan.names)} mix(es), "
        f"{sweep_reps} replications each")
    sweep = analysis.sweep_in_memory(plan, engine, threads)
    say("drawing")
    parts = [_head(scn),
             f"<h1>{_e(scn.name)}</h1>",
             f"<p class='sub'>{_e(scn.file)} — base {_e(scn.base.name)}, seed {seed}, "
             f"{reps} replications per mix, {engine} engine. Unclassified, educational: "
             f"open-source figures and modelling assumptions (listed at the end); schematic "
             f"base geometry.</p>",
             "<nav><a href='#summary'>Scenario</a><a href='#map'>Map</a>"
             "<a href='#results'>Results</a>"
             + ("<a href='#comparison'>Defense mixes</a>" if len(variants) > 1 else "")
             + "<a href='#saturation'>Saturation</a><a href='#assumptions'>Assumptions</a></nav>",
             _summary(scn, variants, reps, seed),
             _map_section(variants),
             _results_section(res, first, run.names[0], len(variants) > 1),
             _comparison_section(run, cmp) if len(variants) > 1 else "",
             _saturation_section(sweep),
             _assumptions_section(scn, variants),
             f"<p class='src'>salvosim report, {time.perf_counter() - t0:.0f} s.</p>",
             "</main></body></html>"]
    return "\n".join(parts)


def default_report_vary(scn) -> str:
    """scenario.raid_scale from about a quarter to eight times the file's attack (every raid
    grows together), keeping only the values the scenario accepts in every mix (the bound on
    all threats together, a schedule that must end within its limit, ...): a file `validate`
    accepts always gets its report (the file's own scale is always among them)."""
    from salvosim.engine.scenario import MAX_THREATS
    base = scn.header.raid_scale
    cap = MAX_THREATS / max(scn.n_threats / base, 1.0)
    candidates = sorted({round(min(cap, base * f), 3) for f in SWEEP_FACTORS} | {base})
    values = [v for v in candidates if v == base or _scale_accepted(scn, v)]
    return "scenario.raid_scale=" + ",".join(f"{v:g}" for v in values)


def _scale_accepted(scn, value: float) -> bool:
    """Whether every mix of the scenario accepts scenario.raid_scale = value."""
    from salvosim.engine.errors import UsageError
    spec = mixes.parse_vary_list([f"scenario.raid_scale={value:g}"])
    try:
        mixes.point_scenarios(scn, spec, (spec[0].values[0],))
    except UsageError:
        return False
    return True


# ----------------------------------------------------------------------------------------
# HTML helpers
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _img(fig, alt: str) -> str:
    data = base64.b64encode(figure_bytes(fig, "png", dpi=110)).decode("ascii")
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{data}'>"


def _table(headers, rows, numeric=()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            cls = " class='num'" if i in numeric else ""
            cells.append(f"<td{cls}>{c if isinstance(c, _Raw) else _e(c)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


class _Raw(str):
    """Table cell HTML that is not escaped."""


def _head(scn) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>salvosim report — {_e(scn.name)}</title><style>{CSS}</style></head>"
            f"<body><main>")


def _ci(lo, hi, fmt="{:.2f}") -> str:
    return f"[{ci_text(lo, hi, fmt)}]"


# ----------------------------------------------------------------------------------------
# Sections
def _summary(scn, variants, reps, seed) -> str:
    out = ["<h2 id='summary'>Scenario</h2>"]
    if scn.header.description:
        out.append(f"<p>{_e(scn.header.description)}</p>")
    c2 = scn.c2
    out.append(_table(["item", "value"], [
        ["file", scn.file], ["base", f"{scn.base.name} ({scn.base.id})"],
        ["layout", scn.layout_name], ["seed / replications", f"{seed} / {reps}"],
        ["C2", f"network {'on' if c2.network else 'off'}, latency {c2.latency_s:g} s, "
               f"double engagement {'allowed' if c2.double_engagement else 'not allowed'}, "
               f"priority {c2.priority}"],
        ["threats per attack", f"{scn.n_threats} in {len(scn.raids)} raid(s)"]]))
    out.append("<h3>Raids</h3>")
    rows = []
    for i, r in enumerate(scn.raids):
        t = r.threat
        rng = math.hypot(r.launch_e, r.launch_n) / 1000.0
        brg = bearing_of_en_deg(r.launch_e, r.launch_n)
        timing = r.timing
        if timing.rate_per_min > 0:
            sched = f"Poisson, {timing.rate_per_min:g}/min from {timing.start_s:g} s"
        else:
            sched = (f"from {timing.start_s:g} s every {timing.interval_s:g} s"
                     + (f" (+ up to {timing.jitter_s:g} s)" if timing.jitter_s else ""))
        aim = r.aim_asset or ("random asset" if r.aim_mode == "random_asset"
                              else f"point ({r.aim_e:.0f} E, {r.aim_n:.0f} N) m")
        rows.append([f"raids.{i}", r.name, f"{t.id}{' (decoy)' if t.decoy else ''}",
                     t.threat_class.replace("_", " "), r.count,
                     f"{rng:.1f} km at {brg:.0f}°", sched, aim])
    out.append(_table(["key", "raid", "type", "class", "count", "launch site", "launches",
                       "aim"], rows, numeric=(4,)))
    out.append("<h3>Defense mixes</h3>" if len(variants) > 1 else "<h3>Defense</h3>")
    rows = []
    for v in variants:
        counts: dict = {}
        for u in v.scenario.units:
            counts[u.spec.id] = counts.get(u.spec.id, 0) + 1
        sensors: dict = {}
        for s in v.scenario.sensors:
            sensors[s.spec.id] = sensors.get(s.spec.id, 0) + 1
        rows.append([v.name, v.description, v.scenario.layout_name,
                     ", ".join(f"{n} × {k}" for k, n in counts.items()) or "none",
                     ", ".join(f"{n} × {k}" for k, n in sensors.items()) or "none"])
    out.append(_table(["mix", "description", "layout", "fire units", "sensors"], rows))
    return "\n".join(out)


def _map_section(variants) -> str:
    out = ["<h2 id='map'>Map</h2>"]
    for k, v in enumerate(variants):
        image = _img(draw_map(v.scenario), f"map of {v.name}")
        if k == 0:
            title = "" if len(variants) == 1 else f"<h3>{_e(v.name)}</h3>"
            out.append(f"{title}{image}")
        else:
            out.append(f"<details><summary>Map of mix '{_e(v.name)}'</summary>{image}</details>")
    return "\n".join(out)


def _results_section(res, scn, name: str, several: bool) -> str:
    lk = res.leakers()
    value = res.acc.mean_ci("value_hit")
    c = res.cost()
    out = ["<h2 id='results'>Results</h2>"]
    if several:
        out.append(f"<p>Tables and plots of the first mix, <b>{_e(name)}</b>; the mixes are "
                   f"compared in the next section.</p>")
    ratio = c["exchange_ratio"]
    out.append(_table(["figure (per attack)", "value", "95% CI"], [
        ["leakers (real threats reaching the defended area)", f"{lk['mean']:.2f}",
         _ci(*lk["ci95"])],
        ["P(at least one leaker)", f"{lk['p_any']:.3f}", _ci(*lk["p_any_ci95"], fmt="{:.3f}")],
        ["asset value hit", f"{value[0]:.2f}", _ci(value[1], value[2])],
        ["interceptor cost", usd(c["interceptors_usd"]),
         _ci(*c["interceptors_usd_ci95"], fmt="{:,.0f}") + " USD"],
        ["threat cost", usd(c["threats_usd"]), ""],
        ["cost-exchange ratio", "n/a" if not math.isfinite(ratio) else f"{ratio:.2f}", ""]],
        numeric=(1, 2)))
    out.append("<h3>By threat type (mean per attack)</h3>")
    out.append(_table(["type", "launched", "failed", "killed", "leaked", "missed"],
                      [[r["type"] + (" (decoy)" if r["decoy"] and "decoy" not in r["type"] else ""),
                        r["launched"], f"{r['failed']:.2f}", f"{r['killed']:.2f}",
                        f"{r['leaked']:.2f}", f"{r['missed']:.2f}"] for r in res.by_type()],
                      numeric=(1, 2, 3, 4, 5)))
    out.append("<h3>By fire unit (mean per attack)</h3>")
    out.append(_table(["unit", "type", "engagements", "shots", "rounds", "kills", "cost"],
                      [[r["unit"], r["type"], f"{r['engagements']:.2f}", f"{r['shots']:.2f}",
                        f"{r['rounds']:.1f}", f"{r['kills']:.2f}", usd(r["cost_usd"])]
                       for r in res.by_unit()], numeric=(2, 3, 4, 5, 6)))
    out.append("<h3>Assets</h3>")
    out.append(_table(["asset", "hits per attack", "P(hit)", "value hit per attack"],
                      [[r["asset"], f"{r['hits']:.2f}", f"{r['p_hit']:.3f}",
                        f"{r['value_hit']:.2f}"]
                       for r in sorted(res.by_asset(), key=lambda r: -r["value_hit"])],
                      numeric=(1, 2, 3)))
    out.append("<h3>Where the threats came down</h3>")
    out.append(_img(impact_map_figure(res, scn), "impact map"))
    out.append("<h3>Leakers per attack</h3>")
    out.append(_img(leaker_histogram_figure(res), "leaker histogram"))
    out.append("<h3>Interceptor expenditure</h3>")
    out.append(_img(expenditure_figure(res), "interceptor expenditure"))
    rep, leakers = typical_replication(res)
    typical = f": {leakers} leaker(s), the median attack" if leakers is not None else ""
    out.append(f"<h3>Engagement timeline of a typical attack (replication {rep}{typical})</h3>")
    out.append(_img(timeline_figure(scn, res.seed, rep), "engagement timeline"))
    return "\n".join(out)


def _comparison_section(run, cmp) -> str:
    out = ["<h2 id='comparison'>Defense mixes</h2>",
           f"<p>All mixes run on seed {cmp['seed']} with the same {cmp['replications']} "
           f"replication numbers: they meet the same threat draws (common random numbers), so "
           f"the differences to <b>{_e(cmp['reference'])}</b> are paired. The paired 95% CI is "
           f"the one to read; the unpaired CI is shown for contrast.</p>"]
    rows = []
    for r in cmp["variants"]:
        p = r["p_any"]
        rows.append([r["variant"], f"{r['leakers']['mean']:.2f} {_ci(*r['leakers']['ci95'])}",
                     f"{p['value']:.3f} {_ci(*p['ci95'], fmt='{:.3f}')}",
                     f"{r['asset_hits']['mean']:.2f}", f"{r['shots']['mean']:.1f}",
                     usd(r["cost_usd"]["mean"])])
    out.append(_table(["mix", "leakers [95% CI]", "P(≥1 leaker) [95% CI]", "assets hit",
                       "shots", "cost"], rows, numeric=(1, 2, 3, 4, 5)))
    rows = []
    for r in cmp["variants"][1:]:
        d = r["vs_reference"]
        cells = [r["variant"]]
        for metric, fmt in (("leakers", "{:+.2f}"), ("any_leaker", "{:+.3f}"),
                            ("asset_hits", "{:+.2f}")):
            x = d[metric]
            cells.append(_Raw(f"{fmt.format(x['mean'])} {_ci(*x['paired_ci95'], fmt=fmt)}"
                              f"<br><span class='src'>unpaired "
                              f"{_ci(*x['unpaired_ci95'], fmt=fmt)}</span>"))
        cells.append(f"{d['cost_usd']['mean']:+,.0f} USD")
        rows.append(cells)
    out.append(_table(["mix minus reference", "leakers", "P(≥1 leaker)", "assets hit", "cost"],
                      rows, numeric=(1, 2, 3, 4)))
    out.append(_img(compare_figure(cmp), "comparison of the defense mixes"))
    return "\n".join(out)


def _saturation_section(sweep) -> str:
    key = sweep["keys"][0]
    values = [p["values"][key] for p in sweep["points"]]
    out = ["<h2 id='saturation'>Saturation</h2>",
           f"<p>A sweep of <code>{_e(key)}</code> over {_e(', '.join(str(v) for v in values))} "
           f"with {sweep['replications']} replications per point and mix (seed "
           f"{sweep['seed']}). Saturation point: the smallest swept value where P(≥1 leaker) "
           f"≥ 0.5, and where the leakers exceed 10 % of the real threats launched.</p>",
           _img(saturation_figure(sweep), "saturation curves")]
    rows = [[s["variant"] + ("" if not s["fixed"] else f" ({s['fixed']})"),
             analysis.saturation_value(s, "p_any_ge_0_5"),
             analysis.saturation_value(s, "leak_fraction_gt_0_1")]
            for s in sweep["saturation"]]
    out.append(_table(["mix", "P(≥1 leaker) ≥ 0.5 from", "leakers > 10 % from"], rows,
                      numeric=(1, 2)))
    return "\n".join(out)


def _fmt_value(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_fmt_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _assumption_rows(kind: str, entry, used: list, catalog_entry) -> list:
    """One row per assumed key of a catalog entry: the catalog value and where a scenario
    placement or raid uses another."""
    rows = []
    for key in entry.assumed:
        attr = "threat_class" if key == "class" else key
        cat = getattr(catalog_entry, attr, None)
        others = sorted({f"{name}: {_fmt_value(getattr(spec, attr, None))}"
                         for name, spec in used if getattr(spec, attr, None) != cat})
        note = ("set in the scenario for " + "; ".join(others)) if others else ""
        rows.append([kind, entry.id, key, _fmt_value(cat), _Raw("<span class='tag'>assumption"
                                                                "</span>"), note])
    return rows


def _assumptions_section(scn, variants) -> str:
    out = ["<h2 id='assumptions'>Assumptions</h2>",
           "<p>Every catalog value used by this scenario that is a modelling assumption (no "
           "public figure behind it; the key is in the entry's <code>assumed</code> list), with "
           "the entry's source. Values that the scenario file overrides are noted. Every other "
           "catalog figure is an approximate, publicly reported value (see the sources).</p>"]
    threat_cat = threats.load_catalog()
    sensor_cat = defenses.load_sensors()
    unit_cat = defenses.load_fire_units()
    used_threats: dict = {}
    for v in variants:
        for r in v.scenario.raids:
            used_threats.setdefault(r.threat.id, []).append((r.name, r.threat))
    used_sensors: dict = {}
    used_units: dict = {}
    for v in variants:
        for s in v.scenario.sensors:
            used_sensors.setdefault(s.spec.id, []).append((s.name, s.spec))
        for u in v.scenario.units:
            used_units.setdefault(u.spec.id, []).append((u.name, u.spec))
    rows, sources = [], []
    for kind, used, catalog in (("threat", used_threats, threat_cat),
                                ("sensor", used_sensors, sensor_cat),
                                ("fire unit", used_units, unit_cat)):
        for entry_id, uses in used.items():
            entry = catalog[entry_id]
            rows += _assumption_rows(kind, entry, uses, entry)
            sources.append([kind, entry_id, entry.name, entry.source])
    out.append(_table(["kind", "catalog entry", "key", "catalog value", "", "note"], rows))
    out.append("<h3>Sources of the catalog entries used</h3>")
    out.append(_table(["kind", "id", "name", "source"], sources))
    out.append("<h3>Base and layouts</h3>")
    layouts = sorted({v.scenario.layout_name for v in variants})
    out.append(f"<p class='note'><span class='tag'>assumption</span> {_e(scn.base.note)} "
               f"(source: {_e(scn.base.source)})</p>")
    for name in layouts:
        layout = scn.base.layouts.get(name)
        text = (layout.description if layout is not None
                else "no layout: every sensor and fire unit is given in the scenario")
        out.append(f"<p><b>Layout {_e(name)}</b>: {_e(text)}</p>")
    return "\n".join(out)
