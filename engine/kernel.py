"""The Numba engine: one replication as an event loop over an array-based binary heap.

Same model as engine.reference (MODEL.md), same geometry core (engine.instances), same event
keys: (time, kind, index, sub), processed in lexicographic order (MODEL.md §8). No Python
objects and no allocation per event: all state lives in a Workspace of flat arrays allocated
once per worker and reused for every replication. `run_chunk` runs a range of replications
without the GIL; engine.montecarlo runs chunks on threads, and since every replication writes
only its own output rows, results are identical for any number of threads.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, typeof, types

from salvosim.defenses.doctrine import (
    ammunition_stops,
    assign_threat,
    channel_free_time_s,
    holds_assignment,
    mark_engaged,
    not_engaged_reasons,
    note_ammunition,
    note_reload,
    record_fire,
    release_assignment,
    reload_take,
    salvo_kills,
    shots_to_fire,
    target_score,
)
from salvosim.defenses.intercept import (
    always_too_late,
    earliest_shot_and_effect_s,
    earliest_shot_time_s,
    early_answer_until_s,
    early_shot_bound,
    first_useful_shot_s,
    settled_laser_shot,
    shot_end_time_s,
    useful_until_s,
    wake_at,
)
from salvosim.engine.constants import (
    ALIVE,
    CENTRAL_BUILD,
    CHECK_MUTANT,
    CHECK_OFF,
    CHECK_ON,
    EV_DECIDE,
    EV_FREE,
    EV_IMPACT,
    EV_INTERCEPT,
    EV_KNOWN,
    FAILED,
    FREE_ASSESSMENT,
    FREE_ASSIGN,
    FREE_CHANNEL,
    FREE_LAPSE,
    FREE_RELOAD,
    KILLED,
    LEAKED,
    MAX_RELOADS_NOTED,
    MIN_WAKE_STEP_S,
    MISSED,
    N_CLASSES,
    NO_SUB,
)
from salvosim.engine.events import event_fields, event_key, free_kind, free_sub, free_threat
from salvosim.engine.instances import Instances, count_asset_hits, new_instances, prepare
from salvosim.engine.jit import INTERNAL, JIT


class Workspace(NamedTuple):
    inst: Instances
    # event heap
    heap_t: np.ndarray
    heap_key: np.ndarray          # events.event_key(kind, index, sub)
    heap_size: np.ndarray         # [1]
    # threats
    fate: np.ndarray
    fate_t: np.ndarray
    kill_unit: np.ndarray
    engagement_count: np.ndarray  # [J] engagements of j so far, all units
    under_engagement: np.ndarray  # [J]
    eng_unit: np.ndarray          # [J, E] unit of engagement e of threat j
    eng_shots: np.ndarray         # [J, E] interceptors of that engagement
    # units
    free_channels: np.ndarray
    magazine: np.ndarray
    reserve: np.ndarray
    reloading: np.ndarray
    engaged_by: np.ndarray        # [U, J]
    engagements_of: np.ndarray    # [U, J]
    out_of_reach: np.ndarray      # [U, J] no later shot of u can reach j in its window
    cand_list: np.ndarray         # [U, 2J] threats u may still engage: columns 0 .. J-1 the list
                                  #   select_target scans, J .. 2J-1 those whose answer u holds
    cand_ready: np.ndarray        # [U, 2J] s: known_t + reaction of each, beside cand_list
    cand_count: np.ndarray        # [U, 2] length of each part (scanned, held)
    held_pos: np.ndarray          # [U, J] position of j among u's held answers (-1: not held)
    held_aggr: np.ndarray         # [U, 2] least held answer and validity (-inf: recount)
    early_until: np.ndarray       # [U, J] cache of intercept.early_shot_bound (see select_target)
    early_t_star: np.ndarray      # [U, J]
    shots: np.ndarray
    rounds: np.ndarray
    engagements: np.ndarray
    kills: np.ndarray
    last_decision_t: np.ndarray
    last_request_t: np.ndarray
    asset_hits: np.ndarray
    out_of_ammo_t: np.ndarray     # [U] when the unit fired its last round (inf: never)
    why: np.ndarray               # [J] int8 why never engaged (constants.WHY_*)
    hold_t: np.ndarray            # [U, N_CLASSES] from when hold_for stops fire at a class
    shots_by_class: np.ndarray    # [U, N_CLASSES + 1] shots by target class (last: decoys)
    # central assignment (MODEL.md §6 v2)
    assigned_to: np.ndarray       # [J] unit or -1
    assign_engaged: np.ndarray    # [J] the assigned unit has engaged it
    queue_count: np.ndarray       # [U] threats assigned and not yet engaged
    assigned_ever: np.ndarray     # [U, J]
    waiting: np.ndarray           # [J] known to the network, no unit could take it yet
    reload_start: np.ndarray      # [U, MAX_RELOADS_NOTED] reloads (for the not-engaged reasons)
    reload_end: np.ndarray
    # incremental targeting (select_target): a clean unit's last scan still holds
    dirty: np.ndarray             # [U] a candidate of u changed state since u's last scan
    clean_wake: np.ndarray        # [U] wake-up of u's last scan
    clean_until: np.ndarray       # [U] ... which holds for decisions before this time
    check_counts: np.ndarray      # [3] debug mode: disagreements, decisions, skipped scans
    pending: np.ndarray           # [U] a decision of u requested for the current time
    pending_count: np.ndarray     # [1] how many
    wake_pending: np.ndarray      # [U] time of a decision of u in the heap (nan: not known)
    unit_order: np.ndarray        # [U] scratch (doctrine.not_engaged_reasons)
    slot_fresh: np.ndarray        # [U, J] u's last answer for j still holds (select_target)
    slot_ans: np.ndarray          # [U, J] that answer: a wake-up time, +inf (may not fire), or
                                  #   -inf (a useful shot now)
    slot_until: np.ndarray        # [U, J] it holds for decisions before this time


def new_workspace(sc, heap_capacity):
    """A worker's arrays (plain numpy: see instances.new_instances)."""
    J, U, A = len(sc.th_raid), len(sc.un_e), len(sc.as_value)
    E = max(1, int(np.sum(sc.un_max_engagements)))
    inst = new_instances(sc)
    return Workspace(
        inst=inst, heap_t=np.zeros(heap_capacity), heap_key=np.zeros(heap_capacity, np.int64),
        heap_size=np.zeros(1, np.int64),
        fate=np.zeros(J, np.int8), fate_t=np.zeros(J), kill_unit=np.zeros(J, np.int64),
        engagement_count=np.zeros(J, np.int64), under_engagement=np.zeros(J, np.int64),
        eng_unit=np.zeros((J, E), np.int64), eng_shots=np.zeros((J, E), np.int64),
        free_channels=np.zeros(U, np.int64), magazine=np.zeros(U, np.int64),
        reserve=np.zeros(U, np.int64), reloading=np.zeros(U, np.bool_),
        engaged_by=np.zeros((U, J), np.bool_), engagements_of=np.zeros((U, J), np.int64),
        out_of_reach=np.zeros((U, J), np.bool_), cand_list=np.zeros((U, 2 * J), np.int64),
        cand_ready=np.zeros((U, 2 * J)), cand_count=np.zeros((U, 2), np.int64),
        held_pos=np.full((U, J), -1, np.int64), held_aggr=np.zeros((U, 2)),
        early_until=np.zeros((U, J)),
        early_t_star=np.zeros((U, J)),
        shots=np.zeros(U, np.int64), rounds=np.zeros(U, np.int64),
        engagements=np.zeros(U, np.int64), kills=np.zeros(U, np.int64),
        last_decision_t=np.zeros(U), last_request_t=np.zeros(U),
        asset_hits=np.zeros(A, np.int64), out_of_ammo_t=np.zeros(U), why=np.zeros(J, np.int8),
        hold_t=np.zeros((U, N_CLASSES)), shots_by_class=np.zeros((U, N_CLASSES + 1), np.int64),
        assigned_to=np.zeros(J, np.int64), assign_engaged=np.zeros(J, np.bool_),
        queue_count=np.zeros(U, np.int64), assigned_ever=np.zeros((U, J), np.bool_),
        waiting=np.zeros(J, np.bool_), reload_start=np.zeros((U, MAX_RELOADS_NOTED)),
        reload_end=np.zeros((U, MAX_RELOADS_NOTED)),
        dirty=np.ones(U, np.bool_), clean_wake=np.zeros(U), clean_until=np.zeros(U),
        check_counts=np.zeros(3, np.int64),
        pending=np.zeros(U, np.bool_), pending_count=np.zeros(1, np.int64),
        wake_pending=np.full(U, np.nan), unit_order=np.zeros(U, np.int64),
        slot_fresh=np.zeros((U, J), np.bool_),
        slot_ans=np.zeros((U, J)), slot_until=np.zeros((U, J)))


# ---------------------------------------------------------------------------- event heap
# Hot functions take plain arrays and scalars: passing the scenario or workspace tuple into a
# small function costs a reference-count update per member array on every call.
# Functions only ever called from njit code take engine.jit.INTERNAL (no CPython wrapper).
@njit(**INTERNAL)
def _before(ht, hk, a, b):
    """Is heap slot a ordered before slot b? By time, then by the packed (kind, index, sub).
    (Slots are never negative: unsigned subscripts, without wraparound code.)"""
    ua, ub = np.uint64(a), np.uint64(b)
    return ht[ua] < ht[ub] or (ht[ua] == ht[ub] and hk[ua] < hk[ub])


@njit(**INTERNAL)
def push_event(ht, hk, hn, t_s, kind, i1, i2):
    """Returns False when the heap is full (the caller reruns with a larger one)."""
    n = hn[0]
    if n >= len(ht):
        return False
    key = event_key(kind, i1, i2)
    hn[0] = n + 1
    while n > 0:                        # sift up: move parents down until t_s, key fits
        parent = (n - 1) >> 1
        p, at = np.uint64(parent), np.uint64(n)     # unsigned: no wraparound code
        if not (t_s < ht[p] or (t_s == ht[p] and key < hk[p])):
            break
        ht[at], hk[at] = ht[p], hk[p]
        n = parent
    at = np.uint64(n)
    ht[at], hk[at] = t_s, key
    return True


@njit(**INTERNAL)
def pop_event(ht, hk, hn):
    t_s, key = ht[0], hk[0]
    n = hn[0] - 1
    hn[0] = n
    if n > 0:
        last = np.uint64(n)             # unsigned indices: no wraparound code
        t_last, k_last = ht[last], hk[last]   # sift down the last slot from the root
        k = 0
        while True:
            child = 2 * k + 1
            if child >= n:
                break
            if child + 1 < n and _before(ht, hk, child + 1, child):
                child += 1
            c = np.uint64(child)
            if not (ht[c] < t_last or (ht[c] == t_last and hk[c] < k_last)):
                break
            at = np.uint64(k)
            ht[at], hk[at] = ht[c], hk[c]
            k = child
        at = np.uint64(k)
        ht[at], hk[at] = t_last, k_last
    kind, i1, i2 = event_fields(key)
    return t_s, kind, i1, i2


@njit(**JIT)
def request_decision(last_request_t, pending, pending_count, wake_pending, ht, hk, hn, u, t_s,
                     now):
    """Schedule a decision of unit u at t (once per time: repeats are idempotent).

    A decision for the current time goes to the pending set (run_events takes it in its place
    in the event order, (now, EV_DECIDE, u), without the heap); a later one (a wake-up) to the
    heap, unless the event already there for u is at that time (wake_pending)."""
    if last_request_t[u] == t_s:
        return True
    last_request_t[u] = t_s
    if t_s == now:
        if not pending[u]:
            pending[u] = True
            pending_count[0] += 1
        return True
    if wake_pending[u] == t_s:
        return True
    wake_pending[u] = t_s
    return push_event(ht, hk, hn, t_s, EV_DECIDE, u, NO_SUB)


# ---------------------------------------------------------------------------- the model
@njit(**INTERNAL)
def resolve_intercept(fate, fate_t, kill_unit, kills, pk, seed, rep, j, e, u, n_shots, t_s):
    """Engagement e of threat j arrives (doctrine.salvo_kills decides)."""
    if fate[j] == ALIVE and salvo_kills(seed, rep, j, e, n_shots, pk):
        fate[j] = KILLED
        fate_t[j] = t_s
        kill_unit[j] = u
        kills[u] += 1


@njit(**INTERNAL)
def keep_slot(slot_fresh, slot_ans, slot_until, u, j, answer, until_s):
    """u's answer for threat j (a wake-up, +inf: may not fire, -inf: a useful shot now) holds
    for decisions before until_s, while j's state does not change (select_target)."""
    slot_fresh[u, j] = True
    slot_ans[u, j] = answer
    slot_until[u, j] = until_s


@njit(**JIT, inline="always")
def keep_candidate(cand_list, cand_ready, u, kept, j, t_ready):
    """Keep threat j (ready at t_ready) at position kept of u's candidate list; the new
    length."""
    at = np.uint64(kept)
    cand_list[u, at] = j
    cand_ready[u, at] = t_ready
    return kept + 1


# Held answers: a candidate whose slot holds a later wake-up (or +inf) leaves the list that
# select_target scans for a second part of the same rows (columns J ..), with the least of
# their answers and of their validities kept per unit: a scan starts from those two instead
# of visiting each (64 % of a flagship replication's visits). A held answer goes back to the
# scanned list when its slot goes stale (forget_slot) or when its validity passes (the
# recount at the start of select_target; a least validity of -inf asks for it: after the
# least answer left, or hold_for made all of a unit's slots stale).
@njit(**JIT, inline="always")
def hold_candidate(cand_list, cand_ready, cand_count, held_pos, held_aggr, u, j, t_ready,
                   answer, until_s):
    """Hold u's answer for threat j (a later wake-up or +inf, valid before until_s)."""
    n = cand_count[u, 1]
    at = np.uint64(held_pos.shape[1] + n)
    cand_list[u, at] = j
    cand_ready[u, at] = t_ready
    held_pos[u, np.uint64(j)] = n
    cand_count[u, 1] = n + 1
    held_aggr[u, 0] = min(held_aggr[u, 0], answer)
    held_aggr[u, 1] = min(held_aggr[u, 1], until_s)


@njit(**INTERNAL)
def forget_slot(slot_fresh, slot_ans, cand_list, cand_ready, cand_count, held_pos, held_aggr,
                u, j):
    """u's answer for threat j no longer holds. If u held it, j leaves the held answers for
    the end of the scanned list; when its answer was the least held, the least is counted
    again at u's next scan (a validity that goes is left as the least one: the recount then
    only comes earlier)."""
    ju = np.uint64(j)
    slot_fresh[u, ju] = False
    i = held_pos[u, ju]
    if i < 0:
        return
    J = held_pos.shape[1]
    n = cand_count[u, 1] - 1
    at, last = np.uint64(J + i), np.uint64(J + n)
    t_ready = cand_ready[u, at]
    if i != n:
        moved = cand_list[u, last]
        cand_list[u, at] = moved
        cand_ready[u, at] = cand_ready[u, last]
        held_pos[u, np.uint64(moved)] = i
    cand_count[u, 1] = n
    held_pos[u, ju] = -1
    if slot_ans[u, ju] <= held_aggr[u, 0]:
        held_aggr[u, 1] = -math.inf
    k = cand_count[u, 0]
    cand_list[u, np.uint64(k)] = j
    cand_ready[u, np.uint64(k)] = t_ready
    cand_count[u, 0] = k + 1


@njit(**JIT, inline="always")
def recount_held(cand_list, cand_ready, cand_count, held_pos, held_aggr, slot_fresh, slot_ans,
                 slot_until, u, now):
    """u's held answers whose slot no longer holds at now go back to the scanned list; the
    least answer and validity of the others."""
    J = held_pos.shape[1]
    kept, least, first_end = 0, math.inf, math.inf
    k = cand_count[u, 0]
    for i in range(cand_count[u, 1]):
        at = np.uint64(J + i)
        j = cand_list[u, at]
        ju = np.uint64(j)
        t_ready = cand_ready[u, at]
        if slot_fresh[u, ju] and now < slot_until[u, ju]:
            to = np.uint64(J + kept)
            cand_list[u, to] = j
            cand_ready[u, to] = t_ready
            held_pos[u, ju] = kept
            kept += 1
            least = min(least, slot_ans[u, ju])
            first_end = min(first_end, slot_until[u, ju])
        else:
            held_pos[u, ju] = -1
            cand_list[u, np.uint64(k)] = j
            cand_ready[u, np.uint64(k)] = t_ready
            k += 1
    cand_count[u, 0] = k
    cand_count[u, 1] = kept
    held_aggr[u, 0] = least
    held_aggr[u, 1] = first_end


@njit(**INTERNAL)
def select_target(u, now, fate, engaged_by, engagements_of, under_engagement, double_engagement,
                  max_engagements, cand_list, cand_ready, cand_count, out_of_reach, win_a, win_b,
                  early_until, early_t_star,
                  pt_e, pt_n, pt_z, pt_t, seg, n_pts, unit_e, unit_n, is_laser,
                  launch_delay_s, speed_mps, dwell_s, dwell_ref_m, priority, t_impact,
                  target_value, central, assigned_to, th_class, hold_t, slot_fresh, slot_ans,
                  slot_until, held_pos, held_aggr):
    """The best threat for unit u to shoot now (or -1), the earliest later shot time, a
    horizon: until then (and before that wake-up), while no candidate of u changes state, the
    same scan at a later time would return -1 and the same wake-up (run_events then skips it);
    and when the shot at the best threat was solved here, when it takes effect (else nan: the
    caller solves it).

    Each candidate's answer is the full rule's (intercept.earliest_shot_time_s) at
    t_from = max(now, t_ready); it stays the answer for any later decision time below:
    - t_ready itself, when t_ready > now (t_from is then the same);
    - early_until, for a cached closed-form wake-up t_star > t_from (early_shot_bound's proof;
      a laser waiting for its window: the window start);
    - for a wake-up found by solving the shot, intercept.early_answer_until_s (at worst, the
      next decision solves it again);
    and a shot useful now stays useful until intercept.useful_until_s (missiles, guns) or
    the bound of intercept.laser_dwell_bounds (intercept.settled_laser_shot also settles most
    lasers' answers without integrating a dwell).
    Each answer is kept in u's slot for j with the time it holds until (bounded by the answer
    and the window end), or +inf for a threat u may not fire at now: an engagement in progress
    (u's own, or another unit's without double engagement) or hold_for. A slot is reused while
    fresh: touch_threat or drop_threat makes it stale when j's fate or engagements change,
    and a fire of u that starts hold_for for a class makes all of u's stale. Central C2 never
    keeps slots (assignments change).
    u's candidate list drops, as it is scanned, every threat u can never engage again (dead,
    engaged max_engagements times, or past its window). A later wake-up (or +inf) is held
    (hold_candidate): the scan starts from the least held answer and validity. The list's
    order changes as held answers come back, so ties of the score go to the lower index
    explicitly.
    A candidate u does not know yet (t_ready = known_t + reaction > now, kept beside it in
    cand_ready) is passed over first, slot or not, when t_ready >= the wake-up so far: its
    shots come at or after t_ready, so it can neither be chosen nor wake u earlier, now or at
    any decision before the wake-up (it stays in the list, and is dropped if need be once it
    is looked at)."""
    if now >= held_aggr[u, 1]:
        recount_held(cand_list, cand_ready, cand_count, held_pos, held_aggr, slot_fresh,
                     slot_ans, slot_until, u, now)
    best, best_score, wake, horizon = -1, math.inf, held_aggr[u, 0], held_aggr[u, 1]
    best_effect = math.nan
    kept = 0
    for k in range(cand_count[u, 0]):
        ku = np.uint64(k)
        j = cand_list[u, ku]
        ju = np.uint64(j)       # indices never negative: no wraparound code
        t_ready = cand_ready[u, ku]
        if t_ready > now and t_ready >= wake:
            kept = keep_candidate(cand_list, cand_ready, u, kept, j, t_ready)
            continue    # not known yet, and cannot wake u earlier (t_shot >= t_ready)
        if slot_fresh[u, ju] and now < slot_until[u, ju]:
            if slot_ans[u, ju] == -math.inf:        # useful now (useful_until_s)
                kept = keep_candidate(cand_list, cand_ready, u, kept, j, t_ready)
                score = target_score(priority, pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now,
                                     unit_e, unit_n, t_impact[ju], target_value[ju])
                if score < best_score or (score == best_score and j < best):
                    best, best_score, best_effect = j, score, math.nan
                continue
            wake = min(wake, slot_ans[u, ju])
            horizon = min(horizon, slot_until[u, ju])
            hold_candidate(cand_list, cand_ready, cand_count, held_pos, held_aggr, u, j, t_ready,
                           slot_ans[u, ju], slot_until[u, ju])
            continue
        slot_fresh[u, ju] = False
        if (fate[ju] != ALIVE or engagements_of[u, ju] >= max_engagements or now > win_b[u, ju]
                or out_of_reach[u, ju]):
            continue
        if (engaged_by[u, ju] or (under_engagement[ju] > 0 and not double_engagement)
                or hold_t[u, th_class[ju]] <= now):
            # until j's engagement ends (touch_threat) or forever (hold_for)
            if central:
                kept = keep_candidate(cand_list, cand_ready, u, kept, j, t_ready)
            else:
                keep_slot(slot_fresh, slot_ans, slot_until, u, j, math.inf, math.inf)
                hold_candidate(cand_list, cand_ready, cand_count, held_pos, held_aggr, u, j,
                               t_ready, math.inf, math.inf)
            continue
        kept = keep_candidate(cand_list, cand_ready, u, kept, j, t_ready)
        if central and assigned_to[ju] != u:
            continue    # assigned to another unit (central C2)
        t_from = max(now, t_ready)
        until = t_from           # this answer holds for decisions before `until`
        t_effect = math.nan      # when a shot now takes effect, if solved here
        if t_from < early_until[u, ju]:
            # Still too early for any shot to reach the window: the cached answer holds and
            # equals earliest_shot_time_s (intercept.early_shot_bound; lasers: shot at a).
            t_shot = wake_at(early_t_star[u, ju], t_from)
            if t_shot == early_t_star[u, ju]:
                until = early_until[u, ju]
        elif t_from > win_b[u, ju]:
            t_shot = math.inf
        elif is_laser and t_from < win_a[u, ju]:
            early_until[u, ju] = win_a[u, ju] - MIN_WAKE_STEP_S
            early_t_star[u, ju] = win_a[u, ju]
            t_shot = win_a[u, ju]
            until = t_shot
        else:
            if not is_laser:
                until_j, t_star = early_shot_bound(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                                   t_from, win_a[u, ju], unit_e, unit_n,
                                                   launch_delay_s, speed_mps)
                early_until[u, ju] = until_j
                early_t_star[u, ju] = t_star
            if t_from < early_until[u, ju]:
                t_shot = wake_at(early_t_star[u, ju], t_from)
                if t_shot == early_t_star[u, ju]:
                    until = early_until[u, ju]
            elif not is_laser and always_too_late(pt_e, pt_n, pt_t, n_pts, j, t_from,
                                                  win_b[u, ju], unit_e, unit_n, launch_delay_s,
                                                  speed_mps):
                out_of_reach[u, ju] = True     # earliest_shot_time_s is +inf now and later
                t_shot = math.inf
            else:
                useful_until = -math.inf
                solve = True
                if is_laser:
                    # bounds of the fluence rate settle most dwells without integrating
                    t_shot, useful_until = settled_laser_shot(
                        pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from, win_b[u, ju], unit_e,
                        unit_n, dwell_s, dwell_ref_m)
                    if t_shot == math.inf:
                        out_of_reach[u, ju] = True     # and at every later start too
                    solve = math.isnan(t_shot)
                if solve:
                    t_shot, t_effect = earliest_shot_and_effect_s(
                        pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, t_from, win_a[u, ju],
                        win_b[u, ju], unit_e, unit_n, is_laser, launch_delay_s, speed_mps,
                        dwell_s, dwell_ref_m)
                    if t_shot == math.inf:
                        out_of_reach[u, ju] = True     # +inf here stays +inf (its docstring)
                    elif t_shot == now and not is_laser:
                        useful_until = useful_until_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                                      now, t_effect, win_a[u, ju], win_b[u, ju],
                                                      speed_mps)
                    elif t_shot > t_from and not is_laser:      # too early: a wake-up
                        until = early_answer_until_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                                     t_from, t_shot, t_effect, win_a[u, ju],
                                                     unit_e, unit_n, launch_delay_s, speed_mps)
                if t_shot == now and useful_until > now and not central:
                    # useful now, and at every decision before `useful_until`
                    keep_slot(slot_fresh, slot_ans, slot_until, u, j, -math.inf,
                              min(useful_until, win_b[u, ju]))
        if t_shot == math.inf:
            continue                               # and it stays +inf
        horizon = min(horizon, until)
        if until > now and t_shot > now and not central:
            until = min(until, t_shot, win_b[u, ju])
            keep_slot(slot_fresh, slot_ans, slot_until, u, j, t_shot, until)
            kept -= 1                   # held, not in the list (kept above, before solving)
            hold_candidate(cand_list, cand_ready, cand_count, held_pos, held_aggr, u, j,
                           t_ready, t_shot, until)
        if t_shot == now:
            score = target_score(priority, pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now, unit_e,
                                 unit_n, t_impact[ju], target_value[ju])
            if score < best_score or (score == best_score and j < best):
                best, best_score, best_effect = j, score, t_effect
        elif t_shot < wake:
            wake = t_shot
    cand_count[u, 0] = kept
    return best, wake, horizon, best_effect


@njit(**INTERNAL)
def full_scan_target(u, now, fate, engaged_by, engagements_of, under_engagement,
                     double_engagement, max_engagements, engageable, known_t, reaction_s,
                     win_a, win_b, pt_e, pt_n, pt_z, pt_t, seg, n_pts, unit_e, unit_n,
                     is_laser, launch_delay_s, speed_mps, dwell_s, dwell_ref_m, priority,
                     t_impact, target_value, central, assigned_to, th_class, hold_t):
    """The debug oracle of select_target and of the skipped decisions: every engageable threat,
    no cache, intercept.earliest_shot_time_s from scratch (the reference engine's rule)."""
    best, best_score, wake = -1, math.inf, math.inf
    for j in range(len(fate)):
        if (not engageable[u, j] or fate[j] != ALIVE or engagements_of[u, j] >= max_engagements
                or engaged_by[u, j] or (under_engagement[j] > 0 and not double_engagement)
                or (central and assigned_to[j] != u) or hold_t[u, th_class[j]] <= now):
            continue
        t_shot = earliest_shot_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j,
                                      max(now, known_t[u, j] + reaction_s), win_a[u, j],
                                      win_b[u, j], unit_e, unit_n, is_laser, launch_delay_s,
                                      speed_mps, dwell_s, dwell_ref_m)
        if t_shot == now:
            score = target_score(priority, pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now, unit_e,
                                 unit_n, t_impact[j], target_value[j])
            if score < best_score:
                best, best_score = j, score
        elif t_shot < wake:
            wake = t_shot
    return best, wake


@njit(**INTERNAL)
def next_known_s(engageable, known_t, j, after_s):
    """The first time after after_s at which a unit that may engage threat j learns of it."""
    t_next = math.inf
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for v in range(engageable.shape[0]):
        u = np.uint64(v)
        if engageable[u, ju] and after_s < known_t[u, ju] < t_next:
            t_next = known_t[u, ju]
    return t_next


@njit(**INTERNAL)
def touch_threat(j, engageable, dirty, slot_fresh, slot_ans, cand_list, cand_ready, cand_count,
                 held_pos, held_aggr):
    """Threat j changed state (its engagement ended): every unit that may engage it must
    rescan, and solve j again."""
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for v in range(len(dirty)):
        u = np.uint64(v)
        if engageable[u, ju]:
            dirty[u] = True
            forget_slot(slot_fresh, slot_ans, cand_list, cand_ready, cand_count, held_pos,
                        held_aggr, v, j)


@njit(**INTERNAL)
def drop_threat(j, engageable, dirty, slot_fresh, slot_ans, clean_wake, cand_list, cand_ready,
                cand_count, held_pos, held_aggr):
    """Threat j can no longer be engaged by the units that may engage it (it is dead), or not
    until an engagement ends (another unit engages it: touch_threat then): each solves j again
    at its next scan. A unit whose last scan holds (select_target found nothing to fire at,
    and woke at clean_wake) need not rescan when its answer for j was a later wake-up: j's
    answer only rises (to +inf), so the earliest wake-up stays, and the horizon may only grow
    (kept smaller: safe). Any other unit rescans."""
    ju = np.uint64(j)                   # unsigned indices: no wraparound code
    for v in range(len(dirty)):
        u = np.uint64(v)
        if engageable[u, ju]:
            if not (slot_fresh[u, ju] and (slot_ans[u, ju] > clean_wake[u]
                                           or slot_ans[u, ju] == math.inf)):
                dirty[u] = True
            forget_slot(slot_fresh, slot_ans, cand_list, cand_ready, cand_count, held_pos,
                        held_aggr, v, j)


@njit(**JIT, inline="always")
def c2_assign(sc, inst, ws, j, now):
    """Assign threat j (tewa.assign_threat); schedule its lapse and the unit's decision.
    (Inlined in central_c2, its one caller: as a function of its own it took the scenario,
    instance and workspace tuples flattened and packed them again, and took 0.3 s longer to
    compile with central_c2, on the path of a cold compile's first process to its signal.)"""
    u = assign_threat(sc, inst, j, now, ws.engagements_of, ws.magazine, ws.reserve,
                      ws.assigned_to, ws.assign_engaged, ws.queue_count, ws.assigned_ever,
                      ws.waiting)
    if u < 0:
        return True
    ok = push_event(ws.heap_t, ws.heap_key, ws.heap_size,
                    inst.latest_shot[u, j], EV_FREE, u, free_sub(FREE_LAPSE, j))
    # A new assignment is a decision point (MODEL.md §6) even for a unit that has already
    # decided at this instant: the once-per-instant guards are reset for it.
    ws.last_request_t[u] = math.nan
    ws.last_decision_t[u] = -math.inf
    return request_decision(ws.last_request_t, ws.pending, ws.pending_count, ws.wake_pending,
                            ws.heap_t, ws.heap_key, ws.heap_size, u, now, now) and ok


@njit(**JIT, inline="always")
def assign_if_waiting(j, waiting, fate):
    """Is threat j waiting for a unit, and alive (to be assigned again now)? A dead one stops
    waiting. (central_c2's sweep of the waiting threats.)"""
    if waiting[j] and fate[j] != ALIVE:
        waiting[j] = False
    return waiting[j]


# What central_c2 is called for besides the EV_FREE kinds FREE_ASSESSMENT, FREE_ASSIGN and
# FREE_LAPSE: a unit fired.
C2_AFTER_FIRE = np.int64(-1)


@njit(**INTERNAL)
def central_c2(sc, inst, ws, c2_event, u, j, now):
    """What the central C2 does (MODEL.md §6 v2) after an event of unit u about threat j:
    - C2_AFTER_FIRE, u fired at j: the assignment is engaged; assignments u can no longer fire
      at (ammunition, hold_for) lapse and are assigned again, in index order; then the threats
      waiting for a unit, in index order (engaging j freed capacity);
    - FREE_ASSESSMENT, u's engagement of j is over: an assignment of j to u ended (without a
      kill, or j is gone): it lapses and j is assigned again; then the waiting threats;
    - FREE_ASSIGN (u: none): the network first knows j: it is assigned, unless it already is;
    - FREE_LAPSE, u's latest useful shot at j passed: if u still holds j unengaged, the
      assignment lapses, j is assigned again, then the waiting threats.
    Only living threats are assigned.
    A call of a function that takes the scenario, instance and workspace tuples passes them
    flattened (about a thousand values), and such calls are what a compile spends its time on
    (LLVM's SROA): the event loop compiled in 4.8 s without any, 10.3 s with the eight it once
    had. So every C2 step goes through this one function, which run_events calls from three
    places (a fire, a kill assessment, an assignment or lapse), and which assigns (c2_assign,
    inlined) from one place, in a single sweep: first j, then u's assignments, then the
    waiting threats."""
    J = len(ws.fate)
    assigned_to, assign_engaged, queue_count = ws.assigned_to, ws.assign_engaged, ws.queue_count
    first = -1                  # j, assigned again first
    sweep_own = c2_event == C2_AFTER_FIRE
    sweep_waiting = True
    if c2_event == C2_AFTER_FIRE:
        mark_engaged(j, u, assigned_to, assign_engaged, queue_count)
    elif c2_event == FREE_ASSESSMENT:
        if assigned_to[j] == u:
            release_assignment(j, assigned_to, assign_engaged, queue_count)
            first = j
    elif c2_event == FREE_ASSIGN:
        sweep_waiting = False
        if assigned_to[j] < 0:
            first = j
    elif holds_assignment(j, u, assigned_to, assign_engaged):     # FREE_LAPSE
        release_assignment(j, assigned_to, assign_engaged, queue_count)
        first = j
    else:
        sweep_waiting = False
    ok = True
    for step in range(-1, 2 * J):   # -1: j; 0 .. J-1: u's assignments; J .. 2J-1: waiting
        k = -1
        if step < 0:
            k = first
        elif step < J:
            if (sweep_own and holds_assignment(step, u, assigned_to, assign_engaged)
                    and ammunition_stops(u, sc.th_class[step], now, ws.hold_t, ws.out_of_ammo_t)):
                release_assignment(step, assigned_to, assign_engaged, queue_count)
                k = step
        elif sweep_waiting and assign_if_waiting(step - J, ws.waiting, ws.fate):
            k = step - J
        if k >= 0 and ws.fate[k] == ALIVE:
            ok = c2_assign(sc, inst, ws, k, now) and ok
    return ok


@njit(**INTERNAL)
def run_events(sc, seed, rep, ws, check, c2):
    """The event loop of one replication (after prepare_replication).

    A unit whose candidates have not changed state since its last scan, deciding before that
    scan's horizon, reuses its answer (-1 and the same wake-up) without scanning.
    check: None or CHECK_OFF (production), CHECK_ON: every decision is also made by
    full_scan_target (no caches, no skipping) and ws.check_counts counts disagreements on the
    choice or the wake-up, decisions and skipped scans; CHECK_MUTANT as CHECK_ON, but a unit
    skips its scan even when a candidate changed state (the tests' proof that the check can
    fail).
    check and c2 are what Numba builds (c2_build): with None, it prunes every branch
    `if check is not None` (the debug check) or `if c2 is not None` (the calls of central C2)
    before typing, and compiles neither full_scan_target nor central_c2; sc.c2_central still
    says whether central C2 runs."""
    inst = ws.inst
    # Unpack once: every hot call below takes plain arrays.
    ht, hk, hn = ws.heap_t, ws.heap_key, ws.heap_size
    fate, fate_t, kill_unit = ws.fate, ws.fate_t, ws.kill_unit
    engagement_count, under_engagement = ws.engagement_count, ws.under_engagement
    eng_unit, eng_shots = ws.eng_unit, ws.eng_shots
    free_channels, magazine, reserve, reloading = (ws.free_channels, ws.magazine, ws.reserve,
                                                   ws.reloading)
    engaged_by, engagements_of = ws.engaged_by, ws.engagements_of
    shots, rounds, engagements, kills = ws.shots, ws.rounds, ws.engagements, ws.kills
    last_decision_t, last_request_t = ws.last_decision_t, ws.last_request_t
    pt_e, pt_n, pt_z, pt_t, seg, n_pts = (inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t,
                                          inst.seg, inst.n_pts)
    t_end, t_impact, fails, in_defended = inst.t_end, inst.t_impact, inst.fails, inst.in_defended
    known_t, win_a, win_b, engageable = inst.known_t, inst.win_a, inst.win_b, inst.engageable
    target_value = inst.target_value
    early_until, early_t_star = ws.early_until, ws.early_t_star
    cand_list, cand_ready, cand_count = ws.cand_list, ws.cand_ready, ws.cand_count
    th_class = sc.th_class
    un_e, un_n, un_pk, un_shots = sc.un_e, sc.un_n, sc.un_pk, sc.un_shots
    un_unlimited, un_rps, un_kind, un_hold = (sc.un_unlimited, sc.un_rounds_per_shot, sc.un_kind,
                                              sc.un_hold)
    un_cycle_s, un_burst_s, un_dwell_s, un_dwell_ref_m = (sc.un_cycle_s, sc.un_burst_s,
                                                          sc.un_dwell_s, sc.un_dwell_ref_m)
    un_delay_s, un_speed, un_reaction_s = sc.un_launch_delay_s, sc.un_speed_mps, sc.un_reaction_s
    un_retarget_s, un_assess_s, un_reload_s = (sc.un_retarget_s, sc.un_assessment_s,
                                               sc.un_reload_s)
    un_max_eng, un_magazine = sc.un_max_engagements, sc.un_magazine
    double_engagement, priority, central = (sc.c2_double_engagement, sc.c2_priority,
                                            sc.c2_central)
    assigned_to = ws.assigned_to
    hold_t, th_decoy = ws.hold_t, sc.th_decoy
    dirty, clean_wake, clean_until = ws.dirty, ws.clean_wake, ws.clean_until
    slot_fresh, slot_ans, slot_until = ws.slot_fresh, ws.slot_ans, ws.slot_until
    held_pos, held_aggr = ws.held_pos, ws.held_aggr
    pending, pending_count, wake_pending = ws.pending, ws.pending_count, ws.wake_pending
    J, U = len(fate), len(un_e)

    ok = True
    for j in range(J):
        ok = push_event(ht, hk, hn, t_end[j], EV_IMPACT, j, NO_SUB) and ok
    for u in range(U):
        n = 0
        for j in range(J):
            ju = np.uint64(j)           # unsigned indices: no wraparound code
            if engageable[u, ju]:
                at = np.uint64(n)
                cand_list[u, at] = j
                cand_ready[u, at] = known_t[u, ju] + un_reaction_s[u]
                n += 1
        cand_count[u, 0] = n
    # One EV_KNOWN event per threat and distinct time units learn of it (next_known_s): such
    # an event only asks those units to decide now, so neither their order nor the unit in
    # the key matters, only the time (MODEL.md §8 puts them after every EV_FREE, before every
    # EV_DECIDE).
    for j in range(J):
        t_known = next_known_s(engageable, known_t, j, -math.inf)
        if t_known < math.inf:
            ok = push_event(ht, hk, hn, t_known, EV_KNOWN, j, NO_SUB) and ok
    if central:
        for j in range(J):
            if inst.net_known_t[j] < t_end[j]:
                ok = push_event(ht, hk, hn, inst.net_known_t[j], EV_FREE, U,
                                free_sub(FREE_ASSIGN, j)) and ok

    now = -math.inf
    while ok:
        # The next event: the pending decision of the lowest unit (at now), or the heap's top
        # if it comes first in (time, kind, index, sub) order.
        u_next = -1
        if pending_count[0] > 0:
            for v in range(U):
                if pending[np.uint64(v)]:       # unsigned: no wraparound code
                    u_next = v
                    break
            if hn[0] > 0 and ht[0] == now and hk[0] < event_key(EV_DECIDE, u_next, NO_SUB):
                u_next = -1
        if u_next >= 0:
            pending[u_next] = False
            pending_count[0] -= 1
            kind, i1, i2 = EV_DECIDE, u_next, NO_SUB
        elif hn[0] > 0:
            now, kind, i1, i2 = pop_event(ht, hk, hn)
            if kind == EV_DECIDE and wake_pending[i1] == now:
                wake_pending[i1] = math.nan
        else:
            break
        if kind == EV_IMPACT:                                   # impact or failure of i1
            j = i1
            if fate[j] == ALIVE:
                fate[j] = FAILED if fails[j] else (LEAKED if in_defended[j] else MISSED)
                fate_t[j] = now
                drop_threat(j, engageable, dirty, slot_fresh, slot_ans, clean_wake, cand_list,
                            cand_ready, cand_count, held_pos, held_aggr)
        elif kind == EV_INTERCEPT:                              # engagement i2 of threat i1
            u = eng_unit[i1, i2]
            resolve_intercept(fate, fate_t, kill_unit, kills, un_pk[u, th_class[i1]], seed, rep,
                              i1, i2, u, eng_shots[i1, i2], now)
            if fate[i1] != ALIVE:
                drop_threat(i1, engageable, dirty, slot_fresh, slot_ans, clean_wake, cand_list,
                            cand_ready, cand_count, held_pos, held_aggr)
        elif kind == EV_FREE:                                   # unit i1
            u, sub_kind = i1, free_kind(i2)
            if sub_kind == FREE_CHANNEL:
                free_channels[u] += 1
                ok = request_decision(last_request_t, pending, pending_count,
                                      wake_pending, ht, hk, hn, u, now, now)
            elif sub_kind == FREE_RELOAD:
                take = reload_take(un_magazine[u], magazine[u], reserve[u])
                magazine[u] += take
                reserve[u] -= take
                reloading[u] = False
                ok = request_decision(last_request_t, pending, pending_count,
                                      wake_pending, ht, hk, hn, u, now, now)
            elif sub_kind == FREE_ASSESSMENT:                   # kill assessment over
                j = free_threat(i2)
                engaged_by[u, j] = False
                under_engagement[j] -= 1
                if fate[j] == ALIVE:        # (a dead one was dropped when it died)
                    touch_threat(j, engageable, dirty, slot_fresh, slot_ans, cand_list, cand_ready,
                                 cand_count, held_pos, held_aggr)
                if central:
                    if c2 is not None:
                        ok = central_c2(sc, inst, ws, FREE_ASSESSMENT, u, j, now) and ok
                elif fate[j] == ALIVE:                          # free to be engaged again
                    for v in range(U):
                        ok = request_decision(last_request_t, pending, pending_count,
                                              wake_pending, ht, hk, hn, v, now, now) and ok
            elif c2 is not None:              # central C2: FREE_ASSIGN (u: none), FREE_LAPSE
                ok = central_c2(sc, inst, ws, sub_kind, u, free_threat(i2), now) and ok
        elif kind == EV_KNOWN:                                  # units learn of threat i1
            for v in range(U):
                uv = np.uint64(v)               # unsigned indices: no wraparound code
                if engageable[uv, i1] and known_t[uv, i1] == now:
                    request_decision(last_request_t, pending, pending_count, wake_pending, ht,
                                     hk, hn, v, now, now)
            t_known = next_known_s(engageable, known_t, i1, now)
            if t_known < math.inf:
                ok = push_event(ht, hk, hn, t_known, EV_KNOWN, i1, NO_SUB) and ok
        else:                                                   # decision of unit i1
            u = i1
            if last_decision_t[u] == now:
                continue
            last_decision_t[u] = now
            rps = un_rps[u]
            while (ok and not reloading[u] and free_channels[u] > 0
                   and (un_unlimited[u] or magazine[u] >= rps)):
                mutant = False                    # (the lean build has no check)
                if check is not None:
                    mutant = check == CHECK_MUTANT
                if (not dirty[u] or mutant) and now < clean_until[u]:
                    j, t_wake = -1, clean_wake[u]     # nothing changed: the last scan holds
                    t_effect = math.nan
                    if check is not None:
                        if check != CHECK_OFF:
                            ws.check_counts[2] += 1
                else:
                    j, t_wake, horizon, t_effect = select_target(
                        u, now, fate, engaged_by, engagements_of, under_engagement,
                        double_engagement, un_max_eng[u], cand_list, cand_ready, cand_count,
                        ws.out_of_reach, win_a, win_b, early_until, early_t_star, pt_e, pt_n,
                        pt_z, pt_t, seg, n_pts, un_e[u], un_n[u],
                        un_unlimited[u], un_delay_s[u], un_speed[u], un_dwell_s[u],
                        un_dwell_ref_m[u], priority, t_impact, target_value, central,
                        assigned_to, th_class, hold_t, slot_fresh, slot_ans, slot_until,
                        held_pos, held_aggr)
                    dirty[u] = central        # central C2 changes assignments: always rescan
                    clean_wake[u] = t_wake
                    clean_until[u] = min(t_wake, horizon)
                if check is not None:
                    if check != CHECK_OFF:
                        ws.check_counts[1] += 1
                        j_full, wake_full = full_scan_target(
                            u, now, fate, engaged_by, engagements_of, under_engagement,
                            double_engagement, un_max_eng[u], engageable, known_t,
                            un_reaction_s[u], win_a, win_b, pt_e, pt_n, pt_z, pt_t, seg, n_pts,
                            un_e[u], un_n[u], un_unlimited[u], un_delay_s[u], un_speed[u],
                            un_dwell_s[u], un_dwell_ref_m[u], priority, t_impact, target_value,
                            central, assigned_to, th_class, hold_t)
                        if j_full != j or (j < 0 and wake_full != t_wake):
                            ws.check_counts[0] += 1
                if j < 0:
                    if t_wake < math.inf:
                        ok = request_decision(last_request_t, pending, pending_count,
                                              wake_pending, ht, hk, hn, u, t_wake, now)
                    break
                # Fire: shots_per_engagement, or what is left in the magazine.
                n = shots_to_fire(un_unlimited[u], un_shots[u, th_class[j]], magazine[u], rps)
                e = record_fire(u, j, n, rps, un_unlimited[u],
                                N_CLASSES if th_decoy[j] else th_class[j], magazine,
                                engagement_count, engagements_of, engaged_by, under_engagement,
                                shots, rounds, engagements, ws.shots_by_class)
                eng_unit[j, e] = u
                eng_shots[j, e] = n
                dirty[u] = True
                drop_threat(j, engageable, dirty, slot_fresh, slot_ans, clean_wake, cand_list,
                            cand_ready, cand_count, held_pos, held_aggr)
                t_intercept = t_effect        # solved by select_target, or:
                if math.isnan(t_intercept):
                    t_intercept = shot_end_time_s(pt_e, pt_n, pt_z, pt_t, seg, n_pts, j, now,
                                                  un_e[u], un_n[u], un_unlimited[u],
                                                  un_delay_s[u], un_speed[u], un_dwell_s[u],
                                                  un_dwell_ref_m[u], win_b[u, j])
                t_free = channel_free_time_s(un_kind[u], un_hold[u], n, now, t_intercept,
                                             un_cycle_s[u], un_burst_s[u], un_unlimited[u])
                free_channels[u] -= 1
                ok = push_event(ht, hk, hn, t_intercept, EV_INTERCEPT, j, e) and ok
                ok = push_event(ht, hk, hn, t_intercept + un_assess_s[u], EV_FREE, u,
                                free_sub(FREE_ASSESSMENT, j)) and ok
                ok = push_event(ht, hk, hn, t_free + un_retarget_s[u], EV_FREE, u,
                                free_sub(FREE_CHANNEL, NO_SUB)) and ok
                note_ammunition(sc, u, now, magazine[u], reserve[u], ws.out_of_ammo_t, hold_t)
                for c in range(N_CLASSES):
                    if hold_t[u, c] == now:               # hold_for starts: rescan all of u
                        for k in range(J):
                            slot_fresh[u, k] = False
                        held_aggr[u, 1] = -math.inf   # and its held answers go back
                        break
                if not un_unlimited[u] and magazine[u] < rps and reserve[u] > 0:
                    reloading[u] = True
                    note_reload(u, now, now + un_reload_s[u], ws.reload_start, ws.reload_end)
                    ok = push_event(ht, hk, hn, now + un_reload_s[u], EV_FREE, u,
                                    free_sub(FREE_RELOAD, NO_SUB)) and ok
                if central:
                    if c2 is not None:
                        ok = central_c2(sc, inst, ws, C2_AFTER_FIRE, u, j, now) and ok
    return ok


@njit(**JIT, inline="always")
def reset_state(sc, ws):
    """Fresh dynamic state for a replication (plain loops: cheaper to compile than slices).
    Inlined in its callers (run_chunk, the debug mode's loop): as a function of its own it took
    the scenario and workspace tuples flattened, and compiled for 1.2-1.7 s on the path of a
    cold compile's second process to run_events."""
    ws.heap_size[0] = 0
    ws.pending_count[0] = 0
    J, U = len(ws.fate), len(ws.shots)
    for k in range(len(ws.check_counts)):
        ws.check_counts[k] = 0
    for j in range(J):
        ws.fate[j] = ALIVE
        ws.fate_t[j] = np.nan
        ws.kill_unit[j] = -1
        ws.engagement_count[j] = 0
        ws.under_engagement[j] = 0
    for u in range(U):
        ws.free_channels[u] = sc.un_channels[u]
        ws.magazine[u] = sc.un_magazine[u]
        ws.reserve[u] = sc.un_reserve[u]
        ws.reloading[u] = False
        ws.shots[u] = 0
        ws.rounds[u] = 0
        ws.engagements[u] = 0
        ws.kills[u] = 0
        ws.last_decision_t[u] = -np.inf
        ws.last_request_t[u] = np.nan
        ws.out_of_ammo_t[u] = np.inf
        ws.queue_count[u] = 0
        ws.cand_count[u, 1] = 0
        ws.held_aggr[u, 0] = np.inf
        ws.held_aggr[u, 1] = np.inf
        ws.dirty[u] = True
        ws.pending[u] = False
        ws.wake_pending[u] = np.nan
        for k in range(MAX_RELOADS_NOTED):
            ws.reload_start[u, k] = np.inf
            ws.reload_end[u, k] = np.inf
        for c in range(N_CLASSES + 1):
            ws.shots_by_class[u, c] = 0
            if c < N_CLASSES:
                ws.hold_t[u, c] = np.inf
        note_ammunition(sc, u, -np.inf, ws.magazine[u], ws.reserve[u], ws.out_of_ammo_t,
                        ws.hold_t)
        for j in range(J):
            ws.engaged_by[u, j] = False
            ws.engagements_of[u, j] = 0
            ws.early_until[u, j] = -np.inf
            ws.out_of_reach[u, j] = False
            ws.assigned_ever[u, j] = False
            ws.slot_fresh[u, j] = False
            ws.held_pos[u, j] = -1
    for j in range(J):
        ws.assigned_to[j] = -1
        ws.assign_engaged[j] = False
        ws.waiting[j] = False


# ---------------------------------------------------------------------------- chunks
@njit(**JIT, nogil=True)
def run_chunk(sc, ws, c2, check, seed, rep0, lo, hi, fate, fate_t, kill_unit, impact_e, impact_n,
              shots, rounds, engagements, kills, asset_hits, threat_engagements, why,
              shots_by_class):
    """Replications rep0+lo .. rep0+hi-1 into rows lo .. hi-1, reusing the workspace ws
    (new_workspace; one per thread); (c2, check) = loop_build(sc), the build of the event
    loop (passed on to run_events as they are: a branch on them here would not be pruned for
    an int64 argument, and compiling the central build would compile the lean run_events too).

    Releases the GIL, so chunks run in parallel on threads (engine.montecarlo); every
    replication writes only its own rows, so results do not depend on the thread count.
    Returns the number of replications whose event heap overflowed (then rerun larger)."""
    overflow = 0
    for r in range(lo, hi):
        prepare(sc, seed, rep0 + r, ws.inst)
        reset_state(sc, ws)
        if not run_events(sc, seed, rep0 + r, ws, check, c2):
            overflow += 1
        finish_replication(sc, ws, r, fate, fate_t, kill_unit, impact_e, impact_n, shots, rounds,
                           engagements, kills, asset_hits, threat_engagements, why,
                           shots_by_class)
    return overflow


@njit(**INTERNAL)
def finish_replication(sc, ws, r, fate, fate_t, kill_unit, impact_e, impact_n, shots, rounds,
                       engagements, kills, asset_hits, threat_engagements, why, shots_by_class):
    """After run_events: asset hits, not-engaged reasons, and row r of the outputs. (Its own
    function so that a cold compile's first process can compile it while the second compiles
    run_events: montecarlo.compile_in_two_processes.)"""
    J, U, A = fate.shape[1], shots.shape[1], asset_hits.shape[1]
    inst = ws.inst
    count_asset_hits(ws.fate, sc.th_decoy, sc.th_lethal_m, inst.impact_e, inst.impact_n,
                     sc.as_vert_e, sc.as_vert_n, sc.as_start, sc.as_reach_e, sc.as_reach_n,
                     sc.as_reach_m, ws.asset_hits)
    not_engaged_reasons(sc, inst, ws.engagement_count, ws.out_of_ammo_t, ws.hold_t,
                        ws.assigned_ever, ws.reload_start, ws.reload_end, ws.shots,
                        ws.unit_order, ws.why)
    for j in range(J):
        threat_engagements[r, j] = ws.engagement_count[j]
        why[r, j] = ws.why[j]
        fate[r, j] = ws.fate[j]
        fate_t[r, j] = ws.fate_t[j]
        kill_unit[r, j] = ws.kill_unit[j]
        impact_e[r, j] = inst.impact_e[j]
        impact_n[r, j] = inst.impact_n[j]
    for u in range(U):
        shots[r, u] = ws.shots[u]
        rounds[r, u] = ws.rounds[u]
        engagements[r, u] = ws.engagements[u]
        kills[r, u] = ws.kills[u]
        for c in range(N_CLASSES + 1):
            shots_by_class[r, u, c] = ws.shots_by_class[u, c]
    for a in range(A):
        asset_hits[r, a] = ws.asset_hits[a]


def check_replications(sc, seed, rep0, n_reps, mode=CHECK_ON):
    """Debug mode of the incremental targeting: replications rep0 .. rep0+n_reps-1 with every
    decision re-made by the full scan (mode CHECK_ON, or CHECK_MUTANT). Returns the totals of
    [decisions where the full scan chose otherwise or woke at another time, decisions, decisions
    whose scan was skipped]. Every scenario runs the central build here (c2_build): the lean
    build of a scenario whose units decide alone has no check. The two share all the code of
    the targeting and differ only in the branches Numba prunes from the lean one; the engines'
    agreement tests run the lean one."""
    totals = np.zeros(3, np.int64)
    _check_replications(sc, new_workspace(sc, heap_capacity_for(sc)), seed, rep0, n_reps,
                        mode, totals)
    return totals


@njit(**JIT)
def _check_replications(sc, ws, seed, rep0, n_reps, mode, totals):
    for r in range(rep0, rep0 + n_reps):
        prepare(sc, seed, r, ws.inst)
        reset_state(sc, ws)
        run_events(sc, seed, r, ws, mode, CENTRAL_BUILD)   # the central build
        for k in range(3):
            totals[k] += ws.check_counts[k]


def c2_build(sc):
    """Which build of the event loop a scenario runs (run_chunk's argument c2): None when its
    units decide alone, the lean build (run_events without the debug check and without
    central C2's calls: full_scan_target and central_c2 are not compiled for it);
    CENTRAL_BUILD for central C2, the build that has both, which the debug mode
    (check_replications) runs for every scenario. Two signatures in Numba's cache; a scenario
    compiles only its own."""
    return CENTRAL_BUILD if sc.c2_central else None


def loop_build(sc) -> tuple:
    """(c2, check), run_chunk's arguments for this scenario: (None, None), the lean build, or
    (CENTRAL_BUILD, CHECK_OFF), the central build without its check running (c2_build)."""
    c2 = c2_build(sc)
    return c2, (None if c2 is None else CHECK_OFF)


def event_loop_signature(sc, ws) -> tuple:
    """run_events' argument types as run_chunk calls it: what the second process of a cold
    compile compiles (montecarlo.compile_in_two_processes; a test checks run_chunk asks for
    exactly this)."""
    c2, check = loop_build(sc)
    return (typeof(sc), types.int64, types.int64, typeof(ws), typeof(check), typeof(c2))


def _field_type(tuple_type, name: str):
    return tuple_type.types[tuple_type.fields.index(name)]


def _member_types(sc, ws):
    """Accessors of the types run_events sees for a member of the scenario tuple (s), the
    workspace tuple (w) and the instances tuple (i), and for one unit's element of a per-unit
    scenario array (of_unit)."""
    sc_t, ws_t = typeof(sc), typeof(ws)
    inst_t = _field_type(ws_t, "inst")

    def s(name):
        return _field_type(sc_t, name)

    def w(name):
        return _field_type(ws_t, name)

    def i(name):
        return _field_type(inst_t, name)

    def of_unit(name):
        return s(name).dtype

    return s, w, i, of_unit


def _trajectory_types(i) -> tuple:
    """pt_e, pt_n, pt_z, pt_t, seg, n_pts: the trajectory arrays every shot solver takes."""
    return tuple(i(name) for name in ("pt_e", "pt_n", "pt_z", "pt_t", "seg", "n_pts"))


def _unit_weapon_types(of_unit) -> tuple:
    """The unit's position and weapon, as the shot solvers take them."""
    return tuple(of_unit(name) for name in ("un_e", "un_n", "un_unlimited",
                                            "un_launch_delay_s", "un_speed_mps", "un_dwell_s",
                                            "un_dwell_ref_m"))


def targeting_signatures(sc, ws) -> tuple[tuple, tuple]:
    """The argument types run_events passes to select_target and to full_scan_target, read off
    the scenario's and the workspace's tuple types (as run_events sees their members)."""
    s, w, i, of_unit = _member_types(sc, ws)
    geometry = (*_trajectory_types(i), *_unit_weapon_types(of_unit), s("c2_priority"),
                i("t_impact"), i("target_value"), s("c2_central"), w("assigned_to"),
                s("th_class"), w("hold_t"))
    head = (types.int64, types.float64, w("fate"), w("engaged_by"), w("engagements_of"),
            w("under_engagement"), s("c2_double_engagement"), of_unit("un_max_engagements"))
    select = (*head, w("cand_list"), w("cand_ready"), w("cand_count"), w("out_of_reach"),
              i("win_a"), i("win_b"), w("early_until"), w("early_t_star"), *geometry,
              w("slot_fresh"), w("slot_ans"), w("slot_until"), w("held_pos"), w("held_aggr"))
    full = (*head, i("engageable"), i("known_t"), of_unit("un_reaction_s"), i("win_a"),
            i("win_b"), *geometry)
    return select, full


def shot_solver_signature(sc, ws) -> tuple:
    """The argument types select_target passes to intercept.earliest_shot_and_effect_s, the
    shot solver (first_useful_shot_s, which central_c2 and finish_replication reach, passes
    the same): j from its candidate list, t_from = max(now, t_ready), the window's ends."""
    _, w, i, of_unit = _member_types(sc, ws)
    return (*_trajectory_types(i), w("cand_list").dtype, w("cand_ready").dtype,
            i("win_a").dtype, i("win_b").dtype, *_unit_weapon_types(of_unit))


def compile_shot_solver(sc) -> None:
    """Compile (or load) intercept.earliest_shot_and_effect_s, with shot_end_time_s and the
    intercept and dwell solvers it calls, as select_target calls it."""
    earliest_shot_and_effect_s.compile(shot_solver_signature(sc, new_workspace(sc, 64)))


def compile_first_useful_shot(sc) -> None:
    """Compile (or load) intercept.first_useful_shot_s, which central assignment (c2_assign)
    and the not-engaged reasons (finish_replication) call, with earliest_shot_time_s under it:
    its arguments are the shot solver's (shot_solver_signature)."""
    first_useful_shot_s.compile(shot_solver_signature(sc, new_workspace(sc, 64)))


def compile_targeting(sc) -> None:
    """Compile (or load) select_target, and full_scan_target if the scenario's build calls it
    (central C2: c2_build), as run_events calls them."""
    select, full = targeting_signatures(sc, new_workspace(sc, 64))
    select_target.compile(select)
    if c2_build(sc) is not None:
        full_scan_target.compile(full)


def compile_central_assignment(sc) -> None:
    """Compile (or load) central_c2 as run_events calls it (c2_assign, which it calls, is
    inlined in it)."""
    ws_t = typeof(new_workspace(sc, 64))
    central_c2.compile((typeof(sc), _field_type(ws_t, "inst"), ws_t, types.int64, types.int64,
                        types.int64, types.float64))


def compile_event_loop(sc) -> None:
    """Compile (or load from Numba's cache) run_events for this scenario's types."""
    run_events.compile(event_loop_signature(sc, new_workspace(sc, 64)))


def compile_preparation(sc) -> None:
    """Compile (or load) prepare with the argument types run_chunk passes."""
    prepare.compile((typeof(sc), types.int64, types.int64, typeof(new_workspace(sc, 64).inst)))


def compile_finish(sc, outputs) -> None:
    """Compile (or load) finish_replication with the argument types run_chunk passes (outputs:
    run_chunk's output arrays, montecarlo.Block without rep0)."""
    finish_replication.compile((typeof(sc), typeof(new_workspace(sc, 64)), types.int64,
                                *(typeof(a) for a in outputs)))


def heap_capacity_for(sc) -> int:
    J, U = len(sc.th_raid), len(sc.un_e)
    return 4 * (J + U * J) + 64 * U + 1024
