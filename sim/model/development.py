"""Employee development (ODD 7.7): strain, the employee-side policies' channels (coaching, HR
programme rounds, recognition, mission, crisis candour), the four drivers, skill, tenure and
quits.

`develop` takes the employee population, the parameters and what the week put on the staff
(work pressure, crisis stress) and returns the week's quits and programme spend per store; the
population's rows are changed in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.parameters import Parameters
from sim.model.population import Population, rank_within_store
from sim.model.service import CustomerClimate

F32 = np.float32
DRIVERS = ("autonomy", "mastery", "purpose", "affiliation")
LEFT_QUIT, LEFT_LAYOFF = 1, 2  # employees' `left_reason` codes
# Each employee-side policy's gain per employee (ODD 7.7: one channel for all).
GAIN_COLUMNS = ("coaching_gain", "hr_gain", "recognition_gain", "mission_gain", "candour_gain")


@dataclass(frozen=True)
class Development:
    """This week's quits and HR programme spend ($) per store."""

    quits: np.ndarray
    hr_spend: np.ndarray


def reciprocity_strengths(p: Parameters) -> tuple[float, float]:
    """The loop's strength for its gratitude half and for its hostility half."""
    k = p.reciprocity_strength
    return (k if p.reciprocity_channels != "hostility" else 0.0,
            k if p.reciprocity_channels != "gratitude" else 0.0)


def develop(emp: Population, params: Parameters, supervisor_quality: np.ndarray,
            pressure: np.ndarray, crisis_stress: float, crisis_severity: float, week: int,
            g: np.random.Generator, climate: CustomerClimate | None = None) -> Development:
    """One week of strain, coaching, programmes, drivers, skill, tenure and quits.

    Args:
        pressure: each store's work pressure this week (front-line staff feel it).
        crisis_stress: strain a crisis and layoffs add this week (everyone feels it).
        crisis_severity: this week's severity (a transparent company's staff feel heard).
        climate: the customers each store's front line served (reciprocity); None: typical.
    """
    p, n_s = params, len(supervisor_quality)
    idx = np.flatnonzero(emp.active)
    store = emp.store[idx]
    front = emp.frontline[idx]
    engagement = emp.engagement[idx]
    quality = supervisor_quality[store]

    climate = climate or CustomerClimate.typical(n_s)
    gratitude_strength, hostility_strength = reciprocity_strengths(p)
    hostility = np.where(front, rules.hostility_strain(
        climate.hostile, climate.complaints, hostility_strength)[store], 0.0)
    strain = emp.strain[idx]
    strain += F32(p.strain_adjustment) * (rules.strain_level(
        np.where(front, pressure[store], 0.0), p.strain_build, crisis_stress + hostility)
        - strain)

    level = driver_levels(emp, p, supervisor_quality, idx)
    gratitude = np.where(front, rules.gratitude_lift(climate.fans, gratitude_strength)[store],
                         0.0)
    level["purpose"] = level["purpose"] + gratitude
    level["affiliation"] = level["affiliation"] + gratitude
    noise = g.standard_normal((4, len(idx)))
    for k, name in enumerate(DRIVERS):
        x = getattr(emp, name)[idx]
        x += p.driver_adjustment * (level[name] - x) + p.driver_noise * noise[k]
        emp.column(name)[idx] = np.clip(x, 0, 1)

    # Employee-side programmes, one channel for all: reach -> impulse -> fading gain.
    hours = coaching_hours(store, engagement, p, n_s, g)
    coached = rules.coaching_impulse(hours, quality, engagement, p.coaching_effect)
    emp.column("coaching_gain")[idx] = rules.fade(emp.coaching_gain[idx], p.coaching_decay) \
        + coached
    programme = np.zeros(len(idx))
    hr_spend = np.zeros(n_s)
    if p.hr_budget > 0 and week % p.hr_cadence_weeks == 0:
        spend = p.hr_budget * p.hr_cadence_weeks / rules.WEEKS_PER_YEAR
        takes_part = g.random(len(idx)) < rules.hr_participation(engagement, p.hr_reach,
                                                                 p.hr_reach_rule)
        programme = takes_part * rules.hr_impulse(spend, p.hr_effect, p.hr_spend_scale,
                                                  engagement)
        hr_spend = spend * np.bincount(store, minlength=n_s)
    emp.column("hr_gain")[idx] = rules.fade(emp.hr_gain[idx], p.hr_decay) + programme
    # Continuous policies on the same channel: a dose each week they last (reach: recognition
    # the front line, the mission and crisis candour everyone).
    for name, (dose, effect, decay) in continuous_doses(p, front, crisis_severity).items():
        gain = emp.column(f"{name}_gain")
        gain[idx] = rules.fade(gain[idx], decay) + rules.exposure_impulse(
            dose, effect, decay, engagement)

    skill = emp.skill[idx]
    skill += (rules.skill_gain(skill, engagement, p.skill_learning)
              + (p.coaching_skill_share * coached + p.hr_skill_share * programme) * (1 - skill))
    emp.column("skill")[idx] = np.clip(skill, 0, 1)
    emp.column("strain")[idx] = np.clip(strain, 0, 1)
    emp.column("tenure")[idx] += 1
    refresh_engagement(emp, p)

    quits = g.random(len(idx)) < rules.quit_probability(
        emp.engagement[idx], emp.strain[idx], emp.tenure[idx],
        rules.weekly_hazard(p.annual_quit_rate), p.quit_engagement_sensitivity,
        p.quit_strain_sensitivity)
    gone = idx[quits]
    emp.column("active")[gone] = False
    emp.column("left_week")[gone] = week
    emp.column("left_reason")[gone] = LEFT_QUIT
    return Development(np.bincount(store[quits], minlength=n_s).astype(float), hr_spend)


def coaching_hours(store: np.ndarray, engagement: np.ndarray, params: Parameters,
                   n_stores: int, g: np.random.Generator) -> np.ndarray:
    """Each supervisor's hours go one per employee, in the order of the targeting rule;
    hours beyond one per employee are shared equally."""
    budget = params.coaching_hours
    if budget <= 0 or len(store) == 0:
        return np.zeros(len(store))
    key = {"least_engaged": engagement, "most_engaged": -engagement,
           "random": g.random(len(store))}[params.coaching_targeting]
    rank = rank_within_store(store, key, n_stores)
    heads = np.bincount(store, minlength=n_stores)[store]
    return np.clip(budget - rank, 0.0, 1.0) + np.maximum(budget - heads, 0.0) / heads


def continuous_doses(params: Parameters, front: np.ndarray, crisis_severity: float
                     ) -> dict[str, tuple[np.ndarray | float, float, float]]:
    """This week's dose of each continuous policy with its sustained effect and weekly decay:
    recognition reaches the front line, the mission (relative to a typical firm's) and crisis
    candour (transparency x severity) everyone."""
    p = params
    return {
        "recognition": (p.frontline_recognition * front, p.recognition_effect,
                        p.recognition_decay),
        "mission": (p.mission_resonance - rules.TYPICAL_MISSION_RESONANCE, p.mission_effect,
                    p.mission_decay),
        "candour": (p.transparency * crisis_severity, p.candour_effect, p.candour_decay),
    }


def driver_levels(emp: Population, params: Parameters, supervisor_quality: np.ndarray,
                  idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The level each driver settles at for the given (default: active) employees (no policy
    shifts it: policies act through their channels' gains)."""
    p = params
    if idx is None:
        idx = np.flatnonzero(emp.active)
    store = emp.store[idx]
    base = rules.driver_level(
        p.driver_baseline, emp.trait[idx], supervisor_quality[store],
        p.supervisor_climate_effect, emp.tenure[idx], p.tenure_drift, emp.frontline[idx],
        p.frontline_penalty)
    return dict.fromkeys(DRIVERS, base)


def refresh_engagement(emp: Population, params: Parameters) -> None:
    """Recompute every employee's engagement from drivers, programmes' gains and strain."""
    drivers = (emp.autonomy + emp.mastery + emp.purpose + emp.affiliation) * F32(0.25)
    gains = sum(emp.column(name) for name in GAIN_COLUMNS)
    emp.column("engagement")[:] = rules.employee_engagement(
        drivers, gains, emp.strain, F32(params.strain_penalty))
