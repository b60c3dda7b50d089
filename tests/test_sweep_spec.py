"""Sweep specs: one-line errors naming file, line, key and what is allowed; designs that cover
their factors as declared; values always inside the model's parameter bounds."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.checks import check_value
from sim.model.parameters import Parameters
from sim.studies.experiments import OUTCOMES
from sim.studies.specfile import SpecError
from sim.studies.sweep_spec import SINGLE_ARM, load_spec, spec_from_data

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_stores": 2, "employees_per_store": 5, "customers_per_store": 60}
BASE = {
    "name": "t", "question": "q?", "horizon_weeks": 12, "replications": 2, "seed": 5,
    "parameters": SMALL,
    "factors": {"coaching_hours": {"levels": [0, 1, 2]}, "hr_budget": {"levels": [0, 500]}},
}


def spec_with(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def error_of(tmp_path: Path, data: dict | str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return message


# ------------------------------------------------------------------------------ errors
def test_typo_in_a_factor_name_names_line_key_and_suggestion(tmp_path):
    text = yaml.safe_dump(spec_with(factors={"coachng_hours": {"levels": [1, 2]}}),
                          sort_keys=False)
    line = text.splitlines().index("  coachng_hours:") + 1
    message = error_of(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'spec.yaml'}:{line}: key 'factors.coachng_hours'")
    assert "unknown parameter" in message and "did you mean 'coaching_hours'?" in message


@pytest.mark.parametrize(("factors", "key", "words"), [
    ({"coaching_hours": {"levels": [1, -1]}}, "factors.coaching_hours.levels.1",
     "a number >= 0 and <= 40 (h/supervisor/week)"),
    ({"coaching_hours": {"low": 0, "high": 99, "points": 3}}, "factors.coaching_hours.high",
     "<= 40"),
    ({"hr_cadence_weeks": {"levels": [2, 2.5]}}, "factors.hr_cadence_weeks.levels.1",
     "a whole number"),
    ({"staffing_rule": {"levels": ["random", "most_engagd"]}},
     "factors.staffing_rule.levels.1", "did you mean 'most_engaged'?"),
    ({"staffing_rule": {"low": 0, "high": 1, "points": 2}}, "factors.staffing_rule",
     "is a choice"),
    ({"coaching_hours": {"low": 3, "high": 1, "points": 2}}, "factors.coaching_hours.high",
     "is not above low"),
    ({"coaching_hours": {"levels": [1], "low": 0}}, "factors.coaching_hours.low",
     "not used with levels"),
    ({"coaching_hours": {"low": 1, "high": 2}}, "factors.coaching_hours", "has no grid levels"),
    ({"hr_budget": {"low": 0, "high": 10, "log": True, "points": 3}}, "factors.hr_budget.low",
     "log"),
])
def test_bad_factor_values_are_one_line_errors(tmp_path, factors, key, words):
    message = error_of(tmp_path, spec_with(factors=factors))
    assert f"key '{key}'" in message and words in message, message


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"design": {"method": "sobol", "samples": 10},
      "factors": {"coaching_hours": {"low": 0, "high": 4}, "hr_budget": {"low": 0, "high": 9}}},
     "design.samples", "power of two"),
    ({"design": {"method": "lhs"}, "factors": {"coaching_hours": {"low": 0, "high": 4}}},
     "design", "needs 'samples'"),
    ({"design": {"method": "sobl", "samples": 4}}, "design.method", "did you mean 'sobol'?"),
    ({"outcomes": ["profit", "proft"]}, "outcomes.1", "did you mean 'profit'?"),
    ({"series": ["revenu"]}, "series.0", "did you mean 'revenue'?"),
    ({"outcomes": ["revenue_growth"]}, "outcomes.0", "horizon_weeks >= 104"),
    ({"compare": {"a": {}, "b": {}}, "contrasts": {"d": {"arm": "a", "minus": "c"}}},
     "contrasts.d.minus", "one of 'a', 'b'"),
    ({"compare": {"a": {"parameters": {"coaching_hours": 1.0}}, "b": {}}},
     "compare.a.parameters.coaching_hours", "also swept"),
    ({"factors": {"coaching_hours": {"levels": [1, 2], "arms": ["x"]}},
      "compare": {"a": {}, "b": {}}}, "factors.coaching_hours.arms.0", "no arm is called 'x'"),
    ({"parameters": {**SMALL, "hr_budget": 100.0}}, "factors.hr_budget",
     "also set in 'parameters'"),
    ({"events": [{"week": 12, "layoff": {"share": 0.2}}]}, "events.0.week",
     "after the last simulated week"),
    ({"parameters": {"n_stores": 4, "employees_per_store": 8},
      "factors": {"customers_per_store": {"distribution": "normal", "mean": 150, "sd": 10},
                  "coaching_hours": {"low": 0, "high": 4}},
      "design": {"method": "lhs", "samples": 4}}, "factors.customers_per_store",
     "needs 'high'"),
    # The model's size limits hold for fixed parameters and for every factor value.
    ({"parameters": {"n_stores": 200000, "employees_per_store": 2, "customers_per_store": 1}},
     "parameters", "the chain would have 400,000 employees"),
    ({"parameters": {"n_stores": 10, "employees_per_store": 8},
      "factors": {"customers_per_store": {"levels": [100, 1000000]}}},
     "factors.customers_per_store", "would have 10,000,000 customers"),
    ({"parameters": {"n_stores": 10, "employees_per_store": 8},
      "factors": {"customers_per_store": {"low": 100, "high": 1e9},
                  "coaching_hours": {"low": 0, "high": 4}},
      "design": {"method": "lhs", "samples": 4}}, "factors.customers_per_store",
     "allowed: at most 2,000,000 customers"),
    ({"parameters": {"hr_budget": 1e308}}, "parameters.hr_budget", "is not allowed"),
    ({"parameters": {"n_stores": 10**60}}, "parameters", "the chain would have over 10^"),
    ({"parameters": {"n_stores": int("9" * 400)}}, "parameters.n_stores",
     "cannot be read as a whole number (too long)"),
    ({"factors": {"hr_effect": {"distribution": "normal", "mean": 0.1, "mode": 0.1}},
      "design": {"method": "lhs", "samples": 4}}, "factors.hr_effect.mode",
     "not used by a normal distribution"),
    ({"horizon_weeks": 12, "outcomes": ["programme_erosion"],
      "compare": {"a": {}, "b": {}}}, "outcomes.0", "needs a horizon"),
])
def test_bad_specs_are_one_line_errors(tmp_path, changes, key, words):
    message = error_of(tmp_path, spec_with(**changes))
    assert f"key '{key}'" in message and words in message, message


def test_a_spec_given_as_a_mapping_gets_the_same_message_without_a_line():
    with pytest.raises(SpecError) as err:
        spec_from_data(spec_with(outcomes=["proft"]))
    assert str(err.value).startswith("<spec>: key 'outcomes.0'")


def test_shipped_experiments_are_valid_and_name_their_measures():
    files = sorted(p for p in (ROOT / "experiments").glob("*.yaml")
                   if not p.name.startswith("calibration_"))  # targets files: test_calibrate
    assert len(files) >= 10
    specs = {p.stem: load_spec(p) for p in files}
    # Every validation target of MODEL_NOTES has a spec; targets 1-5 and 7 feed
    # sim.studies.validation.
    measures = {"validation_quadrants": "quadrants", "validation_segments": "segments",
                "validation_churn_by_satisfaction": "churn_by_satisfaction",
                "validation_manager_share": "manager_share",
                "validation_quartiles": "quartiles",
                "validation_programme_erosion": "programme_erosion"}
    for name, outcome in measures.items():
        assert outcome in specs[name].outcomes
        assert "sim.studies.validation" in OUTCOMES[outcome].doc
    assert "revenue_growth" in specs["validation_growth"].outcomes
    assert set(specs["validation_overload"].arm_names) == {"baseline", "overload"}
    sobol = specs["sobol_coaching_vs_hr"]
    assert sobol.design.method == "sobol" and "coaching_minus_hr" in sobol.contrasts


# ------------------------------------------------------------------------------ designs
def test_grid_is_every_combination_and_replications_share_seeds():
    spec = spec_from_data(BASE)
    plan = spec.plan()
    assert len(plan) == spec.run_count == 3 * 2 * 2
    combos = {(r.job.params["coaching_hours"], r.job.params["hr_budget"]) for r in plan}
    assert combos == {(c, h) for c in (0.0, 1.0, 2.0) for h in (0.0, 500.0)}
    for r in plan:
        assert r.job.seed == 5 + r.replication and r.arm == SINGLE_ARM
        assert r.job.params["n_stores"] == 2


def test_factor_limited_to_an_arm_is_applied_only_there():
    spec = spec_from_data(spec_with(
        factors={"coaching_hours": {"levels": [1, 3], "arms": ["coaching"]},
                 "hr_budget": {"levels": [200, 800], "arms": ["hr"]}},
        compare={"coaching": {}, "hr": {"parameters": {"coaching_hours": 0.0}}}))
    for r in spec.plan():
        if r.arm == "coaching":
            assert r.job.params["coaching_hours"] in (1.0, 3.0)
            assert "hr_budget" not in r.job.params
        else:
            assert r.job.params["coaching_hours"] == 0.0
            assert r.job.params["hr_budget"] in (200.0, 800.0)


def test_latin_hypercube_puts_one_point_in_each_stratum():
    spec = spec_from_data(spec_with(
        factors={"coaching_hours": {"low": 0, "high": 4}, "hr_budget": {"low": 0, "high": 10}},
        design={"method": "lhs", "samples": 10}))
    d = spec.design_points()
    for j in range(2):
        strata = np.floor(d.unit[:, j] * 10).astype(int)
        assert sorted(strata) == list(range(10))
    hours = np.array([v["coaching_hours"] for v in d.values])
    np.testing.assert_allclose(hours, 4 * d.unit[:, 0])


def test_sobol_and_morris_sizes():
    factors = {"coaching_hours": {"low": 0, "high": 4}, "hr_budget": {"low": 0, "high": 900},
               "hr_decay": {"low": 0.05, "high": 0.2}}
    sobol = spec_from_data(spec_with(factors=factors, design={"method": "sobol",
                                                               "samples": 8}))
    assert len(sobol.design_points().values) == sobol.point_count == 8 * (3 + 2)
    second = spec_from_data(spec_with(factors=factors, design={
        "method": "sobol", "samples": 8, "second_order": True}))
    assert second.point_count == 8 * (2 * 3 + 2) == len(second.design_points().values)
    morris = spec_from_data(spec_with(factors=factors, design={"method": "morris",
                                                                "samples": 5}))
    d = morris.design_points()
    assert len(d.values) == morris.point_count == 5 * 4
    # Each step of a trajectory moves exactly one factor.
    for t in range(5):
        steps = np.diff(d.unit[4 * t: 4 * t + 4], axis=0)
        assert ((np.abs(steps) > 1e-12).sum(axis=1) == 1).all()


def test_the_design_is_the_same_every_time():
    data = spec_with(factors={"coaching_hours": {"low": 0, "high": 4},
                              "hr_budget": {"low": 0, "high": 900}},
                     design={"method": "sobol", "samples": 16})
    a, b = spec_from_data(data), spec_from_data(copy.deepcopy(data))
    assert a.design_points().values == b.design_points().values
    assert a.fingerprint() == b.fingerprint()
    assert spec_from_data({**data, "seed": 6}).fingerprint() != a.fingerprint()


@settings(max_examples=40, deadline=None)
@given(mean=st.floats(0.05, 0.95), sd=st.floats(0.01, 2.0), low=st.floats(0.0, 0.04),
       kind=st.sampled_from(["normal", "lognormal", "triangular"]))
def test_sampled_values_stay_inside_the_parameter_bounds(mean, sd, low, kind):
    factor = {"normal": {"distribution": "normal", "mean": mean, "sd": sd},
              "lognormal": {"distribution": "lognormal", "median": mean, "sigma": sd},
              "triangular": {"distribution": "triangular", "low": low, "mode": mean,
                             "high": 0.99}}[kind]
    spec = spec_from_data(spec_with(
        factors={"hr_decay": factor, "hr_cadence_weeks": {"low": 1, "high": 4}},
        design={"method": "morris", "samples": 4}))
    for values in spec.design_points().values:
        check_value("hr_decay", values["hr_decay"])
        assert isinstance(values["hr_cadence_weeks"], int) and 1 <= values["hr_cadence_weeks"] <= 4
    Parameters(**spec.design_points().values[0])


def test_normal_distribution_is_cut_off_where_asked():
    spec = spec_from_data(spec_with(
        factors={"coaching_hours": {"distribution": "normal", "mean": 2, "sd": 3, "low": 1,
                                    "high": 3},
                 "hr_budget": {"low": 0, "high": 1}},
        design={"method": "lhs", "samples": 200}))
    hours = np.array([v["coaching_hours"] for v in spec.design_points().values])
    assert hours.min() >= 1 and hours.max() <= 3
    # A wide normal cut off at 1 and 3 is nearly flat there: every quarter gets some draws.
    assert np.histogram(hours, bins=4, range=(1, 3))[0].min() > 30
