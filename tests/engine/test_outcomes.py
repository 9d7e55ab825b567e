"""Outcomes and their aggregates (MODEL.md §7 v2) and the 'why not engaged?' rule.

Damage is scored for every impact of a real threat (leaked or missed), an asset's value counts
once per replication, the `value` priority scores the aim point, results keep raids apart, and
every threat no unit engaged carries the reason of the unit that came closest.
"""
import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from salvosim.engine.constants import (
    KILLED,
    LEAKED,
    MISSED,
    WHY_BUSY,
    WHY_CLASS,
    WHY_DEFENDED_AREA,
    WHY_DOCTRINE,
    WHY_ENGAGED,
    WHY_ENVELOPE,
    WHY_LATE,
    WHY_MAGAZINE,
    WHY_NO_SHOT,
    WHY_NOT_TRACKED,
    WHY_RELOADING,
)
from salvosim.engine.instances import new_instances, prepare_replication
from salvosim.engine.montecarlo import iter_blocks, run_block_reference, run_compiled
from salvosim.engine.results import histogram_quantile, mean_ci95
from tests.scenario_kit import compile_dict, drone_raid, missile_unit, oracle_scenario, radar

pytestmark = pytest.mark.usefixtures("warm_jit")

FAR_AREA = [[40000.0, 40000.0], [41000.0, 40000.0], [41000.0, 41000.0], [40000.0, 41000.0]]
TOWER22_ASSETS = {  # name: (value, polygon) as in bases/tower22.toml, for a shapely oracle
    "living_containers": (10.0, [(-120, 20), (40, 20), (40, 130), (-120, 130)]),
    "operations": (8.0, [(60, 40), (130, 40), (130, 120), (60, 120)]),
    "vehicle_park": (5.0, [(-120, -130), (120, -130), (120, -50), (-120, -50)]),
    "fuel_point": (5.0, [(80, -40), (130, -40), (130, 10), (80, 10)]),
    "ammo_point": (6.0, [(-120, -40), (-60, -40), (-60, 0), (-120, 0)]),
}


def both_engines(data, reps, seed=5):
    sc, labels = compile_dict(data)
    fast = next(iter_blocks(sc, reps, seed, engine="numba", threads=1))
    ref = run_block_reference(sc, seed, 0, reps)
    for field in ("fate", "asset_hits", "threat_engagements", "why", "shots"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(ref, field))
    return sc, labels, fast


def value_within(e, n, radius_m):
    """Shapely oracle: total value of the tower22 assets within radius of (e, n)."""
    return sum(v for v, poly in TOWER22_ASSETS.values()
               if Polygon(poly).distance(Point(e, n)) <= radius_m)


# ---------------------------------------------------------------------------- damage
def test_a_round_that_misses_the_defended_area_still_damages_the_asset_it_lands_on():
    data = oracle_scenario(units=[], sensors=[],
                           raids=[drone_raid(count=2, aim="living_containers")])
    data["scenario"]["defended_area_m"] = FAR_AREA
    sc, labels, block = both_engines(data, reps=20)
    assert (block.fate == MISSED).all()
    a = labels.assets.index("living_containers")
    assert (block.asset_hits[:, a] == 2).all()


def test_an_assets_value_counts_once_per_attack_however_often_it_is_hit():
    data = oracle_scenario(units=[], sensors=[],
                           raids=[drone_raid(count=3, aim="living_containers")])
    sc, labels, block = both_engines(data, reps=10)
    res = run_compiled(sc, labels, reps=10, seed=5, engine="numba", threads=1)
    inst = new_instances(sc)
    prepare_replication(sc, 5, 0, inst)
    expected = value_within(inst.impact_e[0], inst.impact_n[0], sc.th_lethal_m[0])
    assert expected > 0
    assert (block.fate == LEAKED).all()
    assert res.acc.mean_ci("value_hit")[0] == pytest.approx(expected)
    assert block.asset_hits.sum(axis=1).min() >= 3      # three impacts, one value


def test_value_priority_scores_the_aim_point_not_the_impact_point():
    raid = drone_raid(count=1, aim="operations", cep_m=400.0)
    data = oracle_scenario(raids=[raid], c2={"network": True, "latency_s": 0.0,
                                             "double_engagement": False, "priority": "value"})
    sc, _ = compile_dict(data)
    inst = new_instances(sc)
    e_aim, n_aim = sc.as_aim_e[1], sc.as_aim_n[1]          # operations is the second asset
    aimed = value_within(e_aim, n_aim, sc.th_lethal_m[0])
    differs = 0
    for rep in range(30):
        prepare_replication(sc, 3, rep, inst)
        assert inst.target_value[0] == pytest.approx(aimed)
        differs += value_within(inst.impact_e[0], inst.impact_n[0], sc.th_lethal_m[0]) != aimed
    assert differs > 10       # the impact point (CEP 400 m) would have scored differently


# ---------------------------------------------------------------------------- aggregates
def test_results_keep_two_raids_of_one_type_apart():
    raids = [drone_raid(count=2, name="east"), drone_raid(count=3, name="north", bearing_deg=0.0)]
    sc, labels = compile_dict(oracle_scenario(raids=raids))
    res = run_compiled(sc, labels, reps=50, seed=2, engine="numba", threads=1)
    rows = {r["raid"]: r for r in res.by_raid()}
    assert rows["east"]["launched"] == 2 and rows["north"]["launched"] == 3
    by_type = res.by_type()
    assert len(by_type) == 1
    for fate in ("killed", "leaked", "missed", "failed"):
        assert rows["east"][fate] + rows["north"][fate] == pytest.approx(by_type[0][fate])


@pytest.mark.parametrize("seed", range(5))
def test_leaker_quantiles_from_the_histogram_equal_numpys(seed):
    data = np.random.default_rng(seed).poisson(3.0, size=997)
    hist = np.bincount(data)
    for q in (0.5, 0.9, 0.95, 0.99, 1.0):
        assert histogram_quantile(hist, q) == int(np.quantile(data, q, method="inverted_cdf"))


def test_a_mean_is_never_below_zero_and_a_zero_count_gets_a_one_sided_bound():
    mean, lo, hi = mean_ci95(0.0, 0.0, 1000)
    assert (mean, lo) == (0.0, 0.0) and hi == pytest.approx(-math.log(0.05) / 1000)
    mean, lo, hi = mean_ci95(1.0, 1.0, 10)     # one leaker in ten attacks
    assert lo == 0.0 and mean == pytest.approx(0.1) and hi > mean
    mean, lo, hi = mean_ci95(-5.0, 25.0, 10, nonnegative=False)
    assert lo < mean < hi


def _t_cdf_closed_form(t: float, df: int) -> float:
    """Student's t CDF in closed form for 1 to 4 degrees of freedom (the textbook special
    cases), written apart from the code's incomplete-beta form."""
    if df == 1:
        return 0.5 + math.atan(t) / math.pi
    if df == 2:
        return 0.5 + t / (2.0 * math.sqrt(2.0 + t * t))
    if df == 3:
        x = t / math.sqrt(3.0)
        return 0.5 + (x / (1.0 + x * x) + math.atan(x)) / math.pi
    q = t * t / 4.0
    return 0.5 + 0.375 * t / math.sqrt(1.0 + q) * (1.0 - q / (3.0 * (1.0 + q)))


@pytest.mark.parametrize("df", [1, 2, 3, 4])
def test_t_975_is_the_quantile_of_the_closed_form_t_distributions(df):
    from salvosim.engine.results import t_975
    assert _t_cdf_closed_form(t_975(df), df) == pytest.approx(0.975, abs=1e-12)
    if df == 1:
        assert t_975(1) == pytest.approx(math.tan(0.475 * math.pi), rel=1e-12)


def test_t_975_falls_to_the_normal_quantile_and_its_two_methods_meet():
    """Bisection up to 100 degrees of freedom, the Cornish-Fisher expansion above: the two
    agree where they meet, and the factor falls monotonically to z = 1.96."""
    from salvosim.engine import results
    from salvosim.engine.results import Z95, t_975
    values = [t_975(df) for df in range(1, 400)] + [t_975(10 ** 4), t_975(10 ** 8)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert 0 < values[-1] - Z95 < 1e-7 and t_975(0) == math.inf
    edge = results.T_EXPANSION_FROM_DF
    results.t_975.cache_clear()
    bisected = t_975(edge)
    results.T_EXPANSION_FROM_DF = edge - 1        # the expansion at the same df
    try:
        results.t_975.cache_clear()
        assert t_975(edge) == pytest.approx(bisected, rel=1e-9)
    finally:
        results.T_EXPANSION_FROM_DF = edge
        results.t_975.cache_clear()


@pytest.mark.parametrize("n", [2, 3, 5, 12])
def test_the_95_percent_ci_of_a_mean_covers_95_percent_of_the_time_for_few_replications(n):
    """20,000 samples of n normal values: the CI holds the true mean 95 % of the time (4 sigma
    of the binomial count). With the normal factor 1.96 it held it 70 % of the time at n = 2
    and 81 % at n = 3."""
    rng = np.random.default_rng(n)
    trials = 20_000
    x = rng.normal(3.0, 2.0, size=(trials, n))
    covered = 0
    for total, total_sq in zip(x.sum(axis=1), (x * x).sum(axis=1)):
        _, lo, hi = mean_ci95(float(total), float(total_sq), n, nonnegative=False)
        covered += lo <= 3.0 <= hi
    sigma = math.sqrt(0.95 * 0.05 / trials)
    assert abs(covered / trials - 0.95) < 4 * sigma, covered / trials


def test_one_replication_gives_no_interval_unless_nothing_was_seen():
    mean, lo, hi = mean_ci95(4.0, 16.0, 1)
    assert mean == 4.0 and math.isnan(lo) and math.isnan(hi)
    mean, lo, hi = mean_ci95(-4.0, 16.0, 1, nonnegative=False)
    assert mean == -4.0 and math.isnan(lo) and math.isnan(hi)
    assert mean_ci95(0.0, 0.0, 1) == (0.0, 0.0, pytest.approx(-math.log(0.05)))


def test_the_bound_of_a_figure_never_seen_scales_with_what_one_attack_can_reach():
    """Nothing seen in n attacks: P(any) <= 3.0 / n, so a count's mean is at most 3.0 / n and
    the asset value hit's at most 3.0 / n of all the asset value (it was 3.0 / n whatever the
    values: 0.3 for assets worth 10^9 each); no bound above what one attack can reach."""
    from salvosim.engine.results import ZERO_COUNT_UPPER
    for scale in (1e-3, 1.0, 1e9):
        assert mean_ci95(0.0, 0.0, 10, True, scale, scale)[2] == pytest.approx(
            ZERO_COUNT_UPPER * scale / 10)
        assert mean_ci95(0.0, 0.0, 1, True, scale, scale)[2] == scale      # capped
    assert mean_ci95(3.0, 9.0, 2, True, 1.0, 2.0)[2] == 2.0          # t at 1 df: capped
    assert mean_ci95(0.0, 0.0, 5, True, 1.0, 0.0) == (0.0, 0.0, 0.0)   # no real threat


def test_a_wilson_interval_holds_its_own_estimate_and_matches_the_closed_form():
    """P(>= 1 leaker) = 1 in 10 attacks had the interval [0.722, 0.9999999999999999]: rounding
    put the estimate outside. The bounds are the roots of the Wilson score equation
    (p - x)^2 = z^2 x (1 - x) / n, solved here with the quadratic formula (written out apart
    from the code's centre +- half form)."""
    from salvosim.engine.results import Z95, wilson_ci95
    for n in (1, 2, 7, 10, 64, 1000, 10 ** 6):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            lo, hi = wilson_ci95(k, n)
            p = k / n
            assert 0.0 <= lo <= p <= hi <= 1.0, (k, n, lo, hi)
            a, b, c = 1.0 + Z95 ** 2 / n, -(2.0 * p + Z95 ** 2 / n), p * p
            root = math.sqrt(b * b - 4.0 * a * c)
            assert lo == pytest.approx((-b - root) / (2.0 * a), abs=1e-9)
            assert hi == pytest.approx((-b + root) / (2.0 * a), abs=1e-9)
        assert wilson_ci95(n, n)[1] == 1.0 and wilson_ci95(0, n)[0] == 0.0


# ---------------------------------------------------------------------------- why not engaged
def one_reason(units, raids=None, sensors=None, area=None, reps=4):
    data = oracle_scenario(units=units, raids=raids or [drone_raid(count=1)],
                           sensors=sensors if sensors is not None else [radar()])
    if area is not None:
        data["scenario"]["defended_area_m"] = area
    _, _, block = both_engines(data, reps=reps)
    return block


@pytest.mark.parametrize("reason,units,sensors,area", [
    (WHY_CLASS, [missile_unit(pk={"rocket": 0.5})], None, None),
    (WHY_NOT_TRACKED, [missile_unit()],
     [radar(range_m=600.0, north_m=15000.0)], None),
    (WHY_DEFENDED_AREA, [missile_unit(defended_area_only=True)], None, FAR_AREA),
    (WHY_ENVELOPE, [missile_unit(north_m=20000.0)], None, None),
    (WHY_NO_SHOT, [missile_unit(north_m=3000.0, speed_mps=1.0)], None, None),
    (WHY_LATE, [missile_unit(reaction_s=450.0)], None, None),
])
def test_the_reason_a_lone_threat_was_never_engaged(reason, units, sensors, area):
    block = one_reason(units, sensors=sensors, area=area)
    assert (block.threat_engagements == 0).all()
    assert (block.why == reason).all()


def test_a_unit_that_spent_its_magazine_gives_magazine_empty():
    unit = missile_unit(pk=0.0001, magazine=1, reserve=0)
    block = one_reason([unit], raids=[drone_raid(count=2, interval_s=0.0)])
    engaged = block.threat_engagements > 0
    assert (engaged.sum(axis=1) == 1).all()
    assert (block.why[engaged] == WHY_ENGAGED).all()
    assert (block.why[~engaged] == WHY_MAGAZINE).all()


def test_a_unit_reloading_when_it_could_have_fired_gives_reloading():
    """As the magazine case, but with a reserve and a long reload: the unit is not out of
    ammunition, it is reloading (a planner buys a faster reload, not more units)."""
    unit = missile_unit(pk=0.0001, magazine=1, reserve=1, reload_s=2000.0)
    block = one_reason([unit], raids=[drone_raid(count=2, interval_s=0.0)])
    engaged = block.threat_engagements > 0
    assert (engaged.sum(axis=1) == 1).all()
    assert (block.why[~engaged] == WHY_RELOADING).all()


def test_a_unit_whose_only_channel_is_held_gives_channels_busy():
    unit = missile_unit(pk=0.0001, channel_hold="launch", cycle_s=500.0)
    block = one_reason([unit], raids=[drone_raid(count=2, interval_s=0.0)])
    engaged = block.threat_engagements > 0
    assert (engaged.sum(axis=1) == 1).all()
    assert (block.why[~engaged] == WHY_BUSY).all()


def test_the_reason_is_that_of_the_unit_that_came_closest():
    """One unit out of range, one too slow to reach: 'no feasible shot' beats 'envelope'."""
    units = [missile_unit(name="far", north_m=20000.0),
             missile_unit(name="slow", north_m=3000.0, speed_mps=1.0)]
    block = one_reason(units)
    assert (block.why == WHY_NO_SHOT).all()


SLOW = dict(name="slow", north_m=3000.0, speed_mps=1.0)     # in range, never in time
HELD_PK = {"drone": 0.5, "cruise_missile": 0.5}
# (doctrine-held units stand 500 m off the aim point: self-defence within 0 m does not apply)


@pytest.mark.parametrize("reason,held,area", [
    # a fire rule forbade a unit that had a useful shot in time: the rule is the reason, not
    # the other unit's 'no feasible shot'
    (WHY_DEFENDED_AREA, missile_unit(name="held", defended_area_only=True), FAR_AREA),
    (WHY_DOCTRINE, missile_unit(name="held", pk=HELD_PK, engage_classes=["cruise_missile"],
                                self_defense_m=0.0, north_m=500.0), None),
    # the same rules, but the unit had no shot either (out of range): 'no feasible shot'
    (WHY_NO_SHOT, missile_unit(name="held", defended_area_only=True, north_m=20000.0),
     FAR_AREA),
    (WHY_NO_SHOT, missile_unit(name="held", pk=HELD_PK, engage_classes=["cruise_missile"],
                               self_defense_m=0.0, north_m=20000.0), None),
    # held back, but its shot came only before track + reaction time: not in time either
    (WHY_NO_SHOT, missile_unit(name="held", defended_area_only=True, reaction_s=450.0),
     FAR_AREA),
])
def test_a_unit_held_back_by_a_fire_rule_with_a_shot_in_time_came_closer(reason, held, area):
    """doctrine.not_engaged_reasons: a rule that stopped a unit with a useful shot in time
    outranks every reason of a unit without one (here 'no feasible shot')."""
    sensors = [radar(), radar(name="far_radar", range_m=600.0, north_m=15000.0)]
    for units in ([held, missile_unit(**SLOW)], [missile_unit(**SLOW), held]):
        block = one_reason(units, sensors=sensors, area=area)
        assert (block.threat_engagements == 0).all()
        assert (block.why == reason).all(), units


def test_a_held_back_unit_does_not_outrank_one_that_had_the_shot_and_no_ammunition():
    spent = missile_unit(pk=0.0001, magazine=1, reserve=0)
    held = missile_unit(name="held", defended_area_only=True)
    block = one_reason([spent, held], raids=[drone_raid(count=2, interval_s=0.0)],
                       area=FAR_AREA)
    engaged = block.threat_engagements > 0
    assert (engaged.sum(axis=1) == 1).all()
    assert (block.why[~engaged] == WHY_MAGAZINE).all()


def test_a_held_back_unit_without_ammunition_at_its_shot_was_not_held_back_by_the_rule():
    """Its one round went to a cruise missile before the drone came: lifting the doctrine
    would not have given a shot ('magazine empty' then), so the drone's reason is the slow
    unit's 'no feasible shot', not the doctrine (a review's case)."""
    held = missile_unit(name="held", pk=HELD_PK, engage_classes=["cruise_missile"],
                        self_defense_m=0.0, north_m=500.0, magazine=1, reserve=0)
    raids = [drone_raid(count=1, name="cm", type="quds1", speed_mps=50.0, range_km=15.0),
             drone_raid(count=1, name="dr", range_km=20.0)]
    block = one_reason([held, missile_unit(**SLOW)], raids=raids)
    assert (block.threat_engagements[:, 0] == 1).all()        # the cruise missile
    assert (block.why[:, 1] == WHY_NO_SHOT).all()
    allowed = dict(held, name="spent", engage_classes=["cruise_missile", "drone"])
    block = one_reason([allowed, missile_unit(**SLOW)], raids=raids)
    assert (block.why[:, 1] == WHY_MAGAZINE).all()


def test_trace_says_why_each_unit_that_knew_a_threat_never_engaged_it():
    from salvosim.engine.reference import ReferenceReplication
    units = [missile_unit(name="far", north_m=20000.0),
             missile_unit(name="slow", north_m=3000.0, speed_mps=1.0)]
    sc, labels = compile_dict(oracle_scenario(units=units))
    sim = ReferenceReplication(sc, 1, 0, labels=labels, trace=True)
    sim.run()
    text = "\n".join(t for _, _, t in sim.log)
    assert "far never engaged" in text and "outside every envelope" in text
    assert "slow never engaged" in text and "no feasible shot" in text
    assert "useful shot in time" not in text


def test_trace_says_when_a_held_back_unit_had_a_useful_shot():
    from salvosim.engine.reference import ReferenceReplication
    units = [missile_unit(name="held", defended_area_only=True), missile_unit(**SLOW)]
    data = oracle_scenario(units=units)
    data["scenario"]["defended_area_m"] = FAR_AREA
    sc, labels = compile_dict(data)
    sim = ReferenceReplication(sc, 1, 0, labels=labels, trace=True)
    sim.run()
    text = "\n".join(t for _, _, t in sim.log)
    assert ("held never engaged drones#1: impact predicted outside defended area "
            "(it had a useful shot in time)") in text
    assert "slow never engaged drones#1: no feasible shot" in text
    assert KILLED not in sim.fate


def test_trace_says_which_unit_took_a_threat_another_could_have_shot():
    from salvosim.engine.reference import ReferenceReplication
    units = [missile_unit(name="first", pk=1.0), missile_unit(name="second", pk=1.0)]
    sc, labels = compile_dict(oracle_scenario(units=units))
    sim = ReferenceReplication(sc, 1, 0, labels=labels, trace=True)
    sim.run()
    text = "\n".join(t for _, _, t in sim.log)
    assert "second never engaged drones#1: killed by first" in text
