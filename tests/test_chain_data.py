"""The chain CSV's other forms: Q12-style shares, NPS, transactions (README, CSV schema)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model import LoyaltyModel, rules
from sim.model.parameters import Parameters
from sim.studies.chain_data import (
    ChainDataError,
    read_chain_csv,
    score_from_nps,
    score_from_shares,
)

BASE = pd.DataFrame({
    "store_id": [f"S{i}" for i in range(5)],
    "headcount": [12, 15, 9, 20, 14],
    "customers": [800, 1000, 600, 1400, 900],
    "employee_engagement": [0.55, 0.6, 0.5, 0.58, 0.52],
    "customer_engagement": [0.5, 0.55, 0.45, 0.52, 0.49],
    "turnover_pct": [45, 38, 70, 50, 55],
    "churn_pct": [22, 20, 30, 25, 24],
    "revenue": [9e5, 1.2e6, 6e5, 1.6e6, 1e6],
})


def write(tmp_path, df):
    path = tmp_path / "chain.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model_stores():
    """A small simulated chain's stores: true mean scores beside their survey shares."""
    model = LoyaltyModel(rng=4, n_stores=8, employees_per_store=60).run(4)
    cust = model.customers_frame().groupby("store")["engagement"]
    emp = model.employees_frame().groupby("store")["engagement"]
    return pd.DataFrame({
        "customer_score": cust.mean(),
        "fully": cust.apply(lambda s: (s >= rules.CUSTOMER_FULLY_ENGAGED).mean()),
        "cust_ad": cust.apply(lambda s: (s < rules.CUSTOMER_NOT_ENGAGED).mean()),
        "employee_score": emp.mean(),
        "engaged": emp.apply(lambda s: (s >= rules.EMPLOYEE_ENGAGED).mean()),
        "emp_ad": emp.apply(lambda s: (s < rules.EMPLOYEE_ACTIVELY_DISENGAGED).mean()),
    })


def test_shares_give_back_the_models_own_store_scores(model_stores):
    s = model_stores
    cust = score_from_shares(s["fully"].to_numpy(), s["cust_ad"].to_numpy(),
                             rules.CUSTOMER_FULLY_ENGAGED, rules.CUSTOMER_NOT_ENGAGED, 0.15)
    assert np.abs(cust - s["customer_score"]).max() < 0.03
    emp = score_from_shares(s["engaged"].to_numpy(), s["emp_ad"].to_numpy(),
                            rules.EMPLOYEE_ENGAGED, rules.EMPLOYEE_ACTIVELY_DISENGAGED, 0.08)
    # staff are fewer than customers: their shares are coarser
    assert np.abs(emp - s["employee_score"]).max() < 0.05
    assert np.corrcoef(emp, s["employee_score"])[0, 1] > 0.8


def test_nps_gives_back_the_models_store_scores(model_stores):
    s = model_stores
    nps = 100 * (s["fully"] - s["cust_ad"]).to_numpy()
    assert np.abs(score_from_nps(nps) - s["customer_score"]).max() < 0.03
    assert score_from_nps(np.array([-100.0]))[0] < 0.3 < 0.7 < score_from_nps(
        np.array([100.0]))[0]


def test_shares_in_percent_or_fractions_read_the_same(tmp_path):
    shares = {"employees_engaged": [0.3, 0.4, 0.2, 0.35, 0.25],
              "employees_actively_disengaged": [0.2, 0.1, 0.3, 0.15, 0.2],
              "customers_fully_engaged": [0.25, 0.3, 0.2, 0.3, 0.22],
              "customers_actively_disengaged": [0.2, 0.15, 0.3, 0.2, 0.2]}
    base = BASE.drop(columns=["employee_engagement", "customer_engagement"])
    frac = read_chain_csv(write(tmp_path, base.assign(**shares))).stores
    pct = read_chain_csv(write(tmp_path, base.assign(
        **{k: [100 * v for v in vs] for k, vs in shares.items()}))).stores
    pd.testing.assert_frame_equal(frac, pct)
    # more engaged and fewer disengaged staff: a higher score
    assert frac.loc["S1", "employee_engagement"] > frac.loc["S2", "employee_engagement"]
    assert frac["customer_engagement"].between(0.3, 0.7).all()


def test_nps_and_transactions_replace_their_columns(tmp_path):
    df = BASE.drop(columns=["customer_engagement", "customers"]).assign(
        nps=[10, 30, -20, 0, 50], transactions=[20800, 26000, 15600, 36400, 23400])
    stores = read_chain_csv(write(tmp_path, df)).stores
    visits = 52 * Parameters().visits_per_week
    assert stores["customers"].tolist() == pytest.approx(
        [t / visits for t in df["transactions"]])
    assert stores["customer_engagement"].is_monotonic_increasing is False
    order = stores["customer_engagement"].sort_values().index.tolist()
    assert order == ["S2", "S3", "S0", "S1", "S4"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.drop(columns="employee_engagement").assign(
        employees_engaged=[30, 40, 120, 35, 25], employees_actively_disengaged=[20] * 5),
     "row 4, column 'employees_engaged': 120 is outside 0-100"),
    (lambda d: d.drop(columns="employee_engagement").assign(
        employees_engaged=[0.3, 0.4, 0.7, 0.35, 0.25],
        employees_actively_disengaged=[0.2, 0.1, 0.5, 0.15, 0.2]),
     "row 4, column 'employees_actively_disengaged': employees_engaged and "
     "employees_actively_disengaged add up to 120%"),
    (lambda d: d.drop(columns="employee_engagement").assign(employees_engaged=[0.3] * 5),
     "column 'employee_engagement' is missing; allowed: employee_engagement or "
     "employees_engaged + employees_actively_disengaged"),
    (lambda d: d.drop(columns="customer_engagement").assign(nps=[10, 20, -130, 0, 5]),
     "row 4, column 'nps': -130 is outside -100-100"),
    (lambda d: d.drop(columns="customers").assign(transactions=[1e4, "many", 1, 1, 1]),
     "row 3, column 'transactions': 'many' is not a number"),
])
def test_bad_alternative_columns_are_one_line(tmp_path, change, expected):
    path = write(tmp_path, change(BASE.copy().astype(object)))
    with pytest.raises(ChainDataError) as err:
        read_chain_csv(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(path))
    assert expected in str(err.value)
