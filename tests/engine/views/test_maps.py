"""What the map draws: sensor coverage from the radar equation and the horizon, a view that
holds the largest ring, and the raid axes."""
import math

import pytest
from matplotlib.figure import Figure

from salvosim.defenses.sensors import radar_horizon_m
from salvosim.engine.variants import load_scenario
from salvosim.engine.views.maps import (
    default_altitude_m,
    draw_map,
    raid_path_m,
    sensor_coverage_m,
    view_half_width_m,
)
from tests import REPO_ROOT  # noqa: E402

ROOT = REPO_ROOT


@pytest.fixture(scope="module")
def flagship():
    return load_scenario(ROOT / "scenarios" / "al_asad_drone_raid.toml")


def test_default_threat_altitude_is_the_lowest_cruise_altitude(flagship):
    assert default_altitude_m(flagship) == 100.0   # owa_small
    srbm = load_scenario(ROOT / "scenarios" / "al_asad_srbm_2020.toml")
    assert default_altitude_m(srbm) == 100.0       # no cruise raid: 100 m


def test_coverage_is_against_the_lowest_rcs_raid_threat_the_sensor_tracks(flagship):
    sentinel = next(s for s in flagship.sensors if s.spec.id == "sentinel")
    radius, threat, limit = sensor_coverage_m(sentinel, flagship, 100.0)
    assert threat.id == "owa_small"   # 0.05 m², the smallest drone RCS in the raids
    assert limit == "range"
    slant = 40_000.0 * 0.05 ** 0.25
    assert radius == pytest.approx(math.sqrt(slant ** 2 - (100.0 - 8.0) ** 2))


def test_patriot_radar_coverage_is_cut_by_the_horizon_for_low_targets(flagship):
    mpq65 = next(s for s in flagship.sensors if s.spec.id == "mpq65")
    radius, threat, limit = sensor_coverage_m(mpq65, flagship, 100.0)
    assert threat.id == "rocket_122mm"
    assert limit == "horizon"
    assert radius == pytest.approx(radar_horizon_m(6.0, 100.0))


def test_a_sensor_that_tracks_no_raid_threat_has_no_coverage():
    srbm = load_scenario(ROOT / "scenarios" / "al_asad_srbm_2020.toml")
    assert all(sensor_coverage_m(s, srbm, 100.0) is None for s in srbm.sensors)


def test_the_view_holds_the_largest_ring_not_the_far_launch_sites(flagship):
    coverage = {s.name: sensor_coverage_m(s, flagship, 100.0) for s in flagship.sensors}
    half = view_half_width_m(flagship, coverage)
    assert 50_000 < half < 80_000          # the Patriot radar horizon, not 420 km launch sites


def test_an_ingress_raid_routes_through_its_waypoint(flagship):
    raid = next(r for r in flagship.raids if r.ingress_bearing_deg is not None)
    launch, waypoint, aim = raid_path_m(raid, flagship.base)
    assert launch == (raid.launch_e, raid.launch_n)
    assert math.hypot(waypoint[0] - aim[0], waypoint[1] - aim[1]) == pytest.approx(15_000.0)
    assert waypoint[0] < aim[0]            # 260 deg: to the west


def test_draw_map_returns_a_figure_with_title_and_subtitle(flagship):
    fig = draw_map(flagship)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.texts]
    assert "schematic geometry — open-source figures" in texts
    assert flagship.name in fig._suptitle.get_text()
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("east drones (22 × shahed136, 250 km, 80°)") for t in labels)


@pytest.mark.parametrize("bearing_deg", [0.0, 90.0, 225.0, 359.5])
def test_the_drawn_ingress_waypoint_is_the_one_the_threat_flies(bearing_deg):
    """The map's (and the route-length check's) ingress waypoint against the kernel's flown
    trajectory (threats.trajectory.build_cruise, its own code): the point after the launch,
    for a threat with no aim or launch spread. Bearings clockwise from north: 90 is east."""
    import copy

    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.instances import new_instances, prepare_replication
    from salvosim.engine.scenario import ingress_waypoint_m, scenario_from_dict
    from tests.scenario_kit import drone_raid, oracle_scenario
    data = oracle_scenario(raids=[drone_raid(range_km=20.0, bearing_deg=180.0,
                                             ingress_bearing_deg=bearing_deg,
                                             ingress_distance_m=6000.0)])
    scn = scenario_from_dict(copy.deepcopy(data), "<test>")
    drawn = raid_path_m(scn.raids[0], scn.base)[1]
    sc, _ = compile_scenario(scn)
    inst = new_instances(sc)
    prepare_replication(sc, 1, 0, inst)
    assert drawn == pytest.approx((inst.pt_e[0, 1], inst.pt_n[0, 1]), abs=1e-6)
    b = math.radians(bearing_deg)                       # the closed form
    assert drawn == pytest.approx((6000.0 * math.sin(b), 6000.0 * math.cos(b)), abs=1e-9)
    assert ingress_waypoint_m(0.0, 0.0, 90.0, 1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
