"""Statistical oracles for every random draw of a replication (MODEL.md §3, §9, §10).

Each test compiles a small scenario, calls `engine.instances.prepare_replication` for many
replications (the draws both engines share) and checks the sample against the distribution
the model prescribes, at 4 sigma, with fixed seeds: the tests are deterministic, and a correct
implementation passes them with a margin (a wrong one — a CEP taken as sigma, a variance taken
as a standard deviation, a jitter over the wrong interval, a Poisson gap with the rate in
per-minute units, an asset never drawn — misses its band by many sigmas).

No test here uses the engines' own statistics code: the truths are written out by hand
(Rayleigh for CEP, chi-square-like bands for variances, Kolmogorov-Smirnov for uniforms).
Also: the draws do not depend on the defense (common random numbers) nor on the block a
replication runs in.
"""
import math

import numpy as np
import pytest

from salvosim.engine.instances import new_instances, prepare_replication
from salvosim.engine.montecarlo import iter_blocks, run_block_numba, run_block_reference
from tests.scenario_kit import compile_dict, drone_raid, missile_unit, oracle_scenario, radar

pytestmark = pytest.mark.usefixtures("warm_jit")

SIGMAS = 4.0
CEP_TO_SIGMA = 1.0 / 1.1774           # written out here, not imported: the oracle owns it


def rocket_raid(count=1, range_km=10.0, bearing_deg=0.0, **over):
    table = {"name": "rockets", "type": "rocket_122mm", "count": count,
             "launch": {"bearing_deg": bearing_deg, "range_km": range_km},
             "aim": {"east_m": 0.0, "north_m": 0.0}, "interval_s": 0.0,
             "reliability": 1.0, "cep_m": 0.0, "aim_spread_m": 0.0, "launch_spread_m": 0.0}
    table.update(over)
    return table


def draw_samples(raids, reps, seed=20240128, units=(), sensors=()):
    """Per-replication draws [reps, J] of a scenario without (or with) a defense."""
    data = oracle_scenario(units=list(units), sensors=list(sensors), raids=raids)
    sc, _ = compile_dict(data)
    inst = new_instances(sc)
    keys = ("t_launch", "t_impact", "t_end", "fails", "impact_e", "impact_n")
    out = {k: [] for k in keys + ("launch_e", "launch_n")}
    for rep in range(reps):
        prepare_replication(sc, seed, rep, inst)
        for k in keys:
            out[k].append(getattr(inst, k).copy())
        out["launch_e"].append(inst.pt_e[:, 0].copy())     # trajectory point 0 = launch point
        out["launch_n"].append(inst.pt_n[:, 0].copy())
    return sc, {k: np.array(v) for k, v in out.items()}


# ---------------------------------------------------------------------------- bands
def assert_fraction(k, n, p, what=""):
    sd = math.sqrt(p * (1 - p) / n)
    assert abs(k / n - p) <= SIGMAS * sd, (
        f"{what}: observed {k / n:.4f} over {n}, expected {p:.4f} ± {SIGMAS * sd:.4f}")


def assert_normal_sample(x, mean, sigma, what=""):
    """Mean, variance (known mean: s^2/sigma^2 ~ chi2_n / n, sd sqrt(2/n)) and the fraction
    within one sigma (0.6827), each at 4 sigma."""
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    assert abs(x.mean() - mean) <= SIGMAS * sigma / math.sqrt(n), (
        f"{what}: mean {x.mean():.3f}, expected {mean:.3f} ± {SIGMAS * sigma / math.sqrt(n):.3f}")
    ratio = np.mean((x - mean) ** 2) / sigma ** 2
    band = SIGMAS * math.sqrt(2.0 / n)
    assert abs(ratio - 1.0) <= band, (
        f"{what}: variance / sigma^2 = {ratio:.4f}, expected 1 ± {band:.4f}")
    assert_fraction(int((np.abs(x - mean) <= sigma).sum()), n, math.erf(1 / math.sqrt(2)),
                    f"{what}: fraction within one sigma")


def ks_statistic_uniform01(u):
    """Kolmogorov-Smirnov distance of a sample from U(0, 1)."""
    u = np.sort(np.asarray(u, dtype=float).ravel())
    n = u.size
    i = np.arange(1, n + 1)
    return max(np.max(i / n - u), np.max(u - (i - 1) / n))


def assert_uniform01(u, what=""):
    """KS distance at p ~ 1e-5 (P(sqrt(n) D > x) ~ 2 exp(-2 x^2); x = 2.5 -> 7e-6), plus every
    one of ten bins within 4 sigma of n/10."""
    u = np.asarray(u, dtype=float).ravel()
    n = u.size
    assert (u >= 0.0).all() and (u <= 1.0).all(), f"{what}: outside [0, 1]"
    d = ks_statistic_uniform01(u)
    assert d * math.sqrt(n) <= 2.5, (
        f"{what}: KS distance {d:.4f} over {n} (limit {2.5 / math.sqrt(n):.4f})")
    counts = np.histogram(u, bins=10, range=(0.0, 1.0))[0]
    for b, c in enumerate(counts):
        assert_fraction(int(c), n, 0.1, f"{what}: bin {b}")


def test_the_oracle_bands_reject_wrong_distributions():
    """The bands above can fail: a uniform on [0, 0.95), a normal of sd 1.05 and a CEP taken
    as sigma are all rejected at the sample sizes used below."""
    g = np.random.default_rng(5)
    with pytest.raises(AssertionError):
        assert_uniform01(g.uniform(0.0, 0.95, 10_000))
    with pytest.raises(AssertionError):
        assert_normal_sample(g.normal(0.0, 1.05, 20_000), 0.0, 1.0)
    r = np.hypot(*g.normal(0.0, 1.0, (2, 10_000)))     # sigma = 1, "CEP" = 1
    with pytest.raises(AssertionError):
        assert_fraction(int((r <= 1.0).sum()), r.size, 0.5)
    assert_uniform01(g.uniform(0.0, 1.0, 10_000))        # and accept the right ones
    assert_normal_sample(g.normal(0.0, 1.0, 20_000), 0.0, 1.0)


# ---------------------------------------------------------------------------- CEP
def test_half_the_impacts_fall_within_a_fixed_cep_of_the_aim_point():
    """I = A + circular normal, sigma = CEP / 1.1774 per axis: P(|I - A| <= CEP) = 1/2, and
    P(|I - A| <= 2 CEP) = 1 - 2^-4 (the Rayleigh shape, not just its median)."""
    cep = 40.0
    _, d = draw_samples([drone_raid(count=500, cep_m=cep, interval_s=1.0)], reps=30)
    miss = np.hypot(d["impact_e"], d["impact_n"])          # aim point A = (0, 0)
    n = miss.size
    assert_fraction(int((miss <= cep).sum()), n, 0.5, "within CEP")
    assert_fraction(int((miss <= 2 * cep).sum()), n, 1 - 0.5 ** 4, "within 2 CEP")
    for axis in ("impact_e", "impact_n"):
        assert_normal_sample(d[axis], 0.0, cep * CEP_TO_SIGMA, f"CEP error {axis}")
    # the axes, and neighbouring threats, are uncorrelated
    ex, ny = d["impact_e"].ravel(), d["impact_n"].ravel()
    assert abs(np.corrcoef(ex, ny)[0, 1]) <= SIGMAS / math.sqrt(n)
    assert abs(np.corrcoef(d["impact_e"][:, :-1].ravel(), d["impact_e"][:, 1:].ravel())[0, 1]) \
        <= SIGMAS / math.sqrt(n)


@pytest.mark.parametrize("kind", ["rocket", "drone"])
def test_half_the_impacts_fall_within_a_cep_proportional_to_the_ground_range(kind):
    """cep_frac_of_range: CEP = frac x |A - L| with L this instance's (spread) launch point."""
    frac = 0.01
    if kind == "rocket":
        raid = rocket_raid(count=500, range_km=12.0, cep_frac_of_range=frac,
                           launch_spread_m=1500.0)
    else:
        raid = drone_raid(count=500, range_km=30.0, cep_frac_of_range=frac, interval_s=1.0,
                          launch_spread_m=3000.0)
    _, d = draw_samples([raid], reps=30)
    cep = frac * np.hypot(d["launch_e"], d["launch_n"])     # A = (0, 0)
    assert cep.std() > 0.05 * cep.mean()                    # the range does vary per instance
    miss = np.hypot(d["impact_e"], d["impact_n"])
    assert_fraction(int((miss <= cep).sum()), miss.size, 0.5, "within CEP")
    assert_fraction(int((miss <= 2 * cep).sum()), miss.size, 1 - 0.5 ** 4, "within 2 CEP")
    # normalised per-axis errors are standard normal
    for axis in ("impact_e", "impact_n"):
        assert_normal_sample(d[axis] / (cep * CEP_TO_SIGMA), 0.0, 1.0, f"normalised {axis}")


# ---------------------------------------------------------------------------- reliability
@pytest.mark.parametrize("kind,reliability", [("rocket", 0.8), ("drone", 0.6)])
def test_a_fraction_one_minus_reliability_fails_uniformly_over_its_flight(kind, reliability):
    if kind == "rocket":
        raid = rocket_raid(count=400, reliability=reliability, interval_s=0.5)
    else:
        raid = drone_raid(count=400, reliability=reliability, interval_s=3.0)
    _, d = draw_samples([raid], reps=30)
    fails = d["fails"]
    assert_fraction(int(fails.sum()), fails.size, 1 - reliability, "failing")
    # a threat that does not fail ends at impact, one that fails strictly before
    np.testing.assert_array_equal(d["t_end"][~fails], d["t_impact"][~fails])
    flight = d["t_impact"] - d["t_launch"]
    u = (d["t_end"][fails] - d["t_launch"][fails]) / flight[fails]
    assert_uniform01(u, "failure time / flight time")
    # a failure is independent of which threat it is (no systematic streak per index)
    per_threat = fails.mean(axis=0)
    assert abs(per_threat.mean() - (1 - reliability)) <= SIGMAS * math.sqrt(
        reliability * (1 - reliability) / fails.size)


def test_reliability_one_never_fails_and_zero_always_fails():
    _, d = draw_samples([rocket_raid(count=200, reliability=1.0),
                         rocket_raid(count=200, reliability=0.0, name="duds")], reps=5)
    assert not d["fails"][:, :200].any()
    assert d["fails"][:, 200:].all()
    assert (d["t_end"][:, 200:] < d["t_impact"][:, 200:]).all()


# ---------------------------------------------------------------------------- spreads
@pytest.mark.parametrize("sigma", [25.0, 300.0])
def test_aim_spread_is_normal_with_sigma_aim_spread_m_per_axis(sigma):
    """With no CEP the impact is the aim point: A = target + N(0, sigma^2) per axis."""
    target = (120.0, -80.0)
    raid = drone_raid(count=500, aim={"east_m": target[0], "north_m": target[1]},
                      aim_spread_m=sigma, interval_s=1.0)
    _, d = draw_samples([raid], reps=30)
    assert_normal_sample(d["impact_e"], target[0], sigma, "aim east")
    assert_normal_sample(d["impact_n"], target[1], sigma, "aim north")
    assert abs(np.corrcoef(d["impact_e"].ravel(), d["impact_n"].ravel())[0, 1]) \
        <= SIGMAS / math.sqrt(d["impact_e"].size)


@pytest.mark.parametrize("kind", ["rocket", "drone"])
def test_launch_spread_is_normal_with_sigma_launch_spread_m_per_axis(kind):
    sigma = 700.0
    if kind == "rocket":
        raid = rocket_raid(count=500, range_km=12.0, bearing_deg=0.0, launch_spread_m=sigma)
    else:
        raid = drone_raid(count=500, range_km=30.0, bearing_deg=90.0, launch_spread_m=sigma,
                          interval_s=1.0)
    sc, d = draw_samples([raid], reps=30)
    site = (sc.th_site_e[0], sc.th_site_n[0])     # the compiled (projected) launch site
    assert_normal_sample(d["launch_e"], site[0], sigma, "launch east")
    assert_normal_sample(d["launch_n"], site[1], sigma, "launch north")
    # the aim is untouched by the launch spread
    np.testing.assert_array_equal(d["impact_e"], 0.0)
    np.testing.assert_array_equal(d["impact_n"], 0.0)


# ---------------------------------------------------------------------------- timing
def test_launch_jitter_is_uniform_on_zero_to_jitter_s():
    start, interval, jitter = 30.0, 4.0, 6.0
    count = 400
    raid = drone_raid(count=count, start_s=start, interval_s=interval, jitter_s=jitter)
    _, d = draw_samples([raid], reps=30)
    nominal = start + interval * np.arange(count)
    u = (d["t_launch"] - nominal) / jitter
    assert_uniform01(u, "jitter / jitter_s")
    assert (u < 1.0).all()
    assert abs(u.mean() - 0.5) <= SIGMAS * math.sqrt(1 / 12 / u.size)


def test_no_jitter_gives_the_exact_fixed_schedule():
    raid = drone_raid(count=50, start_s=12.5, interval_s=3.0)
    _, d = draw_samples([raid], reps=3)
    np.testing.assert_array_equal(d["t_launch"], np.tile(12.5 + 3.0 * np.arange(50), (3, 1)))


@pytest.mark.parametrize("rate_per_min", [2.0, 45.0])
def test_poisson_gaps_are_exponential_with_mean_sixty_over_rate(rate_per_min):
    """Gaps (the first from start_s) are exponential with mean m = 60 / rate_per_min:
    sample mean within 4 m / sqrt(n), a fraction e^-1 longer than m, a fraction 1 - e^-2
    shorter than 2 m; the scaled gaps exp(-gap / m) are uniform."""
    start, count = 15.0, 500
    raid = drone_raid(count=count, start_s=start, interval_s=0.0, rate_per_min=rate_per_min)
    _, d = draw_samples([raid], reps=30)
    t = d["t_launch"]
    gaps = np.diff(np.concatenate([np.full((t.shape[0], 1), start), t], axis=1), axis=1)
    m = 60.0 / rate_per_min
    n = gaps.size
    assert (gaps >= 0).all()
    assert abs(gaps.mean() - m) <= SIGMAS * m / math.sqrt(n), f"mean gap {gaps.mean():.4f} vs {m}"
    assert_fraction(int((gaps > m).sum()), n, math.exp(-1.0), "gaps longer than the mean")
    assert_fraction(int((gaps < 2 * m).sum()), n, 1 - math.exp(-2.0), "gaps shorter than 2 means")
    assert_uniform01(np.exp(-gaps / m), "exp(-gap / mean)")
    # successive gaps are independent
    lag1 = np.corrcoef(gaps[:, :-1].ravel(), gaps[:, 1:].ravel())[0, 1]
    assert abs(lag1) <= SIGMAS / math.sqrt(n)


def test_each_raid_runs_its_own_poisson_clock_from_its_start():
    a = drone_raid(count=300, start_s=0.0, interval_s=0.0, rate_per_min=6.0, name="a")
    b = drone_raid(count=300, start_s=500.0, interval_s=0.0, rate_per_min=60.0, name="b")
    _, d = draw_samples([a, b], reps=20)
    t = d["t_launch"]
    assert (t[:, 300] >= 500.0).all()
    for lo, start, m in ((0, 0.0, 10.0), (300, 500.0, 1.0)):
        block = t[:, lo:lo + 300]
        gaps = np.diff(np.concatenate([np.full((block.shape[0], 1), start), block], axis=1))
        assert abs(gaps.mean() - m) <= SIGMAS * m / math.sqrt(gaps.size)


# ---------------------------------------------------------------------------- random asset
def test_random_asset_aims_at_each_asset_with_equal_probability():
    """aim = "random_asset" with no spread and no CEP: the impact is one asset's aim point,
    each of the base's A assets with probability 1/A."""
    raid = drone_raid(count=500, aim="random_asset", interval_s=1.0)
    sc, d = draw_samples([raid], reps=30)
    points = np.stack([sc.as_aim_e, sc.as_aim_n], axis=1)
    n_assets = len(points)
    assert n_assets >= 3
    ie, in_ = d["impact_e"].ravel(), d["impact_n"].ravel()
    dist = np.hypot(ie[:, None] - points[None, :, 0], in_[:, None] - points[None, :, 1])
    assert (dist.min(axis=1) < 1e-9).all(), "every impact is exactly an asset's aim point"
    which = dist.argmin(axis=1)
    counts = np.bincount(which, minlength=n_assets)
    for a, c in enumerate(counts):
        assert_fraction(int(c), which.size, 1.0 / n_assets, f"asset {a}")
    chi2 = ((counts - which.size / n_assets) ** 2 / (which.size / n_assets)).sum()
    # chi-square with A - 1 dof: mean A - 1, sd sqrt(2 (A - 1))
    assert chi2 <= (n_assets - 1) + SIGMAS * math.sqrt(2 * (n_assets - 1))


# ---------------------------------------------------------------------------- common random numbers
def mixed_raids():
    return [drone_raid(count=20, cep_m=30.0, aim_spread_m=50.0, launch_spread_m=400.0,
                       reliability=0.7, interval_s=5.0, jitter_s=3.0),
            rocket_raid(count=20, name="rockets", cep_frac_of_range=0.02, reliability=0.8,
                        aim="random_asset", interval_s=0.0, rate_per_min=20.0,
                        launch_spread_m=200.0)]


def defense_a():
    return [missile_unit("a1", pk=0.5), missile_unit("a2", east_m=500.0, pk=0.9, magazine=3,
                                                      channels=2)], [radar()]


def defense_b():
    units = [missile_unit("b1", east_m=-2000.0, north_m=1000.0, pk=0.3, max_engagements=3,
                          max_range_m=4000.0, sensor="flir"),
             missile_unit("b2", type="cram", pk={"rocket": 0.6, "drone": 0.6}, east_m=100.0,
                          magazine=1500, rounds_per_shot=150, burst_s=2.0, sensor="flir"),
             missile_unit("b3", north_m=-700.0, sensor="flir")]
    return units, [radar("flir", range_m=9000.0, rcs_scaling=True, track_delay_s=2.0)]


def test_threat_draws_do_not_depend_on_the_defense():
    """Same seed, two different defenses (and none): identical launch times, launch points,
    impact points, failures and failure times in every replication (common random numbers)."""
    none_sc, none = draw_samples(mixed_raids(), reps=25, seed=99)
    for units, sensors in (defense_a(), defense_b()):
        _, d = draw_samples(mixed_raids(), reps=25, seed=99, units=units, sensors=sensors)
        for k in none:
            np.testing.assert_array_equal(d[k], none[k], err_msg=k)
    assert none["fails"].any() and (~none["fails"]).any()


@pytest.mark.parametrize("engine", ["numba", "reference"])
def test_engine_outputs_carry_the_same_impact_points_under_two_defenses(engine):
    """Through the engines: the impact points they report under two different defenses are
    identical, and are those of the draws."""
    outs = []
    for units, sensors in (defense_a(), defense_b()):
        sc, _ = compile_dict(oracle_scenario(units=units, sensors=sensors, raids=mixed_raids()))
        outs.append(next(iter_blocks(sc, 6, 99, engine=engine, threads=1)))
    np.testing.assert_array_equal(outs[0].impact_e, outs[1].impact_e)
    np.testing.assert_array_equal(outs[0].impact_n, outs[1].impact_n)
    _, d = draw_samples(mixed_raids(), reps=6, seed=99)
    np.testing.assert_array_equal(outs[0].impact_e, d["impact_e"])
    np.testing.assert_array_equal(outs[0].impact_n, d["impact_n"])


def test_draws_do_not_depend_on_the_block_split():
    """Replication r draws the same wherever it runs: prepare_replication alone, in one block
    of 40, in blocks of 7, or in a block that starts at r."""
    units, sensors = defense_a()
    data = oracle_scenario(units=units, sensors=sensors, raids=mixed_raids())
    sc, _ = compile_dict(data)
    _, d = draw_samples(mixed_raids(), reps=40, seed=5)
    whole = run_block_numba(sc, 5, 0, 40, threads=2)
    split = list(iter_blocks(sc, 40, 5, engine="numba", threads=2, block_reps=7))
    assert [b.rep0 for b in split] == [0, 7, 14, 21, 28, 35]
    part = run_block_numba(sc, 5, 25, 5, threads=1)
    for field in ("impact_e", "impact_n"):
        np.testing.assert_array_equal(getattr(whole, field), d[field])
        np.testing.assert_array_equal(np.concatenate([getattr(b, field) for b in split]), d[field])
        np.testing.assert_array_equal(getattr(part, field), d[field][25:30])
    for field in ("fate", "fate_t", "shots"):
        np.testing.assert_array_equal(np.concatenate([getattr(b, field) for b in split]),
                                      getattr(whole, field))
        np.testing.assert_array_equal(getattr(part, field), getattr(whole, field)[25:30])
    ref = run_block_reference(sc, 5, 25, 5)
    np.testing.assert_array_equal(ref.impact_e, d["impact_e"][25:30])


def test_different_seeds_and_replications_draw_differently():
    _, a = draw_samples(mixed_raids(), reps=2, seed=1)
    _, b = draw_samples(mixed_raids(), reps=2, seed=2)
    assert not np.array_equal(a["impact_e"], b["impact_e"])
    assert not np.array_equal(a["impact_e"][0], a["impact_e"][1])
    assert not np.array_equal(a["t_launch"][0], a["t_launch"][1])
