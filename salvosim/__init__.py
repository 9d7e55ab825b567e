"""salvosim: an open, fast and verifiable base air-defense engagement simulator.

The Python API in five calls (the CLI, ``salvosim run|compare|sweep ...``, does the same)::

    import salvosim
    scn = salvosim.load("scenarios/al_asad_drone_raid.toml")     # validated scenario
    res = salvosim.run(scn, reps=1000)                             # Monte Carlo, numba engine
    res.leakers()["mean"], res.to_dict()["by_unit"]                # figures, plain dicts
    cmp = salvosim.compare("scenarios/al_asad_mixes.toml", reps=200)   # [[variants]], paired
    sw = salvosim.sweep("scenarios/al_asad_mixes.toml", "raids.0.count=10:50:10", reps=100)

Packages (one per domain, see ARCHITECTURE.md): ``salvosim.threats`` (catalog, trajectories),
``salvosim.defenses`` (catalogs, sensors, envelopes, intercepts, fire doctrine and targeting),
``salvosim.bases`` (bases, geodesy, polygons), ``salvosim.engine`` (scenario loading and
compilation, the two engines, Monte Carlo, results) and ``salvosim.engine.views`` (analysis,
maps, plots, report).
"""
from __future__ import annotations

import os as _os

_here = _os.path.dirname(_os.path.abspath(__file__))
if not _os.path.isdir(_os.path.join(_here, "engine")):
    # A source checkout: the domain packages are the repository's top-level folders (an
    # installed wheel maps them under salvosim/, see pyproject.toml).
    __path__.append(_os.path.dirname(_here))  # type: ignore[name-defined]  # noqa: F821

# No cyclic garbage collection while the package and its dependencies are imported: they only
# create objects that stay (modules, functions, Numba's types), and the 130-odd collections
# those imports set off took 55 ms of a one-second warm run (Zen 3). Restored after.
#
# The objects the imports created are then moved to the oldest generation, as if they had
# survived two collections, by gc.freeze() and gc.unfreeze() (which collect nothing). Left in
# the youngest one, the first collection after the import scanned all of them, and the younger
# collections of the run that followed scanned them again: 50-80 ms of a warm run (Zen 3).
# They stay collectable in full collections. The caller's young objects would be moved with
# them, garbage included (a notebook importing salvosim late), so the two young generations
# are collected first: the caller's young garbage goes, its live young objects (a few
# thousand at most) are moved. Skipped if the caller keeps objects frozen.
import gc as _gc  # noqa: E402
import sys as _sys  # noqa: E402


def _skip_yaml() -> None:
    """Import Numba without PyYAML, which its config module imports only to read a
    `.numba_config.yaml` in the working directory: 15-22 ms of a one-second warm run (Zen 3).
    Done only where there is no such file and nothing has imported yaml yet; `import yaml`
    works as before afterwards (the blocking entry is removed)."""
    if "numba" in _sys.modules or "yaml" in _sys.modules or _os.path.exists(".numba_config.yaml"):
        return
    _sys.modules["yaml"] = None     # `import yaml` raises ImportError: Numba does without
    try:
        import numba  # noqa: F401
    finally:
        del _sys.modules["yaml"]

_collecting = _gc.isenabled()
_moving = _gc.get_freeze_count() == 0
if _moving and _collecting:
    _gc.collect(1)
_gc.disable()
try:
    _skip_yaml()
    from salvosim.engine.api import Comparison, Sweep, compare, load, run, sweep  # noqa: E402
    from salvosim.engine.results import Results, salvosim_version  # noqa: E402
finally:
    if _moving:
        _gc.freeze()
        _gc.unfreeze()
    if _collecting:
        _gc.enable()

__all__ = ["load", "run", "compare", "sweep", "Results", "Comparison", "Sweep", "__version__"]


def __getattr__(name: str):
    """``salvosim.__version__``, looked up when asked for (engine.results.salvosim_version)."""
    if name == "__version__":
        return salvosim_version()
    raise AttributeError(f"module 'salvosim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"__version__"})
