"""Invariants that must hold in every week of any run (hypothesis over parameters and events)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import LoyaltyModel
from sim.model import COST_ITEMS, EMPLOYEE_COLUMNS

EMPLOYEE_SCORES = ("autonomy", "mastery", "purpose", "affiliation", "skill", "strain",
                   "engagement")
CUSTOMER_SCORES = ("rational", "confidence", "integrity", "pride", "passion")

policies = st.fixed_dictionaries({
    "n_stores": st.integers(1, 5),
    "employees_per_store": st.integers(2, 9),
    "customers_per_store": st.integers(1, 120),
    "coaching_hours": st.floats(0, 12),
    "coaching_targeting": st.sampled_from(["least_engaged", "random", "most_engaged"]),
    "hr_budget": st.floats(0, 5000),
    "hr_cadence_weeks": st.integers(1, 26),
    "staffing_rule": st.sampled_from(["random", "most_engaged", "least_engaged"]),
    "service_policy": st.sampled_from(["short_contacts", "first_contact_resolution"]),
    "transparency": st.floats(0, 1),
    "customer_programme_budget": st.floats(0, 60),
    "frontline_recognition": st.floats(0, 1),
    "staffing_follows_demand": st.floats(0, 1),
    "annual_quit_rate": st.floats(0, 0.95),
    "annual_churn_rate": st.floats(0, 0.95),
    "vacancy_fill_rate": st.floats(0, 1),
})
events = st.lists(st.one_of(
    st.builds(lambda w, d, s: {"week": w, "crisis": {"duration": d, "severity": s}},
              st.integers(0, 25), st.integers(1, 10), st.floats(0, 1)),
    st.builds(lambda w, s: {"week": w, "layoff": {"share": s}},
              st.integers(0, 25), st.floats(0.01, 0.9)),
    st.builds(lambda w, h: {"week": w, "set": {"coaching_hours": h}},
              st.integers(0, 25), st.floats(0, 10)),
), max_size=3)


def check_week(model: LoyaltyModel) -> None:
    emp, cust = model.employees, model.customers
    for name in EMPLOYEE_SCORES:
        values = getattr(emp, name)
        assert np.isfinite(values).all(), name
        assert values.min(initial=0) >= 0 and values.max(initial=0) <= 1, name
    for name in CUSTOMER_SCORES:
        values = getattr(cust, name)
        assert np.isfinite(values).all(), name
        assert values.min(initial=0) >= 0 and values.max(initial=1) <= 1, name
    assert (emp.tenure >= 0).all() and set(EMPLOYEE_COLUMNS) <= set(emp.dtypes)
    row = model.model_frame().iloc[-1]
    assert row.notna().all()
    for share in ("customers_fully_engaged_share", "customers_actively_disengaged_share",
                  "employees_engaged_share", "employees_actively_disengaged_share"):
        assert 0 <= row[share] <= 1
    # Customers are conserved: active + churned = initial + acquired.
    assert (model.active_customers + model.customers_churned_total
            == model.initial_customers + model.customers_acquired_total)
    assert model.active_customers == cust.n_active
    # Headcount is conserved: initial + hires - quits - layoffs.
    assert (model.headcount == model.initial_headcount + model.hires_total
            - model.quits_total - model.laid_off_total)
    assert model.headcount == emp.n_active
    # Money adds up, for the chain and store by store.
    costs = sum(row[item] for item in COST_ITEMS)
    assert np.isclose(row["total_costs"], costs)
    assert np.isclose(row["profit"], row["revenue"] - costs)
    assert np.isclose(model.store_state["profit"].sum(), row["profit"])
    assert all(row[item] >= 0 for item in COST_ITEMS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=policies, timed=events, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_every_week(params, timed, seed):
    model = LoyaltyModel(rng=seed, events=timed, **params)
    for _ in range(30):
        model.step()
        check_week(model)
