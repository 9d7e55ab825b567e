"""intercept.piecewise_dwell_bounds: the claims it makes about laser dwells hold.

The kernel believes them without integrating (a slot kept useful until `until`, a threat put
out of reach when `never`), so each claim is checked against both the core's integral
(laser_dwell_end_s, what the engines compute) and the independent oracle (oracle_geometry), on
random laser duels whose dwell is set near the window's capacity (the marginal cases), from
start times anywhere in the window. The test also insists that both claims are actually made
often: a refinement that never decides anything would pass the checks vacuously.
"""
import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from salvosim.defenses.intercept import laser_dwell_end_s, piecewise_dwell_bounds, slant_bound_m
from salvosim.engine.constants import LASER_END_ERROR, LASER_MIN_SLANT_M
from tests.defenses.test_geometry_oracles import (
    N_UNIFORMS,
    describe,
    is_useful,
    oracle_settings,
    shot_case,
    uniforms,
)

FAMILIES = ("cruise", "short", "quds", "ballistic")


def piecewise_claims(case):
    """(until, never) of piecewise_dwell_bounds for the case (t_from moved into the window),
    or None when the window has no room."""
    traj, tr, wpn, a, b, t_from = case
    t_from = max(t_from, a)
    if not b > t_from:
        return None
    r_hi = max(slant_bound_m(*tr, 0, t_from, b, wpn.unit_e, wpn.unit_n), LASER_MIN_SLANT_M)
    error_s = LASER_END_ERROR * wpn.dwell_s * (r_hi / wpn.ref_m) ** 2 + 1e-5
    until, never = piecewise_dwell_bounds(*tr, 0, t_from, b, wpn.unit_e, wpn.unit_n,
                                          wpn.dwell_s, wpn.ref_m, error_s, -math.inf)
    return t_from, until, never


def check_claims(case):
    """Check what piecewise_dwell_bounds claims; return 'never', 'until' or None (no claim)."""
    traj, tr, wpn, a, b, _ = case
    claims = piecewise_claims(case)
    if claims is None:
        return None
    t_from, until, never = claims
    info = lambda **kw: describe(traj, wpn=wpn, a=a, b=b, t_from=t_from, until=until,  # noqa
                                 never=never, **kw)
    if never:
        for s in (t_from, 0.5 * (t_from + b)):
            assert laser_dwell_end_s(*tr, 0, s, wpn.unit_e, wpn.unit_n, wpn.dwell_s, wpn.ref_m,
                                     b) > b, info(s=s)
            assert not is_useful(traj, wpn, s, a, b, margin=-1e-5), info(s=s)
        return "never"
    if until < t_from:
        return None
    for s in np.linspace(t_from, until, 5):
        assert laser_dwell_end_s(*tr, 0, s, wpn.unit_e, wpn.unit_n, wpn.dwell_s, wpn.ref_m,
                                 b) <= b, info(s=s)
        assert is_useful(traj, wpn, s, a, b), info(s=s)
    return "until"


@oracle_settings(500)
@given(u=uniforms, family=st.sampled_from(FAMILIES))
def test_piecewise_dwell_claims_hold(u, family):
    case = shot_case(u, family, "laser")
    assume(case is not None)
    check_claims(case)


def test_piecewise_dwell_claims_are_made():
    """Both kinds of claim are made on a good share of random duels."""
    rng = np.random.default_rng(5)
    made = {"never": 0, "until": 0, None: 0}
    for k in range(400):
        case = shot_case(list(rng.random(N_UNIFORMS)), FAMILIES[k % len(FAMILIES)], "laser")
        if case is not None:
            made[check_claims(case)] += 1
    assert made["never"] >= 15 and made["until"] >= 15, made
