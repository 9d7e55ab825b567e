"""Sensor detection (MODEL.md §4): RCS^(1/4) range scaling, 4/3-Earth horizon, sector.

Threat j is detected at the first time t at which its class is tracked, slant range <= R_det,
ground range <= 4120 (sqrt(h_s) + sqrt(z)), z > 0 and the bearing is inside the sector.
On constant-altitude segments (cruise legs) every condition is a circle or a sector edge, so
the first time is exact (line-circle roots). Where the altitude varies (ballistic arcs, dives)
the pieces of the segment within detection range (and horizon) and inside the sector are
sampled uniformly (step min(0.5 s, T/400, piece / 8), T the time of flight) and the first crossing
bisected to 1 ms. Both engines call these functions.
"""
import math

import numpy as np
from numba import njit

from salvosim.defenses.envelope import (
    add_circle_crossings,
    add_sector_crossings,
    in_range_band,
    in_sector,
    in_sector_by_edges,
    sector_edges,
    sort_prefix,
)
from salvosim.engine.constants import BISECT_MAX_ITER, BISECT_TOL_S, HORIZON_K_M, ROOTS_START
from salvosim.engine.jit import JIT
from salvosim.threats.trajectory import SEG_BULGE_M, flown_piece, position_at


@njit(**JIT)
def radar_horizon_m(sensor_height_m, target_height_m):
    """Ground range to the 4/3-Earth radar horizon for two heights above ground."""
    return HORIZON_K_M * (math.sqrt(max(sensor_height_m, 0.0)) + math.sqrt(max(target_height_m, 0.0)))


@njit(**JIT)
def detection_range_m(range_ref_m, rcs_m2, rcs_ref_m2, rcs_scaling):
    """Radar equation: R_det = R_ref (sigma / sigma_ref)^(1/4); passive sensors do not scale."""
    if not rcs_scaling:
        return range_ref_m
    return range_ref_m * (rcs_m2 / rcs_ref_m2) ** 0.25


@njit(**JIT)
def sees_point(d_east, d_north, z_m, sensor_h_m, r_det_m, facing_deg, width_deg):
    if z_m <= 0.0:
        return False
    ground2 = d_east * d_east + d_north * d_north
    if ground2 + (z_m - sensor_h_m) ** 2 > r_det_m * r_det_m:
        return False
    if math.sqrt(ground2) > radar_horizon_m(sensor_h_m, z_m):
        return False
    return in_sector(d_east, d_north, facing_deg, width_deg)


@njit(**JIT)
def _sees_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s, se, sn, sh, r_det, facing, width):
    e, n, z = position_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_s)
    return sees_point(e - se, n - sn, z, sh, r_det, facing, width)


@njit(**JIT)
def first_sighting_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_lo, t_hi, step_s,
                     se, sn, sh, r_det, facing, width):
    """Uniform samples over [t_lo, t_hi] (at least 8 steps: a piece bounded by a sector edge
    can be shorter than the sampling step), then bisection of the first crossing to 1 ms."""
    step_s = min(step_s, (t_hi - t_lo) / 8.0) if t_hi > t_lo else step_s
    n_steps = int(math.ceil((t_hi - t_lo) / step_s)) if t_hi > t_lo else 0
    t_prev = t_lo
    for i in range(n_steps + 1):
        t_i = min(t_lo + i * step_s, t_hi)
        if _sees_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_i, se, sn, sh, r_det, facing, width):
            if i == 0:
                return t_i
            lo, hi = t_prev, t_i
            for _ in range(BISECT_MAX_ITER):
                if hi - lo <= BISECT_TOL_S:
                    break
                mid = 0.5 * (lo + hi)
                if _sees_at(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, mid, se, sn, sh, r_det,
                            facing, width):
                    hi = mid
                else:
                    lo = mid
            return hi
        t_prev = t_i
    return math.inf


@njit(**JIT)
def detection_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_end_s,
                     sensor_e, sensor_n, sensor_h_m, r_det_m, facing_deg, width_deg, buf):
    """First time <= t_end at which the sensor sees threat j, or +inf."""
    flight_s = pt_t[j, n_pts[j] - 1] - pt_t[j, 0]
    step = min(0.5, flight_s / 400.0)
    edges = sector_edges(facing_deg, width_deg)
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for k in range(n_pts[ju] - 1):
        tk, dur, t_stop, s_stop = flown_piece(pt_t, j, k, t_end_s)
        if s_stop < 0.0:
            break
        if s_stop == 0.0:
            continue
        k0, k1 = np.uint64(k), np.uint64(k + 1)
        z0, z1, h = pt_z[ju, k0], pt_z[ju, k1], seg[ju, k0, SEG_BULGE_M]
        level = z0 == z1 and h == 0.0
        if level:
            # Constant altitude: range and horizon make one circle; the answer is exact.
            r2 = r_det_m * r_det_m - (z0 - sensor_h_m) ** 2
            if z0 <= 0.0 or r2 < 0.0:
                continue
            radius = min(math.sqrt(r2), radar_horizon_m(sensor_h_m, z0))
        else:
            # Varying altitude: slant range >= ground range, and no point is higher than
            # `top`, so only pieces within this circle (and the sector) need sampling.
            top = max(z0, z1) + max(h, 0.0)
            radius = min(r_det_m, radar_horizon_m(sensor_h_m, top))
        e0, n0 = pt_e[ju, k0], pt_n[ju, k0]
        de, dn = pt_e[ju, k1] - e0, pt_n[ju, k1] - n0
        d0e, d0n = e0 - sensor_e, n0 - sensor_n
        buf[0] = 0.0
        buf[1] = s_stop
        m = add_circle_crossings(buf, ROOTS_START, d0e, d0n, de, dn, radius, s_stop)
        m = add_sector_crossings(buf, m, d0e, d0n, de, dn, edges, width_deg, s_stop)
        sort_prefix(buf, m)
        for i in range(m - 1):
            s_lo, s_hi = buf[np.uint64(i)], buf[np.uint64(i + 1)]
            s_mid = 0.5 * (s_lo + s_hi)
            ge, gn = d0e + de * s_mid, d0n + dn * s_mid
            if (s_hi - s_lo <= 1e-12 or not in_range_band(ge, gn, 0.0, radius)
                    or not in_sector_by_edges(ge, gn, edges, facing_deg, width_deg)):
                continue
            if level:
                return tk + s_lo * dur
            t_hit = first_sighting_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, tk + s_lo * dur,
                                     min(tk + s_hi * dur, t_stop), step, sensor_e, sensor_n,
                                     sensor_h_m, r_det_m, facing_deg, width_deg)
            if t_hit < math.inf:
                return t_hit
    return math.inf


@njit(**JIT)
def detection_lower_bound_s(pt_e, pt_n, pt_t, j, v_ground_max_mps, sensor_e, sensor_n,
                            r_det_m):
    """A time before which the sensor cannot detect threat j: detection needs slant range,
    hence ground range, <= R_det, and the ground track starts at the launch point and moves at
    most v_ground_max. d0 is the square root of the sum of squares that sees_point compares
    with R_det^2 (cheaper than hypot; this runs for every sensor and threat). Lowered by 10 ms
    against rounding (detection_time_s bisects to 1 ms): d0 is within an ulp (< 1e-9 m at
    5,000 km), which 10 ms covers at any ground speed above 1e-6 m/s."""
    d_e, d_n = pt_e[j, 0] - sensor_e, pt_n[j, 0] - sensor_n
    d0 = math.sqrt(d_e * d_e + d_n * d_n)
    if d0 <= r_det_m:
        return -math.inf
    if v_ground_max_mps <= 0.0:
        return math.inf
    return pt_t[j, 0] + (d0 - r_det_m) / v_ground_max_mps - 0.01
