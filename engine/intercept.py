"""Intercept times and the earliest useful shot (MODEL.md §5).

A missile or gun shot fired at t_s intercepts at t_i = t_s + launch_delay + slant(u, p_j(t_i)) / v,
solved by fixed-point iteration from the range at t_s (<= 8 iterations, stop when the change is
below 1 ms). A laser dwell fired at t_s ends at t_i = t_s + dwell (slant(t_s) / ref)^2 and needs
the threat in the window for the whole dwell. A shot is feasible iff a <= t_i <= b.
"""
import math

from numba import njit

from .constants import (FIXED_POINT_MAX_ITER, FIXED_POINT_TOL_S, MIN_WAKE_STEP_S, WINDOW_TOL_S)
from .trajectory import position_at


@njit(cache=True, error_model="numpy")
def slant_range_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_s, unit_e, unit_n):
    e, n, z = position_at(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_s)
    return math.sqrt((e - unit_e) ** 2 + (n - unit_n) ** 2 + z * z)


@njit(cache=True, error_model="numpy")
def intercept_time_s(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_shot_s, unit_e, unit_n,
                     is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """Time at which a shot fired at t_shot reaches (or, for a laser, finishes) threat j."""
    r0 = slant_range_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_shot_s, unit_e, unit_n)
    if is_laser:
        return t_shot_s + dwell_s * (r0 / dwell_ref_m) ** 2
    t_i = t_shot_s + launch_delay_s + r0 / speed_mps
    for _ in range(FIXED_POINT_MAX_ITER):
        r = slant_range_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_i, unit_e, unit_n)
        t_next = t_shot_s + launch_delay_s + r / speed_mps
        change = abs(t_next - t_i)
        t_i = t_next
        if change < FIXED_POINT_TOL_S:
            break
    return t_i


@njit(cache=True, error_model="numpy")
def shot_is_feasible(t_shot_s, t_intercept_s, window_start_s, window_end_s, is_laser):
    if is_laser and t_shot_s < window_start_s:
        return False
    return window_start_s - WINDOW_TOL_S <= t_intercept_s <= window_end_s


@njit(cache=True, error_model="numpy")
def slant_bound_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s, t_to_s, unit_e, unit_n):
    """Upper bound of the unit-threat distance over the flight between two times.

    On each segment the ground distance to a point is largest at an end of the piece flown
    (a straight track), and the altitude never exceeds the higher end plus the bulge."""
    ground = 0.0
    top = 0.0
    for k in range(n_pts[j] - 1):
        t0, t1 = pt_t[j, k], pt_t[j, k + 1]
        if t1 < t_from_s or t0 > t_to_s:
            continue
        for t in (max(t0, t_from_s), min(t1, t_to_s)):
            e, n, _ = position_at(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t)
            ground = max(ground, math.hypot(e - unit_e, n - unit_n))
        top = max(top, max(pt_z[j, k], pt_z[j, k + 1]) + max(bulge[j, k], 0.0))
    return math.hypot(ground, top)


@njit(cache=True, error_model="numpy")
def ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t_from_s, t_to_s, unit_e, unit_n):
    """Lower bound of the unit-threat distance between two times: the least ground distance
    from the unit to the pieces of ground track flown then (slant range >= ground range)."""
    floor = math.inf
    for k in range(n_pts[j] - 1):
        t0, t1 = pt_t[j, k], pt_t[j, k + 1]
        if t1 < t_from_s or t0 > t_to_s or t1 <= t0:
            continue
        s0 = max(0.0, (t_from_s - t0) / (t1 - t0))
        s1 = min(1.0, (t_to_s - t0) / (t1 - t0))
        de, dn = pt_e[j, k + 1] - pt_e[j, k], pt_n[j, k + 1] - pt_n[j, k]
        ae, an = pt_e[j, k] + de * s0 - unit_e, pt_n[j, k] + dn * s0 - unit_n
        be, bn = de * (s1 - s0), dn * (s1 - s0)
        len2 = be * be + bn * bn
        f = 0.0
        if len2 > 0.0:
            f = min(1.0, max(0.0, -(ae * be + an * bn) / len2))
        floor = min(floor, math.hypot(ae + f * be, an + f * bn))
    return floor


@njit(cache=True, error_model="numpy")
def always_too_late(pt_e, pt_n, pt_t, n_pts, j, t_from_s, window_end_s, unit_e, unit_n,
                    launch_delay_s, speed_mps):
    """True when no shot fired at t_from or later can arrive by the window end b.

    Every fixed-point iterate is t_s + delay + r/v with r at least the distance floor over
    [t_s, b], so it exceeds b; the floor only grows as t_s grows, so this stays true."""
    floor = ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t_from_s, window_end_s, unit_e, unit_n)
    return t_from_s + launch_delay_s + floor / speed_mps > window_end_s


@njit(cache=True, error_model="numpy")
def early_shot_bound(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s, window_start_s,
                     unit_e, unit_n, launch_delay_s, speed_mps):
    """(until, t_star): every shot fired in [t_from, until) arrives before the window opens,
    so its earliest useful shot is t_star = a - delay - range(p(a)) / v. until = -inf when
    that cannot be shown at t_from.

    Proof: the fixed-point iterates are t_from + delay + r/v with r the distance at an earlier
    iterate; if r <= R (the bound over [t_from, a]) they all stay before a - 1 ms. R over
    [t, a] only shrinks as t grows, so `until` stays valid for later shot times."""
    r_bound = slant_bound_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s, window_start_s,
                            unit_e, unit_n)
    until = window_start_s - WINDOW_TOL_S - launch_delay_s - r_bound / speed_mps
    if t_from_s >= until:
        return -math.inf, math.nan
    r_a = slant_range_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, window_start_s, unit_e, unit_n)
    return until, window_start_s - launch_delay_s - r_a / speed_mps


@njit(cache=True, error_model="numpy")
def earliest_shot_time_s(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s,
                         window_start_s, window_end_s, unit_e, unit_n,
                         is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """Earliest time >= t_from at which a shot at threat j can be useful, or +inf.

    Returns t_from itself when a shot now is feasible. When a shot now would arrive before the
    window opens, the shot time that arrives at its start, a - delay - range(p(a)) / v (lasers:
    a), never closer than 1 ms to t_from so that a wake-up always moves time forward."""
    if math.isnan(window_start_s) or t_from_s > window_end_s:
        return math.inf
    if is_laser:
        if t_from_s < window_start_s:
            return window_start_s
    else:
        until, t_star = early_shot_bound(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s,
                                         window_start_s, unit_e, unit_n, launch_delay_s,
                                         speed_mps)
        if t_from_s < until:
            return max(t_star, t_from_s + MIN_WAKE_STEP_S)
    return earliest_shot_by_intercept_s(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s,
                                        window_start_s, window_end_s, unit_e, unit_n, is_laser,
                                        launch_delay_s, speed_mps, dwell_s, dwell_ref_m)


@njit(cache=True, error_model="numpy")
def earliest_shot_by_intercept_s(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s,
                                 window_start_s, window_end_s, unit_e, unit_n,
                                 is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """earliest_shot_time_s once the quick answers are ruled out: solve the intercept now."""
    t_i = intercept_time_s(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, t_from_s, unit_e, unit_n,
                           is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m)
    if t_i > window_end_s:
        return math.inf
    if shot_is_feasible(t_from_s, t_i, window_start_s, window_end_s, is_laser):
        return t_from_s
    if is_laser:
        t_shot = window_start_s
    else:
        r_a = slant_range_m(pt_e, pt_n, pt_z, pt_t, bulge, n_pts, j, window_start_s,
                            unit_e, unit_n)
        t_shot = window_start_s - launch_delay_s - r_a / speed_mps
    return max(t_shot, t_from_s + MIN_WAKE_STEP_S)
