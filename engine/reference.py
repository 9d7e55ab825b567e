"""The SimPy reference engine: the engagement model of MODEL.md as readable processes.

This is the executable specification, the trace tool and the test oracle of the Numba engine.
It shares the geometry core (engine.instances: draws, trajectories, detection, windows,
intercept times) and differs from engine.kernel only in event machinery.

Processes: one per threat (it flies until impact or failure), one per (unit, threat) track
(the unit learns of the threat), one per engagement (intercept, then kill assessment), one per
channel hold and one per reload. Fire channels are SimPy resources. Unit decisions are events
whose callbacks run the threat-evaluation and weapon-assignment rule of MODEL.md §6.

Event order (MODEL.md §8). Every event is scheduled at an absolute time with a priority
(kind, index, sub-index), so that equal-time events run as the model prescribes: impacts and
failures, intercepts, channel frees / reload ends / kill-assessment ends, threats becoming
known, then unit decisions in unit order. The Numba engine's heap uses the same keys.
"""
from __future__ import annotations

import math
from heapq import heappush
from typing import NamedTuple

import numpy as np
import simpy

from salvosim.defenses.doctrine import (
    ammunition_stops,
    assign_threat,
    channel_free_time_s,
    held_back_reason,
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
    unit_not_engaged_reason,
)
from salvosim.defenses.intercept import earliest_shot_time_s, shot_end_time_s
from salvosim.engine.constants import (
    ALIVE,
    EV_DECIDE,
    EV_FREE,
    EV_IMPACT,
    EV_INTERCEPT,
    EV_KNOWN,
    FAILED,
    FATE_NAMES,
    FREE_ASSESSMENT,
    FREE_ASSIGN,
    FREE_CHANNEL,
    FREE_LAPSE,
    FREE_RELOAD,
    KILLED,
    LEAKED,
    MAX_RELOADS_NOTED,
    MISSED,
    N_CLASSES,
    THREAT_CLASSES,
    WHY_ENGAGED,
    WHY_NAMES,
    WHY_NOT_ASSIGNED,
)
from salvosim.engine.events import event_priority, free_sub
from salvosim.engine.instances import all_detections, count_asset_hits, new_instances, prepare_replication


class _At(simpy.Event):
    """An event that fires at an absolute time with a model priority."""

    def __init__(self, env: "OrderedEnvironment", t_s: float, priority: int):
        super().__init__(env)
        self._ok = True
        self._value = None
        heappush(env._queue, (t_s, priority, next(env._eid), self))


class OrderedEnvironment(simpy.Environment):
    def at(self, t_s: float, kind: int, index: int, sub: int = 0) -> _At:
        if t_s < self.now:
            raise RuntimeError(f"event scheduled in the past: {t_s} < {self.now}")
        return _At(self, t_s, event_priority(kind, index, sub))


class ReplicationOutcome(NamedTuple):
    """What one replication produced, identical in layout for both engines."""
    fate: np.ndarray         # [J] int8 (constants.ALIVE .. MISSED)
    fate_t: np.ndarray       # [J] s
    kill_unit: np.ndarray    # [J] unit index or -1
    impact_e: np.ndarray     # [J] m (drawn impact point, whatever the fate)
    impact_n: np.ndarray
    shots: np.ndarray        # [U] interceptors or bursts or dwells fired
    rounds: np.ndarray       # [U] rounds (guns) or interceptors fired
    engagements: np.ndarray  # [U]
    kills: np.ndarray        # [U]
    asset_hits: np.ndarray   # [A] impacts of real threats on each asset (leaked or missed)
    threat_engagements: np.ndarray  # [J] engagements of each threat, all units
    why: np.ndarray          # [J] int8 why never engaged (constants.WHY_*)
    shots_by_class: np.ndarray  # [U, N_CLASSES + 1] shots by target class (last: decoys)


class ReferenceReplication:
    """One replication of the model, run by SimPy."""

    def __init__(self, sc, seed: int, rep: int, labels=None, trace: bool = False):
        self.sc, self.seed, self.rep, self.labels = sc, seed, rep, labels
        self.inst = new_instances(sc)
        prepare_replication(sc, seed, rep, self.inst)
        J, U = len(sc.th_raid), len(sc.un_e)
        self.J, self.U = J, U
        self.env = OrderedEnvironment()
        self.log: list[tuple[float, int, str]] | None = [] if trace else None
        # Threat state
        self.fate = np.zeros(J, np.int8)
        self.fate_t = np.full(J, np.nan)
        self.kill_unit = np.full(J, -1, np.int64)
        self.engagement_count = np.zeros(J, np.int64)     # engagements of j so far (all units)
        self.under_engagement = np.zeros(J, np.int64)     # units engaging j right now
        # Unit state
        self.channels = [simpy.Resource(self.env, capacity=int(c)) for c in sc.un_channels]
        self.magazine = sc.un_magazine.copy()
        self.reserve = sc.un_reserve.copy()
        self.reloading = [False] * U
        self.engaged_by = np.zeros((U, J), np.bool_)
        self.engagements_of = np.zeros((U, J), np.int64)  # engagements of j by this unit
        self.shots = np.zeros(U, np.int64)
        self.rounds = np.zeros(U, np.int64)
        self.engagements = np.zeros(U, np.int64)
        self.kills = np.zeros(U, np.int64)
        self.last_decision_t = [-math.inf] * U
        self.last_request_t = [math.nan] * U
        self.out_of_ammo_t = np.full(U, np.inf)           # when u fired its last round
        self.hold_t = np.full((U, N_CLASSES), np.inf)     # from when hold_for stops a class
        self.shots_by_class = np.zeros((U, N_CLASSES + 1), np.int64)   # last column: decoys
        self.reload_start = np.full((U, MAX_RELOADS_NOTED), np.inf)     # reloads, for the
        self.reload_end = np.full((U, MAX_RELOADS_NOTED), np.inf)       # not-engaged reasons
        for u in range(U):
            note_ammunition(sc, u, -math.inf, self.magazine[u], self.reserve[u],
                            self.out_of_ammo_t, self.hold_t)
        # Central weapon assignment (MODEL.md §6 v2)
        self.assigned_to = np.full(J, -1, np.int64)
        self.assign_engaged = np.zeros(J, np.bool_)
        self.queue_count = np.zeros(U, np.int64)
        self.assigned_ever = np.zeros((U, J), np.bool_)
        self.waiting = np.zeros(J, np.bool_)
        # Every engagement as (unit, threat, engagement number, shot time, intercept time, shots)
        self.engagement_log: list[tuple[int, int, int, float, float, int]] = []

    # ------------------------------------------------------------------ helpers
    def say(self, text: str, order: int = 5) -> None:
        if self.log is not None:
            self.log.append((self.env.now, order, text))

    def threat_name(self, j: int) -> str:
        return self.labels.threat_names[j] if self.labels else f"threat {j}"

    def unit_name(self, u: int) -> str:
        return self.labels.units[u] if self.labels else f"unit {u}"

    def intercept_time(self, u: int, j: int, t_shot: float) -> float:
        sc, i = self.sc, self.inst
        return shot_end_time_s(i.pt_e, i.pt_n, i.pt_z, i.pt_t, i.seg, i.n_pts, j, t_shot,
                               sc.un_e[u], sc.un_n[u], sc.un_unlimited[u],
                               sc.un_launch_delay_s[u], sc.un_speed_mps[u], sc.un_dwell_s[u],
                               sc.un_dwell_ref_m[u], i.win_b[u, j])

    def earliest_shot(self, u: int, j: int, t_from: float) -> float:
        sc, i = self.sc, self.inst
        return earliest_shot_time_s(i.pt_e, i.pt_n, i.pt_z, i.pt_t, i.seg, i.n_pts, j, t_from,
                                    i.win_a[u, j], i.win_b[u, j], sc.un_e[u], sc.un_n[u],
                                    sc.un_unlimited[u], sc.un_launch_delay_s[u],
                                    sc.un_speed_mps[u], sc.un_dwell_s[u], sc.un_dwell_ref_m[u])

    # ------------------------------------------------------------------ processes
    def threat(self, j: int):
        """A threat flies until it impacts or fails, unless an interceptor kills it first."""
        yield self.env.at(self.inst.t_end[j], EV_IMPACT, j)
        if self.fate[j] != ALIVE:
            return
        if self.inst.fails[j]:
            self.fate[j] = FAILED
            self.say(f"{self.threat_name(j)} fails in flight")
        else:
            self.fate[j] = LEAKED if self.inst.in_defended[j] else MISSED
            self.say(f"{self.threat_name(j)} impacts at ({self.inst.impact_e[j]:.0f} E, "
                     f"{self.inst.impact_n[j]:.0f} N) m: {FATE_NAMES[self.fate[j]].upper()}")
        self.fate_t[j] = self.env.now

    def track(self, u: int, j: int):
        """Unit u learns of threat j from its own sensor or the network, and considers it."""
        yield self.env.at(self.inst.known_t[u, j], EV_KNOWN, u, j)
        self.say(f"{self.unit_name(u)} knows {self.threat_name(j)}", 3)
        self.request_decision(u, self.env.now)

    def engagement(self, u: int, j: int, e: int, n_shots: int, t_intercept: float):
        """Interceptors reach the threat; then the unit assesses the result."""
        sc = self.sc
        yield self.env.at(t_intercept, EV_INTERCEPT, j, e)
        if self.fate[j] == ALIVE:
            hit = salvo_kills(self.seed, self.rep, j, e, n_shots, sc.un_pk[u, sc.th_class[j]])
            if hit:
                self.fate[j], self.fate_t[j], self.kill_unit[j] = KILLED, self.env.now, u
                self.kills[u] += 1
            self.say(f"{self.unit_name(u)} intercepts {self.threat_name(j)}: "
                     f"{'KILL' if hit else 'miss'}", 1)
        yield self.env.at(t_intercept + sc.un_assessment_s[u], EV_FREE, u,
                          free_sub(FREE_ASSESSMENT, j))
        self.engaged_by[u, j] = False
        self.under_engagement[j] -= 1
        if sc.c2_central:
            if self.assigned_to[j] == u:
                # The engagement ended without a kill (or the threat is gone): the assignment
                # lapses and the C2 assigns the threat again.
                release_assignment(j, self.assigned_to, self.assign_engaged, self.queue_count)
                if self.fate[j] == ALIVE:
                    self.c2_assign(j)
            self.c2_assign_waiting()
        elif self.fate[j] == ALIVE:
            # The threat is free to be engaged again, by this or any other unit.
            for v in range(self.U):
                self.request_decision(v, self.env.now)

    def hold_channel(self, u: int, request, t_free: float):
        yield self.env.at(t_free, EV_FREE, u, free_sub(FREE_CHANNEL, 0))
        self.channels[u].release(request)
        self.request_decision(u, self.env.now)

    def reload(self, u: int, t_done: float):
        yield self.env.at(t_done, EV_FREE, u, free_sub(FREE_RELOAD, 0))
        take = reload_take(self.sc.un_magazine[u], self.magazine[u], self.reserve[u])
        self.magazine[u] += take
        self.reserve[u] -= take
        self.reloading[u] = False
        self.say(f"{self.unit_name(u)} reloaded: {self.magazine[u]} ready, "
                 f"{self.reserve[u]} in reserve", 2)
        self.request_decision(u, self.env.now)

    # ------------------------------------------------------------------ central C2 (§6 v2)
    def network_track(self, j: int):
        """The C2 assigns threat j when the network first knows it."""
        yield self.env.at(self.inst.net_known_t[j], EV_FREE, self.U, free_sub(FREE_ASSIGN, j))
        if self.fate[j] == ALIVE and self.assigned_to[j] < 0:
            self.c2_assign(j)

    def lapse(self, u: int, j: int, t_s: float):
        """u's assignment of j lapses when u's latest useful shot passes unused."""
        yield self.env.at(t_s, EV_FREE, u, free_sub(FREE_LAPSE, j))
        if holds_assignment(j, u, self.assigned_to, self.assign_engaged):
            self.say(f"C2: assignment of {self.threat_name(j)} to {self.unit_name(u)} lapses", 2)
            release_assignment(j, self.assigned_to, self.assign_engaged, self.queue_count)
            if self.fate[j] == ALIVE:
                self.c2_assign(j)
            self.c2_assign_waiting()

    def c2_assign(self, j: int) -> None:
        """Assign j to the unit with the lowest cost per expected kill (tewa.best_unit_for)."""
        u = assign_threat(self.sc, self.inst, j, self.env.now, self.engagements_of, self.magazine,
                          self.reserve, self.assigned_to, self.assign_engaged, self.queue_count,
                          self.assigned_ever, self.waiting)
        if u < 0:
            if self.inst.recognised[j]:
                self.say(f"C2: {self.threat_name(j)} recognised as a decoy: not assigned", 2)
            else:
                self.say(f"C2: no unit can take {self.threat_name(j)} now: waiting", 2)
            return
        self.say(f"C2: {self.threat_name(j)} assigned to {self.unit_name(u)}", 2)
        self.env.process(self.lapse(u, j, self.inst.latest_shot[u, j]))
        # A new assignment is a decision point (MODEL.md §6) even for a unit that has already
        # decided at this instant: its once-per-instant guards are reset.
        self.last_request_t[u] = math.nan
        self.last_decision_t[u] = -math.inf
        self.request_decision(u, self.env.now)

    def c2_assign_waiting(self) -> None:
        for j in range(self.J):
            if self.waiting[j]:
                if self.fate[j] != ALIVE:
                    self.waiting[j] = False
                else:
                    self.c2_assign(j)

    def c2_after_fire(self, u: int) -> None:
        """Assignments u can no longer fire at (ammunition, hold_for) lapse and are assigned
        again; engaging an assigned threat freed capacity for waiting ones."""
        now = self.env.now
        for j in range(self.J):
            if (holds_assignment(j, u, self.assigned_to, self.assign_engaged)
                    and ammunition_stops(u, self.sc.th_class[j], now, self.hold_t,
                                         self.out_of_ammo_t)):
                release_assignment(j, self.assigned_to, self.assign_engaged, self.queue_count)
                if self.fate[j] == ALIVE:
                    self.c2_assign(j)
        self.c2_assign_waiting()

    # ------------------------------------------------------------------ decisions (§6)
    def request_decision(self, u: int, t_s: float) -> None:
        if self.last_request_t[u] == t_s:
            return
        self.last_request_t[u] = t_s
        self.env.at(t_s, EV_DECIDE, u).callbacks.append(lambda _ev, u=u: self.decide(u))

    def can_fire(self, u: int) -> bool:
        sc = self.sc
        return (not self.reloading[u]
                and self.channels[u].count < self.channels[u].capacity
                and (sc.un_unlimited[u] or self.magazine[u] >= sc.un_rounds_per_shot[u]))

    def is_candidate(self, u: int, j: int) -> bool:
        """Alive, engageable (class, doctrine, known, defended-area rule, window), not already
        engaged, assigned to u under central C2, and not held back by hold_for."""
        sc = self.sc
        return (self.fate[j] == ALIVE
                and self.inst.engageable[u, j]
                and not self.engaged_by[u, j]
                and (sc.c2_double_engagement or self.under_engagement[j] == 0)
                and self.engagements_of[u, j] < sc.un_max_engagements[u]
                and (not sc.c2_central or self.assigned_to[j] == u)
                and self.hold_t[u, sc.th_class[j]] > self.env.now)

    def priority_score(self, u: int, j: int, now: float) -> float:
        """Lower is more urgent."""
        sc, inst = self.sc, self.inst
        return target_score(sc.c2_priority, inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t,
                            inst.seg, inst.n_pts, j, now, sc.un_e[u], sc.un_n[u],
                            inst.t_impact[j], inst.target_value[j])

    def select_target(self, u: int, now: float) -> tuple[int, float]:
        """The best threat to shoot now (or -1) and the earliest later shot time."""
        best, best_score, wake = -1, math.inf, math.inf
        for j in range(self.J):
            if not self.is_candidate(u, j):
                continue
            t_ready = self.inst.known_t[u, j] + self.sc.un_reaction_s[u]
            t_shot = self.earliest_shot(u, j, max(now, t_ready))
            if t_shot == now:
                score = self.priority_score(u, j, now)
                if score < best_score:
                    best, best_score = j, score
            elif t_shot < wake:
                wake = t_shot
        return best, wake

    def decide(self, u: int) -> None:
        now = self.env.now
        if self.last_decision_t[u] == now:
            return
        self.last_decision_t[u] = now
        while self.can_fire(u):
            j, t_wake = self.select_target(u, now)
            if j < 0:
                if t_wake < math.inf:
                    self.request_decision(u, t_wake)
                return
            self.fire(u, j, now)

    def fire(self, u: int, j: int, now: float) -> None:
        sc = self.sc
        rps = int(sc.un_rounds_per_shot[u])
        n = int(shots_to_fire(sc.un_unlimited[u], sc.un_shots[u, sc.th_class[j]],
                              self.magazine[u], rps))
        e = int(record_fire(u, j, n, rps, sc.un_unlimited[u],
                            N_CLASSES if sc.th_decoy[j] else sc.th_class[j], self.magazine,
                            self.engagement_count, self.engagements_of, self.engaged_by,
                            self.under_engagement, self.shots, self.rounds, self.engagements,
                            self.shots_by_class))
        t_intercept = self.intercept_time(u, j, now)
        self.engagement_log.append((u, j, e, now, t_intercept, n))
        self.say(f"{self.unit_name(u)} fires {n} at {self.threat_name(j)} "
                 f"(intercept at {t_intercept:.2f} s)", 4)
        t_free = channel_free_time_s(sc.un_kind[u], sc.un_hold[u], n, now, t_intercept,
                                     sc.un_cycle_s[u], sc.un_burst_s[u], sc.un_unlimited[u])
        request = self.channels[u].request()                # granted at once: can_fire() held
        self.env.process(self.engagement(u, j, e, n, t_intercept))
        self.env.process(self.hold_channel(u, request, t_free + sc.un_retarget_s[u]))
        note_ammunition(sc, u, now, self.magazine[u], self.reserve[u], self.out_of_ammo_t,
                        self.hold_t)
        if self.out_of_ammo_t[u] == now:
            self.say(f"{self.unit_name(u)} out of ammunition", 4)
        for c in range(N_CLASSES):
            if self.hold_t[u, c] == now and self.out_of_ammo_t[u] > now:
                self.say(f"{self.unit_name(u)} holds its last interceptors: no more fire at "
                         f"{THREAT_CLASSES[c]} (hold_for)", 4)
        if (not sc.un_unlimited[u] and self.magazine[u] < rps and self.reserve[u] > 0):
            self.reloading[u] = True
            note_reload(u, now, now + sc.un_reload_s[u], self.reload_start, self.reload_end)
            self.say(f"{self.unit_name(u)} magazine empty: reloading", 4)
            self.env.process(self.reload(u, now + sc.un_reload_s[u]))
        if sc.c2_central:
            mark_engaged(j, u, self.assigned_to, self.assign_engaged, self.queue_count)
            self.c2_after_fire(u)

    # ------------------------------------------------------------------ run
    def run(self) -> ReplicationOutcome:
        sc, inst = self.sc, self.inst
        for j in range(self.J):
            self.env.process(self.threat(j))
        for u in range(self.U):
            for j in range(self.J):
                if inst.engageable[u, j]:
                    self.env.process(self.track(u, j))
        if sc.c2_central:
            for j in range(self.J):
                if inst.net_known_t[j] < inst.t_end[j]:
                    self.env.process(self.network_track(j))
        if self.log is not None:
            self._log_precomputed()
        self.env.run()
        asset_hits = np.zeros(len(sc.as_value), np.int64)
        count_asset_hits(self.fate, sc.th_decoy, sc.th_lethal_m, inst.impact_e, inst.impact_n,
                         sc.as_vert_e, sc.as_vert_n, sc.as_start, sc.as_reach_e,
                         sc.as_reach_n, sc.as_reach_m, asset_hits)
        why = np.zeros(self.J, np.int8)
        not_engaged_reasons(sc, inst, self.engagement_count, self.out_of_ammo_t, self.hold_t,
                            self.assigned_ever, self.reload_start, self.reload_end, self.shots,
                            np.zeros(len(sc.un_e), np.int64), why)
        if self.log is not None:
            self._log_not_engaged()
        return ReplicationOutcome(
            fate=self.fate, fate_t=self.fate_t, kill_unit=self.kill_unit,
            impact_e=inst.impact_e.copy(), impact_n=inst.impact_n.copy(), shots=self.shots,
            rounds=self.rounds, engagements=self.engagements, kills=self.kills,
            asset_hits=asset_hits, threat_engagements=self.engagement_count.copy(), why=why,
            shots_by_class=self.shots_by_class)

    def _log_not_engaged(self) -> None:
        """Why not engaged? For every threat a unit knew and never engaged, the reason."""
        sc, inst = self.sc, self.inst
        for j in range(self.J):
            for u in range(self.U):
                if (self.engagements_of[u, j] > 0 or not sc.un_engages[u, sc.th_class[j]]
                        or inst.known_t[u, j] >= inst.t_end[j]):
                    continue
                reason = unit_not_engaged_reason(sc, inst, u, j, self.out_of_ammo_t, self.hold_t,
                                                 self.assigned_ever, self.reload_start,
                                                 self.reload_end)
                text = WHY_NAMES[reason]
                if held_back_reason(sc, inst, u, j, self.out_of_ammo_t, self.hold_t,
                                    self.reload_start, self.reload_end) != WHY_ENGAGED:
                    text += " (it had a useful shot in time)"
                if reason >= WHY_NOT_ASSIGNED and self.engagement_count[j] > 0:
                    # u could have fired, but the threat was taken: say by whom, not "busy"
                    killer = self.kill_unit[j]
                    text = (f"killed by {self.unit_name(killer)}" if killer >= 0 and killer != u
                            else "engaged by other units")
                self.log.append((inst.t_end[j], 6, f"{self.unit_name(u)} never engaged "
                                 f"{self.threat_name(j)}: {text}"))

    def _log_precomputed(self) -> None:
        sc, inst, lab = self.sc, self.inst, self.labels
        all_detections(sc, inst)      # every sensor's, not only those that set known times
        for j in range(self.J):
            cls = THREAT_CLASSES[sc.th_class[j]]
            self.log.append((inst.t_launch[j], 0,
                             f"{self.threat_name(j)} ({cls}{', decoy' if sc.th_decoy[j] else ''}) "
                             f"launched; impact predicted at {inst.t_impact[j]:.1f} s"
                             + (" (will fail)" if inst.fails[j] else "")))
            if inst.recognised[j]:
                t_track = min(inst.detect_t[s, j] + sc.se_track_delay_s[s]
                              for s in range(len(sc.se_e))) if len(sc.se_e) else math.inf
                if math.isfinite(t_track):
                    self.log.append((t_track, 0, f"C2 recognises {self.threat_name(j)} as a "
                                     "decoy: never engaged"))
            for s in range(len(sc.se_e)):
                if math.isfinite(inst.detect_t[s, j]):
                    name = lab.sensors[s] if lab else f"sensor {s}"
                    self.log.append((inst.detect_t[s, j], 0,
                                     f"{name} detects {self.threat_name(j)}"))


def simulate_reference(sc, seed: int, rep: int) -> ReplicationOutcome:
    """One replication with the reference engine."""
    return ReferenceReplication(sc, seed, rep).run()


def trace_replication(scn, seed: int, rep: int) -> list[str]:
    """A readable timeline of one replication (reference engine)."""
    from salvosim.engine.compile import compile_scenario
    sc, labels = compile_scenario(scn)
    sim = ReferenceReplication(sc, seed, rep, labels=labels, trace=True)
    out = sim.run()
    lines = [f"# {scn.name} — seed {seed}, replication {rep} (reference engine)",
             f"# {len(labels.threat_names)} threats, {len(labels.units)} fire units, "
             f"{len(labels.sensors)} sensors"]
    for t, _order, text in sorted(sim.log, key=lambda x: (x[0], x[1])):
        lines.append(f"{t:10.2f} s  {text}")
    counts = {name: int((out.fate == k).sum()) for k, name in enumerate(FATE_NAMES) if k}
    lines.append("# fates: " + ", ".join(f"{n} {c}" for n, c in counts.items()))
    lines.append("# shots: " + (", ".join(f"{labels.units[u]} {int(out.shots[u])}"
                                          for u in range(len(labels.units)) if out.shots[u])
                                or "none"))
    return lines
