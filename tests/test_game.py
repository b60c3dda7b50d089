"""Game mode without a browser: joining, decisions within the budget, rounds, the shared state
under concurrent participants, rejoining, and the pages rendered with solara.render."""

from __future__ import annotations

import threading

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from sim.model import LoyaltyModel
from sim.ui import app, game_view
from sim.ui import game as ui_game
from sim.ui.game import WEEKS_PER_ROUND, Decision, GameError, GameSession

SMALL = {"employees_per_store": 6, "customers_per_store": 120}


def small_game(n_stores=4, rounds=2, **kw) -> GameSession:
    return GameSession(n_stores=n_stores, rounds=rounds, seed=11, code="WXYZ", **SMALL, **kw)


def test_join_needs_the_code_a_name_and_a_real_store():
    game = small_game()
    with pytest.raises(GameError, match="code 'nope' is not this game's"):
        game.join("a", "Ann", 1, "nope")
    with pytest.raises(GameError, match="give a name"):
        game.join("a", "  ", 1, "wxyz")
    with pytest.raises(GameError, match="store 5 is not allowed: expected 1 to 4"):
        game.join("a", "Ann", 5, "wxyz")
    game.join("a", "Ann", 2, " wxyz ")  # the code is not case- or space-sensitive
    game.join("b", "Bo", 2, "WXYZ")  # a team shares a store
    assert game.owners() == {2: ["Ann", "Bo"]}


def test_a_decision_over_budget_is_refused_with_its_cost():
    game = small_game(budget=2000.0)  # the small test stores have 6 staff, not ~15
    game.join("a", "Ann", 1, "WXYZ")
    everything = Decision(coaching_hours=6, recognition=1, staffing_rule="most_engaged",
                          hr_programme=True)
    cost = everything.quarter_cost(game.stores[0])
    assert cost > game.budget
    with pytest.raises(GameError, match=r"costs \$[\d,]+ a quarter, over the budget"):
        game.decide("a", everything)
    assert game.decided() == set()
    assert game.decide("a", Decision(coaching_hours=4)) <= game.budget
    with pytest.raises(GameError, match="coaching hours 9 is not allowed"):
        game.decide("a", Decision(coaching_hours=9))
    with pytest.raises(GameError, match="join a store first"):
        game.decide("stranger", Decision())
    # The company default costs nothing beyond the usual.
    assert Decision().quarter_cost(game.stores[0]) == 0


def test_quarter_cost_follows_the_models_own_cost_rules():
    """Coaching at 4 h/wk for a quarter costs what the model books for it, less the default."""
    game = small_game(n_stores=1, rounds=1)
    game.join("a", "Ann", 1, "WXYZ")
    game.decide("a", Decision(coaching_hours=4))
    game.advance()
    booked = game.stores[0].model_frame()["coaching"].sum()
    default = game.twins[0].model_frame()["coaching"].sum()
    assert booked - default == pytest.approx(
        Decision(coaching_hours=4).quarter_cost(game.stores[0]))


def test_a_round_applies_decisions_and_unclaimed_stores_follow_the_default():
    game = small_game(n_stores=3, rounds=3)
    game.join("a", "Ann", 1, "WXYZ")
    game.join("b", "Bo", 2, "WXYZ")
    game.decide("a", Decision(coaching_hours=4, staffing_rule="most_engaged"))
    seconds = game.advance()
    assert seconds > 0 and game.round == 1 and game.decided() == set()
    assert [m.steps for m in game.stores] == [WEEKS_PER_ROUND] * 3
    first, second, free = game.stores
    assert first.params.coaching_hours == 4 and first.params.staffing_rule == "most_engaged"
    assert second.params == free.params == game.twins[0].params  # defaults
    # An unclaimed store under the default is its own twin: the same seed, the same weeks.
    pd.testing.assert_frame_equal(free.model_frame(), game.twins[2].model_frame())
    # Ann did not decide again: her decision stays in force for the next quarter.
    game.advance()
    assert game.history[1][1] == Decision(coaching_hours=4, staffing_rule="most_engaged")
    game.advance()
    assert game.finished
    with pytest.raises(GameError, match="every quarter has been played"):
        game.advance()


def test_a_store_runs_as_the_chain_model_does_under_a_decision():
    """A store's model is a plain one-store LoyaltyModel with the decision as an event."""
    game = small_game(n_stores=2, rounds=1)
    game.join("a", "Ann", 2, "WXYZ")
    decision = Decision(coaching_hours=3, recognition=0.5, hr_programme=True)
    game.decide("a", decision)
    game.advance()
    plain = LoyaltyModel(rng=12, n_stores=1, events=[{"week": 0, "set": decision.parameters()}],
                         **SMALL).run(WEEKS_PER_ROUND)
    pd.testing.assert_frame_equal(game.stores[1].model_frame(), plain.model_frame())


def test_ten_participants_acting_at_once_never_corrupt_a_round():
    game = small_game(n_stores=10, rounds=2)
    barrier = threading.Barrier(10)
    errors = []

    def participant(i: int) -> None:
        try:
            barrier.wait()
            game.join(f"p{i}", f"Player {i}", i + 1, "WXYZ")
            for hours in (1.0, 2.0, 3.0):  # changing their mind while others act
                game.decide(f"p{i}", Decision(coaching_hours=hours + i % 2))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    # The facilitator reads the board while they act.
    while any(t.is_alive() for t in threads):
        assert len(game.leaderboard()) == 10
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(game.players) == 10 and game.decided() == set(range(1, 11))
    game.advance()
    for i, model in enumerate(game.stores):
        assert model.params.coaching_hours == 3.0 + i % 2
        assert model.steps == WEEKS_PER_ROUND


def test_advancing_while_participants_decide_keeps_every_round_whole():
    game = small_game(n_stores=4, rounds=3)
    for i in range(4):
        game.join(f"p{i}", f"P{i}", i + 1, "WXYZ")
    stop = threading.Event()

    def busy(i):
        while not stop.is_set():
            try:
                game.decide(f"p{i}", Decision(coaching_hours=float(i)))
            except GameError:
                return  # the game ended

    threads = [threading.Thread(target=busy, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        game.advance()
    stop.set()
    for thread in threads:
        thread.join()
    assert [m.steps for m in game.stores] == [3 * WEEKS_PER_ROUND] * 4
    assert len(game.history) == 3 and all(len(q) == 4 for q in game.history)


def test_the_debrief_compares_levers_by_gain_over_the_default_twin():
    game = small_game(n_stores=4, rounds=2)
    game.join("a", "Ann", 1, "WXYZ")
    game.decide("a", Decision(coaching_hours=4))
    game.advance()
    game.advance()
    table = game.store_table().set_index("store")
    assert table.loc[[2, 3, 4], "gain"].tolist() == [0.0, 0.0, 0.0]
    own = game.stores[0].model_frame()["profit"].sum()
    twin = game.twins[0].model_frame()["profit"].sum()
    assert table.loc[1, "gain"] == pytest.approx(own - twin)
    debrief = game.debrief().set_index("lever")
    coaching = debrief.loc["Coaching 2 h/wk or more"]
    assert coaching["stores using it"] == 1 and coaching["stores not"] == 3
    assert coaching["mean gain, using ($)"] == pytest.approx(table.loc[1, "gain"])
    assert coaching["mean gain, not ($)"] == 0.0
    board = game.leaderboard()
    assert board["cumulative_profit"].is_monotonic_decreasing


def test_same_seed_same_game():
    runs = []
    for _ in range(2):
        game = small_game(n_stores=2, rounds=1)
        game.join("a", "Ann", 1, "WXYZ")
        game.decide("a", Decision(recognition=0.5))
        game.advance()
        runs.append(game.store_table()[["cumulative_profit", "gain", "churn_rate"]])
    pd.testing.assert_frame_equal(*runs)
    assert np.isfinite(runs[0].to_numpy()).all()


# ------------------------------------------------------------------------------------ pages
_PAGES: list = []


@pytest.fixture
def session(monkeypatch):
    """A small game as the server's game for the pages; the pages are closed afterwards (their
    watching threads would otherwise create a default game once this one is gone)."""
    game = small_game(n_stores=3, rounds=1)
    monkeypatch.setattr(ui_game, "_SESSION", game)
    yield game
    while _PAGES:
        _PAGES.pop().close()


def render(view, path):
    layout = app.routes[0].layout
    page = solara.RoutingProvider(routes=app.routes, pathname=path,
                                  children=[layout(children=[view()])])
    rc = solara.render(page, handle_error=False)[1]
    _PAGES.append(rc)
    return rc


def html_text(rc) -> str:
    """The text of the page's HTML blocks (solara.HTML)."""
    return " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)


def test_a_participant_joins_decides_and_a_reload_rejoins(session):
    page = render(game_view.GamePlayer, "/play")
    code, name = page.find(v.TextField).widgets
    code.v_model, name.v_model = "WXYZ", "Ann"
    page.find(v.Btn, children=["Join"]).widget.click()
    titles = [str(c) for w in page.find(v.CardTitle).widgets for c in w.children]
    assert "Store 1 · Ann" in titles and "Your decision for quarter 1" in titles
    page.find(v.Btn, children=["Submit decision"]).widget.click()
    assert session.decided() == {1}
    # A reload is a new page in the same browser session: it finds the store again.
    again = render(game_view.GamePlayer, "/play")
    titles = [str(c) for w in again.find(v.CardTitle).widgets for c in w.children]
    assert "Store 1 · Ann" in titles
    assert "Your decision is in" in str([w.children for w in again.find(v.Alert).widgets])


def test_a_wrong_code_is_said_on_the_page(session):
    page = render(game_view.GamePlayer, "/play")
    code, name = page.find(v.TextField).widgets
    code.v_model, name.v_model = "AAAA", "Ann"
    page.find(v.Btn, children=["Join"]).widget.click()
    assert "is not this game's" in str([w.children for w in page.find(v.Alert).widgets])
    assert session.players == {}


def test_the_facilitator_plays_the_quarter_and_sees_the_debrief(session):
    session.join("x", "Ann", 2, "WXYZ")
    page = render(game_view.GameFacilitator, "/game")
    shown = html_text(page)
    assert "WXYZ" in shown and "/play" in shown and "Quarter 1 of 1" in shown
    assert "0 of 1 stores with players have decided" in shown
    page.find(v.Btn, children=["Play the quarter"]).widget.click()
    shown = html_text(page)
    assert "Game over: 1 quarters played" in shown
    assert "gained most over its twin run" in shown and "Company HR programme" in shown
