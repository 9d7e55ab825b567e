"""The rules both engines apply, each written once (engine/events.py, defenses/doctrine.py) and
tested on its own: event-key packing and its bounds, the shots of an engagement and its
bookkeeping, the kill roll, reloads."""
import itertools

import numpy as np
import pytest

from salvosim.defenses.doctrine import record_fire, reload_take, salvo_kills, shots_to_fire
from salvosim.engine.events import (
    MAX_INDEX,
    MAX_KEYED_THREATS,
    SHOT_KEY_STRIDE,
    check_key_bounds,
    event_fields,
    event_key,
    event_priority,
    free_kind,
    free_sub,
    free_threat,
    shot_key,
)


def test_packed_priorities_sort_exactly_as_the_event_tuples(rng):
    kinds = rng.integers(0, 5, 3000)
    index = rng.integers(0, MAX_INDEX, 3000)
    sub = np.array([free_sub(int(k), int(j)) for k, j in
                    zip(rng.integers(0, 5, 3000), rng.integers(0, MAX_KEYED_THREATS, 3000))])
    keys = list(zip(kinds.tolist(), index.tolist(), sub.tolist()))
    by_tuple = sorted(range(len(keys)), key=lambda i: keys[i])
    by_priority = sorted(range(len(keys)), key=lambda i: event_priority(*keys[i]))
    assert [keys[i] for i in by_tuple] == [keys[i] for i in by_priority]


def test_packed_keys_sort_as_tuples_for_neighbouring_units_and_the_largest_subs(rng):
    """The corner random indices never reach: units u and u + 1 with every sub-kind of EV_FREE
    and the largest threat (an assignment lapse's sub once overflowed into the index field)."""
    keys = [(kind, index, free_sub(sub_kind, j)) for kind in range(5)
            for index in (0, 1, 2, MAX_INDEX - 2, MAX_INDEX - 1) for sub_kind in range(5)
            for j in (0, 1, MAX_KEYED_THREATS - 1)]
    shuffled = [keys[i] for i in rng.permutation(len(keys))]
    assert sorted(shuffled, key=lambda k: event_priority(*k)) == sorted(keys)
    assert sorted(shuffled, key=lambda k: event_key(*k)) == sorted(keys)
    for k in keys:
        assert event_fields(event_key(*k)) == k
        assert event_priority(*k) == 2 + event_key(*k)


def test_a_free_sub_index_gives_back_its_kind_and_threat():
    for kind, j in itertools.product(range(5), (0, 1, 12345, MAX_KEYED_THREATS - 1)):
        sub = free_sub(kind, j)
        assert (free_kind(sub), free_threat(sub)) == (kind, j)


def test_shot_keys_are_distinct_for_every_engagement_and_interceptor():
    keys = {shot_key(e, m) for e in range(50) for m in range(SHOT_KEY_STRIDE)}
    assert len(keys) == 50 * SHOT_KEY_STRIDE


@pytest.mark.parametrize("threats,units,shots", [(MAX_KEYED_THREATS, 1, 1), (10, MAX_INDEX, 1),
                                                 (10, 1, SHOT_KEY_STRIDE)])
def test_key_bounds_refuse_what_would_overflow(threats, units, shots):
    with pytest.raises(ValueError):
        check_key_bounds(threats, units, shots)
    check_key_bounds(10_000, 100, 4)     # the scenario limits fit


@pytest.mark.parametrize("n,p", [(1, 0.3), (2, 0.8), (4, 0.5)])
def test_a_salvo_kills_with_one_minus_miss_probability_to_the_n(n, p):
    trials = 20000
    kills = sum(salvo_kills(7, rep, 3, 1, n, p) for rep in range(trials))
    expected = 1 - (1 - p) ** n
    assert abs(kills / trials - expected) <= 4 * np.sqrt(expected * (1 - expected) / trials)


def test_the_shots_of_an_engagement_and_a_reload():
    assert shots_to_fire(False, 2, 10, 1) == 2
    assert shots_to_fire(False, 2, 1, 1) == 1          # what is left
    assert shots_to_fire(False, 3, 400, 150) == 2      # gun: 150-round bursts
    assert shots_to_fire(True, 1, 0, 1) == 1            # a laser never runs out
    assert reload_take(48, 3, 100) == 45 and reload_take(48, 3, 10) == 10


def test_the_bookkeeping_of_one_engagement():
    U, J = 2, 3
    magazine = np.array([10, 300])
    count, under = np.zeros(J, np.int64), np.zeros(J, np.int64)
    of, by = np.zeros((U, J), np.int64), np.zeros((U, J), np.bool_)
    shots, rounds, engagements = (np.zeros(U, np.int64) for _ in range(3))
    by_class = np.zeros((U, 6), np.int64)
    e0 = record_fire(1, 2, 2, 150, False, 0, magazine, count, of, by, under, shots, rounds,
                     engagements, by_class)
    e1 = record_fire(0, 2, 1, 1, False, 5, magazine, count, of, by, under, shots, rounds,
                     engagements, by_class)
    assert (e0, e1) == (0, 1) and count[2] == 2 and under[2] == 2
    assert magazine.tolist() == [9, 0] and rounds.tolist() == [1, 300]
    assert shots.tolist() == [1, 2] and engagements.tolist() == [1, 1]
    assert by[0, 2] and by[1, 2] and of[1, 2] == 1 and by_class[1, 0] == 2 and by_class[0, 5] == 1
