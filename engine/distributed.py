"""Runs beyond one machine with Dask distributed (`--dask ADDRESS|local[:N]`), bit-identical
to a local run.

Replications are keyed on (seed, replication) (MODEL.md §9), so a run splits into replication
ranges that can run anywhere: each range starts on a block boundary and sends back one
accumulator state per block; the driver folds them in ascending replication order, exactly as
the local run folds its blocks (engine.montecarlo), so the results JSON is the same byte for
byte. A sweep is one task per grid point (engine.views.analysis).

What is shipped to a worker: the scenario file's TOML text and its name (no shared filesystem
is needed: a base is a catalog id, in the installed package, or an inline table of the same
file), the seed, the replication range, the engine and the threads per task. A worker compiles
the scenario itself (once per scenario text per worker process), and its Numba kernels are
warmed once per worker (`client.run`) before any task; NUMBA_CACHE_DIR can point the workers'
cache elsewhere (--dask-cache DIR, or the environment).

Dask is imported only here and only when --dask is given; it is the optional extra
`salvosim[dist]`.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import struct
import sys
import time
import tomllib
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

from salvosim.engine.errors import UsageError

DIST_HINT = "--dask needs the optional extra: pip install 'salvosim[dist]'"
LOCAL = "local"
# No dashboard, and the scheduler's HTTP server (health, metrics) on a free port rather than
# on 8787, where a second cluster would warn that the port is taken.
NO_DASHBOARD = {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": ":0"}}
TASKS_PER_SLOT = 4        # replication ranges per worker thread (load balance; at most 1 per block)


def require_dask():
    """The `distributed` module, or a UsageError naming the optional extra."""
    try:
        import distributed
    except ImportError:
        raise UsageError(DIST_HINT) from None
    return distributed


def parse_address(text: str) -> tuple[str, int | None]:
    """('local', workers or None) for local[:N], else (scheduler address, None). N is at most
    the machine's cores (local workers are processes of one thread each, as --threads)."""
    text = text.strip()
    if text == LOCAL or text.startswith(LOCAL + ":"):
        if text == LOCAL:
            return LOCAL, None
        n = text[len(LOCAL) + 1:]
        cores = os.cpu_count() or 1
        if not re.fullmatch(r"[0-9]+", n) or not 1 <= int(n) <= cores:
            raise UsageError(f"--dask {text}: expected local, local:N with 1 <= N <= {cores} "
                             f"workers (this machine's cores), or a scheduler address "
                             f"(tcp://host:8786)")
        return LOCAL, int(n)
    if not text:
        raise UsageError("--dask: empty address; give local, local:N or a scheduler address "
                         "(tcp://host:8786)")
    return text, None


PROBE_TIMEOUT_S = 10.0             # a scheduler sends its handshake at once on connection
MAX_HANDSHAKE_BYTES = 1 << 24      # ... a small message (its first 8 bytes: its length)


def probe_scheduler(address: str, timeout_s: float | None = None) -> None:
    """Raise a UsageError unless a TCP address answers as a Dask scheduler does: on connection
    it writes its handshake first, a frame whose first 8 bytes give its (small) length.
    distributed.Client itself waits for that handshake without a time limit (a server that
    never speaks hangs it) and allocates whatever length the first bytes give (an HTTP server
    makes that exabytes). Other schemes (tls://, ucx://, ...) are left to the Client."""
    from distributed.comm.addressing import parse_address as dask_address
    from distributed.comm.addressing import parse_host_port
    timeout_s = PROBE_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        scheme, location = dask_address(address)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location, 8786)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--dask {address}: not a scheduler address ({exc}); expected local, "
                         f"local:N or tcp://host:8786") from None
    head = b""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.settimeout(timeout_s)
            while len(head) < 8:
                chunk = conn.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.timeout:
        pass          # connected, but nothing came: not a scheduler (or an unreachable host)
    except (OSError, ValueError) as exc:      # ValueError: a host name IDNA cannot encode
        raise UsageError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    if not 0 < size <= MAX_HANDSHAKE_BYTES:
        raise UsageError(f"--dask {address}: no Dask scheduler answered there (a scheduler "
                         f"greets a new connection within {timeout_s:g} s)")


@contextlib.contextmanager
def dask_client(address: str, cache_dir: str | None = None,
                processes: bool = True, probe: bool = True) -> Iterator:
    """A connected Client: to the scheduler at `address`, or to a LocalCluster of N process
    workers of one thread each (local[:N]; N: the machine's cores). Closed on exit. A
    scheduler address is first probed (probe_scheduler) unless the caller already did."""
    distributed = require_dask()
    where, n = parse_address(address)
    cluster = None
    if cache_dir:
        os.environ["NUMBA_CACHE_DIR"] = str(Path(cache_dir).resolve())   # local workers inherit it
    try:
        if where == LOCAL:
            cluster = distributed.LocalCluster(n_workers=n or (os.cpu_count() or 1),
                                               threads_per_worker=1, processes=processes,
                                               **NO_DASHBOARD)
            client = distributed.Client(cluster)
        else:
            if probe:
                probe_scheduler(where)
            try:
                client = distributed.Client(where, timeout="30s")
            except Exception as exc:      # whatever the Client meets, one line
                raise UsageError(f"--dask {address}: cannot reach the scheduler: "
                                 f"{type(exc).__name__}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------------------
# Worker side
def scenario_source(scn) -> tuple[str, str]:
    """(TOML text, file name) of a scenario: what a worker gets to rebuild it."""
    # utf-8-sig, as schema.read_toml: a byte-order mark is not TOML
    return Path(scn.file).read_text(encoding="utf-8-sig"), scn.file


_WORKER_SCENARIOS: dict = {}


def worker_scenario(text: str, file: str):
    """The scenario of this TOML text, loaded once per worker process."""
    from salvosim.engine.variants import scenario_from_data
    key = (hashlib.sha256(text.encode()).hexdigest(), file)
    if key not in _WORKER_SCENARIOS:
        _WORKER_SCENARIOS[key] = scenario_from_data(tomllib.loads(text), file)
    return _WORKER_SCENARIOS[key]


_WORKER_COMPILED: dict = {}


def worker_compiled(text: str, file: str):
    """(CompiledScenario, Labels) of this TOML text, compiled once per worker process."""
    from salvosim.engine.compile import compile_scenario
    key = (hashlib.sha256(text.encode()).hexdigest(), file)
    if key not in _WORKER_COMPILED:
        _WORKER_COMPILED[key] = compile_scenario(worker_scenario(text, file))
    return _WORKER_COMPILED[key]


def use_cache_dir(cache_dir: str | None) -> None:
    """Point this process's Numba cache at cache_dir, if the kernels are not imported yet (a
    worker that already loaded them keeps its cache)."""
    if cache_dir and "salvosim.engine.kernel" not in sys.modules:
        os.environ["NUMBA_CACHE_DIR"] = cache_dir
        import numba
        numba.config.reload_config()


def warm_worker(text: str, file: str, engine: str, cache_dir: str | None = None) -> float:
    """Compile the scenario and load (or compile) the engine's kernels in this worker: one
    replication. Returns the seconds it took."""
    from salvosim.engine.montecarlo import run_compiled
    t0 = time.perf_counter()
    use_cache_dir(cache_dir)
    sc, labels = worker_compiled(text, file)
    run_compiled(sc, labels, 1, 0, engine, threads=1 if engine == "numba" else None)
    return time.perf_counter() - t0


def range_task(text: str, file: str, reps: int, seed: int, rep0: int, engine: str,
               threads: int | None, block_reps: int, cache_dir: str | None = None) -> list[dict]:
    """A task: the per-block accumulator states of replications rep0 .. rep0 + reps - 1."""
    from salvosim.engine.montecarlo import run_range
    use_cache_dir(cache_dir)
    sc, labels = worker_compiled(text, file)
    return run_range(sc, labels, reps, seed, rep0, engine,
                     threads if engine == "numba" else None, block_reps)


# ----------------------------------------------------------------------------------------
# Driver side
def warm(client, text: str, file: str, engine: str, cache_dir: str | None = None) -> dict:
    """Warm every worker once (client.run): {worker address: seconds}."""
    return client.run(warm_worker, text, file, engine,
                      str(Path(cache_dir).resolve()) if cache_dir else None)


def slots(client) -> int:
    """Worker threads of the cluster (tasks that can run at once)."""
    return max(1, sum(client.nthreads().values()))


def as_arrived(client, futures: dict) -> Iterator[tuple[object, object]]:
    """(key, result) of each future as it finishes; cancels what is left on an error or an
    interrupt."""
    from distributed import as_completed
    try:
        for fut in as_completed(list(futures)):
            yield futures[fut], fut.result()
    finally:
        client.cancel([f for f in futures if not f.done()])


def submit_all(client, fn: Callable, calls: Iterable[tuple[object, tuple]],
               name: str) -> dict:
    """{future: key} of fn(*args) for each (key, args); one thread per task, not cached by
    Dask across runs (pure=False)."""
    tag = uuid.uuid4().hex[:8]
    return {client.submit(fn, *args, key=f"salvosim-{name}-{tag}-{k}", pure=False): k
            for k, args in calls}


def run_distributed(client, scn, reps: int, seed: int, engine: str = "numba",
                    threads: int | None = None, block_reps: int | None = None,
                    n_ranges: int | None = None, cache_dir: str | None = None,
                    progress: bool | str = False):
    """A run split into replication ranges on the cluster; Results equal to run_scenario's
    (timings aside)."""
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import BLOCK_REPS, Progress, accumulator_from_state, block_ranges
    from salvosim.engine.results import Accumulator, Results
    block_reps = block_reps or BLOCK_REPS
    text, file = scenario_source(scn)
    sc, labels = compile_scenario(scn)
    t0 = time.perf_counter()
    warm(client, text, file, engine, cache_dir)
    ranges = block_ranges(reps, n_ranges or TASKS_PER_SLOT * slots(client), engine, block_reps)
    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    futures = submit_all(client, range_task,
                         ((r0, (text, file, n, seed, r0, engine, threads or 1, block_reps, cache))
                          for r0, n in ranges), "range")
    acc = Accumulator(sc, labels)
    arrived: dict[int, list] = {}
    order = [r0 for r0, _ in ranges]
    bar = Progress(reps, enabled=progress)
    try:
        for r0, states in as_arrived(client, futures):
            arrived[r0] = states
            bar.add(sum(s["reps"] for s in states))
            while order and order[0] in arrived:       # fold in ascending rep0 as they come
                for state in arrived.pop(order.pop(0)):
                    acc.merge(accumulator_from_state(sc, labels, state))
    finally:
        bar.close()
    res = Results(acc=acc, seed=seed, engine=engine, elapsed_s=time.perf_counter() - t0,
                  threads=slots(client))
    res.scenario_name = scn.name
    res.scenario_file = os.path.relpath(scn.file) if os.path.isabs(scn.file) else scn.file
    return res
