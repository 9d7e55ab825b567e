"""The `salvosim` command line.

Every user mistake (bad file, bad key, bad option value) ends as one line on stderr naming
the file, the key path and what is allowed, exit status 2, and no output file written.
Output files are written to a temporary name and renamed, so none is ever left half-written;
every output is checked before any work starts (writable, not an input, not another output),
and `-` writes to standard output.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import json
import os
import sys
import threading
from pathlib import Path

from salvosim.engine.errors import EXIT_USAGE, UsageError
from salvosim.engine.fileio import (
    STDOUT,
    Outputs,
    check_outputs,
    check_writable,
    is_stdout,
    same_file,
    say_stream,
    sayer,
)
from salvosim.engine.montecarlo import ENGINES, jit_cache_is_cold
from salvosim.engine.results import salvosim_version
from salvosim.engine.schema import MAX_REPS, MAX_SEED, InputError, one_line


# ----------------------------------------------------------------------------------------
# First-run compilation note
def note_compiling(engine: str, scenarios=None) -> None:
    """Say so when the run will compile the engine first: for the numba engine, a build of the
    event loop that one of these scenarios needs (central C2 or not: kernel.c2_build) is not in
    Numba's cache yet (None: any build will do)."""
    central = None
    if scenarios is not None:
        central = [s.c2.assignment == "central" for s in scenarios]
    if jit_cache_is_cold(engine, central):
        print("salvosim: compiling (first run only)…", file=sys.stderr, flush=True)


def _mixes(scn) -> list:
    """The scenarios of a file's mixes (its [[variants]], or itself)."""
    from salvosim.engine.variants import variants_of
    return [v.scenario for v in variants_of(scn)]


def _whole_number(lo: int, hi: int | None = None, allowed: str | None = None):
    """An argparse type: an integer in [lo, hi), with the message naming what is allowed."""
    allowed = allowed or f"a whole number >= {lo}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if value < lo or (hi is not None and value >= hi):
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {value}")
        return value
    return parse


_positive_int = _whole_number(1)
_reps = _whole_number(1, MAX_REPS + 1, f"a whole number of replications 1 .. {MAX_REPS:,}")
_seed = _whole_number(0, MAX_SEED + 1, "a seed in 0 .. 2^63-1")
_rep_number = _whole_number(0, 2 ** 63, "a replication number in 0 .. 2^63-1")


class _Parser(argparse.ArgumentParser):
    """Options only as documented: no abbreviations (`run --rep 3` was taken as --reps 3,
    while trace's --rep means something else)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):  # exit status 2 with one clear line, as argparse does
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _VersionAction(argparse.Action):
    """--version, which looks the version up only when asked (results.salvosim_version)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show salvosim's version and exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(f"salvosim {salvosim_version()}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="salvosim", description="Base air-defense engagement simulator "
                "(unclassified, open-source figures).")
    p.add_argument("--version", action=_VersionAction)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check scenario files; exit 2 on the first error")
    v.add_argument("files", nargs="+", metavar="FILE")

    c = sub.add_parser("catalog", help="list catalog entries with their sources")
    c.add_argument("kind", nargs="?", default="threats",
                   choices=("threats", "sensors", "defenses", "bases"))
    c.add_argument("--json", action="store_true", help="machine-readable output")

    m = sub.add_parser("map", help="draw a scenario's base, defenses, coverage and raid axes")
    m.add_argument("file", metavar="FILE")
    m.add_argument("-o", "--output", required=True, metavar="PNG|SVG",
                   help="output image (.png or .svg; - writes PNG to standard output)")
    m.add_argument("--altitude-m", type=float, default=None,
                   help="threat altitude for horizon-limited sensor coverage "
                        "(default: the lowest raid altitude)")

    r = sub.add_parser("run", help="Monte Carlo replications of a scenario")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--reps", type=_reps, default=None,
                   help="replications (default: the scenario's `replications`)")
    r.add_argument("--seed", type=_seed, default=None, help="seed (default: the scenario's)")
    r.add_argument("--engine", choices=ENGINES, default="numba")
    r.add_argument("--threads", type=_positive_int, default=None,
                   help="numba threads (default: all cores)")
    r.add_argument("--json", metavar="PATH", help="write results as JSON")
    r.add_argument("--keep-outcomes", metavar="PATH",
                   help="write per-replication, per-threat outcomes (.npz)")
    r.add_argument("--plots", metavar="DIR", help="write the standard plots to DIR")
    _add_bar_options(r)
    _add_dask_options(r)

    t = sub.add_parser("trace", help="one replication's engagement timeline (reference engine)")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--rep", type=_rep_number, default=0, help="replication number")
    t.add_argument("--seed", type=_seed, default=None)

    k = sub.add_parser("compare", help="paired comparison of defense mixes ([[variants]] or "
                       "several files) on common random numbers")
    k.add_argument("files", nargs="+", metavar="FILE")
    _add_run_options(k, "the first file's")
    k.add_argument("--json", metavar="PATH", help="write the comparison as JSON")
    _add_bar_options(k)
    _add_dask_options(k)

    w = sub.add_parser("sweep", help="results over a grid of scenario values; saturation points")
    w.add_argument("file", metavar="FILE")
    w.add_argument("--vary", action="append", required=True, metavar="KEY=START:STOP:STEP",
                   help="key path and values (STOP included), e.g. raids.0.count=10:200:10; "
                        "or KEY=V1,V2,...; repeat for a grid")
    _add_run_options(w, "the scenario's")
    w.add_argument("--out", metavar="PREFIX", default=None,
                   help="write PREFIX.csv and PREFIX.json (default: sweep_<file stem>)")
    w.add_argument("--resume", action="store_true",
                   help="continue the sweep in PREFIX.json, skipping finished points")
    w.add_argument("--plot", metavar="PNG|SVG", help="draw the saturation curves")
    _add_dask_options(w)

    h = sub.add_parser("report", help="one self-contained HTML report of a scenario")
    h.add_argument("file", metavar="FILE")
    h.add_argument("-o", "--output", required=True, metavar="HTML")
    _add_run_options(h, "the scenario's")
    h.add_argument("--sweep-reps", type=_reps, default=None,
                   help="replications per point of the saturation curve (default: 100)")
    h.add_argument("--vary", action="append", metavar="KEY=START:STOP:STEP", default=None,
                   help="the saturation curve's sweep (default: scenario.raid_scale from "
                        "about 1/4 to 8 times the file's attack, the values it accepts)")
    _add_bar_options(h)
    return p


def _add_bar_options(parser) -> None:
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--quiet", action="store_true", help="no progress bar")
    bar.add_argument("--progress", action="store_true",
                     help="show the progress bar even when stderr is not a terminal")


def _bar(args) -> bool | str:
    """montecarlo.Progress's `enabled` from --quiet / --progress."""
    return "always" if args.progress else not args.quiet


def _add_run_options(parser, default_of: str) -> None:
    parser.add_argument("--reps", type=_reps, default=None,
                        help=f"replications (default: {default_of} `replications`)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help=f"seed (default: {default_of})")
    parser.add_argument("--engine", choices=ENGINES, default="numba")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="numba threads (default: all cores)")


def _add_dask_options(parser) -> None:
    parser.add_argument("--dask", metavar="ADDRESS|local[:N]", default=None,
                        help="run on a Dask cluster: a scheduler address (tcp://host:8786), or "
                             "local[:N] for N local process workers; results identical to a "
                             "local run (needs the optional extra salvosim[dist])")
    parser.add_argument("--dask-cache", metavar="DIR", default=None,
                        help="the workers' Numba cache directory (NUMBA_CACHE_DIR; default: "
                             "$SALVOSIM_DASK_CACHE, else the workers' own)")


def _dask_first(args) -> None:
    """With --dask: the extra is installed (else one line, exit 2); checked before any work."""
    if args.dask is None:
        if args.dask_cache is not None:
            raise UsageError("--dask-cache applies with --dask only")
        return
    from salvosim.engine.distributed import LOCAL, parse_address, probe_scheduler, require_dask
    require_dask()
    where, _ = parse_address(args.dask)
    if where != LOCAL:
        probe_scheduler(where)
    args.dask_cache = args.dask_cache or os.environ.get("SALVOSIM_DASK_CACHE") or None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"salvosim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"salvosim: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("salvosim: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        if exc.name not in ("engine", "threats", "defenses", "bases"):
            raise
        # Numba's cache keeps the module names of the code that filled it: an entry written by
        # a salvosim from before the `salvosim` namespace (0.1) cannot be loaded by this one.
        print("salvosim: error: Numba's cache holds code compiled by an older salvosim (module "
              f"{exc.name!r}); drop it with `make clean-cache`, then run again", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


def load(path: str):
    from salvosim.engine.variants import load_scenario
    return load_scenario(path)


def warn(*scenarios) -> None:
    """The scenarios' warnings on stderr, one line each; called once every check has passed
    (so that an error is the only line on stderr)."""
    for scn in scenarios:
        for w in scn.warnings:
            print(f"salvosim: warning: {w}", file=sys.stderr)


MAX_POINT_WARNINGS = 10     # a sweep's own warnings printed at most (then a count)


def warn_sweep_points(scn, plan) -> None:
    """Warnings that only swept values raise (a sensor range_m swept below 500 m), once each,
    with the first grid point that raised it; at most MAX_POINT_WARNINGS lines."""
    seen, lines = {str(w) for w in scn.warnings}, []
    for values, mixes in zip(plan.grid, plan.variants):
        label = ", ".join(f"{s.path.text} = {v}" for s, v in zip(plan.specs, values))
        for mix in mixes:
            for w in mix.scenario.warnings:
                if str(w) not in seen:
                    seen.add(str(w))
                    lines.append(f"salvosim: warning: {w} (at --vary {label})")
    for line in lines[:MAX_POINT_WARNINGS]:
        print(one_line(line), file=sys.stderr)
    if len(lines) > MAX_POINT_WARNINGS:
        print(f"salvosim: warning: and {len(lines) - MAX_POINT_WARNINGS} more at other grid "
              f"points", file=sys.stderr)


def cmd_validate(args) -> int:
    scenarios = [load(f) for f in args.files]
    warn(*scenarios)
    for f, scn in zip(args.files, scenarios):
        print(one_line(f"{f}: ok — {scn.name}: base {scn.base.id} layout {scn.layout_name}, "
                       f"{len(scn.sensors)} sensors, {len(scn.units)} fire units, "
                       f"{len(scn.raids)} raids, {scn.n_threats} threats"))
    return 0


def cmd_catalog(args) -> int:
    from salvosim.engine.views.catalog_view import catalog_json, catalog_text
    if args.json:
        print(json.dumps(catalog_json(args.kind), indent=2))
    else:
        print(catalog_text(args.kind))
    return 0


def cmd_map(args) -> int:
    from salvosim.engine.views.maps import draw_map
    _check_image_suffix(args.output, "-o")
    check_outputs([("-o", args.output)], [args.file])
    if args.altitude_m is not None and not (0.0 < args.altitude_m <= 100_000.0):   # nan, inf
        raise UsageError(f"--altitude-m: expected a threat altitude > 0 m and <= 100,000 m "
                         f"(100 km), got {args.altitude_m}")
    scn = load(args.file)
    check_outputs([("-o", args.output)], [args.file, scn.base.file])
    say = sayer(say_stream(args.output))
    warn(scn)
    fig = draw_map(scn, altitude_m=args.altitude_m)
    outputs = Outputs(say)
    outputs.write("-o", args.output, _figure_bytes(fig, args.output))
    outputs.finish()
    return 0


def _check_image_suffix(path: str, option: str = "--plot") -> None:
    if path == STDOUT:
        return
    if Path(path).suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"{option} {path}: output must end in .png or .svg (or be - for a "
                         f"PNG on standard output)")


def _figure_bytes(fig, path: str) -> bytes:
    from salvosim.engine.views.plots import figure_bytes
    fmt = "svg" if Path(path).suffix.lower() == ".svg" else "png"
    return figure_bytes(fig, fmt)


def _inputs(scn) -> list[str]:
    """The files a scenario was read from (an output must not replace one)."""
    return [scn.file] + ([scn.base.file] if scn.base.file != scn.file else [])


def cmd_run(args) -> int:
    from salvosim.engine.montecarlo import run_scenario
    from salvosim.engine.results import results_json, results_text
    from salvosim.engine.views.analysis import check_threads
    check_threads(args.engine, args.threads)
    _dask_first(args)
    if args.dask and (args.keep_outcomes or args.plots):
        raise UsageError("--keep-outcomes and --plots keep every replication's outcomes: run "
                         "them without --dask")
    planned = [("--json", args.json), ("--keep-outcomes", args.keep_outcomes)]
    check_outputs(planned, [args.file])
    if args.plots is not None:
        _check_plot_dir(args.plots, [args.file], planned)
    scn = load(args.file)
    check_outputs(planned, _inputs(scn))
    say = sayer(say_stream(args.json, args.keep_outcomes))
    note_variants(scn, args.file, "run")
    reps = args.reps or scn.header.replications
    if args.keep_outcomes or args.plots:
        _check_kept_memory(scn, reps, "--keep-outcomes" if args.keep_outcomes else "--plots")
    seed = scn.header.seed if args.seed is None else args.seed
    warn(scn)
    progress = _bar(args)
    if args.dask:
        from salvosim.engine.distributed import dask_client, run_distributed
        with dask_client(args.dask, args.dask_cache, probe=False) as client:
            res = run_distributed(client, scn, reps, seed, args.engine, args.threads,
                                  cache_dir=args.dask_cache, progress=progress)
    else:
        note_compiling(args.engine, [scn])
        res = run_scenario(scn, reps=reps, seed=seed, engine=args.engine, threads=args.threads,
                           keep_outcomes=bool(args.keep_outcomes or args.plots),
                           progress=progress)
    say(results_text(res))
    outputs = Outputs(say)
    if args.json:
        outputs.write("--json", args.json, json.dumps(results_json(res), indent=2))
    if args.keep_outcomes:
        import numpy as np
        buf = io.BytesIO()
        np.savez_compressed(buf, **res.outcomes_arrays())
        outputs.write("--keep-outcomes", args.keep_outcomes, buf.getvalue())
    if args.plots:
        from salvosim.engine.views.plots import write_standard_plots
        try:
            for path in write_standard_plots(res, scn, args.plots):
                say(f"wrote {path}")
        except OSError as exc:
            outputs.failed.append(f"--plots {args.plots!r}: {exc.strerror or exc}")
    outputs.finish()
    return 0


def _check_kept_memory(scn, reps: int, option: str,
                       tail: str = " (without it, memory does not grow with the replications)"
                       ) -> None:
    """--keep-outcomes, --plots and a report's plots keep every replication's outcomes in
    memory: refused before the work when that would take more than half of this machine's
    memory (it ran until the memory ran out)."""
    from salvosim.engine import montecarlo
    total = montecarlo.physical_memory_bytes()
    if total is None:
        return
    need = montecarlo.kept_outcome_bytes(scn.n_threats, len(scn.units), len(scn.base.assets),
                                         reps)
    if need > total // 2:
        most = max(1, reps * (total // 2) // max(need, 1))
        raise UsageError(f"{option} keeps every replication's outcomes: {reps:,} replications "
                         f"of {scn.n_threats:,} threats need about {need / 2**30:,.1f} GiB, more "
                         f"than half of this machine's {total / 2**30:,.1f} GiB; allowed: at "
                         f"most about {most:,} replications{tail}")


def _check_plot_dir(path: str, inputs: list[str], outputs=()) -> None:
    """--plots DIR, before any work: a directory (or one that can be made) that takes new
    files, none of whose plots would replace an input file or another output."""
    if path == "":
        raise UsageError("--plots: empty path; give a directory")
    if path == STDOUT:
        raise UsageError("--plots: a directory for several images; standard output (-) cannot "
                         "take them")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"--plots {path!r}: exists and is not a directory")
    if not p.exists() and not p.resolve().parent.is_dir():
        raise UsageError(f"--plots {path!r}: parent directory does not exist")
    for option, output in outputs:
        if output is not None and not is_stdout(output) and same_file(path, output):
            raise UsageError(f"--plots {path!r} and {option} both name {output!r}; give them "
                             f"different names")
    from salvosim.engine.views.plots import STANDARD_PLOTS
    for name in STANDARD_PLOTS:
        for source in inputs:
            if same_file(str(p / name), source):
                raise UsageError(f"--plots {path!r}: {name} would replace the input file "
                                 f"{source!r}; give another directory")
        for option, output in outputs:
            if output is not None and not is_stdout(output) and same_file(str(p / name), output):
                raise UsageError(f"--plots {path!r}: {name} would replace the {option} file "
                                 f"{output!r}; give them different names")
    if p.is_dir():
        for name in STANDARD_PLOTS:         # each: not a directory, and the directory takes it
            check_writable(str(p / name), "--plots")
    else:                  # made at the end: its parent must take it
        check_writable(str(p.resolve().parent / f"{p.name}.probe"), "--plots")


def note_variants(scn, path: str, command: str) -> None:
    """A note on stderr when the file has [[variants]], which `command` does not run."""
    if scn.raw.get("variants"):
        print(one_line(f"salvosim: note: {path} defines {len(scn.raw['variants'])} "
                       f"[[variants]]; `{command}` simulates the scenario as written — use "
                       f"`salvosim compare {path}` to run the variants"), file=sys.stderr)


def cmd_trace(args) -> int:
    from salvosim.engine.reference import trace_replication
    scn = load(args.file)
    seed = scn.header.seed if args.seed is None else args.seed
    note_variants(scn, args.file, "trace")
    warn(scn)
    note_compiling("reference")
    for line in trace_replication(scn, seed=seed, rep=args.rep):
        print(one_line(line))
    return 0


def cmd_compare(args) -> int:
    from salvosim.engine.views.analysis import (
        check_threads,
        comparison_json,
        comparison_text,
        comparison_variants,
        run_paired,
    )
    check_threads(args.engine, args.threads)
    _dask_first(args)
    check_outputs([("--json", args.json)], args.files)
    scenarios = [load(f) for f in args.files]
    check_outputs([("--json", args.json)], [f for s in scenarios for f in _inputs(s)])
    say = sayer(say_stream(args.json))
    seed = scenarios[0].header.seed if args.seed is None else args.seed
    reps = args.reps or scenarios[0].header.replications
    variants = comparison_variants(scenarios, seed)
    warn(*scenarios)
    if args.dask:
        from salvosim.engine.distributed import dask_client
        from salvosim.engine.views.analysis import run_paired_dask
        with dask_client(args.dask, args.dask_cache, probe=False) as client:
            run = run_paired_dask(client, scenarios, variants, reps, seed, args.engine,
                                  args.threads, cache_dir=args.dask_cache, progress=_bar(args))
    else:
        note_compiling(args.engine, [v.scenario for v in variants])
        run = run_paired(variants, reps, seed, args.engine, args.threads, progress=_bar(args))
    cmp = comparison_json(run)
    say(comparison_text(run, cmp))
    outputs = Outputs(say)
    if args.json:
        outputs.write("--json", args.json, json.dumps(cmp, indent=2))
    outputs.finish()
    return 0


def cmd_sweep(args) -> int:
    from salvosim.engine.variants import parse_vary_list
    from salvosim.engine.views.analysis import (
        check_resumable,
        check_threads,
        default_sweep_prefix,
        plan_sweep,
        saturation_text,
    )
    check_threads(args.engine, args.threads)
    _dask_first(args)
    if args.out == STDOUT and args.resume:
        raise UsageError("--resume continues the sweep in PREFIX.json: give --out a file prefix, "
                         "not -")
    if args.plot is not None:
        _check_image_suffix(args.plot, "--plot")
    scn = load(args.file)
    prefix = default_sweep_prefix(scn) if args.out is None else args.out
    if prefix == STDOUT:
        planned = [("--out", STDOUT)]
    elif prefix == "" or prefix.endswith(os.sep):
        raise UsageError(f"--out {prefix!r}: expected a file prefix (PREFIX.json and PREFIX.csv "
                         f"are written), or - for the JSON on standard output")
    else:
        planned = [("--out", prefix + ".json"), ("--out", prefix + ".csv")]
    planned.append(("--plot", args.plot))
    check_outputs(planned, _inputs(scn))
    say = sayer(say_stream(prefix, args.plot))
    specs = parse_vary_list(args.vary)
    plan = plan_sweep(scn, specs, args.seed, args.reps)
    if args.resume and prefix != STDOUT:
        check_resumable(plan, prefix)     # a file of another sweep: its one line, nothing else
    warn(scn)
    warn_sweep_points(scn, plan)
    say(one_line(f"{scn.name}: {len(plan.grid)} points x {len(plan.names)} mixes, {plan.reps} "
                 f"replications each, {args.engine} engine"))
    outputs = Outputs(say)
    with _sweep_runner(args, plan) as runner:
        if runner is None:
            note_compiling(args.engine, _mixes(scn))
        record = _sweep(args, plan, prefix, say, outputs, runner)
    say()
    say(saturation_text(record))
    if args.plot:
        from salvosim.engine.views.plots import figure_bytes, saturation_figure
        fig = saturation_figure(record)
        outputs.write("--plot", args.plot,
                      figure_bytes(fig, "svg" if args.plot.lower().endswith(".svg") else "png"))
    outputs.finish()
    return 0


@contextlib.contextmanager
def _sweep_runner(args, plan):
    """None (points run here), or with --dask a runner of the points as cluster tasks."""
    if not args.dask:
        yield None
        return
    from salvosim.engine.distributed import dask_client
    from salvosim.engine.views.analysis import dask_point_runner
    with dask_client(args.dask, args.dask_cache, probe=False) as client:
        yield dask_point_runner(client, plan, args.engine, args.threads, args.dask_cache)


def _sweep(args, plan, prefix, say, outputs, runner) -> dict:
    from salvosim.engine.views.analysis import run_sweep, sweep_in_memory
    if prefix == STDOUT:
        record = sweep_in_memory(plan, args.engine, args.threads,
                                 progress=lambda line: say(line), runner=runner)
        outputs.write("--out", STDOUT, json.dumps(record, indent=1))
    else:
        try:
            record = run_sweep(plan, prefix, args.engine, args.threads, resume=args.resume,
                               print_line=lambda line: say(one_line(line)), runner=runner)
        except KeyboardInterrupt:
            if Path(prefix + ".json").exists():
                print(f"salvosim: the finished points are in {prefix}.json; continue with "
                      f"--resume", file=sys.stderr)
            raise
        except OSError as exc:
            kept = (f"; the points finished before are in {prefix}.json (continue with --resume)"
                    if Path(prefix + ".json").exists() else "")
            raise UsageError(f"could not write {prefix}.json / {prefix}.csv: "
                             f"{exc.strerror or exc}{kept}") from None
        say(f"wrote {prefix}.json and {prefix}.csv")
    return record


def cmd_report(args) -> int:
    from salvosim.engine.views.analysis import check_threads
    from salvosim.engine.views.report import build_report
    check_threads(args.engine, args.threads)
    if args.vary is not None and len(args.vary) > 1:
        raise UsageError(f"--vary given {len(args.vary)} times: the report's saturation curve "
                         f"varies one key (salvosim sweep takes several, a grid)")
    if args.output != STDOUT and Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {args.output}: output must end in .html or .htm (or be - for "
                         f"standard output)")
    check_outputs([("-o", args.output)], [args.file])
    scn = load(args.file)
    check_outputs([("-o", args.output)], _inputs(scn))
    _check_kept_memory(scn, args.reps or scn.header.replications,
                       "report (the plots of its first mix)", tail=" (--reps)")
    say = sayer(say_stream(args.output))
    warn(scn)
    note_compiling(args.engine, _mixes(scn))
    html = build_report(scn, reps=args.reps, seed=args.seed, engine=args.engine,
                        threads=args.threads, sweep_reps=args.sweep_reps,
                        vary=args.vary[0] if args.vary else None,
                        progress=lambda line: say(one_line(line)), bar=_bar(args))
    outputs = Outputs(say)
    outputs.write("-o", args.output, html)
    outputs.finish()
    return 0


COMMANDS = {"validate": cmd_validate, "catalog": cmd_catalog, "map": cmd_map, "run": cmd_run,
            "trace": cmd_trace, "compare": cmd_compare, "sweep": cmd_sweep, "report": cmd_report}


def console_main() -> int:
    """The `salvosim` command: main(), then exit without tearing the interpreter down.

    Finalization frees Numba's compiled-code objects one by one: 0.3 s of a 1.2 s warm
    `run --reps 1000`. Once the output is flushed, the atexit handlers have run and no thread
    but the engine's idle pool workers is alive (no Dask cluster, no child process), nothing
    is left to finish, so the process ends with os._exit. Otherwise it exits normally."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):      # a closed pipe or stream: exit normally
        return code
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    children = "multiprocessing" in sys.modules and sys.modules["multiprocessing"].active_children()
    if all(t.name.startswith("salvosim_") for t in others) and not children:
        atexit._run_exitfuncs()
        os._exit(code or 0)
    return code


if __name__ == "__main__":
    sys.exit(console_main())
