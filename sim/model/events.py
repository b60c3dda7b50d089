"""Timed changes and events: a policy that starts at a week, a crisis, a round of layoffs.

Events are plain frozen dataclasses; `parse_event` also reads the dict form used in scenario
files, e.g. ``{"week": 26, "set": {"coaching_hours": 2}}``,
``{"week": 52, "crisis": {"duration": 12, "severity": 0.6}}``,
``{"week": 56, "layoff": {"share": 0.1}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.model.parameters import check_value

# Size parameters fix the chain at set-up; changing them mid-run has no meaning.
FIXED_AT_SETUP = frozenset({
    "n_stores", "employees_per_store", "customers_per_store", "store_size_spread",
    "staffing_spread", "supervisor_quality_mean", "supervisor_quality_sd", "trait_sd",
    "wallet_spread", "expectation_sd",
})


@dataclass(frozen=True)
class PolicyChange:
    """From `week` on, the given parameters take new values."""

    week: int
    changes: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        _check_week(self.week)
        if not self.changes:
            raise ValueError(f"policy change at week {self.week} sets no parameter")
        for name, value in self.changes.items():
            if name in FIXED_AT_SETUP:
                raise ValueError(
                    f"parameter '{name}' is fixed at set-up and cannot change at week "
                    f"{self.week}")
            check_value(name, value)


@dataclass(frozen=True)
class Crisis:
    """A pandemic-like shock from `week` for `duration` weeks with a severity in [0, 1]."""

    week: int
    duration: int
    severity: float

    def validate(self) -> None:
        _check_week(self.week)
        if not isinstance(self.duration, int) or self.duration < 1:
            raise ValueError(
                f"crisis duration = {self.duration!r} is not allowed: expected a whole number "
                ">= 1 (weeks)")
        if not isinstance(self.severity, int | float) or not 0.0 <= self.severity <= 1.0:
            raise ValueError(
                f"crisis severity = {self.severity!r} is not allowed: expected a number >= 0 "
                "and <= 1")


@dataclass(frozen=True)
class Layoff:
    """At `week`, lay off `share` of the staff; the headcount target falls with it."""

    week: int
    share: float

    def validate(self) -> None:
        _check_week(self.week)
        if not isinstance(self.share, int | float) or not 0.0 < self.share < 1.0:
            raise ValueError(
                f"layoff share = {self.share!r} is not allowed: expected a number > 0 and < 1")


Event = PolicyChange | Crisis | Layoff


def _check_week(week: Any) -> None:
    if isinstance(week, bool) or not isinstance(week, int) or week < 0:
        raise ValueError(
            f"event week = {week!r} is not allowed: expected a whole number >= 0 (weeks from "
            "the start)")


def parse_event(spec: Event | dict[str, Any]) -> Event:
    """Turn the dict form of an event into an Event and validate it."""
    if isinstance(spec, PolicyChange | Crisis | Layoff):
        spec.validate()
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f"event {spec!r} is not allowed: expected a mapping with 'week'")
    kinds = [k for k in ("set", "crisis", "layoff") if k in spec]
    extra = set(spec) - {"week", "set", "crisis", "layoff"}
    if extra or len(kinds) != 1 or "week" not in spec:
        raise ValueError(
            f"event {spec!r} is not allowed: expected 'week' and exactly one of 'set', "
            "'crisis', 'layoff'")
    week, body = spec["week"], spec[kinds[0]]
    if not isinstance(body, dict):
        raise ValueError(f"event '{kinds[0]}' at week {week!r} must be a mapping")
    try:
        if kinds[0] == "set":
            event: Event = PolicyChange(week=week, changes=dict(body))
        elif kinds[0] == "crisis":
            event = Crisis(week=week, **body)
        else:
            event = Layoff(week=week, **body)
    except TypeError as err:
        raise ValueError(f"event '{kinds[0]}' at week {week!r}: {err}") from None
    event.validate()
    return event
