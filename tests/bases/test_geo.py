"""The geographic frame (MODEL.md §1): spherical azimuthal-equidistant projection about the
base's reference point, R = 6,371 km. Distance and bearing from the origin are preserved."""
import math

import pytest

from salvosim.bases.geo import (
    bearing_of_en_deg,
    bearing_range_to_en,
    en_to_latlon,
    great_circle_m,
    initial_bearing_deg,
    latlon_to_en,
)

R_M = 6_371_000.0
AL_ASAD = (33.786, 42.441)
ERBIL = (36.238, 43.963)


def haversine_m(lat1, lon1, lat2, lon2):
    """Independent reference: haversine on the sphere R = 6,371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_M * math.asin(math.sqrt(h))


def reference_bearing_deg(lat1, lon1, lat2, lon2):
    """Independent reference: initial great-circle bearing (forward azimuth)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(math.sin(dl) * math.cos(p2), x)) % 360.0


def test_one_degree_of_latitude_is_111_195_km_on_the_6371_km_sphere():
    east, north = latlon_to_en(34.786, 42.441, *AL_ASAD)
    assert east == pytest.approx(0.0, abs=1e-6)
    assert north == pytest.approx(111_194.93, abs=0.5)
    assert 2 * math.pi * R_M / 360 == pytest.approx(111_194.93, abs=0.01)


def test_al_asad_to_erbil_is_about_304_km_in_the_local_frame():
    reference = haversine_m(*AL_ASAD, *ERBIL)
    assert reference == pytest.approx(304_000, abs=2_000)
    east, north = latlon_to_en(*ERBIL, *AL_ASAD)
    assert math.hypot(east, north) == pytest.approx(reference, rel=1e-9)
    assert great_circle_m(*AL_ASAD, *ERBIL) == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("target", [ERBIL, (33.506, 38.618), (33.30, 44.39), (34.5, 46.5),
                                    (29.0, 47.0)])
def test_the_projection_preserves_distance_and_bearing_from_the_origin(target):
    east, north = latlon_to_en(*target, *AL_ASAD)
    assert math.hypot(east, north) == pytest.approx(haversine_m(*AL_ASAD, *target), rel=1e-9)
    expected = reference_bearing_deg(*AL_ASAD, *target)
    assert bearing_of_en_deg(east, north) == pytest.approx(expected, abs=1e-9)
    assert initial_bearing_deg(*AL_ASAD, *target) == pytest.approx(expected, abs=1e-9)


def test_erbil_lies_north_north_east_of_al_asad():
    east, north = latlon_to_en(*ERBIL, *AL_ASAD)
    assert east > 0 and north > 0
    assert 20.0 < bearing_of_en_deg(east, north) < 30.0


@pytest.mark.parametrize("east, north", [(0.0, 0.0), (1_000.0, 0.0), (-3_500.0, 2_250.0),
                                         (246_202.0, 43_412.0), (-26_047.0, 147_721.0),
                                         (413_619.0, 72_932.0), (0.0, -500_000.0)])
def test_en_to_latlon_inverts_latlon_to_en(east, north):
    lat, lon = en_to_latlon(east, north, *AL_ASAD)
    e2, n2 = latlon_to_en(lat, lon, *AL_ASAD)
    assert e2 == pytest.approx(east, abs=1e-4)
    assert n2 == pytest.approx(north, abs=1e-4)


def test_latlon_round_trip_through_the_local_frame():
    e, n = latlon_to_en(*ERBIL, *AL_ASAD)
    assert en_to_latlon(e, n, *AL_ASAD) == pytest.approx(ERBIL, abs=1e-10)


@pytest.mark.parametrize("bearing, east, north", [(0.0, 0.0, 1.0), (90.0, 1.0, 0.0),
                                                  (180.0, 0.0, -1.0), (270.0, -1.0, 0.0),
                                                  (45.0, math.sqrt(0.5), math.sqrt(0.5)),
                                                  (-90.0, -1.0, 0.0), (450.0, 1.0, 0.0)])
def test_bearing_range_to_en_measures_bearings_clockwise_from_north(bearing, east, north):
    e, n = bearing_range_to_en(bearing, 8_000.0)
    assert (e, n) == pytest.approx((8_000.0 * east, 8_000.0 * north), abs=1e-9)
    assert math.hypot(e, n) == pytest.approx(8_000.0)
    assert bearing_of_en_deg(e, n) == pytest.approx(bearing % 360.0, abs=1e-9)


def test_a_launch_given_by_bearing_and_range_lands_at_that_great_circle_distance():
    # bearing_deg + range_km in a scenario is a ground range along the great circle
    e, n = bearing_range_to_en(80.0, 420_000.0)
    lat, lon = en_to_latlon(e, n, *AL_ASAD)
    assert haversine_m(*AL_ASAD, lat, lon) == pytest.approx(420_000.0, rel=1e-9)
    assert reference_bearing_deg(*AL_ASAD, lat, lon) == pytest.approx(80.0, abs=1e-9)
