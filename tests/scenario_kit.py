"""Small synthetic scenarios for oracle tests, as plain dicts (what a TOML file holds).

They use the `tower22` base with its empty `none` layout, so every sensor and fire unit is
declared here with explicit catalog overrides: the oracles then depend only on the numbers in
the test, not on catalog defaults.
"""
from __future__ import annotations

import copy
import tomllib

from salvosim.engine.compile import compile_scenario
from salvosim.engine.scenario import scenario_from_dict
from salvosim.engine.variants import scenario_from_data

BIG_AREA = [[-60000.0, -60000.0], [60000.0, -60000.0], [60000.0, 60000.0], [-60000.0, 60000.0]]


def radar(name="radar", east_m=0.0, north_m=0.0, **over):
    table = {"name": name, "type": "sentinel", "east_m": east_m, "north_m": north_m,
             "range_m": 1.0e6, "rcs_scaling": False, "height_m": 10.0, "track_delay_s": 0.0,
             "classes": ["rocket", "mortar", "drone", "cruise_missile", "ballistic_missile"]}
    table.update(over)
    return table


def missile_unit(name="sam", east_m=0.0, north_m=0.0, pk=0.5, **over):
    """A guided-missile unit with a wide envelope and every timing set explicitly."""
    table = {"name": name, "type": "coyote_b2", "east_m": east_m, "north_m": north_m,
             "sensor": "radar",
             "pk": pk if isinstance(pk, dict) else {"drone": pk, "rocket": pk, "cruise_missile": pk},
             "min_range_m": 100.0, "max_range_m": 8000.0, "min_altitude_m": 0.0,
             "max_altitude_m": 5000.0, "channels": 1, "magazine": 1000, "reserve": 0,
             "reload_s": 10.0, "shots_per_engagement": 1, "shots_per_engagement_by_class": {},
             "reaction_s": 1.0, "speed_mps": 1000.0, "launch_delay_s": 0.0,
             "channel_hold": "intercept", "retarget_s": 0.0, "kill_assessment_s": 1.0,
             "max_engagements": 1, "defended_area_only": False}
    table.update(over)
    return table


def drone_raid(count=1, range_km=20.0, bearing_deg=90.0, **over):
    table = {"name": "drones", "type": "shahed136", "count": count,
             "launch": {"bearing_deg": bearing_deg, "range_km": range_km},
             "aim": {"east_m": 0.0, "north_m": 0.0}, "interval_s": 10.0,
             "reliability": 1.0, "cep_m": 0.0, "aim_spread_m": 0.0, "launch_spread_m": 0.0,
             "altitude_m": 100.0, "speed_mps": 50.0, "dive_distance_m": 200.0}
    table.update(over)
    return table


def oracle_scenario(units=None, sensors=None, raids=None, c2=None, seed=1):
    return {
        "scenario": {"name": "oracle", "base": "tower22", "layout": "none", "seed": seed,
                     "replications": 100, "defended_area_m": copy.deepcopy(BIG_AREA)},
        "c2": c2 or {"network": True, "latency_s": 0.0, "double_engagement": False},
        "sensors": sensors if sensors is not None else [radar()],
        "units": units if units is not None else [missile_unit()],
        "raids": raids if raids is not None else [drone_raid()],
    }


def compile_dict(data, file="<test>"):
    return compile_scenario(scenario_from_dict(copy.deepcopy(data), file))


SMALL_SITE = """
[scenario.base]
lat_deg = 34.0
lon_deg = 41.0
perimeter_m = [[-600.0, -400.0], [600.0, -400.0], [600.0, 400.0], [-600.0, 400.0]]

[[scenario.base.assets]]
name = "hq"
kind = "hq"
value = 10.0
polygon_m = [[-100.0, -100.0], [100.0, -100.0], [100.0, 100.0], [-100.0, 100.0]]

[[scenario.base.assets]]
name = "fuel"
kind = "fuel"
value = 5.0
polygon_m = [[300.0, 200.0], [500.0, 200.0], [500.0, 350.0], [300.0, 350.0]]
"""


def site_scenario(body: str, name: str = "site") -> dict:
    """Scenario data: a 1.2 x 0.8 km inline site (assets hq at the centre and fuel) and the
    TOML tables of `body` ([c2], [[sensors]], [[units]], [[raids]])."""
    return tomllib.loads(f'[scenario]\nname = "{name}"\n{SMALL_SITE}\n{body}')


def both_engines(data, reps, seed):
    """(compiled scenario, labels, numba block, reference block) of replications 0 .. reps-1."""
    from salvosim.engine.montecarlo import iter_blocks, run_block_reference
    sc, labels = compile_dict(data)
    fast = next(iter_blocks(sc, reps, seed, engine="numba", threads=1))
    return sc, labels, fast, run_block_reference(sc, seed, 0, reps)


def compile_file(path, raid_scale=1):
    """A scenario file compiled, every raid's count multiplied by raid_scale (the scenario only)."""
    data = tomllib.loads(path.read_text())
    for raid in data.get("raids", []):
        raid["count"] = raid.get("count", 1) * raid_scale
    return compile_scenario(scenario_from_data(data, str(path)))[0]
