"""Issue 12: every number has a physical bound, the same rule whatever path sets it (file,
variant, --vary), and every mistake is one line on stderr (exit 2, no traceback, nothing
written) — including the inputs that used to hang the engines, exhaust memory or crash.

Each test is the reproducer of one reported case."""
import json
import math

import pytest

from salvosim.engine.schema import allowed_text, bounded, field_docs, field_meta, one_line
from tests import REPO_ROOT
from tests.cli_kit import run_cli
from tests.engine.test_bad_input import VALID

# The bad-input suite's valid base case (an Al Asad rocket raid), shared.
BASE = VALID

DRONES = '''\
[scenario]
name = "hardening drones"
base = "tower22"
layout = "2024"
replications = 10

[[raids]]
name = "drones"
type = "owa_small"
count = 2
launch = { bearing_deg = 70.0, range_km = 6.0 }
interval_s = 10.0
aim = "living_containers"
'''


def one_error(rc, err, *fragments):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("salvosim") and "error:" in lines[0], lines[0]
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    return lines[0]


def write(tmp_path, text, name="scenario.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_line(text, key, line):
    """The scenario text with the line of `key` replaced by `line` (or `line` appended)."""
    lines = text.splitlines()
    hits = [i for i, ln in enumerate(lines) if ln.startswith(f"{key} =")]
    if hits:
        lines[hits[0]] = line
    else:
        lines.append(line)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------
# 1. Hangs: times, distances, speeds and altitudes are bounded on loading
HANGS = [
    ("start_s", BASE, "start_s = 1e13", ["raids[0].start_s", "<= 2,592,000", "30 days"]),
    ("interval_s", BASE, "interval_s = 1e12", ["raids[0].interval_s", "<= 2,592,000"]),
    ("altitude_m", DRONES, "altitude_m = 1e12", ["raids[0].altitude_m", "<= 100,000", "100 km"]),
    ("speed_mps", BASE, "speed_mps = 1e-6", ["raids[0].speed_mps", ">= 1 and <= 10,000"]),
    ("jitter_s", BASE, "jitter_s = 1e9", ["raids[0].jitter_s", "<= 2,592,000"]),
    ("rate_per_min", DRONES.replace("interval_s = 10.0\n", ""), "rate_per_min = 1e-9",
     ["raids[0].rate_per_min", "every launch within 2,592,000 s"]),
    ("schedule", BASE, "interval_s = 2000000.0", ["raids[0].interval_s", "(count - 1)",
                                                  "within 2,592,000 s (30 days)"]),
    ("launch_spread_m", BASE, "launch_spread_m = 1e12", ["raids[0].launch_spread_m", "5,000 km"]),
    ("cep_m", BASE, "cep_m = 1e300", ["raids[0].cep_m", "<= 5,000,000"]),
]


@pytest.mark.parametrize("text, line, fragments", [c[1:] for c in HANGS],
                         ids=[c[0] for c in HANGS])
def test_a_value_that_would_hang_the_engines_is_refused_on_loading(text, line, fragments,
                                                                   tmp_path, capsys):
    path = write(tmp_path, replace_line(text, line.split(" =")[0], line))
    out = tmp_path / "results.json"
    # Refused on loading, before any engine work: a regression would hang here, not pass.
    rc, _, err = run_cli(["run", str(path), "--reps", "2", "--quiet", "--json", str(out)], capsys)
    one_error(rc, err, str(path), *fragments)
    assert not out.exists()


@pytest.mark.parametrize("table, fragments", [
    ('[[sensors]]\nname = "far"\ntype = "kurfs"\nbearing_deg = 0.0\nrange_km = 1e306\n',
     ["sensors[0].range_km", "<= 5,000 (km)"]),
    ('[[sensors]]\nname = "kurfs_x"\ntype = "kurfs"\neast_m = 0.0\nnorth_m = 0.0\n'
     'range_m = 1e12\n', ["sensors[0].range_m", "<= 5,000,000"]),
    ('[[units]]\nname = "cram_north"\nmax_engagements = 10000000\n',
     ["units[0].max_engagements", "<= 100"]),
    ('[[units]]\nname = "cram_north"\nmagazine = 100000000000000000000\n',
     ["units[0].magazine", "100000000000000000000 is out of range", "<= 1,000,000"]),
    ('[[units]]\nname = "cram_north"\nreaction_s = ' + "9" * 400 + "\n",
     ["units[0].reaction_s", "is out of range", "..."]),
    ('[[units]]\nname = "cram_north"\nchannels = 5000\n', ["units[0].channels", "<= 100"]),
    ('[[units]]\nname = "cram_north"\nshots_per_engagement_by_class = { rocket = 99 }\n',
     ["units[0].shots_per_engagement_by_class.rocket", "<= 16"]),
    ('[[units]]\nname = "cram_north"\nfacing_deg = 1e9\n', ["units[0].facing_deg", "<= 360"]),
    ('[[units]]\nname = "cram_north"\neast_m = 1e300\nnorth_m = 0.0\n',
     ["units[0].east_m", "<= 5,000,000"]),
])
def test_unit_and_sensor_numbers_are_bounded(table, fragments, tmp_path, capsys):
    path = write(tmp_path, BASE + "\n" + table)
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, str(path), *fragments)


def test_the_scenario_header_is_bounded(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("replications = 10", "replications = 10000000000"))
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "scenario.replications", "<= 10,000,000")


def test_threats_in_all_raids_together_are_bounded(tmp_path, capsys):
    raid = BASE[BASE.index("[[raids]]"):].replace("count = 3", "count = 6000").replace(
        "interval_s = 1.0", "interval_s = 0.1").replace('name = "rockets"', 'name = "rockets 2"')
    path = write(tmp_path, BASE.replace("count = 3", "count = 6000").replace(
        "interval_s = 1.0", "interval_s = 0.1") + "\n" + raid)
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "raids", "12,000 threats", "at most 10,000")


def test_a_raid_count_is_bounded(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("count = 3", "count = 10000000"))
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "raids[0].count", "<= 10,000")


def test_a_laser_keeps_speed_zero_but_a_missile_needs_a_real_speed():
    from salvosim.defenses import FireUnitType, load_fire_units
    meta = field_meta(next(f for f in __import__("dataclasses").fields(FireUnitType)
                           if f.name == "speed_mps"))
    assert allowed_text(meta) == "0, or >= 1 and <= 10,000 (m/s)"
    assert load_fire_units()["laser_50kw"].speed_mps == 0.0     # the catalog still loads


def test_declared_bounds_only_narrow_the_physical_ones():
    meta = bounded({"kind": "int", "lo": 0, "hi": 2 ** 63 - 1, "lo_open": False,
                    "choices": None}, "seed")
    assert meta["hi"] == 2 ** 63 - 1          # a seed keeps its own bound
    meta = bounded({"kind": "float", "lo": 0.0, "hi": None, "lo_open": True,
                    "choices": None}, "speed_mps")
    assert (meta["lo"], meta["hi"], meta["lo_open"]) == (1.0, 10_000.0, False)


@pytest.mark.parametrize("cls_name", ["ThreatType", "SensorType", "FireUnitType",
                                      "ScenarioHeader", "C2", "RaidTiming"])
def test_every_number_key_has_an_upper_bound_and_the_readme_shows_it(cls_name):

    from salvosim import defenses, threats
    from salvosim.engine import scenario
    cls = {"ThreatType": threats.ThreatType, "SensorType": defenses.SensorType,
           "FireUnitType": defenses.FireUnitType, "ScenarioHeader": scenario.ScenarioHeader,
           "C2": scenario.C2, "RaidTiming": scenario.RaidTiming}[cls_name]
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for key, kind, _default, allowed, _doc in field_docs(cls):
        if kind in ("float", "int", "class_map", "class_int_map"):
            assert "<=" in allowed, f"{cls_name}.{key} has no upper bound"
            row = next((ln for ln in readme.splitlines() if ln.startswith(f"| `{key}` |")
                        and allowed in ln), None)
            assert row is not None, f"README: no row of `{key}` shows {allowed!r}"


# ----------------------------------------------------------------------------------------
# 4. Memory from one integer: the same rule in a file, a variant and --vary
@pytest.mark.parametrize("vary, fragments", [
    ("units.cram.count=-1", ["-1", "0 .. 100"]),
    ("units.cram.count=20000", ["20000", "0 .. 100"]),
    ("units.cram_north.count=101", ["101", "0 .. 100"]),
    ("units.cram.max_engagements=10000000", ["max_engagements", "<= 100"]),
    ("raids.0.count=10000000", ["raids[0].count", "<= 10,000"]),
    ("c2.latency_s=0:1:1e-320", ["at most 500 grid points"]),
    ("c2.latency_s=0:1e300:1e-300", ["at most 500 grid points"]),
])
def test_vary_values_follow_the_same_bounds_as_the_file(vary, fragments, tmp_path, capsys):
    path = write(tmp_path, BASE)
    prefix = tmp_path / "sweep"
    rc, _, err = run_cli(["sweep", str(path), "--vary", vary, "--reps", "1", "--out",
                          str(prefix)], capsys)
    one_error(rc, err, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_a_variant_count_follows_the_same_rule(tmp_path, capsys):
    path = write(tmp_path, BASE + '\n[[variants]]\nname = "many"\n'
                 'units = [{ name = "cram_north", count = 20000 }]\n')
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "variants[0].units[0].count", "0 .. 100")


# ----------------------------------------------------------------------------------------
# 6. Other tracebacks
def test_toml_nested_three_thousand_deep_is_an_error(tmp_path, capsys):
    path = write(tmp_path, BASE + "deep = " + "[" * 3000 + "]" * 3000 + "\n")
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, str(path), "nested too deeply")


@pytest.mark.parametrize("area, fragments", [
    ("[[0.0, 0.0], [nan, 0.0], [100.0, 100.0]]", ["defended_area_m[1]", "finite"]),
    ("[[0.0, 0.0], [1e300, 0.0], [1e300, 1e300]]", ["defended_area_m[1]", "5,000 km"]),
    ("[[0.0, 0.0], [inf, 0.0], [1.0, 1.0]]", ["defended_area_m[1]"]),
    ("[[0.0, 0.0], [" + "9" * 400 + ", 0.0], [1.0, 1.0]]", ["defended_area_m[1]"]),
])
def test_bad_polygon_coordinates_are_one_line_without_shapely_warnings(area, fragments,
                                                                       tmp_path, capsys):
    path = write(tmp_path, BASE.replace('layout = "2020"',
                                        f'layout = "2020"\ndefended_area_m = {area}'))
    rc, _, err = run_cli(["map", str(path), "-o", str(tmp_path / "m.png")], capsys)
    one_error(rc, err, *fragments)
    assert not (tmp_path / "m.png").exists()


def test_trace_rep_beyond_int64_is_refused(tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, _, err = run_cli(["trace", str(path), "--rep", str(2 ** 64)], capsys)
    one_error(rc, err, "--rep", "0 .. 2^63-1")


def test_resuming_a_sweep_of_other_options_prints_only_its_error(tmp_path, capsys):
    """The sweep's plan line came before the check of the file to resume."""
    path = write(tmp_path, BASE)
    argv = ["sweep", str(path), "--vary", "raids.0.count=1,2", "--threads", "1", "--out",
            str(tmp_path / "sw")]
    rc, _, err = run_cli(argv + ["--reps", "1"], capsys)
    assert rc == 0, err
    before = (tmp_path / "sw.json").read_bytes()
    rc, out, err = run_cli(argv + ["--reps", "2", "--resume"], capsys)
    one_error(rc, err, "--resume", "different")
    assert out == "" and (tmp_path / "sw.json").read_bytes() == before


def test_report_refuses_a_second_vary(tmp_path, capsys):
    """report's --vary is one key (a saturation curve): a second one was silently dropped."""
    path = write(tmp_path, BASE)
    rc, out, err = run_cli(["report", str(path), "-o", str(tmp_path / "r.html"), "--vary",
                            "raids.0.count=1:3:1", "--vary", "scenario.raid_scale=1,2"], capsys)
    one_error(rc, err, "--vary given 2 times", "salvosim sweep")
    assert out == "" and not (tmp_path / "r.html").exists()


def test_a_damaged_resume_file_is_one_line(tmp_path, capsys):
    path = write(tmp_path, BASE)
    prefix = tmp_path / "sw"
    argv = ["sweep", str(path), "--vary", "raids.0.count=1,2", "--reps", "1", "--threads", "1",
            "--out", str(prefix)]
    rc, _, err = run_cli(argv, capsys)
    assert rc == 0, err
    record = json.loads((tmp_path / "sw.json").read_text())
    for damage in ({"results": "x"}, {"values": 5}, {"results": [{"variant": "baseline"}]}):
        broken = dict(record, points=[dict(record["points"][0], **damage)])
        (tmp_path / "sw.json").write_text(json.dumps(broken))
        rc, _, err = run_cli(argv + ["--resume"], capsys)
        one_error(rc, err, "--resume", "damaged")
    (tmp_path / "sw.json").write_text(json.dumps(dict(record, points={"a": 1})))
    rc, _, err = run_cli(argv + ["--resume"], capsys)
    one_error(rc, err, "--resume", "damaged")


# ----------------------------------------------------------------------------------------
# 7. Messages on one line; remove = true alone; warnings
@pytest.mark.parametrize("name", ["a\nb", "x\x1b[31mred", "tab\there", "cr\rhere"])
def test_a_name_with_control_characters_is_quoted_on_one_line(name, tmp_path, capsys):
    toml_name = json.dumps(name)      # a TOML basic string is a JSON string here
    path = write(tmp_path, BASE.replace('aim = "living_area_north"', f"aim = {toml_name}"))
    rc, _, err = run_cli(["validate", str(path)], capsys)
    line = one_error(rc, err, "raids[0].aim", "unknown asset")
    assert "\x1b" not in err and "\r" not in err
    assert repr(name)[1:-1] in line


def test_one_line_escapes_every_control_character():
    assert one_line("a\nb\x1b[0m\u2028c d") == "a\\nb\\x1b[0m\\u2028c d"


def test_remove_true_with_other_keys_is_an_error(tmp_path, capsys):
    path = write(tmp_path, BASE + '\n[[units]]\nname = "cram_north"\nremove = true\n'
                 'magazin = 3\n')
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "units[0].magazin", "'remove = true'", "name only")


def test_remove_true_with_other_keys_in_a_variant_is_an_error(tmp_path, capsys):
    path = write(tmp_path, BASE + '\n[[variants]]\nname = "v"\n'
                 'units = [{ name = "cram_north", remove = true, magazine = 3 }]\n')
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "variants[0].units[0].magazine", "name only")


@pytest.mark.parametrize("text, fragment", [
    (BASE + "altitude_m = 50.0\n", "raids[0].altitude_m: altitude_m does not apply to a rocket"),
    (DRONES + "apogee_m = 500.0\n", "raids[0].apogee_m: apogee_m does not apply to a drone"),
    (BASE + '\n[[units]]\nname = "cram_north"\ndwell_s = 2.0\n',
     "units[0].dwell_s: dwell_s does not apply to a gun"),
    (BASE + '\n[[sensors]]\nname = "cram_radar_north"\nrange_m = 300.0\n',
     "sensors[0].range_m: 300 m is an implausibly short sensor range"),
])
def test_implausible_or_inapplicable_overrides_warn_on_one_line(text, fragment, tmp_path,
                                                                capsys):
    path = write(tmp_path, text)
    rc, out, err = run_cli(["validate", str(path)], capsys)
    assert rc == 0, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("salvosim: warning:"), err
    assert fragment in lines[0]


def test_warnings_of_a_variant_name_the_variant(tmp_path, capsys):
    path = write(tmp_path, BASE + '\n[[variants]]\nname = "v"\n'
                 'units = [{ name = "cram_north", dwell_s = 2.0 }]\n')
    rc, _, err = run_cli(["validate", str(path)], capsys)
    assert rc == 0, err
    assert "variants[0].units[0].dwell_s" in err


def test_an_error_is_the_only_stderr_line_even_with_warnings(tmp_path, capsys):
    path = write(tmp_path, BASE + "altitude_m = 50.0\n")
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--json", ""], capsys)
    one_error(rc, err, "--json", "empty path")


def test_csv_cells_that_look_like_formulas_are_quoted_and_numbers_stay_numbers():
    from salvosim.engine.views.analysis import csv_safe
    assert csv_safe("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for text in ("+1", "-x", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(text) == "'" + text
    assert csv_safe(-1.5) == -1.5 and csv_safe(-3) == -3 and csv_safe("mix") == "mix"


def test_the_sweep_csv_quotes_a_formula_variant_name(tmp_path, capsys):
    path = write(tmp_path, BASE + '\n[[variants]]\nname = "=HYPERLINK(\\"x\\")"\n')
    rc, _, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=1,2", "--reps", "1",
                          "--threads", "1", "--out", str(tmp_path / "sw")], capsys)
    assert rc == 0, err
    rows = (tmp_path / "sw.csv").read_text().splitlines()[1:]
    assert all(",'=HYPERLINK" in r or "\"'=HYPERLINK" in r for r in rows), rows
    fields = rows[0].split(",")
    assert math.isfinite(float(fields[-1])) or fields[-1] == ""


def test_saturation_at_the_first_swept_value_reads_at_most():
    from salvosim.engine.views.analysis import saturation_value
    s = {"swept": [10, 200], "p_any_ge_0_5": 10, "leak_fraction_gt_0_1": 30}
    assert saturation_value(s, "p_any_ge_0_5") == "≤ 10"
    assert saturation_value(s, "leak_fraction_gt_0_1") == "30"
    assert saturation_value(dict(s, p_any_ge_0_5=None), "p_any_ge_0_5") == "not reached"


def test_a_sweep_warns_of_what_only_its_swept_values_raise(tmp_path, capsys):
    """A sensor range swept below 500 m warns as in a file (it said nothing): once per
    warning, with its grid point, at most ten lines and then a count."""
    path = str(REPO_ROOT / "scenarios" / "inline_base_example.toml")
    rc, _, err = run_cli(["sweep", path, "--vary", "sensors.kurfs.range_m=100:490:10",
                          "--reps", "1", "--threads", "1", "--out", "-"], capsys)
    assert rc == 0, err
    warnings = [ln for ln in err.splitlines() if ln.startswith("salvosim: warning:")]
    assert len(warnings) == 11 and "and 30 more at other grid points" in warnings[-1]
    assert "100 m is an implausibly short sensor range" in warnings[0]
    assert "(at --vary sensors.kurfs.range_m = 100)" in warnings[0]
