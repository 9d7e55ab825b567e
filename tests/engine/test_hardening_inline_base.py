"""Issue 12, item 8: a base described inline ([scenario.base], MODEL.md §2 "or inline
geometry") works in every command, and its mistakes are one line like any other."""
import json

import pytest

from salvosim.engine.variants import load_scenario, scenario_from_data
from tests import REPO_ROOT
from tests.cli_kit import run_cli
from tests.engine.test_hardening_inputs import one_error, write

ROOT = REPO_ROOT
EXAMPLE = ROOT / "scenarios" / "inline_base_example.toml"
TEXT = EXAMPLE.read_text(encoding="utf-8")


def test_the_bundled_example_loads_with_its_inline_geometry():
    scn = load_scenario(EXAMPLE)
    assert scn.base.id == "inline" and scn.base.name == "Forward site (illustrative)"
    assert [a.name for a in scn.base.assets] == ["living", "operations", "fuel"]
    assert scn.defended_area.area > scn.base.perimeter.area     # its own defended area
    assert [u.name for u in scn.units] == ["coyote", "cram"] and scn.layout_name == "none"


@pytest.mark.parametrize("argv", [
    ["validate", "{f}"],
    ["map", "{f}", "-o", "{d}/map.png"],
    ["run", "{f}", "--reps", "4", "--threads", "1", "--json", "{d}/run.json", "--plots", "{d}/p"],
    ["compare", "{f}", "{f2}", "--reps", "4", "--threads", "1", "--json", "{d}/cmp.json"],
    ["sweep", "{f}", "--vary", "raids.0.count=2,4", "--reps", "2", "--threads", "1", "--out",
     "{d}/sw"],
    ["report", "{f}", "-o", "{d}/r.html", "--reps", "2", "--threads", "1", "--sweep-reps", "2",
     "--vary", "raids.0.count=2,4"],
], ids=["validate", "map", "run", "compare", "sweep", "report"])
def test_every_command_takes_an_inline_base(argv, tmp_path, capsys):
    other = write(tmp_path, TEXT.replace("count = 4", "count = 3"), "other.toml")
    rc, out, err = run_cli([a.format(f=EXAMPLE, f2=other, d=tmp_path) for a in argv], capsys)
    assert rc == 0, err
    assert "Traceback" not in err
    if argv[0] == "run":
        assert json.loads((tmp_path / "run.json").read_text())["replications"] == 4
        assert (tmp_path / "p" / "impacts.png").exists()
    if argv[0] == "report":
        assert "Forward site" in (tmp_path / "r.html").read_text()


def test_an_inline_base_with_layouts_and_variants(tmp_path, capsys):
    text = TEXT.replace('[c2]', '''[scenario.base.layouts.minimal]
description = "one C-RAM"
sensors = [{ name = "radar", type = "cram_radar", east_m = 0.0, north_m = 0.0 }]
units = [{ name = "gun", type = "cram", east_m = 0.0, north_m = 0.0, sensor = "radar" }]

[c2]''').replace('replications = 200', 'replications = 200\nlayout = "minimal"') + '''
[[variants]]
name = "as written"

[[variants]]
name = "without the layout gun"
units = [{ name = "gun", remove = true }]
'''
    path = write(tmp_path, text)
    scn = load_scenario(path)
    assert {u.name for u in scn.units} == {"gun", "coyote", "cram"}
    rc, out, err = run_cli(["compare", str(path), "--reps", "2", "--threads", "1"], capsys)
    assert rc == 0, err
    assert "without the layout gun" in out


def _inline(**changes):
    import tomllib
    data = tomllib.loads(TEXT)
    base = data["scenario"]["base"]
    for k, v in changes.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return data


@pytest.mark.parametrize("changes, fragments", [
    ({"perimeter_m": None}, ["scenario.base", "missing required key 'perimeter_m'"]),
    ({"lat_deg": 95.0}, ["scenario.base.lat_deg", "<= 90"]),
    ({"lon_deg": "41"}, ["scenario.base.lon_deg", "expected a number"]),
    ({"runways": []}, ["scenario.base.runways", "unknown key"]),
    ({"assets": {"a": 1}}, ["scenario.base.assets", "expected an array"]),
    ({"assets": [{"name": "x", "kind": "hq", "value": 1.0}]},
     ["scenario.base.assets[0]", "polygon_m"]),
    ({"perimeter_m": [[0.0, 0.0], [1.0, 1.0]]}, ["scenario.base.perimeter_m", "at least 3"]),
    ({"layouts": {"a": 3}}, ["scenario.base.layouts.a", "expected a layout table"]),
    ({"assets": [{"name": "random_asset", "kind": "hq", "value": 1.0,
                  "polygon_m": [[0.0, 0.0], [50.0, 0.0], [50.0, 50.0]]}]},
     ["scenario.base.assets[0].name", "'random_asset' cannot name an asset"]),
    ({"assets": [{"name": " ", "kind": "hq", "value": 1.0,
                  "polygon_m": [[0.0, 0.0], [50.0, 0.0], [50.0, 50.0]]}]},
     ["scenario.base.assets[0].name", "' ' is blank"]),
])
def test_inline_base_mistakes_are_one_clear_error(changes, fragments):
    from salvosim.engine.schema import InputError
    with pytest.raises(InputError) as exc:
        scenario_from_data(_inline(**changes), "inline.toml")
    text = str(exc.value)
    assert "\n" not in text
    for f in fragments:
        assert f in text, text


def test_a_defended_area_in_both_places_is_an_error():
    from salvosim.engine.schema import InputError
    data = _inline()
    data["scenario"]["defended_area_m"] = data["scenario"]["base"]["defended_area_m"]
    with pytest.raises(InputError, match="scenario.defended_area_m.*one place only"):
        scenario_from_data(data, "inline.toml")


def test_an_unknown_layout_of_an_inline_base_is_named(tmp_path, capsys):
    path = write(tmp_path, TEXT.replace("replications = 200", 'replications = 200\nlayout = "x"'))
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "scenario.layout", "unknown layout 'x'", "omit layout")


def test_a_catalog_base_still_needs_its_layout(tmp_path, capsys):
    path = write(tmp_path, '[scenario]\nname = "x"\nbase = "al_asad"\n\n[[raids]]\n'
                 'type = "rocket_107mm"\ncount = 1\nlaunch = { bearing_deg = 0.0, range_km = 7.5 }\n')
    rc, _, err = run_cli(["validate", str(path)], capsys)
    one_error(rc, err, "scenario", "missing required key 'layout'", "2020")


def test_base_must_be_an_id_or_a_table():
    from salvosim.engine.schema import InputError
    data = _inline()
    data["scenario"]["base"] = 42
    with pytest.raises(InputError, match="scenario.base: expected a base id .string. or an "
                                         "inline base table"):
        scenario_from_data(data, "inline.toml")


def test_an_asset_outside_the_defended_area_is_warned_of(tmp_path, capsys):
    """Threats that hit it are not leakers and C-RAM never engages them: the headline read 0
    leakers while the asset was hit in every attack, without a word."""
    text = (REPO_ROOT / "scenarios" / "inline_base_example.toml").read_text()
    assert not load_scenario(REPO_ROOT / "scenarios" / "inline_base_example.toml").warnings
    lines = [ln if not ln.startswith("defended_area_m =") else
             "defended_area_m = [[1000.0, 1000.0], [1100.0, 1000.0], [1100.0, 1100.0]]"
             for ln in text.splitlines()]
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n")
    notes = [str(w) for w in load_scenario(path).warnings]
    assert len(notes) == 1 and "lie outside the defended area" in notes[0]
    assert "defended_area_m" in notes[0]
