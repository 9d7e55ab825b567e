"""cli.console_main (the `salvosim` command) ends the process with os._exit once the output is
flushed and only the engine's idle pool is alive; otherwise it exits normally. Either way the
exit status and every byte of output are those of cli.main."""
import json
import subprocess
import sys
import threading

from salvosim.engine import cli

TINY = "scenarios/tower22_drone.toml"


def console(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "salvosim.engine.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_fast_exit_keeps_the_status_and_all_output(tmp_path):
    out = tmp_path / "r.json"
    proc = console("run", TINY, "--reps", "20", "--threads", "2", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "replications" in proc.stdout.splitlines()[0] and len(proc.stdout.splitlines()) > 20
    assert json.loads(out.read_text())["replications"] == 20      # written and closed
    bad = console("run", str(tmp_path / "missing.toml"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_the_output_piped_to_a_file_is_the_same_as_main_prints(tmp_path, capsys):
    assert cli.main(["run", TINY, "--reps", "20", "--seed", "7"]) == 0
    direct = capsys.readouterr().out
    proc = console("run", TINY, "--reps", "20", "--seed", "7")
    strip = lambda text: [ln for ln in text.splitlines() if "replications, seed" not in ln]  # noqa: E731
    assert strip(proc.stdout) == strip(direct)                    # (the header has the time)


def test_a_foreign_thread_means_a_normal_exit(monkeypatch):
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="not-salvosim")
    other.start()
    exits = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: exits.append("atexit"))
    monkeypatch.setattr(cli, "main", lambda argv=None: 3)
    try:
        assert cli.console_main() == 3
        assert exits == []                  # returned, did not cut the thread off
    finally:
        release.set()
        other.join()
    assert cli.console_main() == 3 and exits == ["atexit", 3]  # alone again: the fast exit
