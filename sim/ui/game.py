"""Game mode: participants each run a store of the chain, quarter by quarter (no Solara here).

The facilitator's page and every participant's page share one `GameSession` per server process.
Every change to it goes through its lock, so participants acting at once never corrupt a round,
and nothing in it belongs to a browser session: a participant who reloads (same browser, same
Solara session cookie) or loses the connection finds their store as they left it.

Each store runs as its own one-store `LoyaltyModel`: the chain model's stores share no
customers or staff, so a chain of one-store models behaves as the chain does, and each store's
policy can change at the start of a quarter through the model's public events. Store i uses
the seed `seed + i`. Beside each store runs its twin under the company default policy on the
same seed: the debrief measures each store's decisions against it, so luck (a weak supervisor,
a small catchment) cancels out.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.model import LoyaltyModel
from sim.model.parameters import STAFFING_RULES, Parameters
from sim.studies.labels import choice_label, choice_value

# Settings `loyalty-sim ui --game` hands to the server process (sim.ui.game_view reads them).
GAME_ENV = "LOYALTY_SIM_GAME"
JOIN_URL_ENV = "LOYALTY_SIM_JOIN_URL"
GAME_SETTINGS_ENV = {"n_stores": "LOYALTY_SIM_GAME_STORES", "rounds": "LOYALTY_SIM_GAME_ROUNDS",
                     "seed": "LOYALTY_SIM_GAME_SEED"}
WEEKS_PER_ROUND = 13  # a quarter
DEFAULT_ROUNDS = 8  # two years
DEFAULT_STORES = 12
DEFAULT_SEED = 2024
# What a store may spend on its people policy per quarter, on top of the usual half hour of
# coaching: enough for about two of the three paid levers at full strength (assumed, to make the
# choice a trade-off; see `Decision.quarter_cost`).
QUARTER_BUDGET = 3000.0
HR_BUDGET_PER_EMPLOYEE = 390.0  # $/employee/yr: the company programme of scenarios/coaching_vs_hr
MAX_COACHING_HOURS = 6.0
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
STAFFING_LABELS = tuple(choice_label("staffing_rule", r) for r in STAFFING_RULES)


class GameError(ValueError):
    """A participant's action that the game refuses (one line, shown to them)."""


@dataclass(frozen=True)
class Decision:
    """A store's people policy for one quarter."""

    coaching_hours: float = Parameters().coaching_hours  # h per supervisor per week
    recognition: float = 0.0  # front-line recognition, 0-1
    staffing_rule: str = "random"
    hr_programme: bool = False

    def check(self) -> None:
        if not 0 <= self.coaching_hours <= MAX_COACHING_HOURS:
            raise GameError(f"coaching hours {self.coaching_hours:g} is not allowed: expected "
                            f"0 to {MAX_COACHING_HOURS:g} hours a week")
        if not 0 <= self.recognition <= 1:
            raise GameError(f"recognition {self.recognition:g} is not allowed: expected 0 to 1")
        if self.staffing_rule not in STAFFING_RULES:
            raise GameError(f"front line {self.staffing_rule!r} is not allowed: expected one of "
                            + ", ".join(STAFFING_LABELS))

    def parameters(self) -> dict[str, Any]:
        """The model parameters this decision sets."""
        return {"coaching_hours": float(self.coaching_hours),
                "frontline_recognition": float(self.recognition),
                "staffing_rule": self.staffing_rule,
                "hr_budget": HR_BUDGET_PER_EMPLOYEE if self.hr_programme else 0.0}

    def quarter_cost(self, model: LoyaltyModel) -> float:
        """What the decision costs the store in a quarter beyond the company default ($), at the
        store's current staff: the model's own cost rules (coaching at the supervisor's hourly
        wage, recognition per front-line employee, the HR programme per employee)."""
        p = model.params
        default = Decision()
        # before the first week the store has its planned staff
        staff = float(model.stores[0].headcount if model.steps else p.employees_per_store)
        front = staff * p.frontline_share
        coaching = (max(self.coaching_hours - default.coaching_hours, 0.0)
                    * p.supervisor_weekly_wage / 40.0 * WEEKS_PER_ROUND)
        recognition = self.recognition * p.recognition_cost * front * WEEKS_PER_ROUND / 52.0
        hr = (HR_BUDGET_PER_EMPLOYEE * staff * WEEKS_PER_ROUND / 52.0
              if self.hr_programme else 0.0)
        return coaching + recognition + hr

    def describe(self) -> str:
        parts = [f"coaching {self.coaching_hours:g} h/wk"]
        if self.recognition:
            parts.append(f"recognition {self.recognition:g}")
        parts.append(f"front line: {choice_label('staffing_rule', self.staffing_rule)}")
        if self.hr_programme:
            parts.append("HR programme")
        return ", ".join(parts)

    @classmethod
    def from_form(cls, coaching_hours: float, recognition: float, staffing: str,
                  hr_programme: bool) -> Decision:
        """A decision from the participant's form (the front line as its plain label)."""
        return cls(float(coaching_hours), float(recognition),
                   choice_value("staffing_rule", staffing), bool(hr_programme))


@dataclass
class Player:
    key: str  # the browser session's id: a reload finds the player again
    name: str
    store: int
    joined: float = field(default_factory=time.time)


class GameSession:
    """One game: the stores, who runs which, the decisions of the current quarter and the
    results so far. Thread-safe: every method takes the lock."""

    def __init__(self, n_stores: int = DEFAULT_STORES, rounds: int = DEFAULT_ROUNDS,
                 seed: int = DEFAULT_SEED, code: str | None = None,
                 budget: float = QUARTER_BUDGET, **parameters: Any):
        if not 1 <= n_stores <= 60:
            raise GameError(f"stores = {n_stores} is not allowed: expected 1 to 60")
        if not 1 <= rounds <= 40:
            raise GameError(f"rounds = {rounds} is not allowed: expected 1 to 40 quarters")
        self._lock = threading.RLock()
        self.n_stores, self.rounds, self.seed, self.budget = n_stores, rounds, seed, budget
        self.code = code or "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
        self.parameters = {**parameters, "n_stores": 1}
        self.stores = [LoyaltyModel(rng=seed + i, **self.parameters) for i in range(n_stores)]
        self.twins = [LoyaltyModel(rng=seed + i, **self.parameters) for i in range(n_stores)]
        self.players: dict[str, Player] = {}
        self.round = 0  # quarters played
        self.pending: dict[int, Decision] = {}
        self.current: dict[int, Decision] = {}
        self.history: list[dict[int, Decision]] = []  # decisions in force, quarter by quarter
        self.version = 0  # bumped on every change; pages redraw when it moves
        self.last_round_seconds = float("nan")

    # ------------------------------------------------------------------ participants
    @property
    def finished(self) -> bool:
        return self.round >= self.rounds

    def _changed(self) -> None:
        self.version += 1

    def check_code(self, code: str) -> None:
        if code.strip().upper() != self.code:
            raise GameError(f"code {code.strip()!r} is not this game's: ask the facilitator for "
                            "the code on the screen")

    def join(self, key: str, name: str, store: int, code: str) -> Player:
        """A participant takes a store (several may share one as a team)."""
        name = " ".join(name.split())[:30]
        with self._lock:
            self.check_code(code)
            if not name:
                raise GameError("give a name (or a team name) so the room can see who runs "
                                "the store")
            if not 1 <= store <= self.n_stores:
                raise GameError(f"store {store} is not allowed: expected 1 to {self.n_stores}")
            player = Player(key, name, store)
            self.players[key] = player
            self._changed()
            return player

    def player(self, key: str) -> Player | None:
        with self._lock:
            return self.players.get(key)

    def leave(self, key: str) -> None:
        with self._lock:
            if self.players.pop(key, None) is not None:
                self._changed()

    def owners(self) -> dict[int, list[str]]:
        """Names of the players of each store (stores nobody runs are left out)."""
        with self._lock:
            owners: dict[int, list[str]] = {}
            for player in sorted(self.players.values(), key=lambda p: p.joined):
                owners.setdefault(player.store, []).append(player.name)
            return owners

    def decide(self, key: str, decision: Decision) -> float:
        """A player's decision for their store this quarter; returns its cost ($/quarter)."""
        decision.check()
        with self._lock:
            player = self.players.get(key)
            if player is None:
                raise GameError("join a store first")
            if self.finished:
                raise GameError("the game is over: no more quarters to decide")
            cost = decision.quarter_cost(self.stores[player.store - 1])
            if cost > self.budget + 1e-9:
                raise GameError(f"this costs ${cost:,.0f} a quarter, over the budget of "
                                f"${self.budget:,.0f}: take something out")
            self.pending[player.store] = decision
            self._changed()
            return cost

    def decision_for(self, store: int) -> Decision:
        """The decision that will run next quarter: this quarter's pick, else the last one,
        else the company default."""
        with self._lock:
            return self.pending.get(store, self.current.get(store, Decision()))

    def decided(self) -> set[int]:
        with self._lock:
            return set(self.pending)

    # ------------------------------------------------------------------ rounds
    def advance(self) -> float:
        """Play the next quarter for every store (and its twin); returns the seconds it took.

        Stores nobody runs follow the company default; a run store keeps its last decision if
        its players did not decide this quarter.
        """
        with self._lock:
            if self.finished:
                raise GameError("the game is over: every quarter has been played")
            started = time.perf_counter()
            owners = {p.store for p in self.players.values()}
            in_force = {}
            for i, (model, twin) in enumerate(zip(self.stores, self.twins, strict=True)):
                store = i + 1
                decision = (self.pending.get(store, self.current.get(store, Decision()))
                            if store in owners else Decision())
                in_force[store] = decision
                if decision != self.current.get(store, Decision()):
                    model.schedule({"week": model.steps, "set": decision.parameters()})
                for _ in range(WEEKS_PER_ROUND):
                    model.step()
                    twin.step()
            self.current = in_force
            self.history.append(in_force)
            self.pending = {}
            self.round += 1
            self.last_round_seconds = time.perf_counter() - started
            self._changed()
            return self.last_round_seconds

    # ------------------------------------------------------------------ read-outs
    def store_table(self) -> pd.DataFrame:
        """One row per store: who runs it and its figures so far (map, quadrant, leaderboard).

        Profit is cumulative since the game started ($); churn is the last quarter's average
        (%/yr); `gain` is cumulative profit minus that of its twin under the default policy.
        """
        with self._lock:
            owners = self.owners()
            side = max(1, math.ceil(math.sqrt(self.n_stores)))
            rows = []
            for i, (model, twin) in enumerate(zip(self.stores, self.twins, strict=True)):
                store = i + 1
                frame = model.model_frame()
                twin_frame = twin.model_frame()
                s = model.stores[0]
                started = not frame.empty
                recent = frame.tail(WEEKS_PER_ROUND)
                rows.append({
                    "store": store, "col": i % side, "row": i // side,
                    "player": ", ".join(owners.get(store, [])) or "company default",
                    "label": str(store),
                    "supervisor_quality": s.supervisor_quality,
                    "headcount": s.headcount if started else np.nan,
                    "customers": s.customers if started else np.nan,
                    "employee_engagement": s.employee_engagement if started else np.nan,
                    "customer_engagement": s.customer_engagement if started else np.nan,
                    "revenue": float(recent["revenue"].mean()) if started else np.nan,
                    "profit": float(recent["profit"].mean()) if started else np.nan,
                    "cumulative_profit": float(frame["profit"].sum()) if started else 0.0,
                    "gain": (float(frame["profit"].sum() - twin_frame["profit"].sum())
                             if started else 0.0),
                    "churn_rate": (float(recent["churn_rate_annual_pct"].mean()) if started
                                   else np.nan),
                    "turnover_rate": (float(recent["turnover_rate_annual_pct"].mean())
                                      if started else np.nan),
                    "decision": self.current.get(store, Decision()).describe(),
                })
            table = pd.DataFrame(rows)
            table["engagement"] = (table["employee_engagement"]
                                   + table["customer_engagement"]) / 2
            return table

    def leaderboard(self) -> pd.DataFrame:
        """Stores by cumulative profit, best first, with churn and engagement."""
        table = self.store_table()
        return table.sort_values(["cumulative_profit", "store"], ascending=[False, True])

    def typical_revenue(self) -> float:
        p = self.stores[0].params
        return p.customers_per_store * p.visits_per_week * p.basket

    def debrief(self) -> pd.DataFrame:
        """Which decisions paid: for each lever, the stores that used it in at least half of the
        quarters against those that did not, by their gain over their default twin ($).

        One game, a few stores: a pointer for the discussion, not an estimate (no intervals).
        """
        with self._lock:
            table = self.store_table().set_index("store")
            history = list(self.history)
        if not history:
            return pd.DataFrame(columns=["lever", "stores using it", "mean gain, using ($)",
                                         "stores not", "mean gain, not ($)"])
        levers = {
            "Coaching 2 h/wk or more": lambda d: d.coaching_hours >= 2,
            "Front-line recognition": lambda d: d.recognition > 0,
            "Most engaged on the front line": lambda d: d.staffing_rule == "most_engaged",
            "Least engaged on the front line": lambda d: d.staffing_rule == "least_engaged",
            "Company HR programme": lambda d: d.hr_programme,
        }
        rows = []
        for lever, uses in levers.items():
            using = [s for s in table.index
                     if sum(uses(q.get(s, Decision())) for q in history) * 2 >= len(history)]
            others = [s for s in table.index if s not in using]
            rows.append({
                "lever": lever,
                "stores using it": len(using),
                "mean gain, using ($)": (float(table.loc[using, "gain"].mean()) if using
                                         else np.nan),
                "stores not": len(others),
                "mean gain, not ($)": (float(table.loc[others, "gain"].mean()) if others
                                       else np.nan),
            })
        return pd.DataFrame(rows)

    def settings(self) -> dict[str, Any]:
        return {"stores": self.n_stores, "rounds": self.rounds, "seed": self.seed,
                "budget": self.budget, "weeks_per_round": WEEKS_PER_ROUND}


# One game per server process, shared by every browser session.
_SESSION: GameSession | None = None
_SESSION_LOCK = threading.Lock()


def current_session(**settings: Any) -> GameSession:
    """The server's game (created on first use with `settings`)."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = GameSession(**settings)
        return _SESSION


def new_session(**settings: Any) -> GameSession:
    """Replace the server's game by a new one (the facilitator's "New game")."""
    global _SESSION
    with _SESSION_LOCK:
        old = _SESSION
        _SESSION = GameSession(**settings)
        if old is not None:
            # pages watching the old game see it change and move to the new one
            _SESSION.version = old.version + 1
        return _SESSION


def decision_fields() -> dict[str, Any]:
    """Defaults of the participant's form."""
    return dataclasses.asdict(Decision())
