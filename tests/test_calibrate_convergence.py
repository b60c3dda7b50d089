"""The rule that calls an ABC-SMC fit converged, on made-up generation histories, and how a
finished fit records it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from test_calibrate import TINY, edited, write

from sim.studies import specfile
from sim.studies.calibration import convergence, engine, load_targets
from sim.studies.calibration.targets import Convergence

RANGES = {"a": (0.0, 1.0), "b": (0.0, 10.0)}
RULE = Convergence()  # 5% epsilon decrease, ESS >= 30%, medians move < 5% of their range


def history(eps, ess, a, b, particles=100):
    return pd.DataFrame({"generation": range(len(eps)), "epsilon": eps, "ess": ess,
                         "particles": particles, "median_a": a, "median_b": b})


SETTLED = dict(eps=[3.0, 2.0, 1.50, 1.47, 1.45], ess=[100, 60, 50, 45, 40],
               a=[0.5, 0.40, 0.31, 0.30, 0.31], b=[5.0, 4.0, 3.2, 3.1, 3.0])


def test_a_settled_history_is_converged():
    verdict = convergence.check(history(**SETTLED), RANGES, RULE)
    assert verdict["converged"] and verdict["generation"] == 4
    c = verdict["criteria"]
    assert c["epsilon_decrease"]["value"] == pytest.approx((1.50 - 1.45) / 1.50, abs=1e-4)
    assert c["ess"]["value"] == pytest.approx(0.40)
    assert c["median_shift"]["value"] == pytest.approx(0.01)  # b: 0.1 of a range of 10


@pytest.mark.parametrize("change, failing", [
    ({"eps": [3.0, 2.0, 1.50, 1.40, 1.30]}, "epsilon_decrease"),  # still falling (13%)
    ({"ess": [100, 60, 50, 45, 29]}, "ess"),  # 29 of 100: degenerate weights
    ({"a": [0.5, 0.40, 0.31, 0.30, 0.36]}, "median_shift"),  # a moved 6% of its range
    ({"b": [5.0, 4.0, 3.2, 3.1, 3.6]}, "median_shift"),  # b moved 5% of its range: not < 5%
])
def test_each_criterion_alone_blocks_convergence(change, failing):
    verdict = convergence.check(history(**{**SETTLED, **change}), RANGES, RULE)
    assert not verdict["converged"]
    held = {k: c["held"] for k, c in verdict["criteria"].items()}
    assert held == {k: k != failing for k in held}


def test_too_short_a_history_is_not_converged():
    short = {k: v[-2:] for k, v in SETTLED.items()}
    verdict = convergence.check(history(**short), RANGES, RULE)
    assert not verdict["converged"]
    assert verdict["criteria"]["epsilon_decrease"]["detail"] == "needs three generations"
    assert verdict["criteria"]["ess"]["held"] and verdict["criteria"]["median_shift"]["held"]


def test_thresholds_come_from_the_targets_file():
    loose = Convergence(epsilon_decrease=0.2, ess_fraction=0.2, median_shift=0.1)
    falling = history(**{**SETTLED, "eps": [3.0, 2.0, 1.50, 1.40, 1.30],
                         "ess": [100, 60, 50, 45, 25]})
    assert convergence.check(falling, RANGES, loose)["converged"]


def test_effective_sample_size_normalises_the_weights():
    assert convergence.effective_sample_size([2, 2, 2, 2]) == pytest.approx(4)
    assert convergence.effective_sample_size([5, 0, 0, 0]) == pytest.approx(1)
    assert convergence.effective_sample_size([3, 1]) == pytest.approx(1 / (0.75**2 + 0.25**2))


def test_bad_convergence_setting_gives_one_line_naming_the_key(tmp_path):
    path = write(tmp_path, edited(abc__convergence={"ess_fraction": 1.5}))
    with pytest.raises(specfile.SpecError) as err:
        load_targets(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    assert "ess_fraction" in message


# TINY's fingerprint before `kernel_scaling` and `convergence` existed (every fit then had a
# kernel of Silverman's width): a folder made then must still be recognised.
TINY_FINGERPRINT_BEFORE = "69abc2c68318"


def test_settings_added_later_keep_older_folders_fingerprint(tmp_path):
    before = edited(abc__kernel_scaling=1.0, abc__convergence={"ess_fraction": 0.3})
    assert load_targets(write(tmp_path, before, "b.yaml")).fingerprint() == TINY_FINGERPRINT_BEFORE
    # The default kernel is now twice as wide: a new fit is not the old one.
    plain = load_targets(write(tmp_path, TINY, "a.yaml"))
    assert plain.abc.kernel_scaling == 2.0 and plain.fingerprint() != TINY_FINGERPRINT_BEFORE
    wider = edited(abc__kernel_scaling=2.0)
    assert load_targets(write(tmp_path, wider, "c.yaml")).fingerprint() == plain.fingerprint()
    looser = edited(abc__convergence={"ess_fraction": 0.2})
    assert load_targets(write(tmp_path, looser, "d.yaml")).fingerprint() != plain.fingerprint()


def test_a_fit_records_its_convergence_verdict(tmp_path):
    from sim.studies.calibration import calibrate

    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["abc"].update(generations=3, kernel_scaling=2.0)
    cal = calibrate(write(tmp_path, data), out=tmp_path / "out", workers=1, progress=False)
    verdict = cal.info["convergence"]
    assert cal.info["converged"] is verdict["converged"]
    assert set(verdict["criteria"]) == {"epsilon_decrease", "ess", "median_shift"}
    assert verdict["generation"] == len(cal.generations) - 1
    gens = cal.generations
    assert (gens["ess"] <= gens["particles"] + 1e-9).all() and (gens["ess"] >= 1).all()
    assert {"median_supervisor_quality_mean", "median_annual_quit_rate"} <= set(gens.columns)
    report = (cal.folder / "report" / "report.md").read_text()
    assert ("**Converged**" in report) is verdict["converged"]
    assert "effective sample size as a share of the population" in report
    # the last generation's ESS is the posterior's
    assert gens["ess"].iloc[-1] == pytest.approx(
        convergence.effective_sample_size(cal.posterior["weight"]), abs=0.01)


def test_the_standard_error_of_a_weighted_median_matches_its_spread():
    # Importance-weighted draws of N(0, 1) from a wider proposal (ESS about 60% of 300): the
    # standard error Woodruff's interval gives, averaged, is within 20% of the spread of the
    # weighted medians over 400 samples.
    g = np.random.default_rng(1)
    medians, errors = [], []
    for _ in range(400):
        x = g.normal(0, 1.5, 300)
        w = np.exp(-x**2 / 2) / np.exp(-x**2 / (2 * 1.5**2))
        medians.append(engine.weighted_quantile(x, w, 0.5))
        errors.append(convergence.median_standard_error(x, w))
    assert np.mean(errors) == pytest.approx(np.std(medians), rel=0.2)


WIDE = {f"p{i}": (0.0, 1.0) for i in range(13)}  # thirteen parameters, as the published fit


def generation_pair(g, shift: float = 0.0) -> pd.DataFrame:
    """Two generations of 300 weighted particles whose posterior is N(0.5, 0.25) in each of
    thirteen parameters of range 1 (as wide as the published fit's weakest-identified ones),
    with weights spread so that the ESS is about 45% of the population (as the published
    fit's); in the second, p0's posterior has moved by `shift`."""
    rows = []
    for t, move in enumerate((0.0, shift)):
        x = g.normal(0.5, 0.25, (300, 13)) + np.eye(13)[0] * move
        w = g.lognormal(0.0, np.sqrt(np.log(1 / 0.45)), 300)
        rows.append({"generation": t, "epsilon": 1.0, "particles": 300,
                     "ess": convergence.effective_sample_size(w),
                     **convergence.posterior_medians(pd.DataFrame(x, columns=list(WIDE)), w,
                                                     list(WIDE))})
    return pd.DataFrame(rows)


def test_a_posterior_that_stopped_moving_is_seen_to_have_stopped():
    # Monte Carlo noise alone moves a median of such a posterior by about 4% of its range
    # between generations: the bare 5% threshold calls it still moving most of the time, the
    # rule that allows for the noise rarely (200 pairs of generations).
    g = np.random.default_rng(2)
    noisy, bare = 0, 0
    for _ in range(200):
        gens = generation_pair(g)
        noisy += convergence.check(gens, WIDE, RULE)["criteria"]["median_shift"]["held"]
        plain = gens.drop(columns=[c for c in gens if c.startswith("median_se_")])
        bare += convergence.check(plain, WIDE, RULE)["criteria"]["median_shift"]["held"]
    assert noisy / 200 >= 0.85
    assert bare / 200 <= 0.3


def test_a_posterior_still_moving_is_seen_to_move():
    g = np.random.default_rng(3)
    caught = 0
    for _ in range(200):
        verdict = convergence.check(generation_pair(g, shift=0.2), WIDE, RULE)
        caught += not verdict["criteria"]["median_shift"]["held"]
        if not verdict["criteria"]["median_shift"]["held"]:
            detail = verdict["criteria"]["median_shift"]["detail"]
            assert detail.startswith("moved beyond noise (share of the prior range): p0 ")
            # Each parameter named is past its own allowance, as the line says.
            for name, move, allowed in re.findall(
                    r"(p\d+) ([\d.]+)% \(SE [\d.]+%; counts past ([\d.]+)%\)", detail):
                assert float(move) >= float(allowed), (name, detail)
    assert caught / 200 >= 0.9


# --- the floor of the epsilon schedule: the targets' stated uncertainty -----------------------

@pytest.mark.parametrize("k", [2, 11])
def test_the_stated_tolerance_is_an_error_with_the_targets_standard_errors(k):
    # Uniform draws on the ball of RMS gap `stated_tolerance(k)` (radius sqrt(k + 2) in SE
    # units): each gap then has an SD of one SE (within 2% over 200,000 draws), the error the
    # targets file states. The 95% chi-square radius would make it 1.23 SE at k = 11.
    g = np.random.default_rng(7)
    n = 200_000
    direction = g.standard_normal((n, k))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    radius = convergence.stated_tolerance(k) * np.sqrt(k) * g.random(n) ** (1 / k)
    gaps = direction * radius[:, None]
    assert gaps.std(axis=0) == pytest.approx(np.ones(k), rel=0.02)


FALLING = {**SETTLED, "eps": [3.0, 2.0, 1.50, 1.25, 1.08]}  # still falling 28%


def test_epsilon_at_the_targets_stated_uncertainty_holds_though_still_falling():
    floor = convergence.stated_tolerance(11)  # 1.087
    verdict = convergence.check(history(**FALLING), RANGES, RULE, floor)
    criterion = verdict["criteria"]["epsilon_decrease"]
    assert criterion["held"] and verdict["converged"]
    assert "stated uncertainty (1.09" in criterion["detail"]
    assert criterion["value"] == pytest.approx((1.50 - 1.08) / 1.50, abs=1e-4)
    # Without the floor, or above it, a falling epsilon still blocks convergence.
    assert not convergence.check(history(**FALLING), RANGES, RULE)["converged"]
    above = convergence.check(history(**FALLING), RANGES, RULE, 1.0)
    assert not above["criteria"]["epsilon_decrease"]["held"]
    assert "above the targets' stated uncertainty (1)" in above["criteria"][
        "epsilon_decrease"]["detail"]
    # The floor does not excuse the other criteria.
    moved = {**FALLING, "a": [0.5, 0.40, 0.31, 0.30, 0.40]}
    verdict = convergence.check(history(**moved), RANGES, RULE, floor)
    assert not verdict["converged"] and not verdict["criteria"]["median_shift"]["held"]


def test_the_epsilon_schedule_is_pyabcs_median_above_the_floor_and_the_floor_below():
    import pyabc

    from sim.studies.calibration.epsilon import FlooredMedianEpsilon

    g = np.random.default_rng(3)
    frame = pd.DataFrame({"distance": g.uniform(1.0, 3.0, 50), "w": g.random(50)})
    plain, floored = pyabc.QuantileEpsilon(alpha=0.5), FlooredMedianEpsilon(1.2)
    for eps in (plain, floored):
        eps.update(0, lambda: frame, None, 0.5, {})
    assert floored(0) == plain(0) > 1.2  # bit for bit where the median is above the floor
    low = frame.assign(distance=frame["distance"] - 1.5)  # a median well below 1.2
    for eps in (plain, floored):
        eps.update(1, lambda: low, None, 0.5, {})
    assert plain(1) < 1.2 and floored(1) == 1.2
    assert floored.get_config()["floor"] == 1.2


def test_a_fit_whose_targets_are_loose_stops_at_the_floor(tmp_path):
    from sim.studies.calibration import calibrate

    # Standard errors so wide that every candidate is close: the median distance is below
    # the floor from the start, so every generation is drawn at the floor, sqrt(2) for two
    # targets, and the fit is converged before its generation budget.
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["targets"]["employee_engagement_mean"]["se"] = 1.0
    data["targets"]["turnover_pct_mean"]["se"] = 400
    data["abc"].update(generations=5, population_size=20)
    cal = calibrate(write(tmp_path, data), out=tmp_path / "out", workers=1, progress=False)
    floor = np.sqrt(2.0)
    assert cal.generations["epsilon"].to_numpy() == pytest.approx(floor)
    assert cal.info["epsilon_floor"] == pytest.approx(floor)
    assert cal.info["converged"] and len(cal.generations) < 5
    assert "stated uncertainty" in cal.info["convergence"]["criteria"]["epsilon_decrease"][
        "detail"]
