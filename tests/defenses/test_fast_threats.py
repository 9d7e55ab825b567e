"""Threats faster than their interceptors are engaged (MODEL.md §5 v2).

The first release never engaged a ballistic missile: its fixed-point intercept solver diverged
whenever the threat closed faster than the interceptor flew. These are the planner-level
statements of the fix, each run through both engines.
"""
import copy
import math

import numpy as np
import pytest

from salvosim.engine.compile import compile_scenario
from salvosim.engine.constants import CLASS_INDEX, FAILED, KILLED
from salvosim.engine.montecarlo import iter_blocks, run_block_reference
from salvosim.engine.variants import load_scenario, scenario_from_data
from tests.scenario_kit import compile_dict, drone_raid, missile_unit, oracle_scenario

pytestmark = pytest.mark.usefixtures("warm_jit")

FLAGSHIP = "scenarios/al_asad_drone_raid.toml"


def fates(sc, reps, seed=3):
    blocks = list(iter_blocks(sc, reps, seed, engine="numba", threads=2))
    return (np.concatenate([b.fate for b in blocks]), np.concatenate([b.shots for b in blocks]),
            np.concatenate([b.engagements for b in blocks]))


def flagship_ballistic_missiles_against_the_patriot():
    """The flagship's 4 Fateh-313 alone against its Patriot battery with a full magazine."""
    import tomllib
    with open(FLAGSHIP, "rb") as f:
        data = tomllib.load(f)
    data["raids"] = [r for r in data["raids"] if r["type"] == "fateh313"]
    layout_units = ["cram_flightline", "cram_north", "cram_east", "cram_west", "avenger_east",
                    "avenger_west", "coyote_north", "coyote_south", "laser_flightline"]
    data["units"] = [{"name": n, "remove": True} for n in layout_units]
    scn = scenario_from_data(data, FLAGSHIP)
    return compile_scenario(scn)


def test_patriot_engages_every_reliable_fateh313_of_the_flagship():
    sc, labels = flagship_ballistic_missiles_against_the_patriot()
    assert labels.units == ["patriot_east"]
    fate, shots, engagements = fates(sc, reps=400)
    reps = fate.shape[0]
    reliable = (fate != FAILED).sum()
    killed = (fate == KILLED).sum()
    leakers_per_attack = (reliable - killed) / reps
    assert leakers_per_attack <= 0.5
    assert engagements.sum() >= reliable          # every reliable missile engaged at least once
    assert shots.sum() > 0


def test_engines_agree_on_the_patriot_against_ballistic_missiles():
    sc, _ = flagship_ballistic_missiles_against_the_patriot()
    ref = run_block_reference(sc, 9, 0, 6)
    fast = next(iter_blocks(sc, 6, 9, engine="numba", threads=1))
    np.testing.assert_array_equal(ref.fate, fast.fate)
    np.testing.assert_allclose(ref.fate_t, fast.fate_t, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ref.shots, fast.shots)


def test_coyote_engages_a_quds1_cruise_missile_faster_than_itself():
    """Quds-1 flies at 230 m/s, the Coyote at 150 m/s: an inbound threat is still reachable."""
    coyote = missile_unit(name="coyote", type="coyote_b2", speed_mps=150.0, pk={"cruise_missile": 0.7},
                          min_range_m=300.0, max_range_m=10000.0, max_altitude_m=3000.0)
    quds = drone_raid(count=1, range_km=60.0, type="quds1", speed_mps=230.0, altitude_m=50.0,
                      dive_distance_m=500.0)
    sc, _ = compile_dict(oracle_scenario(units=[coyote], raids=[quds]))
    fate, shots, engagements = fates(sc, reps=300)
    assert (engagements[:, 0] == 1).all()
    assert abs((fate[:, 0] == KILLED).mean() - 0.7) < 4 * math.sqrt(0.21 / 300)


def test_a_laser_burns_an_inbound_drone_it_can_burn():
    """100 m/s drone straight at an idle 50 kW-class laser (5 s dwell at 1 km): the dwell
    shortens as the drone closes, so the laser engages it every time."""
    laser = missile_unit(name="laser", type="laser_50kw", pk={"drone": 0.9}, speed_mps=0.0,
                         launch_delay_s=0.0, min_range_m=0.0, max_range_m=5000.0,
                         max_altitude_m=3000.0, kill_assessment_s=1.0, max_engagements=3)
    for key in ("magazine", "reserve", "reload_s"):
        laser.pop(key)
    drone = drone_raid(count=1, range_km=30.0, speed_mps=100.0, altitude_m=200.0,
                       dive_distance_m=300.0)
    data = oracle_scenario(units=[laser], raids=[drone])
    sc, _ = compile_dict(data)
    fate, shots, engagements = fates(sc, reps=200)
    assert (engagements[:, 0] >= 1).all()
    # Up to 3 dwells if there is time: P(kill) at least the single-dwell Pk.
    assert (fate[:, 0] == KILLED).mean() >= 0.9 - 4 * math.sqrt(0.09 / 200)
    ref = run_block_reference(sc, 3, 0, 10)
    np.testing.assert_array_equal(ref.fate, fate[:10])
    np.testing.assert_array_equal(ref.shots, shots[:10])


def test_the_flagship_patriot_now_engages_its_ballistic_missiles():
    """In the full flagship the Patriot's missiles go (at least partly) to the Fateh-313s."""
    scn = load_scenario(FLAGSHIP)
    sc, labels = compile_scenario(copy.deepcopy(scn))
    blocks = list(iter_blocks(sc, 64, 5, engine="numba", threads=2))
    kill_unit = np.concatenate([b.kill_unit for b in blocks])
    patriot = labels.units.index("patriot_east")
    bm = sc.th_class == CLASS_INDEX["ballistic_missile"]
    assert (kill_unit[:, bm] == patriot).sum() > 0


@pytest.mark.parametrize("ingress_m", [89.9, 300.0])
@pytest.mark.parametrize("bearing_deg", [0.0, 90.0, 200.0])
def test_an_ingress_waypoint_inside_the_dive_distance_dives_from_the_waypoint(ingress_m,
                                                                               bearing_deg):
    """Issue: a Quds-1 whose ingress waypoint lies closer to the target than its dive distance
    made the engines disagree. The geometry (trajectory.build_cruise): when the last leg is
    shorter than the dive distance the dive starts at the waypoint; both engines follow it."""
    from salvosim.threats.trajectory import build_cruise, new_trajectories
    tr = list(new_trajectories(1))
    build_cruise(*tr, 0, 0.0, -40000.0, 0.0, 0.0, 0.0, 230.0, 50.0, 500.0, True,
                 math.radians(bearing_deg), ingress_m)
    pt_e, pt_n, pt_z, pt_t, seg, n_pts = tr
    assert n_pts[0] == 3                                     # L -> W -> I, no separate D
    assert pt_z[0, 1] == 50.0 and pt_z[0, 2] == 0.0
    assert math.hypot(pt_e[0, 1], pt_n[0, 1]) == pytest.approx(ingress_m)
    raid = drone_raid(count=6, interval_s=3.0, type="quds1", speed_mps=230.0, range_km=40.0,
                      ingress_bearing_deg=bearing_deg, ingress_distance_m=ingress_m,
                      dive_distance_m=500.0, aim_spread_m=50.0)
    unit = missile_unit(type="coyote_b2", speed_mps=150.0, pk=0.5, max_engagements=2)
    sc, _ = compile_dict(oracle_scenario(units=[unit], raids=[raid]))
    for seed in range(3):
        fast = next(iter_blocks(sc, 10, seed, engine="numba", threads=1))
        ref = run_block_reference(sc, seed, 0, 10)
        np.testing.assert_array_equal(fast.fate, ref.fate)
        np.testing.assert_array_equal(fast.shots, ref.shots)
        np.testing.assert_allclose(fast.fate_t, ref.fate_t, rtol=0, atol=1e-9)
