"""Analyst workflows: defense mixes ([[variants]]), key paths, --vary, paired comparisons on
common random numbers, sweeps that write as they go and resume, and saturation points."""
import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from salvosim.engine import variants
from salvosim.engine.compile import compile_scenario
from salvosim.engine.errors import UsageError
from salvosim.engine.montecarlo import iter_blocks
from salvosim.engine.schema import InputError
from salvosim.engine.variants import (
    apply_key,
    load_scenario,
    parse_key_path,
    parse_vary,
    parse_vary_list,
    point_scenarios,
    scenario_from_data,
    variants_of,
)
from salvosim.engine.views import analysis
from salvosim.engine.views.analysis import (
    PairedAccumulator,
    comparison_json,
    plan_sweep,
    run_paired,
    run_sweep,
    saturation_points,
)
from tests import REPO_ROOT  # noqa: E402

ROOT = REPO_ROOT
MIXES = str(ROOT / "scenarios" / "al_asad_mixes.toml")


@pytest.fixture(scope="module")
def mixes():
    return load_scenario(MIXES)


from tests.cli_kit import run_cli as _run  # noqa: E402


def _with_variants(scn, variants):
    data = copy.deepcopy(scn.raw)
    data["variants"] = variants
    return data


# ----------------------------------------------------------------------------------------
# Key paths
@pytest.mark.parametrize("text, section, selector, keys, kind", [
    ("raids.0.count", "raids", 0, ("count",), "int"),
    ("raids.east drones.interval_s", "raids", "east drones", ("interval_s",), "float"),
    ("raids.1.launch.range_km", "raids", 1, ("launch", "range_km"), "float"),
    ("units.cram_north.magazine", "units", "cram_north", ("magazine",), "int"),
    ("units.cram.count", "units", "cram", ("count",), "int"),
    ("units.cram.pk.drone", "units", "cram", ("pk", "drone"), "float"),
    ("sensors.kurfs.range_m", "sensors", "kurfs", ("range_m",), "float"),
    ("c2.latency_s", "c2", None, ("latency_s",), "float"),
    ("scenario.seed", "scenario", None, ("seed",), "int"),
])
def test_key_paths_name_a_section_an_entry_and_a_key(text, section, selector, keys, kind):
    kp = parse_key_path(text)
    assert (kp.section, kp.selector, kp.keys, kp.kind) == (section, selector, keys, kind)


@pytest.mark.parametrize("text, says", [
    ("foo.bar", "must start with scenario, c2, raids, units or sensors"),
    ("raid.0.count", "did you mean 'raids'"),
    ("raids.count", "names the entry and a key"),
    ("raids.0.cout", "did you mean 'count'"),
    ("units.0.magazine", "named, not numbered"),
    ("c2.network", "cannot be swept"),
    ("raids.0.launch.depth_m", "takes one of"),
    ("units.cram.pk.tank", "threat class"),
    ("c2.latency_s.x", "no keys below it"),
    ("raids..count", "not a key path"),
])
def test_a_bad_key_path_says_what_is_allowed(text, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_key_path(text)


def test_a_unit_only_in_the_layout_gets_an_override_table(mixes):
    data, counts = copy.deepcopy(variants.base_data(mixes)), {}
    apply_key(data, parse_key_path("units.cram_north.magazine"), 3000, mixes, counts)
    assert {"name": "cram_north", "magazine": 3000} in data["units"]
    scn = scenario_from_data(data, "x.toml")
    mags = {u.name: u.spec.magazine for u in scn.units}
    assert mags == {"cram_flightline": 1550, "cram_north": 3000, "cram_east": 1550,
                    "cram_west": 1550}


def test_a_catalog_type_selects_every_unit_of_that_type(mixes):
    data, counts = copy.deepcopy(variants.base_data(mixes)), {}
    apply_key(data, parse_key_path("units.cram.reaction_s"), 3.5, mixes, counts)
    scn = scenario_from_data(data, "x.toml")
    assert [u.spec.reaction_s for u in scn.units] == [3.5] * 4


def test_one_class_of_a_pk_table_changes_and_the_others_stay(mixes):
    variant = point_scenarios(mixes, parse_vary_list(["units.cram_west.pk.drone=0.2"]),
                              (0.2,))[0]
    pk = {u.name: u.spec.pk for u in variant.scenario.units}
    assert pk["cram_west"] == {"rocket": 0.6, "mortar": 0.6, "drone": 0.2, "cruise_missile": 0.4}
    assert pk["cram_east"]["drone"] == 0.6


def test_a_unit_count_keeps_the_first_units_or_adds_identical_ones_in_place(mixes):
    specs = parse_vary_list(["units.cram.count=2,6"])
    two = point_scenarios(mixes, specs, (2,))[0].scenario
    assert [u.name for u in two.units] == ["cram_flightline", "cram_north"]
    six = point_scenarios(mixes, specs, (6,))[0].scenario
    by_name = {u.name: u for u in six.units}
    assert len(six.units) == 6
    for copy_name, original in (("cram_flightline_2", "cram_flightline"),
                                ("cram_north_2", "cram_north")):
        a, b = by_name[copy_name], by_name[original]
        assert (a.east_m, a.north_m, a.sensor, a.spec) == (b.east_m, b.north_m, b.sensor, b.spec)
    one = point_scenarios(mixes, parse_vary_list(["units.cram_east.count=0"]), (0,))[0]
    assert "cram_east" not in [u.name for u in one.scenario.units]


def test_a_swept_key_holds_in_every_mix(mixes):
    points = point_scenarios(mixes, parse_vary_list(["raids.0.count=37", "c2.latency_s=0.5"]),
                             (37, 0.5))
    assert len(points) == 5
    assert all(v.scenario.raids[0].count == 37 and v.scenario.c2.latency_s == 0.5
               for v in points)


# ----------------------------------------------------------------------------------------
# --vary
def test_a_range_includes_stop_and_counts_stay_whole_numbers():
    spec = parse_vary("raids.0.count=10:200:10")
    assert spec.values == tuple(range(10, 201, 10))
    assert all(isinstance(v, int) for v in spec.values)
    assert parse_vary("c2.latency_s=0:1:0.25").values == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert parse_vary("c2.latency_s=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_vary("raids.0.count=5,10,40").values == (5, 10, 40)
    assert parse_vary("units.cram.magazine=150:450:150.0").values == (150, 300, 450)


@pytest.mark.parametrize("varies, says", [
    (["raids.0.count"], "expected KEY=START:STOP:STEP"),
    (["raids.0.count=a:b:c"], "START, STOP and STEP must be numbers"),
    (["raids.0.count=10:5:1"], "STOP (5) is below START (10)"),
    (["raids.0.count=1:10:0"], "STEP must be > 0"),
    (["raids.0.count=1:10:-2"], "STEP must be > 0"),
    (["raids.0.count=1:2"], "not a range"),
    (["nothing.here=1:2:1"], "must start with scenario, c2, raids, units or sensors"),
    (["raids.0.count=1:1000:1"], "at most 500"),
    (["raids.0.count=1:30:1", "c2.latency_s=0:29:1"], "900 grid points"),
    (["raids.0.count=1.5:3.5:1"], "whole numbers"),
    (["raids.0.count=0:10:5"], "value rejected at raids.0.count = 0"),
    (["raids.3.count=1:2:1"], "raid 3 does not exist"),
    (["units.patriot.magazine=1:2:1"], "no fire unit or fire-unit type 'patriot'"),
    (["raids.0.count=1:2:1", "raids.0.count=3:4:1"], "given more than once"),
    # the same value by two names: one would silently override the other at every point
    (["raids.0.count=1,2", "raids.east drones.count=5"], "both set count of raid 0"),
    (["units.cram.pk.drone=0.5,0.6", "units.cram_north.pk.drone=0.4"],
     "both set pk.drone of fire unit(s) cram_north"),
    # two position forms of one unit: the second placed it anew and dropped the first's value
    (["units.cram_north.east_m=0,100", "units.cram_north.range_km=2"],
     "both set the position of fire unit(s) cram_north"),
    (["scenario.replications=1,5"], "cannot be varied point by point"),
])
def test_bad_vary_is_one_clear_line_exit_2_and_no_output(tmp_path, capsys, varies, says):
    out = tmp_path / "sw"
    argv = ["sweep", MIXES, "--reps", "2", "--out", str(out), "--plot", str(tmp_path / "s.png")]
    for v in varies:
        argv += ["--vary", v]
    rc, stdout, err = _run(argv, capsys)
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("salvosim: error: --vary"), err
    assert says in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("section, name, key, value, keeps", [
    ("units", "cram_north", "east_m", 100.0, "north"),
    ("units", "cram_north", "range_km", 2.5, "bearing"),
    ("units", "cram_north", "bearing_deg", 90.0, "range"),
    ("sensors", "cram_radar_north", "lat_deg", 33.8, "lat only"),
])
def test_one_coordinate_of_a_placed_unit_or_sensor_can_be_swept(section, name, key, value,
                                                                  keeps):
    """A position form needs both its keys: a sweep of one of them keeps the other where the
    unit or sensor is now (it failed at every point: "'east_m' and 'north_m' go together")."""
    scn = load_scenario(MIXES)
    before = next(p for p in getattr(scn, section) if p.name == name)
    spec = variants.parse_vary(f"{section}.{name}.{key}={value}")
    for v in variants.point_scenarios(scn, [spec], (value,)):
        p = next(p for p in getattr(v.scenario, section) if p.name == name)
        bearing0 = math.atan2(before.east_m, before.north_m)
        if keeps == "north":
            assert (p.east_m, p.north_m) == (value, before.north_m)
        elif keeps == "bearing":
            assert math.hypot(p.east_m, p.north_m) == pytest.approx(value * 1000.0)
            assert math.atan2(p.east_m, p.north_m) == pytest.approx(bearing0)
        elif keeps == "range":
            assert p.east_m == pytest.approx(math.hypot(before.east_m, before.north_m))
            assert p.north_m == pytest.approx(0.0, abs=1e-9)
        else:                      # 33.8 deg is ~1.56 km north of the base's 33.786; its lon
            assert p.north_m == pytest.approx(1557.0, abs=2.0)
            assert p.east_m == pytest.approx(before.east_m, abs=1.0)


def test_one_coordinate_of_a_raids_launch_point_can_be_swept():
    """The mixes' raid is launched at bearing 80, range 250 km: raids.0.launch.east_m failed at
    every point ("give one position form only"); it now keeps north_m where the launch is, and
    range_km keeps the bearing."""
    scn = load_scenario(MIXES)
    before = scn.raids[0]
    for text, value in (("raids.0.launch.east_m", 5000.0), ("raids.0.launch.range_km", 20.0)):
        spec = variants.parse_vary(f"{text}={value}")
        for v in variants.point_scenarios(scn, [spec], (value,)):
            r = v.scenario.raids[0]
            if text.endswith("east_m"):
                assert (r.launch_e, r.launch_n) == (5000.0, pytest.approx(before.launch_n))
            else:
                assert math.hypot(r.launch_e, r.launch_n) == pytest.approx(20000.0)
                assert math.atan2(r.launch_e, r.launch_n) == pytest.approx(math.radians(80.0))
    with pytest.raises(UsageError, match="both set the position of raid 0"):
        variants.point_scenarios(scn, variants.parse_vary_list(
            ["raids.0.launch.east_m=5000", "raids.0.launch.range_km=20"]), (5000.0, 20.0))


def test_vary_without_the_option_is_a_usage_error(capsys):
    rc, _, err = _run(["sweep", MIXES], capsys)
    assert rc == 2 and "--vary" in err


# ----------------------------------------------------------------------------------------
# Variants
def test_a_file_without_variants_is_the_single_variant_baseline():
    scn = load_scenario(ROOT / "scenarios" / "al_asad_rockets.toml")
    [v] = variants_of(scn)
    assert v.name == "baseline" and v.scenario is scn


def test_a_variant_sets_the_count_of_a_catalog_type_as_a_sweep_does(mixes):
    """{ name = <type>, count = N } in [[variants]] (as units.<type>.count in --vary): it was
    taken for a new unit and refused with "missing required key 'type'"."""
    data = _with_variants(mixes, [{"name": "six", "units": [{"name": "cram", "count": 6}]},
                                  {"name": "two", "units": [{"name": "cram", "count": 2}]}])
    six, two = variants_of(scenario_from_data(data, "mix.toml"))
    crams = [[u.name for u in v.scenario.units if u.spec.id == "cram"] for v in (six, two)]
    assert crams[0] == ["cram_flightline", "cram_north", "cram_east", "cram_west",
                        "cram_flightline_2", "cram_north_2"]
    assert crams[1] == ["cram_flightline", "cram_north"]
    spec = variants.parse_vary("units.cram.count=6")
    [swept, *_] = variants.point_scenarios(mixes, [spec], (6,))
    assert [u.name for u in swept.scenario.units if u.spec.id == "cram"] == crams[0]
    bad = _with_variants(mixes, [{"name": "typo", "units": [{"name": "cramm", "count": 6}]}])
    with pytest.raises(InputError, match=r"variants\[0\]\.units\[0\]\.count.*no fire unit "
                                         r"or fire-unit type 'cramm'.*did you mean 'cram'"):
        variants_of(scenario_from_data(bad, "mix.toml"))


def test_variants_merge_by_name_remove_switch_layout_and_override_c2(mixes):
    data = _with_variants(mixes, [
        {"name": "changed", "c2": {"latency_s": 7.0},
         "units": [{"name": "cram_west", "remove": True},
                   {"name": "cram_east", "magazine": 300, "east_m": 100.0, "north_m": 50.0},
                   {"name": "cram_north", "count": 2}]},
        {"name": "layout 2024", "layout": "2024",
         "units": [{"name": "patriot_east", "remove": True}]}])
    changed, later = variants_of(scenario_from_data(data, "mix.toml"))
    units = {u.name: u for u in changed.scenario.units}
    assert sorted(units) == ["cram_east", "cram_flightline", "cram_north", "cram_north_2"]
    assert units["cram_east"].spec.magazine == 300
    assert (units["cram_east"].east_m, units["cram_east"].north_m) == (100.0, 50.0)
    assert changed.scenario.c2.latency_s == 7.0
    assert later.scenario.header.layout == "2024"
    names = [u.name for u in later.scenario.units]
    assert "avenger_east" in names and "patriot_east" not in names
    assert later.scenario.c2.latency_s == 2.0          # mixes do not leak into each other


@pytest.mark.parametrize("variants, path, says", [
    ([{"name": "a"}, {"name": "b", "units": [{"name": "x", "type": "avengr", "east_m": 0.0,
                                                "north_m": 0.0}]}],
     "variants[1].units[0].type", "did you mean 'avenger'"),
    ([{"name": "a", "c2": {"latency_s": -1.0}}], "variants[0].c2.latency_s", "out of range"),
    ([{"name": "a", "layout": "2030"}], "variants[0].layout", "unknown layout"),
    ([{"name": "a", "units": [{"name": "ghost", "remove": True}]}],
     "variants[0].units[0].name", "cannot remove 'ghost'"),
    ([{"name": "a", "units": [{"name": "cram_east", "magazin": 3}]}],
     "variants[0].units[0].magazin", "did you mean 'magazine'"),
    ([{"name": "a", "unit": []}], "variants[0].unit", "did you mean 'units'"),
    ([{"name": "a"}, {"name": "a"}], "variants[1].name", "duplicate variant name"),
    ([{"description": "x"}], "variants[0]", "non-empty string 'name'"),
    ([{"name": "a", "units": [{"name": "cram_east", "count": -1}]}],
     "variants[0].units[0].count", "expected a whole number"),
])
def test_a_mistake_in_a_variant_names_the_file_and_key_path(mixes, variants, path, says):
    with pytest.raises(InputError) as info:
        scenario_from_data(_with_variants(mixes, variants), "mix.toml")
    assert info.value.file == "mix.toml"
    assert info.value.key_path == path
    assert says in info.value.message


def test_validate_checks_the_variants_of_a_file(tmp_path, capsys):
    text = Path(MIXES).read_text().replace('type = "coyote_b2"', 'type = "coyote_b3"', 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    rc, _, err = _run(["validate", str(bad)], capsys)
    assert rc == 2
    assert "variants[2].units[0].type: unknown fire unit type 'coyote_b3'" in err


# ----------------------------------------------------------------------------------------
# Paired comparison on common random numbers
def test_every_mix_meets_the_same_threats(mixes, warm_jit):
    variants = point_scenarios(mixes, parse_vary_list(["raids.0.count=12"]), (12,))
    draws = []
    for v in variants:
        sc, _ = compile_scenario(v.scenario)
        [block] = list(iter_blocks(sc, 16, seed=5, threads=1))
        draws.append((block.impact_e, block.impact_n))
    for e, n in draws[1:]:
        assert np.array_equal(e, draws[0][0]) and np.array_equal(n, draws[0][1])


def test_paired_cis_are_narrower_than_unpaired_for_similar_mixes(mixes, warm_jit):
    """Common random numbers: the two mixes' leakers are positively correlated replication
    by replication, so the variance of the difference is below the sum of the variances."""
    variants = point_scenarios(mixes, parse_vary_list(["raids.0.count=20"]), (20,))
    similar = [variants[0], variants[3]]          # 2020 C-RAM only, +laser
    run = run_paired(similar, reps=300, seed=11, threads=1, block_reps=128)
    for metric in ("leakers", "asset_hits", "value_hit"):
        mean_p, lo_p, hi_p = run.paired.paired(1, metric)
        mean_u, lo_u, hi_u = run.paired.unpaired(1, metric)
        assert mean_p == pytest.approx(mean_u)
        assert 0 < hi_p - lo_p < hi_u - lo_u, metric
    # the laser kills some drones: fewer leakers, and the paired CI says so
    assert run.paired.paired(1, "leakers")[2] < 0


def test_a_mix_compared_with_itself_differs_by_exactly_zero(mixes, warm_jit):
    v = variants_of(mixes)[0]
    run = run_paired([v, v], reps=50, seed=3, threads=1)
    cmp = comparison_json(run)
    d = cmp["variants"][1]["vs_reference"]["leakers"]
    assert d["mean"] == 0.0 and d["paired_ci95"] == [0.0, 0.0]
    assert d["unpaired_ci95"][1] > 0.0


def test_the_paired_accumulator_equals_statistics_of_all_replications(rng):
    """Sums over blocks give the same means and CIs as the stored replications would (the
    CI's factor, Student's t with 499 degrees of freedom, is tested in test_outcomes.py)."""
    from salvosim.engine.results import t_975
    x = rng.normal(3.0, 1.0, size=(500, 6))
    y = x + rng.normal(-0.5, 0.3, size=(500, 6))
    acc = PairedAccumulator(2)
    for k in range(0, 500, 64):
        acc.add([x[k:k + 64], y[k:k + 64]])
    d = y[:, 0] - x[:, 0]
    mean, lo, hi = acc.paired(1, "leakers")
    half = t_975(499) * d.std(ddof=1) / math.sqrt(500)
    assert mean == pytest.approx(d.mean()) and hi - lo == pytest.approx(2 * half)
    _, ulo, uhi = acc.unpaired(1, "leakers")
    uhalf = t_975(499) * math.sqrt((x[:, 0].var(ddof=1) + y[:, 0].var(ddof=1)) / 500)
    assert uhi - ulo == pytest.approx(2 * uhalf)


def test_compare_prints_paired_differences_and_writes_json(tmp_path, capsys, warm_jit):
    out = tmp_path / "cmp.json"
    rc, text, err = _run(["compare", MIXES, "--reps", "40", "--threads", "1", "--json",
                          str(out)], capsys)
    assert rc == 0, err
    assert "paired" in text and "+Coyote/LIDS" in text
    cmp = json.loads(out.read_text())
    assert cmp["reference"] == "2020 C-RAM only" and cmp["replications"] == 40
    assert [r["variant"] for r in cmp["variants"]] == ["2020 C-RAM only", "+Avenger",
                                                       "+Coyote/LIDS", "+laser", "2024 full"]
    assert cmp["variants"][0]["vs_reference"] is None
    for r in cmp["variants"][1:]:
        assert set(r["vs_reference"]) == set(analysis.METRICS)
        assert r["same_threats_as_reference"]


def test_compare_several_files_names_each_mix_by_its_file(tmp_path, capsys, warm_jit):
    rockets = str(ROOT / "scenarios" / "al_asad_rockets.toml")
    rc, text, err = _run(["compare", rockets, MIXES, "--reps", "4", "--threads", "1"], capsys)
    assert rc == 0, err
    assert "al_asad_rockets" in text and "al_asad_mixes: 2024 full" in text
    assert "not common-random-number pairs" in text      # different raids: said so


# ----------------------------------------------------------------------------------------
# Sweeps
def _sweep(argv_extra, prefix, capsys):
    rc, out, err = _run(["sweep", MIXES, "--vary", "raids.0.count=10:60:25", "--reps", "24",
                         "--threads", "1", "--out", str(prefix), *argv_extra], capsys)
    assert rc == 0, err
    return out


def test_leakers_rise_with_raid_size_and_differ_between_mixes(tmp_path, capsys, warm_jit):
    _sweep([], tmp_path / "sw", capsys)
    record = json.loads((tmp_path / "sw.json").read_text())
    assert record["complete"] and len(record["points"]) == 3
    first, last = record["points"][0]["results"], record["points"][-1]["results"]
    by_name = {r["variant"]: r for r in last}
    for a, b in zip(first, last):
        assert b["leakers"]["mean"] >= a["leakers"]["mean"]
        assert b["p_any"]["value"] >= a["p_any"]["value"]
    # 60 drones against C-RAM alone: far more leakers than against the 2024 layout
    assert (by_name["2020 C-RAM only"]["leakers"]["ci95"][0]
            > by_name["2024 full"]["leakers"]["ci95"][1])
    assert first[0]["leakers"]["ci95"][1] < last[0]["leakers"]["ci95"][0]
    rows = (tmp_path / "sw.csv").read_text().splitlines()
    assert rows[0].startswith("point,raids.0.count,variant,reps,seed,threats,leakers_mean")
    assert len(rows) == 1 + 3 * 5


def test_the_same_seed_gives_the_same_sweep_files(tmp_path, capsys, warm_jit):
    _sweep([], tmp_path / "a", capsys)
    _sweep(["--threads", "2"] if analysis.available_threads() >= 2 else [], tmp_path / "b",
           capsys)
    a, b = (json.loads((tmp_path / f"{p}.json").read_text()) for p in "ab")
    assert a == b
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_an_interrupted_sweep_leaves_valid_files_and_resumes_to_the_same_results(
        tmp_path, capsys, warm_jit, mixes):
    full = tmp_path / "full"
    _sweep([], full, capsys)
    part = tmp_path / "part"
    plan = plan_sweep(mixes, parse_vary_list(["raids.0.count=10:60:25"]), None, 24)

    def stop_after_first(_index):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, str(part), threads=1, after_point=stop_after_first,
                  print_line=lambda _line: None)
    partial = json.loads((tmp_path / "part.json").read_text())   # complete, valid JSON
    assert not partial["complete"] and len(partial["points"]) == 1
    assert len((tmp_path / "part.csv").read_text().splitlines()) == 1 + 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.csv", "full.json", "part.csv",
                                                          "part.json"]   # no temporary files
    out = _sweep(["--resume"], part, capsys)
    assert "resuming" in out and "1 of 3 points done" in out
    assert (tmp_path / "part.json").read_text() == (tmp_path / "full.json").read_text()
    assert (tmp_path / "part.csv").read_text() == (tmp_path / "full.csv").read_text()


def test_resume_skips_the_points_of_a_partial_file(tmp_path, capsys, warm_jit):
    full = tmp_path / "full"
    _sweep([], full, capsys)
    record = json.loads((tmp_path / "full.json").read_text())
    kept = record["points"][0]
    record["points"] = [kept, record["points"][2]]
    record["complete"] = False
    kept["results"][0]["leakers"]["mean"] = -123.0        # a marker: kept, not recomputed
    (tmp_path / "half.json").write_text(json.dumps(record))
    out = _sweep(["--resume"], tmp_path / "half", capsys)
    assert "2 of 3 points done" in out
    resumed = json.loads((tmp_path / "half.json").read_text())
    assert resumed["complete"]
    assert resumed["points"][0]["results"][0]["leakers"]["mean"] == -123.0
    assert resumed["points"][1] == json.loads((tmp_path / "full.json").read_text())["points"][1]


@pytest.mark.parametrize("extra, says", [(["--reps", "25"], "replications"),
                                         (["--seed", "9"], "different seed"),
                                         (["--vary", "c2.latency_s=1,2"], "--vary options")])
def test_resume_refuses_a_file_made_with_other_options(tmp_path, capsys, warm_jit, extra, says):
    _sweep([], tmp_path / "sw", capsys)
    before = (tmp_path / "sw.json").read_text()
    argv = ["sweep", MIXES, "--vary", "raids.0.count=10:60:25", "--reps", "24", "--threads",
            "1", "--out", str(tmp_path / "sw"), "--resume"]
    if extra[0] == "--reps":
        argv[argv.index("--reps") + 1] = extra[1]
    else:
        argv += extra
    rc, _, err = _run(argv, capsys)
    assert rc == 2 and says in err and err.count("\n") == 1
    assert (tmp_path / "sw.json").read_text() == before


def test_resume_refuses_a_file_that_is_not_a_sweep(tmp_path, capsys):
    (tmp_path / "sw.json").write_text("{ not json")
    rc, _, err = _run(["sweep", MIXES, "--vary", "raids.0.count=10", "--out",
                       str(tmp_path / "sw"), "--resume"], capsys)
    assert rc == 2 and "--resume: cannot read" in err


def test_saturation_point_is_the_smallest_swept_value_reaching_each_threshold():
    def row(variant, p, frac):
        return {"variant": variant, "p_any": {"value": p}, "leak_fraction": {"mean": frac}}

    record = {"keys": ["raids.0.count"], "points": [
        {"index": i, "values": {"raids.0.count": n},
         "results": [row("weak", p_weak, f_weak), row("strong", 0.0, 0.0)]}
        for i, (n, p_weak, f_weak) in enumerate([(10, 0.2, 0.02), (20, 0.5, 0.08),
                                                 (30, 0.9, 0.10), (40, 1.0, 0.30)])]}
    sat = {s["variant"]: s for s in saturation_points(record)}
    assert sat["weak"]["p_any_ge_0_5"] == 20
    assert sat["weak"]["leak_fraction_gt_0_1"] == 40           # 10 % is not above 10 %
    assert sat["strong"]["p_any_ge_0_5"] is None
    assert sat["strong"]["leak_fraction_gt_0_1"] is None


def test_sweep_prints_a_line_per_point_and_mix_and_the_saturation_summary(tmp_path, capsys,
                                                                          warm_jit):
    out = _sweep(["--plot", str(tmp_path / "sat.svg")], tmp_path / "sw", capsys)
    assert "Saturation points along raids.0.count" in out
    assert out.count("2024 full") >= 4         # three points and the summary
    assert (tmp_path / "sat.svg").read_text().lstrip().startswith("<?xml")


def test_a_bad_plot_suffix_is_refused_before_anything_runs(tmp_path, capsys):
    rc, _, err = _run(["sweep", MIXES, "--vary", "raids.0.count=10", "--out",
                       str(tmp_path / "sw"), "--plot", str(tmp_path / "sat.pdf")], capsys)
    assert rc == 2 and ".png or .svg" in err
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_come_from_the_cli_module():
    with pytest.raises(UsageError):
        parse_vary("raids.0.count")


def test_the_saturation_text_names_the_swept_span_whatever_the_order(tmp_path, capsys, warm_jit):
    """A descending list (40,20,10) read "'not reached' within 40 .. 40"."""
    rc, out, err = _run(["sweep", MIXES, "--vary", "raids.0.count=30,20,10", "--reps", "4",
                         "--threads", "1", "--out", str(tmp_path / "d")], capsys)
    assert rc == 0, err
    assert "'not reached' within 10 .. 30)" in out
    record = json.loads((tmp_path / "d.json").read_text())
    assert all(s["swept"] == [10, 30] for s in record["saturation"])
