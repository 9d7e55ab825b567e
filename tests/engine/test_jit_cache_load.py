"""engine/jit.py: a function loaded from Numba's cache is loaded without Numba's context refresh
(no typing or lowering module imported, no reference-counting runtime compiled), and still
computes what it computed when it was compiled; a cached function that counts references gets
the runtime before its code is linked."""
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
    print(json.dumps(out))
""")


def run_child(tmp_path, code: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cached_functions_load_without_the_refresh_and_compute_the_same(tmp_path):
    if not all(hasattr(Cache, name) for name in ("_guard_against_spurious_io_errors",
                                                  "_index_key")):
        pytest.skip("this Numba's cache loading is left alone")
    (tmp_path / "cached_pair.py").write_text(MODULE)
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


def test_nrt_names_are_found_in_nested_cached_data():
    assert jit._names_nrt(("lib", "object", (b"\x00call NRT_decref\x00", b"bitcode")))
    assert jit._names_nrt(("lib", "object", (b"plain code", b"..nrt_unresolved_abort..")))
    assert not jit._names_nrt(("lib", "object", (b"plain code", b"bitcode")))
    assert jit._names_nrt(("a layout", "without bytes"))        # unknown: assume it might


VECTORIZED = textwrap.dedent("""
    from numba import vectorize

    @vectorize(["float64(float64)"], cache=True)
    def twice_plus_one(x):
        return 2.0 * x + 1.0
""")
VECTORIZED_CHILD = ("import json, numpy as np, salvosim, vectorized; "
                    "print(json.dumps(vectorized.twice_plus_one(np.arange(3.0)).tolist()))")


def test_other_cached_code_in_the_process_loads_as_numba_loads_it(tmp_path):
    """Other libraries' cached functions keep Numba's own loading: a cached @vectorize, whose
    ufunc loop is built with the lowering registries after loading, still loads and runs in a
    process that imported salvosim (it failed when every cache load skipped the refresh)."""
    (tmp_path / "vectorized.py").write_text(VECTORIZED)
    assert run_child(tmp_path, VECTORIZED_CHILD) == [1.0, 3.0, 5.0]       # compiles
    assert run_child(tmp_path, VECTORIZED_CHILD) == [1.0, 3.0, 5.0]       # loads
