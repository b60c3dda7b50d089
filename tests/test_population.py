"""The columnar population (sim/model/population.py): stable ids that are never reused, rows
that stay readable by id after they leave, and the per-store helpers the set-up and staffing
rules use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.population import Population, rank_within_store, weighted_pick_per_store

COLUMNS = {"store": np.intp, "score": np.float32}


def test_ids_count_up_from_zero_and_rows_grow_past_capacity():
    pop = Population(COLUMNS, capacity=4)
    first = pop.add(10, store=np.arange(10) % 3, score=0.5)
    second = pop.add(30, store=1, score=np.linspace(0, 1, 30))
    assert (first.start, first.stop, second.start, second.stop) == (0, 10, 10, 40)
    assert pop.id.tolist() == list(range(40))
    assert pop.n_active == 40
    assert pop.score[10:].tolist() == pytest.approx(np.linspace(0, 1, 30).tolist())


def test_unknown_column_is_refused():
    with pytest.raises(KeyError, match="unknown columns"):
        Population(COLUMNS).add(1, store=0, wage=3.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.floats(0.0, 1.0)), min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_ids_stay_stable_and_unique_through_departures_and_compaction(batches, rnd):
    pop = Population(COLUMNS, capacity=8)
    scores: dict[int, float] = {}
    for count, leave_share in batches:
        rows = pop.add(count, store=0, score=np.arange(count, dtype=np.float32))
        for i, agent_id in enumerate(pop.id[rows]):
            scores[int(agent_id)] = float(i)
        active = np.flatnonzero(pop.active)
        gone = [r for r in active if rnd.random() < leave_share]
        pop.column("active")[gone] = False
        pop.compact(min_inactive_share=0.0)
    everyone = pop.frame(include_departed=True)
    assert everyone.index.tolist() == list(range(len(scores)))  # none lost, none reused
    assert pop.next_id == len(scores)
    for agent_id, score in scores.items():
        assert pop.lookup(agent_id)["score"] == score
    present = pop.frame()
    assert present["active"].all() and len(present) == pop.n_active


def test_compaction_waits_for_enough_departures():
    pop = Population(COLUMNS)
    pop.add(100, store=0, score=1.0)
    pop.column("active")[:5] = False
    assert not pop.compact(min_inactive_share=0.125)  # 5% gone: keep the rows
    pop.column("active")[:20] = False
    assert pop.compact(min_inactive_share=0.125)
    assert pop.size == 80 and pop.id[0] == 20
    assert pop.lookup(3)["active"] is False


def test_lookup_of_an_unknown_id_is_a_key_error():
    pop = Population(COLUMNS)
    pop.add(3, store=0, score=0.0)
    with pytest.raises(KeyError, match="no agent with id 7"):
        pop.lookup(7)


def test_rank_within_store_orders_each_store_by_its_key():
    store = np.array([1, 0, 1, 0, 1, 2])
    key = np.array([0.3, 0.9, 0.1, 0.2, 0.2, 0.5])
    assert rank_within_store(store, key, 3).tolist() == [2, 1, 0, 0, 1, 0]


def test_weighted_pick_keeps_the_asked_number_per_store_and_favours_heavy_rows():
    g = np.random.default_rng(3)
    store = np.repeat([0, 1], [200, 100])
    weight = np.where(np.arange(300) % 2 == 0, 4.0, 1.0)  # even rows four times as likely
    counts = np.array([50, 20])
    even = 0
    trials = 200
    for _ in range(trials):
        keep = weighted_pick_per_store(store, weight, counts, g)
        assert len(np.unique(keep)) == len(keep)  # without replacement
        assert np.bincount(store[keep], minlength=2).tolist() == counts.tolist()
        even += np.count_nonzero(keep % 2 == 0)
    # Sampling without replacement dampens the 4:1 ratio; the even share stays well above 1/2.
    share = even / (trials * counts.sum())
    assert 0.7 < share < 0.8
