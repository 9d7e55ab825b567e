"""Compare the flagship's speed between two git revisions, in one process at a time.

    .venv/bin/python -m bench.ab REV_A REV_B [--reps 400] [--rounds 20] [--threads 1]

A tool, not a test. On a shared host, two runs minutes apart differ by more than most changes
(ARCHITECTURE.md, Numba discipline), so both revisions run in the same process, in alternation,
each block of replications timed beside the other's. The package of each revision is copied
from `git archive` and renamed (salvosimA, salvosimB) so that both can be imported at once.

The copy loaded first runs faster whatever its code: the same revision against itself gave
median pair ratios of 0.92 (loaded second) and 1.10 (loaded first) on the Zen 3 host, and the
run_chunk entries of both were page-aligned, so neither its code's alignment nor the
scenario's arrays explain it. So the comparison runs twice, once with each revision loaded
first, and reports the geometric mean of the two median ratios, which cancels that bias (the
same revision against itself: 1.00-1.01).

Prints, for each order, both revisions' best and median replications per second and the
median of the pair ratios (B's speed over A's), then the geometric mean. A first process
compiles both copies into a temporary Numba cache (a few minutes), from which both timed
orders load them (code just compiled and code loaded from the cache can run at different
speeds). engine/jit.py's LLVM hooks are installed by the copy imported first, so both copies
are built with A's: a warning says so when the revisions' jit.py differ.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "salvosim"
DOMAINS = ("engine", "threats", "defenses", "bases")


def rename_package(tree: Path, name: str) -> None:
    """Make the checkout at tree importable as package `name` beside another copy: its
    salvosim/ folder renamed, every import of salvosim.<domain> rewritten, and engine/jit.py's
    marks of this package's symbols made to match both copies (its LLVM hooks are installed
    by the first copy imported, and must recognise the other's run_chunk and wrappers)."""
    (tree / PACKAGE).rename(tree / name)
    domain = re.compile(rf"\b{PACKAGE}\.({'|'.join(DOMAINS)})\b")
    for path in tree.rglob("*.py"):
        text = path.read_text()
        new = domain.sub(rf"{name}.\1", text)
        new = re.sub(rf"^(\s*)from {PACKAGE} import", rf"\1from {name} import", new, flags=re.M)
        new = re.sub(rf"^(\s*)import {PACKAGE}\b", rf"\1import {name}", new, flags=re.M)
        if new != text:
            path.write_text(new)
    jit = tree / "engine" / "jit.py"
    text = jit.read_text()
    marks = {
        "MANGLED_PACKAGE": f'"{len(PACKAGE) + 1}{PACKAGE}"',   # a prefix of both copies' names
        "ENTRY_POINT_MARK": '"6engine6kernel9run_chunk"',
        "LIGHT_LOAD_MODULES": '("salvosimA.", "salvosimB.")',
    }
    for constant, value in marks.items():
        text, count = re.subn(rf"^{constant} = .*$", f"{constant} = {value}", text, flags=re.M)
        if count != 1:
            raise SystemExit(f"bench.ab: engine/jit.py has no single {constant} to adapt")
    jit.write_text(text)


def checkout(revision: str, name: str, into: Path) -> Path:
    """The revision's tracked files under into/<name>, renamed to package `name`."""
    tree = into / name
    tree.mkdir()
    archive = into / f"{name}.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "archive", revision], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    rename_package(tree, name)
    return tree


RUNNER = r'''
import importlib, os, statistics, sys, time
os.environ["SALVOSIM_COMPILE_PROCESSES"] = "1"
sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in type(f).__name__]
trees, order, scenario = sys.argv[1:3], sys.argv[3].split(","), sys.argv[7]
reps, rounds, threads = map(int, sys.argv[4:7])
sys.path[:0] = trees
runs = {}
for name in order:
    compile_ = importlib.import_module(name + ".engine.compile")
    montecarlo = importlib.import_module(name + ".engine.montecarlo")
    variants = importlib.import_module(name + ".engine.variants")
    sc, _ = compile_.compile_scenario(variants.load_scenario(scenario))
    montecarlo.run_block_numba(sc, 1, 0, 4, threads=threads)
    runs[name] = (montecarlo, sc)
stray = [m for m in sys.modules if m == "salvosim" or m.startswith("salvosim.")]
if stray:
    sys.exit(f"bench.ab: the installed package was imported, not a copy: {stray[:3]}")
if rounds == 0:
    sys.exit(0)                         # the warm-up: both copies compiled into the cache
fates = [m.run_block_numba(sc, 7, 0, 50, threads=1).fate for m, sc in runs.values()]
if not (fates[0] == fates[1]).all():
    print("bench.ab: the two revisions' outcomes differ (compared anyway)", file=sys.stderr)
times = {name: [] for name in runs}
for i in range(rounds):
    for name in (order if i % 2 == 0 else order[::-1]):
        montecarlo, sc = runs[name]
        t0 = time.perf_counter()
        montecarlo.run_block_numba(sc, 1, 1000 * i, reps, threads=threads)
        times[name].append(time.perf_counter() - t0)
a, b = times["salvosimA"], times["salvosimB"]
ratio = statistics.median(x / y for x, y in zip(a, b))
print(f"{ratio!r} {reps / min(a):.0f} {reps / statistics.median(a):.0f} "
      f"{reps / min(b):.0f} {reps / statistics.median(b):.0f}")
'''


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument("rev_a")
    parser.add_argument("rev_b")
    parser.add_argument("--reps", type=int, default=400, help="replications per timed block")
    parser.add_argument("--rounds", type=int, default=20, help="blocks of each revision")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "al_asad_drone_raid.toml"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="salvosim-ab-") as tmp:
        tmp = Path(tmp)
        trees = [str(checkout(args.rev_a, "salvosimA", tmp)),
                 str(checkout(args.rev_b, "salvosimB", tmp))]
        same_hooks = subprocess.run(["git", "diff", "--quiet", args.rev_a, args.rev_b, "--",
                                     "engine/jit.py"], cwd=ROOT).returncode == 0
        if not same_hooks:
            print("bench.ab: engine/jit.py differs between the revisions, and only the first "
                  "copy imported installs its LLVM hooks: both are built with A's",
                  file=sys.stderr)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
        ratios = []
        # a warm-up compiles both copies, so that both timed orders load them from the cache
        for order, rounds in (("salvosimA,salvosimB", 0), ("salvosimA,salvosimB", args.rounds),
                              ("salvosimB,salvosimA", args.rounds)):
            out = subprocess.run([sys.executable, "-c", RUNNER, *trees, order, str(args.reps),
                                  str(rounds), str(args.threads), args.scenario],
                                 cwd=tmp, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.stderr.write(out.stderr)
                return 1
            sys.stderr.write(out.stderr)
            if rounds == 0:
                continue
            ratio, a_best, a_median, b_best, b_median = out.stdout.split()
            ratios.append(float(ratio))
            print(f"{order.split(',')[0]} loaded first: A {a_best}/s best, {a_median}/s median; "
                  f"B {b_best}/s best, {b_median}/s median; B/A median pair ratio "
                  f"{float(ratio):.4f}")
        print(f"B/A speed, geometric mean of both orders: {math.sqrt(ratios[0] * ratios[1]):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
