"""Every user mistake ends as exactly one line on stderr naming the file, the key path and what
is allowed; exit status 2; no traceback; and no output file is written.

Each case edits a small valid scenario (al_asad, layout 2020, one raid of 3 rockets), writes it
to tmp_path and runs the CLI in-process."""

import pytest

from salvosim.engine.cli import main

VALID = '''\
[scenario]
name = "bad-input base case"
base = "al_asad"
layout = "2020"
replications = 10

[[raids]]
name = "rockets"
type = "rocket_107mm"
count = 3
launch = { bearing_deg = 0.0, range_km = 7.5 }
interval_s = 1.0
aim = "living_area_north"
'''


def edited(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def appended(text: str) -> str:
    """Keys after the last [[raids]] table belong to it; tables after it are new tables."""
    return VALID + text


# (id, scenario text, command, fragments the single error line must contain besides the file)
CASES = [
    ("malformed_toml", VALID + "\n[[raids]\n", "map",
     ["malformed TOML", "line 15"]),
    ("unknown_top_level_key", edited("[scenario]", "[scenaro]"), "validate",
     ["scenaro", "unknown key", "did you mean 'scenario'", "allowed: c2, raids, scenario"]),
    ("unknown_raid_key", appended("cuont = 3\n"), "map",
     ["raids[0].cuont", "did you mean 'count'", "allowed: aim"]),
    ("unknown_threat_type", edited('"rocket_107mm"', '"rocket_107"'), "map",
     ["raids[0].type", "unknown threat type 'rocket_107'", "did you mean 'rocket_107mm'",
      "allowed: decoy_drone"]),
    ("unknown_unit_type", appended('\n[[units]]\nname = "gun_x"\ntype = "cramm"\n'
                                   'east_m = 0.0\nnorth_m = 0.0\n'), "validate",
     ["units[0].type", "unknown fire unit type 'cramm'", "did you mean 'cram'",
      "allowed: avenger, coyote_b2, cram"]),
    ("unknown_aim_asset", edited('aim = "living_area_north"', 'aim = "living_area"'), "map",
     ["raids[0].aim", "unknown asset 'living_area'", "allowed: 'random_asset'",
      "living_area_north"]),
    ("unknown_layout", edited('layout = "2020"', 'layout = "2025"'), "map",
     ["scenario.layout", "unknown layout '2025'", "allowed: 2020, 2024"]),
    ("unknown_base", edited('base = "al_asad"', 'base = "al_assad"'), "validate",
     ["scenario.base", "unknown base 'al_assad'", "did you mean 'al_asad'", "allowed: al_asad"]),
    ("string_for_a_number", edited("range_km = 7.5", 'range_km = "7.5"'), "map",
     ["raids[0].launch.range_km", "expected a number, got string '7.5'"]),
    ("negative_count", edited("count = 3", "count = -3"), "map",
     ["raids[0].count", "-3 is out of range", "allowed: >= 1"]),
    ("zero_count", edited("count = 3", "count = 0"), "validate",
     ["raids[0].count", "0 is out of range", "allowed: >= 1"]),
    ("count_not_an_integer", edited("count = 3", "count = 3.5"), "validate",
     ["raids[0].count", "expected an integer"]),
    ("launch_below_min_range", edited("range_km = 7.5", "range_km = 1.5"), "map",
     ["raids[0].launch.range_km", "0.25 km", "rocket_107mm (1 .. 8.5 km)"]),
    ("launch_above_max_range", edited("range_km = 7.5", "range_km = 12.0"), "map",
     ["raids[0].launch.range_km", "10.45 km", "rocket_107mm (1 .. 8.5 km)"]),
    ("self_intersecting_defended_area",
     edited('layout = "2020"', 'layout = "2020"\ndefended_area_m = [[0.0, 0.0], [2000.0, 1000.0], '
            '[2000.0, 0.0], [0.0, 1500.0]]'), "map",
     ["scenario.defended_area_m", "polygon is invalid", "Self-intersection"]),
    ("aim_point_outside_the_map",
     edited('aim = "living_area_north"', 'aim = { east_m = 0.0, north_m = 20000.0 }')
     .replace("range_km = 7.5", "range_km = 25.0").replace("rocket_107mm", "rocket_122mm"), "map",
     ["raids[0].aim", "outside the map", "allowed within 10 km of the base perimeter"]),
    ("interval_and_rate_both", appended("rate_per_min = 2.0\n"), "validate",
     ["raids[0].rate_per_min", "give interval_s (fixed schedule) or rate_per_min", "not both"]),
    ("random_asset_beyond_range", edited('aim = "living_area_north"', 'aim = "random_asset"'),
     "validate", ["raids[0].launch.range_km", "aim = 'random_asset' may pick any asset",
                  "outside the range of rocket_107mm (1 .. 8.5 km)"]),
    ("jitter_with_poisson_arrivals", edited("interval_s = 1.0", "rate_per_min = 2.0\njitter_s = 5.0"),
     "validate", ["raids[0].jitter_s", "fixed schedule", "rate_per_min: 0 or no jitter_s"]),
    ("ingress_on_a_ballistic_threat",
     appended("ingress_bearing_deg = 270.0\ningress_distance_m = 5000.0\n"), "map",
     ["raids[0].ingress_bearing_deg", "only drones and cruise missiles", "not a rocket"]),
    ("ingress_route_beyond_the_range",      # 2 x 5,000 km flown by a 300 km drone
     edited("rocket_107mm", "owa_small")
     + "ingress_bearing_deg = 260.0\ningress_distance_m = 5000000.0\n", "validate",
     ["raids[0].ingress_distance_m", "launch -> ingress waypoint -> target is 10,00",
      "longer than the range of owa_small (300 km)", "allowed: a route of at most 300 km"]),
    ("remove_a_unit_that_does_not_exist",
     appended('\n[[units]]\nname = "cram_nort"\nremove = true\n'), "map",
     ["units[0].name", "cannot remove 'cram_nort'", "did you mean 'cram_north'",
      "entries: cram_east"]),
    ("unit_with_unknown_sensor", appended('\n[[units]]\nname = "cram_north"\nsensor = "radar_x"\n'),
     "validate", ["units[0].sensor", "unknown sensor 'radar_x'", "allowed: cram_radar_east"]),
    ("pk_above_one", appended('\n[[units]]\nname = "cram_north"\npk = { rocket = 1.5 }\n'), "map",
     ["units[0].pk.rocket", "1.5 is out of range", "allowed: >= 0 and <= 1"]),
    ("unknown_class_in_pk", appended('\n[[units]]\nname = "cram_north"\npk = { rockets = 0.5 }\n'),
     "validate", ["units[0].pk.rockets", "did you mean 'rocket'", "allowed: ballistic_missile"]),
    ("threat_override_out_of_range", appended("reliability = 1.2\n"), "map",
     ["raids[0].reliability", "1.2 is out of range", "allowed: >= 0 and <= 1"]),
    ("removing_a_sensor_a_unit_needs",
     appended('\n[[sensors]]\nname = "cram_radar_north"\nremove = true\n'), "map",
     ["sensors[0].remove", "cannot remove sensor 'cram_radar_north'", "fire unit 'cram_north'"]),
    ("duplicate_unit_names",
     appended('\n[[units]]\nname = "gun_x"\ntype = "cram"\neast_m = 0.0\nnorth_m = 0.0\n'
              '\n[[units]]\nname = "gun_x"\ntype = "cram"\neast_m = 50.0\nnorth_m = 0.0\n'),
     "validate", ["units[1].name", "duplicate name 'gun_x'"]),
    ("unknown_c2_priority", appended('\n[c2]\npriority = "fastest"\n'), "map",
     ["c2.priority", "'fastest' is not allowed", "allowed: nearest, time_to_impact, value"]),
    ("missing_launch", edited("launch = { bearing_deg = 0.0, range_km = 7.5 }\n", ""), "validate",
     ["raids[0]", "missing required key 'launch'"]),
    ("two_position_forms",
     edited("launch = { bearing_deg = 0.0, range_km = 7.5 }",
            "launch = { bearing_deg = 0.0, range_km = 7.5, east_m = 0.0, north_m = 7500.0 }"),
     "map", ["raids[0].launch", "give one position form only"]),
    ("latitude_out_of_range",
     edited("launch = { bearing_deg = 0.0, range_km = 7.5 }", "launch = { lat_deg = 95.0, "
            "lon_deg = 42.441 }"), "validate",
     ["raids[0].launch.lat_deg", "95.0 is out of range", "allowed: >= -90 and <= 90"]),
    ("negative_seed", edited("replications = 10", "replications = 10\nseed = -1"), "validate",
     ["scenario.seed", "-1 is out of range", "allowed: >= 0 and <= 9223372036854775807"]),
    ("duplicate_raid_name", appended('\n[[raids]]\nname = "rockets"\ntype = "rocket_107mm"\n'
                                     'count = 2\nlaunch = { bearing_deg = 90.0, range_km = 7.5 }\n'
                                     'aim = "living_area_north"\n'), "validate",
     ["raids[1].name", "duplicate raid name 'rockets'", "give each raid its own name"]),
    ("duplicate_default_raid_name",
     edited('name = "rockets"\n', "") + '\n[[raids]]\ntype = "rocket_107mm"\ncount = 2\n'
     'launch = { bearing_deg = 90.0, range_km = 7.5 }\naim = "living_area_north"\n', "validate",
     ["raids[1]", "duplicate raid name 'rocket_107mm'", "named after its type"]),
    ("unit_at_the_antipode", appended('\n[[units]]\nname = "far_gun"\ntype = "cram"\n'
                                      'lat_deg = -33.8\nlon_deg = -137.6\n'), "validate",
     ["units", "lat_deg -33.8, lon_deg -137.6", "allowed: within 5,000 km"]),
]


def _run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:   # argparse errors exit through SystemExit
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_clear_error(rc, err, fragments):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("salvosim") and "error:" in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def _argv(command, scenario, out_dir):
    if command == "validate":
        return ["validate", str(scenario)], None
    if command == "map":
        out = out_dir / "map.png"
        return ["map", str(scenario), "-o", str(out)], out
    if command == "run":
        out = out_dir / "results.json"
        return ["run", str(scenario), "--reps", "2", "--quiet", "--json", str(out)], out
    raise ValueError(command)


def test_the_base_case_is_valid(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    rc, out, err = _run(["validate", str(scenario)], capsys)
    assert rc == 0, err
    assert "ok" in out


def test_there_are_at_least_twenty_bad_input_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("text, command, fragments", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_scenario_gives_one_clear_error_and_no_output(text, command, fragments, tmp_path,
                                                          capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text)
    argv, out = _argv(command, scenario, tmp_path)
    rc, _, err = _run(argv, capsys)
    assert_one_clear_error(rc, err, [str(scenario)] + fragments)
    if out is not None:
        assert not out.exists()


RUN_CASES = ["unknown_raid_key", "negative_count", "launch_above_max_range", "pk_above_one",
             "ingress_on_a_ballistic_threat", "removing_a_sensor_a_unit_needs"]


@pytest.mark.parametrize("case", RUN_CASES)
def test_run_rejects_a_bad_scenario_before_writing_results(case, tmp_path, capsys):
    _, text, _, fragments = next(c for c in CASES if c[0] == case)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text)
    argv, out = _argv("run", scenario, tmp_path)
    rc, _, err = _run(argv, capsys)
    assert_one_clear_error(rc, err, [str(scenario)] + fragments)
    assert not out.exists()


def test_a_missing_file_is_named(tmp_path, capsys):
    missing = tmp_path / "no_such_scenario.toml"
    out = tmp_path / "map.png"
    rc, _, err = _run(["map", str(missing), "-o", str(out)], capsys)
    assert_one_clear_error(rc, err, [str(missing), "file does not exist"])
    assert not out.exists()


def test_a_missing_file_is_named_by_validate(tmp_path, capsys):
    missing = tmp_path / "no_such_scenario.toml"
    rc, _, err = _run(["validate", str(missing)], capsys)
    assert_one_clear_error(rc, err, [str(missing), "file does not exist"])


def test_zero_replications_are_refused(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    out = tmp_path / "results.json"
    rc, _, err = _run(["run", str(scenario), "--reps", "0", "--json", str(out)], capsys)
    assert_one_clear_error(rc, err, ["--reps", "1 .. 10,000,000, got 0"])
    assert not out.exists()


def test_a_negative_seed_option_is_refused(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    out = tmp_path / "results.json"
    rc, _, err = _run(["run", str(scenario), "--seed", "-1", "--json", str(out)], capsys)
    assert_one_clear_error(rc, err, ["--seed", "got -1"])
    assert not out.exists()


@pytest.mark.parametrize("name", ["map.jpg", "map", "map.pdf"])
def test_map_output_must_be_png_or_svg(name, tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    out = tmp_path / name
    rc, _, err = _run(["map", str(scenario), "-o", str(out)], capsys)
    assert_one_clear_error(rc, err, [str(out), "must end in .png or .svg"])
    assert not out.exists()


def test_map_output_into_a_missing_directory_is_refused(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    out = tmp_path / "no_such_dir" / "map.png"
    rc, _, err = _run(["map", str(scenario), "-o", str(out)], capsys)
    assert_one_clear_error(rc, err, [str(out), "does not exist"])
    assert not out.exists()
    assert not out.parent.exists()


def test_an_unknown_catalog_kind_is_refused(capsys):
    rc, _, err = _run(["catalog", "missiles"], capsys)
    assert_one_clear_error(rc, err, ["missiles", "threats", "sensors", "defenses", "bases"])


@pytest.mark.parametrize("altitude", ["nan", "inf", "-5", "0"])
def test_map_threat_altitude_must_be_a_positive_height(altitude, tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(VALID)
    out = tmp_path / "map.png"
    rc, _, err = _run(["map", str(scenario), "-o", str(out), f"--altitude-m={altitude}"], capsys)
    assert_one_clear_error(rc, err, ["--altitude-m", "> 0 m"])
    assert not out.exists()


@pytest.mark.parametrize("kind", ["device", "fifo", "too_big"])
def test_only_a_regular_toml_file_of_bounded_size_is_read(kind, tmp_path, capsys):
    """/dev/zero was read without end (9 GB in 37 s), a named pipe with no writer blocked."""
    import os

    from salvosim.engine.schema import MAX_TOML_BYTES
    if kind == "device":
        path, says = "/dev/zero", "is not a regular file"
    elif kind == "fifo":
        path, says = tmp_path / "pipe.toml", "is not a regular file"
        os.mkfifo(path)
    else:
        path, says = tmp_path / "big.toml", f"allowed: at most {MAX_TOML_BYTES:,} bytes"
        with open(path, "wb") as fh:
            fh.truncate(MAX_TOML_BYTES + 1)     # sparse: no disk used
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and says in err and str(path) in err


@pytest.mark.parametrize("old,new,where", [
    ('name = "bad-input base case"', 'name = "bad\\rinput"', "scenario.name"),
    ('name = "rockets"', 'name = "rock\\nets"', "raids[0].name"),
    ('name = "bad-input base case"', 'name = " "', "scenario.name"),
    # a right-to-left override reordered the printed table; U+2028 broke its line
    ('name = "rockets"', 'name = "rock\u202eets"', "raids[0].name: 'rock\\u202eets' contains "
                                                   "the invisible character U+202E"),
    ('name = "rockets"', 'name = "rock\u2028ets"', "raids[0].name"),
    # two names that differ only by a trailing space printed alike
    ('name = "rockets"', 'name = "rockets "', "raids[0].name: 'rockets ' begins or ends with "
                                             "white space"),
    # a raid named "2" was what raids.2.count addressed, not raid 2
    ('name = "rockets"', 'name = "2"', "raids[0].name: '2' is a whole number"),
])
def test_a_name_with_control_characters_or_blank_is_refused(old, new, where, tmp_path, capsys):
    """A carriage return in a name split a sweep CSV row; a newline reached the terminal."""
    path = tmp_path / "scenario.toml"
    path.write_text(edited(old, new))
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"{path}: {where}" in err, err


def test_a_byte_order_mark_is_not_an_error(tmp_path, capsys):
    """Some Windows editors start a UTF-8 file with a byte-order mark: it was 'malformed TOML:
    Invalid statement (at line 1, column 1)', with nothing to see in the file."""
    path = tmp_path / "scenario.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_an_abbreviated_option_is_refused(tmp_path, capsys):
    """`run --rep 3` was silently taken as --reps 3 (trace's --rep is another option)."""
    path = tmp_path / "scenario.toml"
    path.write_text(VALID)
    rc, _, err = _run(["run", str(path), "--rep", "3"], capsys)
    assert rc == 2 and "unrecognized arguments: --rep 3" in err


def test_a_plot_may_not_replace_another_output(tmp_path, capsys):
    """`run --plots pq --json pq/impacts.png` wrote the JSON, then the plot over it."""
    path = tmp_path / "scenario.toml"
    path.write_text(VALID)
    plots = tmp_path / "pq"
    plots.mkdir()
    rc, _, err = _run(["run", str(path), "--reps", "2", "--plots", str(plots),
                       "--json", str(plots / "impacts.png")], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert "impacts.png would replace the --json file" in err
    assert list(plots.iterdir()) == []


def test_a_huge_derived_time_is_short_in_the_message(tmp_path, capsys):
    """rate_per_min = 1e-300 printed a 300-digit number (a 618-character line)."""
    path = tmp_path / "scenario.toml"
    path.write_text(edited("interval_s = 1.0", "rate_per_min = 1e-300"))
    rc, _, err = _run(["validate", str(path)], capsys)
    assert rc == 2 and "would last until 1.8e+302 s" in err and len(err) < 300
