"""Polygons as flat vertex arrays: point-in-polygon and point-to-polygon distance (njit).

Polygon i is vertices vert_start[i] .. vert_start[i+1]-1 of (vert_e, vert_n), not closed.
"""
import math

from numba import njit

from salvosim.engine.jit import JIT


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


@njit(**JIT)
def distance_to_polygon_m(e, n, vert_e, vert_n, first, stop):
    """Distance from a point to a filled polygon: 0 inside, else distance to the nearest edge."""
    if point_in_polygon(e, n, vert_e, vert_n, first, stop):
        return 0.0
    best = math.inf
    k_prev = stop - 1
    for k in range(first, stop):
        ax, ay = vert_e[k_prev], vert_n[k_prev]
        bx, by = vert_e[k], vert_n[k]
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        f = 0.0
        if len2 > 0.0:
            f = min(1.0, max(0.0, ((e - ax) * dx + (n - ay) * dy) / len2))
        d = math.hypot(e - (ax + f * dx), n - (ay + f * dy))
        if d < best:
            best = d
        k_prev = k
    return best
