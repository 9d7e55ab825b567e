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


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_compiled_detection_ranges_are_the_radar_equation_bit_for_bit(path):
    """compile_scenario computes every sensor's range for every threat once (se_det_range_m),
    with detection_range_m's Python body: the compiled function gives the same bits."""
    from salvosim.defenses.sensors import detection_range_m
    sc = compile_file(path, raid_scale=2)
    assert sc.se_det_range_m.shape == (len(sc.se_e), len(sc.th_raid))
    for s in range(len(sc.se_e)):
        for j in range(len(sc.th_raid)):
            want = detection_range_m(sc.se_range_m[s], sc.th_rcs_m2[j], sc.se_rcs_ref_m2[s],
                                     sc.se_rcs_scaling[s])
            assert sc.se_det_range_m[s, j] == want


def test_python_and_compiled_radar_equation_agree_bit_for_bit():
    """The ** of detection_range_m's Python body and of its compiled code (one libm pow) on
    random and extreme cross sections, references and ranges."""
    from salvosim.defenses.sensors import detection_range_m
    rng = np.random.default_rng(11)
    rcs = np.concatenate([10.0 ** rng.uniform(-6, 3, 400), [1e-9, 1e-4, 0.01, 1.0, 1e4]])
    for k, sigma in enumerate(rcs):
        ref, r_m = 10.0 ** rng.uniform(-3, 1), rng.uniform(1.0, 400_000.0)
        for scaling in (True, False):
            assert (detection_range_m.py_func(r_m, float(sigma), ref, scaling)
                    == detection_range_m(r_m, float(sigma), ref, scaling)), (r_m, sigma, ref)


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_compiled_detection_ranges_follow_the_fourth_root_law(path):
    """The radar equation's law, checked without its formula: a radar's range to the fourth
    power scales with the cross-section, (R / R_ref)^4 = sigma / sigma_ref (a 16x smaller
    target is seen at half the range); a passive sensor's range ignores the cross-section."""
    sc = compile_file(path)
    for s in range(len(sc.se_e)):
        r_ref = sc.se_range_m[s]
        for j in range(len(sc.th_raid)):
            r = sc.se_det_range_m[s, j]
            if sc.se_rcs_scaling[s]:
                assert (r / r_ref) ** 4 == pytest.approx(sc.th_rcs_m2[j] / sc.se_rcs_ref_m2[s],
                                                         rel=1e-12)
            else:
                assert r == r_ref
