"""Profile the kernel with Linux perf: the flagship on one thread, with a perf map that names
every function of kernel.run_chunk's JIT code.

Numba's JIT code has no symbols perf can see, and run_chunk's module makes its callees internal
(engine/jit.py), so they are not in the JIT's symbol table either. The object code Numba
caches for run_chunk (its .nbc file, next to engine/kernel.py or in NUMBA_CACHE_DIR) is an ELF
object whose symbol table still names them; this script loads run_chunk (from the cache, or
compiling it), reads that table (engine.jit.elf_symbols, the reader run_chunk's cache load
uses), places it at the address where run_chunk was loaded, and writes /tmp/perf-<pid>.map,
which `perf report` reads for this process's JIT addresses.

    perf record -o /tmp/kernel.data .venv/bin/python -m bench.perf_map [replications]
    perf report -i /tmp/kernel.data --no-children --sort symbol

About 20 % of the samples are start-up (imports, loading the cache): the kernel's share is the
rest. A profiling tool, not a test; it needs perf on the machine.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

FLAGSHIP = Path(__file__).resolve().parents[1] / "scenarios" / "al_asad_drone_raid.toml"


def text_symbols(obj: bytes) -> dict[str, tuple[int, int]]:
    """{name: (offset, size)} of the object's defined code symbols, local ones included."""
    from salvosim.engine.jit import ELF_FUNC, elf_symbols
    symbols = elf_symbols(obj)
    if symbols is None:
        raise SystemExit("bench.perf_map: run_chunk's cached code is not a 64-bit ELF object")
    return {name: (value, size) for name, kind, section, value, size in symbols
            if kind == ELF_FUNC and section != 0}


def short_name(mangled: str) -> str:
    """salvosim.engine.kernel.run_events from Numba's mangled name (its nested-name parts up to
    the ABI tags); other names unchanged."""
    name = re.sub(r"[.]run_chunk_internal$", "", mangled)
    if not name.startswith("_ZN"):
        return name
    parts, i = [], 3
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        size = int(name[i:j])
        parts.append(name[j:j + size])
        i = j + size
    return ".".join(parts) if parts else name


def cached_object_code(dispatcher, args) -> bytes:
    """The object code Numba's cache holds for the signature `args` (its index's entry)."""
    cache = dispatcher._cache
    key = cache._index_key(args, dispatcher.targetctx.codegen())
    name = cache._cache_file._load_index().get(key)
    if name is None:
        raise SystemExit("bench.perf_map: run_chunk is not in Numba's cache (run it once)")
    _, _, (object_code, _) = cache._cache_file._load_data(name)[0]
    return object_code


def write_perf_map(dispatcher) -> int:
    """Write /tmp/perf-<pid>.map for the (one) compiled signature of dispatcher; returns the
    number of functions named."""
    ((args, cres),) = dispatcher.overloads.items()
    entry = cres.fndesc.llvm_func_name
    table = text_symbols(cached_object_code(dispatcher, args))
    if entry not in table:
        raise SystemExit("bench.perf_map: run_chunk's cache file does not hold the loaded code "
                         "(run once more to refresh the cache)")
    base = cres.library._codegen._engine.get_function_address(entry) - table[entry][0]
    seen: dict[str, int] = {}
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        for name, (offset, size) in sorted(table.items(), key=lambda kv: kv[1]):
            short = short_name(name)
            seen[short] = seen.get(short, 0) + 1
            if seen[short] > 1:                     # another specialization of the same function
                short = f"{short}#{seen[short]}"
            out.write(f"{base + offset:x} {size:x} {short}\n")
    return len(table)


def main(argv: list[str]) -> int:
    from salvosim.engine.compile import compile_scenario
    from salvosim.engine.kernel import run_chunk
    from salvosim.engine.montecarlo import run_block_numba
    from salvosim.engine.variants import load_scenario
    reps = int(argv[0]) if argv else 6000
    sc, _ = compile_scenario(load_scenario(str(FLAGSHIP)))
    run_block_numba(sc, 1, 0, 4, threads=1)              # load (or compile) run_chunk
    named = write_perf_map(run_chunk)
    t0 = time.perf_counter()
    run_block_numba(sc, 1, 0, reps, threads=1)
    rate = reps / (time.perf_counter() - t0)
    print(f"bench.perf_map: {named} functions named in /tmp/perf-{os.getpid()}.map; "
          f"{reps} flagship replications at {rate:,.0f}/s on 1 thread", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
