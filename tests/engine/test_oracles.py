"""Validation oracles of MODEL.md §10, each a statistical test at 4 sigma.

Closed-form truths: 1-(1-p)^n for n shots, the product of layer leak probabilities, the
channel-occupancy bound on engagements, Erlang B for Poisson arrivals at a loss system.
"""
import math

import numpy as np
import pytest

from salvosim.engine.constants import KILLED, LEAKED
from salvosim.engine.instances import new_instances, prepare_replication
from salvosim.engine.montecarlo import iter_blocks
from tests.scenario_kit import compile_dict, drone_raid, missile_unit, oracle_scenario

pytestmark = pytest.mark.usefixtures("warm_jit")


def fates(data, reps, seed=7):
    sc, _ = compile_dict(data)
    blocks = list(iter_blocks(sc, reps, seed, engine="numba", threads=2))
    return sc, np.concatenate([b.fate for b in blocks]), blocks


def assert_binomial(k, n, p, sigmas=4.0):
    sd = math.sqrt(p * (1 - p) / n)
    assert abs(k / n - p) <= sigmas * sd, f"observed {k / n:.4f}, expected {p:.4f} ± {sigmas * sd:.4f}"


@pytest.mark.parametrize("n_shots,pk", [(1, 0.3), (3, 0.3), (2, 0.8)])
def test_salvo_of_n_shots_kills_with_one_minus_miss_probability_to_the_n(n_shots, pk):
    data = oracle_scenario(units=[missile_unit(pk=pk, shots_per_engagement=n_shots)])
    _, fate, _ = fates(data, reps=4000)
    assert_binomial(int((fate[:, 0] == KILLED).sum()), fate.shape[0], 1 - (1 - pk) ** n_shots)


def test_shoot_look_shoot_gives_the_same_kill_probability_as_a_salvo():
    n, pk = 3, 0.4
    data = oracle_scenario(units=[missile_unit(pk=pk, max_engagements=n)])
    sc, fate, blocks = fates(data, reps=4000)
    assert_binomial(int((fate[:, 0] == KILLED).sum()), fate.shape[0], 1 - (1 - pk) ** n)
    engagements = np.concatenate([b.engagements for b in blocks])[:, 0]
    assert engagements.max() == n          # the window allows all n looks
    assert engagements.min() >= 1


def test_independent_layers_leak_with_the_product_of_miss_probabilities():
    p_outer, p_inner = 0.4, 0.5
    units = [missile_unit("outer", pk=p_outer, min_range_m=3000.0, max_range_m=8000.0),
             missile_unit("inner", pk=p_inner, min_range_m=100.0, max_range_m=2500.0)]
    data = oracle_scenario(units=units, raids=[drone_raid(count=3, interval_s=400.0)])
    _, fate, _ = fates(data, reps=3000)
    leaked = int((fate == LEAKED).sum())
    assert_binomial(leaked, fate.size, (1 - p_outer) * (1 - p_inner))


def test_single_channel_gun_engages_at_most_shot_window_over_cycle_plus_one_rockets():
    """N rockets at once against one gun: engagements <= floor(shot window / cycle) + 1.

    The shot window is the span of shot times whose intercepts fall in the engagement window:
    [a - r(a)/v, b - r(b)/v] (longer than [a, b] for an approaching rocket)."""
    burst_s, retarget_s = 2.0, 1.5
    gun = missile_unit("gun", type="cram", pk={"rocket": 0.0}, min_range_m=200.0,
                       max_range_m=2000.0, max_altitude_m=1500.0, magazine=100000,
                       rounds_per_shot=150, burst_s=burst_s, retarget_s=retarget_s,
                       speed_mps=900.0, reaction_s=0.5)
    raid = {"name": "salvo", "type": "rocket_107mm", "count": 20,
            "launch": {"bearing_deg": 0.0, "range_km": 6.0}, "aim": {"east_m": 0.0, "north_m": 300.0},
            "interval_s": 0.0, "reliability": 1.0, "cep_m": 0.0}
    data = oracle_scenario(units=[gun], raids=[raid])
    sc, _, blocks = fates(data, reps=50)
    inst = new_instances(sc)
    prepare_replication(sc, 7, 0, inst)
    a, b = inst.win_a[0, 0], inst.win_b[0, 0]
    from salvosim.defenses.intercept import slant_range_m
    r = lambda t: slant_range_m(inst.pt_e, inst.pt_n, inst.pt_z, inst.pt_t, inst.seg,  # noqa: E731
                                inst.n_pts, 0, t, 0.0, 0.0)
    shot_window = (b - r(b) / 900.0) - (a - r(a) / 900.0)
    bound = math.floor(shot_window / (burst_s + retarget_s)) + 1
    engagements = np.concatenate([b.engagements for b in blocks])[:, 0]
    assert engagements.max() <= bound
    assert engagements.min() >= bound - 1   # and the gun is kept busy: the bound is nearly met


def erlang_b(c: int, offered: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    return b


@pytest.mark.parametrize("channels,offered", [(1, 1.0), (2, 2.0), (3, 1.5)])
def test_poisson_arrivals_at_single_channel_units_are_lost_as_erlang_b(channels, offered):
    """c single-channel units, each engagement holds a channel D seconds, windows << D.

    Pk = 1 so that a threat is engaged once at most (a surviving threat would be free for
    another unit after its kill assessment, which is not a loss system)."""
    hold_s = 100.0
    rate_per_s = offered / hold_s
    units = [missile_unit(f"u{k}", pk=1.0, min_range_m=1000.0, max_range_m=1050.0,
                          channel_hold="launch", cycle_s=hold_s, reaction_s=0.0,
                          speed_mps=5000.0, kill_assessment_s=0.0, magazine=100000)
             for k in range(channels)]
    raid = drone_raid(count=400, range_km=5.0, rate_per_min=rate_per_s * 60.0, interval_s=0.0,
                      speed_mps=100.0)
    data = oracle_scenario(units=units, raids=[raid])
    _, _, blocks = fates(data, reps=40)
    engaged = sum(int(b.engagements.sum()) for b in blocks)
    arrivals = 400 * 40
    lost = 1.0 - engaged / arrivals
    # Windows of 0.5 s against holds of 100 s and a start from idle bias the loss by well
    # under 1 %; the rest is binomial noise.
    sd = math.sqrt(erlang_b(channels, offered) * (1 - erlang_b(channels, offered)) / arrivals)
    assert abs(lost - erlang_b(channels, offered)) <= 4 * sd + 0.01


def test_erlang_b_recursion_matches_the_closed_form():
    c, a = 3, 1.5
    closed = (a ** c / math.factorial(c)) / sum(a ** k / math.factorial(k) for k in range(c + 1))
    assert erlang_b(c, a) == pytest.approx(closed, rel=1e-12)
