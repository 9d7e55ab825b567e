"""`salvosim map`: a planner's picture of a scenario (schematic, open-source figures).

Two panels in km east / north of the base reference point:
- Approaches and coverage: the base, every fire unit's envelope (maximum-range ring cut to its
  sector, minimum-range ring), every sensor's coverage as a dashed outline and the raid axes.
  Sensor coverage is the detection range against the lowest-RCS threat of the scenario's raids
  that the sensor tracks (R_ref (σ/σ_ref)^¼, MODEL.md §4), limited by the 4/3-Earth radar
  horizon for one threat altitude (default: the lowest cruise altitude among the raids, 100 m
  if there is none). The view is centred on the base and just holds the largest ring; launch
  sites beyond it are shown as arrows from the map edge along their true bearing.
- Base detail: perimeter, defended area, assets coloured by kind and labelled, fire units and
  sensors with their names, short-range envelopes.
"""
from __future__ import annotations

import functools
import math

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patches import Polygon as PolygonPatch
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from shapely.geometry import Point

from salvosim.defenses.sensors import detection_range_m, radar_horizon_m
from salvosim.engine.scenario import ingress_waypoint_m

DEFAULT_ALTITUDE_M = 100.0      # threat altitude for the horizon when no raid is a cruise threat
MIN_DETAIL_HALF_KM = 0.05        # the base-detail view is at least 100 m across
VIEW_MARGIN = 1.12              # view half-width = largest ring reach x this
SUBTITLE = "schematic geometry — open-source figures"

ASSET_COLOURS = {"runway": "#7f7f7f", "apron": "#b9c4cf", "aircraft": "#4a78c2", "hq": "#8e5bb5",
                 "fuel": "#e8912d", "ammo": "#c8403a", "living": "#5aa55a", "radar": "#36b3c2",
                 "other": "#b59b6e"}
CLASS_COLOURS = {"rocket": "#d62728", "mortar": "#ff7f0e", "drone": "#e6550d",
                 "cruise_missile": "#8c564b", "ballistic_missile": "#7b2a8e"}
DECOY_COLOUR = "#8a8a8a"
UNIT_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#e377c2", "#9467bd", "#17becf", "#bcbd22",
                "#8c564b")
SENSOR_COLOURS = ("#1f4e79", "#2e8b57", "#b8860b", "#6a3d9a", "#c0392b", "#00838f", "#7f6000",
                  "#555555")
HALO = [patheffects.withStroke(linewidth=2.6, foreground="white")]
OVERVIEW_MIN_RING = 0.1         # overview: rings below this fraction of the view are in the detail
LEGEND_NAMES = 3                # unit / sensor names listed per catalog type in the legend


def plain_text(func):
    """Run a figure function with matplotlib's mathtext off: names from a scenario file are
    text, and a '$' in one ("$5 drone") must not be read as the start of a formula."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context({"text.parse_math": False}):
            return func(*args, **kwargs)
    return wrapper


def _names(items, limit: int = LEGEND_NAMES) -> str:
    names = [x.name for x in items]
    return ", ".join(names[:limit]) + (f", … (+{len(names) - limit})" if len(names) > limit else "")


def _wrap(text: str, width: int = 62) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width, subsequent_indent="   ", break_long_words=False))


# ----------------------------------------------------------------------------------------
# Geometry of what is drawn (metres)
def default_altitude_m(scn) -> float:
    """Lowest cruise altitude among the raids (cruise threats fly low and level), else 100 m."""
    cruise = [r.threat.altitude_m for r in scn.raids if r.threat.is_cruise]
    return min(cruise) if cruise else DEFAULT_ALTITUDE_M


def sensor_coverage_m(sensor, scn, altitude_m: float):
    """(ground radius m, threat it is computed for, 'range' | 'horizon') or None.

    The threat is the lowest-RCS raid threat whose class the sensor tracks; the radius is the
    ground range at which a target at `altitude_m` is inside both the detection range (slant)
    and the radar horizon."""
    spec = sensor.spec
    tracked = [r.threat for r in scn.raids if r.threat.threat_class in spec.classes]
    if not tracked:
        return None
    threat = min(tracked, key=lambda t: t.rcs_m2)
    r_det = detection_range_m(spec.range_m, threat.rcs_m2, spec.rcs_ref_m2, spec.rcs_scaling)
    ground = math.sqrt(max(r_det ** 2 - (altitude_m - spec.height_m) ** 2, 0.0))
    horizon = radar_horizon_m(spec.height_m, altitude_m)
    if horizon < ground:
        return horizon, threat, "horizon"
    return ground, threat, "range"


def _arc(cx, cy, r, b0_deg, b1_deg, n=None):
    """Points of an arc from bearing b0 to b1 (clockwise from north), in the given units."""
    n = n or max(8, int(abs(b1_deg - b0_deg) / 2) + 2)
    b = np.radians(np.linspace(b0_deg, b1_deg, n))
    return cx + r * np.sin(b), cy + r * np.cos(b)


def _sector_outline(cx, cy, rmin, rmax, facing_deg, width_deg):
    """Closed outline of an annular sector (or a disc edge when width = 360)."""
    if width_deg >= 360.0:
        return _arc(cx, cy, rmax, 0.0, 360.0, 181)
    b0, b1 = facing_deg - width_deg / 2.0, facing_deg + width_deg / 2.0
    xo, yo = _arc(cx, cy, rmax, b0, b1)
    if rmin > 0:
        xi, yi = _arc(cx, cy, rmin, b1, b0)
    else:
        xi, yi = np.array([cx]), np.array([cy])
    x = np.concatenate([xo, xi, xo[:1]])
    y = np.concatenate([yo, yi, yo[:1]])
    return x, y


def _clip_segment(p, q, half):
    """Liang–Barsky: the part of segment p→q inside the square |x|, |y| <= half, or None."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, x0 + half), (dx, half - x0), (-dy, y0 + half), (dy, half - y0)):
        if pk == 0.0:
            if qk < 0.0:
                return None
            continue
        t = qk / pk
        if pk < 0.0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (x0 + t0 * dx, y0 + t0 * dy), (x0 + t1 * dx, y0 + t1 * dy)


def raid_path_m(raid, base):
    """Ground track of a raid's centre line: launch site, [ingress waypoint], aim point."""
    if raid.aim_mode == "random_asset":
        c = base.perimeter.centroid
        aim = (float(c.x), float(c.y))
    else:
        aim = (raid.aim_e, raid.aim_n)
    pts = [(raid.launch_e, raid.launch_n)]
    if raid.ingress_bearing_deg is not None:
        pts.append(ingress_waypoint_m(aim[0], aim[1], raid.ingress_bearing_deg,
                                      raid.ingress_distance_m))
    pts.append(aim)
    return pts


def view_half_width_m(scn, coverage) -> float:
    """Half-width of the square view: the perimeter or the farthest ring, plus margin."""
    minx, miny, maxx, maxy = scn.base.perimeter.bounds
    reach = max(abs(minx), abs(miny), abs(maxx), abs(maxy))
    for u in scn.units:
        reach = max(reach, math.hypot(u.east_m, u.north_m) + u.spec.max_range_m)
    for s in scn.sensors:
        cov = coverage.get(s.name)
        if cov is not None:
            reach = max(reach, math.hypot(s.east_m, s.north_m) + cov[0])
    return reach * VIEW_MARGIN


def _nice_length_km(span_km: float) -> float:
    """A round scale-bar length of about a fifth of the span."""
    target = span_km / 5.0
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if step >= target * 0.7:
            return step
    return 1000.0


# ----------------------------------------------------------------------------------------
# Labels that do not overlap
POINT_OFFSETS = (  # (dx, dy) points, ha, va: around a marker, nearest first
    (6, 3, "left", "bottom"), (6, -3, "left", "top"), (-6, 3, "right", "bottom"),
    (-6, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
    (8, 0, "left", "center"), (-8, 0, "right", "center"), (10, 11, "left", "bottom"),
    (-10, 11, "right", "bottom"), (10, -11, "left", "top"), (-10, -11, "right", "top"),
    (0, 16, "center", "bottom"), (0, -16, "center", "top"))
# asset names: on the polygon, else nearby with a leader line
CENTRE_OFFSETS = tuple((dx * 2, dy * 2, ha, va) for dx, dy, ha, va in POINT_OFFSETS)


class Labeller:
    """Greedy placement of text in display space: first candidate offset that overlaps nothing
    already placed (or the least overlapping one), kept inside its axes."""

    def __init__(self, fig):
        self.renderer = FigureCanvasAgg(fig).get_renderer()
        self.boxes: list = []

    def block_point(self, ax, x, y, half_px=5.0):
        px, py = ax.transData.transform((x, y))
        self.boxes.append((px - half_px, py - half_px, px + half_px, py + half_px))

    def block_artist(self, artist):
        bb = artist.get_window_extent(self.renderer)
        self.boxes.append((bb.x0, bb.y0, bb.x1, bb.y1))

    def _cost(self, bb, ax_bb):
        cost = 0.0
        for x0, y0, x1, y1 in self.boxes:
            w = min(bb.x1, x1) - max(bb.x0, x0)
            h = min(bb.y1, y1) - max(bb.y0, y0)
            if w > 0 and h > 0:
                cost += w * h
        outside = (max(0.0, ax_bb.x0 - bb.x0) + max(0.0, bb.x1 - ax_bb.x1)
                   + max(0.0, ax_bb.y0 - bb.y0) + max(0.0, bb.y1 - ax_bb.y1))
        return cost + 1e3 * outside

    def place(self, ax, text, xy, offsets=POINT_OFFSETS, leader=False, anchors=(), **kw):
        """Place `text` for the point `xy`: first at each of `anchors` (centred, no leader),
        then at each offset from `xy`; a leader line marks a label away from its first spot."""
        candidates = [(a, (0, 0, "center", "center")) for a in anchors]
        candidates += [(xy, off) for off in offsets]
        first = candidates[0]
        ann = ax.annotate(text, first[0], xytext=first[1][:2], textcoords="offset points",
                          ha=first[1][2], va=first[1][3], path_effects=HALO, **kw)
        ax_bb = ax.get_window_extent(self.renderer)
        best = None
        for point, (dx, dy, ha, va) in candidates:
            ann.xy = point
            ann.xyann = (dx, dy)
            ann.set_ha(ha)
            ann.set_va(va)
            cost = self._cost(ann.get_window_extent(self.renderer), ax_bb)
            if best is None or cost < best[0]:
                best = (cost, point, (dx, dy, ha, va))
            if cost == 0.0:
                break
        _, point, (dx, dy, ha, va) = best
        ann.xy = point
        ann.xyann = (dx, dy)
        ann.set_ha(ha)
        ann.set_va(va)
        if leader and (dx, dy) != (0, 0):
            ann.remove()
            ann = ax.annotate(text, point, xytext=(dx, dy), textcoords="offset points", ha=ha,
                              va=va, path_effects=HALO, arrowprops=dict(
                                  arrowstyle="-", color="#444444", lw=0.6, shrinkA=1, shrinkB=0),
                              **kw)
        self.block_artist(ann)
        return ann


def inner_points(poly, n=7):
    """Points inside a polygon along its long axis, centre first, in km."""
    minx, miny, maxx, maxy = poly.bounds
    c = poly.representative_point()
    pts = [(c.x, c.y)]
    horizontal = (maxx - minx) >= (maxy - miny)
    for f in (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)[:n]:
        x = minx + f * (maxx - minx) if horizontal else c.x
        y = c.y if horizontal else miny + f * (maxy - miny)
        if poly.contains(Point(x, y)):
            pts.append((x, y))
    return [(x / 1000.0, y / 1000.0) for x, y in pts]


# ----------------------------------------------------------------------------------------
# Drawing
def colour_table(keys, palette):
    table = {}
    for k in keys:
        if k not in table:
            table[k] = palette[len(table) % len(palette)]
    return table


def draw_base(ax, scn):
    km = 1e-3
    per = np.asarray(scn.base.perimeter.exterior.coords) * km
    ax.add_patch(PolygonPatch(per, closed=True, facecolor="#f3efe4", edgecolor="black",
                              linewidth=1.4, zorder=2))
    if not scn.defended_area.equals(scn.base.perimeter):
        da = np.asarray(scn.defended_area.exterior.coords) * km
        ax.add_patch(PolygonPatch(da, closed=True, fill=False, edgecolor="#2a7f2a",
                                  linewidth=1.6, linestyle=(0, (6, 3)), zorder=3))
    for a in scn.base.assets:
        xy = np.asarray(a.polygon.exterior.coords) * km
        ax.add_patch(PolygonPatch(xy, closed=True, facecolor=ASSET_COLOURS[a.kind],
                                  edgecolor="#333333", linewidth=0.5, alpha=0.9, zorder=3))


def _label_assets(ax, scn, lab):
    y0, y1 = ax.get_ylim()
    for a in sorted(scn.base.assets, key=lambda a: a.polygon.area):
        inner = inner_points(a.polygon)
        minx, miny, maxx, maxy = a.polygon.bounds
        # a thin strip (a runway): its label goes beside it, not struck through by its outline
        thin = min(maxx - minx, maxy - miny) / 1000.0 < 0.03 * abs(y1 - y0)
        lab.place(ax, a.name, inner[0], CENTRE_OFFSETS, leader=True,
                  anchors=() if thin else inner, fontsize=6.5, color="#1a1a1a", zorder=9)


def _draw_envelopes(ax, scn, unit_colour, max_ring_km=None, min_ring_km=0.0):
    km = 1e-3
    for u in scn.units:
        sp = u.spec
        col = unit_colour[sp.id]
        cx, cy = u.east_m * km, u.north_m * km
        if max_ring_km is not None and sp.max_range_m * km > max_ring_km:
            continue
        if sp.max_range_m * km < min_ring_km:
            continue
        x, y = _sector_outline(cx, cy, sp.min_range_m * km, sp.max_range_m * km,
                               u.facing_deg, sp.sector_width_deg)
        ax.fill(x, y, color=col, alpha=0.06, zorder=1, linewidth=0)
        ax.plot(x, y, color=col, linewidth=1.5, zorder=4, solid_capstyle="round")
        if sp.min_range_m > 0:
            if sp.sector_width_deg >= 360.0:
                xi, yi = _arc(cx, cy, sp.min_range_m * km, 0.0, 360.0, 121)
            else:
                b0 = u.facing_deg - sp.sector_width_deg / 2.0
                xi, yi = _arc(cx, cy, sp.min_range_m * km, b0, b0 + sp.sector_width_deg)
            ax.plot(xi, yi, color=col, linewidth=0.9, linestyle=":", zorder=4)


def _draw_markers(ax, scn, unit_colour, sensor_colour, lab):
    km = 1e-3
    for s in scn.sensors:
        ax.plot([s.east_m * km], [s.north_m * km], marker="D", markersize=4.5,
                color=sensor_colour[s.spec.id], markeredgecolor="white", markeredgewidth=0.5,
                zorder=7, linestyle="none")
        if lab is not None:
            lab.block_point(ax, s.east_m * km, s.north_m * km)
    for u in scn.units:
        ax.plot([u.east_m * km], [u.north_m * km], marker="^", markersize=8,
                color=unit_colour[u.spec.id], markeredgecolor="black", markeredgewidth=0.6,
                zorder=8, linestyle="none")
        if lab is not None:
            lab.block_point(ax, u.east_m * km, u.north_m * km)


def _label_placements(ax, scn, unit_colour, sensor_colour, lab):
    """Unit names, and the names of sensors that do not sit on a fire unit."""
    km = 1e-3
    for u in scn.units:
        lab.place(ax, u.name, (u.east_m * km, u.north_m * km), fontsize=7,
                  color=unit_colour[u.spec.id], weight="bold", zorder=10)
    on_units = {(u.east_m, u.north_m) for u in scn.units}
    for s in scn.sensors:
        if (s.east_m, s.north_m) not in on_units:
            lab.place(ax, s.name, (s.east_m * km, s.north_m * km), fontsize=6.5,
                      color=sensor_colour[s.spec.id], zorder=10)


def _draw_coverage(ax, scn, coverage, sensor_colour, min_ring_km=0.0):
    km = 1e-3
    for s in scn.sensors:
        cov = coverage.get(s.name)
        if cov is None or cov[0] * km < min_ring_km:
            continue
        x, y = _sector_outline(s.east_m * km, s.north_m * km, 0.0, cov[0] * km, s.facing_deg,
                               s.spec.sector_width_deg)
        ax.plot(x, y, color=sensor_colour[s.spec.id], linewidth=1.2, linestyle=(0, (5, 3)),
                zorder=5)


def _raid_colour(raid):
    return DECOY_COLOUR if raid.threat.decoy else CLASS_COLOURS[raid.threat.threat_class]


def _raid_label(raid) -> str:
    rng_km = math.hypot(raid.launch_e, raid.launch_n) / 1000.0
    brg = math.degrees(math.atan2(raid.launch_e, raid.launch_n)) % 360.0
    rng = f"{rng_km:.0f}" if rng_km >= 100 else f"{round(rng_km, 1):g}"
    return f"{raid.name} ({raid.count} × {raid.threat.id}, {rng} km, {brg:.0f}°)"


def _head(ax, p, q, frac_back, col, size):
    """An arrow head on segment p→q at q, drawn along the segment."""
    ax.annotate("", xy=q, xytext=(q[0] - (q[0] - p[0]) * frac_back, q[1] - (q[1] - p[1]) * frac_back),
                arrowprops=dict(arrowstyle=f"-|>,head_length={size},head_width={size / 2}",
                                color=col, lw=1.2, shrinkA=0, shrinkB=0), zorder=6)


def _draw_raids(ax, scn, half_km):
    """Raid axes clipped to the view. Returns the label anchors: (x, y, text, colour, inside)."""
    km = 1e-3
    anchors = []
    for raid in scn.raids:
        col = _raid_colour(raid)
        style = (0, (4, 2)) if raid.threat.decoy else "-"
        pts = [(x * km, y * km) for x, y in raid_path_m(raid, scn.base)]
        visible = []
        for p, q in zip(pts[:-1], pts[1:]):
            seg = _clip_segment(p, q, half_km)
            if seg is not None and seg[0] != seg[1]:
                visible.append(seg)
        if not visible:
            continue
        # stop short of the aim point so that the base itself stays readable
        p, q = visible[-1]
        seg_len = math.hypot(q[0] - p[0], q[1] - p[1])
        keep = max(0.0, seg_len - 0.07 * half_km) / seg_len if seg_len > 0 else 1.0
        visible[-1] = (p, (p[0] + (q[0] - p[0]) * keep, p[1] + (q[1] - p[1]) * keep))
        for p, q in visible:
            ax.plot([p[0], q[0]], [p[1], q[1]], color=col, linewidth=1.8, linestyle=style,
                    zorder=6, alpha=0.9, solid_capstyle="round")
            mid = ((p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0)
            _head(ax, p, mid, 0.05, col, 0.8)
        _head(ax, *visible[-1], 0.02, col, 1.0)
        if raid.ingress_bearing_deg is not None:
            wx, wy = pts[1]
            if abs(wx) <= half_km and abs(wy) <= half_km:
                ax.plot([wx], [wy], marker="o", markersize=6, markerfacecolor="white",
                        markeredgecolor=col, markeredgewidth=1.5, zorder=7, linestyle="none")
                ax.annotate("ingress waypoint", (wx, wy), xytext=(0, -11),
                            textcoords="offset points", fontsize=7, color=col, ha="center",
                            va="top", zorder=10, path_effects=HALO)
        entry = visible[0][0]
        inside = entry == pts[0]
        if inside:
            ax.plot([entry[0]], [entry[1]], marker="X", markersize=7, color=col,
                    markeredgecolor="black", markeredgewidth=0.5, zorder=7, linestyle="none")
        anchors.append((entry[0], entry[1], _raid_label(raid), col, inside))
    return anchors


def _place_raid_labels(ax, anchors, half_km, lab):
    """One block of lines per cluster of nearby entry points, set inside the edge it is on."""
    groups: list[list] = []
    for a in (a for a in anchors if not a[4]):
        for g in groups:
            if math.hypot(a[0] - g[0][0], a[1] - g[0][1]) < 0.12 * half_km:
                g.append(a)
                break
        else:
            groups.append([a])
    line_h = 0.05 * half_km
    for g in groups:
        x = sum(a[0] for a in g) / len(g)
        y = sum(a[1] for a in g) / len(g)
        ha = "right" if x > 0.5 * half_km else "left" if x < -0.5 * half_km else "center"
        if y > 0.9 * half_km:
            va, y0 = "top", y - 0.04 * half_km
        elif y < -0.9 * half_km:
            va, y0 = "bottom", y + 0.04 * half_km + (len(g) - 1) * line_h
        else:
            # beside the axis: above it, lines stacking upwards
            va, y0 = "bottom", y + 0.03 * half_km + (len(g) - 1) * line_h
        inset = 0.02 * half_km
        x = min(max(x, -half_km + inset), half_km - inset)
        for k, (_, _, text, col, _) in enumerate(g):
            t = ax.text(x, y0 - k * line_h, text, fontsize=7.5, color=col, ha=ha, va=va,
                        weight="bold", zorder=11, path_effects=HALO)
            lab.block_artist(t)
    # launch sites on the map: beside their marker, clear of everything placed so far
    for x, y, text, col, _ in (a for a in anchors if a[4]):
        lab.block_point(ax, x, y)
    for x, y, text, col, _ in (a for a in anchors if a[4]):
        lab.place(ax, text, (x, y), fontsize=7.5, color=col, weight="bold", zorder=11)


def _label_big_envelopes(ax, scn, unit_colour, half_km, anchors, lab):
    """Name the envelopes that are large enough to read at the overview scale, on the arc of
    the outer ring farthest from any raid axis."""
    km = 1e-3
    axis_brgs = [math.degrees(math.atan2(a[0], a[1])) % 360.0 for a in anchors]
    done = set()
    for u in scn.units:
        sp = u.spec
        if sp.max_range_m * km < 0.3 * half_km or (sp.id, u.facing_deg) in done:
            continue
        done.add((sp.id, u.facing_deg))
        width = sp.sector_width_deg
        cands = (np.arange(0.0, 360.0, 5.0) if width >= 360.0 else
                 u.facing_deg + np.linspace(-width / 2.0 + 8.0, width / 2.0 - 8.0, 25))

        def clearance(b):
            return min((abs((b - a + 180.0) % 360.0 - 180.0) for a in axis_brgs), default=180.0)

        b = max(cands, key=clearance)
        r = sp.max_range_m * km
        x = u.east_m * km + r * math.sin(math.radians(b))
        y = u.north_m * km + r * math.cos(math.radians(b))
        lab.place(ax, f"{u.name} ({sp.id}) {sp.min_range_m * km:g}–{r:g} km", (x, y),
                  fontsize=7.5, color=unit_colour[sp.id], weight="bold", zorder=10)


def _north_arrow(ax):
    ax.annotate("N", xy=(0.05, 0.965), xytext=(0.05, 0.885), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="top", fontsize=12, weight="bold",
                arrowprops=dict(arrowstyle="-|>,head_length=0.8,head_width=0.45", color="black",
                                lw=2), zorder=12)


def _scale_bar(ax, half_km):
    length = _nice_length_km(2 * half_km)
    label = f"{length:g} km" if length >= 1 else f"{length * 1000:g} m"
    bar = AnchoredSizeBar(ax.transData, length, label, loc="lower left", pad=0.6, borderpad=0.8,
                          sep=4, frameon=True, size_vertical=0.008 * half_km,
                          fontproperties={"size": 8})
    bar.patch.set_alpha(0.85)
    bar.zorder = 12
    ax.add_artist(bar)


def setup_axes(ax, half_km, centre=(0.0, 0.0)):
    ax.set_xlim(centre[0] - half_km, centre[0] + half_km)
    ax.set_ylim(centre[1] - half_km, centre[1] + half_km)
    ax.set_aspect("equal")
    ax.apply_aspect()     # fixes the box now, so that labels can be placed in display space
    ax.set_xlabel("east of reference point, km", fontsize=8)
    ax.set_ylabel("north of reference point, km", fontsize=8)
    ax.tick_params(labelsize=7.5)
    ax.grid(True, color="#dddddd", linewidth=0.5, zorder=0)
    ax.set_facecolor("#fcfcfa")


@plain_text
def draw_map(scn, altitude_m: float | None = None) -> Figure:
    """The scenario map as a matplotlib Figure (no pyplot, no display needed).

    altitude_m: threat altitude for the horizon-limited sensor coverage, m (default: the
    lowest cruise altitude among the raids, or 100 m)."""
    alt = default_altitude_m(scn) if altitude_m is None else float(altitude_m)
    coverage = {s.name: sensor_coverage_m(s, scn, alt) for s in scn.sensors}
    coverage = {k: v for k, v in coverage.items() if v is not None}
    unit_colour = colour_table([u.spec.id for u in scn.units], UNIT_COLOURS)
    sensor_colour = colour_table([s.spec.id for s in scn.sensors], SENSOR_COLOURS)
    half_km = view_half_width_m(scn, coverage) / 1000.0

    fig = Figure(figsize=(18.0, 12.0), dpi=100)
    lab = Labeller(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.4, 1.0], height_ratios=[1.0, 0.5],
                            left=0.04, right=0.985, top=0.91, bottom=0.045, wspace=0.12,
                            hspace=0.13)
    ax = fig.add_subplot(grid[:, 0])
    detail = fig.add_subplot(grid[0, 1])
    key = fig.add_subplot(grid[1, 1])
    key.axis("off")

    # Base detail (first, so that the overview labels know nothing of it)
    minx, miny, maxx, maxy = (v / 1000.0 for v in scn.base.perimeter.bounds)
    dminx, dminy, dmaxx, dmaxy = (v / 1000.0 for v in scn.defended_area.bounds)
    if max(dmaxx - dminx, dmaxy - dminy) <= 2.0 * max(maxx - minx, maxy - miny):
        # a defended area a little larger than the perimeter: keep it in the detail view
        minx, miny, maxx, maxy = min(minx, dminx), min(miny, dminy), max(maxx, dmaxx), max(maxy, dmaxy)
    centre = ((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    # at least 100 m across: a perimeter of centimetres made a map of 67,577,060 pixels
    detail_half = max(max(maxx - minx, maxy - miny) / 2.0 * 1.25, MIN_DETAIL_HALF_KM)
    setup_axes(detail, detail_half, centre)
    draw_base(detail, scn)
    _draw_envelopes(detail, scn, unit_colour, max_ring_km=detail_half * 1.6)
    _draw_markers(detail, scn, unit_colour, sensor_colour, lab)
    _label_assets(detail, scn, lab)
    _label_placements(detail, scn, unit_colour, sensor_colour, lab)
    _north_arrow(detail)
    _scale_bar(detail, detail_half)
    detail.set_title(f"Base detail — {scn.base.name}", fontsize=9.5)

    # Approaches and coverage
    setup_axes(ax, half_km)
    draw_base(ax, scn)
    # rings much smaller than the view would stack at its centre: the detail panel has them
    small_km = OVERVIEW_MIN_RING * half_km
    small = [u for u in scn.units if u.spec.max_range_m / 1000.0 < small_km]
    small += [s for s in scn.sensors if s.name in coverage and coverage[s.name][0] / 1000.0 < small_km]
    _draw_coverage(ax, scn, coverage, sensor_colour, min_ring_km=small_km)
    _draw_envelopes(ax, scn, unit_colour, min_ring_km=small_km)
    _draw_markers(ax, scn, unit_colour, sensor_colour, None)
    ax.add_patch(PolygonPatch([(centre[0] - detail_half, centre[1] - detail_half),
                               (centre[0] + detail_half, centre[1] - detail_half),
                               (centre[0] + detail_half, centre[1] + detail_half),
                               (centre[0] - detail_half, centre[1] + detail_half)],
                              closed=True, fill=False, edgecolor="#555555", linewidth=0.8,
                              linestyle=(0, (2, 2)), zorder=9))
    anchors = _draw_raids(ax, scn, half_km)
    _place_raid_labels(ax, anchors, half_km, lab)
    _label_big_envelopes(ax, scn, unit_colour, half_km, anchors, lab)
    _north_arrow(ax)
    _scale_bar(ax, half_km)
    ax.set_title(f"Approaches and coverage — sensor rings against the lowest-RCS raid threat "
                 f"each tracks, at {alt:g} m (4/3-Earth horizon); dotted square: base detail"
                 + (f"\n(rings under {small_km:.3g} km are shown in the base detail only)"
                    if small else ""), fontsize=9.5)

    _legend(key, scn, coverage, unit_colour, sensor_colour, alt)
    fig.suptitle(f"{scn.name} — {scn.base.id}, layout {scn.layout_name}", fontsize=15,
                 weight="bold", y=0.985)
    fig.text(0.5, 0.945, SUBTITLE, ha="center", fontsize=10.5, style="italic", color="#444444")
    return fig


def _legend(ax, scn, coverage, unit_colour, sensor_colour, alt):
    defense = []
    seen = set()
    for u in scn.units:
        sp = u.spec
        if sp.id in seen:
            continue
        seen.add(sp.id)
        sector = "" if sp.sector_width_deg >= 360 else f", {sp.sector_width_deg:g}° sector"
        same = [v for v in scn.units if v.spec.id == sp.id]
        defense.append(Line2D([], [], color=unit_colour[sp.id], marker="^", markeredgecolor="black",
                              linewidth=1.5, label=_wrap(f"{_names(same)} ({sp.id}): "
                              f"{sp.min_range_m / 1000:g}–{sp.max_range_m / 1000:g} km{sector}")))
    seen = set()
    for s in scn.sensors:
        if s.spec.id in seen:
            continue
        seen.add(s.spec.id)
        same = [v for v in scn.sensors if v.spec.id == s.spec.id]
        cov = coverage.get(s.name)
        if cov is None:
            text = f"{_names(same)} ({s.spec.id}): tracks none of the raid threats"
        else:
            radius, threat, limit = cov
            text = (f"{_names(same)} ({s.spec.id}): {radius / 1000:.1f} km vs {threat.id} "
                    f"({threat.rcs_m2:g} m²)" + (", horizon" if limit == "horizon" else ""))
        defense.append(Line2D([], [], color=sensor_colour[s.spec.id], marker="D", markersize=4.5,
                              linestyle=(0, (5, 3)), linewidth=1.2, label=_wrap(text)))
    if not defense:
        defense.append(Line2D([], [], color="none", label="no sensors or fire units"))

    raids = []
    classes = []
    for r in scn.raids:
        k = "decoy" if r.threat.decoy else r.threat.threat_class
        if k not in classes:
            classes.append(k)
    for k in classes:
        col = DECOY_COLOUR if k == "decoy" else CLASS_COLOURS[k]
        raids.append(Line2D([], [], color=col, linewidth=1.8, marker=">",
                            linestyle=(0, (4, 2)) if k == "decoy" else "-",
                            label=f"raid axis: {k.replace('_', ' ')}"))
    raids.append(Line2D([], [], color="black", marker="X", linestyle="none",
                        label="launch site on the map"))
    if any(r.ingress_bearing_deg is not None for r in scn.raids):
        raids.append(Line2D([], [], color="black", marker="o", markerfacecolor="white",
                            linestyle="none", label="ingress waypoint"))
    raids.append(Patch(facecolor="#f3efe4", edgecolor="black", label="base perimeter"))
    if not scn.defended_area.equals(scn.base.perimeter):
        raids.append(Line2D([], [], color="#2a7f2a", linestyle=(0, (6, 3)), label="defended area"))

    kinds = []
    for a in scn.base.assets:
        if a.kind not in kinds:
            kinds.append(a.kind)
    assets = [Patch(facecolor=ASSET_COLOURS[k], edgecolor="#333333", label=k) for k in kinds]

    leg_assets = ax.legend(handles=assets, loc="upper left", ncol=min(len(assets), 5) or 1,
                           fontsize=7.5, frameon=False, title="Assets", title_fontsize=8.5,
                           borderaxespad=0.0, bbox_to_anchor=(0.0, 1.0), columnspacing=1.2)
    ax.add_artist(leg_assets)
    leg_def = ax.legend(handles=defense, loc="upper left", fontsize=7.5, frameon=False,
                        title="Fire units (envelope) and sensors (coverage)", title_fontsize=8.5,
                        borderaxespad=0.0, bbox_to_anchor=(0.0, 0.80))
    ax.add_artist(leg_def)
    leg_raids = ax.legend(handles=raids, loc="upper right", fontsize=7.5, frameon=False,
                          title="Raids and base", title_fontsize=8.5, borderaxespad=0.0,
                          bbox_to_anchor=(1.0, 0.80))
    for leg in (leg_assets, leg_def, leg_raids):
        leg._legend_box.align = "left"
    ax.text(0.0, -0.02, "Envelopes: solid = maximum ground range cut to the sector, dotted = "
            "minimum range. Sensor coverage (dashed):\ndetection range against the lowest-RCS "
            f"raid threat the sensor tracks, at {alt:g} m, limited by the 4/3-Earth radar "
            "horizon.\nArrows from the map edge come from launch sites beyond the view: name "
            "(count × type, range km, bearing °\nfrom the reference point).",
            transform=ax.transAxes, fontsize=7, va="top", ha="left", color="#333333")
