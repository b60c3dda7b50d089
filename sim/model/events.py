"""Timed changes and events: a policy that starts at a week, a crisis, a round of layoffs.

The one event schema. Events are plain frozen dataclasses whose fields declare their meaning,
unit, bounds and allowed values (`EVENT_FIELD` metadata); `validate` checks them and `describe`
says them in words. The study layer (`sim.studies.scenario`) builds its pydantic models for
scenario files and sweep specs from the same declarations. `parse_event` reads the dict form
used in those files, e.g. ``{"week": 26, "set": {"coaching_hours": 2}}``,
``{"week": 52, "crisis": {"duration": 12, "severity": 0.6}}``,
``{"week": 56, "layoff": {"share": 0.1}}``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.model.checks import check_value

# Size parameters fix the chain at set-up; changing them mid-run has no meaning.
FIXED_AT_SETUP = frozenset({
    "n_stores", "employees_per_store", "customers_per_store", "store_size_spread",
    "staffing_spread", "supervisor_quality_mean", "supervisor_quality_sd", "trait_sd",
    "wallet_spread", "expectation_sd",
})


def _declare(doc: str, unit: str, allowed: str, *, whole: bool = False,
             ge: float | None = None, gt: float | None = None, le: float | None = None,
             lt: float | None = None) -> Any:
    """A required event field with its meaning, unit, bounds and allowed values in words."""
    return field(metadata={"doc": doc, "unit": unit, "allowed": allowed, "whole": whole,
                           "ge": ge, "gt": gt, "le": le, "lt": lt})


def _week() -> Any:
    return _declare("Week the event happens (0-based; it affects that week onwards).", "weeks",
                    "a whole number of weeks >= 0", whole=True, ge=0)


@dataclass(frozen=True)
class PolicyChange:
    """From `week` on, the given parameters take new values."""

    week: int = _week()
    changes: dict[str, Any] = field(default_factory=dict, metadata={
        "doc": "Parameters that take new values from `week` on.", "unit": "",
        "allowed": "a mapping of parameter: value"})
    kind = "set"  # the event's key in the dict form

    def validate(self) -> None:
        _check_fields(self, "policy change")
        if not self.changes:
            raise ValueError(f"policy change at week {self.week} sets no parameter")
        for name, value in self.changes.items():
            if name in FIXED_AT_SETUP:
                raise ValueError(
                    f"parameter '{name}' is fixed at set-up and cannot change at week "
                    f"{self.week}")
            check_value(name, value)

    def describe(self, name_words: Callable[[str], str] | None = None,
                 value_words: Callable[[str, Any], str] | None = None) -> str:
        """In words; reports and the browser view pass their plain-English labels."""
        if name_words is None or value_words is None:
            return f"from week {self.week}: " + ", ".join(
                f"{k} = {v}" for k, v in self.changes.items())
        return f"from week {self.week}: " + ", ".join(
            f"{name_words(k)} {value_words(k, v)}" for k, v in self.changes.items())

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "set": dict(self.changes)}


@dataclass(frozen=True)
class Crisis:
    """A pandemic-like shock from `week` for `duration` weeks with a severity in [0, 1]."""

    week: int = _week()
    duration: int = _declare("Length of the shock.", "weeks", "a whole number of weeks >= 1",
                             whole=True, ge=1)
    severity: float = _declare("Severity (0 = none, 1 = lockdown).", "0-1",
                               "a number >= 0 and <= 1", ge=0.0, le=1.0)
    kind = "crisis"

    def validate(self) -> None:
        _check_fields(self, "crisis")

    def describe(self) -> str:
        return (f"crisis from week {self.week} for {self.duration} weeks, severity "
                f"{self.severity:g}")

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "crisis": {"duration": self.duration,
                                              "severity": self.severity}}


@dataclass(frozen=True)
class Layoff:
    """At `week`, lay off `share` of the staff; the headcount target falls with it."""

    week: int = _week()
    share: float = _declare("Share of the staff laid off.", "share of staff",
                            "a number > 0 and < 1 (share of staff)", gt=0.0, lt=1.0)
    kind = "layoff"

    def validate(self) -> None:
        _check_fields(self, "layoff")

    def describe(self) -> str:
        return f"layoff of {self.share:.0%} of staff at week {self.week}"

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "layoff": {"share": self.share}}


Event = PolicyChange | Crisis | Layoff
EVENT_TYPES: dict[str, type[PolicyChange] | type[Crisis] | type[Layoff]] = {
    "set": PolicyChange, "crisis": Crisis, "layoff": Layoff}


def declared_fields(event_type: type) -> tuple[dataclasses.Field, ...]:
    """The fields of an event type that carry bounds (all but `week` and `changes`)."""
    return tuple(f for f in dataclasses.fields(event_type) if f.name not in ("week", "changes"))


def _check_fields(event: Any, what: str) -> None:
    """Check every declared field of `event` against its type and bounds."""
    for f in dataclasses.fields(event):
        if f.name == "changes":
            continue
        value, meta = getattr(event, f.name), f.metadata
        label = "event week" if f.name == "week" else f"{what} {f.name}"
        if not _allowed(value, meta):
            raise ValueError(f"{label} = {value!r} is not allowed: expected {meta['allowed']}")


def _allowed(value: Any, meta: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if meta["whole"] and not isinstance(value, int):
        return False
    if not math.isfinite(value):
        return False
    return not ((meta["ge"] is not None and value < meta["ge"])
                or (meta["gt"] is not None and value <= meta["gt"])
                or (meta["le"] is not None and value > meta["le"])
                or (meta["lt"] is not None and value >= meta["lt"]))


def describe(spec: Event | dict[str, Any], name_words: Callable[[str], str] | None = None,
             value_words: Callable[[str, Any], str] | None = None) -> str:
    """An event, or its dict form, in words: 'crisis from week 26 for 12 weeks, severity 0.6'.

    The one describer of events. Callers that show plain-English labels pass how to word a
    parameter's name and value (used for policy changes).
    """
    event = parse_event(spec)
    if isinstance(event, PolicyChange):
        return event.describe(name_words, value_words)
    return event.describe()


def parse_event(spec: Event | dict[str, Any]) -> Event:
    """Turn the dict form of an event into an Event and validate it."""
    if isinstance(spec, PolicyChange | Crisis | Layoff):
        spec.validate()
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f"event {spec!r} is not allowed: expected a mapping with 'week'")
    kinds = [k for k in EVENT_TYPES if k in spec]
    extra = set(spec) - {"week", *EVENT_TYPES}
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
        else:
            event = EVENT_TYPES[kinds[0]](week=week, **body)
    except TypeError as err:
        raise ValueError(f"event '{kinds[0]}' at week {week!r}: {err}") from None
    event.validate()
    return event
