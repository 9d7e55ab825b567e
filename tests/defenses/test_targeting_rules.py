"""Each targeting rule of MODEL.md §6 on its own, in a tiny scenario where it alone decides.

Every scenario is deterministic apart from the kill draws, which Pk = 0 or 1 removes: no CEP,
no spread, full reliability, fixed launch times, one radar seeing the whole flight. Every test
runs the Numba engine (iter_blocks) AND the reference engine (run_block_reference, plus
ReferenceReplication for its engagement log) and asserts the expected behaviour in each, not
merely that they agree.

Shot times are not an output of the Numba engine. With Pk = 1 they are recovered from the
kill time t_i by the model's own definition of an intercept, written out here on the
closed-form straight-in drone (no engine code): t_shot = t_i - launch_delay - slant(t_i) / v.
Where a rule is about a shot time, the test checks that reconstruction in both engines to 1 ms.

Each docstring says what a wrong rule would produce, which is what makes the test able to fail.
"""
import math

import numpy as np
import pytest

from salvosim.engine.constants import KILLED, LEAKED, MISSED
from salvosim.engine.montecarlo import iter_blocks, run_block_reference
from salvosim.engine.reference import ReferenceReplication
from tests.scenario_kit import compile_dict, drone_raid, missile_unit, oracle_scenario, radar

pytestmark = pytest.mark.usefixtures("warm_jit")

ENGINES = ("numba", "reference")
SPEED = 1000.0          # interceptor speed of missile_unit, m/s (launch delay 0)
ALT = 100.0             # drone cruise altitude of drone_raid, m


# ---------------------------------------------------------------------------- scenarios
def c2(**over):
    table = {"network": True, "latency_s": 0.0, "double_engagement": False,
             "priority": "time_to_impact"}
    table.update(over)
    return table


def drone(name="d", launch=(20000.0, 0.0), aim=(0.0, 0.0), speed=50.0, **over):
    """A straight-in drone at 100 m (dive 200 m before impact), launched at start_s."""
    table = drone_raid(name=name, launch={"east_m": launch[0], "north_m": launch[1]},
                       speed_mps=speed, **over)
    if isinstance(aim, tuple):
        table["aim"] = {"east_m": aim[0], "north_m": aim[1]}
    else:
        table["aim"] = aim
    return table


def blind(unit):
    """The same unit without an own sensor: it knows threats only over the network."""
    unit = dict(unit)
    unit.pop("sensor")
    return unit


# ---------------------------------------------------------------------------- independent geometry
class Flight:
    """Closed-form level leg of a straight-in drone (MODEL.md §3), independent of the engine."""

    def __init__(self, launch, aim, speed, t0=0.0, altitude=ALT, dive_m=200.0):
        self.launch, self.aim = np.asarray(launch, float), np.asarray(aim, float)
        self.speed, self.t0, self.altitude = speed, t0, altitude
        self.length = float(np.hypot(*(self.aim - self.launch)))
        self.level_until = t0 + (self.length - dive_m) / speed

    def slant(self, t, unit=(0.0, 0.0)):
        assert self.t0 <= t <= self.level_until, "outside the level leg"
        p = self.launch + (self.aim - self.launch) * (self.speed * (t - self.t0) / self.length)
        return math.sqrt((p[0] - unit[0]) ** 2 + (p[1] - unit[1]) ** 2 + self.altitude ** 2)

    def shot_time(self, t_intercept, unit=(0.0, 0.0), speed=SPEED, delay=0.0):
        """The shot whose interceptor meets the threat at t_intercept."""
        return t_intercept - delay - self.slant(t_intercept, unit) / speed

    def intercept_time(self, t_shot, unit=(0.0, 0.0), speed=SPEED, delay=0.0):
        """Root of t - t_shot - delay - slant(t)/speed by plain bisection (1e-9 s)."""
        lo, hi = t_shot + delay, t_shot + delay + 100.0
        g = lambda t: t - t_shot - delay - self.slant(t, unit) / speed  # noqa: E731
        assert g(lo) < 0 < g(hi)
        while hi - lo > 1e-9:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
        return hi


EAST = Flight((20000.0, 0.0), (0.0, 0.0), 50.0)   # the default drone(): in an 8 km envelope
                                                    # from t = 240 s; level until 396 s


# ---------------------------------------------------------------------------- running
def run_both(data, reps=3, seed=17):
    """{engine: Block} and the reference engine's replications (for their engagement logs)."""
    sc, labels = compile_dict(data)
    fast = list(iter_blocks(sc, reps, seed, engine="numba", threads=1))
    assert len(fast) == 1
    ref = run_block_reference(sc, seed, 0, reps)
    sims = []
    for rep in range(reps):
        sim = ReferenceReplication(sc, seed, rep, labels=labels)
        sim.run()
        sims.append(sim)
    return sc, labels, {"numba": fast[0], "reference": ref}, sims


def kill_shot_times(block, flights, unit=(0.0, 0.0), speed=SPEED):
    """Shot time of every killed threat [reps, J] (nan where not killed), from its kill time."""
    out = np.full(block.fate.shape, np.nan)
    for r in range(block.fate.shape[0]):
        for j, flight in enumerate(flights):
            if block.fate[r, j] == KILLED:
                out[r, j] = flight.shot_time(block.fate_t[r, j], unit, speed)
    return out


def logged(sim, unit=None, threat=None):
    """Engagement log entries (unit, threat, e, t_shot, t_intercept, shots), filtered."""
    return [entry for entry in sim.engagement_log
            if (unit is None or entry[0] == unit) and (threat is None or entry[1] == threat)]


# ---------------------------------------------------------------------------- defended area
SMALL_AREA = [[-500.0, -500.0], [500.0, -500.0], [500.0, 500.0], [-500.0, 500.0]]


@pytest.mark.parametrize("defended_only", [True, False])
def test_defended_area_only_engages_predicted_impacts_inside_the_defended_area(defended_only):
    """Threat 0 impacts inside the defended area, threat 1 outside (3 km east), both well in
    the unit's envelope and 100 s apart (no competition for the channel). With Pk = 1:
    defended_area_only = true -> threat 0 killed, threat 1 never engaged (MISSED); false ->
    both killed. A rule that ignored the flag would kill threat 1 in the first case; an
    inverted test (engage only outside) would let threat 0 leak."""
    raids = [drone("inside"),
             drone("outside", launch=(23000.0, 0.0), aim=(3000.0, 0.0), start_s=100.0)]
    data = oracle_scenario(units=[missile_unit(pk=1.0, defended_area_only=defended_only)],
                           raids=raids, c2=c2())
    data["scenario"]["defended_area_m"] = SMALL_AREA
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all(), engine
        assert (out.kill_unit[:, 0] == 0).all(), engine
        if defended_only:
            assert (out.fate[:, 1] == MISSED).all(), engine
            assert (out.engagements[:, 0] == 1).all() and (out.shots[:, 0] == 1).all(), engine
        else:
            assert (out.fate[:, 1] == KILLED).all(), engine
            assert (out.engagements[:, 0] == 2).all(), engine
    for sim in sims:
        assert {entry[1] for entry in sim.engagement_log} == ({0} if defended_only else {0, 1})


# ---------------------------------------------------------------------------- priorities
# At t = 250 s (a reaction time of 250 s after both are tracked at launch), one single-channel
# unit at the origin can shoot either of two drones. The pair is built so that each rule picks
# a different one:
#   S: 13 km north at 40 m/s -> 3.0 km away, impact at 325.6 s       (nearest)
#   F: 30 km east at 100 m/s -> 5.0 km away, impact at 300.2 s       (earliest impact)
#   X: to living_containers (value 10): 7.5 km away, impact at 325.2 s  (value / time to impact
#   Y: to vehicle_park (value 5):        3.6 km away, impact at 310.4 s   10/75 > 5/60)
# Every pair is also run in both raid orders, so a rule that fell back to the lower index
# fails one of the two orders.
PAIRS = {
    "time_to_impact": ({"S": ((0.0, 13000.0), (0.0, 0.0), 40.0),
                        "F": ((30000.0, 0.0), (0.0, 0.0), 100.0)}, "F"),
    "nearest": ({"S": ((0.0, 13000.0), (0.0, 0.0), 40.0),
                 "F": ((30000.0, 0.0), (0.0, 0.0), 100.0)}, "S"),
    "value": ({"X": ((32460.0, 75.0), "living_containers", 100.0),
               "Y": ((0.0, 18510.0), "vehicle_park", 60.0)}, "X"),
}


@pytest.mark.parametrize("order", ["as_listed", "swapped"])
@pytest.mark.parametrize("priority", sorted(PAIRS))
def test_priority_rule_picks_its_threat_first(priority, order):
    """Of two threats feasible at the same time, one channel, Pk = 1: the one the rule prefers
    is shot at 250 s and killed first, the other one after the channel frees.
    A wrong rule picks the other threat: for the S/F pair `nearest` and `time_to_impact`
    disagree (S is nearer, F impacts first), for the X/Y pair `value` disagrees with both
    (X is farther and later but worth more per second), and a rule that ignored the priority
    and took the lower index fails one of the two raid orders."""
    pair, first = PAIRS[priority]
    names = list(pair) if order == "as_listed" else list(pair)[::-1]
    raids, flights = [], []
    for name in names:
        launch, aim, speed = pair[name]
        raids.append(drone(name, launch=launch, aim=aim, speed=speed))
        aim_point = (0.0, 0.0) if isinstance(aim, tuple) else None
        flights.append((name, launch, aim_point, speed))
    data = oracle_scenario(units=[missile_unit(pk=1.0, reaction_s=250.0)], raids=raids,
                           c2=c2(priority=priority))
    sc, _, blocks, sims = run_both(data)
    k_first, k_other = names.index(first), 1 - names.index(first)
    # the exact flights, with the aim points the scenario compiled (asset aim points)
    exact = [Flight(launch, (sc.as_aim_e[sc.th_aim_mode[k]], sc.as_aim_n[sc.th_aim_mode[k]])
                    if aim is None else aim, speed)
             for k, (_, launch, aim, speed) in enumerate(flights)]
    for engine, out in blocks.items():
        assert (out.fate == KILLED).all(), engine
        assert (out.fate_t[:, k_first] < out.fate_t[:, k_other]).all(), engine
        shot = kill_shot_times(out, exact)
        np.testing.assert_allclose(shot[:, k_first], 250.0, atol=1e-3, err_msg=engine)
        assert (shot[:, k_other] > 250.0 + 1.0).all(), engine
    for sim in sims:
        assert sim.engagement_log[0][1] == k_first and sim.engagement_log[0][3] == 250.0
        assert sim.engagement_log[1][1] == k_other


def test_the_priority_pairs_really_separate_the_rules():
    """The geometry claims of PAIRS, from the closed-form flights: at 250 s S is nearer than
    F but impacts later; X is farther and impacts later than Y but has more value per second."""
    s, f = Flight((0.0, 13000.0), (0.0, 0.0), 40.0), Flight((30000.0, 0.0), (0.0, 0.0), 100.0)
    assert s.slant(250.0) < f.slant(250.0)
    assert s.t0 + s.length / s.speed > f.t0 + f.length / f.speed
    x = Flight((32460.0, 75.0), (-40.0, 75.0), 100.0)
    y = Flight((0.0, 18510.0), (0.0, -90.0), 60.0)
    tx, ty = x.length / x.speed - 250.0, y.length / y.speed - 250.0
    assert x.slant(250.0) > y.slant(250.0) and tx > ty
    assert 10.0 / tx > 5.0 / ty


def test_value_priority_scores_the_aim_point_not_the_drawn_impact():
    """MODEL.md §6: `value` = asset value at the aim point A per second to impact. With a
    500 m CEP on X (none on Y) X's impact I usually misses every asset by more than the lethal
    radius; the choice must not change: X (aimed at the value-10 asset) is still shot first in
    every replication. Scoring I instead makes X worth 0 whenever it misses, and Y goes first."""
    raids = [drone("X", launch=(32460.0, 75.0), aim="living_containers", speed=100.0, cep_m=500.0),
             drone("Y", launch=(0.0, 18510.0), aim="vehicle_park", speed=60.0)]
    data = oracle_scenario(units=[missile_unit(pk=1.0, reaction_s=250.0, max_range_m=9000.0)],
                           raids=raids, c2=c2(priority="value"))
    _, _, blocks, sims = run_both(data, reps=20)
    for engine, out in blocks.items():
        assert (out.fate == KILLED).all(), engine
        assert (out.fate_t[:, 0] < out.fate_t[:, 1]).all(), engine
        # most of X's impacts are far from every asset: the test does exercise the rule
        assert (np.hypot(out.impact_e[:, 0] + 40.0, out.impact_n[:, 0] - 75.0) > 200.0).mean() > 0.5
    for sim in sims:
        assert sim.engagement_log[0][1] == 0 and sim.engagement_log[0][3] == 250.0


# ---------------------------------------------------------------------------- double engagement
def twin_units(pk0, pk1, assessment0=1.0):
    return [missile_unit("u0", pk=pk0, reaction_s=250.0, kill_assessment_s=assessment0),
            missile_unit("u1", pk=pk1, reaction_s=250.0)]


@pytest.mark.parametrize("double", [False, True])
def test_double_engagement_off_leaves_a_threat_to_the_first_unit(double):
    """Two identical co-located units both ready at 250 s, one drone, Pk = 1 each.
    Off: u0 (lower index) engages and kills it; u1 never fires (shots [1, 0]).
    On: both fire at 250 s (shots [1, 1]); u0's interceptor resolves first (engagement 0).
    A rule that ignored the flag gives [1, 1] when off, or [1, 0] when on."""
    data = oracle_scenario(units=twin_units(1.0, 1.0), raids=[drone()],
                           c2=c2(double_engagement=double))
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all() and (out.kill_unit[:, 0] == 0).all(), engine
        np.testing.assert_array_equal(out.shots, [[1, 1 if double else 0]] * 3, err_msg=engine)
    for sim in sims:
        shots = [(entry[0], entry[3]) for entry in sim.engagement_log]
        assert shots == ([(0, 250.0), (1, 250.0)] if double else [(0, 250.0)])


@pytest.mark.parametrize("double", [False, True])
def test_a_second_unit_waits_for_the_first_units_kill_assessment(double):
    """u0 (Pk 0, kill assessment 30 s) and u1 (Pk 1), both ready at 250 s. Off: the drone is
    under engagement by u0 until u0's intercept t_i0 + 30 s, so u1's only shot is fired at
    exactly t_i0 + 30 s (t_i0 solved here by bisection). On: u1 fires at 250 s too.
    A rule releasing the threat at the intercept would shoot at t_i0; one ignoring the flag
    at 250 s."""
    data = oracle_scenario(units=twin_units(0.0, 1.0, assessment0=30.0), raids=[drone()],
                           c2=c2(double_engagement=double))
    _, _, blocks, sims = run_both(data)
    t_i0 = EAST.intercept_time(250.0)
    expected = 250.0 if double else t_i0 + 30.0
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all() and (out.kill_unit[:, 0] == 1).all(), engine
        np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], expected, atol=1e-3,
                                   err_msg=engine)
        np.testing.assert_array_equal(out.shots, [[1, 1]] * 3, err_msg=engine)
    for sim in sims:
        (u0,) = logged(sim, unit=0)
        (u1,) = logged(sim, unit=1)
        assert u0[3] == 250.0 and abs(u0[4] - t_i0) < 1e-5
        assert u1[3] == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------------------- network
@pytest.mark.parametrize("latency", [0.0, 7.5, 31.25])
def test_a_unit_without_a_sensor_knows_a_threat_at_track_time_plus_latency(latency):
    """The radar tracks the drone at 0 + 2 s (track delay); a unit without its own sensor
    knows it at 2 + latency and (reaction 250 s, window open) fires at 252 + latency: the
    first shot moves by exactly the latency. A rule that ignored the latency, or added it
    twice, or added the track delay twice, shifts the shot by that much."""
    data = oracle_scenario(units=[blind(missile_unit(pk=1.0, reaction_s=250.0))],
                           sensors=[radar(track_delay_s=2.0)], raids=[drone()],
                           c2=c2(latency_s=latency))
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all(), engine
        np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], 252.0 + latency,
                                   atol=1e-3, err_msg=engine)
    for sim in sims:
        assert sim.inst.known_t[0, 0] == 2.0 + latency
        assert sim.engagement_log[0][3] == pytest.approx(252.0 + latency, abs=1e-9)


@pytest.mark.parametrize("latency,engaged", [(380.0, True), (397.0, False), (500.0, False)])
def test_a_latency_beyond_the_window_makes_engagement_impossible(latency, engaged):
    """Reaction 1 s. The last useful shot is a little before 398.24 s (the window end):
    latency 380 -> known 382, shot at 383, kill; 397 -> known 399 (drone still flying until
    400.47 s) but past every useful shot: never engaged, LEAKED; 500 -> known after impact.
    A unit that ignored the latency would kill the drone in every case."""
    data = oracle_scenario(units=[blind(missile_unit(pk=1.0, reaction_s=1.0))],
                           sensors=[radar(track_delay_s=2.0)], raids=[drone()],
                           c2=c2(latency_s=latency))
    _, _, blocks, _ = run_both(data)
    for engine, out in blocks.items():
        if engaged:
            assert (out.fate[:, 0] == KILLED).all(), engine
            np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], 383.0, atol=1e-3)
        else:
            assert (out.fate[:, 0] == LEAKED).all(), engine
            assert (out.shots == 0).all() and (out.engagements == 0).all(), engine


@pytest.mark.parametrize("network", [True, False])
def test_without_the_network_a_unit_without_a_sensor_never_engages(network):
    """Two units (double engagement on, so neither blocks the other): `blind` without a
    sensor (Pk 1) and `sighted` with the radar (Pk 0). Network on: blind fires (kills);
    off: blind never fires and the drone leaks, while sighted, with its own sensor, still
    fires. A rule that shared tracks without the network would let blind kill."""
    units = [blind(missile_unit("blind", pk=1.0, reaction_s=250.0)),
             missile_unit("sighted", pk=0.0, reaction_s=250.0)]
    data = oracle_scenario(units=units, raids=[drone()],
                           c2=c2(network=network, double_engagement=True, latency_s=3.0))
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.shots[:, 1] == 1).all(), engine
        if network:
            assert (out.fate[:, 0] == KILLED).all() and (out.kill_unit[:, 0] == 0).all(), engine
            np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], 253.0, atol=1e-3)
        else:
            assert (out.fate[:, 0] == LEAKED).all(), engine
            assert (out.shots[:, 0] == 0).all(), engine
    for sim in sims:
        assert sim.inst.known_t[1, 0] == 0.0       # own sensor: no latency
        assert sim.inst.known_t[0, 0] == (3.0 if network else math.inf)


@pytest.mark.parametrize("latency", [100.0, 300.0])
def test_a_unit_knows_a_threat_at_the_earlier_of_its_own_track_and_the_network(latency):
    """The unit's own sensor (9 km slant range, passive, antenna 10 m up) tracks the drone at
    220.009 s (ground range sqrt(9000^2 - 90^2) from the origin); the long-range radar at 0 s,
    shared with a latency. Known = min(own, 0 + latency): latency 100 -> 100, 300 -> 220.009;
    the shot follows 150 s later. A unit taking only its own sensor would always fire at 370 s;
    one taking only the network at 450 s (too late: no shot)."""
    own_t = (20000.0 - math.sqrt(9000.0 ** 2 - (ALT - 10.0) ** 2)) / 50.0   # antenna at 10 m
    sensors = [radar("radar"), radar("flir", range_m=9000.0)]
    data = oracle_scenario(units=[missile_unit(pk=1.0, reaction_s=150.0, sensor="flir")],
                           sensors=sensors, raids=[drone()], c2=c2(latency_s=latency))
    _, _, blocks, sims = run_both(data)
    known = min(latency, own_t)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all(), engine
        np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], known + 150.0, atol=1e-3,
                                   err_msg=engine)
    for sim in sims:
        assert sim.inst.known_t[0, 0] == pytest.approx(known, abs=1e-3)


# ---------------------------------------------------------------------------- reaction
@pytest.mark.parametrize("reaction,first_shot", [
    (1.0, 240.0 - math.sqrt(8000.0 ** 2 + ALT ** 2) / SPEED),   # the window decides
    (250.0, 250.0),
    (270.0, 270.0),
])
def test_reaction_time_delays_the_first_shot(reaction, first_shot):
    """Drone tracked at 0 s; the envelope (8 km) is entered at 240 s. Reaction 1 s: the first
    shot is the earliest useful one, whose interceptor meets the drone at 240 s exactly;
    reaction 250 / 270 s: the shot waits for known + reaction. A rule ignoring reaction_s fires
    at 231.999 s in every case; one adding it to the window start fires at 240 + reaction."""
    data = oracle_scenario(units=[missile_unit(pk=1.0, reaction_s=reaction)], raids=[drone()],
                           c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == KILLED).all(), engine
        np.testing.assert_allclose(kill_shot_times(out, [EAST])[:, 0], first_shot, atol=1e-3,
                                   err_msg=engine)
    for sim in sims:
        assert sim.engagement_log[0][3] == pytest.approx(first_shot, abs=1e-6)
        assert sim.engagement_log[0][3] >= sim.inst.known_t[0, 0] + reaction


# ---------------------------------------------------------------------------- magazines
@pytest.mark.parametrize("kind", ["missile", "gun"])
def test_a_unit_fires_at_most_magazine_plus_reserve_and_never_while_reloading(kind):
    """Twelve drones 5 s apart, Pk = 1, a magazine of 2 shots, a reserve of 3 shots, reload
    30 s. Exactly 5 kills (2 + reload + 2 + reload + 1: each reload takes min(magazine,
    reserve)), 7 leaks; the shot after each emptying comes >= 30 s later, the others sooner.
    A unit ignoring the reserve stops at 2 kills; one with no reload pause has a gap < 30 s;
    an unlimited one kills all 12."""
    rps = 150 if kind == "gun" else 1
    over = dict(magazine=2 * rps, reserve=3 * rps, reload_s=30.0)
    if kind == "gun":
        over.update(type="cram", rounds_per_shot=rps, burst_s=2.0, speed_mps=900.0)
    unit = missile_unit(pk=1.0, **over)
    speed = over.get("speed_mps", SPEED)
    data = oracle_scenario(units=[unit], raids=[drone(count=12, interval_s=5.0)], c2=c2())
    _, _, blocks, sims = run_both(data)
    flights = [Flight((20000.0, 0.0), (0.0, 0.0), 50.0, t0=5.0 * j) for j in range(12)]
    for engine, out in blocks.items():
        assert ((out.fate == KILLED).sum(axis=1) == 5).all(), engine
        assert ((out.fate == LEAKED).sum(axis=1) == 7).all(), engine
        assert (out.shots[:, 0] == 5).all() and (out.rounds[:, 0] == 5 * rps).all(), engine
        shots = kill_shot_times(out, flights, speed=speed)
        for r in range(shots.shape[0]):
            gaps = np.diff(np.sort(shots[r][~np.isnan(shots[r])]))
            assert (gaps[[1, 3]] >= 30.0 - 1e-3).all(), (engine, gaps)
            assert (gaps[[0, 2]] < 30.0).all(), (engine, gaps)
    for sim in sims:
        times = [entry[3] for entry in sim.engagement_log]
        assert len(times) == 5
        gaps = np.diff(times)
        assert gaps[1] >= 30.0 and gaps[3] >= 30.0 and gaps[0] < 30.0 and gaps[2] < 30.0


# ---------------------------------------------------------------------------- engagements
@pytest.mark.parametrize("cap", [1, 3, 50])
def test_max_engagements_caps_engagements_of_a_threat_by_a_unit(cap):
    """One drone, Pk = 0, kill assessment 1 s: the unit re-engages after every look, as long
    as its cap allows. cap 1 and 3 -> exactly that many engagements; 50 -> the window (158 s,
    about 9 s per look) is what stops it, at more than 3. A missing cap fires until the
    window closes in every case."""
    data = oracle_scenario(units=[missile_unit(pk=0.0, max_engagements=cap)], raids=[drone()],
                           c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.fate[:, 0] == LEAKED).all(), engine
        if cap < 50:
            assert (out.engagements[:, 0] == cap).all() and (out.shots[:, 0] == cap).all(), engine
        else:
            assert (out.engagements[:, 0] > 3).all() and (out.engagements[:, 0] < 50).all(), engine
    for sim in sims:
        numbers = [entry[2] for entry in sim.engagement_log]
        assert numbers == list(range(len(numbers)))      # engagement numbers 0, 1, 2, ...


def test_max_engagements_counts_per_unit():
    """Two co-located units (double engagement off), Pk = 0, caps 1 and 2: u0 engages once,
    then u1 twice: engagements [1, 2]. A cap counted over all units' engagements of the threat
    would stop u1 after one ([1, 1]); a cap ignored gives u0 more than one."""
    units = [missile_unit("u0", pk=0.0, max_engagements=1),
             missile_unit("u1", pk=0.0, max_engagements=2)]
    data = oracle_scenario(units=units, raids=[drone()], c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        np.testing.assert_array_equal(out.engagements, [[1, 2]] * 3, err_msg=engine)
    for sim in sims:
        assert [entry[0] for entry in sim.engagement_log] == [0, 1, 1]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_shots_per_engagement_fires_n_shots_per_engagement(n):
    """Pk = 0, two engagements allowed: shots = 2 n, each logged engagement n interceptors.
    A unit firing one shot per engagement (or n per threat) gives 2 (or n)."""
    data = oracle_scenario(units=[missile_unit(pk=0.0, shots_per_engagement=n,
                                               max_engagements=2)],
                           raids=[drone()], c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.engagements[:, 0] == 2).all() and (out.shots[:, 0] == 2 * n).all(), engine
    for sim in sims:
        assert [entry[5] for entry in sim.engagement_log] == [n, n]


def test_shots_per_engagement_by_class_overrides_the_default():
    """shots_per_engagement 1 but 3 against drones: a drone draws 3 per engagement, a rocket
    in the same raid set 1. Ignoring the per-class table gives 1 + 1."""
    unit = missile_unit(pk=0.0, shots_per_engagement=1,
                        shots_per_engagement_by_class={"drone": 3})
    rocket = {"name": "rocket", "type": "rocket_122mm", "count": 1,
              "launch": {"east_m": 0.0, "north_m": 10000.0}, "aim": {"east_m": 0.0, "north_m": 0.0},
              "interval_s": 0.0, "reliability": 1.0, "cep_m": 0.0}
    data = oracle_scenario(units=[unit], raids=[drone(), rocket], c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.engagements[:, 0] == 2).all() and (out.shots[:, 0] == 4).all(), engine
    for sim in sims:
        assert sorted((entry[1], entry[5]) for entry in sim.engagement_log) == [(0, 3), (1, 1)]


def test_an_engagement_fires_what_is_left_when_the_magazine_runs_short():
    """Magazine 5, no reserve, 2 shots per engagement, Pk = 0: engagements of 2, 2 and 1
    (MODEL.md §6: shots_per_engagement or what is left), then nothing."""
    unit = missile_unit(pk=0.0, magazine=5, reserve=0, shots_per_engagement=2,
                        max_engagements=10)
    data = oracle_scenario(units=[unit], raids=[drone()], c2=c2())
    _, _, blocks, sims = run_both(data)
    for engine, out in blocks.items():
        assert (out.engagements[:, 0] == 3).all() and (out.shots[:, 0] == 5).all(), engine
    for sim in sims:
        assert [entry[5] for entry in sim.engagement_log] == [2, 2, 1]
