"""The Numba engine and the SimPy reference engine give the same outcome for every threat.

MODEL.md §8-9: same scenario, seed and replication -> identical fates, fate times (to 1e-9 s),
killing units and shots per unit, in either engine, and bit-identical results whatever the
number of threads.
"""
import glob
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salvosim.engine.compile import compile_scenario
from salvosim.engine.montecarlo import _pool, guided_chunks, run_block_numba, run_block_reference
from salvosim.engine.variants import load_scenario
from tests.scenario_kit import compile_dict, oracle_scenario, radar

pytestmark = pytest.mark.usefixtures("warm_jit")

BUNDLED = sorted(glob.glob("scenarios/*.toml"))


def assert_blocks_agree(a, b):
    np.testing.assert_array_equal(a.fate, b.fate)
    np.testing.assert_allclose(a.fate_t, b.fate_t, rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(a.kill_unit, b.kill_unit)
    np.testing.assert_array_equal(a.shots, b.shots)
    np.testing.assert_array_equal(a.rounds, b.rounds)
    np.testing.assert_array_equal(a.asset_hits, b.asset_hits)


@pytest.mark.parametrize("path", BUNDLED)
def test_engines_agree_threat_by_threat_on_every_bundled_scenario(path):
    sc, _ = compile_scenario(load_scenario(path))
    reps = 3 if len(sc.th_raid) > 50 else 8
    ref = run_block_reference(sc, 11, 0, reps)
    fast = run_block_numba(sc, 11, 0, reps, threads=1)
    assert_blocks_agree(ref, fast)


@pytest.mark.parametrize("path", BUNDLED)
def test_numba_results_are_bit_identical_for_one_and_two_threads(path):
    sc, _ = compile_scenario(load_scenario(path))
    one = run_block_numba(sc, 5, 100, 64, threads=1)
    two = run_block_numba(sc, 5, 100, 64, threads=2)
    for field in one._fields[1:]:
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


def test_three_threads_and_reused_workspaces_give_the_same_bits():
    """Three workers, each reusing its workspace over several chunks of the guided schedule."""
    sc, _ = compile_scenario(load_scenario("scenarios/al_asad_drone_raid.toml"))
    one = run_block_numba(sc, 8, 7, 30, threads=1)
    three = run_block_numba(sc, 8, 7, 30, threads=3)
    for field in one._fields[1:]:
        np.testing.assert_array_equal(getattr(one, field), getattr(three, field))


def test_an_interrupt_stops_the_other_threads_after_their_chunk():
    """Ctrl-C (here raised by the progress callback of the first chunk done) leaves the block:
    the other thread finishes the chunk it is in and takes no other."""
    sc, _ = compile_scenario(load_scenario("scenarios/al_asad_rockets.toml"))
    done = []

    def on_reps(n):
        done.append(n)
        if len(done) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_block_numba(sc, 1, 0, 4000, 2, on_reps)
    both_free = threading.Barrier(2, timeout=60)       # returns once both threads are idle
    for f in [_pool(2).submit(both_free.wait) for _ in range(2)]:
        f.result()
    assert len(done) <= 2 and sum(done) < 4000, done


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 20000), threads=st.integers(1, 8), min_reps=st.integers(1, 16))
def test_guided_chunks_cover_the_block_once_and_shrink(n, threads, min_reps):
    bounds = guided_chunks(n, threads, min_reps)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))      # contiguous, no overlap
    sizes = [hi - lo for lo, hi in bounds]
    assert all(s >= 1 for s in sizes)
    assert all(s >= min_reps for s in sizes[:-1])                      # only the last is cut
    assert all(a >= b for a, b in zip(sizes[:-1], sizes[1:-1]))        # they shrink
    # the first chunk leaves the other workers as much to do: nobody waits on a giant chunk
    assert sizes[0] <= max(min_reps, n // (2 * threads))
    # few chunks: geometric shrinking (each at least 1/(4 threads) of the rest until the rest
    # is under 2 threads x min_reps), so the per-chunk call overhead stays negligible
    assert len(bounds) <= 4 * threads * (1 + np.log(n)) + 2 * threads + 2


def test_a_replication_does_not_depend_on_the_block_it_runs_in():
    sc, _ = compile_scenario(load_scenario("scenarios/al_asad_rockets.toml"))
    whole = run_block_numba(sc, 3, 0, 40, threads=2)
    part = run_block_numba(sc, 3, 25, 5, threads=1)
    np.testing.assert_array_equal(whole.fate[25:30], part.fate)
    np.testing.assert_array_equal(whole.fate_t[25:30], part.fate_t)


# ---------------------------------------------------------------------------- random scenarios
UNIT_TYPES = ("cram", "avenger", "coyote_b2", "laser_50kw", "patriot_pac3mse")
RAID_TYPES = {  # type -> (min, max) launch range, km, that fits the catalog
    "rocket_107mm": (2.0, 8.0), "rocket_122mm": (3.0, 18.0), "mortar_120mm": (1.0, 7.0),
    "shahed136": (5.0, 60.0), "owa_small": (5.0, 40.0), "fpv_quad": (2.0, 9.0),
    "fateh110": (60.0, 250.0), "quds1": (20.0, 100.0), "decoy_drone": (5.0, 60.0),
}


@st.composite
def small_scenarios(draw):
    n_units = draw(st.integers(1, 4))
    units, sensors = [], [radar("net", range_m=draw(st.floats(5000.0, 200000.0)),
                                rcs_scaling=draw(st.booleans()),
                                height_m=draw(st.floats(2.0, 30.0)),
                                track_delay_s=draw(st.floats(0.0, 5.0)),
                                sector_width_deg=draw(st.sampled_from([360.0, 120.0])),
                                facing_deg=draw(st.floats(0.0, 359.0)))]
    for k in range(n_units):
        kind = draw(st.sampled_from(UNIT_TYPES))
        table = {"name": f"u{k}", "type": kind,
                 "east_m": draw(st.floats(-3000.0, 3000.0)),
                 "north_m": draw(st.floats(-3000.0, 3000.0)),
                 "facing_deg": draw(st.floats(0.0, 359.0)), "sensor": "net",
                 "max_engagements": draw(st.integers(1, 3)),
                 "defended_area_only": draw(st.booleans())}
        if kind != "laser_50kw":
            table["magazine"] = draw(st.integers(2, 6)) * (150 if kind == "cram" else 1)
            table["reserve"] = draw(st.sampled_from([0, table["magazine"]]))
            table["reload_s"] = draw(st.floats(5.0, 60.0))
        units.append(table)
    raids = []
    for k in range(draw(st.integers(1, 3))):
        ttype = draw(st.sampled_from(sorted(RAID_TYPES)))
        lo, hi = RAID_TYPES[ttype]
        raid = {"name": f"r{k}", "type": ttype, "count": draw(st.integers(1, 6)),
                "launch": {"bearing_deg": draw(st.floats(0.0, 359.0)),
                           "range_km": draw(st.floats(lo, hi))},
                "aim": "random_asset", "aim_spread_m": draw(st.floats(0.0, 200.0)),
                "launch_spread_m": draw(st.floats(0.0, 500.0)),
                "start_s": draw(st.floats(0.0, 60.0))}
        if draw(st.booleans()):
            raid["interval_s"] = draw(st.floats(0.0, 20.0))
            raid["jitter_s"] = draw(st.floats(0.0, 5.0))
        else:
            raid["rate_per_min"] = draw(st.floats(1.0, 30.0))
        raids.append(raid)
    c2 = {"network": draw(st.booleans()), "latency_s": draw(st.floats(0.0, 5.0)),
          "double_engagement": draw(st.booleans()),
          "priority": draw(st.sampled_from(["time_to_impact", "value", "nearest"]))}
    data = oracle_scenario(units=units, sensors=sensors, raids=raids, c2=c2)
    del data["scenario"]["defended_area_m"]
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=small_scenarios(), seed=st.integers(0, 2 ** 40))
def test_engines_agree_on_random_small_scenarios(data, seed):
    sc, _ = compile_dict(data)
    ref = run_block_reference(sc, seed, 0, 4)
    fast = run_block_numba(sc, seed, 0, 4, threads=2)
    assert_blocks_agree(ref, fast)
    assert (fast.fate > 0).all()                          # one final fate per threat
    capacity = sc.un_magazine + sc.un_reserve
    assert (fast.rounds[:, ~sc.un_unlimited] <= capacity[~sc.un_unlimited]).all()
