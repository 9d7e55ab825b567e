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
"""
JIT = dict(cache=True, error_model="numpy", _nrt=False, no_cfunc_wrapper=True)
INTERNAL = dict(JIT, no_cpython_wrapper=True)
