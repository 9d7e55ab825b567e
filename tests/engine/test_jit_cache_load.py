"""engine/jit.py: a function loaded from Numba's cache is loaded without Numba's context refresh
(no typing or lowering module imported, no reference-counting runtime compiled), and still
computes what it computed when it was compiled; a cached function that counts references gets
the runtime before its code is linked; other libraries' cached code (a @vectorize) loads as
Numba loads it; run_chunk loads without parsing its bitcode."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from numba.core.caching import Cache

from salvosim.engine import jit

MODULE = textwrap.dedent("""
    import numpy as np
    from numba import njit

    @njit(cache=True, _nrt=False)
    def scaled(x):
        return 3.0 * x + 1.0

    @njit(cache=True, _nrt=False)
    def checked_sqrt(x):           # raises from compiled code: Numba's exception helpers
        if x < 0.0:
            raise ValueError("negative argument")
        return np.sqrt(x)

    @njit(cache=True)
    def doubled_range(n):          # allocates an array: needs the NRT
        return np.arange(n) * 2
""")

# Another library's cached code: a @vectorize, whose ufunc loop is built with the lowering
# registries after loading (it failed to load when every cache load skipped the refresh).
VECTORIZED = textwrap.dedent("""
    from numba import vectorize

    @vectorize(["float64(float64)"], cache=True)
    def twice_plus_one(x):
        return 2.0 * x + 1.0
""")

# A fresh process: imports engine.jit (the wrapper), calls the plain function, records what
# was imported, then calls the allocating one.
CHILD = textwrap.dedent("""
    import json, sys
    import salvosim.engine.jit
    salvosim.engine.jit.LIGHT_LOAD_MODULES += ("cached_pair",)     # as if it were salvosim's
    from numba.core.runtime import rtsys
    import cached_pair as m
    out = {"scaled": m.scaled(2.0), "hits_scaled": sum(m.scaled.stats.cache_hits.values()),
           "refreshed": "numba.np.linalg" in sys.modules, "nrt_after_scaled": rtsys._init}
    try:
        m.checked_sqrt(-1.0)
    except ValueError as exc:
        out["raised"] = str(exc)
    out["sqrt"] = m.checked_sqrt(2.25)
    out["hits_checked"] = sum(m.checked_sqrt.stats.cache_hits.values())
    out["doubled"] = m.doubled_range(4).tolist()
    out["hits_doubled"] = sum(m.doubled_range.stats.cache_hits.values())
    out["nrt_after_doubled"] = rtsys._init
    import numpy as np, vectorized
    out["vectorized"] = vectorized.twice_plus_one(np.arange(3.0)).tolist()
    print(json.dumps(out))
""")


def child_output(tmp_path, code: str) -> list[str]:
    """The lines a fresh process running code prints (cache in tmp_path/cache, tmp_path on
    its path)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def run_child(tmp_path, code: str) -> dict:
    """The JSON object a fresh process prints last (child_output)."""
    return json.loads(child_output(tmp_path, code)[-1])


def test_cached_functions_load_without_the_refresh_and_compute_the_same(tmp_path):
    if not all(hasattr(Cache, name) for name in ("_guard_against_spurious_io_errors",
                                                  "_index_key")):
        pytest.skip("this Numba's cache loading is left alone")
    (tmp_path / "cached_pair.py").write_text(MODULE)
    (tmp_path / "vectorized.py").write_text(VECTORIZED)
    first = run_child(tmp_path, CHILD)           # compiles both into the cache
    assert first["hits_scaled"] == first["hits_doubled"] == 0
    second = run_child(tmp_path, CHILD)          # loads both from it
    assert second["hits_scaled"] == second["hits_doubled"] == 1
    assert second["scaled"] == first["scaled"] == 7.0
    assert second["hits_checked"] == 1 and first["hits_checked"] == 0
    assert second["raised"] == first["raised"] == "negative argument"
    assert second["sqrt"] == first["sqrt"] == 1.5
    assert second["doubled"] == first["doubled"] == [0, 2, 4, 6]
    assert not second["refreshed"]               # no typing/lowering registries imported
    assert not second["nrt_after_scaled"]        # a function without the NRT: none compiled
    assert second["nrt_after_doubled"]           # one that counts references: the NRT first
    assert second["vectorized"] == first["vectorized"] == [1.0, 3.0, 5.0]   # loaded as Numba does


def test_nrt_names_are_found_in_nested_cached_data():
    assert jit._names_nrt(("lib", "object", (b"\x00call NRT_decref\x00", b"bitcode")))
    assert jit._names_nrt(("lib", "object", (b"plain code", b"..nrt_unresolved_abort..")))
    assert not jit._names_nrt(("lib", "object", (b"plain code", b"bitcode")))
    assert jit._names_nrt(("a layout", "without bytes"))        # unknown: assume it might



# run_chunk's cached bitcode: parsed only when something links the library (engine/jit.py).
ENTRY_CHILD = textwrap.dedent("""
    import json
    from salvosim.engine import kernel
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import run_block_numba
    from salvosim.engine.variants import load_scenario
    sc, _ = compile_scenario(load_scenario("scenarios/tower22_drone.toml"))
    block = run_block_numba(sc, 1, 0, 3, threads=1)
    (cres,) = kernel.run_chunk.overloads.values()
    library = cres.library
    out = {"hits": sum(kernel.run_chunk.stats.cache_hits.values()),
           "parsed_at_load": library._shared_module is not None,
           "fate": block.fate.tolist()}
    module = library._get_module_for_linking()
    out["entry_linkable"] = any(
        f.name == cres.fndesc.llvm_func_name and not f.is_declaration for f in module.functions)
    defined = ({f.name for f in module.functions if not f.is_declaration}
               | {g.name for g in module.global_variables if not g.is_declaration})
    out["registered_at_load"] = defined <= library._codegen._engine._defined_symbols
    print(json.dumps(out))
""")


def test_run_chunk_loads_without_parsing_its_bitcode_and_still_links(warm_jit):
    """A fresh process loads run_chunk from the (warm) cache: its bitcode is not parsed at
    load, the replications are the ones this process computes, and the library can still be
    linked (the bitcode parsed then, defining what the object code's symbol table listed)."""
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.montecarlo import run_block_numba
    from salvosim.engine.variants import load_scenario
    from tests import REPO_ROOT
    done = subprocess.run([sys.executable, "-c", ENTRY_CHILD], capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["hits"] == 1 and not out["parsed_at_load"]
    assert out["entry_linkable"] and out["registered_at_load"]
    sc, _ = compile_scenario(load_scenario(str(REPO_ROOT / "scenarios" / "tower22_drone.toml")))
    assert out["fate"] == run_block_numba(sc, 1, 0, 3, threads=1).fate.tolist()


def test_elf_symbols_are_the_bitcodes_defined_names(warm_jit):
    """elf_defined_symbols reads from run_chunk's cached object code the names Numba reads
    from its bitcode; anything but a 64-bit little-endian ELF object gives None."""
    import llvmlite.binding as llvm

    from salvosim.engine.kernel import run_chunk
    cache = run_chunk._cache._cache_file
    entries = list(cache._load_index().values())
    assert entries, "run_chunk is not in the cache"
    for entry in entries:
        name, kind, (object_code, bitcode) = cache._load_data(entry)[0]
        module = llvm.parse_bitcode(bitcode)
        want = ({f.name for f in module.functions if not f.is_declaration}
                | {g.name for g in module.global_variables if not g.is_declaration})
        assert (name, kind) == ("run_chunk", "object")
        assert jit.elf_defined_symbols(object_code) == want
    assert jit.elf_defined_symbols(b"\xcf\xfa\xed\xfe" + bytes(60)) is None     # Mach-O
    assert jit.elf_defined_symbols(b"\x7fELF\x01\x01" + bytes(58)) is None      # 32-bit ELF


def test_a_cache_directory_is_checked_once_while_it_exists(tmp_path, monkeypatch):
    """Numba probes a function's cache directory with a temporary file at every decoration;
    engine/jit.py probes each directory once per process, and again (making it) once it is
    gone."""
    import tempfile

    from numba.core.caching import _CacheLocator
    probes = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile",
                        lambda *a, **k: probes.append(k.get("dir")) or real(*a, **k))

    class Locator(_CacheLocator):
        def __init__(self, path):
            self._path = path

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return 0

        def get_disambiguator(self):
            return ""

        @classmethod
        def from_function(cls, py_func, py_file):
            return None

    path = str(tmp_path / "cache")
    for _ in range(5):
        Locator(path).ensure_cache_path()
    assert probes == [path]
    os.rmdir(path)
    Locator(path).ensure_cache_path()
    assert os.path.isdir(path) and probes == [path, path]


def test_importing_the_kernel_probes_few_cache_directories(tmp_path):
    """131 njit functions, a handful of cache directories: one probe each."""
    code = ("import tempfile\n"
            "count = [0]; real = tempfile.TemporaryFile\n"
            "def counting(*a, **k):\n"
            "    count[0] += 1\n"
            "    return real(*a, **k)\n"
            "tempfile.TemporaryFile = counting\n"
            "import salvosim.engine.kernel, salvosim.engine.reference\n"
            "from numba.core.registry import CPUDispatcher\n"
            "import gc\n"
            "cached = sum(1 for o in gc.get_objects() if isinstance(o, CPUDispatcher)"
            " and o._cache.__class__.__name__ == 'FunctionCache')\n"
            "import json; print(json.dumps({'probes': count[0], 'cached': cached}))\n")
    out = run_child(tmp_path, code)
    assert out["cached"] > 100 and out["probes"] <= 8, out


# kernel.push_event has no CPython wrapper (INTERNAL); kernel.request_decision, which has one,
# links it. A fresh process compiles both into an empty cache; a second one, after
# request_decision's cache files are removed, loads push_event from the cache and links it
# into a new request_decision.
NO_MACHINE_CODE = textwrap.dedent("""
    import json
    import numpy as np
    from salvosim.engine import kernel
    from salvosim.engine.constants import EV_DECIDE, NO_SUB
    from salvosim.engine.events import event_key
    U = 3
    last, pending, count = np.full(U, -1.0), np.zeros(U, np.bool_), np.zeros(1, np.int64)
    wake = np.full(U, np.nan)
    ht, hk, hn = np.zeros(8), np.zeros(8, np.int64), np.zeros(1, np.int64)
    for u, t_s in ((2, 5.0), (1, 3.0), (0, 4.0)):
        kernel.request_decision(last, pending, count, wake, ht, hk, hn, u, t_s, 0.0)
    ((args, cres),) = kernel.push_event.overloads.items()
    cache = kernel.push_event._cache
    key = cache._index_key(args, kernel.push_event.targetctx.codegen())
    index = cache._cache_file._load_index()
    kind = cache._cache_file._load_data(index[key])[0][1] if key in index else None
    print(json.dumps({
        "no_machine_code": getattr(cres.library, "_salvosim_no_machine_code", False),
        "address": cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name),
        "kind": kind, "loaded": sum(kernel.push_event.stats.cache_hits.values()),
        "heap": [int(hn[0]), float(ht[0]), int(hk[0] == event_key(EV_DECIDE, 1, NO_SUB))]}))
""")


def test_internal_functions_get_no_machine_code_and_are_cached_as_bitcode(tmp_path):
    """engine/jit.py: a function without a CPython wrapper is finalized without machine code
    and cached as bitcode; a caller compiled in the same process, or in another one that
    loads it from the cache, links it and runs it (three decisions pushed: the earliest on
    top)."""
    runs = []
    for _ in range(2):
        runs.append(run_child(tmp_path, NO_MACHINE_CODE))
        stale = list((tmp_path / "cache").rglob("kernel.request_decision-*"))
        assert stale
        for path in stale:              # the caller is compiled again, linking the cached one
            path.unlink()
    for run, loaded in zip(runs, (0, 1)):
        assert run["no_machine_code"] and run["address"] == 0 and run["kind"] == "bitcode", run
        assert run["loaded"] == loaded and run["heap"] == [3, 3.0, 1], run


# Functions without a wrapper that need the JIT: one reads its environment at run time
# (print), two call each other (Numba's runtime linker resolves the recursion).
PROBE = textwrap.dedent("""
    from numba import njit
    from salvosim.engine.jit import INTERNAL, JIT

    @njit(**INTERNAL)
    def inner_print(x):
        print("inner value", x)
        return x + 1.0

    @njit(**JIT)
    def outer_print(x):
        return inner_print(x) * 2.0

    # (not cached: Numba's cache load of a mutual recursion crashes, with or without jit.py)
    @njit(**dict(INTERNAL, cache=False))
    def is_even(n):
        if n <= 0:
            return 1
        return is_odd(n - 1)

    @njit(**dict(INTERNAL, cache=False))
    def is_odd(n):
        if n <= 0:
            return 0
        return is_even(n - 1)

    @njit(**dict(JIT, cache=False))
    def parity(n):
        return is_even(n)
""")

PROBE_CHILD = textwrap.dedent("""
    import json
    import salvosim.engine.jit as jit
    jit.NO_MACHINE_CODE_PREFIXES += ("_ZN10nomc_probe",)      # as if it were salvosim's
    import nomc_probe as m
    printed = m.outer_print(0.5)
    out = {"printed": printed, "parity": [m.parity(5), m.parity(6)],
           "inner_no_code": [getattr(c.library, "_salvosim_no_machine_code", False)
                             for c in m.inner_print.overloads.values()],
           "recursive_no_code": [getattr(c.library, "_salvosim_no_machine_code", False)
                                 for c in m.is_even.overloads.values()]}
    print(json.dumps(out))
""")


def test_functions_without_code_keep_their_environment_and_recursion(tmp_path):
    """A review found two things the JIT did for a library that now gets no machine code: its
    environment (print() reads it) and the runtime linking of a recursive call. Compiled
    fresh, loaded from the cache, and with only the caller compiled again."""
    (tmp_path / "nomc_probe.py").write_text(PROBE)
    for step in ("compiled", "loaded", "caller compiled again"):
        if step == "caller compiled again":
            for path in (tmp_path / "cache").rglob("nomc_probe.outer_print-*"):
                path.unlink()
        lines = child_output(tmp_path, PROBE_CHILD)
        out = json.loads(lines[-1])
        assert "inner value 0.5" in lines, (step, lines)
        assert out["printed"] == 3.0 and out["parity"] == [0, 1], (step, out)
        # (compiled, or loaded to be linked again: no machine code; with both callers loaded
        # from the cache, neither is loaded)
        assert out["inner_no_code"] == ([] if step == "loaded" else [True]), (step, out)
        assert True not in out["recursive_no_code"], (step, out)
