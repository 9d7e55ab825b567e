"""Polygons as flat vertex arrays: point-in-polygon and point-to-polygon distance (njit).

Polygon i is vertices vert_start[i] .. vert_start[i+1]-1 of (vert_e, vert_n), not closed.
"""
import math

from numba import njit

from salvosim.engine.jit import JIT


@njit(**JIT, inline="always")
def clearly_below_sq(a_sq, b_sq):
    """Is sqrt(a_sq) below sqrt(b_sq) by far more than the rounding of a square or a hypot
    (< 1e-15 relative)? a_sq < (1 - 1e-9) b_sq, with a_sq a normal number (>= 1e-200: in
    subnormals a square's rounding is unbounded). The one rule by which in_range_band and
    intercept.slant_bound_m (and others) skip a hypot and still return exactly hypot's answer."""
    return a_sq >= 1e-200 and a_sq < b_sq * (1.0 - 1e-9)


@njit(**JIT)
def point_in_polygon(e, n, vert_e, vert_n, first, stop):
    """Even-odd ray casting; points on an edge may fall either way."""
    inside = False
    k_prev = stop - 1
    for k in range(first, stop):
        ek, nk = vert_e[k], vert_n[k]
        ep, np_ = vert_e[k_prev], vert_n[k_prev]
        if (nk > n) != (np_ > n):
            e_cross = ek + (n - nk) * (ep - ek) / (np_ - nk)
            if e < e_cross:
                inside = not inside
        k_prev = k
    return inside


@njit(**JIT, inline="always")
def offset_from_edge(e, n, ax, ay, bx, by):
    """(east, north) from the point of edge a-b nearest to (e, n) to (e, n); a zero-length
    edge is its point a."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    f = 0.0
    if len2 > 0.0:
        f = min(1.0, max(0.0, ((e - ax) * dx + (n - ay) * dy) / len2))
    return e - (ax + f * dx), n - (ay + f * dy)


@njit(**JIT)
def distance_to_polygon_m(e, n, vert_e, vert_n, first, stop):
    """Distance from a point to a filled polygon: 0 inside, else distance to the nearest edge."""
    if point_in_polygon(e, n, vert_e, vert_n, first, stop):
        return 0.0
    best = math.inf
    k_prev = stop - 1
    for k in range(first, stop):
        d_e, d_n = offset_from_edge(e, n, vert_e[k_prev], vert_n[k_prev], vert_e[k], vert_n[k])
        d = math.hypot(d_e, d_n)
        if d < best:
            best = d
        k_prev = k
    return best


@njit(**JIT, inline="always")
def within_reach(d_east, d_north, reach_m):
    """hypot(d_east, d_north) <= reach_m, exactly, without the hypot where the squares
    clearly decide (clearly_below_sq)."""
    if not reach_m >= 0.0:          # (negative or nan: the squares would mislead)
        return math.hypot(d_east, d_north) <= reach_m
    d_sq, reach_sq = d_east * d_east + d_north * d_north, reach_m * reach_m
    if clearly_below_sq(d_sq, reach_sq):
        return True
    if clearly_below_sq(reach_sq, d_sq):
        return False
    return math.hypot(d_east, d_north) <= reach_m


@njit(**JIT)
def within_m_of_polygon(e, n, vert_e, vert_n, first, stop, radius_m):
    """distance_to_polygon_m(e, n, ...) <= radius_m, exactly, and cheaper: the first edge
    within reach decides, and most edges need no hypot (within_reach)."""
    if point_in_polygon(e, n, vert_e, vert_n, first, stop):
        return 0.0 <= radius_m
    if stop <= first:
        return math.inf <= radius_m
    k_prev = stop - 1
    for k in range(first, stop):
        d_e, d_n = offset_from_edge(e, n, vert_e[k_prev], vert_n[k_prev], vert_e[k], vert_n[k])
        if within_reach(d_e, d_n, radius_m):
            return True
        k_prev = k
    return False


def polygon_reach_circle(vert_e, vert_n) -> tuple[float, float, float]:
    """(centre east, centre north, radius) of a circle holding every vertex (so the filled
    polygon): the centre of the bounding box and the farthest vertex from it, the radius widened
    by 1e-9 relative and 1 mm over the rounding of the hypots. No vertices: an infinite radius
    (clear_of_reach never rules anything out)."""
    if len(vert_e) == 0:
        return 0.0, 0.0, math.inf
    c_e = 0.5 * (min(vert_e) + max(vert_e))
    c_n = 0.5 * (min(vert_n) + max(vert_n))
    r = max(math.hypot(e - c_e, n - c_n) for e, n in zip(vert_e, vert_n))
    return c_e, c_n, r * (1.0 + 1e-9) + 1e-3


@njit(**JIT, inline="always")
def clear_of_reach(e, n, centre_e, centre_n, reach_m, radius_m):
    """Is the point farther than radius_m from every point of a polygon held by the circle
    (centre, reach_m) of polygon_reach_circle, by a 1e-6 relative and 1 mm margin (so
    within_m_of_polygon would be False)? Used to skip the polygon's edges; never True for an
    infinite or nan reach."""
    limit_m = (reach_m + radius_m) * (1.0 + 1e-6) + 1e-3
    d_e, d_n = e - centre_e, n - centre_n
    return d_e * d_e + d_n * d_n > limit_m * limit_m

