"""The model's structure: Mesa agents, frames, stable ids, determinism and timed events."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from sim import LoyaltyModel
from sim.model import MODEL_REPORTERS, STORE_COLUMNS
from sim.model.agents import Store, Supervisor


def test_stores_and_supervisors_are_mesa_agents(small_chain):
    model = LoyaltyModel(rng=1, **small_chain)
    assert isinstance(model, mesa.Model)
    stores = model.agents_by_type[Store]
    supervisors = model.agents_by_type[Supervisor]
    assert len(stores) == len(supervisors) == small_chain["n_stores"]
    for store in stores:
        assert store.supervisor.store is store
        assert 0 <= store.supervisor.quality <= 1


def test_frames_have_every_reporter_and_one_row_per_week(small_chain):
    model = LoyaltyModel(rng=2, **small_chain).run(12)
    weekly = model.model_frame()
    assert list(weekly.columns) == list(MODEL_REPORTERS)
    assert len(weekly) == 12
    assert weekly["week"].tolist() == list(range(12))
    stores = model.stores_frame()
    assert list(stores.columns) == ["week", "store", *STORE_COLUMNS]
    assert len(stores) == 12 * small_chain["n_stores"]
    # The store table adds up to the chain's figures.
    by_week = stores.groupby("week")[["revenue", "profit", "headcount", "customers"]].sum()
    assert np.allclose(by_week["revenue"], weekly["revenue"])
    assert np.allclose(by_week["profit"], weekly["profit"])
    assert (by_week["headcount"].to_numpy() == weekly["headcount"].to_numpy()).all()
    assert (by_week["customers"].to_numpy() == weekly["active_customers"].to_numpy()).all()


def test_ids_are_stable_and_never_reused(small_chain):
    model = LoyaltyModel(rng=3, annual_churn_rate=0.6, annual_quit_rate=0.8, **small_chain)
    first = model.customers_frame()
    watched = int(first.index[5])
    watched_store = int(first.loc[watched, "store"])
    model.run(40)
    everyone = model.customers_frame(include_departed=True)
    assert everyone.index.is_unique and everyone.index.is_monotonic_increasing
    assert len(everyone) == model.initial_customers + model.customers_acquired_total
    assert model.customer(watched)["store"] == watched_store  # found, present or departed
    staff = model.employees_frame(include_departed=True)
    assert staff.index.is_unique
    assert len(staff) == model.initial_headcount + model.hires_total
    departed = staff[~staff["active"]]
    assert len(departed) > 0
    leaver = int(departed.index[0])
    assert model.employee(leaver)["left_week"] >= 0


def test_same_seed_is_bit_identical_and_other_seeds_differ(small_chain):
    def run(seed):
        m = LoyaltyModel(rng=seed, coaching_hours=2.0, **small_chain).run(20)
        return m.model_frame(), m.stores_frame(), m.customers_frame(), m.employees_frame()

    a, b, c = run(11), run(11), run(12)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert not a[0]["revenue"].equals(c[0]["revenue"])
    assert not a[2]["confidence"].equals(c[2]["confidence"])


def test_policy_change_takes_effect_at_its_week(small_chain):
    events = [{"week": 6, "set": {"coaching_hours": 3.0, "hr_budget": 1300.0}}]
    weekly = LoyaltyModel(rng=4, coaching_hours=0.0, events=events, **small_chain).run(10)\
        .model_frame()
    assert (weekly.loc[:5, "coaching"] == 0).all()
    assert (weekly.loc[6:, "coaching"] > 0).all()
    # HR rounds fall on multiples of the cadence (13 weeks): none yet by week 9.
    assert (weekly["hr_programmes"] == 0).all()


def test_crisis_and_layoff_events(small_chain):
    events = [{"week": 5, "crisis": {"duration": 4, "severity": 0.8}},
              {"week": 6, "layoff": {"share": 0.25}}]
    model = LoyaltyModel(rng=5, events=events, **small_chain).run(12)
    weekly = model.model_frame()
    assert (weekly.loc[5:8, "crisis_severity"] == 0.8).all()
    assert (weekly.loc[[4, 9, 10], "crisis_severity"] == 0).all()
    assert weekly.loc[6, "laid_off"] > 0 and weekly.loc[6, "layoffs"] > 0
    assert weekly["laid_off"].sum() == weekly.loc[6, "laid_off"]
    assert model.params.staffing_level < 1.0  # the headcount target fell with the layoff
    assert weekly.loc[6:8, "anxiety"].min() > 0.5
    assert weekly.loc[11, "anxiety"] < weekly.loc[8, "anxiety"]


def test_store_agents_read_the_last_week(small_chain):
    model = LoyaltyModel(rng=6, **small_chain).run(3)
    table = model.stores_frame()
    last = table[table["week"] == 2].set_index("store")
    for store in model.stores:
        assert store.revenue == last.loc[store.index, "revenue"]
        assert store.customers == last.loc[store.index, "customers"]
        assert store.position == model.store_positions[store.index]
