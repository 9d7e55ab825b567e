"""The README documents every key the loader accepts and every option of the commands it
describes, its quick start comes first, and its example scenario is valid."""
import re

import pytest

from salvosim.defenses import FireUnitType, SensorType
from salvosim.engine.cli import build_parser
from salvosim.engine.scenario import C2, PLACEMENT_KEYS, RAID_KEYS, UNIT_ONLY_KEYS, RaidTiming, ScenarioHeader
from salvosim.engine.schema import field_docs
from salvosim.engine.variants import scenario_from_data
from salvosim.threats import ThreatType
from tests import REPO_ROOT

ROOT = REPO_ROOT
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTED_COMMANDS = ("validate", "catalog", "map", "run", "trace", "compare", "sweep", "report")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_quick_start_comes_first_with_make_run_and_make_test():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[0] == "Quick start"
    quick = _section("Quick start")
    assert "make run" in quick and "make test" in quick


@pytest.mark.parametrize("cls", [ThreatType, SensorType, FireUnitType, ScenarioHeader, C2,
                                 RaidTiming], ids=lambda c: c.__name__)
def test_every_documented_field_is_in_the_readme(cls):
    missing = [key for key, *_ in field_docs(cls) if f"`{key}`" not in README]
    assert not missing, f"{cls.__name__}: {missing}"


@pytest.mark.parametrize("keys", [RAID_KEYS, PLACEMENT_KEYS, UNIT_ONLY_KEYS],
                         ids=["RAID_KEYS", "PLACEMENT_KEYS", "UNIT_ONLY_KEYS"])
def test_every_scenario_table_key_is_in_the_readme(keys):
    missing = [key for key in keys if f"`{key}`" not in README]
    assert not missing


def test_the_readme_documents_every_option_of_its_commands():
    commands = _section("Commands")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in DOCUMENTED_COMMANDS:
        assert f"salvosim {name}" in commands, name
        for action in sub.choices[name]._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in commands, f"{name} {option}"
    assert "--version" in commands


def test_the_readme_example_scenario_is_valid():
    from tomllib import loads
    examples = re.findall(r"```toml\n(.*?)```", _section("Scenario files"), re.S)
    assert examples
    for text in examples:
        scn = scenario_from_data(loads(text), "README.md example")
        assert scn.raids


def test_the_readme_lists_every_bundled_scenario():
    bundled = _section("Bundled scenarios")
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        assert f"scenarios/{path.name}" in bundled


def test_the_readme_documents_every_variant_key_and_key_path_section():
    from salvosim.engine.variants import SECTIONS, VARIANT_KEYS
    variants = _section("Scenario files")
    missing = [key for key in VARIANT_KEYS if f"| `{key}` |" not in variants]
    assert not missing
    commands = _section("Commands")
    for section in SECTIONS:
        assert f"`{section}." in commands, section
