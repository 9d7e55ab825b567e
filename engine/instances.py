"""One replication's threat instances and their geometry, shared by both engines.

Everything here is fixed at the start of a replication and depends only on the scenario, the
seed and the replication number (never on what the defense does): launch times, launch and
aim points, impact points, failures, trajectories, detection times, the time each unit knows
each threat, and each unit's engagement window against each threat. Both engines call
`prepare_replication` and then differ only in their event machinery (MODEL.md §3, §4, §5, §9).
"""
import math
from typing import NamedTuple

import numpy as np
from numba import njit

from salvosim.bases.areas import clear_of_reach, point_in_polygon, within_m_of_polygon
from salvosim.defenses.doctrine import doctrine_allows, unit_window
from salvosim.defenses.intercept import latest_useful_shot_s
from salvosim.defenses.sensors import detection_lower_bound_s, detection_time_s
from salvosim.engine.constants import (
    AIM_POINT,
    AIM_RANDOM_ASSET,
    ARRIVAL_FIXED,
    CEP_TO_SIGMA,
    FIRST_INDEX,
    LEAKED,
    MISSED,
    PRIORITY_VALUE,
    S_AIM_ASSET,
    S_AIM_X,
    S_AIM_Y,
    S_CEP_X,
    S_CEP_Y,
    S_DISCRIMINATE,
    S_FAIL,
    S_FAIL_TIME,
    S_LAUNCH_JITTER,
    S_LAUNCH_X,
    S_LAUNCH_Y,
    S_POISSON_GAP,
)
from salvosim.engine.jit import INTERNAL, JIT
from salvosim.engine.rng import K0, entity_key, exponential_of, normal_of, stream_key, uniform_of
from salvosim.threats.trajectory import build_ballistic, build_cruise, max_ground_speed_mps, new_trajectories


class Instances(NamedTuple):
    """Per-replication arrays (allocated once per thread, refilled every replication)."""
    pt_e: np.ndarray        # [J, MAX_PTS] trajectory points (see trajectory.py)
    pt_n: np.ndarray
    pt_z: np.ndarray
    pt_t: np.ndarray
    seg: np.ndarray         # [J, MAX_PTS, SEG_FIELDS] per segment: bulge, speed bounds from it on
    n_pts: np.ndarray       # [J]
    t_launch: np.ndarray    # [J] s
    t_impact: np.ndarray    # [J] s (predicted; the real end is t_end)
    t_end: np.ndarray       # [J] s: failure time if it fails, else impact time
    fails: np.ndarray       # [J] bool
    impact_e: np.ndarray    # [J] m
    impact_n: np.ndarray
    in_defended: np.ndarray  # [J] bool: predicted impact inside the defended area
    target_value: np.ndarray  # [J] asset value within lethal radius of the aim point
                              #   (computed only for the `value` priority, its one use)
    aim_e: np.ndarray       # [J] m: the aim point A (what the defender can infer)
    aim_n: np.ndarray
    recognised: np.ndarray  # [J] bool: a decoy the C2 recognises as one (never engaged)
    net_known_t: np.ndarray  # [J] s: first network track (sensor track + latency; inf: none)
    latest_shot: np.ndarray  # [U, J] s: latest useful shot (central assignment only; else nan)
    detect_t: np.ndarray    # [S, J] first detection, s (inf: never; or not computed, when it
                            #   could not change any known time: all_detections computes all)
    known_t: np.ndarray     # [U, J] time unit u knows threat j (inf: never)
    win_a: np.ndarray       # [U, J] engagement window start (nan: none, or not engageable)
    win_b: np.ndarray       # [U, J] engagement window end
    engageable: np.ndarray  # [U, J] bool: u may ever engage j (class, known in time, window,
                            #   defended-area rule); the dynamic rules are the engines'
    buf: np.ndarray         # float scratch for root finding
    sense_lb: np.ndarray    # [S] scratch: detection lower bounds of one threat
    sense_done: np.ndarray  # [S] scratch: detection computed


def new_instances(sc):
    """Arrays for one replication (one per worker; both engines allocate them here). Plain
    numpy, not compiled: a Numba function taking the whole scenario costs seconds to compile."""
    J, S, U = len(sc.th_raid), len(sc.se_e), len(sc.un_e)
    return Instances(
        **dict(zip(("pt_e", "pt_n", "pt_z", "pt_t", "seg", "n_pts"), new_trajectories(J))),
        t_launch=np.zeros(J), t_impact=np.zeros(J), t_end=np.zeros(J),
        fails=np.zeros(J, np.bool_), impact_e=np.zeros(J), impact_n=np.zeros(J),
        in_defended=np.zeros(J, np.bool_), target_value=np.zeros(J), aim_e=np.zeros(J),
        aim_n=np.zeros(J), recognised=np.zeros(J, np.bool_), net_known_t=np.full(J, np.inf),
        latest_shot=np.full((U, J), np.nan), detect_t=np.full((S, J), np.inf),
        known_t=np.full((U, J), np.inf), win_a=np.full((U, J), np.nan),
        win_b=np.full((U, J), np.nan), engageable=np.zeros((U, J), np.bool_),
        buf=np.zeros(32), sense_lb=np.zeros(S), sense_done=np.zeros(S, np.bool_))


@njit(**JIT, inline="always")
def draw_launch_times(sc, seed, rep, t_launch):
    """Fixed schedule with optional uniform jitter, or Poisson arrivals (MODEL.md §3)."""
    jitter_key = stream_key(seed, rep, S_LAUNCH_JITTER)
    gap_key = stream_key(seed, rep, S_POISSON_GAP)
    for k in range(len(sc.rd_first)):
        t_prev = sc.rd_start_s[k]
        for i in range(sc.rd_count[k]):
            j = sc.rd_first[k] + i
            if sc.rd_arrival[k] == ARRIVAL_FIXED:
                t_launch[j] = (sc.rd_start_s[k] + i * sc.rd_interval_s[k]
                               + sc.rd_jitter_s[k] * uniform_of(entity_key(jitter_key, j), K0))
            else:
                t_prev += exponential_of(entity_key(gap_key, j), sc.rd_rate_per_s[k])
                t_launch[j] = t_prev


@njit(**JIT, inline="always")
def draw_threats(sc, seed, rep, inst):
    """Launch point, aim point, impact point, trajectory and failure of every threat. The
    (seed, replication, stream) part of each stream's hash is computed once, here."""
    keys = (stream_key(seed, rep, S_LAUNCH_X), stream_key(seed, rep, S_LAUNCH_Y),
            stream_key(seed, rep, S_AIM_ASSET), stream_key(seed, rep, S_AIM_X),
            stream_key(seed, rep, S_AIM_Y), stream_key(seed, rep, S_CEP_X),
            stream_key(seed, rep, S_CEP_Y), stream_key(seed, rep, S_DISCRIMINATE),
            stream_key(seed, rep, S_FAIL), stream_key(seed, rep, S_FAIL_TIME))
    for j in range(len(sc.th_raid)):
        draw_threat(sc, keys, j, inst)


@njit(**JIT, inline="always")
def draw_threat(sc, keys, j, inst):
    """Threat j's draws; keys: draw_threats' stream keys (rng.stream_key)."""
    (launch_x, launch_y, aim_asset, aim_x, aim_y, cep_x, cep_y, discriminate, fail,
     fail_time) = keys
    spread = sc.th_launch_spread_m[j]
    launch_e = sc.th_site_e[j] + spread * normal_of(entity_key(launch_x, j))
    launch_n = sc.th_site_n[j] + spread * normal_of(entity_key(launch_y, j))
    mode = sc.th_aim_mode[j]
    if mode == AIM_POINT:
        target_e, target_n = sc.th_aim_e[j], sc.th_aim_n[j]
    else:
        a = mode
        if mode == AIM_RANDOM_ASSET:
            n_assets = len(sc.as_value)
            a = min(int(uniform_of(entity_key(aim_asset, j), K0) * n_assets), n_assets - 1)
        target_e, target_n = sc.as_aim_e[a], sc.as_aim_n[a]
    aim_e = target_e + sc.th_aim_spread_m[j] * normal_of(entity_key(aim_x, j))
    aim_n = target_n + sc.th_aim_spread_m[j] * normal_of(entity_key(aim_y, j))
    cep = sc.th_cep_m[j]
    if cep <= 0.0:
        cep = sc.th_cep_frac[j] * math.hypot(aim_e - launch_e, aim_n - launch_n)
    sigma = cep * CEP_TO_SIGMA
    impact_e = aim_e + sigma * normal_of(entity_key(cep_x, j))
    impact_n = aim_n + sigma * normal_of(entity_key(cep_y, j))
    inst.impact_e[j] = impact_e
    inst.impact_n[j] = impact_n
    inst.aim_e[j] = aim_e
    inst.aim_n[j] = aim_n
    inst.recognised[j] = (sc.th_decoy[j] and sc.c2_decoy_discrimination > 0.0 and
                          uniform_of(entity_key(discriminate, j), K0)
                          < sc.c2_decoy_discrimination)

    t0 = inst.t_launch[j]
    if sc.th_cruise[j]:
        build_cruise(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts, j, t0,
                     launch_e, launch_n, impact_e, impact_n, sc.th_speed_mps[j],
                     sc.th_altitude_m[j], sc.th_dive_m[j], sc.th_has_ingress[j],
                     sc.th_ingress_bearing_rad[j], sc.th_ingress_m[j])
    else:
        apogee = sc.th_apogee_m[j]
        if apogee <= 0.0:
            apogee = sc.th_apogee_ratio[j] * math.hypot(impact_e - launch_e, impact_n - launch_n)
        build_ballistic(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts, j,
                        t0, launch_e, launch_n, impact_e, impact_n, sc.th_speed_mps[j], apogee)
    t_impact = inst.pt_t[j, inst.n_pts[j] - 1]
    inst.t_impact[j] = t_impact
    fails = uniform_of(entity_key(fail, j), K0) < 1.0 - sc.th_reliability[j]
    inst.fails[j] = fails
    inst.t_end[j] = t_impact
    if fails:
        inst.t_end[j] = t0 + uniform_of(entity_key(fail_time, j), K0) * (t_impact - t0)

    inst.in_defended[j] = point_in_polygon(impact_e, impact_n, sc.da_e, sc.da_n, FIRST_INDEX,
                                          len(sc.da_e))
    # The `value` priority scores the aim point: the defender does not know the miss distance.
    value = 0.0
    for a in range(len(sc.as_value) if sc.c2_priority == PRIORITY_VALUE else 0):
        if within_m_of_polygon(aim_e, aim_n, sc.as_vert_e, sc.as_vert_n, sc.as_start[a],
                               sc.as_start[a + 1], sc.th_lethal_m[j]):
            value += sc.as_value[a]
    inst.target_value[j] = value


@njit(**JIT, inline="always")
def sense_and_window(sc, inst):
    """For every threat: detections, when each unit knows it, and each unit's window."""
    for j in range(len(sc.th_raid)):
        sense_and_window_one(sc, j, inst)


@njit(**JIT, inline="always")
def detect(sc, inst, s, j):
    """Sensor s's first detection of threat j (before its end), into detect_t."""
    inst.detect_t[s, j] = detection_time_s(
        inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts, j, inst.t_end[j],
        sc.se_e[s], sc.se_n[s], sc.se_height_m[s], sc.se_det_range_m[s, j], sc.se_facing_deg[s],
        sc.se_width_deg[s], inst.buf)
    inst.sense_done[s] = True


@njit(**JIT)
def all_detections(sc, inst):
    """Every sensor's detection of every threat (the trace's timeline; prepare_replication
    computes only those that can set a known time)."""
    for j in range(len(sc.th_raid)):
        for s in range(len(sc.se_e)):
            inst.detect_t[s, j] = math.inf
            if sc.se_tracks[s, sc.th_class[j]]:
                detect(sc, inst, s, j)


@njit(**JIT, inline="always")
def sense_and_window_one(sc, j, inst):
    ju = np.uint64(j)                   # unsigned index: no wraparound code
    c = sc.th_class[ju]
    t_end = inst.t_end[ju]
    # Detections are computed only where they can set a known time (MODEL.md §4): the network
    # track is the least (detection + track delay) over the sensors, so sensors are taken in
    # order of a lower bound of that (detection_lower_bound_s) until the bound passes the best
    # found; a unit's own sensor counts only if it can beat the network track.
    v_ground = max_ground_speed_mps(inst.seg, inst.n_pts, j)
    for s in range(len(sc.se_e)):
        inst.detect_t[s, ju] = math.inf
        inst.sense_done[s] = True
        inst.sense_lb[s] = math.inf
        if sc.se_tracks[s, c]:
            lb = detection_lower_bound_s(inst.pt_e, inst.pt_n, inst.pt_t, j, v_ground,
                                         sc.se_e[s], sc.se_n[s], sc.se_det_range_m[s, ju])
            if lb <= t_end:                 # else never detected before the threat's end
                inst.sense_lb[s] = lb + sc.se_track_delay_s[s]
                inst.sense_done[s] = False
    # Earliest network track: any sensor's track time plus the network latency.
    shared = math.inf
    if sc.c2_network:
        best = math.inf
        for _ in range(len(sc.se_e)):
            s_next, lb_next = -1, math.inf
            for s in range(len(sc.se_e)):
                if not inst.sense_done[s] and inst.sense_lb[s] < lb_next:
                    s_next, lb_next = s, inst.sense_lb[s]
            if s_next < 0 or lb_next >= best:
                break
            detect(sc, inst, s_next, j)
            best = min(best, inst.detect_t[s_next, ju] + sc.se_track_delay_s[s_next])
        shared = best + sc.c2_latency_s
    inst.net_known_t[ju] = shared
    for u in range(len(sc.un_e)):
        s = sc.un_sensor[u]
        if (s >= 0 and sc.un_engages[u, c] and not inst.sense_done[s]
                and inst.sense_lb[s] < shared):
            detect(sc, inst, s, j)
    for u in range(len(sc.un_e)):
        inst.known_t[u, ju] = math.inf
        inst.win_a[u, ju] = math.nan
        inst.win_b[u, ju] = math.nan
        inst.engageable[u, ju] = False
        if not sc.un_engages[u, c]:
            continue
        own = math.inf
        s = sc.un_sensor[u]
        if s >= 0:
            own = inst.detect_t[s, ju] + sc.se_track_delay_s[s]
        inst.known_t[u, ju] = min(own, shared)
        inst.latest_shot[u, ju] = math.nan
        if (inst.known_t[u, ju] >= t_end or (sc.un_defended_only[u] and not inst.in_defended[ju])
                or inst.recognised[ju] or not doctrine_allows(sc, inst, u, j)):
            continue    # never engageable: its window is not needed
        a, b = unit_window(sc, inst, u, j, inst.known_t[u, ju] + sc.un_reaction_s[u])
        inst.win_a[u, ju] = a
        inst.win_b[u, ju] = b
        inst.engageable[u, ju] = not math.isnan(a)
        if sc.c2_central and inst.engageable[u, ju]:
            inst.latest_shot[u, ju] = latest_useful_shot_s(
                inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg, inst.n_pts, j, a, b,
                sc.un_e[u], sc.un_n[u], sc.un_unlimited[u], sc.un_launch_delay_s[u],
                sc.un_speed_mps[u], sc.un_dwell_s[u], sc.un_dwell_ref_m[u])


@njit(**INTERNAL)
def prepare(sc, seed, rep, inst):
    """Replication rep's draws, detections and windows into inst (the kernel's entry: no
    CPython wrapper, whose unboxing of the scenario tuple costs seconds of compile)."""
    draw_launch_times(sc, seed, rep, inst.t_launch)
    draw_threats(sc, seed, rep, inst)
    sense_and_window(sc, inst)


@njit(**JIT)
def prepare_replication(sc, seed, rep, inst):
    """prepare, callable from Python (the reference engine, the trace, tests)."""
    prepare(sc, seed, rep, inst)


@njit(**JIT)
def count_asset_hits(fate, decoy, lethal_m, impact_e, impact_n, vert_e, vert_n, vert_start,
                     reach_e, reach_n, reach_m, asset_hits):
    """Impacts on each asset (MODEL.md §7 v2): every real threat that reached the ground,
    leaked or missed, damages every asset whose polygon lies within its lethal radius of I.
    An asset whose reach circle (compile: as_reach_*) is clearly beyond the lethal radius is
    ruled out without testing its edges."""
    for a in range(len(asset_hits)):
        asset_hits[a] = 0
    for j in range(len(fate)):
        if (fate[j] != LEAKED and fate[j] != MISSED) or decoy[j]:
            continue
        for a in range(len(asset_hits)):
            if clear_of_reach(impact_e[j], impact_n[j], reach_e[a], reach_n[a], reach_m[a],
                              lethal_m[j]):
                continue
            if within_m_of_polygon(impact_e[j], impact_n[j], vert_e, vert_n, vert_start[a],
                                   vert_start[a + 1], lethal_m[j]):
                asset_hits[a] += 1
