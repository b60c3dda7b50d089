"""The default calibration reproduces MODEL_NOTES targets 1, 2, 3, 4, 5 and 7 within the bands
stated in sim.studies.validation.TARGETS, at several chain sizes, except the misses declared
with their reason in sim.studies.validation.KNOWN_MISSES (reported, never hidden by a band).

Each size pools enough stores (hundreds) and replications that sampling noise is small next to
the bands; the seeds are fixed so a failure reproduces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import LoyaltyModel
from sim.studies import validation

# The bands the default calibration must hold (published figure in the comment). They are
# written here, as the test's contract, and sim.studies.validation.TARGETS (which the docs and the
# validation table show) must say the same.
BANDS = {
    "quadrant_one_above": (1.2, 2.2),             # 1.7x (Human Sigma)
    "quadrant_both_above": (2.4, 4.4),            # 3.4x
    "fully_engaged_share": (0.14, 0.25),          # 19% (Gallup 2009)
    "actively_disengaged_share": (0.18, 0.30),    # 24%
    "engaged_to_disengaged_ratio": (0.5, 1.2),    # 0.8:1
    "world_class_ratio": (3.0, 20.0),             # 8:1
    "fully_engaged_revenue": (0.13, 0.33),        # +23%
    "actively_disengaged_revenue": (-0.23, -0.05),  # -13%
    "emotional_vs_rational_churn": (-0.50, -0.25),  # -37% (Fleming & Asplund)
    "rational_vs_dissatisfied_churn": (-0.25, 0.25),  # about alike
    "manager_variance_share": (0.70, 1.0),        # >= 70% (Beck & Harter 2015)
    "quartile_turnover": (-0.65, -0.25),          # -25% to -65% (Q12 2012)
    "quartile_customer_rating": (0.03, 0.20),     # +10%
    "quartile_profitability": (0.10, 0.70),       # +20%
    "engagement_customer_correlation": (0.15, 0.70),  # 0.3 (Harter et al. 2002)
    "customer_only_erosion": (-2.0, 0.25),        # erodes (seed 002)
    "both_persistence": (0.40, 2.0),              # persists
}

# (stores per chain, replications): 800 to 1,200 stores for each size. Quadrant ratios
# divide by the mean of the weakest stores, so a chain alone is noisy (sd about 0.45).
SIZES = [(10, 80), (50, 24), (200, 6)]


def out_of_band(measured: dict[str, float]) -> dict[str, str]:
    bad = {}
    for key, value in measured.items():
        low, high = BANDS[key]
        if not low <= value <= high:
            published = validation.TARGETS_BY_KEY[key].published
            bad[key] = f"{value:.3f} not in [{low}, {high}] (published {published})"
    return bad


def test_the_library_states_the_same_bands():
    assert {t.key: (t.low, t.high) for t in validation.TARGETS} == BANDS


def unexplained(measured: dict[str, float]) -> dict[str, str]:
    """Targets out of band that are not declared misses (validation.KNOWN_MISSES)."""
    return {k: v for k, v in out_of_band(measured).items() if k not in validation.KNOWN_MISSES}


@pytest.mark.slow
@pytest.mark.parametrize(("n_stores", "replications"), SIZES)
def test_targets_1_to_5_hold_at_chain_size(n_stores, replications):
    runs = [validation.run_with_snapshot(1000 + r, n_stores=n_stores)
            for r in range(replications)]
    measured = validation.measure_all(runs)
    assert set(measured) == {t.key for t in validation.TARGETS if t.number != 7}
    assert unexplained(measured) == {}
    if n_stores == 50:
        # A declared miss that fits again must leave the list (the note would be false).
        declared = {k for k in validation.KNOWN_MISSES if k in measured
                    and k not in validation.SIZE_DEPENDENT_MISSES}
        assert declared <= set(out_of_band(measured)), "remove the fitting target from " \
            "validation.KNOWN_MISSES"


@pytest.mark.slow
@pytest.mark.parametrize(("n_stores", "seeds"), [(20, [31, 32, 33, 34]), (50, [41, 42])])
def test_target_7_customer_gains_erode_without_employees(n_stores, seeds):
    measured = validation.measure_programme_erosion(seeds, n_stores=n_stores)
    assert unexplained(measured) == {}


def test_validation_table_sets_each_target_beside_its_band():
    table = validation.validation_table(replications=2, erosion_replications=2, bootstrap=30,
                                        n_stores=20)
    assert list(table["key"]) == [t.key for t in validation.TARGETS]
    assert table["simulated"].notna().all()
    inside = table.dropna(subset=["ci95_low"])
    assert (inside["ci95_low"] <= inside["ci95_high"]).all()
    assert table["within_band"].dtype == bool
    # The defaults come from the published fit: each target's role in it is shown.
    role = dict(zip(table["key"], table["role"], strict=True))
    assert role["quadrant_both_above"] == "fitted" and role["quartile_turnover"] == "held out"
    assert role["customer_only_erosion"] == "held out (own experiment)"
    assert role["engaged_to_disengaged_ratio"] == "implied by the two shares"


def test_target_1_compounds_sales_against_plan_with_year_on_year_growth():
    # Gallup's units' financial effectiveness: sales against target and year-on-year growth.
    model = LoyaltyModel(rng=4, n_stores=12).run(104)
    stores = validation.store_summary(model)
    frame = model.stores_frame()
    by_year = frame.assign(year=frame["week"] // 52).pivot_table(
        index="store", columns="year", values="revenue", aggfunc="sum")
    growth = by_year[1] / by_year[0] - 1
    assert np.allclose(stores["growth"], growth)
    assert growth.std() > 0.01  # stores do grow and shrink at different rates
    effectiveness = stores["sales_to_plan"] * (1 + growth)
    assert np.allclose(stores["performance"], effectiveness / effectiveness.mean())
    # Without a full prior year there is no growth to compound.
    short = validation.store_summary(LoyaltyModel(rng=4, n_stores=12).run(60))
    assert short["growth"].isna().all()
    assert np.allclose(short["performance"], short["sales_to_plan"])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 10, 13, 50, 51, 200])
def test_a_quarter_of_the_stores_is_a_quarter_at_every_chain_size(n):
    values = pd.Series(np.random.default_rng(n).normal(size=n))
    for top in (True, False):
        w = validation.quarter_weights(values, top=top)
        assert w.sum() == pytest.approx(n / 4) and ((0 <= w) & (w <= 1)).all()
        # Every store counted (even in part) ranks beyond every store left out.
        inside, outside = values[w > 0], values[w == 0]
        if len(outside):
            assert (inside.min() > outside.max()) if top else (inside.max() < outside.min())
        assert np.count_nonzero((0 < w) & (w < 1)) <= 1  # one boundary store at most


def test_the_best_quarter_of_ten_stores_is_two_and_a_half_stores():
    # Ten stores: the best two fully, the third at half weight; the rule the code had before
    # (stores at or above the 75th percentile) took three, 30% of the chain.
    stores = pd.DataFrame({
        "customer_engagement": [0.9, 0.8, 0.7] + [0.5] * 7,
        "fully_engaged_share": [0.5, 0.5, 0.3] + [0.1] * 7,
        "actively_disengaged_share": [0.05, 0.05, 0.1] + [0.3] * 7})
    run = validation.Run(stores, 0.2, 0.24, pd.DataFrame())
    ratio = validation.measure_segments([run])["world_class_ratio"]
    assert ratio == pytest.approx((0.5 + 0.5 + 0.5 * 0.3) / (0.05 + 0.05 + 0.5 * 0.1))
