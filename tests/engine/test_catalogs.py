"""The catalogs hold the open-source figures of PARAMETERS.md, each with its source, and every
value PARAMETERS.md marks "assumption" is named in the entry's `assumed` list.

The tables below are transcribed from PARAMETERS.md (the shared parameter sheet of the
project) so that the tests run on a clean checkout."""
import math

import pytest
from shapely.geometry import Polygon

from salvosim import bases, defenses, threats
from salvosim.bases.geo import bearing_of_en_deg
from salvosim.engine.scenario import asset_aim_point
from salvosim.engine.variants import load_scenario, scenario_from_data
from tests import REPO_ROOT

ROOT = REPO_ROOT
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

# id: (class, speed_mps, min_range_km, max_range_km, reliability, rcs_m2, lethal_radius_m,
#      cost_usd, keys marked "assumption" in PARAMETERS.md)
THREATS = {
    "rocket_107mm": ("rocket", 300, 1, 8.5, 0.90, 0.01, 15, 1_000,
                     {"cep_frac_of_range", "reliability", "rcs_m2", "cost_usd"}),
    "rocket_122mm": ("rocket", 450, 1.6, 20.4, 0.95, 0.02, 25, 6_000,
                     {"cep_frac_of_range", "reliability", "rcs_m2", "cost_usd"}),
    "mortar_120mm": ("mortar", 200, 0.5, 7.2, 0.95, 0.01, 20, 1_000,
                     {"cep_frac_of_range", "reliability", "rcs_m2", "cost_usd"}),
    "shahed136": ("drone", 51, None, 2_500, 0.90, 0.1, 30, 35_000,
                  {"cep_m", "reliability", "rcs_m2"}),
    "owa_small": ("drone", 40, None, 300, 0.90, 0.05, 15, 10_000,
                  {"dive_distance_m", "max_range_km", "cep_m", "reliability", "rcs_m2", "cost_usd"}),
    "shahed238": ("drone", 150, None, 1_000, 0.90, 0.1, 30, 500_000,
                  {"max_range_km", "cep_m", "reliability", "rcs_m2"}),
    "fpv_quad": ("drone", 20, None, 10, 0.85, 0.01, 5, 2_000,
                 {"dive_distance_m", "cep_m", "reliability", "rcs_m2"}),
    "fateh110": ("ballistic_missile", 1_000, 50, 300, 0.80, 0.5, 60, 500_000,
                 {"cep_m", "reliability", "rcs_m2", "cost_usd"}),
    "fateh313": ("ballistic_missile", 1_100, 50, 500, 0.80, 0.5, 60, 600_000,
                 {"cep_m", "reliability", "rcs_m2", "cost_usd"}),
    "zolfaghar": ("ballistic_missile", 1_200, 50, 700, 0.80, 0.5, 60, 700_000,
                  {"cep_m", "reliability", "rcs_m2", "cost_usd"}),
    "qiam1": ("ballistic_missile", 1_300, 100, 800, 0.70, 1.0, 80, 1_000_000,
              {"cep_m", "reliability", "rcs_m2", "cost_usd"}),
    "quds1": ("cruise_missile", 230, None, 800, 0.85, 0.1, 40, 500_000,
              {"max_range_km", "cep_m", "reliability", "rcs_m2", "warhead_kg",
               "lethal_radius_m", "cost_usd"}),
    "decoy_drone": ("drone", 51, None, 1_000, 0.95, 0.1, 0, 10_000, {"cost_usd"}),
}

# id: (classes, range_m, rcs_ref_m2 or None for passive, sector_width_deg, height_m,
#      track_delay_s, keys marked "assumption")
SENSORS = {
    "lcmr": ({"rocket", "mortar"}, 10_000, 0.01, 360, 5, 2, set()),
    "cram_radar": ({"rocket", "mortar", "drone", "cruise_missile"}, 10_000, 1.0, 360, 5, 1,
                   {"range_m"}),
    "sentinel": ({"drone", "cruise_missile"}, 40_000, 1.0, 360, 8, 3, {"range_m"}),
    "avenger_flir": ({"drone", "cruise_missile"}, 8_000, None, 360, 3, 4, {"range_m"}),
    "kurfs": ({"drone", "cruise_missile", "rocket", "mortar"}, 16_000, 0.1, 360, 5, 2,
              {"range_m"}),
    "mpq65": ({"rocket", "mortar", "drone", "cruise_missile", "ballistic_missile"}, 150_000, 1.0,
              120, 6, 5, {"range_m"}),
}

# id: (pk by class, min_range_m, max_range_m, min_alt_m, max_alt_m, sector, channels, magazine,
#      cost_per_shot_usd, keys marked "assumption")
FIRE_UNITS = {
    "cram": ({"rocket": 0.6, "mortar": 0.6, "drone": 0.6, "cruise_missile": 0.4}, 200, 2_000, 0,
             1_500, 360, 1, 1_550, 4_500, {"pk", "magazine", "reserve", "reload_s",
                                           "cost_per_shot_usd"}),
    # v2: Stinger effective range 4.8 km (8 km is a maximum often quoted)
    "avenger": ({"drone": 0.7, "cruise_missile": 0.5}, 500, 4_800, 10, 3_800, 360, 1, 8, 430_000,
                {"pk", "reserve", "reload_s"}),
    # v2: PAC-3 MSE about 5.2 M USD (870 missiles for 4.5 B USD)
    "patriot_pac3mse": ({"ballistic_missile": 0.8, "cruise_missile": 0.9, "drone": 0.9}, 3_000,
                        40_000, 50, 24_000, 120, 5, 48, 5_200_000, {"pk"}),
    "patriot_gemt": ({"ballistic_missile": 0.6, "cruise_missile": 0.8, "drone": 0.8}, 3_000,
                     100_000, 300, 24_000, 120, 5, 16, 3_500_000, {"pk"}),
    "coyote_b2": ({"drone": 0.85, "cruise_missile": 0.5}, 500, 10_000, 0, 4_000, 360, 2, 16,
                  125_000, {"pk", "channels", "magazine", "reserve", "reload_s", "speed_mps"}),
    "laser_50kw": ({"drone": 0.9, "rocket": 0.5, "mortar": 0.5}, 200, 3_000, 0, 2_000, 360, 1, 0,
                   10, {"pk", "cost_per_shot_usd"}),
    # v2 comparison systems
    "iris_t_slm": ({"drone": 0.85, "cruise_missile": 0.85}, 1_000, 40_000, 20, 20_000, 360, 4, 8,
                   430_000, {"pk", "channels", "reserve"}),
    "laser_100kw": ({"drone": 0.9, "rocket": 0.6, "mortar": 0.6}, 200, 10_000, 0, 5_000, 360, 1,
                    0, 2_000, {"pk", "dwell_ref_range_m"}),
}


@pytest.mark.parametrize("uid", ["patriot_pac3mse", "patriot_gemt"])
def test_patriot_doctrine_defaults_to_missiles_and_drones_only_in_self_defence(uid):
    u = defenses.load_fire_units()[uid]
    assert set(u.allowed_classes()) == {"ballistic_missile", "cruise_missile"}
    assert u.self_defense_m > 0 and "self_defense_m" in u.assumed


def test_other_units_may_engage_every_class_they_have_a_pk_for():
    for uid, u in defenses.load_fire_units().items():
        if not uid.startswith("patriot"):
            assert set(u.allowed_classes()) == set(u.pk), uid


# ---------------------------------------------------------------------------- threats
def test_every_threat_of_the_parameter_sheet_is_in_the_catalog():
    assert set(THREATS) <= set(threats.load_catalog())


@pytest.mark.parametrize("tid", sorted(THREATS))
def test_threat_figures_match_the_parameter_sheet(tid):
    t = threats.load_catalog()[tid]
    cls, speed, rmin, rmax, rel, rcs, lethal, cost, _ = THREATS[tid]
    assert t.threat_class == cls
    assert t.speed_mps == speed
    if rmin is not None:
        assert t.min_range_km == rmin
    assert t.max_range_km == rmax
    assert t.reliability == rel
    assert t.rcs_m2 == rcs
    assert t.lethal_radius_m == lethal
    assert t.cost_usd == cost
    assert t.decoy == (tid == "decoy_drone")


@pytest.mark.parametrize("tid", sorted(THREATS))
def test_threat_assumptions_are_listed_and_named_in_the_source(tid):
    t = threats.load_catalog()[tid]
    assert t.source.strip()
    assert THREATS[tid][-1] <= set(t.assumed)
    if t.assumed:
        assert "assumption" in t.source


def test_ballistic_threats_fly_an_arc_and_cruise_threats_fly_level():
    for t in threats.load_catalog().values():
        if t.is_cruise:
            assert t.altitude_m > 0 and t.dive_distance_m > 0
        else:
            assert t.apogee_ratio > 0 or t.apogee_m > 0


# ---------------------------------------------------------------------------- sensors
def test_every_sensor_of_the_parameter_sheet_is_in_the_catalog():
    assert set(SENSORS) <= set(defenses.load_sensors())


@pytest.mark.parametrize("sid", sorted(SENSORS))
def test_sensor_figures_match_the_parameter_sheet(sid):
    s = defenses.load_sensors()[sid]
    classes, range_m, rcs_ref, sector, height, delay, _ = SENSORS[sid]
    assert set(s.classes) == classes
    assert s.range_m == range_m
    if rcs_ref is None:
        assert s.rcs_scaling is False
    else:
        assert s.rcs_scaling is True and s.rcs_ref_m2 == rcs_ref
    assert s.sector_width_deg == sector
    assert s.height_m == height
    assert s.track_delay_s == delay


@pytest.mark.parametrize("sid", sorted(SENSORS))
def test_sensor_assumptions_are_listed_and_named_in_the_source(sid):
    s = defenses.load_sensors()[sid]
    assert s.source.strip()
    assert SENSORS[sid][-1] <= set(s.assumed)
    if s.assumed:
        assert "assumption" in s.source


# ---------------------------------------------------------------------------- fire units
def test_every_fire_unit_of_the_parameter_sheet_is_in_the_catalog():
    assert set(FIRE_UNITS) <= set(defenses.load_fire_units())


@pytest.mark.parametrize("uid", sorted(FIRE_UNITS))
def test_fire_unit_figures_match_the_parameter_sheet(uid):
    u = defenses.load_fire_units()[uid]
    pk, rmin, rmax, zmin, zmax, sector, channels, magazine, cost, _ = FIRE_UNITS[uid]
    assert u.pk == pk
    assert (u.min_range_m, u.max_range_m) == (rmin, rmax)
    assert (u.min_altitude_m, u.max_altitude_m) == (zmin, zmax)
    assert u.sector_width_deg == sector
    assert u.channels == channels
    assert u.magazine == magazine
    assert u.cost_per_shot_usd == cost


@pytest.mark.parametrize("uid", sorted(FIRE_UNITS))
def test_fire_unit_assumptions_are_listed_and_named_in_the_source(uid):
    u = defenses.load_fire_units()[uid]
    assert u.source.strip()
    assert FIRE_UNITS[uid][-1] <= set(u.assumed)
    if u.assumed:
        assert "assumption" in u.source


def test_patriot_fires_two_interceptors_at_a_ballistic_missile():
    for uid in ("patriot_pac3mse", "patriot_gemt"):
        u = defenses.load_fire_units()[uid]
        assert u.shots_against("ballistic_missile") == 2
        assert u.shots_against("drone") == 1


def test_cram_engages_only_predicted_impacts_in_the_defended_area():
    u = defenses.load_fire_units()["cram"]
    assert u.defended_area_only is True
    assert u.kind == "gun" and u.rounds_per_shot == 150 and u.burst_s == 2.0


def test_assumed_keys_are_real_keys_of_each_entry():
    for catalog in (threats.load_catalog(), defenses.load_sensors(), defenses.load_fire_units()):
        for entry in catalog.values():
            keys = {"class" if k == "threat_class" else k for k in vars(entry)}
            keys |= set(type(entry).__dataclass_fields__)
            assert set(entry.assumed) <= keys, entry.id


# ---------------------------------------------------------------------------- bases
@pytest.mark.parametrize("base_id", bases.base_ids())
def test_every_base_loads_with_valid_polygons_and_assets_inside_the_perimeter(base_id):
    b = bases.load_base(base_id)
    assert b.source.strip() and b.note.strip()
    assert "schematic" in b.note.lower()
    assert isinstance(b.perimeter, Polygon) and b.perimeter.is_valid and b.perimeter.area > 0
    assert b.assets
    for a in b.assets:
        assert a.polygon.is_valid and a.polygon.area > 0, a.name
        assert b.perimeter.contains(a.polygon), f"{base_id}: {a.name} is outside the perimeter"
        assert a.value > 0
    assert len({a.name for a in b.assets}) == len(b.assets)


@pytest.mark.parametrize("base_id", bases.base_ids())
def test_every_layout_of_every_base_is_a_valid_defense(base_id):
    b = bases.load_base(base_id)
    assert b.layouts
    for layout in b.layouts:
        data = {"scenario": {"name": "layout check", "base": base_id, "layout": layout},
                "raids": [{"type": "rocket_107mm", "count": 1,
                           "launch": {"bearing_deg": 0.0, "range_km": 5.0}}]}
        scn = scenario_from_data(data, f"<{base_id}.{layout}>")
        names = [s.name for s in scn.sensors]
        for u in scn.units:
            assert u.sensor is None or u.sensor in names


def test_al_asad_has_the_2020_and_2024_layouts():
    b = bases.load_base("al_asad")
    assert {"2020", "2024"} <= set(b.layouts)
    assert (b.lat_deg, b.lon_deg) == (33.786, 42.441)


def test_al_asad_2020_has_no_missile_defense_and_2024_adds_patriot():
    data = {"scenario": {"name": "x", "base": "al_asad", "layout": "2020"},
            "raids": [{"type": "rocket_107mm", "count": 1,
                       "launch": {"bearing_deg": 0.0, "range_km": 5.0}}]}
    old = scenario_from_data(data, "<2020>")
    assert all("ballistic_missile" not in u.spec.pk for u in old.units)
    data["scenario"]["layout"] = "2024"
    new = scenario_from_data(data, "<2024>")
    assert any("ballistic_missile" in u.spec.pk for u in new.units)


def test_al_asad_perimeter_is_about_21_km():
    assert bases.load_base("al_asad").perimeter.length == pytest.approx(21_000, rel=0.05)


# ---------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_validates(path):
    scn = load_scenario(path)
    assert scn.raids and scn.n_threats > 0
    assert scn.header.description.strip()


def test_the_flagship_scenario_is_a_saturation_raid():
    scn = load_scenario(ROOT / "scenarios" / "al_asad_drone_raid.toml")
    drones = [r for r in scn.raids if r.threat.threat_class == "drone" and not r.threat.decoy]
    assert sum(r.count for r in drones) >= 60
    bearings = {round(bearing_of_en_deg(r.launch_e, r.launch_n)) for r in drones}
    assert len(bearings) >= 3
    assert sum(r.count for r in scn.raids if r.threat.decoy) == 20
    assert sum(r.count for r in scn.raids if r.threat.threat_class == "rocket") == 12
    assert sum(r.count for r in scn.raids if r.threat.threat_class == "ballistic_missile") == 4
    assert len(scn.units) >= 8
    assert len(scn.sensors) >= 4
    assert scn.base.id == "al_asad" and scn.header.layout == "2024"


def test_bundled_raids_fly_within_their_threat_range_to_every_possible_aim_point():
    # The loader checks the launch range to the aim point (the reference point for
    # 'random_asset'); here every asset a raid may pick, and the ingress detour, must fit too.
    for path in SCENARIOS:
        scn = load_scenario(path)
        for r in scn.raids:
            if r.aim_mode == "random_asset":
                aims = [asset_aim_point(a) for a in scn.base.assets]
            else:
                aims = [(r.aim_e, r.aim_n)]
            for ae, an in aims:
                if r.ingress_bearing_deg is None:
                    flown_km = math.hypot(r.launch_e - ae, r.launch_n - an) / 1000.0
                else:
                    b = math.radians(r.ingress_bearing_deg)
                    we = ae + r.ingress_distance_m * math.sin(b)
                    wn = an + r.ingress_distance_m * math.cos(b)
                    flown_km = (math.hypot(r.launch_e - we, r.launch_n - wn)
                                + r.ingress_distance_m) / 1000.0
                assert r.threat.min_range_km <= flown_km <= r.threat.max_range_km, \
                    f"{path.name}: {r.name}: {flown_km:.1f} km"
