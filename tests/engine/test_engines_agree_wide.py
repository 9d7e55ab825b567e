"""Engine agreement over a wide space of small random scenarios (MODEL.md §8-9), plus
conservation (MODEL.md §10).

tests/test_engines_agree.py draws slow threats against short-range units. This strategy
deliberately reaches the corners the v2 model changed or that break event ordering:
- fast threats: Fateh-110 / Fateh-313 / Zolfaghar ballistic missiles against Patriot PAC-3 MSE
  and GEM-T, Quds-1 cruise missiles (faster than the interceptor) against the Coyote;
- lasers (dwell as a fluence integral);
- every C2 option: network on/off, latency, double engagement on/off, each priority;
- defended_area_only, sector-limited units and sensors, units without an own sensor;
- fire doctrine (engage_classes, self_defense_m, hold_for, assign_queue), central weapon
  assignment and decoy discrimination, where this version of the model has them;
- ingress routing of cruise threats, including ingress points inside the dive distance (the
  case that once made the engines disagree; the dive then starts at the waypoint).

Each example is run for a few replications by the Numba engine and the reference engine and
must give the same outcome threat by threat: fate, fate time (1e-9 s), killing unit, and
every per-unit / per-asset count of the block; and in the Numba engine's debug mode every
decision must be the one the full scan makes (tests/engine/test_incremental_targeting.py).
Conservation: one final fate per threat, the one the draws imply; rounds <= magazine + reserve;
no kill after the threat's end.

The default run is 400 derandomized examples (deterministic in CI) and also checks that they
reach every corner above; a 4,000-example sweep is marked slow and runs only when asked for
(`-m slow`; left out of make test).
"""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salvosim import defenses, threats
from salvosim.engine.constants import CHECK_ON, FAILED, KILLED, LEAKED, MISSED
from salvosim.engine.instances import new_instances, prepare_replication
from salvosim.engine.kernel import check_replications
from salvosim.engine.montecarlo import Block, run_block_numba, run_block_reference
from salvosim.engine.scenario import C2
from tests.engine.test_detection_culling import check_known_times
from tests.scenario_kit import compile_dict, oracle_scenario, radar

pytestmark = pytest.mark.usefixtures("warm_jit")

THREATS = threats.load_catalog()
UNITS = defenses.load_fire_units()

BALLISTIC_MISSILES = [t for t in ("fateh110", "fateh313", "zolfaghar") if t in THREATS]
PATRIOTS = [u for u in ("patriot_pac3mse", "patriot_gemt") if u in UNITS]
LASERS = [u for u in ("laser_50kw", "laser_100kw") if u in UNITS]
SHORT_RANGE_UNITS = [u for u in ("cram", "avenger", "coyote_b2") if u in UNITS]
ALL_UNITS = sorted(UNITS)
# Fire doctrine and central assignment (MODEL.md §6 v2), drawn where this version has them.
DOCTRINE = {"engage_classes", "self_defense_m", "hold_for", "assign_queue"} <= set(
    defenses.UNIT_OVERRIDABLE)
C2_KEYS = {f.name for f in dataclasses.fields(C2)}
# Launch ranges kept well inside the catalog's min/max (the aim may be an asset up to ~200 m
# from the origin) and short enough for quick runs: a ballistic missile flies <= 150 s.
MAX_TEST_RANGE_KM = {"ballistic_missile": 150.0, "cruise_missile": 60.0, "drone": 30.0,
                     "rocket": 20.0, "mortar": 7.0}


def launch_range_km(type_id):
    t = THREATS[type_id]
    lo = t.min_range_km + 0.5
    hi = min(t.max_range_km - 0.5, max(lo + 1.0, MAX_TEST_RANGE_KM[t.threat_class]))
    return lo, hi


RANGE_KM = {k: launch_range_km(k) for k in THREATS}
CRUISE_TYPES = sorted(k for k, t in THREATS.items() if t.is_cruise)
OTHER_TYPES = sorted(k for k in THREATS if k not in BALLISTIC_MISSILES)

finite = dict(allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------- strategy
@st.composite
def sensors_strategy(draw):
    sensors = [radar("net", range_m=draw(st.floats(20000.0, 300000.0, **finite)),
                     rcs_scaling=draw(st.booleans()), height_m=draw(st.floats(2.0, 30.0, **finite)),
                     track_delay_s=draw(st.floats(0.0, 5.0, **finite)))]
    if draw(st.booleans()):      # a second, sector-limited, short-range sensor
        sensors.append(radar("gap", east_m=draw(st.floats(-3000.0, 3000.0, **finite)),
                             north_m=draw(st.floats(-3000.0, 3000.0, **finite)),
                             range_m=draw(st.floats(3000.0, 30000.0, **finite)),
                             rcs_scaling=draw(st.booleans()),
                             height_m=draw(st.floats(2.0, 30.0, **finite)),
                             track_delay_s=draw(st.floats(0.0, 5.0, **finite)),
                             sector_width_deg=draw(st.sampled_from([60.0, 120.0, 240.0])),
                             facing_deg=draw(st.floats(0.0, 359.0, **finite))))
    return sensors


@st.composite
def unit_strategy(draw, name, kind, sensor_names, bearings):
    spec = UNITS[kind]
    table = {"name": name, "type": kind,
             "east_m": draw(st.floats(-3000.0, 3000.0, **finite)),
             "north_m": draw(st.floats(-3000.0, 3000.0, **finite)),
             "max_engagements": draw(st.integers(1, 3)),
             "defended_area_only": draw(st.integers(0, 3)) == 3}
    # facing: towards a raid (most engagements) or anywhere
    facing = draw(st.one_of(st.sampled_from(bearings),
                            st.floats(0.0, 359.0, **finite)))
    table["facing_deg"] = (facing + draw(st.floats(-30.0, 30.0, **finite))) % 360.0
    if spec.sector_width_deg >= 360.0 and draw(st.booleans()):
        table["sector_width_deg"] = draw(st.sampled_from([90.0, 120.0, 180.0, 270.0]))
    sensor = None if draw(st.integers(0, 3)) == 3 else draw(st.sampled_from(sensor_names))
    if sensor is not None:
        table["sensor"] = sensor
    if spec.kind != "laser":
        rps = spec.rounds_per_shot if spec.kind == "gun" else 1
        table["magazine"] = draw(st.integers(1, 6)) * rps
        table["reserve"] = draw(st.sampled_from([0, rps, table["magazine"],
                                                 2 * table["magazine"] + rps]))
        table["reload_s"] = draw(st.floats(5.0, 60.0, **finite))
        table["channels"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        table["reaction_s"] = draw(st.floats(0.0, 12.0, **finite))
    if draw(st.booleans()):
        table["kill_assessment_s"] = draw(st.floats(0.0, 8.0, **finite))
    if draw(st.booleans()):
        table["retarget_s"] = draw(st.floats(0.0, 3.0, **finite))
    if spec.kind == "missile" and draw(st.integers(0, 3)) == 3:
        table["shots_per_engagement"] = draw(st.integers(1, 3))
    if DOCTRINE:
        classes = sorted(spec.pk)
        if draw(st.integers(0, 3)) == 3:
            table["engage_classes"] = sorted(draw(st.sets(st.sampled_from(classes), min_size=1)))
        if draw(st.integers(0, 3)) == 3:
            table["self_defense_m"] = draw(st.floats(0.0, 3000.0, **finite))
        if spec.kind != "laser" and draw(st.integers(0, 3)) == 3:
            table["hold_for"] = {draw(st.sampled_from(classes)): draw(st.integers(1, 3))}
        if draw(st.booleans()):
            table["assign_queue"] = draw(st.integers(0, 4))
    return table


@st.composite
def raid_strategy(draw, name, ttype, asset_names):
    t = THREATS[ttype]
    lo, hi = RANGE_KM[ttype]
    bearing = draw(st.floats(0.0, 359.0, **finite))
    count = draw(st.integers(1, 5 if t.threat_class == "ballistic_missile" else 8))
    raid = {"name": name, "type": ttype, "count": count,
            "launch": {"bearing_deg": bearing, "range_km": draw(st.floats(lo, hi, **finite))},
            "aim": draw(st.sampled_from(["random_asset"] + asset_names)),
            "aim_spread_m": draw(st.floats(0.0, 200.0, **finite)),
            "launch_spread_m": draw(st.floats(0.0, 300.0, **finite)),
            "start_s": draw(st.floats(0.0, 60.0, **finite))}
    if draw(st.booleans()):
        raid["interval_s"] = draw(st.floats(0.0, 15.0, **finite))
        raid["jitter_s"] = draw(st.floats(0.0, 5.0, **finite))
    else:
        raid["rate_per_min"] = draw(st.floats(2.0, 30.0, **finite))
    # The route launch -> waypoint -> aim must be within the threat's range: at most
    # |launch - aim| + 2 x ingress, and |launch - aim| <= launch range + 3 km (the aim points
    # lie within 3 km of the base's reference point).
    ingress_max_m = min(10000.0, 0.5 * (t.max_range_km - raid["launch"]["range_km"] - 3.0) * 1e3)
    if t.is_cruise and ingress_max_m >= 50.0 and draw(st.booleans()):
        raid["ingress_bearing_deg"] = draw(st.floats(0.0, 359.0, **finite))
        raid["ingress_distance_m"] = draw(st.floats(50.0, ingress_max_m, **finite))
    if draw(st.integers(0, 3)) == 3:
        raid["reliability"] = 1.0            # otherwise the catalog's (0.7 .. 0.95)
    return raid, bearing


THEMES = ("ballistic_vs_patriot", "cruise_vs_coyote", "laser", "mixed")


@st.composite
def wide_scenarios(draw):
    """A small scenario dict; its theme guarantees the fast / laser corners are drawn."""
    theme = draw(st.sampled_from(THEMES))
    from salvosim.bases import load_base
    asset_names = [a.name for a in load_base("tower22").assets]

    # raids
    if theme == "ballistic_vs_patriot":
        first = draw(st.sampled_from(BALLISTIC_MISSILES))
    elif theme == "cruise_vs_coyote":
        first = "quds1"
    elif theme == "laser":
        first = draw(st.sampled_from(["shahed136", "owa_small", "fpv_quad", "rocket_107mm",
                                      "mortar_120mm"]))
    else:
        first = draw(st.sampled_from(sorted(THREATS)))
    types = [first] + draw(st.lists(st.sampled_from(OTHER_TYPES), max_size=3))
    raids, bearings = [], []
    for k, ttype in enumerate(types):
        raid, bearing = draw(raid_strategy(f"r{k}", ttype, asset_names))
        raids.append(raid)
        bearings.append(bearing)

    # units
    sensors = draw(sensors_strategy())
    sensor_names = [s["name"] for s in sensors]
    if theme == "ballistic_vs_patriot":
        kinds = [draw(st.sampled_from(PATRIOTS))]
    elif theme == "cruise_vs_coyote":
        kinds = ["coyote_b2"]
    elif theme == "laser":
        kinds = [draw(st.sampled_from(LASERS))]
    else:
        kinds = [draw(st.sampled_from(ALL_UNITS))]
    kinds += draw(st.lists(st.sampled_from(ALL_UNITS), max_size=3))
    units = [draw(unit_strategy(f"u{k}", kind, sensor_names, bearings))
             for k, kind in enumerate(kinds)]

    c2 = {"network": draw(st.booleans()),
          "latency_s": draw(st.sampled_from([0.0, 0.5, 2.0, 7.5])),
          "double_engagement": draw(st.booleans()),
          "priority": draw(st.sampled_from(["time_to_impact", "value", "nearest"]))}
    if "decoy_discrimination" in C2_KEYS:
        c2["decoy_discrimination"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    if "assignment" in C2_KEYS and c2["network"]:
        c2["assignment"] = draw(st.sampled_from(["autonomous", "central"]))
    data = oracle_scenario(units=units, sensors=sensors, raids=raids, c2=c2)
    if draw(st.booleans()):
        del data["scenario"]["defended_area_m"]        # the base perimeter (~300 m)
    else:
        half = draw(st.floats(300.0, 5000.0, **finite))
        data["scenario"]["defended_area_m"] = [[-half, -half], [half, -half], [half, half],
                                               [-half, half]]
    return data


# ---------------------------------------------------------------------------- checks
def assert_blocks_agree(fast, ref):
    """Every output of the block, threat by threat and unit by unit."""
    for field in Block._fields[1:]:
        a, b = getattr(fast, field), getattr(ref, field)
        if field == "fate_t":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, equal_nan=True, err_msg=field)
        else:
            np.testing.assert_array_equal(a, b, err_msg=field)


def assert_conserved(sc, seed, block):
    """One final fate per threat, the one its draws imply unless killed earlier; rounds within
    magazine + reserve; kills credited to exactly one unit, never after the threat's end."""
    inst = new_instances(sc)
    limited = ~sc.un_unlimited
    for r in range(block.fate.shape[0]):
        prepare_replication(sc, seed, block.rep0 + r, inst)
        fate, fate_t, kill_unit = block.fate[r], block.fate_t[r], block.kill_unit[r]
        assert np.isin(fate, (KILLED, FAILED, LEAKED, MISSED)).all(), fate
        assert np.isfinite(fate_t).all()
        killed = fate == KILLED
        assert (fate_t[killed] <= inst.t_end[killed]).all(), "kill after the threat's end"
        assert (fate_t[killed] >= inst.t_launch[killed]).all()
        alive_to_end = ~killed
        np.testing.assert_array_equal(fate_t[alive_to_end], inst.t_end[alive_to_end])
        expected = np.where(inst.fails, FAILED, np.where(inst.in_defended, LEAKED, MISSED))
        np.testing.assert_array_equal(fate[alive_to_end], expected[alive_to_end])
        assert (kill_unit[killed] >= 0).all() and (kill_unit[~killed] == -1).all()
        np.testing.assert_array_equal(np.bincount(kill_unit[killed], minlength=len(sc.un_e)),
                                      block.kills[r])
        shots, rounds = block.shots[r], block.rounds[r]
        assert (rounds[limited] <= (sc.un_magazine + sc.un_reserve)[limited]).all()
        np.testing.assert_array_equal(rounds, shots * sc.un_rounds_per_shot)
        assert (block.engagements[r] <= shots).all()
        assert ((block.engagements[r] == 0) == (shots == 0)).all()
        if hasattr(block, "threat_engagements"):
            assert block.threat_engagements[r].sum() == block.engagements[r].sum()


def check_example(data, seed, reps):
    sc, labels = compile_dict(data)
    fast = run_block_numba(sc, seed, 0, reps, threads=1)
    ref = run_block_reference(sc, seed, 0, reps)
    assert_blocks_agree(fast, ref)
    assert_conserved(sc, seed, fast)
    # the incremental targeting: every decision as the full scan makes it (debug mode)
    disagreements, decisions, _ = check_replications(sc, seed, 0, reps, CHECK_ON)
    assert disagreements == 0, (disagreements, decisions)
    check_known_times(sc, seed, reps)       # detections computed only where they matter
    return sc, labels, fast


class Coverage:
    """What the examples of a sweep reached (a strategy that never engages proves little)."""

    def __init__(self):
        self.examples = 0
        self.bm, self.patriot, self.laser = set(), set(), set()
        self.priority, self.network, self.double = set(), set(), set()
        self.counts = dict.fromkeys(("ingress", "sector", "defended_only", "no_sensor",
                                     "quds_vs_coyote", "engaged", "patriot_kills_bm",
                                     "coyote_kills_cm", "laser_kills"), 0)
        if DOCTRINE:
            self.counts.update(dict.fromkeys(("engage_classes", "self_defense", "hold_for"), 0))
        if "assignment" in C2_KEYS:
            self.counts.update(central=0, central_engaged=0)
        if "decoy_discrimination" in C2_KEYS:
            self.counts.update(decoys_discriminated=0)

    def add(self, data, sc, labels, out):
        self.examples += 1
        types = {r["type"] for r in data["raids"]}
        kinds = {u["type"] for u in data["units"]}
        self.bm |= types & set(BALLISTIC_MISSILES)
        self.patriot |= kinds & set(PATRIOTS)
        self.laser |= kinds & set(LASERS)
        self.priority.add(data["c2"]["priority"])
        self.network.add(data["c2"]["network"])
        self.double.add(data["c2"]["double_engagement"])
        c = self.counts
        c["ingress"] += any("ingress_bearing_deg" in r for r in data["raids"])
        c["sector"] += any(u.get("sector_width_deg", UNITS[u["type"]].sector_width_deg) < 360
                           for u in data["units"])
        c["defended_only"] += any(u["defended_area_only"] for u in data["units"])
        c["no_sensor"] += any("sensor" not in u for u in data["units"])
        c["quds_vs_coyote"] += "quds1" in types and "coyote_b2" in kinds
        c["engaged"] += bool(out.engagements.sum())
        if DOCTRINE:
            c["engage_classes"] += any("engage_classes" in u for u in data["units"])
            c["self_defense"] += any(u.get("self_defense_m", 0) > 0 for u in data["units"])
            c["hold_for"] += any("hold_for" in u for u in data["units"])
        if data["c2"].get("assignment") == "central":
            c["central"] += 1
            c["central_engaged"] += bool(out.engagements.sum())
        if data["c2"].get("decoy_discrimination", 0) > 0:
            c["decoys_discriminated"] += bool(sc.th_decoy.any())
        for r, j in zip(*np.nonzero(out.fate == KILLED)):
            kind = labels.unit_types[out.kill_unit[r, j]]
            cls = THREATS[data["raids"][sc.th_raid[j]]["type"]].threat_class
            c["patriot_kills_bm"] += kind in PATRIOTS and cls == "ballistic_missile"
            c["coyote_kills_cm"] += kind == "coyote_b2" and cls == "cruise_missile"
            c["laser_kills"] += kind in LASERS

    def assert_reaches_every_corner(self):
        assert self.bm == set(BALLISTIC_MISSILES) and self.patriot == set(PATRIOTS)
        assert self.laser == set(LASERS)
        assert self.priority == {"time_to_impact", "value", "nearest"}
        assert self.network == {True, False} and self.double == {True, False}
        for key, n in self.counts.items():
            assert n >= 5, (key, self.counts)
        assert self.counts["engaged"] >= self.examples // 2, self.counts


COMMON = dict(deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])


def sweep(max_examples, reps):
    """Run the check over max_examples derandomized examples; return what they covered."""
    coverage = Coverage()

    @settings(max_examples=max_examples, **COMMON)
    @given(data=wide_scenarios(), seed=st.integers(0, 2 ** 40))
    def one_example(data, seed):
        coverage.add(data, *check_example(data, seed, reps))

    one_example()
    return coverage


def test_engines_agree_on_wide_random_scenarios():
    """400 examples, 3 replications each (about 5 s here): the engines agree threat by
    threat, outcomes are conserved, and the examples reach every corner listed above."""
    sweep(400, reps=3).assert_reaches_every_corner()


@pytest.mark.slow
def test_engines_agree_on_thousands_of_wide_random_scenarios():
    sweep(4000, reps=3).assert_reaches_every_corner()
