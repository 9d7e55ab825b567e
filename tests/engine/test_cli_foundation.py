"""The command line: validate, catalog, map and --version, run in-process."""
import json
import struct

import pytest

from salvosim import bases, defenses, threats
from salvosim.engine.views.catalog_view import catalog_json, catalog_text
from tests import REPO_ROOT  # noqa: E402

ROOT = REPO_ROOT
SCENARIOS = sorted(str(p) for p in (ROOT / "scenarios").glob("*.toml"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


from tests.cli_kit import run_cli as _run  # noqa: E402


def test_validate_accepts_every_bundled_scenario(capsys):
    assert SCENARIOS
    rc, out, err = _run(["validate", *SCENARIOS], capsys)
    assert rc == 0, err
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == len(SCENARIOS)
    for path, line in zip(SCENARIOS, lines):
        assert line.startswith(f"{path}: ok")


def test_catalog_threats_lists_every_threat_with_its_source(capsys):
    rc, out, _ = _run(["catalog", "threats"], capsys)
    assert rc == 0
    flat = " ".join(out.split())   # sources are wrapped over several lines
    for tid, t in threats.load_catalog().items():
        assert tid in out
        assert " ".join(t.source.split()) in flat


def test_catalog_marks_assumed_values_and_explains_the_mark(capsys):
    for kind in ("threats", "sensors", "defenses"):
        rc, out, _ = _run(["catalog", kind], capsys)
        assert rc == 0
        assert "* assumption (no public figure)" in out
    rows = {}
    for line in catalog_text("threats").splitlines():   # the table row comes before the source
        if line.strip():
            rows.setdefault(line.split()[0], line)
    # rocket_107mm: reliability is an assumption, the 15 m lethal radius is not
    assert "0.90*" in rows["rocket_107mm"].split()
    assert "15" in rows["rocket_107mm"].split()
    # shahed136: 51 m/s is a public figure
    assert rows["shahed136"].split()[2] == "51"


@pytest.mark.parametrize("kind, catalog", [("sensors", defenses.load_sensors),
                                           ("defenses", defenses.load_fire_units)])
def test_catalog_lists_every_sensor_and_fire_unit_with_its_source(kind, catalog, capsys):
    rc, out, _ = _run(["catalog", kind], capsys)
    assert rc == 0
    flat = " ".join(out.split())
    for entry_id, entry in catalog().items():
        assert entry_id in out
        assert " ".join(entry.source.split()) in flat


def test_catalog_bases_lists_every_base_with_layouts_and_source(capsys):
    rc, out, _ = _run(["catalog", "bases"], capsys)
    assert rc == 0
    for base_id in bases.base_ids():
        b = bases.load_base(base_id)
        assert base_id in out and b.source in " ".join(out.split())
        for layout in b.layouts:
            assert f"{layout} (" in out


def test_catalog_defaults_to_threats(capsys):
    rc, out, _ = _run(["catalog"], capsys)
    assert rc == 0
    assert out.strip() == catalog_text("threats").strip()


@pytest.mark.parametrize("kind", ["threats", "sensors", "defenses", "bases"])
def test_catalog_json_parses_and_has_every_field(kind, capsys):
    rc, out, _ = _run(["catalog", kind, "--json"], capsys)
    assert rc == 0
    data = json.loads(out)
    assert data == json.loads(json.dumps(catalog_json(kind)))
    assert data
    for entry_id, entry in data.items():
        assert entry["id"] == entry_id
        assert entry["source"]


def test_catalog_json_uses_the_file_key_names():
    data = catalog_json("threats")
    assert data["shahed136"]["class"] == "drone"
    assert "threat_class" not in data["shahed136"]
    assert data["shahed136"]["assumed"]
    units = catalog_json("defenses")
    assert units["patriot_pac3mse"]["shots_per_engagement_by_class"] == {"ballistic_missile": 2}


def test_catalog_json_gives_base_polygons_as_coordinate_lists():
    al_asad = catalog_json("bases")["al_asad"]
    assert len(al_asad["perimeter_m"]) >= 3
    assert all(len(p) == 2 for p in al_asad["perimeter_m"])
    assert al_asad["assets"][0]["polygon_m"]
    assert set(al_asad["layouts"]) >= {"2020", "2024"}
    assert al_asad["layouts"]["2020"]["units"][0]["type"] == "cram"


def test_map_writes_a_png(tmp_path, capsys):
    out = tmp_path / "map.png"
    rc, stdout, err = _run(["map", str(ROOT / "scenarios" / "al_asad_drone_raid.toml"),
                            "-o", str(out)], capsys)
    assert rc == 0, err
    assert f"wrote {out}" in stdout
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])   # IHDR
    assert width >= 1200 and height >= 800
    assert 50_000 < len(data) < 5_000_000
    assert not list(tmp_path.glob(".map.png.*"))         # no temporary file left behind


def test_map_writes_an_svg_at_a_chosen_threat_altitude(tmp_path, capsys):
    out = tmp_path / "map.svg"
    rc, _, err = _run(["map", str(ROOT / "scenarios" / "tower22_drone.toml"), "-o", str(out),
                       "--altitude-m", "30"], capsys)
    assert rc == 0, err
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_version(capsys):
    rc, out, _ = _run(["--version"], capsys)
    assert rc == 0
    assert out.startswith("salvosim ")
    assert out.split()[1][0].isdigit()


def test_the_version_is_looked_up_only_when_asked_for():
    """importlib.metadata's lookup took about 15 ms of every start: importing salvosim and
    building the parser do not make it; --version and salvosim.__version__ do."""
    import subprocess
    import sys
    code = ("import salvosim, salvosim.engine.cli as cli\n"
            "from salvosim.engine.results import salvosim_version as version\n"
            "cli.build_parser()\n"
            "print(version.cache_info().currsize, salvosim.__version__ == version())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["0", "True"]
