"""Mesa agents for stores and supervisors.

The weekly rules run on the model's store-level arrays (one row per store), so these agents are
light views: each property reads the row of its store. Employees and customers are vectorised
populations (see `sim.model.population`), not Mesa agents, so that chains of a million
customers run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import LoyaltyModel


class Store(mesa.Agent):
    """A location: a team, one supervisor, a catchment of customers, costs and revenue."""

    model: LoyaltyModel

    def __init__(self, model: LoyaltyModel, index: int):
        super().__init__(model)
        self.index = index
        self.supervisor: Supervisor | None = None

    def _last(self, column: str) -> float:
        return float(self.model.store_state[column][self.index])

    @property
    def position(self) -> tuple[int, int]:
        """Tile on the chain's map (column, row)."""
        return self.model.store_positions[self.index]

    @property
    def size(self) -> float:
        """Store size relative to the chain's average (1.0 = average)."""
        return float(self.model.store_size[self.index])

    @property
    def supervisor_quality(self) -> float:
        return float(self.model.supervisor_quality[self.index])

    @property
    def headcount(self) -> int:
        return int(self._last("headcount"))

    @property
    def customers(self) -> int:
        return int(self._last("customers"))

    @property
    def employee_engagement(self) -> float:
        return self._last("employee_engagement")

    @property
    def customer_engagement(self) -> float:
        return self._last("customer_engagement")

    @property
    def revenue(self) -> float:
        """Revenue in the last week ($)."""
        return self._last("revenue")

    @property
    def profit(self) -> float:
        """Profit in the last week ($)."""
        return self._last("profit")

    @property
    def churn_rate(self) -> float:
        """Last week's customer churn, annualised (%)."""
        return self._last("churn_rate_annual_pct")

    @property
    def turnover_rate(self) -> float:
        """Last week's employee quits, annualised (%)."""
        return self._last("turnover_rate_annual_pct")

    @property
    def workload(self) -> float:
        """Hours the service standard requires over hours available (1.0 = full)."""
        return self._last("workload")


class Supervisor(mesa.Agent):
    """A store's supervisor: leadership quality and a weekly coaching time budget."""

    model: LoyaltyModel

    def __init__(self, model: LoyaltyModel, store: Store):
        super().__init__(model)
        self.store = store
        store.supervisor = self

    @property
    def quality(self) -> float:
        """Leadership and coaching quality, a 0-1 score."""
        return float(self.model.supervisor_quality[self.store.index])

    @property
    def coaching_hours(self) -> float:
        """Coaching time per week (h), set by the company's policy."""
        return float(self.model.params.coaching_hours)

    @property
    def coaching_targeting(self) -> str:
        return self.model.params.coaching_targeting
