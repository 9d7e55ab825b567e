"""Engagement windows in closed form (MODEL.md §5).

The window of unit u against threat j is the first interval of flight time (before impact or
failure) during which the threat is inside u's envelope: ground range band, altitude band and
sector. On every trajectory segment the ground track is a straight line and the altitude a
quadratic, so each boundary crossing is a root of a polynomial of degree <= 2 (line-circle for
ranges, quadratic for altitude, line-ray for sector edges). Between consecutive roots
membership cannot change, so one test at each sub-interval's midpoint decides it: exact.
"""
import math

import numpy as np
from numba import njit

from salvosim.bases.areas import clearly_below_sq
from salvosim.engine.constants import ROOTS_START
from salvosim.engine.jit import INTERNAL, JIT
from salvosim.threats.trajectory import SEG_BULGE_M, flown_piece, segment_altitude_m

_EPS_S = 1e-12


@njit(**JIT)
def in_sector(d_east, d_north, facing_deg, width_deg):
    """Is the direction (d_east, d_north) within width/2 of the facing azimuth?"""
    if width_deg >= 360.0:
        return True
    az = math.degrees(math.atan2(d_east, d_north))
    diff = (az - facing_deg + 540.0) % 360.0 - 180.0
    return abs(diff) <= 0.5 * width_deg


@njit(**JIT)
def add_roots(buf, n, qa, qb, qc, s_max):
    """Append the roots of qa s^2 + qb s + qc = 0 that lie strictly inside (0, s_max)."""
    if abs(qa) < 1e-300:
        if abs(qb) > 1e-300:
            s = -qc / qb
            if 0.0 < s < s_max:
                buf[np.uint64(n)] = s      # unsigned: no wraparound code
                n += 1
        return n
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return n
    root = math.sqrt(disc)
    # Numerically stable pair of roots.
    q = -0.5 * (qb + math.copysign(root, qb))
    s1 = q / qa
    s2 = qc / q if q != 0.0 else s1
    if 0.0 < s1 < s_max:
        buf[np.uint64(n)] = s1
        n += 1
    if 0.0 < s2 < s_max and s2 != s1:
        buf[np.uint64(n)] = s2
        n += 1
    return n


@njit(**JIT)
def add_circle_crossings(buf, n, d0e, d0n, de, dn, radius_m, s_max):
    """Roots of |d0 + d s| = radius (ground line against a circle about the unit)."""
    return add_roots(buf, n, de * de + dn * dn, 2.0 * (d0e * de + d0n * dn),
                     d0e * d0e + d0n * d0n - radius_m * radius_m, s_max)


@njit(**JIT)
def add_altitude_crossings(buf, n, z0, z1, bulge_m, level_m, s_max):
    """Roots of z(s) = level on a segment (quadratic with bulge, linear without)."""
    return add_roots(buf, n, -4.0 * bulge_m, z1 - z0 + 4.0 * bulge_m, z0 - level_m, s_max)


@njit(**JIT)
def sector_edges(facing_deg, width_deg):
    """(east, north) unit vectors of a sector's two edges, facing -/+ width/2 (computed once
    per window or detection, not per segment); zeros for an all-round one (no edges)."""
    if width_deg >= 360.0:
        return 0.0, 0.0, 0.0, 0.0
    az_lo = math.radians(facing_deg - 0.5 * width_deg)
    az_hi = math.radians(facing_deg + 0.5 * width_deg)
    return math.sin(az_lo), math.cos(az_lo), math.sin(az_hi), math.cos(az_hi)


@njit(**JIT, inline="always")
def in_sector_by_edges(d_east, d_north, edges, facing_deg, width_deg):
    """in_sector from the sector's edge vectors (sector_edges), without atan2 and fmod: the
    sines of the bearing's angles past the low edge and short of the high edge are
    lo = sin(az - az_lo) and hi = sin(az_hi - az) (times |d|). A sector of width <= 180 deg
    holds the bearings with both >= 0; a wider one those with either >= 0 (the rest, its
    complement, is a sector narrower than 180 deg). The two rules differ only within rounding
    of an edge (about 1e-16 rad; tests/defenses/test_geometry.py): engagement_window and
    detection_time_s ask at the midpoints between their roots, which include the edge
    crossings, never that close to an edge (outcomes byte-identical to in_sector's on every
    bundled scenario). The unit's own position (no bearing) keeps in_sector's answer. (About
    2 % of a flagship replication: atan2 and a float modulo per sectored midpoint.)"""
    if width_deg >= 360.0:
        return True
    if d_east == 0.0 and d_north == 0.0:
        return in_sector(d_east, d_north, facing_deg, width_deg)
    lo = d_east * edges[1] - d_north * edges[0]
    hi = d_north * edges[2] - d_east * edges[3]
    if width_deg <= 180.0:
        return lo >= 0.0 and hi >= 0.0
    return lo >= 0.0 or hi >= 0.0


@njit(**JIT)
def add_sector_crossings(buf, n, d0e, d0n, de, dn, edges, width_deg, s_max):
    """Where the ground line crosses the two edge lines of a sector (both rays' lines); edges
    from sector_edges."""
    if width_deg >= 360.0:
        return n
    ue, un = edges[0], edges[1]
    n = add_roots(buf, n, 0.0, de * un - dn * ue, d0e * un - d0n * ue, s_max)
    ue, un = edges[2], edges[3]
    return add_roots(buf, n, 0.0, de * un - dn * ue, d0e * un - d0n * ue, s_max)


@njit(**JIT)
def sort_prefix(buf, n):
    """Insertion sort of buf[:n] (n is tiny)."""
    for i in range(1, n):
        v = buf[np.uint64(i)]           # unsigned indices: no wraparound code
        k = i - 1
        while k >= 0 and buf[np.uint64(k)] > v:
            buf[np.uint64(k + 1)] = buf[np.uint64(k)]
            k -= 1
        buf[np.uint64(k + 1)] = v


@njit(**JIT)
def in_range_band(d_east, d_north, rmin_m, rmax_m):
    """rmin <= hypot(d_east, d_north) <= rmax, from the squares when they clearly decide
    (clearly_below_sq; an rmin of 0 needs no test), else from hypot."""
    r_sq = d_east * d_east + d_north * d_north
    lo_sq, hi_sq = rmin_m * rmin_m, rmax_m * rmax_m
    if clearly_below_sq(hi_sq, r_sq) or clearly_below_sq(r_sq, lo_sq):
        return False
    if (lo_sq == 0.0 or clearly_below_sq(lo_sq, r_sq)) and clearly_below_sq(r_sq, hi_sq):
        return True
    r = math.hypot(d_east, d_north)
    return rmin_m <= r <= rmax_m


@njit(**JIT, inline="always")
def ground_clear_of_m(d0e, d0n, de, dn, s_stop, radius_m):
    """Is the ground line d0 + d s, 0 <= s <= s_stop, farther than radius from the unit at
    every s, by a margin (1e-6 relative and 1 mm) far above the rounding of the points
    engagement_window tests (~1e-15 relative)? Then no sub-interval of the piece is in range
    and the piece can be skipped without changing the window."""
    dd = de * de + dn * dn
    s = 0.0
    if dd > 0.0:
        s = min(max(-(d0e * de + d0n * dn) / dd, 0.0), s_stop)
    pe, pn = d0e + de * s, d0n + dn * s
    clear_m = radius_m * (1.0 + 1e-6) + 1e-3
    return pe * pe + pn * pn > clear_m * clear_m


@njit(**INTERNAL)
def first_interval(a, b, first_a, first_b):
    """The first interval seen: [first_a, first_b], or [a, b] when there is none yet."""
    if math.isnan(first_a):
        return a, b
    return first_a, first_b


@njit(**JIT)
def engagement_window(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_end_s, t_usable_s,
                      unit_e, unit_n, rmin_m, rmax_m, zmin_m, zmax_m, facing_deg, width_deg,
                      buf):
    """The first interval [a, b] of times <= t_end with threat j inside the envelope that ends
    after t_usable (b > t_usable: the unit knows the threat and has reacted before its end),
    or, if none does, the first interval (no shot can use it either).

    MODEL.md §5 takes the first interval: a route that clipped the envelope before the
    threat was tracked then hid every later pass (README, "Modelling choices"). An interval
    that ends by t_usable cannot hold an intercept or a dwell (both come after the shot, at or
    after t_usable), so no usable interval is ever passed over. t_usable = -inf gives the
    first interval. Returns (nan, nan) if the threat never enters the envelope. buf is float
    scratch (>= 16)."""
    a = math.nan
    b = math.nan
    first_a = math.nan
    first_b = math.nan
    edges = sector_edges(facing_deg, width_deg)
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for k in range(n_pts[ju] - 1):
        tk, dur, t_stop, s_stop = flown_piece(pt_t, j, k, t_end_s)
        if s_stop < 0.0:
            break
        if s_stop == 0.0:
            continue
        k0, k1 = np.uint64(k), np.uint64(k + 1)
        e0, n0, z0 = pt_e[ju, k0], pt_n[ju, k0], pt_z[ju, k0]
        de, dn = pt_e[ju, k1] - e0, pt_n[ju, k1] - n0
        z1, h = pt_z[ju, k1], seg[ju, k0, SEG_BULGE_M]
        d0e, d0n = e0 - unit_e, n0 - unit_n
        if ground_clear_of_m(d0e, d0n, de, dn, s_stop, rmax_m):
            if not math.isnan(a):   # the piece is outside: an interval closed before it
                if b > t_usable_s:
                    return a, b
                first_a, first_b = first_interval(a, b, first_a, first_b)
                a = b = math.nan
            continue
        buf[0] = 0.0
        buf[1] = s_stop
        m = ROOTS_START
        m = add_circle_crossings(buf, m, d0e, d0n, de, dn, rmin_m, s_stop)
        m = add_circle_crossings(buf, m, d0e, d0n, de, dn, rmax_m, s_stop)
        m = add_altitude_crossings(buf, m, z0, z1, h, zmin_m, s_stop)
        m = add_altitude_crossings(buf, m, z0, z1, h, zmax_m, s_stop)
        m = add_sector_crossings(buf, m, d0e, d0n, de, dn, edges, width_deg, s_stop)
        sort_prefix(buf, m)
        for i in range(m - 1):
            s_lo, s_hi = buf[np.uint64(i)], buf[np.uint64(i + 1)]
            if s_hi - s_lo <= _EPS_S:
                continue
            s_mid = 0.5 * (s_lo + s_hi)
            d_e, d_n = d0e + de * s_mid, d0n + dn * s_mid
            inside = (zmin_m <= segment_altitude_m(z0, z1, h, s_mid) <= zmax_m
                      and in_range_band(d_e, d_n, rmin_m, rmax_m)
                      and in_sector_by_edges(d_e, d_n, edges, facing_deg, width_deg))
            t_lo = tk + s_lo * dur
            t_hi = t_stop if i == m - 2 else tk + s_hi * dur
            if inside:
                if math.isnan(a):
                    a = t_lo
                b = t_hi
            elif not math.isnan(a):         # an interval closed
                if b > t_usable_s:
                    return a, b
                first_a, first_b = first_interval(a, b, first_a, first_b)
                a = b = math.nan
    if not math.isnan(a) and b > t_usable_s:
        return a, b
    return first_interval(a, b, first_a, first_b)
