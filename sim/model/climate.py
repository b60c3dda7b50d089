"""The company's crisis climate (ODD 7.1): this week's crisis severity, customers' anxiety and
the stress layoffs leave on the staff."""

from __future__ import annotations

from dataclasses import dataclass

from sim.model import rules
from sim.model.parameters import Parameters


@dataclass
class Climate:
    """Crisis state carried from week to week."""

    severity: float = 0.0  # this week's crisis severity (0 outside a crisis)
    anxiety: float = 0.0  # customers' anxiety, 0-1
    layoff_stress: float = 0.0  # strain layoffs add to every employee
    crisis_until: int = -1  # first week after the current crisis
    crisis_level: float = 0.0  # severity of the current crisis

    def start_crisis(self, week: int, duration: int, severity: float) -> None:
        """A crisis of `severity` from `week` for `duration` weeks."""
        self.crisis_until = week + duration
        self.crisis_level = severity

    def advance(self, week: int, params: Parameters) -> None:
        """This week's severity; anxiety rises with it and fades after; layoff stress fades."""
        p = params
        self.severity = self.crisis_level if week < self.crisis_until else 0.0
        if self.severity > 0:
            self.anxiety = max(self.anxiety, self.severity)
        else:
            self.anxiety *= 1.0 - min(1.0, p.anxiety_recovery * (
                1.0 + p.transparency_recovery_boost * p.transparency))
        self.layoff_stress *= rules.LAYOFF_STRESS_KEPT

    def customer_anxiety(self, params: Parameters) -> float:
        """The anxiety customers act on (transparency reassures)."""
        return self.anxiety * rules.transparency_cushion(params.transparency,
                                                         params.transparency_cushion)

    def staff_stress(self, params: Parameters) -> float:
        """Strain the crisis and layoffs add to every employee this week."""
        return (params.crisis_stress_effect * self.severity
                * rules.transparency_cushion(params.transparency, params.transparency_cushion)
                + self.layoff_stress)

    def layoff_damage(self, params: Parameters) -> float:
        """Share of integrity and pride customers lose when they see a round of layoffs."""
        in_crisis = rules.CRISIS_LAYOFF_DAMAGE if self.severity > 0 else 1.0
        return (params.layoff_brand_damage * in_crisis
                * rules.transparency_cushion(params.transparency, params.transparency_cushion))
