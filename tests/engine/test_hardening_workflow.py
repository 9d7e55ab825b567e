"""Issue 12, items 6 and 9: names with '$' in every figure, the compile note, the tqdm
progress bar, map legends and rings, packaging."""
import io
import sys
import tomllib

import pytest

from tests import REPO_ROOT
from tests.cli_kit import run_cli
from tests.engine.test_hardening_inputs import BASE, write

ROOT = REPO_ROOT

DOLLARS = (BASE.replace('name = "rockets"', 'name = "$5 rockets $x^2$"')
           + '\n[[units]]\nname = "cram_north"\nremove = true\n'
           + '\n[[units]]\nname = "$cram \\\\frac{a}{b}"\ntype = "cram"\neast_m = 0.0\n'
             'north_m = 1000.0\nsensor = "cram_radar_north"\n'
           + '\n[[variants]]\nname = "$$ mix"\n\n[[variants]]\nname = "$other_"\n')


@pytest.mark.parametrize("argv", [
    ["map", "{s}", "-o", "{d}/m.png"],
    ["map", "{s}", "-o", "{d}/m.svg"],
    ["run", "{s}", "--reps", "3", "--threads", "1", "--quiet", "--plots", "{d}/plots"],
    ["sweep", "{s}", "--vary", "raids.0.count=1,2", "--reps", "1", "--threads", "1", "--out",
     "{d}/sw", "--plot", "{d}/sat.png"],
    ["report", "{s}", "-o", "{d}/r.html", "--reps", "2", "--threads", "1", "--sweep-reps", "1",
     "--vary", "raids.0.count=1,2"],
], ids=["map-png", "map-svg", "run-plots", "sweep-plot", "report"])
def test_dollar_signs_in_names_draw_as_text(argv, tmp_path, capsys):
    path = write(tmp_path, DOLLARS)
    rc, _, err = run_cli([a.format(s=path, d=tmp_path) for a in argv], capsys)
    assert rc == 0, err
    assert "Traceback" not in err


def test_money_in_figures_is_a_plain_dollar_sign():
    from salvosim.engine.views.plots import _usd
    assert _usd(4500.0) == "$4.5 k" or _usd(4500.0) == "$4 k" or _usd(4500.0).startswith("$")
    assert "\\" not in _usd(2.5e6)


def test_map_legend_names_the_units_and_the_overview_skips_small_rings():
    from salvosim.engine.variants import load_scenario
    from salvosim.engine.views.maps import draw_map
    scn = load_scenario(ROOT / "scenarios" / "al_asad_drone_raid.toml")
    fig = draw_map(scn)
    texts = [t.get_text() for ax in fig.axes for leg in ([ax.get_legend()] + [
        a for a in ax.artists if hasattr(a, "get_texts")]) if leg is not None
        for t in leg.get_texts()]
    joined = " ".join(texts)
    assert "cram_north" in joined and "patriot_east" in joined
    overview = fig.axes[0]
    assert "base detail only" in overview.get_title()


def test_progress_bar_is_tqdm_and_only_on_a_terminal_or_when_asked(monkeypatch):
    from salvosim.engine.montecarlo import Progress
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    quiet = Progress(10, enabled=True)            # not a terminal: no bar
    quiet.add(5)
    quiet.close()
    assert buf.getvalue() == ""
    bar = Progress(10, enabled="always")
    for _ in range(10):
        bar.add(1)                                # per chunk, from any thread
    assert bar.bar is not None and bar.bar.n == 10
    bar.update(10)
    bar.close()
    assert "10/10" in buf.getvalue()


def test_run_progress_option_shows_the_bar_on_stderr(tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, _, err = run_cli(["run", str(path), "--reps", "3", "--threads", "1", "--progress"],
                         capsys)
    assert rc == 0, err
    assert "3/3" in err
    rc, _, err = run_cli(["run", str(path), "--reps", "3", "--quiet", "--progress"], capsys)
    assert rc == 2 and "not allowed with" in err


def test_a_closed_bar_stays_closed(monkeypatch):
    """After Ctrl-C closed the bar, a worker thread finishing its chunk drew a new one."""
    from salvosim.engine.montecarlo import Progress
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    bar = Progress(10, enabled="always")
    bar.add(4)
    bar.close()
    shown = buf.getvalue()
    bar.add(3)
    assert bar.bar is None and buf.getvalue() == shown


MIXES = str(REPO_ROOT / "scenarios" / "al_asad_mixes.toml")


def test_compare_shows_a_progress_bar_when_asked(capsys):
    """It ran for seconds with nothing on stderr (a 100,000-replication comparison: 13 s)."""
    rc, _, err = run_cli(["compare", MIXES, "--reps", "3", "--threads", "1", "--progress"],
                         capsys)
    assert rc == 0, err
    assert "replications: 100%" in err and "15/15" in err      # 5 mixes x 3
    rc, _, err = run_cli(["compare", MIXES, "--reps", "3", "--threads", "1", "--quiet"], capsys)
    assert rc == 0 and "replications:" not in err


@pytest.mark.parametrize("option, bar", [("--progress", "always"), ("--quiet", False)])
def test_report_gives_its_comparison_the_progress_option(option, bar, monkeypatch, tmp_path,
                                                         capsys):
    """report's comparison takes the bar of compare (run_paired, tested above), stopped
    there: the whole report takes seconds."""
    from salvosim.engine.views import analysis
    seen = {}

    def stop(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis, "run_paired", stop)
    run_cli(["report", MIXES, "-o", str(tmp_path / "r.html"), "--reps", "3", option], capsys)
    assert seen["progress"] == bar
    assert not (tmp_path / "r.html").exists()


def test_compile_note_when_the_cache_is_cold(monkeypatch, capsys):
    from salvosim.engine import cli
    assert isinstance(cli.jit_cache_is_cold("numba"), bool)
    assert isinstance(cli.jit_cache_is_cold("reference"), bool)
    monkeypatch.setattr(cli, "jit_cache_is_cold", lambda engine, central=None: True)
    cli.note_compiling("numba")
    assert capsys.readouterr().err == "salvosim: compiling (first run only)…\n"
    monkeypatch.setattr(cli, "jit_cache_is_cold", lambda engine, central=None: False)
    cli.note_compiling("numba")
    assert capsys.readouterr().err == ""


def test_compile_check_sees_an_empty_numba_cache(tmp_path):
    """A fresh process with an empty cache directory: cold (nothing is compiled here)."""
    import os
    import subprocess
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "from salvosim.engine.cli import jit_cache_is_cold; "
                          "print(jit_cache_is_cold('numba'), jit_cache_is_cold('reference'))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_compile_check_is_warm_once_the_engine_has_run(warm_jit):
    from salvosim.engine import cli
    assert cli.jit_cache_is_cold("numba") is False
    assert cli.jit_cache_is_cold("numba", [False]) is False    # warm_jit's scenario: lean build


def test_compile_check_asks_for_the_build_each_scenario_needs(monkeypatch):
    """The event loop has two builds (kernel.c2_build: central C2 or not), two signatures of
    run_chunk in Numba's cache: a cache holding only one is cold for a scenario needing the
    other (the first run of a central-C2 scenario compiles, and says so)."""
    from numba import types

    from salvosim.engine.kernel import run_chunk
    from salvosim.engine.montecarlo import jit_cache_is_cold
    cache_file = run_chunk._cache._cache_file
    monkeypatch.setattr(type(run_chunk), "signatures", property(lambda self: []))
    lean = (types.int64, types.int64, types.none, types.int64)      # c2 is run_chunk's third
    monkeypatch.setattr(cache_file, "_load_index", lambda: {(lean, ("target",)): "file"})
    assert not jit_cache_is_cold("numba", [False])
    assert jit_cache_is_cold("numba", [True])
    assert jit_cache_is_cold("numba", [False, True])
    assert not jit_cache_is_cold("numba")                          # any build will do
    assert not jit_cache_is_cold("numba", [])
    monkeypatch.setattr(cache_file, "_load_index", lambda: {})
    assert jit_cache_is_cold("numba", [False]) and jit_cache_is_cold("numba")


def test_packaging_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert meta["project"]["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in meta["build-system"]["requires"]
    assert any(d.startswith("tqdm") for d in meta["project"]["dependencies"])
    assert "salvosim contributors" in (ROOT / "LICENSE").read_text()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "salvosim" / "py.typed").exists()
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["salvosim"]
