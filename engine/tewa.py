"""Pure rules of threat evaluation and weapon assignment shared by both engines (MODEL.md §5-6).

Each engine runs its own event machinery; what a unit prefers and how long a shot holds a
channel are written once, here.
"""
import math

from numba import njit

from .constants import (HOLD_LAUNCH, KIND_GUN, KIND_MISSILE, PRIORITY_NEAREST,
                        PRIORITY_TIME_TO_IMPACT, WHY_BUSY, WHY_CLASS, WHY_DEFENDED_AREA,
                        WHY_ENGAGED, WHY_ENVELOPE, WHY_LATE, WHY_MAGAZINE, WHY_NO_SHOT,
                        WHY_NOT_TRACKED)
from .intercept import first_useful_shot_s


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


@njit(cache=True, error_model="numpy")
def unit_not_engaged_reason(sc, inst, u, j, out_of_ammo_t_s):
    """Why unit u never engaged threat j (WHY_* codes, larger = got closer to a shot).

    Static reasons come from the replication's geometry (class, track, defended-area rule,
    envelope, a shot that can arrive in the window, track + reaction time); a threat that u
    could have shot at t_first but did not was lost to saturation: the unit's ammunition was
    gone by then (out_of_ammo_t <= t_first), or else its channels were busy with others."""
    if not sc.un_engages[u, sc.th_class[j]]:
        return WHY_CLASS
    t_known = inst.known_t[u, j]
    if t_known >= inst.t_end[j]:
        return WHY_NOT_TRACKED
    if sc.un_defended_only[u] and not inst.in_defended[j]:
        return WHY_DEFENDED_AREA
    a, b = inst.win_a[u, j], inst.win_b[u, j]
    if math.isnan(a):
        return WHY_ENVELOPE
    for k in range(2):
        t_from = inst.t_launch[j] if k == 0 else t_known + sc.un_reaction_s[u]
        t_first = first_useful_shot_s(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.bulge,
                                      inst.n_pts, j, t_from, a, b, sc.un_e[u], sc.un_n[u],
                                      sc.un_unlimited[u], sc.un_launch_delay_s[u],
                                      sc.un_speed_mps[u], sc.un_dwell_s[u], sc.un_dwell_ref_m[u])
        if t_first == math.inf:
            return WHY_NO_SHOT if k == 0 else WHY_LATE
    if t_first >= out_of_ammo_t_s:
        return WHY_MAGAZINE
    return WHY_BUSY


@njit(cache=True, error_model="numpy")
def not_engaged_reasons(sc, inst, engagements_of_threat, out_of_ammo_t_s, why):
    """why[j]: WHY_ENGAGED for every threat engaged at least once, else the reason of the unit
    that came closest to engaging it."""
    for j in range(len(why)):
        why[j] = WHY_ENGAGED
        if engagements_of_threat[j] > 0:
            continue
        reason = WHY_CLASS
        for u in range(len(sc.un_e)):
            reason = max(reason, unit_not_engaged_reason(sc, inst, u, j, out_of_ammo_t_s[u]))
        why[j] = reason
