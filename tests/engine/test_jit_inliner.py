"""engine/jit.py: Numba's IR inliner copies a callee's blocks with one deepcopy memo per
function scope (the scope and its variables copied once, not once per block), and the inlined
code still computes what the Python functions compute."""
import math
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from numba.core import inline_closurecall, ir
from numba.core.compiler import run_frontend

from salvosim.engine import jit


def branchy(x, n):
    """Several blocks and variables, a loop and early returns: what the inliner copies."""
    if n <= 0:
        return -x
    total = 0.0
    for k in range(n):
        if k % 3 == 0:
            total += x * k
        elif k % 3 == 1:
            total -= math.sqrt(abs(x) + k)
        else:
            total += 1.0 / (k + x * x + 1.0)
    if total > 10.0:
        return total - 10.0
    return total


def twice(x, n):
    """Two call sites of the same callee, and a second level of inlining through `outer`."""
    return branchy(x, n) + 2.0 * branchy(-x, n + 1)


def outer(x, n):
    return twice(x, n) - branchy(x + 1.0, n)


def installed() -> bool:
    """Whether the wrapper is in place after a compile (it is installed on the first one)."""
    njit(lambda x: x + 1)(1)                           # a fresh dispatcher: a real compile
    return getattr(inline_closurecall.InlineWorker.inline_ir, "salvosim_one_memo", False)


def test_inlined_code_equals_the_python_functions():
    inner = njit(inline="always")(branchy)
    mid = njit(inline="always")(
        lambda x, n: inner(x, n) + 2.0 * inner(-x, n + 1))
    top = njit(lambda x, n: mid(x, n) - inner(x + 1.0, n))
    rng = np.random.default_rng(7)
    for x, n in zip(rng.normal(0, 5, 60), rng.integers(-2, 40, 60)):
        assert top(x, n) == pytest.approx(outer(float(x), int(n)), rel=1e-12, abs=1e-12)


def test_one_inline_call_copies_each_scope_once_and_independently():
    if not installed():
        pytest.skip("this Numba's inliner is left alone")
    shim = inline_closurecall.copy
    source = run_frontend(branchy)
    assert len(source.blocks) > 3
    outer_memos, shim.memos = shim.memos, {}       # as during one inline_ir call
    try:
        first = {label: shim.deepcopy(b) for label, b in source.blocks.items()}
        second = {label: shim.deepcopy(b) for label, b in first.items()}
    finally:
        shim.memos = outer_memos
    for copies, original_scope in ((first, source.blocks[0].scope),
                                   (second, first[0].scope)):
        scopes = {id(b.scope) for b in copies.values()}
        assert len(scopes) == 1                        # one scope copy for all the blocks
        assert next(iter(copies.values())).scope is not original_scope
    assert first[0].scope is not second[0].scope       # the second copy is a copy of the first
    # Independent of the source: a variable defined in the copy is not in the source scope.
    n_vars = len(source.blocks[0].scope.localvars._con)
    first[0].scope.redefine("only_in_the_copy", loc=source.loc)
    assert len(source.blocks[0].scope.localvars._con) == n_vars
    for label, block in source.blocks.items():
        for copied, original in zip(first[label].body, block.body):
            assert copied is not original and str(copied) == str(original)
    # Outside an inline_ir call the shim is plain copy.deepcopy (a fresh memo per call).
    a, b = shim.deepcopy(source.blocks[0]), shim.deepcopy(source.blocks[0])
    assert a.scope is not b.scope
    assert isinstance(a, ir.Block)


def test_the_inliner_wrapper_is_installed_once():
    if not installed():
        pytest.skip("this Numba's inliner is left alone")
    wrapped = inline_closurecall.InlineWorker.inline_ir
    jit._install_one_memo_inlining()                   # a second install changes nothing
    assert inline_closurecall.InlineWorker.inline_ir is wrapped
    assert isinstance(inline_closurecall.copy, jit._OneMemoPerScope)


def test_a_start_that_compiles_nothing_leaves_the_inliner_unimported():
    code = ("import sys, salvosim.engine.cli; "
            "print('numba.core.inline_closurecall' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "False"
