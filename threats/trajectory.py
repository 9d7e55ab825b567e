"""Closed-form threat trajectories (MODEL.md §3).

A trajectory is a short polyline of points (east, north, altitude, time). Between two points
the ground track is straight and travelled at constant rate; the altitude along segment k is

    z(s) = z_k + (z_{k+1} - z_k) s + 4 H_k s (1 - s),   s = (t - t_k) / (t_{k+1} - t_k)

so a ballistic flight is one segment from L (z=0) to I (z=0) with bulge H = apogee, and a
cruise flight is L -> [ingress waypoint W] -> dive point D at cruise altitude then D -> I down
to the ground, every bulge zero. One formula serves both, and every envelope and horizon
question on a segment reduces to roots of polynomials of degree two at most.

Arrays (per replication, row j = threat j; new_trajectories allocates them): pt_e, pt_n, pt_z,
pt_t [J, MAX_PTS], seg [J, MAX_PTS, SEG_FIELDS], n_pts [J]. Segment k runs from point k to
point k+1; seg[j, k] holds what belongs to segment k:
- seg[j, k, SEG_BULGE_M]: its bulge H;
- seg[j, k, SEG_SPEED_FROM_MPS]: the largest speed bound (speed_bound_from_mps) over
  segments k, k+1, ... of positive duration, 0 past the last. The builders fill it
  (seal_speed_bounds), so intercept.speed_bound_mps is a lookup, not a loop of hypots;
- seg[j, k, SEG_GROUND_SPEED_FROM_MPS]: likewise the largest ground speed
  (segment_ground_speed_mps), so max_ground_speed_mps is a lookup too.
"""
import math

import numpy as np
from numba import njit

from salvosim.engine.jit import JIT

MAX_PTS = 4
SEG_BULGE_M = 0
SEG_SPEED_FROM_MPS = 1
SEG_GROUND_SPEED_FROM_MPS = 2
SEG_FIELDS = 3


def new_trajectories(n_threats):
    """Zeroed trajectory arrays for n_threats threats: (pt_e, pt_n, pt_z, pt_t, seg, n_pts)."""
    return (np.zeros((n_threats, MAX_PTS)), np.zeros((n_threats, MAX_PTS)),
            np.zeros((n_threats, MAX_PTS)), np.zeros((n_threats, MAX_PTS)),
            np.zeros((n_threats, MAX_PTS, SEG_FIELDS)), np.zeros(n_threats, np.int64))


@njit(**JIT)
def segment_altitude_m(z0, z1, bulge_m, s):
    return z0 + (z1 - z0) * s + 4.0 * bulge_m * s * (1.0 - s)


@njit(**JIT)
def build_ballistic(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t0_s,
                    launch_e, launch_n, impact_e, impact_n, speed_mps, apogee_m):
    """Ballistic flight L -> I: time of flight T = R / v_avg, apogee H at mid-flight."""
    ground_m = max(math.hypot(impact_e - launch_e, impact_n - launch_n), 1.0)
    pt_e[j, 0] = launch_e
    pt_n[j, 0] = launch_n
    pt_z[j, 0] = 0.0
    pt_t[j, 0] = t0_s
    pt_e[j, 1] = impact_e
    pt_n[j, 1] = impact_n
    pt_z[j, 1] = 0.0
    pt_t[j, 1] = t0_s + ground_m / speed_mps
    seg[j, 0, SEG_BULGE_M] = apogee_m
    n_pts[j] = 2
    seal_speed_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j)


@njit(**JIT)
def _append_point(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, e, n, z, speed_mps):
    k = n_pts[j]
    leg_m = math.sqrt((e - pt_e[j, k - 1]) ** 2 + (n - pt_n[j, k - 1]) ** 2
                      + (z - pt_z[j, k - 1]) ** 2)
    pt_e[j, k] = e
    pt_n[j, k] = n
    pt_z[j, k] = z
    pt_t[j, k] = pt_t[j, k - 1] + leg_m / speed_mps
    seg[j, k - 1, SEG_BULGE_M] = 0.0
    n_pts[j] = k + 1


@njit(**JIT)
def build_cruise(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t0_s,
                 launch_e, launch_n, impact_e, impact_n, speed_mps, altitude_m,
                 dive_m, has_ingress, ingress_bearing_rad, ingress_m):
    """Cruise flight L -> [W] -> D -> I at constant speed along the 3-D path.

    W lies ingress_m from the impact point on bearing ingress_bearing (the threat arrives from
    that direction); D lies dive_m (ground) before I on the last leg, or at the previous point
    when the last leg is shorter than the dive."""
    pt_e[j, 0] = launch_e
    pt_n[j, 0] = launch_n
    pt_z[j, 0] = altitude_m
    pt_t[j, 0] = t0_s
    n_pts[j] = 1
    prev_e, prev_n = launch_e, launch_n
    if has_ingress:
        prev_e = impact_e + ingress_m * math.sin(ingress_bearing_rad)
        prev_n = impact_n + ingress_m * math.cos(ingress_bearing_rad)
        _append_point(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, prev_e, prev_n, altitude_m,
                      speed_mps)
    last_leg_m = math.hypot(prev_e - impact_e, prev_n - impact_n)
    if last_leg_m > dive_m:
        f = dive_m / last_leg_m
        _append_point(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                      impact_e + (prev_e - impact_e) * f, impact_n + (prev_n - impact_n) * f,
                      altitude_m, speed_mps)
    _append_point(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, impact_e, impact_n, 0.0, speed_mps)
    seal_speed_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j)


@njit(**JIT)
def flown_piece(pt_t, j, k, t_end_s):
    """(t_k, duration, t_stop, s_stop) of segment k of threat j as flown before t_end: it runs
    from t_k to t_stop, the fraction s_stop of the segment. s_stop = 0 for a zero-length leg
    (an ingress waypoint on the launch point: skip it), -1 once t_end is reached (stop)."""
    ju, ku, k1 = np.uint64(j), np.uint64(k), np.uint64(k + 1)   # unsigned: no wraparound code
    tk = pt_t[ju, ku]
    dur = pt_t[ju, k1] - tk
    t_stop = min(pt_t[ju, k1], t_end_s)
    if dur <= 0.0:
        return tk, dur, t_stop, 0.0
    if t_stop <= tk:
        return tk, dur, t_stop, -1.0
    return tk, dur, t_stop, (t_stop - tk) / dur


@njit(**JIT)
def segment_of(pt_t, n_pts, j, t_s):
    """Index of the segment that holds time t (clamped to the flight)."""
    k = 0
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    while k < n_pts[ju] - 2 and t_s > pt_t[ju, np.uint64(k + 1)]:
        k += 1
    return k


@njit(**JIT)
def position_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s):
    """(east, north, altitude) of threat j at time t, clamped to launch and impact. Threat j's
    trajectory must be built (n_pts[j] >= 2, as every builder leaves it): the subscripts are
    unsigned, so an empty row would read outside it, not raise."""
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    last = np.uint64(n_pts[ju] - 1)
    first = np.uint64(0)
    if t_s <= pt_t[ju, first]:
        return pt_e[ju, first], pt_n[ju, first], pt_z[ju, first]
    if t_s >= pt_t[ju, last]:
        return pt_e[ju, last], pt_n[ju, last], pt_z[ju, last]
    k = segment_of(pt_t, n_pts, j, t_s)
    k0, k1 = np.uint64(k), np.uint64(k + 1)
    s = (t_s - pt_t[ju, k0]) / (pt_t[ju, k1] - pt_t[ju, k0])
    e = pt_e[ju, k0] + (pt_e[ju, k1] - pt_e[ju, k0]) * s
    n = pt_n[ju, k0] + (pt_n[ju, k1] - pt_n[ju, k0]) * s
    z = segment_altitude_m(pt_z[ju, k0], pt_z[ju, k1], seg[ju, k0, SEG_BULGE_M], s)
    return e, n, z


@njit(**JIT)
def impact_time_s(pt_t, n_pts, j):
    return pt_t[j, n_pts[j] - 1]


@njit(**JIT, inline="always")
def segment_ground_speed_mps(pt_e, pt_n, j, k, duration_s):
    """Ground speed of threat j on segment k (straight and constant; duration_s > 0)."""
    return math.hypot(pt_e[j, k + 1] - pt_e[j, k], pt_n[j, k + 1] - pt_n[j, k]) / duration_s


@njit(**JIT, inline="always")
def segment_climb_bound_mps(pt_z, seg, j, k, duration_s):
    """The largest climb or sink rate on segment k: the climb rate
    (z1 - z0 + 4 H (1 - 2 s)) / duration is linear in s, so largest in magnitude at an end."""
    dz, h = pt_z[j, k + 1] - pt_z[j, k], seg[j, k, SEG_BULGE_M]
    return max(abs(dz + 4.0 * h), abs(dz - 4.0 * h)) / duration_s


@njit(**JIT, inline="always")
def speed_bound_from_mps(ground_mps, climb_mps):
    """An upper bound of a segment's speed: hypot(its ground speed, its largest climb rate).
    hypot(x, 0) is |x| exactly (C99 Annex F.10.4.3), so level flight needs no call."""
    return ground_mps if climb_mps == 0.0 else math.hypot(ground_mps, climb_mps)


@njit(**JIT)
def seal_speed_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j):
    """Fill seg[j, k, SEG_SPEED_FROM_MPS] and seg[j, k, SEG_GROUND_SPEED_FROM_MPS], from the
    last segment back: the largest speed bound (speed_bound_from_mps) and ground speed over
    segments k, k+1, ... of positive duration (0 if none)."""
    fastest = 0.0
    fastest_ground = 0.0
    for k in range(n_pts[j] - 2, -1, -1):
        dur = pt_t[j, k + 1] - pt_t[j, k]
        if dur > 0.0:
            ground = segment_ground_speed_mps(pt_e, pt_n, j, k, dur)
            fastest_ground = max(fastest_ground, ground)
            fastest = max(fastest, speed_bound_from_mps(
                ground, segment_climb_bound_mps(pt_z, seg, j, k, dur)))
        seg[j, k, SEG_SPEED_FROM_MPS] = fastest
        seg[j, k, SEG_GROUND_SPEED_FROM_MPS] = fastest_ground


@njit(**JIT)
def max_ground_speed_mps(seg, n_pts, j):
    """The largest ground speed of threat j over its flight (stored by seal_speed_bounds)."""
    return seg[j, 0, SEG_GROUND_SPEED_FROM_MPS] if n_pts[j] >= 2 else 0.0
