"""engine/jit.py types a plain ndarray itself, as Numba's own handler does but without asking
whether it is a numpy.ma.MaskedArray (that question imported numpy.ma: 40-57 ms of a warm run).
The types must be Numba's for every kind of array, and anything else must still go to Numba."""
import subprocess
import sys

import numpy as np
import pytest
from numba.core import errors
from numba.core.typing.typeof import Purpose, _TypeofContext, typeof_impl

from salvosim.engine import jit  # noqa: F401  (installs the handler)
from tests import REPO_ROOT
from tests.conftest import TINY

HANDLER = typeof_impl.dispatch(np.ndarray)
CONTEXT = _TypeofContext(Purpose.argument)
RECORD = np.dtype([("a", np.float64), ("b", np.int32)])


def arrays():
    rng = np.random.default_rng(3)
    base = rng.random((4, 6))
    readonly = base.copy()
    readonly.flags.writeable = False
    yield from (base, np.asfortranarray(base), base[:, ::2], base[::2], base.T, base[1],
                base[:, 1], readonly, readonly[::2], np.array(2.5), np.zeros((0, 3)),
                np.zeros((2, 3, 4)), np.zeros((3, 1)), np.zeros((1, 3), order="F"))
    for dtype in (np.float32, np.int8, np.int32, np.int64, np.uint64, np.bool_, np.complex128,
                  "M8[s]", "m8[ms]", RECORD, ">f8", object, "U3"):      # (the last three:
        yield np.zeros((3, 2), dtype=dtype)                       # Numba's own answers)


def outcome(handler, value):
    """The type, or the error, a handler gives."""
    try:
        return handler(value, CONTEXT)
    except Exception as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("k", range(len(list(arrays()))))
def test_plain_arrays_get_numbas_types(k):
    value = list(arrays())[k]
    assert HANDLER.salvosim_plain
    assert outcome(HANDLER, value) == outcome(HANDLER.numba_handler, value), value


def test_other_arrays_go_to_numba():
    with pytest.raises(errors.NumbaTypeError, match="MaskedArray"):
        HANDLER(np.ma.masked_array([1.0, 2.0], mask=[False, True]), CONTEXT)
    with pytest.raises(errors.NumbaValueError, match="Unsupported array dtype"):
        HANDLER(np.zeros(2, ">f8"), CONTEXT)

    class Sub(np.ndarray):
        pass
    sub = np.zeros(3).view(Sub)
    assert HANDLER(sub, CONTEXT) == HANDLER.numba_handler(sub, CONTEXT)


def test_a_warm_run_does_not_import_numpy_ma(warm_jit):
    code = ("import sys\n"
            "from salvosim.engine.compile import compile_scenario\n"
            "from salvosim.engine.montecarlo import run_block_numba\n"
            "from salvosim.engine.variants import load_scenario\n"
            f"sc, _ = compile_scenario(load_scenario({str(REPO_ROOT / TINY)!r}))\n"
            "block = run_block_numba(sc, 1, 0, 2, 1)\n"
            "print(int((block.fate > 0).all()), int('numpy.ma' in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "0"]
