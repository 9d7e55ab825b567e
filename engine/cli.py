"""The `salvosim` command line.

Every user mistake (bad file, bad key, bad option value) ends as one line on stderr naming
the file, the key path and what is allowed, exit status 2, and no output file written.
Output files are written to a temporary name and renamed, so none is ever left half-written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .schema import InputError

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad command-line value (not a file's content)."""


def _version() -> str:
    try:
        return version("salvosim")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write a file by temporary name + rename so that no partial file is ever left."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise UsageError(f"{path}: directory {path.parent} does not exist")
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode) as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
_non_negative_int = _whole_number(0)
_seed = _whole_number(0, 2 ** 63, "a seed in 0 .. 2^63-1")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit status 2 with one clear line, as argparse does
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="salvosim", description="Base air-defense engagement simulator "
                "(unclassified, open-source figures).")
    p.add_argument("--version", action="version", version=f"salvosim {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check scenario files; exit 2 on the first error")
    v.add_argument("files", nargs="+", metavar="FILE")

    c = sub.add_parser("catalog", help="list catalog entries with their sources")
    c.add_argument("kind", nargs="?", default="threats",
                   choices=("threats", "sensors", "defenses", "bases"))
    c.add_argument("--json", action="store_true", help="machine-readable output")

    m = sub.add_parser("map", help="draw a scenario's base, defenses, coverage and raid axes")
    m.add_argument("file", metavar="FILE")
    m.add_argument("-o", "--output", required=True, metavar="PNG|SVG")
    m.add_argument("--altitude-m", type=float, default=None,
                   help="threat altitude for horizon-limited sensor coverage "
                        "(default: the lowest raid altitude)")

    r = sub.add_parser("run", help="Monte Carlo replications of a scenario")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--reps", type=_positive_int, default=None,
                   help="replications (default: the scenario's `replications`)")
    r.add_argument("--seed", type=_seed, default=None, help="seed (default: the scenario's)")
    r.add_argument("--engine", choices=("numba", "reference"), default="numba")
    r.add_argument("--threads", type=_positive_int, default=None,
                   help="numba threads (default: all cores)")
    r.add_argument("--json", metavar="PATH", help="write results as JSON")
    r.add_argument("--keep-outcomes", metavar="PATH",
                   help="write per-replication, per-threat outcomes (.npz)")
    r.add_argument("--plots", metavar="DIR", help="write the standard plots to DIR")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    t = sub.add_parser("trace", help="one replication's engagement timeline (reference engine)")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--rep", type=_non_negative_int, default=0, help="replication number")
    t.add_argument("--seed", type=_seed, default=None)

    k = sub.add_parser("compare", help="paired comparison of defense mixes ([[variants]] or "
                       "several files) on common random numbers")
    k.add_argument("files", nargs="+", metavar="FILE")
    _add_run_options(k, "the first file's")
    k.add_argument("--json", metavar="PATH", help="write the comparison as JSON")

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

    h = sub.add_parser("report", help="one self-contained HTML report of a scenario")
    h.add_argument("file", metavar="FILE")
    h.add_argument("-o", "--output", required=True, metavar="HTML")
    _add_run_options(h, "the scenario's")
    h.add_argument("--sweep-reps", type=_positive_int, default=None,
                   help="replications per point of the saturation curve (default: 100)")
    h.add_argument("--vary", metavar="KEY=START:STOP:STEP", default=None,
                   help="the saturation curve's sweep (default: raids.0.count from about 1/4 "
                        "to 8 times the file's count)")
    return p


def _add_run_options(parser, default_of: str) -> None:
    parser.add_argument("--reps", type=_positive_int, default=None,
                        help=f"replications (default: {default_of} `replications`)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help=f"seed (default: {default_of})")
    parser.add_argument("--engine", choices=("numba", "reference"), default="numba")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="numba threads (default: all cores)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"salvosim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"salvosim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("salvosim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def cmd_validate(args) -> int:
    from .scenario import load_scenario
    for f in args.files:
        scn = load_scenario(f)
        print(f"{f}: ok — {scn.name}: base {scn.base.id} layout {scn.header.layout}, "
              f"{len(scn.sensors)} sensors, {len(scn.units)} fire units, "
              f"{len(scn.raids)} raids, {scn.n_threats} threats")
    return 0


def cmd_catalog(args) -> int:
    from .catalog_view import catalog_json, catalog_text
    if args.json:
        print(json.dumps(catalog_json(args.kind), indent=2))
    else:
        print(catalog_text(args.kind))
    return 0


def cmd_map(args) -> int:
    from .maps import draw_map
    from .scenario import load_scenario
    scn = load_scenario(args.file)
    _check_image_suffix(args.output)
    if args.altitude_m is not None and not (0.0 < args.altitude_m < 1e6):   # rejects nan, inf
        raise UsageError(f"--altitude-m: expected a threat altitude > 0 m (and below 1,000 km), "
                         f"got {args.altitude_m}")
    fig = draw_map(scn, altitude_m=args.altitude_m)
    write_atomic(args.output, _figure_bytes(fig, args.output))
    print(f"wrote {args.output}")
    return 0


def _check_image_suffix(path: str) -> None:
    if Path(path).suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"{path}: output must end in .png or .svg")


def _figure_bytes(fig, path: str) -> bytes:
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lower().lstrip("."), dpi=130, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def cmd_run(args) -> int:
    from .montecarlo import run_scenario
    from .results import results_json, results_text
    from .scenario import load_scenario
    scn = load_scenario(args.file)
    for out in (args.json, args.keep_outcomes):
        if out and not Path(out).resolve().parent.exists():
            raise UsageError(f"{out}: directory {Path(out).resolve().parent} does not exist")
    if args.plots:
        _check_plot_dir(args.plots)
    if args.threads is not None and args.engine == "reference":
        raise UsageError("--threads applies to the numba engine only")
    if scn.raw.get("variants"):
        print(f"note: {args.file} defines {len(scn.raw['variants'])} [[variants]]; `run` "
              f"simulates the scenario as written — use `salvosim compare {args.file}` to run "
              f"the variants", file=sys.stderr)
    reps = args.reps or scn.header.replications
    seed = scn.header.seed if args.seed is None else args.seed
    res = run_scenario(scn, reps=reps, seed=seed, engine=args.engine, threads=args.threads,
                       keep_outcomes=bool(args.keep_outcomes or args.plots),
                       progress=not args.quiet)
    print(results_text(res))
    if args.json:
        write_atomic(args.json, json.dumps(results_json(res), indent=2))
        print(f"wrote {args.json}")
    if args.keep_outcomes:
        import io

        import numpy as np
        buf = io.BytesIO()
        np.savez_compressed(buf, **res.outcomes_arrays())
        write_atomic(args.keep_outcomes, buf.getvalue())
        print(f"wrote {args.keep_outcomes}")
    if args.plots:
        from .plots import write_standard_plots
        for path in write_standard_plots(res, scn, args.plots):
            print(f"wrote {path}")
    return 0


def _check_plot_dir(path: str) -> None:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{path}: exists and is not a directory")
    if not p.exists() and not p.resolve().parent.exists():
        raise UsageError(f"{path}: parent directory does not exist")


def cmd_trace(args) -> int:
    from .reference import trace_replication
    from .scenario import load_scenario
    scn = load_scenario(args.file)
    seed = scn.header.seed if args.seed is None else args.seed
    for line in trace_replication(scn, seed=seed, rep=args.rep):
        print(line)
    return 0


def _check_out_dir(path: str, option: str) -> None:
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: directory {parent} does not exist")


def cmd_compare(args) -> int:
    from .analysis import (check_threads, comparison_json, comparison_text, comparison_variants,
                           run_paired)
    from .scenario import load_scenario
    scenarios = [load_scenario(f) for f in args.files]
    check_threads(args.engine, args.threads)
    if args.json:
        _check_out_dir(args.json, "--json")
    seed = scenarios[0].header.seed if args.seed is None else args.seed
    reps = args.reps or scenarios[0].header.replications
    variants = comparison_variants(scenarios, seed)
    run = run_paired(variants, reps, seed, args.engine, args.threads)
    cmp = comparison_json(run)
    print(comparison_text(run, cmp))
    if args.json:
        write_atomic(args.json, json.dumps(cmp, indent=2))
        print(f"wrote {args.json}")
    return 0


def cmd_sweep(args) -> int:
    from .analysis import (check_threads, default_sweep_prefix, parse_vary_list, plan_sweep,
                           run_sweep, saturation_text)
    from .scenario import load_scenario
    scn = load_scenario(args.file)
    check_threads(args.engine, args.threads)
    prefix = args.out or default_sweep_prefix(scn)
    _check_out_dir(prefix + ".json", "--out")
    if args.plot:
        _check_image_suffix(args.plot)
        _check_out_dir(args.plot, "--plot")
    specs = parse_vary_list(args.vary)
    plan = plan_sweep(scn, specs, args.seed, args.reps)
    print(f"{scn.name}: {len(plan.grid)} points x {len(plan.names)} mixes, {plan.reps} "
          f"replications each, {args.engine} engine")
    try:
        record = run_sweep(plan, prefix, args.engine, args.threads, resume=args.resume,
                           print_line=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        if Path(prefix + ".json").exists():
            print(f"salvosim: the finished points are in {prefix}.json; continue with --resume",
                  file=sys.stderr)
        raise
    print(f"wrote {prefix}.json and {prefix}.csv")
    print()
    print(saturation_text(record))
    if args.plot:
        from .plots import saturation_figure, save_figure
        save_figure(saturation_figure(record), args.plot)
        print(f"wrote {args.plot}")
    return 0


def cmd_report(args) -> int:
    from .analysis import check_threads
    from .report import build_report
    from .scenario import load_scenario
    scn = load_scenario(args.file)
    check_threads(args.engine, args.threads)
    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{args.output}: output must end in .html")
    _check_out_dir(args.output, "-o")
    html = build_report(scn, reps=args.reps, seed=args.seed, engine=args.engine,
                        threads=args.threads, sweep_reps=args.sweep_reps, vary=args.vary,
                        progress=lambda line: print(line, flush=True))
    write_atomic(args.output, html)
    print(f"wrote {args.output}")
    return 0


COMMANDS = {"validate": cmd_validate, "catalog": cmd_catalog, "map": cmd_map, "run": cmd_run,
            "trace": cmd_trace, "compare": cmd_compare, "sweep": cmd_sweep, "report": cmd_report}


if __name__ == "__main__":
    sys.exit(main())
