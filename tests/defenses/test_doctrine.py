"""Fire doctrine, decoy discrimination and central weapon assignment (MODEL.md §6 v2), each rule
on its own in a scenario where it alone decides the outcome, in both engines."""
import math

import numpy as np
import pytest

from salvosim.engine.constants import CLASS_INDEX, LEAKED, N_CLASSES, WHY_DECOY, WHY_DOCTRINE, WHY_HOLD
from salvosim.engine.instances import new_instances, prepare_replication
from salvosim.engine.reference import ReferenceReplication
from tests.scenario_kit import (
    both_engines,
    compile_dict,
    drone_raid,
    missile_unit,
    oracle_scenario,
    site_scenario,
)

pytestmark = pytest.mark.usefixtures("warm_jit")
DRONE = CLASS_INDEX["drone"]


def run_both(data, reps=6, seed=4):
    sc, labels, fast, ref = both_engines(data, reps, seed)
    for field in ("fate", "shots", "shots_by_class", "why", "threat_engagements"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(ref, field))
    np.testing.assert_allclose(fast.fate_t, ref.fate_t, rtol=0, atol=1e-9)
    return sc, labels, fast


def central(**extra):
    return {"network": True, "latency_s": 0.0, "double_engagement": False,
            "assignment": "central", **extra}


# ---------------------------------------------------------------------------- engage_classes
@pytest.mark.parametrize("self_defense_m,unit_north_m,engages", [
    (0.0, 3000.0, False),          # drones are outside its classes and no self-defence
    (5000.0, 3000.0, True),        # the drones' aim point (0, 0) is 3 km away: self-defence
    (2000.0, 3000.0, False),       # ... but not within 2 km
])
def test_a_unit_fires_outside_its_classes_only_in_self_defence(self_defense_m, unit_north_m,
                                                              engages):
    unit = missile_unit(north_m=unit_north_m, pk={"drone": 0.5, "cruise_missile": 0.5},
                        engage_classes=["cruise_missile"], self_defense_m=self_defense_m)
    _, _, block = run_both(oracle_scenario(units=[unit], raids=[drone_raid(count=3)]))
    assert (block.shots_by_class[:, 0, DRONE] > 0).all() == engages
    assert (block.shots_by_class[:, 0, DRONE] == 0).all() != engages
    if not engages:
        assert (block.why == WHY_DOCTRINE).all()


def test_self_defence_of_0_m_is_never_even_on_the_aim_point():
    """self_defense_m = 0 means never: a unit standing exactly on the drones' aim point, whose
    classes exclude drones, fired in 'self-defence' (distance 0 is within 0 m)."""
    unit = missile_unit(pk={"drone": 0.5, "cruise_missile": 0.5},       # on the aim point
                        engage_classes=["cruise_missile"], self_defense_m=0.0)
    _, _, block = run_both(oracle_scenario(units=[unit], raids=[drone_raid(count=3)]))
    assert (block.shots_by_class[:, 0, DRONE] == 0).all()
    assert (block.why == WHY_DOCTRINE).all()


def test_engage_classes_must_be_classes_the_unit_has_a_pk_for():
    unit = missile_unit(pk={"drone": 0.5}, engage_classes=["ballistic_missile"])
    with pytest.raises(Exception, match="engage_classes"):
        compile_dict(oracle_scenario(units=[unit]))


# ---------------------------------------------------------------------------- hold_for
@pytest.mark.parametrize("hold", [0, 3, 7])
def test_hold_for_keeps_exactly_n_interceptors_back(hold):
    """10 interceptors, 20 drones that are hard to kill, hold_for = {cruise_missile = N}: the
    unit fires exactly 10 - N at the drones, never more (nor fewer: it has time for all)."""
    unit = missile_unit(pk={"drone": 0.01, "cruise_missile": 0.5}, magazine=10, reserve=0,
                        hold_for={"cruise_missile": hold} if hold else {}, max_engagements=1)
    raids = [drone_raid(count=20, interval_s=20.0)]
    _, _, block = run_both(oracle_scenario(units=[unit], raids=raids), reps=5)
    assert (block.shots_by_class[:, 0, DRONE] == 10 - hold).all()
    if hold:
        assert (block.why == WHY_HOLD).sum(axis=1).min() >= 1


def test_held_interceptors_go_to_the_class_they_were_kept_for():
    unit = missile_unit(pk={"drone": 0.01, "cruise_missile": 0.5}, magazine=6, reserve=0,
                        hold_for={"cruise_missile": 2}, max_engagements=1, max_range_m=20000.0)
    raids = [drone_raid(count=10, interval_s=10.0),
             drone_raid(name="cm", count=2, type="quds1", speed_mps=230.0, range_km=60.0,
                        start_s=200.0, interval_s=30.0)]
    _, _, block = run_both(oracle_scenario(units=[unit], raids=raids), reps=5)
    assert (block.shots_by_class[:, 0, DRONE] == 4).all()
    assert (block.shots_by_class[:, 0, CLASS_INDEX["cruise_missile"]] == 2).all()


# ---------------------------------------------------------------------------- decoys
def test_discrimination_recognises_a_fraction_p_of_decoys_and_they_are_never_engaged():
    p = 0.3
    decoys = drone_raid(count=50, type="decoy_drone", interval_s=5.0)
    data = oracle_scenario(raids=[decoys], c2={"network": True, "latency_s": 0.0,
                                               "double_engagement": False,
                                               "decoy_discrimination": p})
    sc, _ = compile_dict(data)
    inst = new_instances(sc)
    n = 0
    for rep in range(200):
        prepare_replication(sc, 9, rep, inst)
        n += int(inst.recognised.sum())
    trials = 200 * 50
    assert abs(n / trials - p) <= 4 * math.sqrt(p * (1 - p) / trials)
    _, _, block = run_both(data, reps=4)
    prepare_replication(sc, 4, 0, inst)
    assert inst.recognised.any()
    assert (block.threat_engagements[0][inst.recognised] == 0).all()
    assert (block.why[0][inst.recognised] == WHY_DECOY).all()


def test_without_discrimination_no_decoy_is_recognised():
    sc, _ = compile_dict(oracle_scenario(raids=[drone_raid(count=50, type="decoy_drone")]))
    inst = new_instances(sc)
    prepare_replication(sc, 9, 0, inst)
    assert not inst.recognised.any()


# ---------------------------------------------------------------------------- central C2
def two_units(cost_a, pk_a, cost_b, pk_b, **over_b):
    a = missile_unit(name="a", east_m=-500.0, pk=pk_a, cost_per_shot_usd=cost_a)
    b = missile_unit(name="b", east_m=500.0, pk=pk_b, cost_per_shot_usd=cost_b, **over_b)
    return [a, b]


@pytest.mark.parametrize("costs,chosen", [((100.0, 150.0), 1), ((100.0, 200.0), 0)])
def test_central_assignment_picks_the_lowest_cost_per_expected_kill(costs, chosen):
    """Cost per expected kill = cost / pk for one shot: a 100 $ / 0.5 vs b 150 $ / 0.9 (200 vs
    167: b), or b 200 $ / 0.9 (222: a). Only the chosen unit engages."""
    units = two_units(costs[0], 0.5, costs[1], 0.9)
    data = oracle_scenario(units=units, raids=[drone_raid(count=1)], c2=central())
    sc, labels, block = run_both(data)
    assert (block.engagements[:, chosen] >= 1).all()
    for rep in range(6):
        sim = ReferenceReplication(sc, 4, rep)
        sim.run()
        assert sim.engagement_log[0][0] == chosen           # the first shot is the chosen unit's
        # The other unit only ever fires after the chosen one's engagement failed.
        assert all(e[0] == chosen for e in sim.engagement_log) or sim.fate[0] != 1 or \
            sim.kill_unit[0] == 1 - chosen


REASSIGNED_AT_ONCE = """
[c2]
network = true
latency_s = 0.0
assignment = "central"
priority = "nearest"

[[sensors]]
name = "kurfs"
type = "kurfs"
east_m = 0.0
north_m = 0.0

[[units]]
name = "coyote_a"
type = "coyote_b2"
east_m = 0.0
north_m = 0.0
sensor = "kurfs"
cost_per_shot_usd = 200000.0

[[units]]
name = "coyote_b"
type = "coyote_b2"
east_m = 0.0
north_m = 0.0
sensor = "kurfs"
magazine = 1
reserve = 0
assign_queue = 2

[[raids]]
name = "cm"
type = "quds1"
count = 1
launch = { bearing_deg = 45.0, range_km = 14.0 }
aim = "hq"
reliability = 1.0

[[raids]]
name = "drones"
type = "owa_small"
count = 2
launch = { bearing_deg = 225.0, range_km = 9.5 }
interval_s = 0.0
aim = "hq"
reliability = 1.0
"""


def test_a_threat_reassigned_to_a_unit_that_already_decided_this_instant_is_engaged():
    """coyote_a fires at a drone at 7 s (one channel left); coyote_b then fires its last round
    and the C2 moves the cruise missile to coyote_a at the same instant. coyote_a had already
    decided then, and "one decision per unit per instant" dropped the new assignment: the
    missile leaked in every attack ("channels busy") with a channel free. A new assignment is
    a decision point (MODEL.md §6): it is engaged (with a reaction_s moving the reassignment
    to another instant it always was)."""
    sc, labels, block = run_both(site_scenario(REASSIGNED_AT_ONCE), reps=20, seed=5)
    missile = labels.threat_names.index("cm#1")
    assert (block.threat_engagements[:, missile] > 0).mean() > 0.8
    assert (block.fate == LEAKED).sum(axis=1).mean() < 0.5


def test_autonomous_assignment_lets_both_units_engage_in_turn():
    units = two_units(100.0, 0.0001, 150.0, 0.0001)
    data = oracle_scenario(units=units, raids=[drone_raid(count=1)])
    _, _, block = run_both(data)
    assert (block.engagements > 0).all()


def test_a_failed_engagement_lapses_and_the_threat_is_assigned_again():
    """b is cheapest per expected kill but may engage only once and (almost) never kills: after
    its kill assessment the threat is assigned to a, which engages it."""
    units = two_units(100_000.0, 0.5, 1.0, 0.0001, max_engagements=1)
    data = oracle_scenario(units=units, raids=[drone_raid(count=1)], c2=central())
    sc, labels, block = run_both(data)
    assert (block.engagements[:, 1] == 1).all() and (block.engagements[:, 0] >= 1).all()
    sim = ReferenceReplication(sc, 4, 0, labels=labels, trace=True)
    sim.run()
    log = sim.engagement_log
    first_b = next(e for e in log if e[0] == 1)
    first_a = next(e for e in log if e[0] == 0)
    assert first_a[3] >= first_b[4] + sc.un_assessment_s[1] - 1e-9   # after b's assessment
    assert any("assigned to a" in t for _, _, t in sim.log)


def test_an_assignment_lapses_when_the_units_last_useful_shot_passes():
    """b (cheapest) takes both drones, but one shot holds its only channel for 500 s: the second
    drone's assignment lapses at b's latest useful shot and a engages it. Autonomous would not
    need the lapse; central without it would let the second drone through unengaged."""
    units = two_units(100_000.0, 0.5, 1.0, 0.5, channel_hold="launch", cycle_s=500.0)
    data = oracle_scenario(units=units, raids=[drone_raid(count=2, interval_s=0.0)],
                           c2=central())
    sc, labels, block = run_both(data)
    assert (block.engagements[:, 1] == 1).all()
    assert (block.threat_engagements > 0).all()
    sim = ReferenceReplication(sc, 4, 0, labels=labels, trace=True)
    sim.run()
    assert any("lapses" in t for _, _, t in sim.log)


def test_assign_queue_caps_what_one_unit_holds():
    """With assign_queue = 1 the cheap unit b holds one unengaged threat at a time: the other
    simultaneous drones go to a at once."""
    units = two_units(100_000.0, 0.5, 1.0, 0.5, assign_queue=1, channels=1,
                      channel_hold="launch", cycle_s=500.0)
    data = oracle_scenario(units=units, raids=[drone_raid(count=3, interval_s=0.0)],
                           c2=central())
    _, _, block = run_both(data)
    assert (block.engagements[:, 0] >= 1).all()


def test_central_assignment_needs_the_network():
    with pytest.raises(Exception, match="network"):
        compile_dict(oracle_scenario(c2={"network": False, "assignment": "central"}))


def test_decoy_shots_are_counted_apart():
    raids = [drone_raid(count=3, type="decoy_drone")]
    _, _, block = run_both(oracle_scenario(raids=raids))
    assert block.shots_by_class[:, 0, N_CLASSES].sum() == block.shots.sum() > 0


# ---------------------------------------------------------------------------- bundled analysis
def test_patriot_restricted_variants_fire_at_drones_only_in_self_defence():
    """scenarios/al_asad_doctrine.toml: in every variant that keeps the Patriot's catalog
    doctrine, each Patriot engagement of a drone is of one aimed within its self-defence
    radius; in the free-fire variants it does engage drones aimed elsewhere."""
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.variants import load_scenario, variants_of
    variants = variants_of(load_scenario("scenarios/al_asad_doctrine.toml"))
    assert len(variants) == 5
    for v in variants:
        sc, labels = compile_scenario(v.scenario)
        p = labels.units.index("patriot_east")
        restricted = not sc.un_allowed[p, DRONE]
        outside = 0
        for rep in range(2):
            sim = ReferenceReplication(sc, 7, rep)
            sim.run()
            for u, j, *_ in sim.engagement_log:
                if u == p and sc.th_class[j] == DRONE:
                    d = math.hypot(sim.inst.aim_e[j] - sc.un_e[p], sim.inst.aim_n[j] - sc.un_n[p])
                    outside += d > sc.un_self_defense_m[p]
        assert (outside == 0) == restricted, v.name


def test_trace_shows_holds_assignments_and_recognised_decoys():
    unit = missile_unit(pk={"drone": 0.01, "cruise_missile": 0.5}, magazine=4, reserve=0,
                        hold_for={"cruise_missile": 2}, max_engagements=1)
    raids = [drone_raid(count=6, interval_s=20.0), drone_raid(name="d", count=20,
                                                              type="decoy_drone")]
    data = oracle_scenario(units=[unit], raids=raids,
                           c2=central(decoy_discrimination=0.5))
    sc, labels = compile_dict(data)
    sim = ReferenceReplication(sc, 2, 0, labels=labels, trace=True)
    sim.run()
    text = "\n".join(t for _, _, t in sim.log)
    assert "holds its last interceptors: no more fire at drone" in text
    assert "assigned to sam" in text
    assert "as a decoy: never engaged" in text
