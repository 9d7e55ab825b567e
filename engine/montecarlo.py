"""Monte Carlo over replications, with either engine, in fixed-size blocks.

Replications run in blocks (default 1,024): the numba engine fills a block in parallel, the
reference engine one replication at a time; each block is folded into fixed-size accumulators
(engine.results.Accumulator) and dropped, so memory does not grow with the number of
replications unless per-replication outcomes are kept. A tqdm progress bar advances as each
chunk finishes (on a terminal, for runs over ~2 s, or when asked) and Ctrl-C stops cleanly.
"""
from __future__ import annotations

import collections
import os
import pickle
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, NamedTuple

import numpy as np

from salvosim.engine.compile import CompiledScenario, Labels, compile_scenario
from salvosim.engine.constants import N_CLASSES
from salvosim.engine.results import Accumulator, Results

BLOCK_REPS = 1024


class Block(NamedTuple):
    """Per-replication outputs of replications rep0 .. rep0 + n - 1 (rows)."""
    rep0: int
    fate: np.ndarray
    fate_t: np.ndarray
    kill_unit: np.ndarray
    impact_e: np.ndarray
    impact_n: np.ndarray
    shots: np.ndarray
    rounds: np.ndarray
    engagements: np.ndarray
    kills: np.ndarray
    asset_hits: np.ndarray
    threat_engagements: np.ndarray   # [n, J] engagements of each threat, all units
    why: np.ndarray                  # [n, J] int8 why never engaged (constants.WHY_*)
    shots_by_class: np.ndarray       # [n, U, N_CLASSES + 1] shots by target class (last: decoys)


def empty_block(sc: CompiledScenario, rep0: int, n: int) -> Block:
    return empty_block_of(len(sc.th_raid), len(sc.un_e), len(sc.as_value), rep0, n)


def empty_block_of(J: int, U: int, A: int, rep0: int, n: int) -> Block:
    """A zeroed Block of n replications of J threats, U fire units and A assets."""
    return Block(rep0=rep0, fate=np.zeros((n, J), np.int8), fate_t=np.zeros((n, J)),
                 kill_unit=np.zeros((n, J), np.int64), impact_e=np.zeros((n, J)),
                 impact_n=np.zeros((n, J)), shots=np.zeros((n, U), np.int64),
                 rounds=np.zeros((n, U), np.int64), engagements=np.zeros((n, U), np.int64),
                 kills=np.zeros((n, U), np.int64), asset_hits=np.zeros((n, A), np.int64),
                 threat_engagements=np.zeros((n, J), np.int64), why=np.zeros((n, J), np.int8),
                 shots_by_class=np.zeros((n, U, N_CLASSES + 1), np.int64))


KEPT_PEAK_FACTOR = 2.5    # kept blocks + their concatenation + the compressed file in memory


def kept_outcome_bytes(n_threats: int, n_units: int, n_assets: int, reps: int) -> int:
    """Peak memory of keeping every replication's outcomes (--keep-outcomes, --plots): a
    Block row per replication, times KEPT_PEAK_FACTOR."""
    row = empty_block_of(n_threats, n_units, n_assets, 0, 1)[1:]
    return int(sum(a.nbytes for a in row) * reps * KEPT_PEAK_FACTOR)


def physical_memory_bytes() -> int | None:
    """This machine's physical memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def available_threads() -> int:
    return os.cpu_count() or 1


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(max_workers=threads,
                                             thread_name_prefix="salvosim")
    return _POOLS[threads]


# The second process of a cold compile (compile_in_two_processes, second_process_main): the
# scenario arrives pickled on its stdin, then the first process's signals, a line each.
# It leaves by os._exit once its part is in the cache (Numba has closed and renamed its files
# by then): the interpreter's shutdown would only delay the first process, which waits.
_COMPILE_CHILD = ("import os; from salvosim.engine.montecarlo import second_process_main; "
                  "second_process_main(); os._exit(0)")
COMPILE_CHILD_TIMEOUT_S = 600.0
# The signals, each sent once a part is in Numba's cache, before the other process needs it.
FIRST_USEFUL_SHOT_CACHED = b"first-useful-shot\n"  # second process: first_useful_shot_s
CENTRAL_C2_CACHED = b"central-c2\n"              # first process: central_c2


ENGINES = ("numba", "reference")     # the Monte Carlo engines: Numba kernel, SimPy reference


def jit_cache_is_cold(engine: str = "numba", central: Iterable[bool] | None = None) -> bool:
    """True when the engine's entry point has no usable compiled code in Numba's cache (and
    none in this process): the first run compiles it (15-35 s on 2 cores, by CPU).

    central: for the numba engine, the builds of the event loop the run needs (kernel.c2_build:
    True for central C2, False for units deciding alone); cold if any of them is missing.
    None (or empty): any build will do. What this process has compiled or loaded is asked
    first; Numba's cache index (about 0.6 ms to read) only if that does not settle it."""
    try:
        if engine == "numba":
            from salvosim.engine.kernel import run_chunk as entry
        else:
            from salvosim.engine.instances import prepare_replication as entry
        needed = set(central or ()) if engine == "numba" else set()

        def covered(signatures) -> bool:
            if not needed:
                return bool(signatures)
            from numba import types
            built = {sig[2] != types.none for sig in signatures if len(sig) > 2}   # c2's type
            return needed <= built

        if covered(list(entry.signatures)):
            return False
        return not covered([key[0] for key in entry._cache._cache_file._load_index()])
    except Exception:   # Numba internals changed: do not guess
        return False


def _send(stream, signal: bytes) -> None:
    """Send one signal to the other process (gone: nothing to tell)."""
    if stream is None:
        return
    try:
        stream.write(signal)
        stream.flush()
    except (OSError, ValueError):           # a broken pipe, a closed stream
        pass


def _wait_for_line(stream, signal: bytes) -> None:
    """Read the other process's signals until this one or the end of the stream (it is gone:
    this process compiles what it needs itself)."""
    if stream is None:
        return
    while True:
        line = stream.readline()
        if not line or line == signal:
            return


def second_process_main() -> None:
    """The second process of a cold compile: reads the pickled scenario from its stdin and runs
    compile_second_part. Its signals go on a copy of its stdout, and anything else written
    there (a print, Numba's debug output) goes nowhere, so nothing can split or hide a signal
    line."""
    signals = os.fdopen(os.dup(1), "wb", buffering=0)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.close(nowhere)
    compile_second_part(pickle.load(sys.stdin.buffer), sys.stdin.buffer, signals)


def scenario_bytes(sc: CompiledScenario) -> bytes:
    """The scenario as the second process of a cold compile receives it (pickled)."""
    return pickle.dumps(sc)


def compile_second_part(sc: CompiledScenario, from_first=None, to_first=None) -> None:
    """What the second process of a cold compile compiles, in this order: the shot solver
    (kernel.compile_shot_solver: intercept.earliest_shot_and_effect_s, with shot_end_time_s
    and the intercept and dwell solvers); intercept.first_useful_shot_s
    (kernel.compile_first_useful_shot, with the shot-time bounds and the laser's settled
    shots), announced to the first process (to_first), whose central assignment and
    not-engaged reasons call it; the targeting (kernel.compile_targeting); then
    kernel.run_events, for central C2 once the first process announces central_c2 (from_first),
    which that build of the event loop calls. Streams of None: no signals."""
    from salvosim.engine.kernel import (
        compile_event_loop,
        compile_first_useful_shot,
        compile_shot_solver,
        compile_targeting,
    )
    compile_shot_solver(sc)
    compile_first_useful_shot(sc)
    _send(to_first, FIRST_USEFUL_SHOT_CACHED)
    compile_targeting(sc)
    if sc.c2_central:
        _wait_for_line(from_first, CENTRAL_C2_CACHED)
    compile_event_loop(sc)


class _Signals:
    """The second process's signals, read by a thread (a wait can then time out)."""

    def __init__(self, stream):
        self._seen: set[bytes] = set()
        self._ended = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        try:
            with stream:
                for line in stream:
                    with self._changed:
                        self._seen.add(line)
                        self._changed.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def wait_for(self, signal: bytes, deadline: float) -> None:
        """Until the signal came, the process ended, or the deadline (monotonic clock) passed:
        subprocess.TimeoutExpired then."""
        with self._changed:
            while signal not in self._seen and not self._ended:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(_COMPILE_CHILD, COMPILE_CHILD_TIMEOUT_S)
                self._changed.wait(left)


def compile_in_two_processes(sc: CompiledScenario) -> int | None:
    """Cold compile on two cores: a second Python process (compile_second_part) compiles the
    shot solver, first_useful_shot_s, the targeting and run_events into Numba's cache, while
    this one compiles instances.prepare, then for central C2 central_c2 (c2_assign inlined in
    it) (kernel.compile_central_assignment), and finish_replication. Each waits for the other's
    signal before compiling what calls the other's part (central_c2 and finish_replication
    call first_useful_shot_s, the central build of run_events calls central_c2; the lean build
    of a scenario whose units decide alone calls neither central_c2 nor waits for it,
    kernel.c2_build), and then loads it from the cache. Before the signals, both processes
    compiled parts of the shot solver at the same time (2.2 s of one process's compile on a
    Zen 3 host); with them, in measured runs only Numba's min and max overloads were compiled
    twice (a function both parts reach without a signal between them, such as
    trajectory.position_at, is compiled by whichever gets there first, the other loading it
    if it is cached by then). run_chunk then loads all of it. Numba compiles one
    function at a time per process, and its cache files are written atomically, so the two never
    see half a file. If the second process fails, this one compiles what is missing itself;
    COMPILE_CHILD_TIMEOUT_S after the start (this process's waits, the scenario's delivery
    included) it is stopped. SALVOSIM_COMPILE_PROCESSES=1 turns it off.
    Returns the second process's exit status (None: it could not start)."""
    from salvosim.engine.kernel import compile_central_assignment, compile_finish, compile_preparation
    scenario = scenario_bytes(sc)
    deadline = time.monotonic() + COMPILE_CHILD_TIMEOUT_S
    try:
        child = subprocess.Popen([sys.executable, "-c", _COMPILE_CHILD], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    # The scenario goes from a thread: a pickle larger than the pipe's buffer is written only
    # as the second process reads it, after its imports (or never, if it fails first).
    delivery = threading.Thread(target=_send, args=(child.stdin, scenario), daemon=True)
    try:
        signals = _Signals(child.stdout)
        delivery.start()
        compile_preparation(sc)
        signals.wait_for(FIRST_USEFUL_SHOT_CACHED, deadline)
        if sc.c2_central:
            compile_central_assignment(sc)
            delivery.join(max(0.0, deadline - time.monotonic()))
            if delivery.is_alive():
                raise subprocess.TimeoutExpired(_COMPILE_CHILD, COMPILE_CHILD_TIMEOUT_S)
            _send(child.stdin, CENTRAL_C2_CACHED)
        compile_finish(sc, empty_block(sc, 0, 1)[1:])
        return child.wait(timeout=max(0.0, deadline - time.monotonic()))
    except BaseException as exc:                # the deadline, Ctrl-C, an error: stop it
        child.kill()
        child.wait()
        if not isinstance(exc, subprocess.TimeoutExpired):
            raise
        return child.returncode
    finally:
        if delivery.is_alive():                 # (the pipe is broken once the child is gone)
            delivery.join()
        try:
            child.stdin.close()
        except (OSError, ValueError):
            pass


MIN_CHUNK_REPS = 2      # the smallest chunk of a block's guided schedule


def guided_chunks(n: int, threads: int, min_reps: int = MIN_CHUNK_REPS) -> list[tuple[int, int]]:
    """Rows lo..hi of a block of n replications, cut for `threads` workers that each take the
    next chunk when done: every chunk is 1/(2 threads) of what remains (at least min_reps), so
    the chunks shrink toward the end and the workers finish within a small chunk of each other
    (with equal chunks, one worker idled for up to one chunk, 2-3 % of a 512-replication
    block). Any split gives the same results: each replication draws from its own streams."""
    bounds, lo = [], 0
    while lo < n:
        size = max(min_reps, (n - lo) // (2 * threads))
        bounds.append((lo, min(n, lo + size)))
        lo = bounds[-1][1]
    return bounds


def run_block_numba(sc: CompiledScenario, seed: int, rep0: int, n: int, threads: int,
                    on_reps: Callable[[int], None] | None = None) -> Block:
    """A block of replications with the Numba engine, over `threads` threads.

    kernel.run_chunk releases the GIL, so plain threads run it in parallel (Numba's parallel
    prange would do the same but costs about 27 s more of cold compilation). Each thread
    allocates one workspace and takes the next chunk of the guided schedule until none is left."""
    from salvosim.engine.kernel import heap_capacity_for, loop_build, new_workspace, run_chunk
    if (threads >= 2 and os.environ.get("SALVOSIM_COMPILE_PROCESSES", "2") != "1"
            and jit_cache_is_cold(central=[bool(sc.c2_central)])):
        compile_in_two_processes(sc)
    block = empty_block(sc, rep0, n)
    capacity = heap_capacity_for(sc)
    build = loop_build(sc)
    workers = max(1, min(threads, n))
    while True:
        todo = collections.deque(guided_chunks(n, workers))

        def worker(_, capacity=capacity):
            ws = new_workspace(sc, capacity)
            overflow = 0
            try:
                while True:
                    try:     # (popleft, not a test then a pop: another thread may pop between)
                        lo, hi = todo.popleft()
                    except IndexError:
                        break
                    chunk_overflow = run_chunk(sc, ws, *build, seed, rep0, lo, hi,
                                               *block[1:])
                    overflow += chunk_overflow
                    if on_reps is not None and chunk_overflow == 0:
                        on_reps(hi - lo)          # progress: this chunk is done
            except BaseException:
                todo.clear()      # the other threads stop after the chunk they are in
                raise
            return overflow
        try:
            if workers == 1:
                overflow = worker(0)
            else:     # (one pool per thread count: a short last block leaves threads idle)
                overflow = sum(_pool(threads).map(worker, range(workers)))
        except BaseException:
            todo.clear()          # Ctrl-C while waiting: likewise
            raise
        if overflow == 0:
            return block
        capacity *= 2     # an event heap overflowed: rerun the block with a larger heap


def run_block_reference(sc: CompiledScenario, seed: int, rep0: int, n: int,
                        on_reps: Callable[[int], None] | None = None) -> Block:
    from salvosim.engine.reference import simulate_reference
    block = empty_block(sc, rep0, n)
    for r in range(n):
        out = simulate_reference(sc, seed, rep0 + r)
        for field in Block._fields[1:]:
            getattr(block, field)[r] = getattr(out, field)
        if on_reps is not None:
            on_reps(1)
    return block


def iter_blocks(sc: CompiledScenario, reps: int, seed: int, engine: str = "numba",
                threads: int | None = None, block_reps: int = BLOCK_REPS,
                rep0: int = 0, on_reps: Callable[[int], None] | None = None) -> Iterator[Block]:
    """Blocks of replications rep0 .. rep0 + reps - 1 with the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    if engine == "numba":
        threads = threads or available_threads()
    if engine == "reference":
        block_reps = min(block_reps, 64)
    done = 0
    while done < reps:
        n = min(block_reps, reps - done)
        if engine == "numba":
            yield run_block_numba(sc, seed, rep0 + done, n, threads, on_reps)
        else:
            yield run_block_reference(sc, seed, rep0 + done, n, on_reps)
        done += n


class Progress:
    """A tqdm progress bar on stderr (tqdm.auto: a widget in Jupyter), advanced as each chunk
    of replications finishes (from any thread).

    enabled: True shows it only when stderr is a terminal, once a run has taken ~2 s, and
    clears it at the end; "always" shows it wherever stderr goes, at once, and leaves its last
    state (a log keeps it); False never."""

    def __init__(self, total: int, enabled: bool | str = True, delay_s: float = 2.0):
        self.total = total
        self.always = enabled == "always"
        self.enabled = self.always or (enabled is True and sys.stderr.isatty())
        self.delay_s = 0.0 if self.always else delay_s
        self.bar = None
        self.done = 0
        self.closed = False
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        """n more replications are done (ignored once closed: a worker thread finishing its
        chunk after Ctrl-C drew a new bar)."""
        if not self.enabled:
            return
        with self.lock:
            if self.closed:
                return
            if self.bar is None:
                try:
                    from tqdm.auto import tqdm
                except ImportError:   # tqdm is a dependency; a broken install loses the bar only
                    self.enabled = False
                    return
                self.bar = tqdm(total=self.total, unit="rep", desc="replications",
                                file=sys.stderr, delay=self.delay_s, leave=self.always,
                                dynamic_ncols=True, smoothing=0.1)
            self.bar.update(n)
            self.done += n

    def update(self, done: int) -> None:
        """`done` replications in all are done (sets the count: a block rerun after an event
        heap overflow counted some chunks twice)."""
        if done > self.done:
            self.add(done - self.done)
        with self.lock:
            if self.bar is not None and self.bar.n != done:
                self.bar.n = self.done = done
                self.bar.refresh()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.bar is not None:
                self.bar.close()
                self.bar = None


# ----------------------------------------------------------------------------------------
# Replication ranges: a run split anywhere on block boundaries gives the same numbers.
#
# Replications are keyed on (seed, replication), so any range rep0 .. rep0 + n - 1 can run
# anywhere. The accumulators' integer fields are exact whatever the split; their float sums are
# made split-independent by folding one accumulator per block, always in ascending replication
# order, with the blocks on the same boundaries (multiples of the block size from replication
# 0): a local run, and a run whose ranges start on block boundaries, add the same floats in
# the same order.
ADDITIVE_FIELDS = ("reps", "leak_hist", "fates_by_group", "unit_sums", "asset_hits",
                   "asset_reps_hit", "fates_by_raid", "why_by_fate", "engagements_by_raid",
                   "shots_by_class", "kills_by_class", "sums", "sums_sq")


def block_size(engine: str, block_reps: int = BLOCK_REPS) -> int:
    """Replications per block with this engine (the reference engine uses blocks of 64 at
    most)."""
    return min(block_reps, 64) if engine == "reference" else block_reps


def block_ranges(reps: int, n_ranges: int, engine: str = "numba",
                 block_reps: int = BLOCK_REPS) -> list[tuple[int, int]]:
    """(rep0, n) of at most n_ranges contiguous ranges covering replications 0 .. reps - 1,
    each starting on a block boundary (so that their folded results equal the unsplit run's)."""
    size = block_size(engine, block_reps)
    n_blocks = -(-reps // size)
    n_ranges = max(1, min(n_ranges, n_blocks))
    cuts = [min(reps, (k * n_blocks // n_ranges) * size) for k in range(n_ranges + 1)]
    return [(a, b - a) for a, b in zip(cuts, cuts[1:]) if b > a]


def accumulator_state(acc: Accumulator) -> dict:
    """The additive fields of an accumulator (what a remote task sends back: no scenario)."""
    return {name: getattr(acc, name) for name in ADDITIVE_FIELDS}


def accumulator_from_state(sc: CompiledScenario, labels: Labels, state: dict) -> Accumulator:
    acc = Accumulator(sc, labels)
    for name in ADDITIVE_FIELDS:
        setattr(acc, name, state[name])
    return acc


def block_accumulators(sc: CompiledScenario, labels: Labels, reps: int, seed: int,
                       engine: str = "numba", threads: int | None = None,
                       block_reps: int = BLOCK_REPS, rep0: int = 0,
                       on_reps: Callable[[int], None] | None = None,
                       on_block: Callable[[Block], None] | None = None) -> Iterator[Accumulator]:
    """One accumulator per block of replications rep0 .. rep0 + reps - 1, in order."""
    for block in iter_blocks(sc, reps, seed, engine, threads, block_reps, rep0=rep0,
                             on_reps=on_reps):
        part = Accumulator(sc, labels)
        part.add(block)
        if on_block is not None:
            on_block(block)
        yield part


def run_range(sc: CompiledScenario, labels: Labels, reps: int, seed: int, rep0: int,
              engine: str = "numba", threads: int | None = 1,
              block_reps: int = BLOCK_REPS) -> list[dict]:
    """The per-block accumulator states of replications rep0 .. rep0 + reps - 1 (a task of a
    split run: fold the states of all ranges in ascending rep0 with fold_states)."""
    return [accumulator_state(part) for part in
            block_accumulators(sc, labels, reps, seed, engine, threads, block_reps, rep0)]


def fold_states(sc: CompiledScenario, labels: Labels, states) -> Accumulator:
    """One accumulator from per-block states given in ascending replication order."""
    acc = Accumulator(sc, labels)
    for state in states:
        acc.merge(accumulator_from_state(sc, labels, state))
    return acc


def run_compiled(sc: CompiledScenario, labels: Labels, reps: int, seed: int,
                 engine: str = "numba", threads: int | None = None,
                 keep_outcomes: bool = False, progress: bool = False,
                 block_reps: int = BLOCK_REPS,
                 on_block: Callable[[Block], None] | None = None, rep0: int = 0) -> Results:
    """Replications rep0 .. rep0 + reps - 1, folded block by block (Accumulator.merge of one
    accumulator per block, in replication order)."""
    if threads is not None and engine == "numba" and threads > available_threads():
        from salvosim.engine.errors import UsageError
        raise UsageError(f"--threads {threads}: this machine has {available_threads()} "
                         f"cores; allowed: 1 .. {available_threads()}")
    acc = Accumulator(sc, labels)
    kept: list[Block] = []
    bar = Progress(reps, enabled=progress)
    t0 = time.perf_counter()
    try:
        for block in iter_blocks(sc, reps, seed, engine, threads, block_reps, rep0=rep0,
                                 on_reps=bar.add if bar.enabled else None):
            part = Accumulator(sc, labels)
            part.add(block)
            acc.merge(part)
            if keep_outcomes:
                kept.append(block)
            if on_block is not None:
                on_block(block)
            bar.update(acc.reps)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0
    return Results(acc=acc, seed=seed, engine=engine, elapsed_s=elapsed,
                   threads=(threads or available_threads()) if engine == "numba" else 1,
                   kept=kept if keep_outcomes else None)


def run_scenario(scn, reps: int, seed: int, engine: str = "numba", threads: int | None = None,
                 keep_outcomes: bool = False, progress: bool = False) -> Results:
    sc, labels = compile_scenario(scn)
    res = run_compiled(sc, labels, reps, seed, engine, threads, keep_outcomes, progress)
    res.scenario_name = scn.name
    res.scenario_file = os.path.relpath(scn.file) if os.path.isabs(scn.file) else scn.file
    return res
