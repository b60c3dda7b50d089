"""Checks of parameter values against their declaration: one-line messages naming the
parameter, the value and what is allowed (for scenario files, sweep specs, events, the model)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.model.parameters import MAX_CUSTOMERS, MAX_STAFF, PARAMETER_NAMES, Parameters

_FIELDS = {f.name: f for f in dataclasses.fields(Parameters)}


def unknown_parameter_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, PARAMETER_NAMES, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{name}'{hint} (see docs/ODD.md for the list)"


def describe_allowed(name: str) -> str:
    """Plain words for what a parameter accepts, e.g. 'a number >= 0 and <= 1'."""
    f = _FIELDS[name]
    meta = f.metadata
    if meta["choices"]:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    kind = "a whole number" if f.type in ("int", int) else "a number"
    bounds = []
    if meta["low"] is not None:
        bounds.append(f">= {meta['low']:g}")
    if meta["high"] is not None:
        bounds.append(f"<= {meta['high']:g}")
    return kind + (" " + " and ".join(bounds) if bounds else "")


def chain_size_problem(n_stores: int, employees_per_store: int,
                       customers_per_store: int) -> tuple[str, str] | None:
    """(problem, what is allowed) if the chain is too big to simulate, else None."""
    for count, limit, what in ((n_stores * customers_per_store, MAX_CUSTOMERS, "customers"),
                               (n_stores * employees_per_store, MAX_STAFF, "employees")):
        if count > limit:
            shown = f"{int(count):,}" if count < 10**15 else f"over 10^{len(str(int(count))) - 1}"
            return (f"the chain would have {shown} {what}",
                    f"at most {limit:,} {what} (n_stores x {what}_per_store)")
    return None


def check_value(name: str, value: Any) -> None:
    """Raise ValueError naming the parameter, the value and what is allowed."""
    f = _FIELDS.get(name)
    if f is None:
        raise ValueError(unknown_parameter_message(name))
    meta = f.metadata
    allowed = describe_allowed(name)
    bad = ValueError(f"parameter '{name}' = {value!r} is not allowed: expected {allowed}")
    if meta["choices"]:
        if value not in meta["choices"]:
            raise bad
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    # Whole numbers are compared as integers: float() of a 400-digit number overflows.
    if f.type in ("int", int) and isinstance(value, float) and not value.is_integer():
        raise bad
    if value != value or value in (float("inf"), float("-inf")):
        raise bad
    if meta["low"] is not None and value < meta["low"]:
        raise bad
    if meta["high"] is not None and value > meta["high"]:
        raise bad
