"""`salvosim run` and `salvosim trace`: results, determinism, outcomes file, progress."""
import json

import numpy as np
import pytest

from salvosim.engine.cli import main
from salvosim.engine.constants import ALIVE, FATE_NAMES
from salvosim.engine.montecarlo import Progress

pytestmark = pytest.mark.usefixtures("warm_jit")

ROCKETS = "scenarios/al_asad_rockets.toml"


def run_json(tmp_path, name, *extra):
    out = tmp_path / name
    assert main(["run", ROCKETS, "--reps", "60", "--seed", "9", "--json", str(out), "--quiet",
                 *extra]) == 0
    return json.loads(out.read_text())


def test_run_json_has_the_documented_keys_and_consistent_figures(tmp_path, capsys):
    res = run_json(tmp_path, "a.json")
    for key in ("scenario", "seed", "replications", "engine", "leakers", "by_type", "by_unit",
                "by_asset", "cost"):
        assert key in res
    assert set(res["leakers"]) >= {"mean", "ci95", "p_any", "histogram"}
    assert set(res["cost"]) >= {"interceptors_usd", "threats_usd", "exchange_ratio"}
    assert sum(res["leakers"]["histogram"]) == res["replications"] == 60
    hist = np.array(res["leakers"]["histogram"])
    assert res["leakers"]["mean"] == pytest.approx((hist * np.arange(len(hist))).sum() / 60)
    for row in res["by_type"]:     # every launched threat has exactly one fate
        assert row["failed"] + row["killed"] + row["leaked"] + row["missed"] == \
            pytest.approx(row["launched"])
    assert res["cost"]["interceptors_usd"] == pytest.approx(
        sum(u["cost_usd"] for u in res["by_unit"]))
    assert "Leakers per attack" in capsys.readouterr().out


def test_same_seed_gives_identical_json_whatever_the_threads_and_engine(tmp_path):
    one = run_json(tmp_path, "one.json", "--threads", "1")
    two = run_json(tmp_path, "two.json", "--threads", "2")
    assert one == two
    ref = run_json(tmp_path, "ref.json", "--engine", "reference")
    assert ref.pop("engine") == "reference" and one.pop("engine") == "numba"
    assert ref == one


def test_different_seeds_give_different_results(tmp_path):
    a = run_json(tmp_path, "a.json")
    out = tmp_path / "b.json"
    assert main(["run", ROCKETS, "--reps", "60", "--seed", "10", "--json", str(out),
                 "--quiet"]) == 0
    assert json.loads(out.read_text())["leakers"] != a["leakers"]


def test_keep_outcomes_writes_every_threat_of_every_replication(tmp_path):
    out = tmp_path / "outcomes.npz"
    assert main(["run", ROCKETS, "--reps", "30", "--keep-outcomes", str(out), "--quiet"]) == 0
    data = np.load(out)
    assert data["fate"].shape == (30, 30) and data["shots"].shape[0] == 30
    assert (data["fate"] != ALIVE).all()
    assert list(data["fate_names"]) == list(FATE_NAMES)


def test_too_many_threads_is_a_usage_error(capsys):
    assert main(["run", ROCKETS, "--reps", "2", "--threads", "999"]) == 2
    assert "allowed: 1 .." in capsys.readouterr().err


def test_trace_reads_like_an_engagement_log(capsys):
    assert main(["trace", ROCKETS, "--rep", "1"]) == 0
    out = capsys.readouterr().out
    for word in ("launched", "detects", "knows", "fires", "intercepts", "impacts"):
        assert word in out
    assert "# fates:" in out


def test_progress_bar_is_silent_off_a_terminal(capsys):
    bar = Progress(100, enabled=True, delay_s=0.0)
    bar.update(50)
    bar.close()
    assert capsys.readouterr().err == ""       # pytest's stderr is not a terminal


def test_ctrl_c_stops_a_long_run_cleanly_without_partial_output(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "never.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "salvosim.engine.cli", "run", "scenarios/al_asad_drone_raid.toml",
         "--reps", "1000000", "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err.decode() and "Traceback" not in err.decode()
    assert not out.exists()


def test_run_on_a_file_with_variants_points_to_compare(capsys):
    assert main(["run", "scenarios/al_asad_mixes.toml", "--reps", "2", "--quiet"]) == 0
    assert "salvosim compare" in capsys.readouterr().err
