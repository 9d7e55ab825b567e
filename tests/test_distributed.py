"""Issue 13: replication ranges merge exactly, and Dask runs equal the local ones byte for byte.

Replications are keyed on (seed, replication): a run split into ranges on block boundaries,
folded in ascending replication order, gives the same results JSON as the one-process run."""
import json

import numpy as np
import pytest

from salvosim.engine.compile import compile_scenario
from salvosim.engine.montecarlo import block_ranges, fold_states, run_compiled, run_range
from salvosim.engine.results import Accumulator, Results, results_json
from salvosim.engine.variants import load_scenario
from tests import REPO_ROOT

MIXES = "scenarios/al_asad_mixes.toml"


@pytest.fixture(scope="module")
def mixes():
    return compile_scenario(load_scenario(MIXES))


def _json(sc, labels, acc, seed, engine="numba") -> str:
    res = Results(acc=acc, seed=seed, engine=engine, elapsed_s=0.0)
    return json.dumps(results_json(res), indent=2)


def test_block_ranges_cover_the_replications_on_block_boundaries():
    assert block_ranges(20, 3, block_reps=8) == [(0, 8), (8, 8), (16, 4)]
    assert block_ranges(20, 2, block_reps=8) == [(0, 8), (8, 12)]
    assert block_ranges(20, 1, block_reps=8) == [(0, 20)]
    assert block_ranges(20, 9, block_reps=8) == [(0, 8), (8, 8), (16, 4)]
    assert block_ranges(5000, 4) == [(0, 1024), (1024, 1024), (2048, 1024), (3072, 1928)]
    assert block_ranges(100, 3, engine="reference") == [(0, 64), (64, 36)]
    for reps in (1, 7, 64, 65, 1000, 3001):
        for n in (1, 2, 3, 5):
            ranges = block_ranges(reps, n, block_reps=16)
            assert sum(k for _, k in ranges) == reps
            assert all(r0 % 16 == 0 for r0, _ in ranges)
            assert [r0 for r0, _ in ranges] == sorted(r0 for r0, _ in ranges)


@pytest.mark.parametrize("n_ranges", [1, 2, 3])
def test_a_run_split_into_ranges_gives_the_unsplit_json(warm_jit, mixes, n_ranges):
    sc, labels = mixes
    reps, seed, block = 40, 7, 8
    whole = run_compiled(sc, labels, reps, seed, threads=1, block_reps=block)
    ranges = block_ranges(reps, n_ranges, block_reps=block)
    assert len(ranges) == n_ranges
    # the ranges run in any order (as tasks on a cluster); the fold is in ascending rep0
    states = {r0: run_range(sc, labels, n, seed, r0, block_reps=block)
              for r0, n in reversed(ranges)}
    acc = fold_states(sc, labels, [s for r0 in sorted(states) for s in states[r0]])
    assert _json(sc, labels, acc, seed) == _json(sc, labels, whole.acc, seed)
    assert acc.sums == whole.acc.sums and acc.sums_sq == whole.acc.sums_sq


def test_run_compiled_ranges_merge_into_the_whole_run(warm_jit, mixes):
    """run_compiled(rep0=...) of one block per range, merged in order, is the whole run; the
    integer figures of any split (off block boundaries too) are exact."""
    sc, labels = mixes
    whole = run_compiled(sc, labels, 24, 3, threads=1, block_reps=8)
    parts = [run_compiled(sc, labels, 8, 3, threads=1, block_reps=8, rep0=r0)
             for r0 in (0, 8, 16)]
    acc = parts[0].acc
    for p in parts[1:]:
        acc.merge(p.acc)
    assert _json(sc, labels, acc, 3) == _json(sc, labels, whole.acc, 3)
    odd = run_compiled(sc, labels, 5, 3, threads=1, block_reps=8)
    odd.acc.merge(run_compiled(sc, labels, 19, 3, threads=1, block_reps=8, rep0=5).acc)
    assert odd.acc.reps == 24
    assert (odd.acc.leak_hist == whole.acc.leak_hist).all()
    assert (odd.acc.unit_sums == whole.acc.unit_sums).all()
    assert odd.acc.sums["leakers"] == whole.acc.sums["leakers"]


def test_merge_pads_the_histogram(warm_jit, mixes):
    sc, labels = mixes
    b = run_compiled(sc, labels, 4, 1, threads=1).acc
    a = Accumulator(sc, labels)
    a.leak_hist = np.array([3], np.int64)           # a shorter histogram
    a.merge(b)
    expect = b.leak_hist.copy()
    expect[0] += 3
    assert list(a.leak_hist) == list(expect) and a.reps == 4


# ----------------------------------------------------------------------------------------
# --dask: the same files as the serial CLI, on a LocalCluster of two process workers
distributed = pytest.importorskip("distributed")
SWEEP = ["--vary", "raids.0.count=10:30:10", "--reps", "20"]


@pytest.fixture(scope="module")
def cluster():
    from salvosim.engine.distributed import NO_DASHBOARD
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  **NO_DASHBOARD) as c:
        yield c


def _cli(*argv) -> int:
    from salvosim.engine.cli import main
    return main([str(a) for a in argv])


def test_a_sweep_on_the_cluster_writes_the_serial_files(warm_jit, cluster, tmp_path, capsys):
    assert _cli("sweep", MIXES, *SWEEP, "--out", tmp_path / "serial") == 0
    assert _cli("sweep", MIXES, *SWEEP, "--out", tmp_path / "dist",
                "--dask", cluster.scheduler_address) == 0
    for ext in ("json", "csv"):
        assert (tmp_path / f"dist.{ext}").read_bytes() == (tmp_path / f"serial.{ext}").read_bytes()
    out = capsys.readouterr().out
    assert out.count("2020 C-RAM only") >= 6       # the table printed by both, in grid order


def test_a_run_split_on_the_cluster_writes_the_serial_json(warm_jit, cluster, tmp_path):
    # 2,500 replications: three blocks of 1,024, so three tasks
    assert _cli("run", MIXES, "--reps", 2500, "--quiet", "--json", tmp_path / "serial.json") == 0
    assert _cli("run", MIXES, "--reps", 2500, "--quiet", "--json", tmp_path / "dist.json",
                "--dask", cluster.scheduler_address) == 0
    assert (tmp_path / "dist.json").read_bytes() == (tmp_path / "serial.json").read_bytes()


def test_a_reference_engine_run_on_the_cluster_writes_the_serial_json(warm_jit, cluster, tmp_path):
    # 130 replications: blocks of 64 with the reference engine, so three tasks
    args = ["run", MIXES, "--engine", "reference", "--reps", 130, "--quiet", "--json"]
    assert _cli(*args, tmp_path / "serial.json") == 0
    assert _cli(*args, tmp_path / "dist.json", "--dask", cluster.scheduler_address) == 0
    assert (tmp_path / "dist.json").read_bytes() == (tmp_path / "serial.json").read_bytes()


def test_a_sweep_to_standard_output_on_the_cluster_is_the_serial_one(warm_jit, cluster, capsys):
    assert _cli("sweep", MIXES, *SWEEP, "--out", "-") == 0
    serial = capsys.readouterr().out
    assert _cli("sweep", MIXES, *SWEEP, "--out", "-", "--dask", cluster.scheduler_address) == 0
    dist = capsys.readouterr().out
    assert json.loads(serial)["complete"] and dist == serial


def test_a_comparison_on_the_cluster_writes_the_serial_json(warm_jit, cluster, tmp_path,
                                                            capsys):
    assert _cli("compare", MIXES, "--reps", 1100, "--json", tmp_path / "serial.json") == 0
    capsys.readouterr()
    assert _cli("compare", MIXES, "--reps", 1100, "--json", tmp_path / "dist.json",
                "--dask", cluster.scheduler_address, "--progress") == 0
    assert (tmp_path / "dist.json").read_bytes() == (tmp_path / "serial.json").read_bytes()
    err = capsys.readouterr().err       # the bar counts every mix's replications as they arrive
    assert "replications: 100%" in err and "5500/5500" in err, err


@pytest.mark.parametrize("n_ranges", [1, 2, 3])
def test_paired_ranges_fold_into_the_local_comparison(warm_jit, cluster, n_ranges):
    from salvosim.engine.views.analysis import (
        comparison_json,
        comparison_variants,
        run_paired,
        run_paired_dask,
    )
    scenarios = [load_scenario(MIXES)]
    variants = comparison_variants(scenarios, 5)
    local = run_paired(variants, 40, 5, threads=1, block_reps=8)
    with distributed.Client(cluster) as client:
        dist = run_paired_dask(client, scenarios, variants, 40, 5, block_reps=8,
                               n_ranges=n_ranges)
    assert json.dumps(comparison_json(dist)) == json.dumps(comparison_json(local))
    for a, b in zip(dist.accs, local.accs):
        assert a.sums == b.sums and a.sums_sq == b.sums_sq


def test_a_resumed_sweep_on_the_cluster_finishes_the_serial_one(warm_jit, cluster, tmp_path):
    from salvosim.engine.variants import parse_vary_list
    from salvosim.engine.views.analysis import dask_point_runner, plan_sweep, run_sweep
    assert _cli("sweep", MIXES, *SWEEP, "--out", tmp_path / "serial") == 0
    plan = plan_sweep(load_scenario(MIXES), parse_vary_list(["raids.0.count=10:30:10"]), None, 20)

    class Stop(Exception):
        pass

    def stop(_i):
        raise Stop
    with pytest.raises(Stop):      # interrupted after its first point
        run_sweep(plan, str(tmp_path / "dist"), print_line=lambda _l: None, after_point=stop)
    first = json.loads((tmp_path / "dist.json").read_text())
    assert len(first["points"]) == 1 and not first["complete"]
    assert _cli("sweep", MIXES, *SWEEP, "--out", tmp_path / "dist", "--resume",
                "--dask", cluster.scheduler_address) == 0
    for ext in ("json", "csv"):
        assert (tmp_path / f"dist.{ext}").read_bytes() == (tmp_path / f"serial.{ext}").read_bytes()
    assert dask_point_runner    # the runner the CLI used


def test_a_worker_killed_mid_sweep_changes_nothing(warm_jit, cluster, tmp_path):
    import os
    import signal

    from salvosim.engine.variants import parse_vary_list
    from salvosim.engine.views.analysis import dask_point_runner, plan_sweep, run_sweep
    vary, reps = ["raids.0.count=10:50:10"], 200
    assert _cli("sweep", MIXES, "--vary", vary[0], "--reps", reps, "--out", tmp_path / "serial") == 0
    plan = plan_sweep(load_scenario(MIXES), parse_vary_list(vary), None, reps)
    killed = []
    with distributed.Client(cluster) as client:
        def kill_one(_i):
            if not killed:       # the first point is back: kill a worker busy with another
                busy = {w: ts for w, ts in client.processing().items() if ts}
                pids = client.run(os.getpid)
                victim = pids[sorted(busy)[0]] if busy else sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append((victim, bool(busy)))
        run_sweep(plan, str(tmp_path / "dist"), print_line=lambda _l: None, after_point=kill_one,
                  runner=dask_point_runner(client, plan))
        client.wait_for_workers(2, timeout=60)
    assert killed and killed[0][1], killed     # a worker was killed with a task running
    for ext in ("json", "csv"):
        assert (tmp_path / f"dist.{ext}").read_bytes() == (tmp_path / f"serial.{ext}").read_bytes()


def test_dask_options_fail_clearly(monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)      # the extra is not installed
    assert _cli("run", MIXES, "--dask", "local:2") == 2
    assert capsys.readouterr().err == ("salvosim: error: --dask needs the optional extra: "
                                       "pip install 'salvosim[dist]'\n")
    monkeypatch.undo()
    assert _cli("run", MIXES, "--dask-cache", "/tmp/x") == 2
    assert "--dask-cache applies with --dask only" in capsys.readouterr().err
    assert _cli("sweep", MIXES, *SWEEP, "--out", "-", "--dask", "local:0") == 2
    assert "--dask local:0: expected local, local:N" in capsys.readouterr().err
    assert _cli("run", MIXES, "--dask", "local:1", "--plots", "/tmp/x") == 2
    assert "run them without --dask" in capsys.readouterr().err


def _fake_server(reply: bytes):
    """A TCP server on a free local port that greets each connection with `reply` (b"": says
    nothing) and keeps it open; (address, closer)."""
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if reply:
                conn.sendall(reply)
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()

    def close():
        server.close()
        for conn in held:
            conn.close()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", close


@pytest.mark.parametrize("reply", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b""])
def test_an_address_that_is_not_a_dask_scheduler_is_one_line(reply, monkeypatch, capsys,
                                                            tmp_path):
    """An HTTP server made the Client allocate exabytes (a traceback); a silent one hung it."""
    from salvosim.engine import distributed as dist
    monkeypatch.setattr(dist, "PROBE_TIMEOUT_S", 0.5)
    address, close = _fake_server(reply)
    try:
        assert _cli("run", MIXES, "--reps", "2", "--json", tmp_path / "r.json",
                    "--dask", address) == 2
    finally:
        close()
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"salvosim: error: --dask {address}: no Dask scheduler answered there "
                       f"(a scheduler greets a new connection within 0.5 s)")
    assert not any("Traceback" in line for line in err)
    assert list(tmp_path.iterdir()) == []


def test_local_workers_are_bounded_by_the_cores(capsys):
    import os
    cores = os.cpu_count() or 1
    assert _cli("sweep", MIXES, *SWEEP, "--out", "-", "--dask", f"local:{cores + 1}") == 2
    assert f"1 <= N <= {cores} workers" in capsys.readouterr().err


@pytest.mark.parametrize("address, says", [
    ("local:\u00b2", "expected local, local:N"),                  # isdigit() but not int()
    ("tcp://a..b:8786", "cannot reach the scheduler"),            # IDNA cannot encode it
    ("tcp://" + "a" * 64 + ":8786", "cannot reach the scheduler"),
])
def test_odd_dask_addresses_are_one_line(address, says, capsys):
    """Each ended in a ValueError traceback (a review's cases)."""
    assert _cli("run", MIXES, "--reps", "2", "--dask", address) == 2
    err = capsys.readouterr().err
    assert err.startswith("salvosim: error: --dask") and says in err and "Traceback" not in err


def test_a_file_with_a_byte_order_mark_rebuilds_on_a_worker(tmp_path):
    """read_toml reads a UTF-8 byte-order mark, and a worker must too: it got the file's text
    with the mark and tomllib refused it ('Invalid statement at line 1'), so --dask failed on a
    file that ran locally."""
    from salvosim.engine.distributed import scenario_source, worker_scenario
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (REPO_ROOT / MIXES).read_bytes())
    scn = load_scenario(str(path))
    assert worker_scenario(*scenario_source(scn)).name == scn.name
