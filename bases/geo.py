"""Geographic frame (MODEL.md §1): spherical azimuthal-equidistant projection about the base.

Plain Python/numpy: used once while a scenario is loaded, never in the engines.
x is east, y is north, metres; bearings in degrees clockwise from north.
"""
import math

from salvosim.engine.constants import R_EARTH_M


def great_circle_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Great-circle distance on the sphere R = 6,371 km (haversine)."""
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dp, dl = p2 - p1, math.radians(lon2_deg - lon1_deg)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * R_EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def initial_bearing_deg(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dl = math.radians(lon2_deg - lon1_deg)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def latlon_to_en(lat_deg, lon_deg, lat0_deg, lon0_deg):
    """(east_m, north_m) of a point in the azimuthal-equidistant frame about (lat0, lon0).

    Distance and bearing from the origin are preserved exactly (on the sphere)."""
    d = great_circle_m(lat0_deg, lon0_deg, lat_deg, lon_deg)
    if d == 0.0:
        return 0.0, 0.0
    b = math.radians(initial_bearing_deg(lat0_deg, lon0_deg, lat_deg, lon_deg))
    return d * math.sin(b), d * math.cos(b)


def en_to_latlon(east_m, north_m, lat0_deg, lon0_deg):
    """Inverse of latlon_to_en (destination point along the great circle)."""
    d = math.hypot(east_m, north_m)
    if d == 0.0:
        return lat0_deg, lon0_deg
    b = math.atan2(east_m, north_m)
    delta = d / R_EARTH_M
    p1, l1 = math.radians(lat0_deg), math.radians(lon0_deg)
    p2 = math.asin(math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(delta) * math.cos(p1),
                         math.cos(delta) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def bearing_range_to_en(bearing_deg, range_m):
    """A point at a ground range and bearing from the origin."""
    b = math.radians(bearing_deg)
    return range_m * math.sin(b), range_m * math.cos(b)


def bearing_of_en_deg(east_m, north_m):
    """Bearing of a local point seen from the origin, degrees in [0, 360)."""
    return math.degrees(math.atan2(east_m, north_m)) % 360.0
