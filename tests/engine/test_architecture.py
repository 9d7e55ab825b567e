"""The architecture holds (ARCHITECTURE.md): no import loops, domain packages below the engine
machinery, views above it, no private names across modules, one installable namespace."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import REPO_ROOT

ROOT = REPO_ROOT
PACKAGES = {"engine": "salvosim.engine", "threats": "salvosim.threats",
            "defenses": "salvosim.defenses", "bases": "salvosim.bases", "salvosim": "salvosim"}
FOUNDATION = {"salvosim.engine.constants", "salvosim.engine.schema", "salvosim.engine.errors",
              "salvosim.engine.rng", "salvosim.engine.events", "salvosim.engine.jit"}
TOP = {"salvosim", "salvosim.engine.cli", "salvosim.engine.api"}


def modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def imports_of(path: Path, names: set[str]) -> set[tuple[str, str]]:
    """(module, imported name) pairs, function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add((full if full in names else node.module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.add((alias.name, ""))
    return {(m, n) for m, n in found if m in names}


MODULES = modules()
GRAPH = {m: {dep for dep, _ in imports_of(p, set(MODULES))} - {m} for m, p in MODULES.items()}


def test_every_module_is_in_the_salvosim_namespace_and_imports_it_absolutely():
    for m, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0 or m == "salvosim", f"{m}: relative import"
                assert (node.module or "").split(".")[0] not in PACKAGES.keys() - {"salvosim"}, \
                    f"{m} imports {node.module} outside the salvosim namespace"


def test_there_is_no_import_cycle():
    state: dict[str, int] = {}

    def visit(m, trail):
        state[m] = 1
        for dep in sorted(GRAPH[m]):
            if dep == "salvosim" or dep not in GRAPH:
                continue         # the package root only re-exports the API (see below)
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail + [m, dep]))
            if state.get(dep) is None:
                visit(dep, trail + [m])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])


def test_nothing_below_the_views_imports_them():
    for m, deps in GRAPH.items():
        if m in TOP or m.startswith("salvosim.engine.views"):
            continue
        bad = [d for d in deps if d.startswith("salvosim.engine.views") or d in TOP]
        assert not bad, f"{m} imports {bad}"


def test_domain_packages_use_only_the_engine_foundation():
    for m, deps in GRAPH.items():
        if m.split(".")[1:2] and m.split(".")[1] in ("threats", "defenses", "bases"):
            engine = {d for d in deps if d.startswith("salvosim.engine")}
            assert engine <= FOUNDATION, f"{m} imports {engine - FOUNDATION}"


def test_no_module_imports_another_modules_private_names():
    for m, path in MODULES.items():
        for dep, name in imports_of(path, set(MODULES)):
            assert not name.startswith("_") or name.startswith("__"), f"{m} imports {dep}.{name}"


def test_installing_adds_only_salvosim_to_site_packages(tmp_path):
    """`pip install .` into a target folder: only salvosim and its dist-info (plus the console
    script's bin/), the catalogs included, and `import salvosim` works from elsewhere."""
    target, source = tmp_path / "site", tmp_path / "src"
    # Build from a clean copy: a stale build/ folder in a working tree would be reused.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache",
        ".benchmarks"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(source)], check=True, capture_output=True, timeout=300)
    entries = {p.name for p in target.iterdir()} - {"bin"}
    assert {e for e in entries if not e.endswith(".dist-info")} == {"salvosim"}
    assert len(entries) == 2
    assert (target / "salvosim" / "threats" / "catalog.toml").exists()
    assert (target / "salvosim" / "py.typed").exists()
    code = ("import salvosim; from salvosim.engine import kernel; "
            f"scn = salvosim.load({str(ROOT / 'scenarios' / 'tower22_drone.toml')!r}); "
            "print(salvosim.__file__, kernel.__file__, scn.name)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(target),
                                                      "PATH": "/usr/bin:/bin"})
    paths = out.stdout.split()
    assert len(paths) >= 3, out.stderr
    assert all(p.startswith(str(target)) for p in paths[:2]), out.stdout


def test_the_python_api_runs_compares_and_sweeps(warm_jit):
    import salvosim
    scn = salvosim.load(ROOT / "scenarios" / "tower22_drone.toml")
    res = salvosim.run(scn, reps=20, seed=3, threads=1)
    assert "leakers" in repr(res) and res.to_dict()["replications"] == 20
    assert res.to_dict()["leakers"]["mean"] == res.leakers()["mean"]
    cmp = salvosim.compare(ROOT / "scenarios" / "al_asad_mixes.toml", reps=4, threads=1)
    assert len(cmp.mixes()) == 5 and "Comparison of 5 mixes" in repr(cmp)
    sw = salvosim.sweep(scn, "raids.0.count=1:2:1", reps=4, threads=1)
    assert len(sw.to_dict()["points"]) == 2 and sw.saturation()


@pytest.mark.parametrize("call, error, words", [
    ("run(scn, reps=0)", "UsageError", "reps = 0: allowed 1 .. 10,000,000"),
    ("run(scn, reps=-5)", "UsageError", "reps = -5"),
    ("run(scn, reps=10 ** 8)", "UsageError", "reps = 100000000"),
    ("run(scn, reps=2.0)", "TypeError", "reps: expected a whole number, got float"),
    ("run(scn, seed=-1)", "UsageError", "seed = -1: allowed 0 .."),
    ("run(scn, seed=2 ** 63)", "UsageError", "seed = 9223372036854775808"),
    ("run(scn, seed=1.5)", "TypeError", "seed: expected a whole number, got float 1.5"),
    ("run(scn, seed=True)", "TypeError", "got bool"),
    ("run(scn, seed='3')", "TypeError", "got str"),
    ("run(scn, threads=0)", "UsageError", "threads = 0"),
    ("run(scn, engine='fast')", "UsageError", "allowed 'numba', 'reference'"),
    ("run(5)", "TypeError", "expected a Scenario (salvosim.load) or a file path"),
    ("compare()", "UsageError", "give one or more scenarios"),
    ("compare(scn, seed=-3)", "UsageError", "seed = -3"),
    ("compare(scn, reps=-1)", "UsageError", "reps = -1"),
    ("sweep(scn)", "UsageError", "give one or more vary specs"),
    ("sweep(scn, 'raids.0.count=1:2:1', reps=-2)", "UsageError", "reps = -2"),
])
def test_the_python_api_checks_its_arguments_as_the_cli_does(call, error, words):
    """Before, reps=0 ran the scenario's default, a negative reps divided by zero or returned
    null figures, a float seed ran seed 1 as 1.5 (and compiled again), and compare() raised
    IndexError: nothing runs now, the error names the argument and what is allowed."""
    import salvosim
    scn = salvosim.load(ROOT / "scenarios" / "inline_base_example.toml")
    with pytest.raises(Exception) as info:
        eval(f"salvosim.{call}", {"salvosim": salvosim, "scn": scn})
    assert type(info.value).__name__ == error and words in str(info.value), info.value


def test_nothing_loads_the_packages_under_their_old_top_level_names():
    """A module loaded as `engine.x` as well as `salvosim.engine.x` is two modules sharing one
    Numba cache: entries pickled under the old name break every other process."""
    import re
    pattern = re.compile(r"""["'](?:-m\s+)?(?:engine|threats|defenses|bases)\.\w""")
    for path in [*MODULES.values(), *(REPO_ROOT / "tests").rglob("*.py"),
                 *(REPO_ROOT / "bench").rglob("*.py")]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{n}: {line.strip()}"


@pytest.mark.parametrize("before", [True, False])
def test_importing_salvosim_leaves_garbage_collection_as_it_was(before):
    """salvosim/__init__.py turns the cyclic collector off while it imports, then restores it."""
    code = ("import gc, sys; gc.enable() if sys.argv[1] == 'True' else gc.disable(); "
            "import salvosim; print(gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", code, str(before)], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert out.strip() == str(before)


def test_importing_salvosim_leaves_its_objects_in_the_oldest_generation_and_nothing_frozen():
    """salvosim/__init__.py collects the caller's young garbage, then moves what the imports
    created to the oldest generation (freeze, then unfreeze) without a full collection: the
    young generations are nearly empty, nothing stays frozen, cyclic garbage made before the
    import is gone, and objects a caller froze stay frozen."""
    code = ("import gc, sys, weakref\n"
            "frozen_by_caller = sys.argv[1] == 'True'\n"
            "class Node: pass\n"
            "gc.collect(); gc.set_threshold(10 ** 8)\n"    # no automatic collection
            "probe = Node(); probe.me = probe\n"
            "gone = weakref.ref(probe); del probe\n"
            "if frozen_by_caller: gc.freeze()\n"
            "full = gc.get_stats()[2]['collections']\n"
            "import salvosim\n"
            "full = gc.get_stats()[2]['collections'] - full\n"
            "young = len(gc.get_objects(0)) + len(gc.get_objects(1))\n"
            "old = len(gc.get_objects(2))\n"
            "print(young, old, gc.get_freeze_count(), gone() is None, full)\n")
    out = subprocess.run([sys.executable, "-c", code, "False"], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    young, old, frozen, collected, full = int(out[0]), int(out[1]), int(out[2]), out[3], out[4]
    assert old > 50_000 and young < 2_000, (young, old)
    assert frozen == 0 and collected == "True" and full == "0", out
    out = subprocess.run([sys.executable, "-c", code, "True"], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert int(out[2]) > 1_000 and out[3] == "False"      # the caller's freeze is left alone


@pytest.mark.parametrize("config_file", [False, True], ids=["no_config", "numba_config_yaml"])
def test_importing_salvosim_imports_no_yaml_unless_numba_has_a_config_file_to_read(
        tmp_path, config_file):
    """salvosim/__init__.py imports Numba without PyYAML, which Numba imports only to read a
    `.numba_config.yaml` in the working directory: yaml stays importable afterwards, and a
    working directory with such a file keeps it honoured."""
    pytest.importorskip("yaml")
    if config_file:
        (tmp_path / ".numba_config.yaml").write_text("boundscheck: 0\n")
    code = ("import sys\n"
            "import salvosim, numba\n"
            "imported = 'yaml' in sys.modules\n"
            "import yaml\n"
            "print(imported, numba.config.BOUNDSCHECK, yaml.safe_load('a: 1'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    if config_file:
        assert out.stdout.split() == ["True", "0", "{'a':", "1}"]
    else:
        assert out.stdout.split() == ["False", "None", "{'a':", "1}"]
