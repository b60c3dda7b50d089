"""Reading sweeps: Sobol and Morris indices recover known answers, contrasts pair runs on the
seed, plots carry units and intervals, and the outcomes of a run are the model's and
sim.studies.validation's numbers for that run."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from sim.model import LoyaltyModel  # noqa: E402
from sim.studies import experiments, sensitivity, validation  # noqa: E402
from sim.studies.effects import replication_metrics  # noqa: E402
from sim.studies.runner import Job  # noqa: E402
from sim.studies.sweep import design_frame, sweep  # noqa: E402

SMALL = {"n_stores": 2, "employees_per_store": 5, "customers_per_store": 50}
# Three parameters with room for a range of 0 to 20, standing in for x1, x2, x3.
X = ("strain_build", "quit_strain_sensitivity", "quit_engagement_sensitivity")


def synthetic(method: str, samples: int, **design) -> pd.DataFrame:
    spec = {"name": "synthetic", "question": "Known answers?", "horizon_weeks": 5,
            "replications": 1, "seed": 3, "parameters": SMALL,
            "factors": {x: {"low": 0, "high": 20} for x in X},
            "design": {"method": method, "samples": samples, **design},
            "compare": {"a": {}, "b": {}}, "contrasts": {"a_minus_b": {"arm": "a",
                                                                         "minus": "b"}},
            "outcomes": ["profit"]}
    return design_frame(spec)


def test_sobol_indices_of_the_ishigami_function():
    runs = synthetic("sobol", 1024)
    x = [runs[name].to_numpy() / 20 * 2 * np.pi - np.pi for name in X]
    ishigami = np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])
    # Arm b is a constant offset: the contrast a - b has the same indices.
    runs["profit"] = np.where(runs["arm"] == "a", ishigami, 5.0)
    indices = sensitivity.sobol_indices(runs, "profit", resamples=200).set_index("factor")
    # Analytic values (Ishigami & Homma 1990 with a = 7, b = 0.1).
    np.testing.assert_allclose(indices["S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(indices["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (indices["ST_ci95"] > 0).all() and (indices["ST_ci95"] < 0.1).all()
    # x3 acts only through its interaction with x1: total well above first order.
    assert indices.loc[X[2], "ST"] - indices.loc[X[2], "S1"] > 0.15


def test_morris_effects_are_per_whole_range_of_a_factor():
    runs = synthetic("morris", 20, levels=4)
    runs["profit"] = np.where(runs["arm"] == "a", 3 * runs[X[0]] + runs[X[1]], 0.0)
    indices = sensitivity.morris_indices(runs, "profit", "a_minus_b").set_index("factor")
    # A linear outcome: every effect is slope x range (20), with no spread.
    np.testing.assert_allclose(indices["mu_star"], [60.0, 20.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(indices["sigma"], [0.0, 0.0, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match="design method 'sobol'"):
        sensitivity.sobol_indices(runs, "profit")


def test_indices_need_every_design_point():
    runs = synthetic("sobol", 8)
    runs["profit"] = runs[X[0]]
    with pytest.raises(ValueError, match="design points have no finished run"):
        sensitivity.sobol_indices(runs[runs["point"] != 3], "profit", "a")


@pytest.fixture(scope="module")
def arms_sweep(tmp_path_factory):
    """A real tiny sweep: two identical arms and one that coaches more, common seeds."""
    spec = {"name": "arms", "question": "Do common seeds cancel?", "horizon_weeks": 12,
            "replications": 3, "seed": 21, "parameters": SMALL,
            "factors": {"hr_budget": {"levels": [0, 800]},
                        "supervisor_quality_mean": {"levels": [0.3, 0.7]}},
            "compare": {"base": {}, "same": {"parameters": {"coaching_hours": 0.5}},
                        "coach": {"parameters": {"coaching_hours": 4.0}}},
            "contrasts": {"same_minus_base": {"arm": "same", "minus": "base"},
                          "coach_minus_base": {"arm": "coach", "minus": "base"}},
            "outcomes": ["profit", "policy_cost", "employee_engagement"]}
    return sweep(spec, out=tmp_path_factory.mktemp("arms") / "s", workers=1, progress=False)


def test_contrasts_pair_runs_on_the_seed(arms_sweep):
    same = sensitivity.contrast_runs(arms_sweep, "same_minus_base")
    # coaching_hours 0.5 is the default: the same chain, so every difference is exactly 0.
    assert len(same) == 4 * 3 and (same[["profit", "employee_engagement"]] == 0).all().all()
    coach = sensitivity.contrast_runs(arms_sweep, "coach_minus_base")
    assert (coach["policy_cost"] > 0).all()
    with pytest.raises(ValueError, match="allowed: 'same_minus_base', 'coach_minus_base'"):
        sensitivity.contrast_runs(arms_sweep, "nope")


def test_replication_summary_has_intervals_over_replications(arms_sweep):
    summary = sensitivity.replication_summary(arms_sweep, ["profit", "policy_cost"])
    assert set(summary["arm"]) == {"base", "same", "coach", "same_minus_base",
                                   "coach_minus_base"}
    assert (summary["n"] == 3).all() and len(summary) == 5 * 4 * 2
    finite = summary.dropna(subset=["ci_low"])
    assert ((finite["ci_low"] <= finite["mean"]) & (finite["mean"] <= finite["ci_high"])).all()
    assert (summary.loc[summary["outcome"] == "profit", "unit"] == "$").all()
    # A zero difference in every replication has no width.
    zero = summary[(summary["arm"] == "same_minus_base") & (summary["outcome"] == "profit")]
    assert (zero["ci_high"] - zero["ci_low"] == 0).all()


def test_plots_show_units_and_intervals(arms_sweep):
    ax = sensitivity.plot_heatmap(arms_sweep, "hr_budget", "supervisor_quality_mean",
                                  "profit", "coach")
    assert ax.collections[0].get_array().shape == (2, 2)
    assert ax.get_xlabel() == "hr_budget ($/employee/year)"
    assert "profit ($M)" in ax.get_title() and "95% CI" in ax.get_title()
    plt.close(ax.figure)
    ax = sensitivity.plot_response(arms_sweep, "supervisor_quality_mean", "employee_engagement",
                                   ["base", "coach"])
    assert len(ax.collections) >= 2  # one CI band per arm
    assert ax.get_ylabel() == "mean employee_engagement (0-1)"
    plt.close(ax.figure)
    indices = pd.DataFrame({"factor": ["a", "b"], "S1": [0.5, 0.1], "S1_ci95": [0.1, 0.05],
                            "ST": [0.6, 0.2], "ST_ci95": [0.1, 0.05]})
    ax = sensitivity.plot_indices(indices)
    assert len(ax.patches) == 4 and [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    plt.close(ax.figure)


# ------------------------------------------------------------------------------ outcomes
def test_run_outcomes_are_the_model_s_numbers_for_that_run():
    events = ({"week": 4, "crisis": {"duration": 4, "severity": 0.8}},)
    job = Job("x", dict(SMALL, coaching_hours=2.0), events, 9, 14)
    row, weekly, seconds = experiments.measure_run(job, ("profit", "customer_churn_pct"),
                                                   ("revenue",))
    model = LoyaltyModel(rng=9, events=list(events), coaching_hours=2.0, **SMALL).run(14)
    frame = model.model_frame()
    expected = replication_metrics(frame.assign(arm="x", replication=0, seed=9)).iloc[0]
    assert row.loc[0, "profit"] == expected["profit"]
    assert row.loc[0, "customer_churn_pct"] == expected["customer_churn_pct"]
    assert weekly["revenue"].tolist() == frame["revenue"].tolist() and seconds > 0
    calm, _, _ = experiments.measure_run(job._replace(events=()), ("profit",))
    assert calm.loc[0, "profit"] != row.loc[0, "profit"]  # the crisis was applied


def test_validation_outcomes_feed_sim_validation_measures():
    params = {"n_stores": 12, "employees_per_store": 6, "customers_per_store": 120}
    job = Job("x", params, (), 4, 60)
    row, _, _ = experiments.measure_run(job, ("manager_share", "churn_by_satisfaction"))
    run = validation.run_with_snapshot(4, 60, experiments.SNAPSHOT_WEEKS, **params)
    assert row.loc[0, "manager_variance_share"] == pytest.approx(
        validation.measure_manager_share([run])["manager_variance_share"], abs=0)
    # A group without customers in this small chain makes its contrast undefined (NaN) in both.
    churn = validation.measure_churn_by_satisfaction([run])
    assert row.loc[0, "emotional_vs_rational_churn"] == pytest.approx(
        churn["emotional_vs_rational_churn"], abs=0, nan_ok=True)


# ------------------------------------------------------------------------------ targets 6, 8
def test_growth_by_engagement_compares_top_and_bottom_quarters():
    g = np.random.default_rng(1)
    engagement = np.linspace(0.4, 0.7, 40)
    growth = np.where(engagement >= np.quantile(engagement, 0.75), 0.10,
                      np.where(engagement <= np.quantile(engagement, 0.25), 0.04, 0.07))
    runs = pd.DataFrame({"employee_engagement_mean": g.permutation(engagement)})
    runs["revenue_growth"] = growth[np.searchsorted(engagement,
                                                    runs["employee_engagement_mean"])]
    found = experiments.growth_by_engagement(runs)
    assert found.runs_per_group == 10 and found.ratio == pytest.approx(2.5)
    assert found.high.mean == pytest.approx(0.10) and found.low.mean == pytest.approx(0.04)
    runs["revenue_growth"] = runs["revenue_growth"] - 0.05  # the low group now shrinks
    assert math.isnan(experiments.growth_by_engagement(runs).ratio)


def test_overload_erosion_pairs_each_overloaded_run_with_its_baseline():
    base = pd.DataFrame({"point": 0, "replication": range(6), "arm": "baseline",
                         "service_standard_end": [1.0, 0.9, 1.1, 1.0, 0.95, 1.05]})
    over = base.assign(arm="overload", service_standard_end=base["service_standard_end"]
                       * np.array([0.95, 0.96, 0.94, 0.95, 0.97, 0.93]))
    est = experiments.overload_erosion(pd.concat([over, base]))
    assert est.mean == pytest.approx(-0.05) and est.n == 6 and est.high < 0
    table = experiments.extra_targets_table(overload=est)
    assert table.loc[0, "target"] == 8 and bool(table.loc[0, "within_band"])
