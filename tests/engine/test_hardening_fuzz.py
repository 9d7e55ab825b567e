"""In-process fuzz of scenario files (issue 12): random key deletions, type swaps, extreme
numbers (NaN, inf, huge integers, denormals), junk keys and control characters, through
`validate` and, for the files that validate, a one-replication `run`.

Whatever the mutation: exit status 0 or 2; on 2 exactly one stderr line
(`salvosim...: error: ...`), no traceback and no output file; on 0 only warning lines on
stderr. A bounded slice runs with every `make test` (a few seconds); the long run is marked
`slow` and runs only when asked for (pytest -m slow).
"""
from __future__ import annotations

import copy
import json
import math
import random
import tomllib
from pathlib import Path

import pytest

from tests import REPO_ROOT
from tests.cli_kit import run_cli
from tests.engine.test_hardening_inputs import BASE

ROOT = REPO_ROOT
SEEDS = [tomllib.loads(BASE),
         tomllib.loads((ROOT / "scenarios" / "inline_base_example.toml").read_text()),
         tomllib.loads(BASE + '\n[[variants]]\nname = "plus"\n'
                       'units = [{ name = "cram_north", count = 2 }]\n'
                       '\n[[variants]]\nname = "minus"\n'
                       'units = [{ name = "cram_east", remove = true }]\n')]

EXTREMES = [0, -1, 1, 2, 7.5, 100, 1000, 2 ** 31, 2 ** 63 - 1, 2 ** 63, 2 ** 64, -2 ** 63 - 1,
            10 ** 400, 1e308, -1e308, 1e-320, -0.0, math.nan, math.inf, -math.inf, True, False,
            "", "x", "random_asset", "$x$", "a\nb\x1b[31m", "=cmd", [], [1, 2], [[0.0, 0.0]],
            {}, {"east_m": 1e300, "north_m": 0.0}, {"bearing_deg": 0.0, "range_km": -5.0},
            {"lat_deg": math.nan, "lon_deg": 0.0}]
JUNK_KEYS = ["remove", "count", "type", "name", "sensor", "layout", "zzz", "altitude_m", "pk",
             "magazine", "defended_area_m", "variants"]


# ----------------------------------------------------------------------------------------
# TOML text of any value tomllib can return (inline tables and arrays only)
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)           # a JSON string is a TOML basic string here
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_text(data: dict) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


# ----------------------------------------------------------------------------------------
# Mutations
def _paths(node, prefix=()):
    """Every (container path, key or index) in the tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix, k
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix, i
            yield from _paths(v, prefix + (i,))


def _at(node, path):
    for p in path:
        node = node[p]
    return node


def nudge(data: dict, rng: random.Random) -> tuple[dict, list[str]]:
    """A gentle mutation: one number scaled (most such files still validate, so the run path
    is exercised too)."""
    data = copy.deepcopy(data)
    numbers = [(p, k) for p, k in _paths(data)
               if isinstance(_at(data, p)[k], (int, float)) and not isinstance(_at(data, p)[k], bool)]
    parent_path, key = rng.choice(numbers)
    parent = _at(data, parent_path)
    factor = rng.choice((0.0, 0.1, 0.5, 2, 3, 10, 100))
    value = parent[key] * factor
    parent[key] = int(value) if isinstance(parent[key], int) else float(value)
    return data, [f"scale {'.'.join(map(str, parent_path + (key,)))} x {factor}"]


def mutate(data: dict, rng: random.Random) -> tuple[dict, list[str]]:
    if rng.random() < 0.4:
        return nudge(data, rng)
    data = copy.deepcopy(data)
    done = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        paths = list(_paths(data))
        if not paths:
            break
        parent_path, key = rng.choice(paths)
        parent = _at(data, parent_path)
        op = rng.random()
        where = ".".join(map(str, parent_path + (key,)))
        if op < 0.25 and isinstance(parent, dict):
            del parent[key]
            done.append(f"delete {where}")
        elif op < 0.35 and isinstance(parent, dict):
            junk = rng.choice(JUNK_KEYS)
            parent[junk] = rng.choice(EXTREMES)
            done.append(f"add {'.'.join(map(str, parent_path))}.{junk} = {parent[junk]!r:.40}")
        elif op < 0.42 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
            done.append(f"duplicate {where}")
        else:
            value = rng.choice(EXTREMES)
            old = parent[key]
            if isinstance(old, (int, float)) and not isinstance(old, bool) and rng.random() < 0.3:
                try:
                    value = old * rng.choice((-1, 10, 1e6, 1e-9))   # the same key, far off
                except OverflowError:
                    value = -old
            parent[key] = copy.deepcopy(value)
            done.append(f"set {where} = {value!r:.40}")
    return data, done


def check_case(data: dict, tmp_path: Path, capsys, label: str,
               ran: list | None = None) -> list[str]:
    """Problems of one mutated scenario (empty if it behaved); appends the label to `ran`
    when the file validated and was run."""
    problems = []
    text = toml_text(data)
    scenario = tmp_path / "fuzz.toml"
    scenario.write_text(text, encoding="utf-8")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []                                  # not a TOML file any more: not a case
    rc, out, err = run_cli(["validate", str(scenario)], capsys)
    problems += _check(rc, err, label + " [validate]")
    if rc != 0:
        return problems
    result = tmp_path / "out.json"
    if ran is not None:
        ran.append(label)
    rc, out, err = run_cli(["run", str(scenario), "--reps", "1", "--threads", "1", "--quiet",
                            "--json", str(result)], capsys)
    problems += _check(rc, err, label + " [run]")
    if rc == 2 and result.exists():
        problems.append(f"{label} [run]: output written although the command failed")
    if rc == 0 and not result.exists():
        problems.append(f"{label} [run]: status 0 but no output")
    if result.exists():
        result.unlink()
    if rc == 0:
        problems += _engines_agree(scenario, label)
    return problems


def _engines_agree(path, label) -> list[str]:
    """Differential check: one replication of a valid mutated scenario in both engines."""
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import run_block_numba, run_block_reference
    from salvosim.engine.variants import load_scenario
    sc, _ = compile_scenario(load_scenario(path))
    if len(sc.th_raid) > 200:
        return []                                  # keep the slice fast: big raids are rare
    fast, ref = run_block_numba(sc, 5, 0, 1, 1), run_block_reference(sc, 5, 0, 1)
    for field in ("fate", "kill_unit", "shots", "rounds", "why", "threat_engagements"):
        if not (getattr(fast, field) == getattr(ref, field)).all():
            return [f"{label} [engines]: {field} differs between the engines"]
    return []


def _check(rc, err, label) -> list[str]:
    if rc not in (0, 2):
        return [f"{label}: exit status {rc}: {err[-300:]}"]
    if "Traceback" in err:
        return [f"{label}: traceback: {err[-300:]}"]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if rc == 2:
        if len(lines) != 1 or not (lines[0].startswith("salvosim") and "error:" in lines[0]):
            return [f"{label}: expected one error line, got {lines!r:.300}"]
    elif any(not ln.startswith(("salvosim: warning:", "salvosim: note:")) for ln in lines):
        return [f"{label}: unexpected stderr on success: {lines!r:.300}"]
    return []


def fuzz(n: int, seed: int, tmp_path, capsys) -> None:
    problems, ran = [], []
    for i in range(n):
        rng = random.Random(seed * 100_003 + i)
        base = SEEDS[i % len(SEEDS)]
        data, done = mutate(base, rng)
        problems += check_case(data, tmp_path, capsys, f"case {i} (seed {seed}): {'; '.join(done)}",
                               ran)
    assert not problems, "\n".join(problems[:20])
    assert len(ran) >= n // 10, f"only {len(ran)} of {n} mutated files validated and ran"


def test_the_serializer_round_trips_every_seed_scenario():
    for data in SEEDS:
        assert tomllib.loads(toml_text(data)) == data


def test_fuzz_slice(tmp_path, capsys, warm_jit):
    """The bounded slice CI runs on every push: 800 mutated scenarios (4 s once the engine is
    warm on the Zen 5 host, about 14 s on the Zen 3 one), the ones that validate also run
    through both engines (see check_case); `test_fuzz_long` runs 3,000 more."""
    fuzz(800, seed=12, tmp_path=tmp_path, capsys=capsys)


@pytest.mark.slow
def test_fuzz_long(tmp_path, capsys, request):
    """3,000 mutated files (about a minute): `pytest -m slow` (left out of make test)."""
    request.getfixturevalue("warm_jit")
    fuzz(3000, seed=2026, tmp_path=tmp_path, capsys=capsys)
