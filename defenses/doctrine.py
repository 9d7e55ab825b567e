"""Rules of threat evaluation, fire doctrine and weapon assignment shared by both engines
(MODEL.md §5-6 v2).

Each engine runs its own event machinery; what a unit prefers, how long a shot holds a
channel, what hold_for allows, which unit the central C2 assigns a threat to, and why a threat
was never engaged are written once, here.
"""
import math

from numba import njit

from salvosim.bases.areas import within_reach
from salvosim.defenses.envelope import engagement_window
from salvosim.defenses.intercept import first_useful_shot_s, search_start_s, slant_range_m
from salvosim.engine.constants import (
    HOLD_LAUNCH,
    KIND_GUN,
    KIND_MISSILE,
    NO_UNIT,
    PRIORITY_NEAREST,
    PRIORITY_TIME_TO_IMPACT,
    S_SHOT,
    WHY_BUSY,
    WHY_CLASS,
    WHY_DECOY,
    WHY_DEFENDED_AREA,
    WHY_DOCTRINE,
    WHY_ENGAGED,
    WHY_ENVELOPE,
    WHY_HOLD,
    WHY_LATE,
    WHY_MAGAZINE,
    WHY_NO_SHOT,
    WHY_NOT_ASSIGNED,
    WHY_NOT_TRACKED,
    WHY_RELOADING,
)
from salvosim.engine.events import shot_key
from salvosim.engine.jit import INTERNAL, JIT
from salvosim.engine.rng import key_uniform


@njit(**JIT)
def priority_score(priority, t_impact_s, target_value, now, slant_m):
    """Lower is more urgent (MODEL.md §6)."""
    if priority == PRIORITY_TIME_TO_IMPACT:
        return t_impact_s
    if priority == PRIORITY_NEAREST:
        return slant_m
    return -target_value / max(t_impact_s - now, 1e-3)


@njit(**JIT)
def target_score(priority, pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now, unit_e, unit_n,
                 t_impact_s, target_value):
    """priority_score of threat j for the unit at (unit_e, unit_n) firing now (the slant range
    is computed only for the `nearest` priority)."""
    slant = 0.0
    if priority == PRIORITY_NEAREST:
        slant = slant_range_m(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now, unit_e, unit_n)
    return priority_score(priority, t_impact_s, target_value, now, slant)


@njit(**JIT)
def channel_free_time_s(kind, hold, n_shots, now, t_intercept, cycle_s, burst_s, is_laser):
    """When the channel is free again, before retargeting (MODEL.md §5)."""
    if hold == HOLD_LAUNCH and not is_laser and kind == KIND_MISSILE:
        return now + n_shots * cycle_s       # fire and forget
    if kind == KIND_GUN:
        return now + n_shots * burst_s       # gun bursts
    return t_intercept                       # guided to intercept, laser dwell


# ---------------------------------------------------------------------------- engagements
@njit(**JIT)
def shots_to_fire(unlimited, shots_for_class, magazine, rounds_per_shot):
    """Shots of one engagement (MODEL.md §6): shots_per_engagement for the class, or what the
    magazine still holds."""
    if unlimited:
        return shots_for_class
    return min(shots_for_class, magazine // rounds_per_shot)


@njit(**JIT)
def record_fire(u, j, n, rounds_per_shot, unlimited, target_column, magazine, engagement_count,
                engagements_of, engaged_by, under_engagement, shots, rounds, engagements,
                shots_by_class):
    """The bookkeeping of one engagement of threat j by unit u with n shots, the same in both
    engines: the magazine, the threat's engagement number (returned) and every counter."""
    if not unlimited:
        magazine[u] -= n * rounds_per_shot
    e = engagement_count[j]
    engagement_count[j] += 1
    engagements_of[u, j] += 1
    engaged_by[u, j] = True
    under_engagement[j] += 1
    shots[u] += n
    shots_by_class[u, target_column] += n
    rounds[u] += n * rounds_per_shot
    engagements[u] += 1
    return e


@njit(**JIT)
def salvo_kills(seed, rep, j, e, n_shots, pk):
    """Engagement e of threat j: each of its n interceptors kills independently with Pk (keyed
    draw, stream S_SHOT, key shot_key(e, m)); the threat dies if any does."""
    for m in range(n_shots):
        if key_uniform(seed, rep, S_SHOT, j, shot_key(e, m)) < pk:
            return True
    return False


@njit(**JIT)
def reload_take(magazine_full, magazine, reserve):
    """A reload tops the magazine up from the reserve: what it takes."""
    return min(magazine_full - magazine, reserve)


# ---------------------------------------------------------------------------- fire doctrine
@njit(**JIT, inline="always")
def unit_window(sc, inst, u, j, t_usable_s):
    """Unit u's engagement window against threat j (envelope.engagement_window with u's
    envelope): the first interval ending after t_usable_s, else the first (-inf: the first)."""
    return engagement_window(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts,
                             j, inst.t_end[j], t_usable_s, sc.un_e[u], sc.un_n[u],
                             sc.un_rmin_m[u], sc.un_rmax_m[u], sc.un_zmin_m[u], sc.un_zmax_m[u],
                             sc.un_facing_deg[u], sc.un_width_deg[u], inst.buf)


@njit(**JIT, inline="always")
def doctrine_allows(sc, inst, u, j):
    """Fire doctrine (MODEL.md §6 v2): u may engage j if j's class is in its engage_classes, or
    (self-defence) if u can engage the class and j's aim point is within self_defense_m of u."""
    c = sc.th_class[j]
    if not sc.un_engages[u, c]:
        return False
    if sc.un_allowed[u, c]:
        return True
    return sc.un_self_defense_m[u] > 0.0 and within_reach(
        inst.aim_e[j] - sc.un_e[u], inst.aim_n[j] - sc.un_n[u], sc.un_self_defense_m[u])


@njit(**JIT)
def ammo_allows(unlimited, magazine, reserve, rounds_per_shot, shots_for_class, hold_need):
    """Ammunition for one more engagement of a class under hold_for (MODEL.md §6 v2): the stock
    after the shots (magazine + reserve, in shots) must still cover what is kept for the other
    classes (hold_need, 0 when nothing is held)."""
    if unlimited:
        return True
    stock = (magazine + reserve) // rounds_per_shot
    if stock < 1:
        return False
    return stock - min(shots_for_class, stock) >= hold_need


@njit(**JIT, inline="always")
def note_ammunition(sc, u, now, magazine, reserve, out_of_ammo_t, hold_t):
    """After u fires (and at the start, now = -inf): when u ran out of ammunition, and from
    when hold_for stopped it firing at each class (both only ever happen once: the stock
    magazine + reserve only falls)."""
    if sc.un_unlimited[u]:
        return
    rps = sc.un_rounds_per_shot[u]
    if magazine + reserve < rps and out_of_ammo_t[u] == math.inf:
        out_of_ammo_t[u] = now
    for c in range(hold_t.shape[1]):
        if hold_t[u, c] == math.inf and sc.un_engages[u, c] and not ammo_allows(
                sc.un_unlimited[u], magazine, reserve, rps, sc.un_shots[u, c], sc.un_hold_need[u, c]):
            hold_t[u, c] = now


@njit(**JIT)
def note_reload(u, t_start_s, t_end_s, reload_start, reload_end):
    """Record a reload of unit u (for the not-engaged reasons; the first MAX_RELOADS_NOTED)."""
    for k in range(reload_start.shape[1]):
        if reload_start[u, k] == math.inf:
            reload_start[u, k] = t_start_s
            reload_end[u, k] = t_end_s
            return


# ---------------------------------------------------------------------------- central C2
@njit(**JIT, inline="always")
def first_useful_shot_for(sc, inst, u, j, t_from_s, window_start_s, window_end_s):
    """intercept.first_useful_shot_s of unit u at threat j from t_from."""
    return first_useful_shot_s(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts,
                               j, t_from_s, window_start_s, window_end_s, sc.un_e[u], sc.un_n[u],
                               sc.un_unlimited[u], sc.un_launch_delay_s[u], sc.un_speed_mps[u],
                               sc.un_dwell_s[u], sc.un_dwell_ref_m[u])


@njit(**JIT, inline="always")
def best_unit_for(sc, inst, j, now, engagements_of, magazine, reserve, queue_count):
    """Central weapon assignment (MODEL.md §6 v2): the unit with the lowest cost per expected
    kill that may engage j by doctrine, still has a useful shot (its latest useful shot is
    after now, and after its track + reaction time), ammunition beyond hold_for, and spare
    assignment capacity. Ties: the earlier latest useful shot, then the lower unit. -1: none."""
    c = sc.th_class[j]
    best, best_cost, best_last = NO_UNIT, math.inf, math.inf
    for u in range(len(sc.un_e)):
        last = inst.latest_shot[u, j]
        if (not inst.engageable[u, j] or not last > now
                or last < inst.known_t[u, j] + sc.un_reaction_s[u]
                or engagements_of[u, j] >= sc.un_max_engagements[u]
                or queue_count[u] >= sc.un_assign_queue[u]
                or not ammo_allows(sc.un_unlimited[u], magazine[u], reserve[u],
                                   sc.un_rounds_per_shot[u], sc.un_shots[u, c],
                                   sc.un_hold_need[u, c])):
            continue
        cost = sc.un_cost_per_kill[u, c]
        if not (cost < best_cost or (cost == best_cost and last < best_last)):
            continue
        # The latest useful shot is a closed form that is exact only for a threat that cannot
        # outrun the interceptor: make sure a useful shot really remains.
        if first_useful_shot_for(sc, inst, u, j,
                                 max(now, inst.known_t[u, j] + sc.un_reaction_s[u]),
                                 inst.win_a[u, j], inst.win_b[u, j]) < math.inf:
            best, best_cost, best_last = u, cost, last
    return best


@njit(**JIT, inline="always")
def assign_threat(sc, inst, j, now, engagements_of, magazine, reserve, assigned_to,
                  assign_engaged, queue_count, assigned_ever, waiting):
    """Assign threat j now if a unit can take it (returns the unit), else mark it waiting (-1).
    The engine then schedules the lapse at the unit's latest useful shot and asks it to decide.
    A decoy the C2 recognises is never assigned, and does not wait (-1, not waiting)."""
    u = -1
    if not inst.recognised[j]:
        u = best_unit_for(sc, inst, j, now, engagements_of, magazine, reserve, queue_count)
    waiting[j] = u < 0 and not inst.recognised[j]
    assigned_to[j] = u
    assign_engaged[j] = False
    if u >= 0:
        queue_count[u] += 1
        assigned_ever[u, j] = True
    return u


@njit(**JIT)
def holds_assignment(j, u, assigned_to, assign_engaged):
    """u holds an assignment of threat j that it has not engaged yet (it may lapse)."""
    return assigned_to[j] == u and not assign_engaged[j]


@njit(**JIT)
def ammunition_stops(u, threat_class, now, hold_t, out_of_ammo_t):
    """From now on u cannot fire at this class (out of ammunition, or hold_for keeps the rest):
    its unengaged assignments of that class lapse."""
    return hold_t[u, threat_class] <= now or out_of_ammo_t[u] <= now


@njit(**JIT)
def release_assignment(j, assigned_to, assign_engaged, queue_count):
    """Threat j is no longer assigned (lapse, or its engagement ended without a kill)."""
    u = assigned_to[j]
    if u >= 0 and not assign_engaged[j]:
        queue_count[u] -= 1
    assigned_to[j] = -1
    assign_engaged[j] = False


@njit(**JIT)
def mark_engaged(j, u, assigned_to, assign_engaged, queue_count):
    """u engages its assigned threat j: the assignment stops counting against u's queue."""
    if assigned_to[j] == u and not assign_engaged[j]:
        assign_engaged[j] = True
        queue_count[u] -= 1


# ---------------------------------------------------------------------------- why not engaged
@njit(**JIT, inline="always")
def standing_rule_reason(sc, inst, u, j):
    """The first standing rule that keeps unit u from ever engaging threat j: no Pk for its
    class, the fire doctrine (doctrine_allows), a recognised decoy, no track before its end,
    the defended-area rule (WHY_CLASS .. WHY_DEFENDED_AREA, in that order); WHY_ENGAGED when
    none does."""
    if not sc.un_engages[u, sc.th_class[j]]:
        return WHY_CLASS
    if not doctrine_allows(sc, inst, u, j):
        return WHY_DOCTRINE
    if inst.recognised[j]:
        return WHY_DECOY
    if inst.known_t[u, j] >= inst.t_end[j]:
        return WHY_NOT_TRACKED
    if sc.un_defended_only[u] and not inst.in_defended[j]:
        return WHY_DEFENDED_AREA
    return WHY_ENGAGED


@njit(**JIT, inline="always")
def means_reason(u, c, t_s, out_of_ammo_t, hold_t, reload_start, reload_end):
    """What kept unit u from firing at a threat of class c at time t_s although it had the
    shot: its ammunition was gone (WHY_MAGAZINE), hold_for kept the rest for other classes
    (WHY_HOLD), or it was reloading (WHY_RELOADING); WHY_ENGAGED when none did."""
    if t_s >= out_of_ammo_t[u]:
        return WHY_MAGAZINE
    if t_s >= hold_t[u, c]:
        return WHY_HOLD
    for k in range(reload_start.shape[1]):
        if reload_start[u, k] <= t_s < reload_end[u, k]:
            return WHY_RELOADING
    return WHY_ENGAGED


@njit(**INTERNAL)
def held_back_by_fire_rules(sc, inst, u, j, out_of_ammo_t, hold_t, reload_start, reload_end):
    """Did unit u have a useful shot at threat j from its track + reaction time, which only
    its fire doctrine (engage_classes, self-defence) or its defended-area rule forbade? The
    class, decoy recognition and the track must allow it, and at that first useful shot the
    unit must still have had ammunition, no hold_for on the class and no reload under way
    (else lifting the rule would not have given a shot either). The window, which the
    replication did not compute for a unit that may not engage j, is computed here (into
    inst.buf)."""
    c = sc.th_class[j]
    if (not sc.un_engages[u, c] or inst.recognised[j]
            or inst.known_t[u, j] >= inst.t_end[j]):
        return False
    t_ready = inst.known_t[u, j] + sc.un_reaction_s[u]
    a, b = unit_window(sc, inst, u, j, t_ready)
    if math.isnan(a):
        return False
    t_first = first_useful_shot_for(sc, inst, u, j, t_ready, a, b)
    return t_first < math.inf and means_reason(u, c, t_first, out_of_ammo_t, hold_t,
                                               reload_start, reload_end) == WHY_ENGAGED


@njit(**JIT, inline="always")
def held_back_reason(sc, inst, u, j, out_of_ammo_t, hold_t, reload_start, reload_end):
    """WHY_DOCTRINE or WHY_DEFENDED_AREA when that rule is what stopped unit u, which had a
    useful shot at threat j in time and the means to fire it (held_back_by_fire_rules); else
    WHY_ENGAGED."""
    rule = standing_rule_reason(sc, inst, u, j)
    if rule != WHY_DOCTRINE and rule != WHY_DEFENDED_AREA:
        return WHY_ENGAGED
    held = held_back_by_fire_rules(sc, inst, u, j, out_of_ammo_t, hold_t, reload_start,
                                   reload_end)
    return rule if held else WHY_ENGAGED


@njit(**JIT, inline="always")
def unit_not_engaged_reason(sc, inst, u, j, out_of_ammo_t, hold_t, assigned_ever, reload_start,
                            reload_end):
    """Why unit u never engaged threat j (WHY_* codes, larger = got closer to a shot).

    Static reasons come from the replication's geometry and doctrine (class, engage_classes,
    recognised decoy, track, defended-area rule, envelope, a shot that can arrive in the window,
    track + reaction time); a threat that u could have shot at t_first but did not was never
    assigned to u (central C2), held back by hold_for, or lost to saturation: the unit's
    ammunition was gone by then (out_of_ammo_t <= t_first), hold_for kept what was left for
    other classes (hold_t <= t_first), it was reloading at t_first, or else its channels were
    busy."""
    c = sc.th_class[j]
    rule = standing_rule_reason(sc, inst, u, j)
    if rule != WHY_ENGAGED:
        return rule
    t_known = inst.known_t[u, j]
    a, b = inst.win_a[u, j], inst.win_b[u, j]
    if math.isnan(a):
        return WHY_ENVELOPE
    # No useful shot from launch on: WHY_NO_SHOT; none from track + reaction time on: WHY_LATE.
    # When track + reaction comes at or after launch, a useful shot from then on is also one
    # from launch on (the first useful shot from t_from is the earliest at or after t_from), so
    # the shot from launch is solved only when there is none from track + reaction time, and
    # only when its search starts elsewhere (intercept.search_start_s).
    t_launch, t_ready = inst.t_launch[j], t_known + sc.un_reaction_s[u]
    t_first = first_useful_shot_for(sc, inst, u, j, t_ready, a, b)
    if t_ready < t_launch or t_first == math.inf:
        is_laser = sc.un_unlimited[u]
        same_search = search_start_s(is_laser, t_launch, a) == search_start_s(is_laser, t_ready, a)
        t_first_launch = t_first if same_search else first_useful_shot_for(sc, inst, u, j,
                                                                           t_launch, a, b)
        if t_first_launch == math.inf:
            # The window is the first interval u could still use after its track; an earlier
            # pass, over before the track, may have had a shot from launch: then too late.
            a0, b0 = unit_window(sc, inst, u, j, -math.inf)
            if a0 != a and first_useful_shot_for(sc, inst, u, j, t_launch, a0, b0) < math.inf:
                return WHY_LATE
            return WHY_NO_SHOT
        if t_first == math.inf:
            return WHY_LATE
    if sc.c2_central and not assigned_ever[u, j]:
        return WHY_NOT_ASSIGNED
    lacking = means_reason(u, c, t_first, out_of_ammo_t, hold_t, reload_start, reload_end)
    return WHY_BUSY if lacking == WHY_ENGAGED else lacking


@njit(**JIT, inline="always")
def not_engaged_reasons(sc, inst, engagements_of_threat, out_of_ammo_t, hold_t, assigned_ever,
                        reload_start, reload_end, shots, order, why):
    """why[j]: WHY_ENGAGED for every threat engaged at least once, else the reason of the unit
    that came closest to engaging it: the largest code, except that a unit which had a useful
    shot in time but was forbidden it by its fire doctrine or defended-area rule
    (held_back_reason) comes closer than any unit without a useful shot in time (codes up to
    WHY_LATE), though not as close as one that had the shot and the rules' leave (from
    WHY_NOT_ASSIGNED on).

    Units are asked busiest first (most shots; order is scratch of one int per unit): a unit
    whose channels were busy gives WHY_BUSY, the largest code, which ends the search early. The
    reason does not depend on the order."""
    n_units = len(sc.un_e)
    for k in range(n_units):
        order[k] = k
    for k in range(1, n_units):           # insertion sort, most shots first (stable)
        v, m = order[k], k
        while m > 0 and shots[order[m - 1]] < shots[v]:
            order[m] = order[m - 1]
            m -= 1
        order[m] = v
    for j in range(len(why)):
        why[j] = WHY_ENGAGED
        if engagements_of_threat[j] > 0:
            continue
        reason = WHY_CLASS
        for k in range(n_units):
            reason = max(reason, unit_not_engaged_reason(sc, inst, order[k], j, out_of_ammo_t,
                                                         hold_t, assigned_ever, reload_start,
                                                         reload_end))
            if reason == WHY_BUSY:
                break       # the closest a unit can come: the other units cannot change it
        if reason < WHY_NOT_ASSIGNED:
            held = WHY_ENGAGED
            for u in range(n_units):
                held = max(held, held_back_reason(sc, inst, u, j, out_of_ammo_t, hold_t,
                                                  reload_start, reload_end))
            if held != WHY_ENGAGED:
                reason = held
        why[j] = reason
