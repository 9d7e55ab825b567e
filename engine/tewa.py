"""Pure rules of threat evaluation and weapon assignment shared by both engines (MODEL.md §5-6).

Each engine runs its own event machinery; what a unit prefers and how long a shot holds a
channel are written once, here.
"""
from numba import njit

from .constants import (HOLD_LAUNCH, KIND_GUN, KIND_MISSILE, PRIORITY_NEAREST,
                        PRIORITY_TIME_TO_IMPACT)


@njit(cache=True, error_model="numpy")
def priority_score(priority, t_impact_s, target_value, now, slant_m):
    """Lower is more urgent (MODEL.md §6)."""
    if priority == PRIORITY_TIME_TO_IMPACT:
        return t_impact_s
    if priority == PRIORITY_NEAREST:
        return slant_m
    return -target_value / max(t_impact_s - now, 1e-3)


@njit(cache=True, error_model="numpy")
def channel_free_time_s(kind, hold, n_shots, now, t_intercept, cycle_s, burst_s, is_laser):
    """When the channel is free again, before retargeting (MODEL.md §5)."""
    if hold == HOLD_LAUNCH and not is_laser and kind == KIND_MISSILE:
        return now + n_shots * cycle_s       # fire and forget
    if kind == KIND_GUN:
        return now + n_shots * burst_s       # gun bursts
    return t_intercept                       # guided to intercept, laser dwell
