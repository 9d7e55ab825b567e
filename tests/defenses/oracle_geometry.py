"""Independent geometry oracle (MODEL.md §10 v2): slow, plain numpy, no code shared with engine/.

Everything here is rebuilt from the threat's defining parameters (MODEL.md §3) and evaluated by
dense time sampling, so a wrong formula in the core cannot hide in a helper both sides call.
Nothing in this module imports from engine/ (test_geometry_oracles.py checks that).

Method, the same for every question:
1. evaluate the closed-form trajectory on a dense uniform time grid (numpy, vectorised);
2. find the first grid sample where the condition holds (a window, a sighting, a sign change of
   the intercept gap, the dwell fluence reaching its target);
3. refine the boundary found in the last grid cell by "zooming": resample the cell densely
   (ZOOM_POINTS points) and keep the sub-cell where the condition switches, until the cell is
   narrower than ZOOM_TOL_S. A boundary is therefore exact to ~1e-10 s; what the grid can miss
   is a feature narrower than one grid step (the test raises the grid density before it
   reports a disagreement).

Conventions copied from MODEL.md §3-5 (and from the docstrings where the spec is silent):
- ballistic L -> I: T = max(|I - L|, 1 m) / v_avg (a zero-length flight still lasts 1 m worth of
  time, as trajectory.build_ballistic documents), ground = L + (I - L) s, z = 4 H s (1 - s);
- cruise L -> [W] -> D -> I at constant speed along the 3-D polyline; altitude h up to D, 0 at I;
  W = I + ingress_m (sin b, cos b); D = dive_m (ground) before I on the last leg, or the previous
  point itself when that leg is not longer than dive_m;
- before launch the threat sits at L, after impact at I (positions are clamped in time);
- fire units are at height 0 (slant = sqrt(ground^2 + z^2)); sensors at height h_s.
"""
import math
from dataclasses import dataclass, field

import numpy as np

ZOOM_POINTS = 33          # samples per zoom round
ZOOM_TOL_S = 1e-10        # zoom until the bracket is this narrow (or no longer shrinks)
HORIZON_K_M = 4120.0      # 4/3-Earth radar horizon, MODEL.md §4 (the number, not the core's)


# ---------------------------------------------------------------------------- trajectories
@dataclass(frozen=True)
class Ballistic:
    """Ballistic threat (rocket, mortar, ballistic missile) from its defining parameters."""
    launch_e: float
    launch_n: float
    impact_e: float
    impact_n: float
    t0: float
    v_avg: float
    apogee_m: float

    @property
    def flight_s(self):
        return max(math.hypot(self.impact_e - self.launch_e, self.impact_n - self.launch_n),
                   1.0) / self.v_avg

    @property
    def t_launch(self):
        return self.t0

    @property
    def t_impact(self):
        return self.t0 + self.flight_s

    @property
    def knots(self):
        """Times where the motion has a corner (launch, impact)."""
        return np.array([self.t0, self.t_impact])

    def pos(self, t):
        t = np.asarray(t, dtype=float)
        s = np.clip((t - self.t0) / self.flight_s, 0.0, 1.0)
        e = self.launch_e + (self.impact_e - self.launch_e) * s
        n = self.launch_n + (self.impact_n - self.launch_n) * s
        z = 4.0 * self.apogee_m * s * (1.0 - s)
        return e, n, z


@dataclass(frozen=True)
class Cruise:
    """Cruise threat (drone, cruise missile) from its defining parameters."""
    launch_e: float
    launch_n: float
    impact_e: float
    impact_n: float
    t0: float
    speed: float
    altitude_m: float
    dive_m: float
    ingress_bearing_deg: float = None      # None: no ingress waypoint
    ingress_m: float = 0.0
    _knots: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        h = self.altitude_m
        pts = [(self.launch_e, self.launch_n, h)]
        prev_e, prev_n = self.launch_e, self.launch_n
        if self.ingress_bearing_deg is not None:
            b = math.radians(self.ingress_bearing_deg)
            prev_e = self.impact_e + self.ingress_m * math.sin(b)
            prev_n = self.impact_n + self.ingress_m * math.cos(b)
            pts.append((prev_e, prev_n, h))
        last = math.hypot(prev_e - self.impact_e, prev_n - self.impact_n)
        if last > self.dive_m:                         # dive point D on the last leg
            f = self.dive_m / last
            pts.append((self.impact_e + (prev_e - self.impact_e) * f,
                        self.impact_n + (prev_n - self.impact_n) * f, h))
        pts.append((self.impact_e, self.impact_n, 0.0))
        p = np.array(pts, dtype=float)
        legs = np.sqrt(((p[1:] - p[:-1]) ** 2).sum(axis=1))
        times = self.t0 + np.concatenate([[0.0], np.cumsum(legs)]) / self.speed
        keep = np.concatenate([[True], legs > 0.0])   # zero-length legs change nothing
        object.__setattr__(self, "_knots", (times[keep], p[keep]))

    @property
    def t_launch(self):
        return self.t0

    @property
    def t_impact(self):
        return float(self._knots[0][-1])

    @property
    def vertices(self):
        return self._knots[1]

    @property
    def knots(self):
        """Times where the motion has a corner (launch, turn points, dive point, impact)."""
        return self._knots[0]

    def pos(self, t):
        t = np.asarray(t, dtype=float)
        times, p = self._knots
        if times.size == 1:                            # launched on the impact point at z=0
            return (np.full(t.shape, p[0, 0]), np.full(t.shape, p[0, 1]),
                    np.full(t.shape, p[0, 2]))
        flat = t.ravel()
        out = [np.interp(flat, times, p[:, c]).reshape(t.shape) for c in range(3)]
        return out[0], out[1], out[2]


def slant_from_ground(traj, t, unit_e, unit_n):
    """Distance from a unit at height 0 to the threat at times t."""
    e, n, z = traj.pos(t)
    return np.sqrt((e - unit_e) ** 2 + (n - unit_n) ** 2 + z ** 2)


# ---------------------------------------------------------------------------- sampling tools
def time_grid(traj, t_lo, t_hi, n):
    """n uniform times over [t_lo, t_hi] plus the trajectory's corner times inside it: a
    condition that holds only briefly around a corner (the kink of the range at launch, say)
    is still sampled."""
    t = np.linspace(t_lo, t_hi, n)
    k = traj.knots
    k = k[(k > t_lo) & (k < t_hi)]
    return np.unique(np.concatenate([t, k])) if k.size else t


def zoom_first_true(pred, lo, hi, tol=ZOOM_TOL_S):
    """pred(lo) is False and pred(hi) True (pred maps a time array to a bool array): return a
    time within tol after the first switch found by resampling the bracket ever more densely."""
    while hi - lo > tol:
        t = np.linspace(lo, hi, ZOOM_POINTS)
        m = np.asarray(pred(t), dtype=bool).copy()
        m[0], m[-1] = False, True                      # known ends
        i = int(np.argmax(m))
        if t[i - 1] == lo and t[i] == hi:              # no float room left
            break
        lo, hi = t[i - 1], t[i]
    return hi


def first_run(pred, t_lo, t_hi, n, traj=None):
    """(start, end) of the first run of times in [t_lo, t_hi] where pred holds, from n uniform
    samples (plus traj's corner times) and zoomed boundaries; (nan, nan) if no sample holds.
    Also returns the grid step."""
    step = (t_hi - t_lo) / (n - 1)
    if not t_hi > t_lo:
        return math.nan, math.nan, step
    t = np.linspace(t_lo, t_hi, n) if traj is None else time_grid(traj, t_lo, t_hi, n)
    m = np.asarray(pred(t), dtype=bool)
    if not m.any():
        return math.nan, math.nan, step
    i0 = int(np.argmax(m))
    start = t_lo if i0 == 0 else zoom_first_true(pred, t[i0 - 1], t[i0])
    after = ~m[i0:]
    if not after.any():
        return start, t_hi, step
    i1 = i0 + int(np.argmax(after))
    end = zoom_first_true(lambda x: ~np.asarray(pred(x), dtype=bool), t[i1 - 1], t[i1])
    return start, end, step


def runs(pred, t_lo, t_hi, n):
    """All runs [(start_sample_time, end_sample_time)] of pred on a uniform grid (coarse)."""
    t = np.linspace(t_lo, t_hi, n)
    m = np.asarray(pred(t), dtype=bool).astype(np.int8)
    d = np.diff(np.concatenate([[0], m, [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return [(t[i], t[k]) for i, k in zip(starts, ends)]


# ---------------------------------------------------------------------------- envelope, sensor
def in_sector(d_e, d_n, facing_deg, width_deg):
    """Direction within width/2 of the facing azimuth: the angle between the direction and the
    facing unit vector is <= width/2, i.e. cos(angle) >= cos(width/2) (dot product form)."""
    if width_deg >= 360.0:
        return np.ones(np.shape(d_e), dtype=bool)
    f = math.radians(facing_deg)
    dot = d_e * math.sin(f) + d_n * math.cos(f)
    return dot >= np.hypot(d_e, d_n) * math.cos(math.radians(0.5 * width_deg))


def in_envelope(traj, t, unit_e, unit_n, rmin, rmax, zmin, zmax, facing_deg, width_deg):
    e, n, z = traj.pos(t)
    d_e, d_n = e - unit_e, n - unit_n
    r = np.hypot(d_e, d_n)
    return ((r >= rmin) & (r <= rmax) & (z >= zmin) & (z <= zmax)
            & in_sector(d_e, d_n, facing_deg, width_deg))


def window(traj, t_end, unit_e, unit_n, rmin, rmax, zmin, zmax, facing_deg, width_deg,
           n=20001):
    """First interval (a, b) of times in [launch, min(t_end, impact)] inside the envelope, or
    (nan, nan); plus the grid step used."""
    pred = lambda t: in_envelope(traj, t, unit_e, unit_n, rmin, rmax, zmin, zmax,
                                 facing_deg, width_deg)
    return first_run(pred, traj.t_launch, min(t_end, traj.t_impact), n, traj)


def sees(traj, t, sensor_e, sensor_n, sensor_h, r_det, facing_deg, width_deg):
    """MODEL.md §4: z > 0, slant (from the antenna) <= R_det, ground <= 4120 (sqrt h_s + sqrt z),
    inside the sector."""
    e, n, z = traj.pos(t)
    d_e, d_n = e - sensor_e, n - sensor_n
    ground = np.hypot(d_e, d_n)
    zp = np.maximum(z, 0.0)
    return ((z > 0.0) & (np.sqrt(ground ** 2 + (z - sensor_h) ** 2) <= r_det)
            & (ground <= HORIZON_K_M * (math.sqrt(max(sensor_h, 0.0)) + np.sqrt(zp)))
            & in_sector(d_e, d_n, facing_deg, width_deg))


def detection(traj, t_end, sensor_e, sensor_n, sensor_h, r_det, facing_deg, width_deg,
              n=20001):
    """(first time seen or inf, the first sighting run's end, grid step)."""
    pred = lambda t: sees(traj, t, sensor_e, sensor_n, sensor_h, r_det,
                          facing_deg, width_deg)
    a, b, step = first_run(pred, traj.t_launch, min(t_end, traj.t_impact), n, traj)
    if math.isnan(a):
        return math.inf, math.inf, step
    return a, b, step


# ---------------------------------------------------------------------------- intercepts
def arrival_shot_time(traj, t, unit_e, unit_n, delay, speed):
    """sigma(t) = t - delay - slant(t) / speed: the shot time whose interceptor meets the threat
    at t. The intercept gap of a shot at s is g_s(t) = sigma(t) - s."""
    return np.asarray(t, dtype=float) - delay - slant_from_ground(traj, t, unit_e, unit_n) / speed


def _with_peaks(f, t, v, max_peaks=64):
    """Add the local maxima of f, located by zooming around each sampled local maximum, to the
    samples (t, v = f(t)). A root of g_s = sigma - s where g_s only briefly rises above 0 lies
    around a maximum of sigma: with the maximum itself among the samples, it cannot be missed."""
    if t.size < 3:
        return t, v
    k = np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:])) + 1
    if k.size == 0:
        return t, v
    k = k[np.argsort(v[k])[::-1][:max_peaks]]
    lo, hi = t[k - 1], t[k + 1]
    rows = np.arange(k.size)
    frac = np.linspace(0.0, 1.0, ZOOM_POINTS)
    for _ in range(40):
        z = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        i = np.argmax(f(z), axis=1)
        lo, hi = z[rows, np.maximum(i - 1, 0)], z[rows, np.minimum(i + 1, ZOOM_POINTS - 1)]
    tp = np.concatenate([lo, 0.5 * (lo + hi), hi])
    t_all = np.concatenate([t, tp])
    order = np.argsort(t_all, kind="stable")
    return t_all[order], np.concatenate([v, f(tp)])[order]


def intercept_times(traj, shots, unit_e, unit_n, delay, speed, t_hi=None, n=20001):
    """Earliest root of g_s(t) = t - s - delay - slant(t)/speed on [s + delay, t_hi] for every
    shot time s (t_hi defaults to the impact time); inf where g_s stays < 0.

    Brute force: g_s on one dense grid over [min(shots) + delay, t_hi]; the first sample with
    g_s >= 0 is the first index where sigma (= g_s + s) reaches s, i.e. where the running
    maximum of sigma reaches s (found for all shots at once by a binary search of that running
    maximum). Samples before s + delay never count: there sigma(t) <= t - delay < s. The local
    maxima of sigma are added to the grid (_with_peaks), so a brief excursion of g_s above 0
    is not stepped over. The sign change is then zoomed to ZOOM_TOL_S."""
    shots = np.atleast_1d(np.asarray(shots, dtype=float))
    t_hi = traj.t_impact if t_hi is None else min(t_hi, traj.t_impact)
    out = np.full(shots.shape, math.inf)
    t_lo = shots.min() + delay
    if t_lo > t_hi:
        return out
    if t_hi == t_lo:
        t_grid = np.array([t_lo])
    else:
        t_grid = time_grid(traj, t_lo, t_hi, n)
    sig = arrival_shot_time(traj, t_grid, unit_e, unit_n, delay, speed)
    t_grid, sig = _with_peaks(lambda t: arrival_shot_time(traj, t, unit_e, unit_n, delay, speed),
                              t_grid, sig)
    run_max = np.maximum.accumulate(sig)
    k = np.searchsorted(run_max, shots, side="left")      # first index with sigma >= s
    at_start = (k == 0)                                    # slant 0 at s + delay
    out[at_start] = shots[at_start] + delay
    sel = np.flatnonzero((k > 0) & (k < t_grid.size))
    if sel.size == 0:
        return out
    s = shots[sel]
    lo, hi = t_grid[k[sel] - 1], t_grid[k[sel]]
    rows = np.arange(sel.size)
    frac = np.linspace(0.0, 1.0, ZOOM_POINTS)
    for _ in range(12):
        if np.all(hi - lo <= ZOOM_TOL_S):
            break
        grid = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        ok = arrival_shot_time(traj, grid, unit_e, unit_n, delay, speed) >= s[:, None]
        ok[:, 0], ok[:, -1] = False, True
        i = np.argmax(ok, axis=1)
        lo, hi = grid[rows, i - 1], grid[rows, i]
    out[sel] = hi
    return out


def intercept_time(traj, t_shot, unit_e, unit_n, delay, speed, n=20001):
    return float(intercept_times(traj, [t_shot], unit_e, unit_n, delay, speed, n=n)[0])


def fluence_rate(traj, t, unit_e, unit_n, ref_m):
    """(ref / slant)^2: dwell seconds accumulated per second (MODEL.md §5 v2)."""
    with np.errstate(divide="ignore"):
        return (ref_m / slant_from_ground(traj, t, unit_e, unit_n)) ** 2


def _simpson(traj, x0, x1, unit_e, unit_n, ref_m):
    """One Simpson panel of the fluence rate over [x0, x1] (arrays)."""
    w = lambda t: fluence_rate(traj, t, unit_e, unit_n, ref_m)
    return (x1 - x0) / 6.0 * (w(x0) + 4.0 * w(0.5 * (x0 + x1)) + w(x1))


def dwell_ends(traj, starts, unit_e, unit_n, dwell_s, ref_m, t_limit, n=20001):
    """First t_e with the integral of (ref/slant)^2 from the start to t_e = dwell_s, for every
    start; inf if that is after t_limit (or after the impact: no dwell outlasts its target).

    Cumulative integral F on one dense grid over [min(starts), t_limit] by Simpson's rule on each
    grid cell; F(start) adds a Simpson panel over the part of its cell before it; the end is the
    first node where F reaches F(start) + dwell, zoomed inside its cell with a Simpson panel from
    the cell's left node (the cells are tiny, so one panel is exact to ~1e-12 of the dwell)."""
    starts = np.atleast_1d(np.asarray(starts, dtype=float))
    out = np.full(starts.shape, math.inf)
    t_lo = starts.min()
    t_limit = min(t_limit, traj.t_impact)
    if not t_limit > t_lo:
        return out
    t = np.linspace(t_lo, t_limit, n)
    cum = np.concatenate([[0.0], np.cumsum(_simpson(traj, t[:-1], t[1:], unit_e, unit_n,
                                                    ref_m))])
    ok = starts <= t_limit
    k = np.clip(np.searchsorted(t, starts, side="right") - 1, 0, n - 1)
    f_start = cum[k] + np.where(ok, _simpson(traj, t[k], np.minimum(starts, t_limit),
                                             unit_e, unit_n, ref_m), 0.0)
    target = f_start + dwell_s
    m = np.searchsorted(cum, target, side="left")          # first node with F >= target
    sel = np.flatnonzero(ok & (m < n) & (m >= 1))
    if sel.size == 0:
        return out
    rows = np.arange(sel.size)
    node = m[sel] - 1
    lo = np.maximum(t[node], starts[sel])
    hi = t[m[sel]]
    base, left, tgt = cum[node], t[node], target[sel]
    frac = np.linspace(0.0, 1.0, ZOOM_POINTS)
    for _ in range(12):
        if np.all(hi - lo <= ZOOM_TOL_S):
            break
        grid = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        got = base[:, None] + _simpson(traj, left[:, None], grid, unit_e, unit_n, ref_m)
        reach = got >= tgt[:, None]
        reach[:, 0], reach[:, -1] = False, True
        i = np.argmax(reach, axis=1)
        lo, hi = grid[rows, i - 1], grid[rows, i]
    out[sel] = hi
    return out


def dwell_end(traj, t_start, unit_e, unit_n, dwell_s, ref_m, t_limit, n=20001):
    return float(dwell_ends(traj, [t_start], unit_e, unit_n, dwell_s, ref_m, t_limit, n=n)[0])


# ---------------------------------------------------------------------------- useful shots
@dataclass(frozen=True)
class Weapon:
    unit_e: float
    unit_n: float
    is_laser: bool
    delay: float = 0.0
    speed: float = 1.0
    dwell_s: float = 0.0
    ref_m: float = 1.0


def shot_effects(traj, shots, wpn, a, b, n=8001):
    """When each shot takes effect: its intercept (missiles; only intercepts <= b are solved
    for, later ones are inf) or the end of its dwell (lasers, inf after b)."""
    if wpn.is_laser:
        return dwell_ends(traj, shots, wpn.unit_e, wpn.unit_n, wpn.dwell_s, wpn.ref_m, b, n=n)
    return intercept_times(traj, shots, wpn.unit_e, wpn.unit_n, wpn.delay, wpn.speed, t_hi=b,
                           n=n)


def useful(traj, shots, wpn, a, b, start_slack=1e-3, n=8001):
    """MODEL.md §5: a missile shot is useful iff its intercept lies in [a - slack, b]; a laser
    dwell iff it starts at or after a and ends by b."""
    shots = np.atleast_1d(np.asarray(shots, dtype=float))
    if wpn.is_laser:
        ok = shots >= a                     # (dwells started before a are not even integrated)
        if ok.any():
            ok[ok] = shot_effects(traj, shots[ok], wpn, a, b, n=n) <= b
        return ok
    eff = shot_effects(traj, shots, wpn, a, b, n=n)
    return (eff >= a - start_slack) & (eff <= b)


def _candidates(traj, wpn, t_lo, t_hi, s_lo, s_hi, m):
    """Shot times to try: m uniform ones over [s_lo, s_hi] and, for missiles, the shot times
    F(t) = t - delay - slant(t)/speed whose interceptors meet the threat at m dense times t of
    [t_lo, t_hi]. Every shot that intercepts in [t_lo, t_hi] is one of the latter (its intercept
    t_i solves s = F(t_i)), so a short run of useful shots cannot fall between the candidates.
    For lasers the window start t_lo itself (a dwell can start no earlier)."""
    cand = [np.linspace(s_lo, s_hi, m)] if s_hi > s_lo else [np.array([s_lo])]
    if wpn.is_laser:
        cand.append(np.array([t_lo]))
    elif t_hi > t_lo:
        f = lambda t: arrival_shot_time(traj, t, wpn.unit_e, wpn.unit_n,
                                        wpn.delay, wpn.speed)
        t = time_grid(traj, t_lo, t_hi, m)
        cand.append(f(t))
        # ... and the largest F over [t_lo, t_hi], zoomed: the images F(t_k) thin out below a
        # maximum of F, where the useful shots can be a run of microseconds.
        k = int(np.argmax(f(t)))
        lo, hi = t[max(k - 1, 0)], t[min(k + 1, t.size - 1)]
        for _ in range(40):
            z = np.linspace(lo, hi, ZOOM_POINTS)
            i = int(np.argmax(f(z)))
            lo, hi = z[max(i - 1, 0)], z[min(i + 1, ZOOM_POINTS - 1)]
        cand.append(f(np.array([lo, 0.5 * (lo + hi), hi])))
    c = np.unique(np.concatenate(cand))
    return c[(c >= s_lo) & (c <= s_hi)]


def first_useful_shot(traj, t_from, a, b, wpn, start_slack=1e-3, m=801, n=8001):
    """Earliest shot time s >= t_from that is useful, or inf: brute force over candidate shot
    times (uniform, plus those aimed at dense times of the window), each with its own intercept
    / dwell end; then zoom between the first useful candidate and the one before it."""
    if math.isnan(a) or t_from > b:
        return math.inf
    s_lo, s_hi = t_from, (b if wpn.is_laser else b - wpn.delay)   # later shots end after b
    if s_hi < s_lo:
        return math.inf
    pred = lambda s: useful(traj, s, wpn, a, b, start_slack, n)
    if pred([s_lo])[0]:
        return s_lo
    if s_hi == s_lo:
        return math.inf
    shots = _candidates(traj, wpn, a if wpn.is_laser else a - start_slack, b, s_lo, s_hi, m)
    ok = pred(shots)
    if not ok.any():
        return math.inf
    k = int(np.argmax(ok))
    if k == 0:
        return float(shots[0])
    return zoom_first_true(pred, shots[k - 1], shots[k], tol=1e-8)


def latest_useful_shot(traj, a, b, wpn, m=801, n=8001):
    """Latest shot time whose intercept lands by b (missiles; no lower limit from a) or whose
    dwell starts at or after a and ends by b (lasers); -inf if none."""
    if math.isnan(a):
        return -math.inf
    if wpn.is_laser:
        s_lo, s_hi = a, b
        pred = lambda s: (np.asarray(s) >= a) & (shot_effects(traj, s, wpn, a, b, n) <= b)
    else:
        f_lo = float(arrival_shot_time(traj, traj.t_launch, wpn.unit_e, wpn.unit_n, wpn.delay,
                                       wpn.speed))
        s_lo, s_hi = min(f_lo, a - wpn.delay) - 1.0, b - wpn.delay
        pred = lambda s: shot_effects(traj, s, wpn, a, b, n) <= b
    shots = _candidates(traj, wpn, a if wpn.is_laser else traj.t_launch, b, s_lo, s_hi, m)
    ok = pred(shots)
    if not ok.any():
        return -math.inf
    k = shots.size - 1 - int(np.argmax(ok[::-1]))
    if k == shots.size - 1:
        return float(shots[k])
    return zoom_first_true(lambda s: ~pred(s), shots[k], shots[k + 1], tol=1e-8)


def max_range_rate(traj, t_lo, t_hi, unit_e, unit_n, n=20001):
    """Largest d slant / dt over [t_lo, t_hi] (central differences on a dense grid, the largest
    refined by zooming): the threat can outrun an interceptor slower than this."""
    if not t_hi > t_lo:
        return -math.inf
    h = 1e-7 * max(1.0, t_hi - t_lo)

    def rate(t):
        tp, tm = np.minimum(t + h, t_hi), np.maximum(t - h, t_lo)
        return (slant_from_ground(traj, tp, unit_e, unit_n)
                - slant_from_ground(traj, tm, unit_e, unit_n)) / (tp - tm)
    t = time_grid(traj, t_lo, t_hi, n)
    r = rate(t)
    k = int(np.argmax(r))
    lo, hi = t[max(k - 1, 0)], t[min(k + 1, t.size - 1)]
    for _ in range(30):
        z = np.linspace(lo, hi, ZOOM_POINTS)
        rz = rate(z)
        i = int(np.argmax(rz))
        lo, hi = z[max(i - 1, 0)], z[min(i + 1, ZOOM_POINTS - 1)]
    return float(max(r.max(), rz.max()))
