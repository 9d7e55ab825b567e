"""prepare_replication computes a sensor's detection only where it can set a known time
(instances.sense_and_window_one; detection_lower_bound_s): the network track and every unit's
known time must be exactly what all detections give (MODEL.md §4), recomputed here from
instances.all_detections with the model's formula. Also run on the 400 wide random scenarios
of tests/engine/test_engines_agree_wide.py."""
import math

import numpy as np
import pytest

from salvosim.engine.instances import all_detections, new_instances, prepare_replication
from tests import REPO_ROOT
from tests.scenario_kit import compile_file

pytestmark = pytest.mark.usefixtures("warm_jit")


def known_times_from_all_detections(sc, inst):
    """(net_known_t [J], known_t [U, J]) by the model's formula over every detection."""
    J, U, S = len(sc.th_raid), len(sc.un_e), len(sc.se_e)
    net = np.full(J, math.inf)
    known = np.full((U, J), math.inf)
    for j in range(J):
        if sc.c2_network:
            for s in range(S):
                net[j] = min(net[j], inst.detect_t[s, j] + sc.se_track_delay_s[s]
                             + sc.c2_latency_s)
        for u in range(U):
            if not sc.un_engages[u, sc.th_class[j]]:
                continue
            s = sc.un_sensor[u]
            own = inst.detect_t[s, j] + sc.se_track_delay_s[s] if s >= 0 else math.inf
            known[u, j] = min(own, net[j])
    return net, known


def check_known_times(sc, seed, reps):
    """Returns how many detections the culled computation skipped."""
    inst = new_instances(sc)
    skipped = 0
    for rep in range(reps):
        prepare_replication(sc, seed, rep, inst)
        net, known = inst.net_known_t.copy(), inst.known_t.copy()
        culled = inst.detect_t.copy()
        all_detections(sc, inst)
        want_net, want_known = known_times_from_all_detections(sc, inst)
        np.testing.assert_array_equal(net, want_net)
        engages = sc.un_engages[:, sc.th_class]
        np.testing.assert_array_equal(known[engages], want_known[engages])
        computed = np.isfinite(culled)
        np.testing.assert_array_equal(culled[computed], inst.detect_t[computed])
        skipped += int(np.sum(np.isfinite(inst.detect_t) & ~computed))
    return skipped


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_known_times_are_those_of_all_detections(path):
    check_known_times(compile_file(path), seed=3, reps=5)


def test_the_flagship_skips_most_detections():
    assert check_known_times(compile_file(REPO_ROOT / "scenarios" / "al_asad_drone_raid.toml"),
                             seed=3, reps=3) > 300
