"""engine/jit.py: run_chunk's final module keeps run_chunk's signature and drops the arguments
its internal callees never read (and nothing else)."""
import llvmlite.binding as llvm
import pytest
from numba.core.codegen import CPUCodeLibrary

from salvosim.engine import jit
from salvosim.engine.kernel import run_chunk

pytestmark = pytest.mark.skipif(not jit._llvm_passes_available(),
                                reason="Numba < 0.62 / llvmlite < 0.45: Numba's own build")

ENTRY = "_ZN8salvosim6engine6kernel9run_chunkB2v1E"
HELPER = "_ZN8salvosim6engine6kernel13select_targetE"
IR = f"""
define linkonce_odr double @{HELPER}(double %used, double %unused, i64 %also_unused) {{
  %r = fmul double %used, 2.0
  ret double %r
}}
define linkonce_odr double @unreached(double %x) {{
  ret double %x
}}
define double @{ENTRY}(double %a, double %b, i64 %never_read) {{
  %c = fadd double %a, %b
  %r = call double @{HELPER}(double %c, double %b, i64 7)
  ret double %r
}}
"""


class Library:
    """What _drop_dead_arguments reads of a Numba CPUCodeLibrary."""
    def __init__(self, name, module, codegen):
        self.name, self._final_module, self._codegen = name, module, codegen


def signatures(module):
    return {f.name: (f.linkage, len(list(f.arguments)))
            for f in module.functions if not f.is_declaration}


def test_dead_arguments_go_and_the_entry_point_keeps_its_signature():
    codegen = run_chunk.targetctx.codegen()
    lib = Library("run_chunk", llvm.parse_assembly(IR), codegen)
    assert jit._is_run_chunk(lib)
    jit._drop_dead_arguments(lib)
    lib._final_module.verify()
    sig = signatures(lib._final_module)
    assert sig[ENTRY] == (llvm.Linkage.external, 3)          # called from Python: unchanged
    assert HELPER not in sig                              # renamed: no other module calls it
    assert sig[HELPER + jit.INTERNAL_SUFFIX] == (llvm.Linkage.internal, 1)   # only %used is read
    assert "unreached" not in sig                         # nothing calls it: removed


def test_other_libraries_keep_numbas_own_build():
    codegen = run_chunk.targetctx.codegen()
    other = Library("select_target", llvm.parse_assembly(IR), codegen)
    assert not jit._is_run_chunk(other)                   # named otherwise
    assert not jit._is_run_chunk(Library("run_chunk", llvm.parse_assembly(
        f"define double @{HELPER}(double %x) {{\n ret double %x\n}}"), codegen))
    assert getattr(CPUCodeLibrary._optimize_final_module, "salvosim_run_chunk", False)


AGGREGATE_IR = """
define double @reads_one_field({ double, double, double } %t, i1 %c) {
entry:
  %slot = alloca { double, double, double }
  store { double, double, double } %t, ptr %slot
  br i1 %c, label %a, label %b
a:
  %whole = load { double, double, double }, ptr %slot
  %x = extractvalue { double, double, double } %whole, 1
  ret double %x
b:
  %again = load { double, double, double }, ptr %slot
  %y = extractvalue { double, double, double } %again, 2
  ret double %y
}
"""


def test_instcombine_turns_whole_tuple_loads_into_field_loads():
    codegen = run_chunk.targetctx.codegen()
    module = llvm.parse_assembly(AGGREGATE_IR)
    module.data_layout = codegen._data_layout
    jit._fold_aggregate_loads(Library("any", module, codegen), module)
    module.verify()
    text = str(module)
    assert "load { double, double, double }" not in text          # no whole-tuple load left
    assert text.count("load double") == 2                         # one field each
    assert getattr(CPUCodeLibrary._optimize_functions, "salvosim_fold", False)


# A loop that Numba's -O3 function passes fold to a constant (loop passes, SCCP); the CPython
# wrappers' passes (SROA, InstCombine, SimplifyCFG, ADCE) have no loop pass and keep it.
LOOP = """
define i64 @{name}() {{
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %sum = phi i64 [ 0, %entry ], [ %add, %loop ]
  %add = add i64 %sum, %i
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, 10
  br i1 %done, label %exit, label %loop
exit:
  ret i64 %add
}}
"""


class TimedLibrary(Library):
    """What _optimize_wrappers_lightly reads: the codegen and the timing recorder."""
    def __init__(self, module, codegen):
        super().__init__("any", module, codegen)
        from numba.misc.llvm_pass_timings import PassTimingsCollection
        self._recorded_timings = PassTimingsCollection("test")


def test_cpython_wrappers_get_light_passes_and_optnone_and_other_functions_numbas():
    codegen = run_chunk.targetctx.codegen()
    wrapper = jit.CPYTHON_WRAPPER_PREFIX + "4demo"
    module = llvm.parse_assembly(LOOP.format(name=wrapper) + LOOP.format(name="kernel_body"))
    assert jit._optimize_wrappers_lightly(TimedLibrary(module, codegen), module)
    module.verify()
    body = str(module.get_function("kernel_body"))
    assert "ret i64 45" in body and "phi" not in body       # Numba's -O3: folded
    assert "phi" in str(module.get_function(wrapper))       # the wrapper's passes: loop kept

    def attributes(name):
        return {word for a in module.get_function(name).attributes for word in bytes(a).split()}
    # the wrapper: no later pass, quick machine code; the body: neither
    assert {b"optnone", b"noinline"} <= attributes(wrapper)
    assert not {b"optnone", b"noinline"} & attributes("kernel_body")


def test_a_module_without_a_wrapper_is_left_to_numba():
    codegen = run_chunk.targetctx.codegen()
    module = llvm.parse_assembly(LOOP.format(name="kernel_body"))
    assert not jit._optimize_wrappers_lightly(TimedLibrary(module, codegen), module)
    assert "phi" in str(module.get_function("kernel_body"))     # untouched here


def test_functions_called_through_their_cpython_wrapper_still_unbox_and_box():
    """A wrapper with the light passes and optnone (the function is given a module name in
    this package, so its wrapper's mangled name is one of this package's): a named tuple of
    arrays, scalars, a returned tuple."""
    from collections import namedtuple

    import numpy as np
    from numba import njit
    Pair = namedtuple("Pair", "a b")

    def combine(pair, scale, k):
        return pair.a[k] * scale + pair.b.sum(), pair.b.shape[0] - k

    combine.__module__ = "salvosim.probe"
    combine = njit(**dict(jit.JIT, cache=False))(combine)
    rng = np.random.default_rng(5)
    for _ in range(20):
        a, b = rng.normal(size=7), rng.normal(size=int(rng.integers(1, 9)))
        k, scale = int(rng.integers(0, 7)), float(rng.normal())
        x, n = combine(Pair(a, b), scale, k)
        assert x == pytest.approx(a[k] * scale + b.sum(), rel=1e-12) and n == len(b) - k
    wrapper_ir = next(ir for ir in combine.inspect_llvm().values())
    assert "optnone" in wrapper_ir          # the path taken: this package's wrapper


def test_this_packages_wrappers_get_optnone_through_numba():
    """Through Numba's own compile (not made-up IR): a function of this package gets a wrapper
    marked optnone, and its body is not."""
    from numba import njit

    from salvosim.engine import rng
    key_uniform = njit(**dict(jit.JIT, cache=False))(rng.key_uniform.py_func)
    key_uniform(1, 2, 3, 4, 5)
    module = llvm.parse_assembly(next(iter(key_uniform.inspect_llvm().values())))
    marked = {f.name: b"optnone" in b" ".join(bytes(a) for a in f.attributes)
              for f in module.functions if not f.is_declaration}
    wrappers = [name for name in marked if name.startswith(jit.CPYTHON_WRAPPER_PREFIX)]
    assert wrappers and all(marked[name] for name in wrappers)
    assert not any(marked[name] for name in marked if name not in wrappers)
