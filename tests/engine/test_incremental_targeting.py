"""The Numba engine's incremental targeting against its debug mode (kernel.run_events, check).

The kernel keeps, per unit, each candidate's last answer and how long it holds, and skips a
unit's whole scan when none of its candidates changed state. In the debug mode every decision
is made again by kernel.full_scan_target, which uses neither: every engageable threat, the
full rule intercept.earliest_shot_time_s from scratch (the reference engine's rule). Each
decision must then give the same choice and, when it fires at nothing, the same wake-up.

The check is shown to bite: with the skip rule broken on purpose (CHECK_MUTANT: a unit reuses
its last scan even after a candidate changed state) it fails on the flagship.
Engine agreement and the wide random scenarios run the same check
(tests/engine/test_engines_agree_wide.py)."""

import pytest

from salvosim.engine.compile import compile_scenario
from salvosim.engine.constants import CHECK_MUTANT, CHECK_ON
from salvosim.engine.kernel import check_replications
from salvosim.engine.variants import load_scenario, variants_of
from tests import REPO_ROOT
from tests.scenario_kit import compile_file

pytestmark = pytest.mark.usefixtures("warm_jit")

SCENARIOS = sorted((REPO_ROOT / "scenarios").glob("*.toml"))


def checked(sc, reps, mode=CHECK_ON, seed=7):
    disagreements, decisions, skipped = check_replications(sc, seed, 0, reps, mode)
    return int(disagreements), int(decisions), int(skipped)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_decision_matches_the_full_scan_on_bundled_scenarios(path):
    sc = compile_file(path)
    disagreements, decisions, _ = checked(sc, reps=6)
    # (in the 2020 attack no unit could engage a ballistic missile)
    assert decisions > 0 or not sc.un_engages[:, sc.th_class].any()
    assert disagreements == 0, f"{disagreements} of {decisions} decisions"


MIXES = [(path, v.name) for path in SCENARIOS if load_scenario(path).raw.get("variants")
         for v in variants_of(load_scenario(path))]


@pytest.mark.parametrize("path,mix", MIXES, ids=lambda x: getattr(x, "stem", x))
def test_every_decision_matches_the_full_scan_in_every_bundled_mix(path, mix):
    """The [[variants]] mixes too: hold_for (which makes all of a unit's answers stale, held
    ones included), the Patriot's restricted doctrine, central C2 and decoy discrimination are
    only there."""
    scenario = next(v.scenario for v in variants_of(load_scenario(path)) if v.name == mix)
    disagreements, decisions, _ = checked(compile_scenario(scenario)[0], reps=12)
    assert decisions > 0
    assert disagreements == 0, f"{disagreements} of {decisions} decisions"


def test_dense_raid_matches_the_full_scan_and_skips_scans():
    """The flagship with three times its raids (300 threats): the skip is exercised a lot."""
    disagreements, decisions, skipped = checked(
        compile_file(REPO_ROOT / "scenarios" / "al_asad_drone_raid.toml", raid_scale=3), reps=2)
    assert disagreements == 0, f"{disagreements} of {decisions} decisions"
    assert skipped > decisions // 5, (skipped, decisions)


def test_the_check_fails_when_the_skip_rule_is_broken():
    disagreements, decisions, skipped = checked(
        compile_file(REPO_ROOT / "scenarios" / "al_asad_drone_raid.toml"), reps=4, mode=CHECK_MUTANT)
    assert skipped > 0 and disagreements > 0, (disagreements, decisions, skipped)
