"""Every JSON output (run, compare, sweep) starts with kind, schema_version and the salvosim
version (README "JSON outputs")."""
import json

from salvosim.engine.results import SCHEMA_VERSION
from tests.cli_kit import run_cli


def test_every_json_output_names_its_kind_schema_and_version(tmp_path, capsys, warm_jit):
    run, cmp = tmp_path / "run.json", tmp_path / "cmp.json"
    assert run_cli(["run", "scenarios/tower22_drone.toml", "--reps", "3", "--quiet", "--json",
                    str(run)], capsys)[0] == 0
    assert run_cli(["compare", "scenarios/al_asad_mixes.toml", "--reps", "2", "--json",
                    str(cmp)], capsys)[0] == 0
    assert run_cli(["sweep", "scenarios/tower22_drone.toml", "--vary", "scenario.raid_scale=1,2",
                    "--reps", "2", "--out", str(tmp_path / "sw")], capsys)[0] == 0
    for path, kind in ((run, "run"), (cmp, "compare"), (tmp_path / "sw.json", "sweep")):
        doc = json.loads(path.read_text())
        assert list(doc)[:3] == ["kind", "schema_version", "salvosim_version"]
        assert doc["kind"] == kind and doc["schema_version"] == SCHEMA_VERSION
        assert doc["salvosim_version"]
