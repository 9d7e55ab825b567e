"""The shared geometry core against hand-computed cases (MODEL.md §3-5, §9)."""
import math

import numpy as np
import pytest

from salvosim.defenses.envelope import engagement_window, in_sector, in_sector_by_edges, sector_edges
from salvosim.defenses.intercept import earliest_shot_time_s, intercept_time_s, laser_dwell_end_s
from salvosim.defenses.sensors import detection_time_s
from salvosim.engine.constants import HORIZON_K_M
from salvosim.engine.rng import (
    entity_key,
    exponential_of,
    key_normal,
    key_uniform,
    normal_of,
    stream_key,
    uniform_of,
)
from salvosim.threats.trajectory import build_ballistic, build_cruise, new_trajectories, position_at
from tests.scenario_kit import both_engines, site_scenario


def arrays(J=1):
    return list(new_trajectories(J))


def ballistic(launch=(-8000.0, 0.0), impact=(0.0, 0.0), speed=300.0, apogee=1600.0, t0=0.0):
    tr = arrays()
    build_ballistic(*tr, 0, t0, launch[0], launch[1], impact[0], impact[1], speed, apogee)
    return tr


def cruise(launch=(-20000.0, 0.0), impact=(0.0, 0.0), speed=50.0, alt=100.0, dive=500.0,
           ingress=None):
    tr = arrays()
    has, brg, dist = (False, 0.0, 0.0) if ingress is None else (True, math.radians(ingress[0]),
                                                                ingress[1])
    build_cruise(*tr, 0, 0.0, launch[0], launch[1], impact[0], impact[1], speed, alt, dive,
                 has, brg, dist)
    return tr


# ---------------------------------------------------------------------------- random numbers
def test_keyed_uniforms_are_pure_functions_of_their_key():
    assert key_uniform(1, 2, 3, 4, 5) == key_uniform(1, 2, 3, 4, 5)
    keys = {key_uniform(1, r, s, e, k) for r in range(3) for s in range(3) for e in range(3)
            for k in range(3)}
    assert len(keys) == 81


def splitmix_uniform(seed, rep, stream, entity, k):
    """The keyed uniform written out in plain Python integers (a code-free oracle of rng.py):
    five SplitMix64 finaliser rounds, each over the last hash xor (part + golden x i)."""
    mask, golden = (1 << 64) - 1, 0x9E3779B97F4A7C15

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)
    h = mix((seed + golden) & mask)
    for i, part in enumerate((rep, stream, entity, k), start=2):
        h = mix(h ^ ((part + golden * i) & mask))
    return (h >> 11) * 2.0 ** -53


def test_keyed_uniforms_match_splitmix():
    rng = np.random.default_rng(5)
    keys = [(0, 0, 1, 0, 0), (2 ** 63 - 1, 10 ** 6, 13, 9_999, 2 ** 40)] + [
        tuple(int(x) for x in (rng.integers(0, 2 ** 63), rng.integers(0, 10 ** 6),
                               rng.integers(1, 14), rng.integers(0, 10_000),
                               rng.integers(0, 2 ** 32))) for _ in range(300)]
    for seed, rep, stream, entity, k in keys:
        want = splitmix_uniform(seed, rep, stream, entity, k)
        assert key_uniform(seed, rep, stream, entity, k) == want
        # the rounds one by one, as the per-threat draws use them (a stream key per replication)
        # (Numba returns a uint64 key as a Python int: typed back as uint64 here)
        ek = np.uint64(entity_key(np.uint64(stream_key(seed, rep, stream)), entity))
        assert uniform_of(ek, k) == want
        u1, u2 = (splitmix_uniform(seed, rep, stream, entity, i) for i in (0, 1))
        box_muller = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
        assert normal_of(ek) == key_normal(seed, rep, stream, entity) == \
            pytest.approx(box_muller, rel=1e-12, abs=1e-12)
        assert exponential_of(ek, 0.5) == pytest.approx(-2.0 * math.log(1.0 - u1), rel=1e-12)


def test_keyed_uniforms_are_uniform_and_normals_standard():
    u = np.array([key_uniform(9, 0, 1, e, 0) for e in range(20000)])
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / u.size)
    z = np.array([key_normal(9, 0, 2, e) for e in range(20000)])
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1.0) < 4 * math.sqrt(2 / z.size)
    # neighbouring keys are uncorrelated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(u.size)


# ---------------------------------------------------------------------------- trajectories
def test_ballistic_flight_time_is_range_over_speed_and_apogee_is_at_mid_flight():
    tr = ballistic()
    assert tr[3][0, 1] == pytest.approx(8000.0 / 300.0)
    e, n, z = position_at(*tr, 0, 8000.0 / 600.0)
    assert (e, n, z) == pytest.approx((-4000.0, 0.0, 1600.0))
    assert position_at(*tr, 0, 8000.0 / 300.0)[2] == pytest.approx(0.0)


def test_cruise_flies_at_altitude_then_dives_straight_to_the_impact_point():
    tr = cruise()
    pt_e, pt_z, pt_t = tr[0][0], tr[2][0], tr[3][0]
    assert tr[5][0] == 3
    assert pt_e[1] == pytest.approx(-500.0) and pt_z[1] == pytest.approx(100.0)
    assert pt_t[1] == pytest.approx(19500.0 / 50.0)
    assert pt_t[2] - pt_t[1] == pytest.approx(math.hypot(500.0, 100.0) / 50.0)


def test_ingress_waypoint_makes_the_threat_arrive_from_the_ingress_bearing():
    tr = cruise(ingress=(0.0, 10000.0))       # arrive from the north
    assert tr[5][0] == 4
    assert (tr[0][0, 1], tr[1][0, 1]) == pytest.approx((0.0, 10000.0))
    assert (tr[0][0, 2], tr[1][0, 2]) == pytest.approx((0.0, 500.0))


# ---------------------------------------------------------------------------- windows
def test_window_of_a_rocket_against_a_gun_is_bounded_by_max_then_min_range():
    tr = ballistic()
    buf = np.zeros(32)
    a, b = engagement_window(*tr, 0, 1e9, -math.inf, 0.0, 0.0, 200.0, 2000.0, 0.0, 1500.0, 0.0, 360.0, buf)
    assert a == pytest.approx(6000.0 / 300.0)      # ground range 2 km
    assert b == pytest.approx(7800.0 / 300.0)      # ground range 200 m


def test_window_start_waits_for_the_altitude_floor_and_ends_at_failure():
    tr = ballistic()
    buf = np.zeros(32)
    # z = 4 H s (1 - s) = 1000 m on the way up at s = (1 - sqrt(1 - 1000/1600)) / 2
    s_up = (1 - math.sqrt(1 - 1000.0 / 1600.0)) / 2
    a, b = engagement_window(*tr, 0, 10.0, -math.inf, 0.0, 0.0, 0.0, 1e6, 1000.0, 1e6, 0.0, 360.0, buf)
    assert a == pytest.approx(s_up * 8000.0 / 300.0) and b == pytest.approx(10.0)


def test_window_is_empty_outside_the_sector():
    tr = ballistic()                                 # comes from the west
    buf = np.zeros(32)
    a, _ = engagement_window(*tr, 0, 1e9, -math.inf, 0.0, 0.0, 200.0, 2000.0, 0.0, 1500.0, 90.0, 120.0, buf)
    assert math.isnan(a)
    a, _ = engagement_window(*tr, 0, 1e9, -math.inf, 0.0, 0.0, 200.0, 2000.0, 0.0, 1500.0, 270.0, 120.0, buf)
    assert a == pytest.approx(20.0)


@pytest.mark.parametrize("width", [1.0, 60.0, 120.0, 179.5, 180.0, 180.5, 270.0, 359.0, 360.0])
def test_sector_test_by_edges_is_the_bearing_rule(width):
    """in_sector_by_edges (cross products with the edge vectors, what the windows and
    detections ask at their midpoints) against in_sector (atan2 of the bearing) and against
    the angle itself, on bearings all round (edges included: the rules may differ only within
    1e-9 deg of one), at distances from 1 mm to 1,000 km, and at the unit itself."""
    rng = np.random.default_rng(int(width * 10))
    for facing in rng.uniform(-720.0, 720.0, 8):
        edges = np.array(sector_edges(facing, width))
        azimuths = np.concatenate([rng.uniform(0.0, 360.0, 400),
                                   [facing - width / 2, facing + width / 2, facing,
                                    facing + 180.0]])
        for az, r in zip(azimuths, 10.0 ** rng.uniform(-3.0, 6.0, len(azimuths))):
            d_e, d_n = r * math.sin(math.radians(az)), r * math.cos(math.radians(az))
            off = abs((az - facing + 540.0) % 360.0 - 180.0)     # degrees from the facing
            by_edges = in_sector_by_edges(d_e, d_n, edges, facing, width)
            if abs(off - width / 2) > 1e-9:
                assert by_edges == (off <= width / 2) == in_sector(d_e, d_n, facing, width)
        assert (in_sector_by_edges(0.0, 0.0, edges, facing, width)
                == in_sector(0.0, 0.0, facing, width))


# ---------------------------------------------------------------------------- detection
@pytest.mark.parametrize("h_s,z", [(5.0, 30.0), (5.0, 100.0), (20.0, 150.0), (8.0, 3000.0)])
def test_radar_horizon_sets_the_first_detection_range_of_a_low_drone(h_s, z):
    tr = cruise(launch=(-400000.0, 0.0), alt=z, speed=50.0)
    t = detection_time_s(*tr, 0, 1e9, 0.0, 0.0, h_s, 1e7, 0.0, 360.0, np.zeros(32))
    e, _, _ = position_at(*tr, 0, t)
    assert -e == pytest.approx(HORIZON_K_M * (math.sqrt(h_s) + math.sqrt(z)), abs=1e-3)


def test_detection_range_limits_when_inside_the_horizon():
    tr = cruise(launch=(-100000.0, 0.0), alt=3000.0)
    t = detection_time_s(*tr, 0, 1e9, 0.0, 0.0, 10.0, 20000.0, 0.0, 360.0, np.zeros(32))
    e, _, z = position_at(*tr, 0, t)
    assert math.hypot(e, z - 10.0) == pytest.approx(20000.0, abs=1e-6)


def test_ballistic_detection_is_bisected_to_a_millisecond():
    tr = ballistic(launch=(-60000.0, 0.0), speed=1000.0, apogee=15000.0)
    t = detection_time_s(*tr, 0, 1e9, 0.0, 0.0, 5.0, 30000.0, 0.0, 360.0, np.zeros(32))
    seen = lambda tt: math.hypot(position_at(*tr, 0, tt)[0], position_at(*tr, 0, tt)[2] - 5.0)  # noqa: E731
    assert seen(t) <= 30000.0 < seen(t - 1e-3)


# ---------------------------------------------------------------------------- intercepts
def test_intercept_of_a_head_on_drone_matches_the_closed_form():
    tr = cruise(launch=(-20000.0, 0.0), alt=0.001, dive=0.0)   # practically on the ground
    t_shot, v_int, delay = 100.0, 1000.0, 1.0
    t_i = intercept_time_s(*tr, 0, t_shot, 0.0, 0.0, delay, v_int)
    # range at t: 20000 - 50 t; t_i = t_s + delay + (20000 - 50 t_i) / v
    exact = (t_shot + delay + 20000.0 / v_int) / (1 + 50.0 / v_int)
    assert t_i == pytest.approx(exact, abs=2e-6)


def test_earliest_shot_arrives_at_the_window_start():
    tr = cruise(launch=(-20000.0, 0.0), alt=100.0)
    buf = np.zeros(32)
    a, b = engagement_window(*tr, 0, 1e9, -math.inf, 0.0, 0.0, 500.0, 5000.0, 0.0, 4000.0, 0.0, 360.0, buf)
    t_s = earliest_shot_time_s(*tr, 0, 0.0, a, b, 0.0, 0.0, False, 0.5, 150.0, 0.0, 1.0)
    t_i = intercept_time_s(*tr, 0, t_s, 0.0, 0.0, 0.5, 150.0)
    assert t_i == pytest.approx(a, abs=2e-3)
    assert earliest_shot_time_s(*tr, 0, t_s, a, b, 0.0, 0.0, False, 0.5, 150.0, 0.0, 1.0) == t_s


def test_laser_dwell_is_the_fluence_integral_of_a_closing_drone():
    """Head-on at speed v from range r0: the integral of (ref / (r0 - v t))^2 reaches the dwell
    D at 1 / (r0 - v t) = D v / ref^2 + 1 / r0 (closed form)."""
    tr = cruise(launch=(-20000.0, 0.0), alt=0.001, dive=0.0)
    t_at = lambda r: (20000.0 - r) / 50.0   # noqa: E731  time at which the range is r
    for r0 in (1000.0, 2000.0, 5000.0):
        t_e = laser_dwell_end_s(*tr, 0, t_at(r0), 0.0, 0.0, 5.0, 1000.0, 1e9)
        r_end = 1.0 / (5.0 * 50.0 / 1000.0 ** 2 + 1.0 / r0)
        assert t_e == pytest.approx(t_at(r_end), abs=1e-4)
        assert t_e - t_at(r0) < 5.0 * (r0 / 1000.0) ** 2     # shorter than at a fixed range
    assert laser_dwell_end_s(*tr, 0, t_at(5000.0), 0.0, 0.0, 5.0, 1000.0, t_at(4000.0)) == math.inf


# ---------------------------------------------------------------------------- shortcuts
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from salvosim.defenses.intercept import (  # noqa: E402
    always_too_late,
    earliest_shot_by_intercept_s,
    early_shot_bound,
    speed_bound_mps,
)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["cruise", "ballistic"]), bearing=st.floats(0, 359),
       dist_km=st.floats(3, 60), unit_e=st.floats(-3000, 3000), unit_n=st.floats(-3000, 3000),
       rmax=st.floats(1000, 20000), speed=st.floats(100, 2000), delay=st.floats(0, 2),
       frac=st.floats(0, 1))
def test_early_and_late_shortcuts_agree_with_solving_the_intercept(kind, bearing, dist_km, unit_e,
                                                                   unit_n, rmax, speed, delay,
                                                                   frac):
    """The exact shortcuts the Numba engine caches never change earliest_shot_time_s."""
    launch = (dist_km * 1000 * math.sin(math.radians(bearing)),
              dist_km * 1000 * math.cos(math.radians(bearing)))
    tr = cruise(launch=launch) if kind == "cruise" else ballistic(launch=launch, speed=800.0,
                                                                  apogee=dist_km * 200)
    buf = np.zeros(32)
    a, b = engagement_window(*tr, 0, 1e9, -math.inf, unit_e, unit_n, 200.0, rmax, 0.0, 20000.0, 0.0, 360.0,
                             buf)
    if math.isnan(a):
        return
    t_from = frac * b
    until, t_star = early_shot_bound(*tr[:4], tr[4], tr[5], 0, t_from, a, unit_e, unit_n,
                                     delay, speed)
    full = earliest_shot_by_intercept_s(*tr, 0, t_from, a, b, unit_e, unit_n, False, delay,
                                        speed, 0.0, 1.0)
    if t_from < until:
        # The engines answer max(t_star, t_from + 1 ms) here without solving: a wake-up that is
        # never later than what solving gives, and the same whenever the threat cannot outrun
        # the interceptor (then F is monotone and t_star is the earliest useful shot).
        assert max(t_star, t_from + 1e-3) <= full
        if speed_bound_mps(*tr, 0, t_from) < speed:
            assert full == max(t_star, t_from + 1e-3)
    if always_too_late(tr[0], tr[1], tr[3], tr[5], 0, t_from, b, unit_e, unit_n, delay, speed):
        assert full == math.inf


CLIPPED_FIRST = """
[c2]
network = true
latency_s = 0.0

[[sensors]]
name = "kurfs"
type = "kurfs"
range_m = 10500.0
east_m = 0.0
north_m = 0.0

[[units]]
name = "coyote"
type = "coyote_b2"
east_m = 0.0
north_m = 0.0
sensor = "kurfs"

[[raids]]
name = "routed drone"
type = "owa_small"
count = 1
launch = { east_m = -7452.0, north_m = 19899.0 }
aim = "hq"
ingress_bearing_deg = 90.0
ingress_distance_m = 15000.0
reliability = 1.0
"""


def test_a_drone_that_clipped_the_envelope_before_it_was_tracked_is_engaged_on_its_way_in():
    """The route grazes the Coyote's 10 km range (closest pass about 9.95 km) before anything
    tracks the drone, then comes back in from a waypoint 15 km east; tracked 8.8 km out, it was
    inside the envelope for its last 220 s, yet "the first interval" was the graze, over
    before the track: it leaked in every attack, in both engines. The window is now the first
    interval the unit can still use (engagement_window's t_usable)."""
    from salvosim.engine.constants import LEAKED
    _, _, fast, ref = both_engines(site_scenario(CLIPPED_FIRST), reps=20, seed=5)
    np.testing.assert_array_equal(fast.fate, ref.fate)
    assert (fast.shots[:, 0] > 0).all()
    assert (fast.fate == LEAKED).mean() < 0.5


TRACKED_AFTER_A_PASS = """
[c2]
network = true
latency_s = 0.0
[[sensors]]
name = "picket"
type = "kurfs"
range_m = 3570.0
east_m = 5988.0
north_m = 14836.0
[[units]]
name = "laser"
type = "laser_50kw"
east_m = 0.0
north_m = 8000.0
[[raids]]
name = "routed drone"
type = "owa_small"
count = 1
launch = { east_m = -29940.0, north_m = -17180.0 }
launch_spread_m = 0.0
aim = "hq"
aim_spread_m = 0.0
ingress_bearing_deg = 21.98
ingress_distance_m = 16000.0
"""


def test_a_threat_whose_only_shot_was_before_its_track_was_tracked_too_late():
    """A laser's first pass at a routed drone had a shot from launch, but the drone was tracked
    only after it; the window is then the later pass (a 20 s graze with no shot), and the
    reason became 'no feasible shot'. The earlier pass is looked at again for the reason:
    'tracked too late', in both engines."""
    from salvosim.engine.constants import WHY_LATE
    _, _, fast, ref = both_engines(site_scenario(TRACKED_AFTER_A_PASS), reps=3, seed=5)
    np.testing.assert_array_equal(fast.why, ref.why)
    assert (fast.why[:, 0] == WHY_LATE).all()

