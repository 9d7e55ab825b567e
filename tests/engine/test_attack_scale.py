"""scenario.raid_scale grows every raid of the attack together (what a saturation curve
sweeps), the report's default sweep uses it, and the report's timeline is a typical attack."""
import numpy as np

from salvosim.engine.montecarlo import run_scenario
from salvosim.engine.variants import parse_vary, point_scenarios, scenario_from_data
from salvosim.engine.views.plots import typical_replication
from salvosim.engine.views.report import default_report_vary
from tests.scenario_kit import drone_raid, oracle_scenario


def two_raids(scale=None):
    data = oracle_scenario(raids=[drone_raid(count=3), drone_raid(count=5, name="north",
                                                                  bearing_deg=0.0)])
    if scale is not None:
        data["scenario"]["raid_scale"] = scale
    return scenario_from_data(data, "<test>")


def test_raid_scale_multiplies_every_raids_count_rounded_and_at_least_one():
    assert [r.count for r in two_raids(2.0).raids] == [6, 10]
    assert [r.count for r in two_raids(0.5).raids] == [2, 3]      # 1.5 -> 2, 2.5 -> 3 (half up)
    from salvosim.engine.scenario import scaled_count
    # in decimal on the scale as written: 45 x 0.7 is 31.499999999999996 in binary
    assert [scaled_count(45, 0.7), scaled_count(25, 0.58), scaled_count(50, 0.29)] == [32, 15, 15]
    for count in range(1, 60):
        for hundredths in range(1, 400):
            exact_x2 = 2 * count * hundredths               # 200 x count x scale, an integer
            want = max(1, (exact_x2 + 100) // 200)          # half up, in integers
            assert scaled_count(count, hundredths / 100) == want, (count, hundredths)
    assert [r.count for r in two_raids(0.01).raids] == [1, 1]


def test_raid_scale_can_be_swept_and_the_report_sweeps_it():
    scn = two_raids()
    spec = parse_vary("scenario.raid_scale=1,3")
    counts = [[r.count for r in point_scenarios(scn, [spec], (v,), None)[0].scenario.raids]
              for v in spec.values]
    assert counts == [[3, 5], [9, 15]]
    assert default_report_vary(scn).startswith("scenario.raid_scale=")


def test_the_reports_default_sweep_keeps_to_scales_the_scenario_accepts():
    """A file `validate` accepts got no report when the default sweep's larger scales broke a
    limit: here a schedule of 4 launches 10 days apart (1.5 times as many would last past the
    schedule limit), and 100 raids of 45 at scale 0.5 (2,250 threats: the cap, computed from
    rounded counts, let 2.273 through, 10,200 threats)."""
    data = oracle_scenario(raids=[drone_raid(count=4, interval_s=864000.0)])
    long = scenario_from_data(data, "<test>")
    many = oracle_scenario(raids=[drone_raid(count=45, name=f"r{i}") for i in range(100)])
    many["scenario"]["raid_scale"] = 0.5
    many = scenario_from_data(many, "<test>")
    for scn in (long, many):
        text = default_report_vary(scn)
        spec = parse_vary(text)
        assert scn.header.raid_scale in spec.values and len(spec.values) >= 3, text
        for v in spec.values:                       # every one accepted (raises if not)
            point_scenarios(scn, [spec], (v,), None)
    assert max(parse_vary(default_report_vary(long)).values) == 1.0
    assert max(parse_vary(default_report_vary(many)).values) < 2.273


def test_the_typical_attack_is_one_with_the_median_number_of_leakers(warm_jit):
    res = run_scenario(two_raids(), reps=41, seed=2, threads=1, keep_outcomes=True)
    rep, leakers = typical_replication(res)
    fate = np.concatenate([b.fate for b in res.kept])
    per_attack = (fate == 3).sum(axis=1)
    assert leakers == int(np.median(per_attack)) and per_attack[rep] == leakers
