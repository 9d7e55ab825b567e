"""The Numba options of every njit function, in one place (ARCHITECTURE.md, Numba discipline).

- cache=True: compiled code is kept in __pycache__ (or NUMBA_CACHE_DIR) across runs.
- error_model="numpy": division by zero gives inf/nan as in numpy, without a Python exception
  path in every division.
- _nrt=False: no reference counting of arrays. Kernel functions neither allocate nor return
  arrays; the counting was 65 % of the run time (issue 11).
- no_cfunc_wrapper=True: no C-callable wrapper, which nothing here uses (it cost about 6 % of
  a cold compile).
INTERNAL adds no_cpython_wrapper=True for functions only ever called from njit code: the
CPython wrapper of a function taking the scenario and workspace tuples unboxes some 200
arrays and cost seconds of compile. Such a function cannot be called from Python: Numba
builds no entry point, and a call from Python crashes the interpreter instead of raising.

Importing this module also adjusts two of Numba's LLVM steps (below, ARCHITECTURE.md): an
InstCombine before each function's passes (a cold compile 10 s shorter on a Zen 3 core), and
dead-argument elimination in run_chunk's final module (11-13 % more replications per second
on a Zen 3 core); and, from the first compile of a process on, one step of Numba's IR inliner:
the blocks of an inlined function are copied with one deepcopy memo (a two-process cold
compile about 3.7 s shorter on a Zen 3 host). CPython wrappers get four cheap function passes
instead of Numba's -O3 ones (1-1.7 s off run_chunk's compile), and machine code as at -O0
(0.8-1 s off it). And it loads cached functions without Numba's
refresh of its typing and lowering registries (0.15 s of a warm run on a Zen 3 host), and
loads run_chunk without parsing its bitcode (about 50 ms); a cache directory found writable is not
checked again for every function (11 ms); plain arrays are typed without importing numpy.ma
(40-57 ms); and functions without a CPython wrapper get no machine code of their own, which
nothing ran (a cold compile about 2 s shorter).
"""
JIT = dict(cache=True, error_model="numpy", _nrt=False, no_cfunc_wrapper=True)
INTERNAL = dict(JIT, no_cpython_wrapper=True)


# ------------------------------------------------------------------ run_chunk's final module
# Numba compiles each njit function into its own module, optimized (-O3) with its callees linked
# in, then links all of them again into its caller's module as `linkonce_odr` (any other module
# may hold a copy) and runs -O3 over the whole again. For kernel.run_chunk, the only entry point
# of the event loop, two things are done differently (ARCHITECTURE.md, "Numba discipline"):
# - No second -O3 over the linked functions: they were optimized in their own modules; the pass
#   took 3 s of run_chunk's 8 s of cold compile and left the replication rate unchanged.
# - Dead-argument elimination: with `linkonce_odr`, LLVM keeps every function's full signature:
#   an array argument is seven machine words (meminfo, parent, size, itemsize, data, shape,
#   stride) of which a callee reads one or two; select_target took 235 words per call,
#   run_events 1,245, each shot solver 60-70. Nothing outside run_chunk's module calls its
#   copies, so they are made internal and LLVM's dead-argument elimination drops the words no
#   callee reads (select_target 86, the solvers 24-31), then global dead-code elimination drops
#   what is left unused: 11-13 % more replications per second (interleaved runs, each the
#   fastest of 12 runs of 800 flagship replications, Zen 3), about 10 ms of compile.
# Both passes only remove unused arguments and functions: the instructions on the values used
# are the ones -O3 made in each function's own module, and outcomes are bit-identical
# (tests/engine/test_outcomes.py). Numba has no public hook for this: it wraps
# CPUCodeLibrary._optimize_final_module, and leaves Numba's own build in place where that method
# or llvmlite's new pass manager is missing.
MANGLED_PACKAGE = "8salvosim"       # this package's name in Numba's mangled symbol names
CPYTHON_PREFIX = "_ZN7cpython"      # Numba's CPython wrappers ("cpython." and the qualified name)
ENTRY_POINT_MARK = MANGLED_PACKAGE + "6engine6kernel9run_chunk"   # run_chunk's and its wrapper's
INTERNAL_SUFFIX = ".run_chunk_internal"          # the copies' names, unique to run_chunk's module


def _names_entry_point(names) -> bool:
    """Whether any of these symbol names is run_chunk's or its wrapper's."""
    return any(ENTRY_POINT_MARK in name for name in names)


def _is_run_chunk(library) -> bool:
    return library.name == "run_chunk" and _names_entry_point(
        f.name for f in library._final_module.functions if not f.is_declaration)


def _drop_dead_arguments(library) -> None:
    """Internalize every function of run_chunk's final module but run_chunk itself and its
    wrapper, then run dead-argument and global dead-code elimination on the module."""
    import llvmlite.binding as llvm
    module = library._final_module
    for f in module.functions:
        if not f.is_declaration and ENTRY_POINT_MARK not in f.name:
            f.linkage = "internal"
            # Renamed too: Numba's JIT records every defined name, internal or not, and resolves
            # another module's call to `prepare` by name; with the name unchanged it could land
            # on this copy, whose arguments are fewer (a crash: prepare_replication after
            # run_chunk was compiled in the same process).
            f.name = f.name + INTERNAL_SUFFIX
    passes = llvm.create_new_module_pass_manager()
    passes.add_dead_arg_elimination_pass()
    passes.add_global_dead_code_eliminate_pass()
    passes.run(module, library._codegen._pass_builder())


# ------------------------------------------------------------------ InstCombine before SROA
# Numba keeps every variable in a stack slot and reads `sc.un_e` as a load of the whole scenario
# tuple (some 630 machine words) followed by one extractvalue; run_events' unpacking makes about
# 90 such loads. The first pass of Numba's function pipeline, SROA, splits every one of them
# into 630 pieces before anything removes them: 7.5 of run_events' 7.8 s of function passes.
# One InstCombine over each function first turns each `extractvalue (load tuple)` into a load
# of the one field (0.5 s), and the pipeline then takes 0.6 s: the function passes of a cold
# compile take 4.5 s instead of 18.8 (one process; 10 s off the two-process cold compile on
# this Zen 3 host). Both are LLVM's own semantics-preserving passes: outcomes bit-identical,
# replication rate unchanged (+1 %, interleaved runs). Applies to every Numba compile in the
# process, as a wrapper of CPUCodeLibrary._optimize_functions (left alone where missing).
def _fold_aggregate_loads(library, ll_module) -> None:
    """InstCombine over each function of a freshly lowered module, before Numba's function
    passes: it turns `extractvalue (load aggregate)` into a load of the one field."""
    import llvmlite.binding as llvm
    builder = library._codegen._pass_builder()
    for function in ll_module.functions:
        if function.is_declaration:
            continue
        passes = llvm.create_new_function_pass_manager()
        passes.add_instruction_combine_pass()
        passes.run(function, builder)


# ------------------------------------------------------------------ CPython wrappers
# Numba's CPython wrapper of an entry point unboxes every argument from Python objects; it runs
# once per call from Python (run_chunk's: once per chunk of replications), so its speed does
# not matter, but run_chunk's unboxes some 350 arrays and Numba's -O3 function passes over it
# took 1.3-2.0 s of run_chunk's 5-6 s compile, on the cold compile's critical path (Zen 3;
# 3.2 s over all wrappers of a one-process cold compile). The wrappers get SROA, InstCombine,
# SimplifyCFG and aggressive DCE instead (0.13-0.25 s for run_chunk's; its machine-code
# generation took as long as before). Then each wrapper is marked `optnone` (with `noinline`,
# which LLVM requires with it): no later pass touches it, and LLVM selects its instructions as
# at -O0 and skips the optional machine passes for it. run_chunk's wrapper was 43 % of the
# instructions of run_chunk's final module; the module's machine code took 1.35-1.6 s instead
# of 2.3-2.4 (Zen 3), on the cold compile's critical path, and the machine code of the other
# entry points' wrappers is quicker too. A call from Python unboxes its
# arguments more slowly: run_chunk's 23 -> 27-33 us per chunk (about 20 chunks per block of
# 1,024 replications, each chunk milliseconds long), shot_end_time_s's 0.81 -> 0.87 us (the
# reference engine's calls; best of 5 x 20,000, Zen 3). Every other function keeps Numba's
# passes, and the wrappers the same semantics: outcomes bit-identical.
# The mangled names of Numba's CPython wrappers of this package's functions: other code in the
# process keeps Numba's passes.
CPYTHON_WRAPPER_PREFIX = CPYTHON_PREFIX + MANGLED_PACKAGE


def _wrapper_passes():
    """The function passes of a CPython wrapper: SROA, InstCombine, SimplifyCFG, aggressive DCE."""
    import llvmlite.binding as llvm
    passes = llvm.create_new_function_pass_manager()
    passes.add_sroa_pass()
    passes.add_instruction_combine_pass()
    passes.add_simplify_cfg_pass()
    passes.add_aggressive_dce_pass()
    return passes


def _optimize_wrappers_lightly(library, ll_module) -> bool:
    """Numba's function passes over each function of the module, but _wrapper_passes for its
    CPython wrappers; False (nothing done) when the module has no wrapper."""
    if not any(f.name.startswith(CPYTHON_WRAPPER_PREFIX) for f in ll_module.functions
               if not f.is_declaration):
        return False
    codegen = library._codegen
    for function in ll_module.functions:
        wrapper = function.name.startswith(CPYTHON_WRAPPER_PREFIX)
        if wrapper:
            passes, builder = _wrapper_passes(), codegen._pass_builder()
        else:
            passes, builder = codegen._function_pass_manager()
        with library._recorded_timings.record(f"Function passes on {function.name!r}", builder):
            passes.run(function, builder)
        if wrapper and not function.is_declaration:
            # no more passes, and machine code the quick way (LLVM's -O0 selector)
            function.add_function_attribute("noinline")
            function.add_function_attribute("optnone")
    return True


def _llvm_passes_available() -> bool:
    """True when this Numba and llvmlite have everything the two wrappers use: Numba's
    new-pass-manager codegen (`_pass_builder`, Numba >= 0.62) and llvmlite's passes (>= 0.45).
    Numba 0.60 and 0.61 (allowed by pyproject.toml) get Numba's own build, unchanged."""
    try:
        import llvmlite.binding as llvm
        from numba.core.codegen import CPUCodegen, CPUCodeLibrary
    except ImportError:          # pragma: no cover - numba always provides both
        return False
    needed = ((CPUCodegen, "_pass_builder"), (CPUCodeLibrary, "_optimize_final_module"),
              (CPUCodeLibrary, "_optimize_functions"),
              (llvm, "create_new_module_pass_manager"),
              (llvm, "create_new_function_pass_manager"),
              (getattr(llvm, "ModulePassManager", None), "add_dead_arg_elimination_pass"),
              (getattr(llvm, "ModulePassManager", None), "add_global_dead_code_eliminate_pass"),
              (getattr(llvm, "FunctionPassManager", None), "add_instruction_combine_pass"),
              (getattr(llvm, "FunctionPassManager", None), "add_sroa_pass"),
              (getattr(llvm, "FunctionPassManager", None), "add_simplify_cfg_pass"),
              (getattr(llvm, "FunctionPassManager", None), "add_aggressive_dce_pass"),
              (CPUCodegen, "_function_pass_manager"))
    return all(owner is not None and hasattr(owner, name) for owner, name in needed)


def _install_llvm_passes() -> None:
    """Wrap the two CPUCodeLibrary methods (once per process). Each wrapper falls back to
    Numba's own method if its extra step raises. For run_chunk the wrapper replaces Numba's
    final-module optimization; that step also prunes reference counts, which run_chunk's
    functions do not have (all `_nrt=False`). Numba's cache does not notice a change to this
    file: after editing it, `make clean-cache`."""
    from numba.core.codegen import CPUCodeLibrary
    if not _llvm_passes_available():
        return
    plain = CPUCodeLibrary._optimize_final_module
    if getattr(plain, "salvosim_run_chunk", False):
        return                   # already wrapped (a reload of this module)

    def optimize_final_module(self):
        if _is_run_chunk(self):
            try:
                _drop_dead_arguments(self)
                return
            except Exception:    # pragma: no cover - llvmlite changed: Numba's own build
                pass
        plain(self)

    optimize_final_module.salvosim_run_chunk = True
    CPUCodeLibrary._optimize_final_module = optimize_final_module

    plain_functions = CPUCodeLibrary._optimize_functions

    def optimize_functions(self, ll_module):
        try:
            ll_module.data_layout = self._codegen._data_layout
            _fold_aggregate_loads(self, ll_module)
            if _optimize_wrappers_lightly(self, ll_module):
                return
        except Exception:        # pragma: no cover - llvmlite changed: Numba's own passes only
            pass
        plain_functions(self, ll_module)

    optimize_functions.salvosim_fold = True
    CPUCodeLibrary._optimize_functions = optimize_functions


_install_llvm_passes()


# ------------------------------------------------------------------ Numba's IR inliner
# An `inline="always"` call makes Numba copy the callee's IR twice, one block at a time with a
# fresh deepcopy memo each (numba.core.inline_closurecall.InlineWorker.inline_ir, copy_ir):
# every block drags along its own copy of the function's whole variable scope, so the cost is
# blocks x variables (numba/numba#8989 and NVIDIA/numba-cuda#688 describe the same cost). Here
# the 83 inlined calls of a cold compile spent 3.0 s in inline_ir (one process, Zen 3); with one
# memo per scope, 0.7 s, and the two-process cold compile took a median 29.6 s instead of 33.3
# (7 interleaved runs each). The copies are the same IR (a deepcopy of the whole function IR
# also shares one memo): compiled code and outcomes are bit-identical. Wraps
# InlineWorker.inline_ir and replaces the `copy` module that numba.core.inline_closurecall
# sees (its one use: copy.deepcopy of each block), at the first compile of a process (a warm
# run never imports the inliner); left alone where either is missing.
class _OneMemoPerScope:
    """Stands in for the `copy` module inside numba.core.inline_closurecall while an inline_ir
    call runs: the blocks of one function IR (one scope object) share one deepcopy memo, as a
    deepcopy of the whole IR would, so the scope and its variables are copied once."""

    def __init__(self, copy_module, block_class):
        self._copy = copy_module
        self._block = block_class   # numba.core.ir.Block
        self.memos = None           # {id(scope): memo} during an inline_ir call, else None

    def deepcopy(self, x, memo=None):
        if memo is None and self.memos is not None and isinstance(x, self._block):
            memo = self.memos.setdefault(id(x.scope), {})
        return self._copy.deepcopy(x, memo)

    def __getattr__(self, name):
        return getattr(self._copy, name)


def _install_one_memo_inlining() -> None:
    """Wrap InlineWorker.inline_ir so that each call copies with one memo per scope (once per
    process). Numba's cache does not notice a change to this file: `make clean-cache`."""
    import copy
    try:
        from numba.core import inline_closurecall as icc
        from numba.core.ir import Block
        worker = icc.InlineWorker
        plain = worker.inline_ir
    except (ImportError, AttributeError):    # pragma: no cover - Numba changed: left alone
        return
    if getattr(plain, "salvosim_one_memo", False) or getattr(icc, "copy", None) is not copy:
        return
    shim = _OneMemoPerScope(copy, Block)
    icc.copy = shim

    def inline_ir(self, *args, **kwargs):
        outer, shim.memos = shim.memos, {}
        try:
            return plain(self, *args, **kwargs)
        finally:
            shim.memos = outer

    inline_ir.salvosim_one_memo = True
    worker.inline_ir = inline_ir


def _register_inliner_install() -> None:
    """Install the inliner's wrapper when Numba first compiles something in this process (a
    cache miss: Numba's numba:compile event), so a run that only loads compiled code from the
    cache never imports numba.core.inline_closurecall (about 60 ms of a warm start)."""
    try:
        from numba.core import event
    except ImportError:                                 # pragma: no cover - Numba changed
        _install_one_memo_inlining()
        return

    class InstallOnFirstCompile(event.Listener):
        def on_start(self, event):
            _install_one_memo_inlining()

        def on_end(self, event):
            pass

    event.register("numba:compile", InstallOnFirstCompile())


_register_inliner_install()


# ------------------------------------------------------------------ loading from the cache
# Before it loads a function from its cache, Numba "refreshes" the target context
# (numba.core.caching.Cache.load_overload): it imports and registers every typing and lowering
# module it has (numba.np.arrayobj, linalg, the typed containers, unicode, ...), and compiles
# the reference-counting runtime (NRT). Loading compiled code needs neither: the library is
# machine code whose external symbols are the C helpers and libm functions Numba registers at
# import, and the NRT's only where the code counts references. The refresh cost a warm run of
# the flagship 0.15 s of its 1.1-1.3 s (0.13-0.15 s of 0.28-0.30 s in the first run_chunk call,
# Zen 3). The wrapper loads this package's functions without it; a cache miss compiles as
# before (Numba's compiler refreshes the contexts itself), and a library that names any NRT
# symbol (none of this project's: all `_nrt=False`) gets the runtime first, as Numba's refresh
# would give it.
NRT_MARKS = (b"NRT_", b"nrt_", b"_nrt")      # every symbol the NRT registers or defines


def _names_nrt(data) -> bool:
    """Whether cached data (nested tuples holding the object code and bitcode) may refer to the
    NRT: True if any bytes in it contain an NRT name, or if it holds no bytes at all (a layout
    this function does not know)."""
    def blobs(x, level=0):
        if isinstance(x, (bytes, bytearray)):
            yield x
        elif isinstance(x, tuple) and level < 4:
            for item in x:
                yield from blobs(item, level + 1)
    found = list(blobs(data))
    return not found or any(mark in blob for blob in found for mark in NRT_MARKS)


# Only this package's functions (njit, plain CPU dispatchers) load this way: other kinds of
# cached code may need the registries right after loading (a cached @vectorize builds its
# ufunc loop with the lowering registries, and failed to load without the refresh).
LIGHT_LOAD_MODULES = ("salvosim.",)


def _loads_lightly(cache) -> bool:
    module = getattr(getattr(cache, "_py_func", None), "__module__", None) or ""
    return module.startswith(LIGHT_LOAD_MODULES)


def _install_light_cache_load() -> None:
    """Wrap Cache.load_overload (once per process) to load this package's functions without the
    context refresh; left alone where Numba's cache does not have the attributes it uses."""
    try:
        from numba.core.caching import Cache
        from numba.core.runtime import rtsys
    except ImportError:                                 # pragma: no cover - Numba changed
        return
    plain = Cache.load_overload
    if getattr(plain, "salvosim_light", False) or not all(
            hasattr(Cache, name) for name in ("_guard_against_spurious_io_errors", "_index_key")):
        return

    def load_overload(self, sig, target_context):
        if not _loads_lightly(self) or not all(
                hasattr(self, name) for name in ("_enabled", "_cache_file", "_impl")):
            return plain(self, sig, target_context)
        with self._guard_against_spurious_io_errors():
            if not self._enabled:
                return None
            data = self._cache_file.load(self._index_key(sig, target_context.codegen()))
            if data is None:
                return None
            if _names_nrt(data):
                rtsys.initialize(target_context)
            return self._impl.rebuild(target_context, data)
        return None               # an I/O error the guard swallowed: Numba compiles instead

    load_overload.salvosim_light = True
    Cache.load_overload = load_overload


_install_light_cache_load()


# ------------------------------------------------------------------ run_chunk's cached bitcode
# Numba caches a library as its object code plus the bitcode of its module, and parses that
# bitcode at every load: for the list of symbols the library defines, and for linking the
# library into another one. run_chunk is an entry point that no other library links, and its
# bitcode (about 0.7 MB: the whole kernel) took 41-63 ms to parse, a quarter of loading it in a
# warm run (Zen 3). For run_chunk the symbols are read from the object code's own symbol
# table (the same 169 names; 0.4 ms) and the bitcode is parsed only if something links it.
ELF_SYMTAB, ELF_FUNC, ELF_OBJECT = 2, 2, 1


def elf_symbols(object_code: bytes) -> list[tuple[str, int, int, int, int]] | None:
    """(name, type, section index, value, size) of every symbol of a 64-bit little-endian ELF
    object (section index 0: undefined), or None for any other format."""
    import struct
    if object_code[:4] != b"\x7fELF" or object_code[4:6] != b"\x02\x01":
        return None
    section_headers_at, = struct.unpack_from("<Q", object_code, 0x28)
    entry_size, count = struct.unpack_from("<HH", object_code, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", object_code, section_headers_at + i * entry_size)
                for i in range(count)]
    symbols = []
    for _, kind, _, _, offset, size, link, _, _, sym_size in sections:
        if kind != ELF_SYMTAB or sym_size == 0:
            continue
        strings_at = sections[link][4]
        for k in range(size // sym_size):
            name_at, info, _, section, value, sym_bytes = struct.unpack_from(
                "<IBBHQQ", object_code, offset + k * sym_size)
            start = strings_at + name_at
            name = object_code[start:object_code.index(b"\0", start)].decode()
            symbols.append((name, info & 0xF, section, value, sym_bytes))
    return symbols


def elf_defined_symbols(object_code: bytes) -> set[str] | None:
    """The names of the functions and data objects an ELF object defines (what Numba would
    read from the library's bitcode), or None for another format (elf_symbols)."""
    symbols = elf_symbols(object_code)
    if symbols is None:
        return None
    return {name for name, kind, section, _, _ in symbols
            if section != 0 and kind in (ELF_FUNC, ELF_OBJECT)}


def _install_lazy_entry_bitcode() -> None:
    """Wrap CPUCodeLibrary._unserialize and _get_module_for_linking (once per process) so that
    run_chunk's cached bitcode is parsed only when something links the library; left alone
    where Numba's code library lacks what the wrappers use."""
    import struct
    try:
        import llvmlite.binding as llvm
        from numba.core.codegen import CPUCodeLibrary
        plain_unserialize = CPUCodeLibrary.__dict__["_unserialize"].__func__
        plain_linking = CPUCodeLibrary._get_module_for_linking
    except (ImportError, KeyError, AttributeError):    # pragma: no cover - Numba changed
        return
    if getattr(plain_linking, "salvosim_lazy", False):
        return

    def unserialize(cls, codegen, state):
        try:
            name, kind, (object_code, shared_bitcode) = state
            symbols = (elf_defined_symbols(object_code)
                       if name == "run_chunk" and kind == "object" else None)
        except (TypeError, ValueError, IndexError, struct.error):   # another layout, or a
            symbols = None                                  # damaged object: Numba's own load
        if (not symbols or not _names_entry_point(symbols)
                or not isinstance(getattr(codegen._engine, "_defined_symbols", None), set)):
            return plain_unserialize(cls, codegen, state)
        library = codegen.create_library(name)
        library.enable_object_caching()
        library._set_compiled_object(object_code)
        library._salvosim_bitcode = shared_bitcode     # parsed by _get_module_for_linking
        library._finalize_final_module()
        library._codegen._engine._defined_symbols |= symbols
        return library

    def get_module_for_linking(self):
        bitcode = getattr(self, "_salvosim_bitcode", None)
        if bitcode is not None and self._shared_module is None:
            self._shared_module = llvm.parse_bitcode(bitcode)
        return plain_linking(self)

    get_module_for_linking.salvosim_lazy = True
    CPUCodeLibrary._unserialize = classmethod(unserialize)
    CPUCodeLibrary._get_module_for_linking = get_module_for_linking


_install_lazy_entry_bitcode()


# ---------------------------------------------------------------------------- no machine code
# Numba generates machine code for every function it compiles, with copies of all its callees
# linked into its module. Nothing ever runs that code for this package's functions without a
# CPython wrapper (INTERNAL): Python cannot call them, and every caller links their module
# (LLVM IR) into its own, whose machine code then includes them. Their library is finalized
# without machine code (its optimized module is kept for linking) and cached as bitcode; loaded
# from the cache, it is again only a module to link. Two things the JIT did for such a library
# are done otherwise (both found by a review):
# - its environment (Numba's per-function globals, read at run time by print() and object-mode
#   code) is set in the JIT when a library with machine code that includes the function is
#   finalized, and Numba's own write of it, where the JIT has none, is skipped;
# - a library with a recursive call left for Numba's runtime linker gets machine code as before.
NO_MACHINE_CODE_PREFIXES = ("_ZN" + MANGLED_PACKAGE,)   # this package's functions
ENV_PREFIX = "_ZN08NumbaEnv"                      # Numba's environment globals
_ENVS_WITHOUT_MACHINE_CODE: set[str] = set()      # of the libraries finalized without it


def _gets_no_machine_code(module) -> bool:
    """Whether a library's final module is one of this package's functions without a wrapper:
    its own functions (external linkage; what it linked in is linkonce_odr) include one of
    NO_MACHINE_CODE_PREFIXES and no CPython or C wrapper, and it leaves no call to Numba's
    runtime linker (recursion)."""
    import llvmlite.binding as llvm
    ours = False
    for function in module.functions:
        if function.is_declaration or function.linkage != llvm.Linkage.external:
            continue
        if function.name.startswith((CPYTHON_PREFIX, "cfunc.")):
            return False
        ours = ours or function.name.startswith(NO_MACHINE_CODE_PREFIXES)
    return ours and not any(g.name.startswith(".numba.unresolved$")
                            for g in module.global_variables)


def _install_no_machine_code_for_internal() -> None:
    try:
        from numba.core.codegen import CPUCodeLibrary, JITCodeLibrary, JITCPUCodegen
        from numba.core.environment import lookup_environment
        plain_finalize = CPUCodeLibrary._finalize_final_module
        plain_serialize = CPUCodeLibrary.serialize_using_object_code
        plain_set_env = JITCPUCodegen.set_env
        plain_specific = JITCodeLibrary._finalize_specific
    except (ImportError, AttributeError):           # pragma: no cover - Numba changed
        return
    if getattr(plain_finalize, "salvosim_no_machine_code", False):
        return

    def finalize_final_module(self):
        if isinstance(self, JITCodeLibrary) and _gets_no_machine_code(self._final_module):
            self._finalize_dynamic_globals()
            self._verify_declare_only_symbols()
            _ENVS_WITHOUT_MACHINE_CODE.update(
                g.name for g in self._final_module.global_variables
                if g.name.startswith(ENV_PREFIX))
            self._salvosim_no_machine_code = True
            self._finalized = True
            return
        plain_finalize(self)

    def finalize_specific(self):
        plain_specific(self)
        if not _ENVS_WITHOUT_MACHINE_CODE:
            return              # (no library finalized without machine code in this process)
        for g in self._final_module.global_variables:
            if g.name in _ENVS_WITHOUT_MACHINE_CODE:
                env = lookup_environment(g.name)
                if env is not None:
                    self._codegen.set_env(g.name, env)

    def serialize_using_object_code(self):
        if getattr(self, "_salvosim_no_machine_code", False):
            return (self.name, "bitcode", self._final_module.as_bitcode())
        return plain_serialize(self)

    def set_env(self, env_name, env):
        if self._engine.get_global_value_address(env_name) == 0:
            return          # a library without machine code: no environment in the JIT
        plain_set_env(self, env_name, env)

    finalize_final_module.salvosim_no_machine_code = True
    CPUCodeLibrary._finalize_final_module = finalize_final_module
    JITCodeLibrary._finalize_specific = finalize_specific
    CPUCodeLibrary.serialize_using_object_code = serialize_using_object_code
    JITCPUCodegen.set_env = set_env


_install_no_machine_code_for_internal()


# ---------------------------------------------------------------------------- cache directories
# Numba checks that a function's cache directory is writable when the function is decorated, by
# creating a temporary file in it: 131 files, 11 ms of every salvosim start (Zen 3), for a few
# directories. A directory found writable once in this process is taken as writable again
# while it exists (a removed one is checked, and made, again).
_WRITABLE_CACHE_DIRS: set[str] = set()


def _install_cache_dir_memo() -> None:
    import os

    from numba.core.caching import _CacheLocator
    plain = _CacheLocator.ensure_cache_path
    if getattr(plain, "salvosim_memo", False):
        return

    def ensure_cache_path(self):
        path = self.get_cache_path()
        if path in _WRITABLE_CACHE_DIRS and os.path.isdir(path):
            return
        plain(self)
        _WRITABLE_CACHE_DIRS.add(path)

    ensure_cache_path.salvosim_memo = True
    _CacheLocator.ensure_cache_path = ensure_cache_path


_install_cache_dir_memo()


# ---------------------------------------------------------------------------- typeof of arrays
# Numba types each argument of a call from Python that has no compiled match yet (run_chunk's
# first call: some 350 arrays). Its handler for arrays first asks whether the array is a
# numpy.ma.MaskedArray, and that first mention of np.ma imports numpy.ma: 40-57 ms of a
# one-second warm run (Zen 3), for nothing but that question. A plain ndarray (its type exactly
# np.ndarray) cannot be one: it is typed here as Numba's handler types it, without the
# question. Any other array (a subclass, a masked array) goes to Numba's handler.
def _install_plain_array_typeof() -> None:
    import numpy as np
    from numba.core import errors, types
    from numba.core.typing import typeof as numba_typeof
    from numba.np import numpy_support
    numba_handler = numba_typeof.typeof_impl.dispatch(np.ndarray)
    if numba_handler is not getattr(numba_typeof, "_typeof_ndarray", None):
        return          # installed already, or not Numba's own handler: left alone

    def typeof_array(val, c):
        if type(val) is not np.ndarray:
            return numba_handler(val, c)
        try:
            dtype = numpy_support.from_dtype(val.dtype)
        except errors.NumbaError:
            return numba_handler(val, c)          # an unsupported dtype: Numba's own error
        return types.Array(dtype, val.ndim, numpy_support.map_layout(val),
                           readonly=not val.flags.writeable)

    typeof_array.salvosim_plain = True
    typeof_array.numba_handler = numba_handler
    numba_typeof.typeof_impl.register(np.ndarray)(typeof_array)


_install_plain_array_typeof()
