"""The geometry core against an independent oracle (MODEL.md §10 v2).

tests/oracle_geometry.py rebuilds every trajectory from the threat's defining parameters and
answers every geometric question by dense sampling in plain numpy; it shares no code with
engine/. Here hypothesis draws random geometries and every core function is compared with it:
positions, engagement windows, detection times, intercept times, laser dwell ends, the
earliest / first / latest useful shot times, and the times the Numba kernel's cache holds a
useful shot for (useful_until_s, laser_dwell_bounds).

Random geometries deliberately include the hard corners: ballistic missiles diving faster than
the interceptor (Fateh-313-like, v_avg 1,000-1,300 m/s, apogee ratio ~0.25: ~1.55 km/s at impact
against a 1,200 m/s PAC-3), cruise missiles faster than slow interceptors (Quds-1 230 m/s vs
Coyote 150 m/s), threats receding from the unit, crossing at an offset, passing directly over
it, degenerate short flights, sectors, windows that start at launch and failures in flight.

Each geometry is built from a vector of uniforms by a plain function (a "family" of threats and
a placement of the unit), so hypothesis can draw it (derandomized: the same examples every run)
and the slow sweep can draw many more with a seeded numpy generator.

test_old_fixed_point_rule_is_caught shows the intercept comparison has teeth: the v1 fixed-point
rule, re-implemented here, fails it on a large fraction of fast-diving ballistic missiles.

Disagreements the oracle found are pinned by small deterministic tests (regression tests once
fixed, strict xfails while open: see KnownIssue). `-m slow` runs a sweep over 8,000 more
geometries of every kind (~8 checks each).
"""
import ast
import math
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from salvosim.defenses.envelope import engagement_window
from salvosim.defenses.intercept import (
    earliest_shot_and_effect_s,
    earliest_shot_by_intercept_s,
    earliest_shot_time_s,
    early_answer_until_s,
    early_shot_bound,
    first_useful_shot_s,
    intercept_time_s,
    laser_dwell_bounds,
    laser_dwell_end_s,
    latest_useful_shot_s,
    search_start_s,
    slant_bound_m,
    speed_bound_mps,
    useful_until_s,
    wake_at,
)
from salvosim.defenses.sensors import detection_lower_bound_s, detection_time_s
from salvosim.threats.trajectory import (
    build_ballistic,
    build_cruise,
    max_ground_speed_mps,
    new_trajectories,
    position_at,
)
from tests.defenses import oracle_geometry as og

N_UNIFORMS = 32
EPS_SHOT_S = 1e-5        # shot-time agreement (the core's intercepts are exact to 1e-6 s)
WINDOW_TOL_S = 1e-3      # MODEL.md §5: an intercept within 1 ms of the window start counts
WAKE_STEP_S = 1e-3       # a wake-up is never scheduled closer than 1 ms to now


class KnownIssue(AssertionError):
    """A disagreement with the core that is understood and reported, pinned by a strict-xfail
    test below (so the suite notices when it is fixed). The random tests tolerate exactly these
    and nothing else; each is raised only under the precise condition it names:
    - WAKE_STEP: all useful shots lie within the 1 ms minimum wake-up step of
      earliest_shot_time_s, which jumps over them, so first_useful_shot_s ends at +inf.
    - OVERHEAD: a threat whose ground track passes exactly over a sensor: the sector crossings
      split the track there, and a piece shorter than the sampling step is only sampled at its
      ends (the launch at z = 0, the point over the sensor whose bearing is undefined), so a
      sighting that lasts the whole piece is missed; detection comes 1 ms after the overpass.
    (Fixed since, kept as plain regression tests: MOTIONLESS, intercept_time_s missed a root at
    its bracket end t_lo + R_max/speed where the threat does not move; SIMPSON, 0.25 s Simpson
    steps were ms off for a threat passing metres from a laser.)
    """


def tolerating_known_issues(check, *args):
    try:
        check(*args)
    except KnownIssue:
        pass


settings.register_profile(
    "oracle", deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large])


def oracle_settings(n):
    return settings(settings.get_profile("oracle"), max_examples=n)


def seeded_uniforms(seed, snap):
    """N_UNIFORMS uniforms from a seeded generator; with snap, about a fifth of them pushed to
    0 or 1 (the ends of every parameter range: overhead passes, zero dives, launch-time
    windows, exact bearings...)."""
    rng = np.random.default_rng(seed)
    u = rng.random(N_UNIFORMS)
    if snap:
        u = np.where(rng.random(N_UNIFORMS) < 0.2, rng.integers(0, 2, N_UNIFORMS), u)
    return u


# A seed per example (hypothesis's own float lists repeat a few values, mostly 0.0, and give
# far fewer distinct geometries), derandomized so that every run checks the same geometries.
uniforms = st.builds(seeded_uniforms, st.integers(0, 2 ** 63 - 1), st.booleans())


# ---------------------------------------------------------------------------- geometry builders
class Draws:
    """Hands out the uniforms of one geometry in order (cycling if a builder wants more)."""

    def __init__(self, u):
        self.u = [float(x) for x in u]
        self.i = 0

    def __call__(self):
        x = self.u[self.i % len(self.u)]
        self.i += 1
        return x

    def lerp(self, lo, hi):
        return lo + (hi - lo) * self()

    def loglerp(self, lo, hi):
        return lo * (hi / lo) ** self()


THREAT_FAMILIES = ("ballistic", "fast_bm", "cruise", "quds", "short")


def make_threat(d, family):
    """An oracle trajectory of the family from the draws (impact near the origin)."""
    ie, in_ = d.lerp(-5000.0, 5000.0), d.lerp(-5000.0, 5000.0)
    brg = math.radians(d.lerp(0.0, 360.0))            # bearing from the impact to the launch
    t0 = d.lerp(0.0, 600.0)
    if family == "short":                               # degenerate flights of 0-300 m
        family = "ballistic_short" if d() < 0.5 else "cruise_short"
    if family in ("ballistic", "fast_bm", "ballistic_short"):
        if family == "fast_bm":
            v, ratio, rng_m = d.lerp(1000.0, 1300.0), d.lerp(0.22, 0.3), d.lerp(40e3, 400e3)
        elif family == "ballistic":
            v, ratio, rng_m = d.lerp(80.0, 1500.0), d.lerp(0.02, 0.6), d.loglerp(300.0, 300e3)
        else:   # down to a zero-length flight: a motionless target
            v, ratio, rng_m = d.lerp(80.0, 1200.0), d.lerp(0.0, 0.6), d.lerp(0.0, 300.0)
        return og.Ballistic(ie + rng_m * math.sin(brg), in_ + rng_m * math.cos(brg), ie, in_,
                            t0, v, ratio * rng_m)
    if family == "quds":
        speed, alt, dive, rng_m = d.lerp(220.0, 240.0), d.lerp(30.0, 80.0), 500.0, \
            d.loglerp(15e3, 250e3)
    elif family == "cruise":
        speed = d.loglerp(15.0, 60.0) if d() < 0.5 else d.lerp(100.0, 300.0)
        alt, rng_m = d.loglerp(10.0, 9000.0), d.loglerp(500.0, 150e3)
        dive = 0.0 if d() < 0.1 else d.lerp(0.0, 5000.0)
    else:
        speed, alt, rng_m = d.loglerp(15.0, 250.0), d.loglerp(10.0, 500.0), d.lerp(0.0, 300.0)
        dive = d.lerp(0.0, 600.0)
    ingress_brg, ingress_m = None, 0.0
    if d() < 0.35:
        ingress_brg, ingress_m = d.lerp(0.0, 360.0), d.lerp(0.0, min(60e3, 0.8 * rng_m + 100.0))
    return og.Cruise(ie + rng_m * math.sin(brg), in_ + rng_m * math.cos(brg), ie, in_, t0,
                     speed, alt, dive, ingress_brg, ingress_m)


def track_ends(traj):
    """(launch point, last turn point before the impact, impact point) on the ground."""
    L = np.array([traj.launch_e, traj.launch_n])
    I = np.array([traj.impact_e, traj.impact_n])
    P = L
    if isinstance(traj, og.Cruise) and traj.ingress_bearing_deg is not None:
        b = math.radians(traj.ingress_bearing_deg)
        P = I + traj.ingress_m * np.array([math.sin(b), math.cos(b)])
    return L, P, I


def place(traj, d):
    """A ground point placed against the track: near the impact (inbound), at an offset
    (crossing), directly under the track (overhead) or near / behind the launch (receding)."""
    L, P, I = track_ends(traj)
    mode = d()
    leg = P - I
    length = float(np.hypot(*leg))
    if mode < 0.75:
        u_dir = leg / length if length > 0 else np.array([0.0, 1.0])
        base = I
        if mode < 0.4:                                            # inbound
            back, off = d.lerp(-3000.0, 15000.0), d.lerp(-5000.0, 5000.0) * (d() > 0.15)
        elif mode < 0.6:                                          # crossing
            back, off = d.lerp(0.0, length), math.copysign(d.loglerp(300.0, 30000.0), d() - 0.5)
        else:                                                     # overhead
            back, off = d.lerp(-200.0, length), 0.0
    else:                                                         # receding: near the launch
        first = (P if np.hypot(*(P - L)) > 0 else I) - L
        flen = float(np.hypot(*first))
        u_dir = -first / flen if flen > 0 else np.array([0.0, 1.0])
        base = L
        back, off = d.lerp(-3000.0, 5000.0), d.lerp(-3000.0, 3000.0) * (d() > 0.2)
    perp = np.array([u_dir[1], -u_dir[0]])
    p = base + back * u_dir + off * perp
    return float(p[0]), float(p[1])


def ground_span(traj, e, n):
    """Least and largest ground distance from (e, n) to the flight, and the highest altitude."""
    t = np.linspace(traj.t_launch, traj.t_impact, 4001)
    pe, pn, pz = traj.pos(t)
    g = np.hypot(pe - e, pn - n)
    return float(g.min()), float(g.max()), float(pz.max())


def make_envelope(traj, unit, d):
    gmin, gmax, top = ground_span(traj, *unit)
    rmax = gmin + d.loglerp(50.0, max(100.0, 1.3 * (gmax - gmin) + 100.0))
    rmin = 0.0 if d() < 0.35 else rmax * d.lerp(0.0, 0.6)
    zmin = 0.0 if d() < 0.5 else max(top, 10.0) * d.lerp(0.0, 0.5)
    zmax = zmin + max(top, 10.0) * d.loglerp(0.05, 2.0)
    width = 360.0 if d() < 0.5 else d.lerp(5.0, 359.0)
    return rmin, rmax, zmin, zmax, d.lerp(0.0, 360.0), width


def make_t_end(traj, d):
    """No failure (most), or a failure uniform over the flight."""
    if d() < 0.7:
        return 1e9
    return traj.t_launch + d() * (traj.t_impact - traj.t_launch)


def core_arrays(traj):
    tr = list(new_trajectories(1))
    if isinstance(traj, og.Ballistic):
        build_ballistic(*tr, 0, traj.t0, traj.launch_e, traj.launch_n, traj.impact_e,
                        traj.impact_n, traj.v_avg, traj.apogee_m)
    else:
        has = traj.ingress_bearing_deg is not None
        build_cruise(*tr, 0, traj.t0, traj.launch_e, traj.launch_n, traj.impact_e,
                     traj.impact_n, traj.speed, traj.altitude_m, traj.dive_m, has,
                     math.radians(traj.ingress_bearing_deg) if has else 0.0, traj.ingress_m)
    return tr


def describe(traj, **kw):
    return f"{traj!r} " + " ".join(f"{k}={v!r}" for k, v in kw.items())


# ---------------------------------------------------------------------------- the comparisons
def check_position(traj, d):
    tr = core_arrays(traj)
    assert tr[3][0, tr[5][0] - 1] == pytest.approx(traj.t_impact, rel=1e-12, abs=1e-9)
    T = traj.t_impact - traj.t_launch
    times = traj.t_launch + T * np.array([d.lerp(-0.1, 1.1) for _ in range(8)] + [0.0, 1.0, 0.5])
    oe, on, oz = traj.pos(times)
    scale = 1e-9 * (1.0 + np.abs(np.hypot(traj.launch_e, traj.launch_n)))
    for k, t in enumerate(times):
        e, n, z = position_at(*tr, 0, t)
        assert abs(e - oe[k]) <= 1e-6 + scale and abs(n - on[k]) <= 1e-6 + scale \
            and abs(z - oz[k]) <= 1e-6 + scale, describe(traj, t=t, core=(e, n, z),
                                                         oracle=(oe[k], on[k], oz[k]))


def _same_time(x, y, tol):
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= tol


def check_window(traj, unit, env, t_end):
    tr = core_arrays(traj)
    a, b = engagement_window(*tr, 0, t_end, -math.inf, *unit, *env, np.zeros(32))
    T = traj.t_impact - traj.t_launch
    tol = 1e-6 * max(1.0, T / 100.0)
    for n in (20001, 1_000_001):
        oa, ob, step = og.window(traj, t_end, *unit, *env, n=n)
        if _same_time(a, oa, tol) and _same_time(b, ob, tol):
            return
    # A window (or a gap) narrower than the grid step can escape the dense sampling: accept
    # the core's answer only if the oracle confirms it at the disputed instants.
    inside = lambda t: bool(og.in_envelope(traj, np.array([t]), *unit, *env)[0])
    if not math.isnan(a) and b - a < 2 * step and (math.isnan(oa) or oa > b) \
            and inside(0.5 * (a + b)):
        return                              # a sliver the sampling stepped over
    gap_after_b = not math.isnan(a) and not og.in_envelope(
        traj, np.linspace(b, b + 2 * tol, 200001), *unit, *env).all()
    if _same_time(a, oa, tol) and b < ob and gap_after_b:
        return                              # a gap the sampling stepped over (b is exact)
    raise AssertionError(describe(traj, unit=unit, env=env, t_end=t_end, core=(a, b),
                                  oracle=(oa, ob), step=step))


def check_detection(traj, sensor, t_end):
    se, sn, sh, r_det, facing, width = sensor
    tr = core_arrays(traj)
    t = detection_time_s(*tr, 0, t_end, se, sn, sh, r_det, facing, width, np.zeros(32))
    # the bound that lets prepare_replication skip a detection is below the core's and the
    # oracle's detection times
    lower = detection_lower_bound_s(tr[0], tr[1], tr[3], 0,
                                    max_ground_speed_mps(tr[4], tr[5], 0),
                                    se, sn, r_det)
    oracle_t = og.detection(traj, t_end, se, sn, sh, r_det, facing, width, n=20001)[0]
    assert lower <= t and lower <= oracle_t, describe(traj, sensor=sensor, t_end=t_end,
                                                      lower=lower, core=t, oracle=oracle_t)
    # MODEL.md §4: sampled at min(0.5 s, T/400) then bisected to 1 ms (exact on level legs).
    core_step = min(0.5, (traj.t_impact - traj.t_launch) / 400.0)
    for n in (20001, 1_000_001):
        ot, o_end, step = og.detection(traj, t_end, se, sn, sh, r_det, facing, width, n=n)
        if ot == math.inf and t == math.inf:
            return
        if ot < math.inf and ot - 1e-6 <= t <= ot + 1e-3 + 1e-6:
            return
    sees = lambda x: bool(og.sees(traj, np.array([x]), se, sn, sh, r_det, facing,
                                  width)[0])
    # The oracle's first sighting may be shorter than the core's sampling step: MODEL.md §4's
    # procedure may step over it. Anything the core reports must still be a sighting.
    if (ot < math.inf and o_end - ot < core_step and (t == math.inf or t > o_end)
            and (t == math.inf or any(sees(t - k * 1e-3) for k in range(2)))):
        return
    info = describe(traj, sensor=sensor, t_end=t_end, core=t, oracle=ot, first_run_end=o_end,
                    step=step)
    if ot < t < math.inf:
        t_o, d_o = closest_ground_approach(traj, se, sn, ot, t)
        if d_o < 1e-6 and t_o - ot < core_step and 0.0 <= t - t_o <= 1e-3 + 1e-6:
            raise KnownIssue(f"OVERHEAD: passes over the sensor at {t_o!r}: " + info)
    raise AssertionError(info)


def closest_ground_approach(traj, e, n, t_lo, t_hi):
    """(time, ground distance) of the threat's closest approach to (e, n) over [t_lo, t_hi]."""
    dist = lambda t: np.hypot(traj.pos(t)[0] - e, traj.pos(t)[1] - n)
    t = og.time_grid(traj, t_lo, t_hi, 20001)
    k = int(np.argmin(dist(t)))
    lo, hi = t[max(k - 1, 0)], t[min(k + 1, t.size - 1)]
    for _ in range(60):
        z = np.linspace(lo, hi, og.ZOOM_POINTS)
        i = int(np.argmin(dist(z)))
        lo, hi = z[max(i - 1, 0)], z[min(i + 1, og.ZOOM_POINTS - 1)]
    t_c = 0.5 * (lo + hi)
    return t_c, float(dist(np.array([t_c]))[0])


def intercept_disagreement(solver, traj, unit, t_shot, delay, speed):
    """None if solver(t_shot) is the earliest intercept within 1e-6 s (both inf when there is
    none); otherwise a description. The same comparison checks the core and the v1 rule."""
    got = solver(t_shot)
    tol = 1e-6 + 1e-12 * abs(t_shot)
    want = og.intercept_time(traj, t_shot, *unit, delay, speed)
    if _same_time(got, want, tol):
        return None
    if math.isfinite(got) and not want < got:
        # The solver claims an earlier root than the grid's first sign change: if g(got) ~ 0 the
        # grid may have stepped over a brief excursion of g above 0; sample 20x more densely.
        g = got - t_shot - delay - float(og.slant_from_ground(traj, got, *unit)) / speed
        if abs(g) <= 1e-5:
            want = og.intercept_time(traj, t_shot, *unit, delay, speed, n=400001)
            if _same_time(got, want, tol):
                return None
    if math.isinf(got) != math.isinf(want):
        t = min(got, want)
        if abs(t - traj.t_impact) <= tol:
            return None                     # a root at the impact instant itself, within 1e-6 s
        gap = lambda x: x - t_shot - delay - float(
            og.slant_from_ground(traj, x, *unit)) / speed
        if abs(gap(t)) <= 1e-9 * max(1.0, abs(t)) and gap(t + 1e-6) < 0.0:
            return None                     # g only touches 0 there (rounding decides)
    return describe(traj, unit=unit, t_shot=t_shot, delay=delay, speed=speed, core=got,
                    oracle=want, error=abs(got - want) if math.isfinite(got - want) else "inf")


def check_intercept(traj, unit, t_shot, delay, speed):
    tr = core_arrays(traj)
    solver = lambda s: intercept_time_s(*tr, 0, s, *unit, delay, speed)
    msg = intercept_disagreement(solver, traj, unit, t_shot, delay, speed)
    assert msg is None, msg


def check_dwell(traj, unit, t_start, dwell, ref, t_limit):
    tr = core_arrays(traj)
    got = laser_dwell_end_s(*tr, 0, t_start, *unit, dwell, ref, t_limit)
    want = og.dwell_end(traj, t_start, *unit, dwell, ref, t_limit)
    if _same_time(got, want, 1e-3):
        return
    # A dwell ending within 1 ms of the limit may fall either side of it.
    if math.isinf(got) != math.isinf(want) and abs(min(got, want) - t_limit) <= 1e-3:
        return
    raise AssertionError(describe(traj, unit=unit, t_start=t_start, dwell=dwell, ref=ref,
                                  t_limit=t_limit, core=got, oracle=want))


# ---------------------------------------------------------------------------- shot scenarios
WEAPON_FAMILIES = ("pac3", "coyote", "any_missile", "laser")


def make_weapon(d, unit, kind):
    if kind == "pac3":
        return og.Weapon(*unit, False, delay=1.0, speed=1200.0)
    if kind == "coyote":
        return og.Weapon(*unit, False, delay=d.lerp(0.0, 1.0), speed=150.0)
    if kind == "any_missile":
        return og.Weapon(*unit, False, delay=d.lerp(0.0, 3.0), speed=d.loglerp(100.0, 2000.0))
    return og.Weapon(*unit, True, dwell_s=d.loglerp(0.3, 20.0), ref_m=d.loglerp(300.0, 3000.0))


def terminal_setup(d, family):
    """A point-defence duel: a Fateh-313-like missile diving on a PAC-3 battery near its impact
    point, or a Quds-1-like cruise missile against a Coyote site: (traj, unit, envelope, kind)."""
    if family == "bm_vs_pac3":
        traj, kind = make_threat(d, "fast_bm"), "pac3"
        rmin, rmax = d.lerp(0.0, 3000.0), d.lerp(3000.0, 60000.0)
        zmin, zmax = d.lerp(0.0, 1000.0) * (d() < 0.5), d.lerp(3000.0, 30000.0)
    else:
        traj, kind = make_threat(d, "quds"), "coyote"
        rmin, rmax = d.lerp(0.0, 500.0), d.lerp(1000.0, 15000.0)
        zmin, zmax = 0.0, d.lerp(100.0, 3000.0)
    unit = (traj.impact_e + d.lerp(-5000.0, 5000.0), traj.impact_n + d.lerp(-5000.0, 5000.0))
    _, P, _ = track_ends(traj)
    towards = math.degrees(math.atan2(P[0] - unit[0], P[1] - unit[1]))   # the threat's origin
    if d() < 0.5:
        facing, width = 0.0, 360.0
    else:
        facing, width = towards + d.lerp(-60.0, 60.0), d.lerp(60.0, 180.0)
    return traj, unit, (rmin, rmax, zmin, zmax, facing % 360.0, width), kind


def shot_case(u, family, kind):
    """(traj, core arrays, weapon, a, b, t_from) or None when the window is empty."""
    d = Draws(u)
    if family in DUELS:
        traj, unit, env, kind = terminal_setup(d, family)
    else:
        traj = make_threat(d, family)
        unit = place(traj, d)
        env = make_envelope(traj, unit, d)
    wpn = make_weapon(d, unit, kind)
    tr = core_arrays(traj)
    a, b = engagement_window(*tr, 0, make_t_end(traj, d), -math.inf, *unit, *env, np.zeros(32))
    if math.isnan(a):
        return None
    if wpn.is_laser:
        # The fluence rate (ref/slant)^2 is not integrable through the unit itself.
        if og.slant_from_ground(traj, np.linspace(a, b, 4001), *unit).min() < 5.0:
            return None
        wpn = og.Weapon(*unit, True, dwell_s=dwell_for(traj, wpn, a, b, d), ref_m=wpn.ref_m)
    mode = d()
    if mode < 0.4:
        t_from = d.lerp(traj.t_launch - 5.0, a)          # before the window
    elif mode < 0.5:
        t_from = a                                       # at its start
    elif mode < 0.6 and not wpn.is_laser:                # about when a shot reaches a
        t_from = float(og.arrival_shot_time(traj, a, *unit, wpn.delay, wpn.speed)) \
            + d.lerp(-0.01, 0.01)
    else:
        t_from = d.lerp(a, b)                            # inside it
    return traj, tr, wpn, a, b, t_from


def core_args(wpn):
    return (wpn.unit_e, wpn.unit_n, wpn.is_laser, wpn.delay, wpn.speed, wpn.dwell_s, wpn.ref_m)


def is_useful(traj, wpn, s, a, b, margin=EPS_SHOT_S):
    """Useful per the oracle, widened by margin (> 0: the core's 1e-6 s intercepts and 1e-3 s
    dwell integrals may fall either side of a boundary) or narrowed (< 0: useful with room)."""
    eff_margin = margin if not wpn.is_laser else math.copysign(1e-3, margin)
    if wpn.is_laser and s < a - margin:
        return False
    eff = float(og.shot_effects(traj, [s], wpn, a, b + max(eff_margin, 0.0))[0])
    if wpn.is_laser:
        return s >= a - margin and eff <= b + eff_margin
    return a - WINDOW_TOL_S - margin <= eff <= b + margin


def cannot_outrun(traj, wpn, t_lo, t_hi):
    if wpn.is_laser:
        return True
    return og.max_range_rate(traj, t_lo, t_hi, wpn.unit_e, wpn.unit_n) <= 0.99 * wpn.speed


def oracle_first_shots(traj, wpn, t_from, a, b):
    """(t*_loose, t*_strict): the earliest useful shot with the 1 ms allowance at the window start
    (MODEL.md §5), and the earliest whose intercept lies in [a, b] itself (what aiming at the
    window start, F(a), gives)."""
    loose = og.first_useful_shot(traj, t_from, a, b, wpn, start_slack=WINDOW_TOL_S)
    strict = loose if wpn.is_laser else og.first_useful_shot(traj, t_from, a, b, wpn,
                                                             start_slack=0.0)
    return loose, strict


def missed_for_a_known_reason(traj, tr, wpn, t_from, a, b, loose, strict, info):
    """The core found no useful shot (or woke up past all of them) although the oracle has one:
    raise KnownIssue if one of the reported causes explains it, else fail."""
    last = og.latest_useful_shot(traj, a, b, wpn)
    if not wpn.is_laser and (strict == math.inf or last - strict < EPS_SHOT_S):
        return        # only the 1 ms allowance before a (or g touching 0 at a) makes shots
        #               useful: the core may find them or not
    if last - max(loose, t_from) < WAKE_STEP_S + EPS_SHOT_S:
        raise KnownIssue("WAKE_STEP: every useful shot lies within 1 ms: " + info())
    raise AssertionError("core finds no useful shot: " + info())


def check_earliest_shot(case):
    """The contract of earliest_shot_time_s: t_from if a shot now is useful; +inf only if no shot
    at t_from or later is useful; otherwise a wake-up t_w > t_from never later than the earliest
    useful shot (but at least 1 ms on), equal to it when the threat cannot outrun the
    interceptor (and for lasers), that does not jump over every useful shot. When no shot is
    useful a wake-up is allowed (its docstring since 80204f3), provided asking again ends at
    +inf (first_useful_shot_s)."""
    traj, tr, wpn, a, b, t_from = case
    got = earliest_shot_time_s(*tr, 0, t_from, a, b, *core_args(wpn))
    loose, strict = oracle_first_shots(traj, wpn, t_from, a, b)
    info = lambda: describe(traj, weapon=wpn, a=a, b=b, t_from=t_from, core=got,
                            oracle_loose=loose, oracle_strict=strict)
    if got == t_from:
        assert is_useful(traj, wpn, t_from, a, b), "shot now is not useful: " + info()
        return
    if loose == t_from and is_useful(traj, wpn, t_from, a, b, margin=-EPS_SHOT_S):
        raise AssertionError("a shot now is useful but the core waits: " + info())
    if got == math.inf:
        if loose < math.inf:
            missed_for_a_known_reason(traj, tr, wpn, t_from, a, b, loose, strict, info)
        return
    assert got > t_from, info()
    if loose == math.inf:
        assert first_useful_shot_s(*tr, 0, t_from, a, b, *core_args(wpn)) == math.inf, \
            "asking again finds a shot where none is useful: " + info()
        return
    assert got <= max(strict, t_from + WAKE_STEP_S) + EPS_SHOT_S, "wakes too late: " + info()
    if cannot_outrun(traj, wpn, min(traj.t_launch, t_from), b):
        assert got >= loose - EPS_SHOT_S, "wake-up is not the earliest useful shot: " + info()
    if og.first_useful_shot(traj, got, a, b, wpn) == math.inf:
        missed_for_a_known_reason(traj, tr, wpn, t_from, a, b, loose, strict, info)


def check_first_useful(case):
    """first_useful_shot_s: the earliest useful shot at or after t_from (within the 1 ms
    allowances), itself useful; +inf iff none is."""
    traj, tr, wpn, a, b, t_from = case
    got = first_useful_shot_s(*tr, 0, t_from, a, b, *core_args(wpn))
    loose, strict = oracle_first_shots(traj, wpn, t_from, a, b)
    info = lambda: describe(traj, weapon=wpn, a=a, b=b, t_from=t_from, core=got,
                            oracle_loose=loose, oracle_strict=strict)
    if got == math.inf and loose < math.inf:
        missed_for_a_known_reason(traj, tr, wpn, t_from, a, b, loose, strict, info)
        return
    if got == math.inf or loose == math.inf:
        assert got == loose, "core shot where none is useful: " + info()
        return
    assert is_useful(traj, wpn, got, a, b), "core's shot is not useful: " + info()
    assert loose - EPS_SHOT_S <= got <= max(strict, t_from + WAKE_STEP_S) + WAKE_STEP_S \
        + EPS_SHOT_S, info()


def check_latest_useful(case):
    traj, tr, wpn, a, b, _ = case
    got = latest_useful_shot_s(*tr, 0, a, b, wpn.unit_e, wpn.unit_n, wpn.is_laser, wpn.delay,
                               wpn.speed, wpn.dwell_s, wpn.ref_m)
    want = og.latest_useful_shot(traj, a, b, wpn)
    info = lambda: describe(traj, weapon=wpn, a=a, b=b, core=got, oracle=want)
    if wpn.is_laser:
        ok = _same_time(got, want, 1e-3) or (math.isinf(got) != math.isinf(want) and abs(
            og.dwell_end(traj, a, wpn.unit_e, wpn.unit_n, wpn.dwell_s, wpn.ref_m, b + 1.0)
            - b) <= 1e-3)
        assert ok, info()
        return
    if cannot_outrun(traj, wpn, traj.t_launch, b):
        assert _same_time(got, want, EPS_SHOT_S), info()
    else:
        assert got <= want + EPS_SHOT_S, "later than any useful shot: " + info()


# ---------------------------------------------------------------------------- the oracle itself
def test_oracle_shares_no_code_with_the_engine():
    src = pathlib.Path(og.__file__).read_text()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            assert node.level == 0, "relative import in the oracle"
        else:
            continue
        assert all(n in ("math", "numpy", "dataclasses") for n in names), names


def test_oracle_matches_closed_forms():
    # Ballistic: apogee at mid-flight, T = R / v.
    bm = og.Ballistic(-8000.0, 0.0, 0.0, 0.0, 0.0, 300.0, 1600.0)
    assert bm.t_impact == pytest.approx(8000.0 / 300.0)
    e, _, z = bm.pos(np.array([bm.t_impact / 2]))
    assert (e[0], z[0]) == pytest.approx((-4000.0, 1600.0))
    # Window of a rocket against a 200 m - 2 km gun: ground range 2 km then 200 m.
    a, b, _ = og.window(bm, 1e9, 0.0, 0.0, 200.0, 2000.0, 0.0, 1500.0, 0.0, 360.0)
    assert (a, b) == pytest.approx((6000.0 / 300.0, 7800.0 / 300.0), abs=1e-8)
    # Cruise: the dive starts dive_m before the impact, legs flown at constant 3-D speed.
    cm = og.Cruise(-20000.0, 0.0, 0.0, 0.0, 0.0, 50.0, 100.0, 500.0)
    assert cm.vertices[1] == pytest.approx([-500.0, 0.0, 100.0])
    assert cm.t_impact == pytest.approx(19500.0 / 50.0 + math.hypot(500.0, 100.0) / 50.0)
    # Ingress: arrive from the north through W = I + 10 km north.
    ci = og.Cruise(-20000.0, 0.0, 0.0, 0.0, 0.0, 50.0, 100.0, 500.0, 0.0, 10000.0)
    assert ci.vertices[1][:2] == pytest.approx([0.0, 10000.0])
    assert ci.vertices[2][:2] == pytest.approx([0.0, 500.0])
    # Head-on ground-level target: range 20000 - 50 t, intercept solves linearly.
    flat = og.Cruise(-20000.0, 0.0, 0.0, 0.0, 0.0, 50.0, 1e-9, 0.0)
    t_i = og.intercept_time(flat, 100.0, 0.0, 0.0, 1.0, 1000.0)
    assert t_i == pytest.approx((100.0 + 1.0 + 20.0) / (1 + 0.05), abs=1e-8)
    # A target receding at 1,500 m/s from a 1,200 m/s interceptor is never reached.
    away = og.Cruise(1000.0, 0.0, 400000.0, 0.0, 0.0, 1500.0, 1e-9, 0.0)
    assert og.intercept_time(away, 0.0, 0.0, 0.0, 0.0, 1200.0) == math.inf
    # Fluence from range r0 head-on: integral of (ref/(r0 - v t))^2 = ref^2/v (1/r - 1/r0).
    r0, v, ref, dwell = 5000.0, 50.0, 1000.0, 5.0
    r_end = 1.0 / (dwell * v / ref ** 2 + 1.0 / r0)
    t_e = og.dwell_end(flat, (20000.0 - r0) / v, 0.0, 0.0, dwell, ref, 1e9)
    assert t_e == pytest.approx((20000.0 - r_end) / v, abs=1e-7)
    # Crossing at offset p: integral of ref^2 / (p^2 + v^2 t^2) from 0 = ref^2/(v p) atan(v t/p).
    p = 800.0
    cross = og.Cruise(-20000.0, p, 20000.0, p, 0.0, v, 1e-9, 0.0)
    t_mid = 20000.0 / v
    t_e = og.dwell_end(cross, t_mid, 0.0, 0.0, 2.0, ref, 1e9)
    assert t_e - t_mid == pytest.approx(p / v * math.tan(2.0 * v * p / ref ** 2), abs=1e-7)
    # Earliest shot at a head-on target: the shot that arrives at the window start - 1 ms.
    wpn = og.Weapon(0.0, 0.0, False, delay=1.0, speed=1000.0)
    a, b = 300.0, 380.0                                     # ranges 5 km .. 1 km
    s = og.first_useful_shot(flat, 0.0, a, b, wpn)
    assert s == pytest.approx(a - WINDOW_TOL_S - 1.0 - (20000.0 - 50.0 * (a - 1e-3)) / 1000.0,
                              abs=1e-7)
    assert og.latest_useful_shot(flat, a, b, wpn) == pytest.approx(b - 1.0 - 1000.0 / 1000.0,
                                                                   abs=1e-7)


# ---------------------------------------------------------------------------- hypothesis tests
@oracle_settings(300)
@given(u=uniforms, family=st.sampled_from(THREAT_FAMILIES))
def test_positions_match_the_oracle(u, family):
    d = Draws(u)
    check_position(make_threat(d, family), d)


@oracle_settings(1000)
@given(u=uniforms, family=st.sampled_from(THREAT_FAMILIES))
def test_engagement_windows_match_the_oracle(u, family):
    d = Draws(u)
    traj = make_threat(d, family)
    unit = place(traj, d)
    check_window(traj, unit, make_envelope(traj, unit, d), make_t_end(traj, d))


def make_sensor(traj, d):
    se, sn = place(traj, d)
    gmin, gmax, _ = ground_span(traj, se, sn)
    r_det = gmin + d.loglerp(200.0, max(400.0, 1.3 * (gmax - gmin) + 200.0))
    width = 360.0 if d() < 0.5 else d.lerp(5.0, 359.0)
    return se, sn, d.lerp(0.0, 30.0), r_det, d.lerp(0.0, 360.0), width


@oracle_settings(800)
@given(u=uniforms, family=st.sampled_from(THREAT_FAMILIES))
def test_detection_times_match_the_oracle(u, family):
    d = Draws(u)
    traj = make_threat(d, family)
    tolerating_known_issues(check_detection, traj, make_sensor(traj, d), make_t_end(traj, d))


def test_detection_of_a_missile_launched_next_to_the_sensor_and_passing_over_it():
    """Launched 294 m from a sensor (h 0.8 m, 22 km, sector 93-313 deg), flying exactly over it
    0.245 s later: seen from launch (bearing 281 deg, then 101 deg after the overpass). The core
    once reported 348.5488 s, 1 ms after the overpass, instead of the launch at 348.3026 s: the
    piece before the overpass was sampled only at its two ends (now at least 8 steps a piece)."""
    traj = og.Ballistic(-284347.8201016718, 52664.12745891398, 1381.0726036925844,
                        -1044.7017651429937, 348.30255600142004, 1199.8574470440253,
                        78854.36869899531)
    sensor = (-284058.603996264, 52609.763133811546, 0.8240799681425137, 22293.946427240837,
              202.84455578631437, 219.48327467800604)
    assert og.detection(traj, 1e9, *sensor)[0] == pytest.approx(348.3025560014, abs=1e-9)
    check_detection(traj, sensor, 1e9)


def intercept_case(d, family, kind):
    traj = make_threat(d, family)
    unit = place(traj, d)
    wpn = make_weapon(d, unit, kind)
    T = traj.t_impact - traj.t_launch
    mode = d()
    if mode < 0.4:                                    # anywhere in (or just before) the flight
        t_shot = traj.t_launch + d.lerp(-0.05, 1.0) * T
    elif mode < 0.6:                                  # late: the intercept falls in the dive
        t_shot = traj.t_impact - d.lerp(0.0, min(60.0, T))
    else:                                             # aimed at a point late in the flight
        t_aim = traj.t_impact - d.lerp(0.0, min(90.0, T))
        t_shot = float(og.arrival_shot_time(traj, t_aim, *unit, wpn.delay, wpn.speed))
    return traj, unit, t_shot, wpn.delay, wpn.speed


@oracle_settings(2000)
@given(u=uniforms, family=st.sampled_from(THREAT_FAMILIES),
       kind=st.sampled_from(("pac3", "coyote", "any_missile")))
def test_intercept_times_match_the_oracle(u, family, kind):
    tolerating_known_issues(check_intercept, *intercept_case(Draws(u), family, kind))


def test_intercept_of_a_motionless_target_at_the_bracket_end():
    """A zero-length ballistic flight at the origin (launch 10 s, impact 10.01 s, apogee 0),
    unit 300 m east, 100 m/s interceptor, no delay: a shot at 7.005 s meets it at 10.005 s.
    (Found by the oracle: the core's bracket ended exactly at the root and said +inf.)"""
    traj = og.Ballistic(0.0, 0.0, 0.0, 0.0, 10.0, 100.0, 0.0)
    assert og.intercept_time(traj, 7.005, 300.0, 0.0, 0.0, 100.0) == pytest.approx(10.005)
    check_intercept(traj, (300.0, 0.0), 7.005, 0.0, 100.0)


def test_intercept_of_a_cruise_missile_still_on_its_launcher():
    """Cruise missile at its launch point (altitude 13.7 m) until 364.847 s, the farthest point
    of its flight from the unit: a 785 m/s interceptor fired at 360.330 s meets it at 362.168 s,
    before launch; the core's bracket ended exactly there and it reported +inf."""
    traj = og.Cruise(1846.2284881739618, 3834.8758016423253, 1754.5713203176838,
                     3648.617275211147, 364.84692199534294, 78.60967610587548,
                     13.745389483490982, 30.86280553150551)
    unit, t_shot, delay, speed = (2282.3865512639045, 3473.0395692203992), \
        360.32960738907457, 1.1165144065172874, 785.4786953307224
    assert og.intercept_time(traj, t_shot, *unit, delay, speed) == pytest.approx(362.1678165689)
    check_intercept(traj, unit, t_shot, delay, speed)


def test_first_useful_shot_when_every_useful_shot_lies_within_a_millisecond():
    """A 140 m rocket hop crossing a corner of a PAC-3's envelope: window 2.5 ms, useful shots
    333.219212 .. 333.219753 s (0.54 ms). From t_from = 333.218873 the core once woke at
    t_from + 1 ms = 333.219873, after the last useful shot, then found none (+inf); it now wakes
    at the shot that arrives at the window start when that is later than now."""
    traj = og.Ballistic(-3429.4119918877454, -4740.470579813265, -3564.221911502218,
                        -4778.889779395109, 344.5183277009284, 1026.748031781005,
                        76.93854118277159)
    wpn = og.Weapon(7685.6517381469885, 669.0341864225798, False, delay=1.0, speed=1200.0)
    a, b, t_from = 344.53320042571204, 344.53571388220854, 333.21887311978986
    assert og.first_useful_shot(traj, t_from, a, b, wpn) == pytest.approx(333.2192121, abs=1e-6)
    assert og.latest_useful_shot(traj, a, b, wpn) == pytest.approx(333.2197525, abs=1e-6)
    check_first_useful((traj, core_arrays(traj), wpn, a, b, t_from))


def test_laser_dwell_through_a_close_pass():
    """Found by the oracle: with plain 0.25 s Simpson steps the core ended these dwells 3.6 ms
    early (a rocket landing 39 m from the laser: the range falls from ~140 m to 61 m in the last
    step) and chose a latest dwell start 1.1 ms early (a Quds-1 passing 50 m overhead)."""
    rocket = og.Ballistic(-2822.5161514803035, 1492.530665642357, -2728.4873605477087,
                          901.2246638741935, 413.5013135765345, 600.7161280821001,
                          80.36705577064097)
    unit = (-2734.6132204629457, 939.7475215855852)
    t_start, dwell, ref, t_limit = 414.147287404948, 16.3617569005398, 949.0989300936229, \
        414.4980164681729
    assert og.dwell_end(traj=rocket, t_start=t_start, unit_e=unit[0], unit_n=unit[1],
                        dwell_s=dwell, ref_m=ref, t_limit=t_limit) == pytest.approx(
                            414.3554810, abs=1e-6)
    check_dwell(rocket, unit, t_start, dwell, ref, t_limit)
    quds = og.Cruise(-41311.36771699429, -117422.45290405575, -153.82313914831047,
                     -4268.247454956869, 552.5260744393609, 233.11185173740245,
                     49.88474509072881, 500.0)
    laser = og.Weapon(-40302.44969234964, -114648.64026258465, True, dwell_s=787.6252893166104,
                      ref_m=2516.733531935702)
    a, b = 562.7105392734996, 567.6650893220858
    check_latest_useful((quds, core_arrays(quds), laser, a, b, a))


@oracle_settings(500)
@given(u=uniforms, family=st.sampled_from(("ballistic", "cruise", "short")))
def test_laser_dwell_ends_match_the_oracle(u, family):
    d = Draws(u)
    traj = make_threat(d, family)
    unit = place(traj, d)
    wpn = make_weapon(d, unit, "laser")
    t_start = traj.t_launch + d() * (traj.t_impact - traj.t_launch)
    t_limit = traj.t_impact if d() < 0.5 else t_start + d() * (traj.t_impact - t_start)
    grid = np.linspace(t_start, t_limit, 4001)
    assume(og.slant_from_ground(traj, grid, *unit).min() >= 5.0)
    check_dwell(traj, unit, t_start, dwell_for(traj, wpn, t_start, t_limit, d), wpn.ref_m,
                t_limit)


def dwell_for(traj, wpn, t_start, t_limit, d):
    """The weapon's dwell, or (half the time) a fraction 0.02-1.3 of the fluence available
    until t_limit, so that most dwells end inside the interval and some just do not."""
    if d() < 0.5 or not t_limit > t_start:
        return wpn.dwell_s
    grid = np.linspace(t_start, t_limit, 4001)
    rate = og.fluence_rate(traj, grid, wpn.unit_e, wpn.unit_n, wpn.ref_m)
    total = float(np.sum(0.5 * (rate[1:] + rate[:-1]) * np.diff(grid)))
    return max(total * d.loglerp(0.02, 1.3), 1e-3)


DUELS = ("bm_vs_pac3", "quds_vs_coyote")
SHOT_FAMILIES = st.sampled_from(("fast_bm", "ballistic", "cruise", "quds", "short") + DUELS * 2)
SHOT_WEAPONS = st.sampled_from(WEAPON_FAMILIES)


@oracle_settings(800)
@given(u=uniforms, family=SHOT_FAMILIES, kind=SHOT_WEAPONS)
def test_earliest_shot_time_keeps_its_contract(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    tolerating_known_issues(check_earliest_shot, case)


def check_useful_until(case):
    """The kernel's cached answers (kernel.select_target): a shot useful now stays useful, as the
    core computes it and as the oracle says, at every time the cache claims
    (intercept.useful_until_s for missiles, intercept.laser_dwell_bounds for lasers); a laser
    dwell the bounds call impossible is impossible; a missile's too-early shot gives the same
    wake-up, and stays too early by the oracle, until intercept.early_answer_until_s."""
    traj, tr, wpn, a, b, t_from = case
    if t_from < a and wpn.is_laser:
        t_from = a
    info = lambda **kw: describe(traj, wpn=wpn, a=a, b=b, t_from=t_from, **kw)  # noqa: E731
    if wpn.is_laser:
        until, never = laser_dwell_bounds(*tr, 0, t_from, b, wpn.unit_e, wpn.unit_n,
                                          wpn.dwell_s, wpn.ref_m)
        if never:
            assert laser_dwell_end_s(*tr, 0, t_from, wpn.unit_e, wpn.unit_n, wpn.dwell_s,
                                     wpn.ref_m, b) > b, info(never=never)
            assert not is_useful(traj, wpn, t_from, a, b, margin=-EPS_SHOT_S), info(never=never)
            return 0
        starts = np.linspace(t_from, until, 5) if until >= t_from else []
        for s in starts:
            assert laser_dwell_end_s(*tr, 0, s, wpn.unit_e, wpn.unit_n, wpn.dwell_s, wpn.ref_m,
                                     b) <= b, info(until=until, s=s)
            assert is_useful(traj, wpn, s, a, b), info(until=until, s=s)
        return len(starts)
    t_shot, t_effect = earliest_shot_and_effect_s(*tr, 0, t_from, a, b, *core_args(wpn))
    if t_shot > t_from:             # too early: the same wake-up until early_answer_until_s
        until = early_answer_until_s(*tr, 0, t_from, t_shot, t_effect, a, wpn.unit_e,
                                     wpn.unit_n, wpn.delay, wpn.speed)
        starts = np.linspace(t_from, until, 6)[:-1] if until > t_from else []
        for s in starts:
            assert earliest_shot_time_s(*tr, 0, s, a, b, *core_args(wpn)) == t_shot, \
                info(until=until, s=s, wake=t_shot)
            eff = float(og.shot_effects(traj, [s], wpn, a, b)[0])
            assert eff < a - WINDOW_TOL_S + EPS_SHOT_S, info(until=until, s=s, oracle=eff)
        return len(starts)
    if t_shot != t_from:
        return 0
    until = useful_until_s(*tr, 0, t_from, t_effect, a, b, wpn.speed)
    starts = np.linspace(t_from, until, 6)[:-1] if until > t_from else []
    for s in starts:
        t_i = intercept_time_s(*tr, 0, s, wpn.unit_e, wpn.unit_n, wpn.delay, wpn.speed)
        assert a - WINDOW_TOL_S <= t_i <= b, info(until=until, s=s, t_i=t_i)
        assert is_useful(traj, wpn, s, a, b), info(until=until, s=s)
    return len(starts)


@oracle_settings(600)
@given(u=uniforms, family=SHOT_FAMILIES, kind=SHOT_WEAPONS)
def test_cached_useful_shots_stay_useful(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    check_useful_until(case)


def test_cached_useful_shots_are_exercised():
    """The random examples above do reach every cache: shots shown useful for a while, and
    missiles' too-early shots shown to keep their wake-up."""
    reached = {"laser": 0, "missile useful": 0, "missile too early": 0}
    rng = np.random.default_rng(11)
    for k in range(600):
        kind = WEAPON_FAMILIES[k % len(WEAPON_FAMILIES)]
        family = ("cruise", "short", "quds", "ballistic", "fast_bm")[k % 5]
        case = shot_case(list(rng.random(N_UNIFORMS)), family, kind)
        if case is not None and check_useful_until(case) > 0:
            reached["laser" if kind == "laser" else
                    "missile useful" if case[5] >= case[3] else "missile too early"] += 1
    assert min(reached.values()) >= 10, reached


# No useful shot at all, yet earliest_shot_time_s returns a wake-up: allowed by its docstring
# (since 80204f3, prompted by these two cases found by the oracle), as long as asking again then
# shows that there is none.
NO_USEFUL_SHOT_CASES = [
    # laser: a dwell started at a = 39.95 s cannot finish by b = 40 s (3 km, 0.3 s at 300 m
    # needs ~30 s); the core returns a.
    (og.Ballistic(-5000.0, 35000.0, -5000.0, -5000.0, 0.0, 1000.0, 8800.0),
     og.Weapon(-5000.0, -8000.0, True, dwell_s=0.3, ref_m=300.0), 39.95, 40.0, -5.0),
    # rocket receding at ~460 m/s from a 150 m/s interceptor inside the window: every shot lands
    # before a or after b (max F before a = 283.710 s > max F over [a, b] = 273.540 s); the
    # core returns 283.701 s.
    (og.Ballistic(49418.71171080902, -8467.563877298664, 2486.4348995401124, -3280.1753568735467,
                  207.28259581848468, 459.8786248922721, 5923.434304369652),
     og.Weapon(8295.274105718303, -3570.4124642327806, False, delay=0.2670653075141883,
               speed=150.0), 308.6578038561666, 309.95769970372004, 260.70920406510345),
]


@pytest.mark.parametrize("example", range(len(NO_USEFUL_SHOT_CASES)))
def test_a_wake_up_without_a_useful_shot_leads_to_none(example):
    traj, wpn, a, b, t_from = NO_USEFUL_SHOT_CASES[example]
    assert og.first_useful_shot(traj, t_from, a, b, wpn) == math.inf
    tr = core_arrays(traj)
    assert t_from < earliest_shot_time_s(*tr, 0, t_from, a, b, *core_args(wpn)) < math.inf
    assert first_useful_shot_s(*tr, 0, t_from, a, b, *core_args(wpn)) == math.inf
    check_earliest_shot((traj, tr, wpn, a, b, t_from))


@oracle_settings(800)
@given(u=uniforms, family=SHOT_FAMILIES, kind=SHOT_WEAPONS)
def test_first_useful_shot_matches_the_oracle(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    tolerating_known_issues(check_first_useful, case)


@oracle_settings(600)
@given(u=uniforms, family=SHOT_FAMILIES, kind=SHOT_WEAPONS)
def test_latest_useful_shot_matches_the_oracle(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    check_latest_useful(case)


# ---------------------------------------------------------------------------- teeth
def old_fixed_point_intercept(traj, t_shot, unit, delay, speed):
    """The v1 rule that shipped: t <- t_s + delay + slant(t)/v from the range at t_s, at most 8
    iterations, stop when the change is below 1 ms (pure Python on the oracle's trajectory)."""
    def slant(t):
        e, n, z = traj.pos(np.array([t]))
        return math.sqrt((float(e[0]) - unit[0]) ** 2 + (float(n[0]) - unit[1]) ** 2
                         + float(z[0]) ** 2)
    t_i = t_shot + delay + slant(t_shot) / speed
    for _ in range(8):
        t_next = t_shot + delay + slant(t_i) / speed
        change = abs(t_next - t_i)
        t_i = t_next
        if change < 1e-3:
            break
    return t_i


def fast_dive_sample(n, seed):
    """Fateh-313-like missiles diving on a PAC-3 battery (1,200 m/s, 1 s delay), shots late
    enough for the intercept to fall in the dive."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        d = Draws(rng.random(N_UNIFORMS))
        traj = make_threat(d, "fast_bm")
        unit = (traj.impact_e + d.lerp(-4000.0, 4000.0), traj.impact_n + d.lerp(-4000.0, 4000.0))
        t_shot = traj.t_impact - d.lerp(3.0, 40.0)
        cases.append((traj, unit, t_shot, 1.0, 1200.0))
    return cases


def test_old_fixed_point_rule_is_caught():
    """The comparison used on the core rejects the v1 fixed point on fast divers (so a pass of
    the core means something), while the v2 core passes the very same sample."""
    cases = fast_dive_sample(200, seed=20261126)
    old_bad = gross = 0
    for traj, unit, t_shot, delay, speed in cases:
        old = lambda s: old_fixed_point_intercept(traj, s, unit, delay, speed)  # noqa: B023
        msg = intercept_disagreement(old, traj, unit, t_shot, delay, speed)
        if msg is not None:
            old_bad += 1
            want = og.intercept_time(traj, t_shot, *unit, delay, speed)
            if not math.isfinite(want) or abs(old(t_shot) - want) > 0.05:
                gross += 1
        tr = core_arrays(traj)
        new = lambda s: intercept_time_s(*tr, 0, s, *unit, delay, speed)  # noqa: B023
        assert intercept_disagreement(new, traj, unit, t_shot, delay, speed) is None
    assert old_bad >= 0.5 * len(cases), f"v1 rule rejected on only {old_bad}/{len(cases)}"
    assert gross >= 0.25 * len(cases), f"v1 rule grossly wrong on only {gross}/{len(cases)}"


# ---------------------------------------------------------------------------- big sweep
@pytest.mark.slow
def test_big_sweep_against_the_oracle():
    """Many more geometries from a seeded generator, every comparison (about a minute)."""
    rng = np.random.default_rng(20261127)
    for i in range(8000):
        family = THREAT_FAMILIES[i % len(THREAT_FAMILIES)]
        u = rng.random(N_UNIFORMS)
        d = Draws(u)
        check_position(make_threat(d, family), d)
        d = Draws(u)
        traj = make_threat(d, family)
        unit = place(traj, d)
        check_window(traj, unit, make_envelope(traj, unit, d), make_t_end(traj, d))
        d = Draws(rng.random(N_UNIFORMS))
        traj = make_threat(d, family)
        tolerating_known_issues(check_detection, traj, make_sensor(traj, d), make_t_end(traj, d))
        kind = ("pac3", "coyote", "any_missile")[i % 3]
        tolerating_known_issues(check_intercept,
                                *intercept_case(Draws(rng.random(N_UNIFORMS)), family, kind))
        d = Draws(rng.random(N_UNIFORMS))
        if family != "short":
            traj = make_threat(d, family)
            unit = place(traj, d)
            wpn = make_weapon(d, unit, "laser")
            t_start = traj.t_launch + d() * (traj.t_impact - traj.t_launch)
            t_limit = traj.t_impact if d() < 0.5 else t_start + d() * (traj.t_impact - t_start)
            if og.slant_from_ground(traj, np.linspace(t_start, t_limit, 4001), *unit).min() >= 5:
                check_dwell(traj, unit, t_start, dwell_for(traj, wpn, t_start, t_limit, d),
                            wpn.ref_m, t_limit)
        shot_family = (THREAT_FAMILIES + DUELS)[i % (len(THREAT_FAMILIES) + len(DUELS))]
        case = shot_case(rng.random(N_UNIFORMS), shot_family, WEAPON_FAMILIES[i % 4])
        if case is not None:
            tolerating_known_issues(check_earliest_shot, case)
            tolerating_known_issues(check_first_useful, case)
            check_latest_useful(case)
            check_useful_until(case)


def check_early_shot_bound(case):
    """early_shot_bound's claim, on its own terms: every shot fired in [t_from, until) lands
    before the window (as the oracle says), and solving answers the same wake-up t_star as
    the shortcut when the threat cannot outrun the interceptor (else no earlier one). Returns
    1 when the claim rests on the speed bound (until beyond the slant-bound one), else 0."""
    traj, tr, wpn, a, b, t_from = case
    until, t_star = early_shot_bound(*tr, 0, t_from, a, wpn.unit_e, wpn.unit_n, wpn.delay,
                                     wpn.speed)
    if not t_from < until:
        return 0
    info = lambda **kw: describe(traj, wpn=wpn, a=a, b=b, t_from=t_from, until=until,  # noqa
                                 t_star=t_star, **kw)
    starts = list(np.linspace(t_from, until, 6)[:-1]) + [math.nextafter(until, -math.inf)]
    for s in starts:
        if s < t_from:
            continue
        solved = earliest_shot_by_intercept_s(*tr, 0, s, a, b, *core_args(wpn))
        if speed_bound_mps(*tr, 0, s) < wpn.speed:
            assert solved == wake_at(t_star, s), info(s=s, solved=solved)
        else:   # F may peak before a: solving samples it and may wake later, never earlier
            assert wake_at(t_star, s) <= solved, info(s=s, solved=solved)
        eff = float(og.shot_effects(traj, [s], wpn, a, b)[0])
        assert eff < a - WINDOW_TOL_S + EPS_SHOT_S, info(s=s, oracle=eff)
    r_bound = slant_bound_m(*tr, 0, t_from, a, wpn.unit_e, wpn.unit_n)
    return int(until > a - WINDOW_TOL_S - 1e-6 - wpn.delay - r_bound / wpn.speed)


@oracle_settings(600)
@given(u=uniforms, family=SHOT_FAMILIES, kind=st.sampled_from(("pac3", "coyote",
                                                                  "any_missile")))
def test_early_shot_bound_keeps_its_claim(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    check_early_shot_bound(case)


def test_early_shot_bound_claims_by_speed_are_made():
    """The speed-bound part of early_shot_bound decides a good share of random cases."""
    rng = np.random.default_rng(7)
    by_speed = 0
    for k in range(800):
        kind = ("pac3", "coyote", "any_missile")[k % 3]
        family = ("cruise", "short", "quds", "ballistic", "fast_bm")[k % 5]
        case = shot_case(list(rng.random(N_UNIFORMS)), family, kind)
        if case is not None:
            by_speed += check_early_shot_bound(case)
    assert by_speed >= 20, by_speed


def check_search_from_earlier(case):
    """What the not-engaged reasons rest on (doctrine.unit_not_engaged_reason): a useful shot
    found from t_from is also found from any earlier start (launch, or between), and two starts
    with the same search_start_s give the same answer. The oracle arbitrates a miss: only the
    WAKE_STEP issue (every useful shot within 1 ms) may explain one."""
    traj, tr, wpn, a, b, t_from = case
    later = first_useful_shot_s(*tr, 0, t_from, a, b, *core_args(wpn))
    for t0 in (traj.t_launch, 0.5 * (traj.t_launch + t_from), t_from - 1e-3):
        if not t0 <= t_from:
            continue
        earlier = first_useful_shot_s(*tr, 0, t0, a, b, *core_args(wpn))
        if search_start_s(wpn.is_laser, t0, a) == search_start_s(wpn.is_laser, t_from, a):
            assert earlier == later, describe(traj, weapon=wpn, a=a, b=b, t0=t0, t_from=t_from)
        if later < math.inf and earlier == math.inf:
            loose, strict = oracle_first_shots(traj, wpn, t0, a, b)
            missed_for_a_known_reason(traj, tr, wpn, t0, a, b, loose, strict,
                                      lambda: describe(traj, weapon=wpn, a=a, b=b, t0=t0,
                                                       t_from=t_from, later=later))


@oracle_settings(600)
@given(u=uniforms, family=SHOT_FAMILIES, kind=SHOT_WEAPONS)
def test_a_shot_found_later_is_found_from_earlier(u, family, kind):
    case = shot_case(u, family, kind)
    assume(case is not None)
    tolerating_known_issues(check_search_from_earlier, case)


def sampled_runs(traj, unit, env, t_end, n=200001):
    """Every run (start, end) of envelope membership on a uniform grid of n times over the
    flight (the oracle's own envelope test), and the grid step."""
    t = np.linspace(traj.t_launch, min(t_end, traj.t_impact), n)
    inside = og.in_envelope(traj, t, *unit, *env).astype(np.int8)
    edges = np.diff(np.concatenate([[0], inside, [0]]))
    starts, ends = t[np.flatnonzero(edges == 1)], t[np.flatnonzero(edges == -1) - 1]
    return starts, ends, t[1] - t[0]


def test_the_window_is_the_first_interval_a_unit_can_still_use():
    """engagement_window(t_usable): the first interval of envelope membership that ends after
    t_usable (the unit's track + reaction), else the first one (MODEL.md §5 took the first
    interval, and a route that clipped the envelope before the threat was tracked hid every
    later pass). Against the oracle's sampled runs of the same geometries (trajectories,
    placements and envelopes of test_engagement_windows_match_the_oracle), with t_usable
    before, inside, between and after the intervals; cases where a run, a gap or t_usable
    lies within a few grid steps of another edge are left to the exact tests (a sampling
    question). Enough geometries have two or more intervals that the choice is exercised."""
    picked_later = checked = 0
    for seed in range(400):
        d = Draws(seeded_uniforms(seed, seed % 3 == 0))
        traj = make_threat(d, THREAT_FAMILIES[seed % len(THREAT_FAMILIES)])
        unit = place(traj, d)
        env = make_envelope(traj, unit, d)
        t_end = make_t_end(traj, d)
        if not min(t_end, traj.t_impact) > traj.t_launch + 1.0:
            continue                                  # (no flight to sample)
        starts, ends, step = sampled_runs(traj, unit, env, t_end)
        if len(starts) == 0:
            continue
        marks = np.concatenate([starts, ends])
        if np.any(ends - starts < 8 * step) or np.any(starts[1:] - ends[:-1] < 8 * step):
            continue                                  # a sliver the grid may misplace
        tr = core_arrays(traj)
        candidates = [-math.inf, 0.5 * (starts[0] + ends[0]), ends[-1] + 1.0]
        candidates += [0.5 * (ends[k] + starts[k + 1]) for k in range(len(starts) - 1)]
        candidates += [0.5 * (starts[k] + ends[k]) for k in range(1, len(starts))]
        for t_usable in candidates:
            if np.min(np.abs(marks - t_usable)) < 8 * step:
                continue
            a, b = engagement_window(*tr, 0, t_end, t_usable, *unit, *env, np.zeros(32))
            later = np.flatnonzero(ends > t_usable)
            k = int(later[0]) if len(later) else 0
            tol = 2.0 * step + 1e-6
            assert abs(a - starts[k]) <= tol and abs(b - ends[k]) <= tol, describe(
                traj, unit=unit, env=env, t_end=t_end, t_usable=t_usable, core=(a, b),
                oracle=(starts[k], ends[k]), runs=list(zip(starts, ends)))
            checked += 1
            picked_later += k > 0
    assert checked > 300 and picked_later > 15, (checked, picked_later)
