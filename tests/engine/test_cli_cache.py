"""A Numba cache filled by salvosim 0.1 (top-level `engine` modules) cannot be loaded by the
`salvosim` namespace: the CLI says so in one line and names the fix, no traceback."""
from salvosim.engine import cli


def test_a_stale_numba_cache_is_one_clear_line(monkeypatch, capsys):
    def stale(_args):
        raise ModuleNotFoundError("No module named 'engine'", name="engine")
    monkeypatch.setitem(cli.COMMANDS, "validate", stale)
    assert cli.main(["validate", "scenarios/tower22_drone.toml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make clean-cache" in err and "Traceback" not in err


def test_other_missing_modules_are_not_hidden(monkeypatch):
    def missing(_args):
        raise ModuleNotFoundError("No module named 'nothere'", name="nothere")
    monkeypatch.setitem(cli.COMMANDS, "validate", missing)
    try:
        cli.main(["validate", "scenarios/tower22_drone.toml"])
    except ModuleNotFoundError as exc:
        assert exc.name == "nothere"
    else:
        raise AssertionError("a real missing module must not be reported as a stale cache")
