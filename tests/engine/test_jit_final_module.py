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
