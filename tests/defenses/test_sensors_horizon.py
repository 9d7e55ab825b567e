"""Sensor range rules (MODEL.md §4): 4/3-Earth radar horizon and the radar equation."""
import math

import pytest

from salvosim.defenses.sensors import detection_range_m, radar_horizon_m, sees_point


def test_radar_horizon_is_4120_times_the_sum_of_square_roots_of_the_heights():
    for h_s, z in [(5.0, 30.0), (6.0, 100.0), (8.0, 3000.0), (0.0, 50.0), (10.0, 0.0)]:
        assert radar_horizon_m(h_s, z) == pytest.approx(4120.0 * (math.sqrt(h_s) + math.sqrt(z)))


def test_a_5_m_radar_sees_a_30_m_target_to_about_32_km():
    assert radar_horizon_m(5.0, 30.0) == pytest.approx(32_000.0, rel=0.01)


def test_a_5_m_radar_sees_a_100_m_target_to_about_50_km():
    assert radar_horizon_m(5.0, 100.0) == pytest.approx(50_000.0, rel=0.01)


def test_radar_horizon_grows_with_target_height():
    ranges = [radar_horizon_m(5.0, z) for z in (10.0, 50.0, 150.0, 3000.0)]
    assert ranges == sorted(ranges)


def test_ten_times_smaller_rcs_gives_0_5623_times_the_range():
    r = detection_range_m(40_000.0, 0.1, 1.0, True)
    assert r / 40_000.0 == pytest.approx(10 ** -0.25)
    assert r / 40_000.0 == pytest.approx(0.5623, abs=1e-4)


def test_detection_range_follows_the_fourth_root_of_rcs():
    for rcs in (0.01, 0.05, 0.5, 2.0, 16.0):
        assert detection_range_m(10_000.0, rcs, 1.0, True) == pytest.approx(10_000.0 * rcs ** 0.25)
    # the reference RCS gives the reference range
    assert detection_range_m(16_000.0, 0.1, 0.1, True) == pytest.approx(16_000.0)


def test_passive_sensors_keep_their_range_whatever_the_rcs():
    for rcs in (0.001, 0.1, 10.0):
        assert detection_range_m(8_000.0, rcs, 1.0, False) == 8_000.0


def test_a_low_drone_is_seen_only_inside_the_radar_horizon():
    h_s, z = 5.0, 30.0
    horizon = radar_horizon_m(h_s, z)
    big_range = 10 * horizon   # range is not the limit here: the horizon is
    assert sees_point(horizon - 10.0, 0.0, z, h_s, big_range, 0.0, 360.0)
    assert not sees_point(horizon + 10.0, 0.0, z, h_s, big_range, 0.0, 360.0)


def test_a_target_on_the_ground_is_never_seen():
    assert not sees_point(1_000.0, 0.0, 0.0, 5.0, 10_000.0, 0.0, 360.0)


def test_detection_range_is_a_slant_range():
    # a target 3 km up and 9 km away is at slant range ~9.49 km
    slant = math.hypot(9_000.0, 3_000.0 - 5.0)
    assert sees_point(9_000.0, 0.0, 3_000.0, 5.0, slant + 1.0, 0.0, 360.0)
    assert not sees_point(9_000.0, 0.0, 3_000.0, 5.0, slant - 1.0, 0.0, 360.0)


def test_a_sector_radar_sees_only_inside_its_sector():
    # 120 deg sector facing east (90): covers bearings 30..150
    assert sees_point(10_000.0, 0.0, 500.0, 6.0, 150_000.0, 90.0, 120.0)       # east
    assert not sees_point(-10_000.0, 0.0, 500.0, 6.0, 150_000.0, 90.0, 120.0)  # west
    assert not sees_point(0.0, 10_000.0, 500.0, 6.0, 150_000.0, 90.0, 120.0)   # north
