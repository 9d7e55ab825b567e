"""Event keys shared by both engines (MODEL.md §8), with their bounds checked.

Events at equal times are ordered by (kind, index, sub) lexicographically. Both engines order
them by one integer that packs the three fields so that integer order is that order:
`event_key` (the Numba heap compares (time, key)) and `event_priority` (SimPy).
The sub-index of an EV_FREE event packs its sub-kind and a
threat: `free_sub(sub_kind, j)`. A shot's random key packs the threat's engagement number and
the interceptor: `shot_key(e, m)`. `check_key_bounds` refuses a scenario whose sizes would
overflow any of these fields (the scenario limits are far below them).
"""
from numba import njit

from salvosim.engine.jit import JIT

FREE_SUB_SHIFT = 19                      # EV_FREE sub = sub_kind << 19 | threat (sub_kind < 8)
MAX_KEYED_THREATS = 1 << FREE_SUB_SHIFT  # threats a sub-index can name
FREE_THREAT_MASK = MAX_KEYED_THREATS - 1
INDEX_SHIFT = 22                         # key = kind << 44 | index << 22 | sub, sub < 2^22
KIND_SHIFT = 44
SUB_MASK = (1 << INDEX_SHIFT) - 1
MAX_INDEX = 1 << (KIND_SHIFT - INDEX_SHIFT)   # units, threats or units + 1 an index names
SHOT_KEY_STRIDE = 64                     # interceptors per engagement a shot key can name


@njit(**JIT)
def free_sub(sub_kind, threat):
    """Sub-index of an EV_FREE event: which kind of free, and (assessments, assignments,
    lapses) which threat."""
    return (sub_kind << FREE_SUB_SHIFT) | threat


@njit(**JIT)
def free_kind(sub):
    return sub >> FREE_SUB_SHIFT


@njit(**JIT)
def free_threat(sub):
    return sub & FREE_THREAT_MASK


@njit(**JIT)
def event_key(kind, index, sub):
    """(kind, index, sub) packed into one int64 whose order is their lexicographic order."""
    return (kind << KIND_SHIFT) | (index << INDEX_SHIFT) | sub


@njit(**JIT)
def event_fields(key):
    """event_key's inverse: (kind, index, sub)."""
    return key >> KIND_SHIFT, (key >> INDEX_SHIFT) & (MAX_INDEX - 1), key & SUB_MASK


@njit(**JIT)
def shot_key(engagement, interceptor):
    """Random-number key of interceptor m of engagement e of a threat (MODEL.md §9)."""
    return engagement * SHOT_KEY_STRIDE + interceptor


def event_priority(kind: int, index: int, sub: int = 0) -> int:
    """(kind, index, sub) packed into one integer that sorts lexicographically (SimPy engine).

    SimPy's own URGENT/NORMAL priorities (0, 1) sort before all of these."""
    return 2 + ((kind << KIND_SHIFT) | (index << INDEX_SHIFT) | sub)


def check_key_bounds(n_threats: int, n_units: int, max_shots_per_engagement: int) -> None:
    """Raise ValueError if the scenario's sizes do not fit the event and shot keys."""
    if n_threats >= MAX_KEYED_THREATS or n_threats >= MAX_INDEX:
        raise ValueError(f"{n_threats} threats: event keys hold at most {MAX_KEYED_THREATS - 1}")
    if n_units + 1 >= MAX_INDEX:
        raise ValueError(f"{n_units} fire units: event keys hold at most {MAX_INDEX - 2}")
    if max_shots_per_engagement >= SHOT_KEY_STRIDE:
        raise ValueError(f"{max_shots_per_engagement} shots per engagement: shot keys hold at "
                         f"most {SHOT_KEY_STRIDE - 1}")
