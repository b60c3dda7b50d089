"""Loyalty simulation: how the way a company treats its employees turns into customer loyalty."""

from sim.events import Crisis, Layoff, PolicyChange, parse_event
from sim.model import LoyaltyModel
from sim.parameters import Parameters

__all__ = ["Crisis", "Layoff", "LoyaltyModel", "Parameters", "PolicyChange", "parse_event"]

# Parameter sweeps (issue 4): `sim.sweep(spec)` shadows the module name on purpose; the module
# stays importable as `from sim.sweep import ...`.
from sim.sweep import load_sweep, sweep  # noqa: E402, F401
