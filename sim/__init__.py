"""Loyalty simulation: how the way a company treats its employees turns into customer loyalty."""

from sim.events import Crisis, Layoff, PolicyChange, parse_event
from sim.model import LoyaltyModel
from sim.parameters import Parameters

__all__ = ["Crisis", "Layoff", "LoyaltyModel", "Parameters", "PolicyChange", "parse_event"]
