"""Issue 12, items 3 and 5: an output never destroys an input, another output, /dev/stdout
or a directory; `-` is standard output; unwritable places are refused before any work; a
write that fails after the work is one line and keeps what was computed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import REPO_ROOT
from tests.cli_kit import run_cli
from tests.engine.test_hardening_inputs import BASE, one_error, write

ROOT = REPO_ROOT


def snapshot(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


@pytest.mark.parametrize("argv", [
    ["run", "{s}", "--reps", "1", "--json", "{s}"],
    ["run", "{s}", "--reps", "1", "--keep-outcomes", "{s}"],
    ["compare", "{s}", "--reps", "1", "--json", "{s}"],
    ["report", "{s}", "--reps", "1", "-o", "{s}"],
], ids=["run-json", "run-keep-outcomes", "compare-json", "report-o"])
def test_an_output_equal_to_the_input_is_refused_and_the_input_kept(argv, tmp_path, capsys):
    name = "scenario.html" if "report" in argv else "scenario.toml"
    path = write(tmp_path, BASE, name)
    before = snapshot(tmp_path)
    rc, out, err = run_cli([a.format(s=path) for a in argv], capsys)
    one_error(rc, err, "is the input file", "refusing to overwrite")
    assert snapshot(tmp_path) == before
    assert "replications" not in out          # nothing ran


def test_map_output_equal_to_the_input_is_refused(tmp_path, capsys):
    path = write(tmp_path, BASE, "scenario.png")      # a TOML file, whatever its name
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["map", str(path), "-o", str(path)], capsys)
    one_error(rc, err, "-o", "is the input file")
    assert snapshot(tmp_path) == before


def test_sweep_output_equal_to_the_input_is_refused(tmp_path, capsys):
    path = write(tmp_path, BASE, "grid.json")
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=1,2", "--reps", "1",
                          "--out", str(tmp_path / "grid")], capsys)
    one_error(rc, err, "--out", "is the input file")
    assert snapshot(tmp_path) == before


def test_an_output_through_a_symlink_to_the_input_is_refused(tmp_path, capsys):
    path = write(tmp_path, BASE)
    (tmp_path / "link.json").symlink_to(path)
    before = path.read_bytes()
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--json", str(tmp_path / "link.json")],
                         capsys)
    one_error(rc, err, "is the input file")
    assert path.read_bytes() == before


def test_two_outputs_with_the_same_name_are_refused(tmp_path, capsys):
    path = write(tmp_path, BASE)
    out = tmp_path / "same.out"
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--json", str(out),
                          "--keep-outcomes", str(out)], capsys)
    one_error(rc, err, "--json and --keep-outcomes both name")
    assert not out.exists()


@pytest.mark.parametrize("argv, option", [
    (["run", "{s}", "--reps", "1", "--json", ""], "--json"),
    (["run", "{s}", "--reps", "1", "--keep-outcomes", " "], "--keep-outcomes"),
    (["compare", "{s}", "--reps", "1", "--json", ""], "--json"),
    (["map", "{s}", "-o", ""], "-o"),
    (["report", "{s}", "-o", ""], "-o"),
    (["sweep", "{s}", "--vary", "raids.0.count=1,2", "--out", ""], "--out"),
    (["run", "{s}", "--reps", "1", "--plots", ""], "--plots"),
])
def test_an_empty_output_path_is_an_error(argv, option, tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, _, err = run_cli([a.format(s=path) for a in argv], capsys)
    one_error(rc, err, option)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_two_outputs_to_standard_output_are_refused(tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--json", "-", "--keep-outcomes",
                          "-"], capsys)
    one_error(rc, err, "both write to standard output")


def test_dash_writes_the_json_to_stdout_and_the_summary_to_stderr(tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, out, err = run_cli(["run", str(path), "--reps", "2", "--threads", "1", "--quiet",
                            "--json", "-"], capsys)
    assert rc == 0, err
    assert json.loads(out)["replications"] == 2
    assert "Leakers per attack" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_compare_and_sweep_write_json_to_stdout_with_dash(tmp_path, capsys):
    path = write(tmp_path, BASE)
    rc, out, err = run_cli(["compare", str(path), "--reps", "2", "--threads", "1", "--json",
                            "-"], capsys)
    assert rc == 0, err
    assert json.loads(out)["replications"] == 2
    rc, out, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=1,2", "--reps", "1",
                            "--threads", "1", "--out", "-"], capsys)
    assert rc == 0, err
    assert len(json.loads(out)["points"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]
    rc, _, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=1,2", "--out", "-",
                          "--resume"], capsys)
    one_error(rc, err, "--resume")


def test_map_writes_png_to_stdout_with_dash(tmp_path, capsysbinary):
    path = write(tmp_path, BASE)
    rc = __import__("salvosim.engine.cli", fromlist=["main"]).main(["map", str(path), "-o", "-"])
    out, _ = capsysbinary.readouterr()
    assert rc == 0
    assert out.startswith(b"\x89PNG")


def test_json_to_dev_stdout_writes_through_and_keeps_the_symlink(tmp_path):
    """In a real process: /dev/stdout is a symlink to the process's standard output (here a
    regular file); it must be written to, not replaced by a regular file."""
    path = write(tmp_path, BASE)
    was_link = os.path.islink("/dev/stdout")
    target = tmp_path / "captured.txt"
    with open(target, "wb") as fh:
        proc = subprocess.run([sys.executable, "-m", "salvosim.engine.cli", "run", str(path), "--reps",
                               "1", "--threads", "1", "--quiet", "--json", "/dev/stdout"],
                              stdout=fh, stderr=subprocess.PIPE, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(target.read_text())["replications"] == 1
    assert os.path.islink("/dev/stdout") == was_link
    assert "Leakers per attack" in proc.stderr.decode()


def test_a_symlinked_output_keeps_the_link_and_replaces_its_file(tmp_path, capsys):
    path = write(tmp_path, BASE)
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", "--quiet",
                          "--json", str(tmp_path / "link.json")], capsys)
    assert rc == 0, err
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(real.read_text())["replications"] == 1


# ----------------------------------------------------------------------------------------
# 5. Unwritable outputs are refused before the work; late failures keep the results
@pytest.mark.parametrize("argv, fragments", [
    (["run", "{s}", "--reps", "1", "--json", "{d}"], ["--json", "is a directory"]),
    (["run", "{s}", "--reps", "1", "--keep-outcomes", "{d}"], ["is a directory"]),
    (["compare", "{s}", "--reps", "1", "--json", "{d}"], ["is a directory"]),
    (["map", "{s}", "-o", "{d}/nodir/m.png"], ["does not exist"]),
    (["report", "{s}", "--reps", "1", "-o", "/proc/report.html"], ["cannot write in"]),
    (["run", "{s}", "--reps", "1", "--json", "/proc/x.json"], ["cannot write in '/proc'"]),
    (["sweep", "{s}", "--vary", "raids.0.count=1,2", "--out", "/proc/sw"], ["cannot write"]),
    (["sweep", "{s}", "--vary", "raids.0.count=1,2", "--out", "{d}/"], ["--out"]),
    (["run", "{s}", "--reps", "1", "--plots", "{s}"], ["--plots", "not a directory"]),
])
def test_an_unwritable_output_is_refused_before_running(argv, fragments, tmp_path, capsys):
    path = write(tmp_path, BASE)
    (tmp_path / "outdir").mkdir()
    before = snapshot(tmp_path)
    rc, out, err = run_cli([a.format(s=path, d=tmp_path / "outdir") for a in argv], capsys)
    one_error(rc, err, *fragments)
    assert "replications" not in out
    assert snapshot(tmp_path) == before
    assert list((tmp_path / "outdir").iterdir()) == []


def test_a_full_disk_after_the_run_is_one_line_and_keeps_the_results(tmp_path, capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    path = write(tmp_path, BASE)
    keep = tmp_path / "outcomes.npz"
    rc, out, err = run_cli(["run", str(path), "--reps", "2", "--threads", "1", "--quiet",
                            "--json", "/dev/full", "--keep-outcomes", str(keep)], capsys)
    line = one_error(rc, err, "could not write --json '/dev/full'", "No space left",
                     "the results above were computed")
    assert "Leakers per attack" in out           # the summary was printed
    assert keep.exists()                       # the other output was written
    fallback = line.split("written to '")[1].split("'")[0]
    assert json.loads(Path(fallback).read_text())["replications"] == 2
    os.unlink(fallback)


def test_write_atomic_refuses_a_directory_and_writes_through_a_device(tmp_path):
    from salvosim.engine.errors import UsageError
    from salvosim.engine.fileio import write_atomic
    with pytest.raises(UsageError):
        write_atomic(tmp_path, "x")
    write_atomic("/dev/null", "x")             # a device: written to, not replaced
    assert Path("/dev/null").is_char_device()


def test_a_read_only_directory_is_refused_before_running(tmp_path, capsys, monkeypatch):
    """(As root a chmod-ed directory stays writable, so the refusal of the probe file is
    simulated.)"""
    import errno
    import tempfile

    from salvosim.engine import fileio
    path = write(tmp_path, BASE)
    real = tempfile.mkstemp

    def refuse(*args, **kwargs):
        if str(kwargs.get("dir", "")).endswith("readonly"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, **kwargs)
    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    (tmp_path / "readonly").mkdir()
    rc, out, err = run_cli(["run", str(path), "--reps", "1", "--json",
                            str(tmp_path / "readonly" / "r.json")], capsys)
    one_error(rc, err, "--json", "cannot write in", "Permission denied")
    assert "replications" not in out


def test_a_sweep_that_cannot_write_after_a_point_keeps_the_finished_points(tmp_path, capsys,
                                                                             monkeypatch):
    import errno

    from salvosim.engine.views import analysis
    path = write(tmp_path, BASE)
    real = analysis.write_atomic
    calls = []

    def full_disk(target, data):
        calls.append(target)
        if len(calls) > 2:                         # point 1 written (json + csv), then full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, data)
    monkeypatch.setattr(analysis, "write_atomic", full_disk)
    rc, out, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=1,2,3", "--reps", "1",
                            "--threads", "1", "--out", str(tmp_path / "sw")], capsys)
    one_error(rc, err, "could not write", "No space left", "continue with --resume")
    assert len(json.loads((tmp_path / "sw.json").read_text())["points"]) == 1


INLINE = ROOT / "scenarios" / "inline_base_example.toml"


def _inline_with(tmp_path, edit, name="scenario.toml"):
    """scenarios/inline_base_example.toml with `edit` applied to its text."""
    return write(tmp_path, edit(INLINE.read_text(encoding="utf-8")), name)


@pytest.mark.parametrize("other, plots", [("--json", "o1"), ("--keep-outcomes", "o1/")])
def test_a_plots_directory_named_like_another_output_is_refused_before_the_work(
        other, plots, tmp_path, capsys):
    """`--json X --plots X` ran the whole simulation, wrote X, then failed to make the
    directory X."""
    path = write(tmp_path, BASE)
    rc, out, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", other,
                            str(tmp_path / "o1"), "--plots", str(tmp_path / plots)], capsys)
    one_error(rc, err, "--plots", other, "both name")
    assert not (tmp_path / "o1").exists() and "replications" not in out


def test_every_plot_file_is_checked_before_the_work(tmp_path, capsys):
    """A directory where one of the later plots goes: refused up front (it used to be found
    after the work and the first plot)."""
    path = write(tmp_path, BASE)
    (tmp_path / "plots" / "timeline.png").mkdir(parents=True)
    rc, out, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", "--plots",
                            str(tmp_path / "plots")], capsys)
    one_error(rc, err, "--plots", "timeline.png", "is a directory")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["timeline.png"]
    assert "replications" not in out


def _run_in_a_process(*argv, timeout_s=120):
    code = "import sys; from salvosim.engine.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_output_nobody_reads_fails_in_one_line_instead_of_hanging(tmp_path):
    """Opening a named pipe with no reader blocks forever: the run used to hang after its
    work. Now the write fails in one line and the JSON goes to a temporary file."""
    path = write(tmp_path, BASE)
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    proc = _run_in_a_process("run", path, "--reps", "1", "--threads", "1", "--quiet",
                             "--json", fifo)
    line = one_error(proc.returncode, proc.stderr, "--json", "named pipe", "written to")
    kept = line.split("written to '")[1].split("'")[0]
    try:
        assert json.loads(Path(kept).read_text())["kind"] == "run"
    finally:
        Path(kept).unlink()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_output_with_a_reader_gets_the_json(tmp_path):
    import threading
    path = write(tmp_path, BASE)
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    proc = _run_in_a_process("run", path, "--reps", "1", "--threads", "1", "--quiet",
                             "--json", fifo)
    reader.join(30)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(got[0])["kind"] == "run"


def test_a_sweep_of_decoys_only_prints_no_leak_fraction(tmp_path, capsys):
    """With every raid a decoy there is no real threat and the leak fraction is null: the
    sweep's table printed it with `100 * None` (a traceback after the first point)."""
    path = _inline_with(tmp_path, lambda t: t.replace('type = "owa_small"',
                                                      'type = "owa_small"\ndecoy = true'))
    assert "decoy = true" in path.read_text()
    rc, out, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=2,3", "--reps", "2",
                            "--threads", "1", "--out", str(tmp_path / "grid")], capsys)
    assert rc == 0, err
    assert len([ln for ln in out.splitlines() if "      - %" in ln]) == 2, out  # a row a point
    record = json.loads((tmp_path / "grid.json").read_text())
    assert record["complete"] is True
    assert [r["leak_fraction"]["mean"] for p in record["points"] for r in p["results"]] == \
        [None, None]


def test_the_run_text_says_n_a_for_a_cost_exchange_ratio_of_free_threats(tmp_path, capsys):
    path = _inline_with(tmp_path, lambda t: t.replace('type = "owa_small"',
                                                      'type = "owa_small"\ncost_usd = 0.0'))
    rc, out, err = run_cli(["run", str(path), "--reps", "2", "--threads", "1", "--quiet"],
                           capsys)
    assert rc == 0, err
    assert "cost-exchange ratio n/a (the threats cost nothing)" in out and "nan" not in out


def test_plots_of_a_scenario_without_fire_units_warn_nothing(tmp_path, capsys):
    """No fire unit: the timeline and expenditure plots have no rows, and matplotlib warned
    (several lines each, with source lines) about identical y limits."""
    def drop_units(text):
        kept, dropping = [], False
        for line in text.splitlines(keepends=True):
            if line.startswith("["):
                dropping = line.strip() in ("[[sensors]]", "[[units]]")
            if not dropping:
                kept.append(line)
        return "".join(kept)
    path = _inline_with(tmp_path, drop_units)
    assert "\n[[units]]" not in path.read_text() and "\n[[raids]]" in path.read_text()
    rc, out, err = run_cli(["run", str(path), "--reps", "2", "--threads", "1", "--quiet",
                            "--plots", str(tmp_path / "plots")], capsys)
    assert rc == 0, err
    assert "Warning" not in err, err
    assert len(list((tmp_path / "plots").iterdir())) == 4
    rc, out, err = run_cli(["trace", str(path)], capsys)
    assert rc == 0 and out.splitlines()[-1] == "# shots: none", out     # not "# shots: "


def test_an_output_name_near_the_file_system_limit_is_written(tmp_path, capsys):
    """A 250-character name is allowed by the file system (255 bytes), but the temporary file
    beside it ('.<name>.<random>') was longer: the up-front probe refused it ('File name too
    long'), and the atomic write would have failed after the work."""
    path = write(tmp_path, BASE)
    out = tmp_path / ("a" * 245 + ".json")
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", "--quiet",
                          "--json", str(out)], capsys)
    assert rc == 0, err
    assert json.loads(out.read_text())["kind"] == "run"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, out.name])


@pytest.mark.parametrize("argv, says", [
    (["run", "{s}", "--reps", "5000", "--keep-outcomes", "{o}.npz"], "--keep-outcomes keeps"),
    (["run", "{s}", "--reps", "5000", "--plots", "{o}"], "--plots keeps"),
    (["report", "{s}", "--reps", "5000", "-o", "{o}.html"], "report (the plots of its first mix)"),
])
def test_keeping_more_outcomes_than_half_the_memory_is_refused_before_the_work(
        argv, says, tmp_path, capsys, monkeypatch):
    """With a machine of 8 MiB (monkeypatched), 5,000 replications' outcomes (about 7 MB for
    this scenario) are refused up front, naming how many would fit; 50 run."""
    from salvosim.engine import montecarlo
    monkeypatch.setattr(montecarlo, "physical_memory_bytes", lambda: 8 * 2**20)
    path = write(tmp_path, BASE)
    out = tmp_path / "out"
    assert montecarlo.kept_outcome_bytes(3, 4, 13, 5000) > 4 * 2**20
    rc, stdout, err = run_cli([a.format(s=path, o=out) for a in argv], capsys)
    line = one_error(rc, err, says, "5,000 replications of", "allowed: at most about")
    most = int(line.split("at most about ")[1].split()[0].replace(",", ""))
    assert montecarlo.kept_outcome_bytes(3, 4, 13, most) <= 4 * 2**20 + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name] and "replications" not in stdout
    argv[argv.index("5000")] = "50"
    if "--keep-outcomes" in argv:                     # (the others keep the same way)
        rc, _, err = run_cli([a.format(s=path, o=out) for a in argv] + ["--threads", "1"], capsys)
        assert rc == 0, err


def test_the_kept_outcome_estimate_is_the_blocks_bytes():
    """kept_outcome_bytes counts a Block row per replication: equal to empty_block's arrays."""
    from salvosim.engine import montecarlo
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.variants import load_scenario
    scn = load_scenario(str(ROOT / "scenarios" / "al_asad_drone_raid.toml"))
    sc, _ = compile_scenario(scn)
    block = montecarlo.empty_block(sc, 0, 10)
    actual = sum(a.nbytes for a in block[1:])
    assert montecarlo.kept_outcome_bytes(scn.n_threats, len(scn.units), len(scn.base.assets),
                                         10) == int(actual * montecarlo.KEPT_PEAK_FACTOR)


def test_an_output_name_of_many_bytes_but_few_characters_is_written(tmp_path, capsys):
    """61 emoji and '.json' are 249 bytes, a name the file system takes; the temporary name
    beside it was cut to 64 characters, 256 bytes: 'File name too long'."""
    path = write(tmp_path, BASE)
    out = tmp_path / ("\U0001F680" * 61 + ".json")
    assert len(out.name.encode()) == 249
    rc, _, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", "--quiet",
                          "--json", str(out)], capsys)
    assert rc == 0, err
    assert json.loads(out.read_text())["kind"] == "run"


def test_every_command_works_with_one_replication_and_says_there_is_no_interval(tmp_path,
                                                                                 capsys):
    """One replication gives no confidence interval of a figure it saw (results.mean_ci95: nan,
    JSON null, "n/a" in text); every command and plot still works. Before, the interval was
    zero-wide: [6.00 - 6.00]."""
    path = write(tmp_path, BASE.replace("count = 3", "count = 12"))
    rc, out, err = run_cli(["run", str(path), "--reps", "1", "--threads", "1", "--quiet",
                            "--json", str(tmp_path / "r.json"), "--plots",
                            str(tmp_path / "plots")], capsys)
    assert rc == 0, err
    ci = json.loads((tmp_path / "r.json").read_text())["leakers"]["ci95"]
    leakers = json.loads((tmp_path / "r.json").read_text())["leakers"]["mean"]
    assert leakers > 0 and ci == [None, None] and "[95% CI n/a]" in out
    rc, out, err = run_cli(["compare", str(path), "--reps", "1", "--threads", "1", "--quiet",
                            "--json", str(tmp_path / "c.json")], capsys)
    assert rc == 0, err
    rc, out, err = run_cli(["sweep", str(path), "--vary", "raids.0.count=6,12", "--reps", "1",
                            "--threads", "1", "--out", str(tmp_path / "s"), "--plot",
                            str(tmp_path / "s.png")], capsys)
    assert rc == 0, err
    points = json.loads((tmp_path / "s.json").read_text())["points"]
    seen = [p["results"][0]["leakers"] for p in points]
    assert any(x["mean"] > 0 for x in seen)
    assert all((x["ci95"] == [None, None]) == (x["mean"] > 0) for x in seen)
    rc, out, err = run_cli(["report", str(path), "-o", str(tmp_path / "r.html"), "--reps", "1",
                            "--sweep-reps", "1", "--threads", "1", "--quiet"], capsys)
    assert rc == 0, err
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "r.html").stat().st_size > 0


def test_few_replications_keep_intervals_within_their_physical_bounds(tmp_path, capsys):
    """With 2 replications Student's t gives wide intervals: a mix's mean leakers stays at most
    its real threats launched, and a difference of P(>= 1 leaker) within [-1, 1]."""
    rc, _, err = run_cli(["compare", str(REPO_ROOT / "scenarios" / "al_asad_mixes.toml"),
                          "--reps", "2", "--threads", "1", "--quiet", "--json",
                          str(tmp_path / "c.json")], capsys)
    assert rc == 0, err
    mixes = json.loads((tmp_path / "c.json").read_text())["variants"]
    assert any(m["leakers"]["ci95"][1] == m["threats"] for m in mixes)      # bound reached
    for m in mixes:
        assert m["leakers"]["ci95"][1] <= m["threats"] and m["leak_fraction"]["ci95"][1] <= 1.0
        if m["vs_reference"] is not None:
            d = m["vs_reference"]["any_leaker"]
            assert -1.0 <= d["paired_ci95"][0] <= d["paired_ci95"][1] <= 1.0
            assert -1.0 <= d["unpaired_ci95"][0] <= d["unpaired_ci95"][1] <= 1.0
    rc, _, err = run_cli(["run", str(REPO_ROOT / "scenarios" / "al_asad_mixes.toml"), "--reps",
                          "2", "--threads", "1", "--quiet", "--json", str(tmp_path / "r.json")],
                         capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "r.json").read_text())["leakers"]["ci95"][1] <= 10


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_closed_standard_output_still_writes_every_file(tmp_path, command, warm_jit):
    """`salvosim run ... | head -1`: the text's reader goes away, the files asked for are still
    all written and the status is 0. Before, the first line that met the closed pipe ended the
    command with status 0 (run wrote its JSON but not its .npz; compare nothing) or blamed the
    sweep's files."""
    path = write(tmp_path, BASE)
    argv = {"run": ["run", str(path), "--reps", "3", "--json", "a.json", "--keep-outcomes",
                    "a.npz"],
            "compare": ["compare", str(path), "--reps", "3", "--json", "c.json"],
            "sweep": ["sweep", str(path), "--vary", "raids.0.count=1,2", "--reps", "2",
                      "--out", "s"]}[command]
    line = " ".join([sys.executable, "-m", "salvosim.engine.cli", *argv, "--threads", "1"])
    out = subprocess.run(["bash", "-c", line + ' | head -c 0; exit "${PIPESTATUS[0]}"'],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "could not write" not in out.stderr
    expected = {"run": ["a.json", "a.npz"], "compare": ["c.json"],
                "sweep": ["s.csv", "s.json"]}[command]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "scenario.toml") == expected


def test_a_raid_of_decoys_only_has_no_leaker_and_says_so_exactly(tmp_path, capsys):
    """No real threat: leakers and P(>= 1 leaker) are 0 with the interval [0, 0] (the Wilson
    interval of 0 in 1 attack was [0, 0.79])."""
    path = write(tmp_path, BASE.replace('type = "rocket_107mm"', 'type = "decoy_drone"')
                 .replace("range_km = 7.5", "range_km = 20.0"))
    for command in (["run"], ["compare"]):
        rc, _, err = run_cli([*command, str(path), "--reps", "1", "--threads", "1", "--quiet",
                              "--json", str(tmp_path / "o.json")], capsys)
        assert rc == 0, err
        doc = json.loads((tmp_path / "o.json").read_text())
        if command == ["run"]:
            assert doc["leakers"]["ci95"] == [0.0, 0.0] and doc["leakers"]["p_any_ci95"] == [0.0, 0.0]
        else:
            mix = doc["variants"][0]
            assert mix["threats"] == 0 and mix["leakers"]["ci95"] == [0.0, 0.0]
            assert mix["p_any"]["ci95"] == [0.0, 0.0]


def test_a_map_of_a_perimeter_centimetres_wide_is_drawn(tmp_path, capsys):
    """The base-detail view scaled to the perimeter: 1 cm across ran out of memory, 1 mm asked
    for an image of 67,577,060 pixels; the view is now at least 100 m across."""
    text = (REPO_ROOT / "scenarios" / "inline_base_example.toml").read_text()
    lines = [ln if not ln.startswith("perimeter_m =") else
             "perimeter_m = [[0.0, 0.0], [0.01, 0.0], [0.0, 0.01]]" for ln in text.splitlines()]
    assert any(ln.startswith("perimeter_m = [[0.0, 0.0], [0.01") for ln in lines)
    path = write(tmp_path, "\n".join(lines) + "\n")
    rc, _, err = run_cli(["map", str(path), "-o", str(tmp_path / "m.png")], capsys)
    assert rc == 0, err
    assert 10_000 < (tmp_path / "m.png").stat().st_size < 5_000_000


@pytest.mark.parametrize("command", [["run", "--reps", "2", "--quiet"], ["trace", "--rep", "0"]])
def test_run_and_trace_of_a_file_with_variants_say_they_simulate_it_as_written(command,
                                                                                capsys):
    path = str(REPO_ROOT / "scenarios" / "al_asad_mixes.toml")
    rc, _, err = run_cli([command[0], path, *command[1:]], capsys)
    assert rc == 0, err
    notes = [ln for ln in err.splitlines() if ln.startswith("salvosim: note:")]
    assert len(notes) == 1 and f"`{command[0]}` simulates the scenario as written" in notes[0]


def test_trace_says_a_recognised_decoy_is_not_assigned_rather_than_waiting(tmp_path, capsys):
    """Central C2 with perfect decoy discrimination: every decoy is recognised at its first
    network track and never assigned; it used to be traced as waiting for a unit and retried
    whenever capacity freed (the outcomes are the same: a test of both engines' agreement)."""
    text = (REPO_ROOT / "scenarios" / "al_asad_doctrine.toml").read_text()
    text = text.replace('priority = "time_to_impact"\n',
                        'priority = "time_to_impact"\nassignment = "central"\n'
                        'decoy_discrimination = 1.0\n', 1).split("[[variants]]")[0]
    path = write(tmp_path, text)
    rc, out, err = run_cli(["trace", str(path), "--rep", "0"], capsys)
    assert rc == 0, err
    recognised = [ln for ln in out.splitlines() if "recognised as a decoy: not assigned" in ln]
    waiting = [ln for ln in out.splitlines() if "decoys" in ln and ": waiting" in ln]
    assert len(recognised) == 16 and not waiting
