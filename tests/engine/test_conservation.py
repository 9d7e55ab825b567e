"""Conservation laws (MODEL.md §10) on every bundled scenario, with the reference engine.

One fate per threat; rounds fired never exceed magazine plus reserve; every shot's intercept
inside its engagement window; no kill after the threat's impact or failure; the same seed
gives the same results.
"""
import glob

import numpy as np
import pytest

from salvosim.engine.compile import compile_scenario
from salvosim.engine.constants import ALIVE, KILLED, WINDOW_TOL_S
from salvosim.engine.reference import ReferenceReplication
from salvosim.engine.variants import load_scenario

BUNDLED = sorted(glob.glob("scenarios/*.toml"))


@pytest.fixture(scope="module", params=BUNDLED)
def replications(request):
    sc, labels = compile_scenario(load_scenario(request.param))
    sims = []
    for rep in range(2):
        sim = ReferenceReplication(sc, seed=3, rep=rep)
        sims.append((sim, sim.run()))
    return sc, sims


def test_every_threat_ends_with_exactly_one_fate(replications):
    _, sims = replications
    for _, out in sims:
        assert (out.fate != ALIVE).all()
        assert np.isfinite(out.fate_t).all()


def test_rounds_fired_never_exceed_magazine_plus_reserve(replications):
    sc, sims = replications
    for _, out in sims:
        limited = ~sc.un_unlimited
        assert (out.rounds[limited] <= (sc.un_magazine + sc.un_reserve)[limited]).all()
        assert (out.rounds == out.shots * sc.un_rounds_per_shot).all()


def test_every_intercept_falls_inside_its_engagement_window(replications):
    _, sims = replications
    for sim, _ in sims:
        for u, j, _e, t_shot, t_intercept, n in sim.engagement_log:
            a, b = sim.inst.win_a[u, j], sim.inst.win_b[u, j]
            assert a - WINDOW_TOL_S <= t_intercept <= b
            assert t_shot <= t_intercept and n >= 1


def test_no_kill_after_impact_or_failure_and_kills_are_credited(replications):
    sc, sims = replications
    for sim, out in sims:
        killed = out.fate == KILLED
        assert (out.fate_t[killed] <= sim.inst.t_end[killed]).all()
        assert (out.kill_unit[killed] >= 0).all() and (out.kill_unit[~killed] == -1).all()
        assert out.kills.sum() == killed.sum()


def test_no_unit_fires_before_it_knows_the_threat_for_its_reaction_time(replications):
    sc, sims = replications
    for sim, _ in sims:
        for u, j, _e, t_shot, _ti, _n in sim.engagement_log:
            assert t_shot >= sim.inst.known_t[u, j] + sc.un_reaction_s[u]


def test_same_seed_same_replication_same_outcome(replications):
    sc, sims = replications
    again = ReferenceReplication(sc, seed=3, rep=1).run()
    first = sims[1][1]
    for field in first._fields:
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
