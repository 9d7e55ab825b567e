"""A cold compile on two cores (montecarlo.compile_in_two_processes): a second process compiles
the shot solver, first_useful_shot_s, the targeting and kernel.run_events into Numba's cache
while the first compiles prepare, central assignment (central C2 only) and finish_replication;
each waits for the other's signal before compiling what calls the other's part; run_chunk uses
exactly what each compiled, and a scenario whose units decide alone builds neither central C2
nor the debug check."""
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from salvosim.engine import montecarlo
from tests.conftest import COLD_RUN, ROOT, TINY, cold_run
from tests.scenario_kit import compile_file


def test_a_cold_run_compiles_the_event_loop_once_in_two_processes(tmp_path, warm_jit):
    """A run with an empty cache: the event loop compiled by the second process is the one
    run_chunk loads, and the functions each process compiles for the other (the targeting and
    first_useful_shot_s in the second, finish_replication in the first) are the ones the event
    loop and run_chunk call: one compiled version of each in the cache, not two (a second
    signature would show as a second version). TINY's units decide alone: its build has no
    central C2 (central_c2, c2_assign) and no debug check (full_scan_target), and reset_state is
    inlined in run_chunk; none of them has a version of its own. The same for the shot solver
    the second process compiles first (kernel.shot_solver_signature: select_target's argument
    types). Then, in the same process, the reference engine, whose prepare_replication links its
    own copy of instances.prepare: run_chunk's copies are internal and renamed (engine/jit.py),
    so nothing sends it to a copy with fewer arguments (that crashed the interpreter).
    The cold run is warm_jit's when it found the cache cold (CI), else one of its own."""
    if COLD_RUN:
        out, cached, out_dir = COLD_RUN["out"], COLD_RUN["cached"], COLD_RUN["out_dir"]
    else:
        out, cached = cold_run(tmp_path, cache_dir=tmp_path / "cache")
        out_dir = tmp_path
    assert out.returncode == 0, out.stderr
    assert "compiling (first run only)" in out.stderr             # it was a cold run
    fast, ref = (json.loads((out_dir / f"{e}.json").read_text()) for e in ("numba", "reference"))
    for key in ("leakers", "by_raid", "by_unit", "not_engaged"):
        assert fast[key] == ref[key], key
    for name in ("kernel.run_events", "kernel.run_chunk", "kernel.finish_replication",
                 "instances.prepare-", "kernel.select_target",
                 "intercept.earliest_shot_and_effect_s-", "intercept.first_useful_shot_s-"):
        versions = [c for c in cached if c.startswith(name)]
        assert len(versions) == 1, (name, versions)
    for name in ("kernel.c2_assign", "kernel.central_c2", "kernel.full_scan_target",
                 "kernel.reset_state"):
        assert not [c for c in cached if c.startswith(name)], name


@pytest.mark.slow
def test_a_central_c2_cold_run_compiles_only_the_central_event_loop(tmp_path):
    """A scenario with central C2, from an empty cache: one version each of run_events,
    run_chunk, central_c2 and full_scan_target, the central build's (a branch on the build in
    run_chunk, typed but never pruned for an int64 argument, once compiled the lean run_events
    as well, serially after the two processes). About 20 s: slow."""
    scenario = tmp_path / "central.toml"
    text = Path(ROOT / TINY).read_text()
    assert 'priority = "time_to_impact"\n' in text
    scenario.write_text(text.replace('priority = "time_to_impact"\n',
                                     'priority = "time_to_impact"\nassignment = "central"\n'))
    env = {**os.environ, "SALVOSIM_COMPILE_PROCESSES": "2",
           "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    run = (f"from salvosim.engine.cli import main; import sys; sys.exit(main(['run', "
           f"{str(scenario)!r}, '--reps', '2', '--threads', '2', '--quiet']))")
    out = subprocess.run([sys.executable, "-c", run], env=env, capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "compiling (first run only)" in out.stderr
    cached = [p.name for p in (tmp_path / "cache").rglob("*.nbc")]
    for name in ("kernel.run_events", "kernel.run_chunk", "kernel.central_c2",
                 "kernel.full_scan_target"):
        versions = [c for c in cached if c.startswith(name)]
        assert len(versions) == 1, (name, versions)


def test_the_second_process_status_and_its_failures(monkeypatch):
    sc = compile_file(Path(TINY))
    assert montecarlo.compile_in_two_processes(sc) == 0       # the cache is warm: it loads
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import sys; sys.exit(3)")
    assert montecarlo.compile_in_two_processes(sc) == 3
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import time; time.sleep(60)")
    monkeypatch.setattr(montecarlo, "COMPILE_CHILD_TIMEOUT_S", 0.5)
    assert montecarlo.compile_in_two_processes(sc) not in (0, None)   # stopped, not waited for
    # whatever the second process did, the run is the run
    block = montecarlo.run_block_numba(sc, 1, 0, 3, 2)
    assert np.array_equal(block.fate, montecarlo.run_block_numba(sc, 1, 0, 3, 1).fate)


def test_a_second_process_that_never_reads_the_scenario_is_stopped(monkeypatch):
    """A scenario larger than a pipe's buffer goes to the second process as it reads it: one
    that never does is stopped at the deadline, like any other."""
    sc = compile_file(Path(TINY))
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import time; time.sleep(60)")
    monkeypatch.setattr(montecarlo, "COMPILE_CHILD_TIMEOUT_S", 0.5)
    monkeypatch.setattr(montecarlo, "scenario_bytes", lambda _: b"x" * 1_000_000)
    started = time.monotonic()
    assert montecarlo.compile_in_two_processes(sc) not in (0, None)
    assert time.monotonic() - started < 50           # not the child's 60 s


def test_what_the_second_process_prints_cannot_hide_a_signal(monkeypatch):
    """The second process's signals have their own copy of its stdout; a long print (Numba's
    debug dumps) goes nowhere instead of gluing itself to a signal line, which the first
    process would then wait for until the deadline."""
    sc = compile_file(Path(TINY))
    noisy = ("import os; from salvosim.engine import montecarlo as m; part = m.compile_second_part; "
             "m.compile_second_part = lambda *a: (print('x' * 9000, end=''), part(*a)); "
             "m.second_process_main(); os._exit(0)")
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", noisy)
    monkeypatch.setattr(montecarlo, "COMPILE_CHILD_TIMEOUT_S", 120.0)
    assert montecarlo.compile_in_two_processes(sc) == 0     # -9: the signal was never seen


def test_the_signals_between_the_two_processes():
    """A wait ends at its signal (other lines skipped) or when the other process is gone (the
    end of its stream: this one then compiles what it needs itself), never later than the
    deadline; a signal to a process that is gone is dropped."""
    signal = montecarlo.CENTRAL_C2_CACHED
    stream = io.BytesIO(b"noise\n" + montecarlo.FIRST_USEFUL_SHOT_CACHED + signal + b"after\n")
    montecarlo._wait_for_line(stream, signal)
    assert stream.read() == b"after\n"
    stream = io.BytesIO(b"noise\n")
    montecarlo._wait_for_line(stream, signal)                 # the end: it returns
    assert stream.read() == b""
    montecarlo._wait_for_line(None, signal)                   # one process: no waiting

    def signals_over_a_pipe():
        r, w = os.pipe()
        return montecarlo._Signals(os.fdopen(r, "rb")), os.fdopen(w, "wb")

    signals, to_it = signals_over_a_pipe()
    montecarlo._send(to_it, b"other\n" + montecarlo.FIRST_USEFUL_SHOT_CACHED)
    signals.wait_for(montecarlo.FIRST_USEFUL_SHOT_CACHED, time.monotonic() + 60)
    with pytest.raises(subprocess.TimeoutExpired):             # no such signal yet
        signals.wait_for(signal, time.monotonic() + 0.05)
    to_it.close()                                              # the other process is gone
    signals.wait_for(signal, time.monotonic() + 60)
    montecarlo._send(to_it, signal)                            # closed: dropped, no error
    r, w = os.pipe()
    os.close(r)
    gone = os.fdopen(w, "wb", buffering=0)
    montecarlo._send(gone, signal)                             # a broken pipe: dropped
    gone.close()


class Recorder:
    """Stands in for the kernel's compile_* functions and the signal streams: what happened,
    in order."""

    def __init__(self, monkeypatch, names, lines=b""):
        from salvosim.engine import kernel
        self.events: list[str] = []
        self._lines = io.BytesIO(lines)
        for name in names:
            monkeypatch.setattr(kernel, name, self._compile(name))

    def _compile(self, name):
        def record(*_):
            self.events.append(name)
        return record

    def write(self, data):                     # the stream to the other process
        self.events.append("sent " + data.decode().strip())

    def flush(self):
        pass

    def readline(self):                        # the stream from the other process
        line = self._lines.readline()
        self.events.append("read " + line.decode().strip())
        return line


def central(sc):
    """The scenario with central C2 (only the flag: what the compile's order depends on)."""
    return sc._replace(c2_central=True)


def test_the_second_process_announces_and_waits_in_order(monkeypatch):
    """The second part: first_useful_shot_s announced right after it is compiled, before the
    targeting; with central C2, the event loop compiled only once central_c2's signal is read;
    without, at once (its build calls no central_c2)."""
    names = ["compile_shot_solver", "compile_first_useful_shot", "compile_targeting",
             "compile_event_loop"]
    head = ["compile_shot_solver", "compile_first_useful_shot", "sent first-useful-shot",
            "compile_targeting"]
    rec = Recorder(monkeypatch, names, b"noise\n" + montecarlo.CENTRAL_C2_CACHED)
    montecarlo.compile_second_part(central(compile_file(Path(TINY))), rec, rec)
    assert rec.events == [*head, "read noise", "read central-c2", "compile_event_loop"]
    rec = Recorder(monkeypatch, names, b"noise\n" + montecarlo.CENTRAL_C2_CACHED)
    montecarlo.compile_second_part(compile_file(Path(TINY)), rec, rec)
    assert rec.events == [*head, "compile_event_loop"]


def test_the_first_process_waits_for_the_signal_before_central_assignment(monkeypatch):
    """The first part with a stand-in second process that announces first_useful_shot_s only
    after 1.5 s: central_c2 is compiled after that, not before, and the second process then
    reads central_c2's signal (its exit status says so)."""
    delay_s = 1.5
    child = ("import pickle, sys, time; pickle.load(sys.stdin.buffer); "
             f"time.sleep({delay_s}); out = sys.stdout.buffer; "
             f"out.write({montecarlo.FIRST_USEFUL_SHOT_CACHED!r}); out.flush(); "
             f"sys.exit(0 if sys.stdin.buffer.readline() == {montecarlo.CENTRAL_C2_CACHED!r} "
             "else 7)")
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", child)
    rec = Recorder(monkeypatch, ["compile_preparation", "compile_central_assignment",
                                 "compile_finish"])
    central_at = []
    monkeypatch.setattr("salvosim.engine.kernel.compile_central_assignment",
                        lambda _: central_at.append(time.monotonic()))
    started = time.monotonic()
    assert montecarlo.compile_in_two_processes(central(compile_file(Path(TINY)))) == 0
    assert rec.events == ["compile_preparation", "compile_finish"]
    assert len(central_at) == 1 and central_at[0] - started >= delay_s


def test_without_central_c2_the_first_process_compiles_no_central_assignment(monkeypatch):
    """Units that decide alone: the first part compiles prepare and, once first_useful_shot_s
    is announced (finish_replication calls it), finish_replication; no central_c2 and no
    signal to the second process (which does not wait for one)."""
    child = ("import pickle, sys; pickle.load(sys.stdin.buffer); out = sys.stdout.buffer; "
             f"out.write({montecarlo.FIRST_USEFUL_SHOT_CACHED!r}); out.flush()")
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", child)
    rec = Recorder(monkeypatch, ["compile_preparation", "compile_central_assignment",
                                 "compile_finish"])
    assert montecarlo.compile_in_two_processes(compile_file(Path(TINY))) == 0
    assert rec.events == ["compile_preparation", "compile_finish"]


def test_an_error_in_the_first_process_stops_the_second_and_is_raised(monkeypatch):
    """Only the deadline is swallowed: an error while compiling is raised, after the second
    process is stopped (not waited for)."""
    monkeypatch.setattr(montecarlo, "_COMPILE_CHILD", "import time; time.sleep(60)")

    def fail(_):
        raise RuntimeError("compile failed")

    monkeypatch.setattr("salvosim.engine.kernel.compile_preparation", fail)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="compile failed"):
        montecarlo.compile_in_two_processes(compile_file(Path(TINY)))
    assert time.monotonic() - started < 50           # not the child's 60 s
