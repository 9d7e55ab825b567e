"""Intercept times, laser dwells and useful shot times (MODEL.md §5 v2).

**Missiles and guns.** A shot fired at t_s intercepts at the earliest root t_i of

    g(t) = t - t_s - launch_delay - slant(u, p_j(t)) / speed,   t in [t_s + launch_delay, t_impact]

found by bracketing and a safeguarded Illinois (regula falsi) iteration to 1e-6 s. No fixed
point: t <- t_s + delay + slant(t)/speed diverges whenever the threat closes faster than the
interceptor flies (a diving ballistic missile against a PAC-3), which is how the first release
never engaged one.

Two facts carry every rule and shortcut below. Write F(t) = t - delay - slant(t)/speed, the
shot time whose interceptor would arrive at t.
1. g is Lipschitz with constant 1 + V/speed (V bounds the threat's speed), and strictly
   increasing when V < speed: an inbound threat, however fast, or any threat slower than the
   interceptor. Then the root is unique and [t_s + delay, t_s + delay + R/speed] brackets it
   (R bounds the slant range): g < 0 at the left end, g >= 0 at the right.
2. t_i(t_s) is the first time F reaches the level t_s (g(t) = F(t) - t_s and F(t) < t_s for
   every t < t_s + delay), so t_i never decreases as t_s grows, for ANY trajectory. Hence: if
   firing now lands after the window end b, no later shot lands by b; if firing now lands before
   the window start a, every useful shot is fired at or after max_{t <= a} F(t) >= F(a), with
   equality when F is monotone (V < speed): the closed form a - delay - slant(p(a))/speed.

**Lasers.** A dwell started at t_s ends at the first t_e with
∫_{t_s}^{t_e} (dwell_ref_range / slant(t))^2 dt = dwell_s (composite Simpson on steps of at
most 0.25 s over which the range changes by at most 5 %, then bisection in the last step to
1e-6 s), and must lie inside the window. The dwell end
grows with its start (d t_e / d t_s = w(t_s) / w(t_e) > 0 for the positive fluence rate w), so
the earliest useful dwell starts at max(now, a) if that one ends by b, and never otherwise.

Both engines call these functions; the Numba kernel caches two of their answers
(early_shot_bound, always_too_late), whose proofs are in their docstrings.
"""
import math

import numpy as np
from numba import njit

from salvosim.defenses.envelope import clearly_below_sq
from salvosim.engine.constants import (
    INTERCEPT_MAX_ITER,
    INTERCEPT_SCAN_MAX_STEPS,
    INTERCEPT_SCAN_MIN_STEP_S,
    INTERCEPT_TOL_S,
    LASER_BOUND_PIECES,
    LASER_END_ERROR,
    LASER_MAX_STEPS,
    LASER_MIN_SLANT_M,
    LASER_MIN_STEP_S,
    LASER_STEP_S,
    MIN_WAKE_STEP_S,
    OUTRUN_SAMPLES,
    WINDOW_TOL_S,
)
from salvosim.engine.jit import JIT
from salvosim.threats.trajectory import SEG_BULGE_M, SEG_SPEED_FROM_MPS, position_at


@njit(**JIT, inline="always")
def slant_range_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n):
    e, n, z = position_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s)
    return math.sqrt((e - unit_e) ** 2 + (n - unit_n) ** 2 + z * z)


@njit(**JIT, inline="always")
def arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n,
                        launch_delay_s, speed_mps):
    """F(t): the shot time whose interceptor reaches threat j exactly at t."""
    return t_s - launch_delay_s - slant_range_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s,
                                                unit_e, unit_n) / speed_mps


@njit(**JIT)
def speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s):
    """Upper bound of threat j's speed from t_from on: the largest
    trajectory.speed_bound_from_mps over the segments of positive duration that end at or
    after t_from. Times are sorted, so those are the segments from the first such one on, and
    the builders stored that maximum (seg[j, k, SEG_SPEED_FROM_MPS])."""
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for k in range(n_pts[ju] - 1):
        if not pt_t[ju, np.uint64(k + 1)] < t_from_s:
            return seg[ju, np.uint64(k), SEG_SPEED_FROM_MPS]
    return 0.0


@njit(**JIT)
def slant_bound_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, t_to_s, unit_e, unit_n):
    """Upper bound of the unit-threat distance over the flight between two times.

    On each segment the ground distance to a point is largest at an end of the piece flown
    (a straight track), and the altitude never exceeds the higher end plus the bulge.

    The largest hypot of the ends, computed cheaply: a piece's start repeats the previous end
    (the same time, the same point), and an end clearly nearer than the farthest seen
    (envelope.clearly_below_sq) cannot hold the maximum hypot, so it is skipped."""
    ground = 0.0
    ground_sq = 0.0     # the largest squared ground distance seen
    t_last = math.nan   # the end taken last
    top = 0.0
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for k in range(n_pts[ju] - 1):
        k0, k1 = np.uint64(k), np.uint64(k + 1)
        t0, t1 = pt_t[ju, k0], pt_t[ju, k1]
        if t1 < t_from_s or t0 > t_to_s:
            continue
        for t in (max(t0, t_from_s), min(t1, t_to_s)):
            if t == t_last:
                continue
            t_last = t
            e, n, _ = position_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t)
            d_e, d_n = e - unit_e, n - unit_n
            d_sq = d_e * d_e + d_n * d_n
            if not clearly_below_sq(d_sq, ground_sq):
                ground = max(ground, math.hypot(d_e, d_n))
                ground_sq = max(ground_sq, d_sq)
        top = max(top, max(pt_z[ju, k0], pt_z[ju, k1]) + max(seg[ju, k0, SEG_BULGE_M], 0.0))
    return math.hypot(ground, top)


@njit(**JIT, inline="always")
def _closing_gap_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, t_shot_s, unit_e, unit_n,
                   launch_delay_s, speed_mps):
    """g(t) = t - t_shot - delay - slant(t) / speed (< 0: the interceptor has not got there)."""
    return t_s - t_shot_s - launch_delay_s - slant_range_m(
        pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n) / speed_mps


@njit(**JIT)
def intercept_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e, unit_n,
                     launch_delay_s, speed_mps):
    """Earliest time an interceptor fired at t_shot reaches threat j (the earliest root of g),
    or +inf if it never does before impact. Accurate to 1e-6 s (the returned time is the upper
    end of the final bracket, so g >= 0 there)."""
    t_lo = t_shot_s + launch_delay_s
    t_stop = pt_t[j, n_pts[j] - 1]
    if t_lo > t_stop:
        return math.inf
    g_lo = _closing_gap_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_lo, t_shot_s,
                          unit_e, unit_n, launch_delay_s, speed_mps)
    if g_lo >= 0.0:
        return t_lo
    v_max = speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_lo)
    if v_max < speed_mps:
        # g strictly increasing: one root, bracketed by the slant-range bound (fact 1).
        r_max = slant_bound_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_lo, t_stop,
                              unit_e, unit_n)
        # (a hair of slack: for a motionless threat g(t_lo + R/speed) is 0 up to rounding)
        t_hi = min(t_lo + r_max / speed_mps * (1.0 + 1e-12) + INTERCEPT_TOL_S, t_stop)
        g_hi = _closing_gap_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_hi, t_shot_s,
                              unit_e, unit_n, launch_delay_s, speed_mps)
        if g_hi < 0.0:
            return math.inf
    else:
        # The threat may outrun the interceptor: g can fall as well as rise. March forward by
        # the distance over which g provably has no root, -g / L with L = 1 + v_max / speed
        # its Lipschitz constant (at least a 0.1 ms step), until g >= 0: the earliest root
        # lies in the last step.
        lipschitz = 1.0 + v_max / speed_mps
        found = False
        for _ in range(INTERCEPT_SCAN_MAX_STEPS):
            t_hi = min(t_lo + max(-g_lo / lipschitz, INTERCEPT_SCAN_MIN_STEP_S), t_stop)
            g_hi = _closing_gap_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_hi, t_shot_s,
                                  unit_e, unit_n, launch_delay_s, speed_mps)
            if g_hi >= 0.0:
                found = True
                break
            if t_hi >= t_stop:
                break
            t_lo, g_lo = t_hi, g_hi
        if not found:
            return math.inf
    return _refine_root(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e, unit_n,
                        launch_delay_s, speed_mps, t_lo, g_lo, t_hi, g_hi)


@njit(**JIT)
def _refine_root(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e, unit_n,
                 launch_delay_s, speed_mps, t_lo, g_lo, t_hi, g_hi):
    """Shrink a bracket (g(t_lo) < 0 <= g(t_hi)) to INTERCEPT_TOL_S; return its upper end.

    Illinois steps kept tol/2 inside the bracket (so once the estimate has converged the next
    step lands on the other side and closes the bracket), and every fourth step a bisection, so
    the bracket at least halves every four steps whatever g looks like."""
    side = 0
    for it in range(INTERCEPT_MAX_ITER):
        width = t_hi - t_lo
        if width <= INTERCEPT_TOL_S:
            break
        if it % 4 == 3:
            t_x = 0.5 * (t_lo + t_hi)
        else:
            t_x = t_hi - g_hi * width / (g_hi - g_lo)
            t_x = min(max(t_x, t_lo + 0.5 * INTERCEPT_TOL_S), t_hi - 0.5 * INTERCEPT_TOL_S)
        g_x = _closing_gap_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_x, t_shot_s,
                             unit_e, unit_n, launch_delay_s, speed_mps)
        if g_x >= 0.0:
            t_hi, g_hi = t_x, g_x
            if side == 1:
                g_lo *= 0.5
            side = 1
        else:
            t_lo, g_lo = t_x, g_x
            if side == -1:
                g_hi *= 0.5
            side = -1
    return t_hi


# ---------------------------------------------------------------------------- lasers
@njit(**JIT, inline="always")
def _fluence_rate_and_range(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n,
                            dwell_ref_m):
    """(w, r): the fluence rate w = (dwell_ref / r)^2 at time t and the capped slant r."""
    r = max(slant_range_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n),
            LASER_MIN_SLANT_M)
    return (dwell_ref_m / r) ** 2, r


@njit(**JIT, inline="always")
def _fluence_rate(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n, dwell_ref_m):
    """(dwell_ref / slant)^2: dwell seconds completed per second at time t."""
    return _fluence_rate_and_range(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, unit_e, unit_n,
                                   dwell_ref_m)[0]


@njit(**JIT, inline="always")
def dwell_step_s(w0, r0_capped_m, dwell_ref_m, v_max_mps):
    """The Simpson step from a point with fluence rate w0 (its capped slant r0_capped_m):
    min(LASER_STEP_S, max(LASER_MIN_STEP_S, 0.05 r0 / v_max)) with r0 = dwell_ref / sqrt(w0).
    That r0 is the capped slant to within a few ulps while w0 is a normal number (>= 1e-300:
    no subnormal rounding), so from r0_capped_m >= 5 v_max (1 + 1e-9) on the step is
    LASER_STEP_S without the square root and two divisions, which were the serial chain from
    one step to the next (test_dwell_step_shortcut_is_exact)."""
    if r0_capped_m >= 5.0 * v_max_mps * (1.0 + 1e-9) and w0 >= 1e-300:
        return LASER_STEP_S
    r0 = dwell_ref_m / math.sqrt(w0)
    return min(LASER_STEP_S, max(LASER_MIN_STEP_S, 0.05 * r0 / v_max_mps))


@njit(**JIT)
def laser_dwell_end_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_start_s, unit_e, unit_n,
                      dwell_s, dwell_ref_m, t_limit_s):
    """End of a laser dwell started at t_start: the first t_e with
    ∫ (dwell_ref / slant)^2 dt = dwell_s, or +inf if it would end after t_limit."""
    if t_start_s > t_limit_s:
        return math.inf
    done = 0.0
    t0 = t_start_s
    w0, r0 = _fluence_rate_and_range(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t0, unit_e, unit_n,
                                     dwell_ref_m)
    # Steps of at most 0.25 s, and short enough that the range changes by at most 5 % in one
    # (Simpson's rule is then accurate to ~1e-6 even where the threat passes close by).
    v_max = max(speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_start_s), 1e-9)
    for _ in range(LASER_MAX_STEPS):
        t1 = min(t0 + dwell_step_s(w0, r0, dwell_ref_m, v_max), t_limit_s)
        h = t1 - t0
        wm = _fluence_rate(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t0 + 0.5 * h, unit_e, unit_n,
                           dwell_ref_m)
        w1, r1 = _fluence_rate_and_range(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t1, unit_e,
                                         unit_n, dwell_ref_m)
        piece = h / 6.0 * (w0 + 4.0 * wm + w1)
        if done + piece >= dwell_s:
            # The dwell ends in this step: bisect on Simpson's rule over [t0, t0 + x].
            lo, hi = 0.0, h
            for _ in range(INTERCEPT_MAX_ITER):
                if hi - lo <= INTERCEPT_TOL_S:
                    break
                x = 0.5 * (lo + hi)
                part = x / 6.0 * (w0 + 4.0 * _fluence_rate(pt_e, pt_n, pt_z, pt_t, seg, n_pts,
                                                           j, t0 + 0.5 * x, unit_e, unit_n,
                                                           dwell_ref_m)
                                  + _fluence_rate(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                                  t0 + x, unit_e, unit_n, dwell_ref_m))
                if done + part >= dwell_s:
                    hi = x
                else:
                    lo = x
            return t0 + hi
        done += piece
        if t1 >= t_limit_s:
            return math.inf
        t0, w0, r0 = t1, w1, r1
    return math.inf



@njit(**JIT)
def laser_dwell_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_end_s,
                       unit_e, unit_n, dwell_s, dwell_ref_m):
    """(until, never) for a laser at t_from >= the window start a, from bounds of the fluence
    rate w = (dwell_ref / max(slant, 1 m))^2 over [t_from, b]: every dwell started in
    [t_from, until] ends by the window end b as laser_dwell_end_s computes it (until < t_from:
    not shown), and never = True when no dwell started at t_from or later does.

    With R_hi >= slant (slant_bound_m) and R_lo <= slant (ground_floor_m: slant >= ground range)
    over [t_from, b], w_lo = (ref / R_hi)^2 <= w <= w_hi = (ref / R_lo)^2, so the exact end T(s)
    of a dwell started at s lies in [s + dwell / w_hi, s + dwell / w_lo]. A computed end is
    within e = LASER_END_ERROR x dwell x (R_hi / ref)^2 + 1e-5 s of T (the integral is accurate
    to ~1e-6 of dwell_s, and the rate at the end is >= w_lo; a 100-fold margin; then the
    1e-6 s bisection). So s <= until = b - e - dwell / w_lo ends by b, and if
    t_from + dwell / w_hi > b + e no start >= t_from does (T grows with s). Unlike the missile
    rules this rests on an error estimate: the kernel's debug mode (every decision re-made by
    integrating from scratch) checks it.

    When these bounds leave t_from undecided (until < t_from, not never), piecewise_dwell_bounds
    tries the same argument on pieces of [t_from, b], each with its own R_hi and R_lo."""
    r_hi = max(slant_bound_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_end_s,
                             unit_e, unit_n), LASER_MIN_SLANT_M)
    r_lo = max(ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t_from_s, window_end_s, unit_e,
                              unit_n), LASER_MIN_SLANT_M)
    error_s = LASER_END_ERROR * dwell_s * (r_hi / dwell_ref_m) ** 2 + 1e-5
    never = t_from_s + dwell_s * (r_lo / dwell_ref_m) ** 2 > window_end_s + error_s
    until = window_end_s - error_s - dwell_s * (r_hi / dwell_ref_m) ** 2
    if never or until >= t_from_s or not window_end_s > t_from_s:
        return until, never
    return piecewise_dwell_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                  window_end_s, unit_e, unit_n, dwell_s, dwell_ref_m, error_s,
                                  until)


@njit(**JIT, inline="always")
def _dwell_piece(t_from_s, window_end_s, piece_s, i):
    """(start, end) of piece i of [t_from, b] (the last one ends exactly at b)."""
    t0 = t_from_s + i * piece_s
    return t0, (window_end_s if i == LASER_BOUND_PIECES - 1 else t0 + piece_s)


@njit(**JIT)
def piecewise_dwell_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_end_s,
                           unit_e, unit_n, dwell_s, dwell_ref_m, error_s, until_s):
    """laser_dwell_bounds's (until, never) on LASER_BOUND_PIECES equal pieces of [t_from, b]
    (t_from < b), given its dwell-end error e and its until (kept when no better).

    On piece i the fluence rate lies in [w_lo_i, w_hi_i] (R_hi and R_lo of the piece), so the
    exact fluence over [s, t] lies between the integrals of these piecewise-constant rates.
    - never: the w_hi integral over [t_from, b] is below (1 - LASER_END_ERROR) x dwell. The
      exact fluence of any dwell started at t_from or later falls short of dwell by b by more
      than 100 times the integral's error (~1e-6 x dwell), so laser_dwell_end_s gives +inf.
    - until: the latest s whose w_lo integral over [s, b - e] reaches dwell (found backwards from
      b - e). Every start in [t_from, until] has T(s) <= b - e (the integral only shrinks as s
      grows), so its computed end is <= b. Rounding in s (~1e-12 s) is far inside e (>= 1e-5 s).
    """
    piece_s = (window_end_s - t_from_s) / LASER_BOUND_PIECES
    upper = 0.0          # the w_hi integral so far
    never = True
    for i in range(LASER_BOUND_PIECES):
        t0, t1 = _dwell_piece(t_from_s, window_end_s, piece_s, i)
        r_lo = max(ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t0, t1, unit_e, unit_n),
                   LASER_MIN_SLANT_M)
        upper += (t1 - t0) * (dwell_ref_m / r_lo) ** 2
        if upper >= (1.0 - LASER_END_ERROR) * dwell_s:
            never = False
            break
    if never:
        return until_s, True
    t_stop = window_end_s - error_s
    need = dwell_s       # fluence still to find, going back from t_stop
    for i in range(LASER_BOUND_PIECES - 1, -1, -1):
        t0, t1 = _dwell_piece(t_from_s, window_end_s, piece_s, i)
        t1 = min(t1, t_stop)
        if t1 <= t0:
            continue
        r_hi = max(slant_bound_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t0, t1, unit_e,
                                 unit_n), LASER_MIN_SLANT_M)
        rate = (dwell_ref_m / r_hi) ** 2
        if (t1 - t0) * rate >= need:
            return max(until_s, t1 - need / rate), False
        need -= (t1 - t0) * rate
    return until_s, False


@njit(**JIT)
def settled_laser_shot(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_end_s,
                       unit_e, unit_n, dwell_s, dwell_ref_m):
    """A laser's earliest useful shot from t_from >= a when laser_dwell_bounds settles it
    without integrating: (+inf, until) when no dwell started at t_from or later ends by b,
    (t_from, until) when the dwell started at t_from does (as do those started up to until),
    (nan, until) when the bounds cannot tell (integrate: earliest_shot_and_effect_s)."""
    until, never = laser_dwell_bounds(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                      window_end_s, unit_e, unit_n, dwell_s, dwell_ref_m)
    if never:
        return math.inf, until
    if t_from_s <= until:
        return t_from_s, until
    return math.nan, until


@njit(**JIT)
def shot_end_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e, unit_n,
                    is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m, t_limit_s):
    """When a shot fired at t_shot takes effect: the intercept, or the end of a laser dwell
    (which must end by t_limit, the window end). +inf if never."""
    if is_laser:
        return laser_dwell_end_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e,
                                 unit_n, dwell_s, dwell_ref_m, t_limit_s)
    return intercept_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, unit_e, unit_n,
                            launch_delay_s, speed_mps)


@njit(**JIT)
def shot_is_feasible(t_shot_s, t_effect_s, window_start_s, window_end_s, is_laser):
    """A shot is useful iff it takes effect inside the window (a laser also starts inside)."""
    if is_laser and t_shot_s < window_start_s:
        return False
    return window_start_s - WINDOW_TOL_S <= t_effect_s <= window_end_s


# ---------------------------------------------------------------------------- shot times
@njit(**JIT)
def ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t_from_s, t_to_s, unit_e, unit_n):
    """Lower bound of the unit-threat distance between two times: the least ground distance
    from the unit to the pieces of ground track flown then (slant range >= ground range).
    A piece clearly farther than the least so far by its squared distance (clearly_below_sq)
    needs no hypot: it cannot be the least."""
    floor = math.inf
    floor_sq = math.inf      # the squared distance whose hypot is the floor
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for k in range(n_pts[ju] - 1):
        k0, k1 = np.uint64(k), np.uint64(k + 1)
        t0, t1 = pt_t[ju, k0], pt_t[ju, k1]
        if t1 < t_from_s or t0 > t_to_s or t1 <= t0:
            continue
        s0 = max(0.0, (t_from_s - t0) / (t1 - t0))
        s1 = min(1.0, (t_to_s - t0) / (t1 - t0))
        de, dn = pt_e[ju, k1] - pt_e[ju, k0], pt_n[ju, k1] - pt_n[ju, k0]
        ae, an = pt_e[ju, k0] + de * s0 - unit_e, pt_n[ju, k0] + dn * s0 - unit_n
        be, bn = de * (s1 - s0), dn * (s1 - s0)
        len2 = be * be + bn * bn
        f = 0.0
        if len2 > 0.0:
            f = min(1.0, max(0.0, -(ae * be + an * bn) / len2))
        d_e, d_n = ae + f * be, an + f * bn
        d_sq = d_e * d_e + d_n * d_n
        if clearly_below_sq(floor_sq, d_sq):
            continue
        ground_m = math.hypot(d_e, d_n)
        if ground_m < floor:
            floor_sq = d_sq
        floor = min(floor, ground_m)
    return floor


@njit(**JIT)
def always_too_late(pt_e, pt_n, pt_t, n_pts, j, t_from_s, window_end_s, unit_e, unit_n,
                    launch_delay_s, speed_mps):
    """True when no shot fired at t_from or later can arrive by the window end b.

    Proof: an intercept t_i <= b of a shot at t_from is a root of g, so
    t_i = t_from + delay + slant(t_i)/speed with t_i in [t_from, b], where slant >= the ground
    floor over [t_from, b]; so t_i >= t_from + delay + floor/speed > b, a contradiction. Later
    shots intercept no earlier (fact 2 of the module docstring)."""
    floor = ground_floor_m(pt_e, pt_n, pt_t, n_pts, j, t_from_s, window_end_s, unit_e, unit_n)
    return t_from_s + launch_delay_s + floor / speed_mps > window_end_s


@njit(**JIT)
def early_shot_bound(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_start_s,
                     unit_e, unit_n, launch_delay_s, speed_mps):
    """(until, t_star): every shot fired in [t_from, until) intercepts before the window opens,
    and t_star = F(a) = a - delay - slant(p(a)) / speed is the wake-up time that
    earliest_shot_time_s returns for it. until = -inf when that cannot be shown at t_from.

    Proof: with R the slant bound over [t_from, a], tol = WINDOW_TOL + INTERCEPT_TOL and
    until = a - tol - delay - R/speed, a shot at s < until has
    g(a - tol) = a - tol - s - delay - slant(a - tol)/speed > 0 while g(s + delay) < 0, so its
    earliest root lies before a - tol, and intercept_time_s (within INTERCEPT_TOL above it)
    lands it before a - WINDOW_TOL: not useful. R over [t, a] only shrinks as t grows, so
    `until` stays valid for later shot times (the kernel caches it), and t_star > until
    because slant(p(a)) <= R. (Before issue 11 tol lacked INTERCEPT_TOL: in the last
    microsecond before `until` solving could find the shot useful while this said too early.)

    When the threat cannot outrun the interceptor from t_from on (V = speed_bound_mps(t_from)
    < speed), until = t_star - (1 + V/speed)(WINDOW_TOL + 2 x INTERCEPT_TOL) instead, nearly
    always later, and no slant bound to compute: early_answer_until_s's proof with V from
    t_from (every intercept of a shot at s >= t_from comes after t_from) shows that
    intercept_time_s lands every such shot before a - WINDOW_TOL, so solving answers
    wake_at(t_star) too: without sampling for an outrun (the speed bound only falls with time)
    and never +inf (the root lies before a). V only falls as t_from grows, so this until also
    stays valid for later shot times."""
    v_max = speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s)
    if v_max < speed_mps:
        t_star = arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s,
                                     unit_e, unit_n, launch_delay_s, speed_mps)
        until = too_early_until_s(t_star, v_max, speed_mps)
        if t_from_s >= until:
            return -math.inf, math.nan
        return until, t_star
    r_bound = slant_bound_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, window_start_s,
                            unit_e, unit_n)
    until = (window_start_s - (WINDOW_TOL_S + INTERCEPT_TOL_S) - launch_delay_s
             - r_bound / speed_mps)
    if t_from_s >= until:
        return -math.inf, math.nan
    return until, arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s,
                                      unit_e, unit_n, launch_delay_s, speed_mps)


@njit(**JIT)
def earliest_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                         window_start_s, window_end_s, unit_e, unit_n,
                         is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """t_from if a shot now is useful; +inf if no shot at t_from or later can be useful;
    otherwise a wake-up time t_w > t_from at which to ask again, never later than the earliest
    useful shot if there is one (and equal to it for lasers and for threats that cannot outrun
    the interceptor). A wake-up may also be returned when, as asking again then shows, no shot
    is useful: a laser waiting for its window is told the window start without integrating a
    dwell, and a missile lands before the window whatever it does until then.

    A wake-up is never closer than 1 ms to t_from, so time always moves forward."""
    if math.isnan(window_start_s) or t_from_s > window_end_s:
        return math.inf
    if is_laser:
        if t_from_s < window_start_s:
            return window_start_s
    else:
        until, t_star = early_shot_bound(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                         window_start_s, unit_e, unit_n, launch_delay_s,
                                         speed_mps)
        if t_from_s < until:
            return wake_at(t_star, t_from_s)
    return earliest_shot_by_intercept_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                        window_start_s, window_end_s, unit_e, unit_n, is_laser,
                                        launch_delay_s, speed_mps, dwell_s, dwell_ref_m)


@njit(**JIT)
def earliest_shot_by_intercept_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                 window_start_s, window_end_s, unit_e, unit_n,
                                 is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """earliest_shot_time_s once the quick answers are ruled out: solve the shot now.

    For a laser t_from >= a here. +inf from this function means +inf at every later time too
    (fact 2 of the module docstring; the dwell end grows with its start)."""
    return earliest_shot_and_effect_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                                      window_start_s, window_end_s, unit_e, unit_n, is_laser,
                                      launch_delay_s, speed_mps, dwell_s, dwell_ref_m)[0]


@njit(**JIT)
def earliest_shot_and_effect_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                               window_start_s, window_end_s, unit_e, unit_n,
                               is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """earliest_shot_by_intercept_s, and when a shot at t_from takes effect (the intercept or
    the dwell end; +inf when the answer is +inf)."""
    t_effect = shot_end_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, unit_e, unit_n,
                               is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m,
                               window_end_s)
    if t_effect > window_end_s:
        return math.inf, math.inf
    if shot_is_feasible(t_from_s, t_effect, window_start_s, window_end_s, is_laser):
        return t_from_s, t_effect
    # A missile that would intercept before the window opens: every useful shot is fired at or
    # after max over t <= a of F(t) (fact 2); F(a) is that maximum when F is monotone.
    t_star = arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s,
                                 unit_e, unit_n, launch_delay_s, speed_mps)
    if speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_effect) >= speed_mps:
        # F may peak inside (t_effect, a): take the best of a few samples, a lower bound of the
        # maximum (the next decision re-solves from there: the interval shrinks every time).
        step = (window_start_s - t_effect) / OUTRUN_SAMPLES
        for k in range(1, OUTRUN_SAMPLES):
            t_star = max(t_star, arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                                     t_effect + k * step, unit_e, unit_n,
                                                     launch_delay_s, speed_mps))
    return wake_at(t_star, t_from_s), t_effect


@njit(**JIT)
def early_answer_until_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s, t_shot_s, t_effect_s,
                         window_start_s, unit_e, unit_n, launch_delay_s, speed_mps):
    """For a missile or gun whose shot at t_from intercepts too early (at t_effect < a, as
    intercept_time_s computes it) and whose wake-up earliest_shot_time_s gave as t_shot:
    earliest_shot_time_s gives that same wake-up from any t in [t_from, until). t_from when
    that cannot be shown (the caller asks again at the next decision).

    Proof. Only for t_shot = F(a) (the closed form of the module docstring) and V < speed, V
    bounding the threat's speed from t_effect - tol on. Every later shot s intercepts at
    t_i(s) >= t_effect - tol (fact 2), where F's slope is in [1 - V/speed, 1 + V/speed], so
    t_i(s) <= a - (F(a) - s) / (1 + V/speed) (t_i(F(a)) = a), and intercept_time_s returns at
    most tol more. For s < until = F(a) - (1 + V/speed)(WINDOW_TOL + 2 tol) that lands before
    a - WINDOW_TOL: too early, so earliest_shot_time_s answers F(a) again, by early_shot_bound
    or by solving (whose speed bound from the later intercept is <= V < speed)."""
    t_star = arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s,
                                 unit_e, unit_n, launch_delay_s, speed_mps)
    if t_shot_s != t_star or not t_effect_s < window_start_s:
        return t_from_s
    v_max = speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_effect_s - INTERCEPT_TOL_S)
    if v_max >= speed_mps:
        return t_from_s
    return max(t_from_s, too_early_until_s(t_star, v_max, speed_mps))


@njit(**JIT, inline="always")
def too_early_until_s(t_star_s, v_max_mps, speed_mps):
    """t_star - (1 + V/speed)(WINDOW_TOL + 2 INTERCEPT_TOL): for a threat slower than the
    interceptor (V < speed) after the shots in question, every shot before this lands before
    a - WINDOW_TOL as intercept_time_s computes it (early_answer_until_s's proof; also used by
    early_shot_bound)."""
    return t_star_s - (1.0 + v_max_mps / speed_mps) * (WINDOW_TOL_S + 2.0 * INTERCEPT_TOL_S)


@njit(**JIT)
def useful_until_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_shot_s, t_effect_s,
                   window_start_s, window_end_s, speed_mps):
    """For a useful missile or gun shot at t_shot whose interceptor arrives at t_effect (as
    intercept_time_s computes it): every shot fired in [t_shot, until) is useful too, as
    intercept_time_s computes it. t_shot when that cannot be shown (then the caller solves).

    Proof. Let V < speed bound the threat's speed from t_effect - tol on (tol: the intercept
    tolerance) and t_i(s) the exact intercept of a shot at s. t_i is the inverse of
    F(t) = t - delay - slant(t)/speed, whose slope is >= 1 - V/speed > 0 there, so for s >= t_shot
    t_i(s) <= t_i(t_shot) + (s - t_shot) speed/(speed - V) (fact 2: t_i(s) >= t_i(t_shot) >=
    t_effect - tol, so V holds). intercept_time_s returns the upper end of a bracket of width
    <= tol around t_i, so its value at s is at most t_effect + tol + (s - t_shot) speed/(speed - V),
    which is <= b for s < until = t_shot + (b - t_effect - 2 tol)(1 - V/speed). And at least
    t_i(s) >= t_i(t_shot) >= t_effect - tol >= a - WINDOW_TOL when t_effect >= a - WINDOW_TOL + 2 tol.
    So every such shot lands inside [a - WINDOW_TOL, b]. (The quick answers before the solve
    agree: early_shot_bound and always_too_late are proofs about the same exact t_i.)"""
    if t_effect_s < window_start_s - WINDOW_TOL_S + 2.0 * INTERCEPT_TOL_S:
        return t_shot_s
    slack_s = window_end_s - t_effect_s - 2.0 * INTERCEPT_TOL_S
    if slack_s <= 0.0:
        return t_shot_s
    v_max = speed_bound_mps(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_effect_s - INTERCEPT_TOL_S)
    if v_max >= speed_mps:
        return t_shot_s
    return t_shot_s + slack_s * (1.0 - v_max / speed_mps)


@njit(**JIT)
def wake_at(t_star_s, t_from_s):
    """The wake-up for a missile whose useful shots start at t_star (closed form): t_star itself
    when it is later than now (a useful interval may be shorter than a millisecond), else 1 ms
    on, so that time always moves forward."""
    return t_star_s if t_star_s > t_from_s else t_from_s + MIN_WAKE_STEP_S


@njit(**JIT, inline="always")
def search_start_s(is_laser, t_from_s, window_start_s):
    """Where first_useful_shot_s's search from t_from starts: a laser starts no dwell before
    its window opens (earliest_shot_time_s tells it the window start), so max(t_from, a);
    any other weapon at t_from. Two searches with the same start give the same answer."""
    if is_laser and not math.isnan(window_start_s):
        return max(t_from_s, window_start_s)
    return t_from_s


@njit(**JIT)
def first_useful_shot_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from_s,
                        window_start_s, window_end_s, unit_e, unit_n,
                        is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m):
    """The shot time the engines reach from t_from by asking earliest_shot_time_s again at each
    wake-up (what a unit with nothing else to do would fire at), or +inf.

    For a laser that is s = max(t_from, a) if the dwell started at s ends by b, else +inf;
    settled_laser_shot decides most cases without integrating (the kernel's laser rule; the
    not-engaged reasons ask this for every unengaged threat)."""
    t = search_start_s(is_laser, t_from_s, window_start_s)
    if is_laser and not math.isnan(window_start_s) and t <= window_end_s:
        t_shot = settled_laser_shot(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t, window_end_s,
                                    unit_e, unit_n, dwell_s, dwell_ref_m)[0]
        if not math.isnan(t_shot):
            return t_shot
    for _ in range(INTERCEPT_SCAN_MAX_STEPS):
        t_next = earliest_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t, window_start_s,
                                      window_end_s, unit_e, unit_n, is_laser, launch_delay_s,
                                      speed_mps, dwell_s, dwell_ref_m)
        if t_next == t or t_next == math.inf:
            return t_next
        t = t_next
    return math.inf


@njit(**JIT)
def latest_useful_shot_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s, window_end_s,
                         unit_e, unit_n, is_laser, launch_delay_s, speed_mps, dwell_s,
                         dwell_ref_m):
    """The last time a shot can still be useful (-inf if none): for missiles and guns the shot
    that arrives at the window end, F(b) = b - delay - slant(p(b))/speed (exact when the threat
    cannot outrun the interceptor); for lasers the latest start whose dwell ends by b
    (bisection: the dwell end grows with its start)."""
    if math.isnan(window_start_s):
        return -math.inf
    if not is_laser:
        return arrival_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_end_s,
                                   unit_e, unit_n, launch_delay_s, speed_mps)
    if laser_dwell_end_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, window_start_s, unit_e, unit_n,
                         dwell_s, dwell_ref_m, window_end_s) > window_end_s:
        return -math.inf
    lo, hi = window_start_s, window_end_s
    for _ in range(INTERCEPT_MAX_ITER):
        if hi - lo <= INTERCEPT_TOL_S:
            break
        mid = 0.5 * (lo + hi)
        if laser_dwell_end_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, mid, unit_e, unit_n,
                             dwell_s, dwell_ref_m, window_end_s) <= window_end_s:
            lo = mid
        else:
            hi = mid
    return lo
