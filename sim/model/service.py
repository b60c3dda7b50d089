"""Service encounters (ODD 7.3-7.4): front-line capacity, visits, work pressure and the service
standard's drift, who serves whom, encounter quality, problems and their resolution.

`serve` reads the populations and returns the week's encounters; it changes no agent's state.
What the encounters do to customers is `sim.model.customers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.parameters import Parameters
from sim.model.population import Population

F32 = np.float32

# Service policies (seed 003): design time per contact and share of problems solved at once.
SERVICE_POLICY_SPECS = {
    "short_contacts": {"minutes": 30.0, "first_contact_resolution": 0.60},
    "first_contact_resolution": {"minutes": 34.0, "first_contact_resolution": 0.90},
}


@dataclass(frozen=True)
class Encounters:
    """One week of service. Per customer (rows of the customer population): whether they
    visited and whether anyone served them (a visitor nobody serves meets quality 0 and buys
    nothing), the quality they met, whether a problem was resolved or left unresolved, and their
    emotional engagement when they came. Per store: visits, contacts (visits + last week's
    repeats), work pressure, repeat contacts for next week, front-line headcount, the sum of
    visitors' quality, and the service standard (min/contact) after this week's drift."""

    visit: np.ndarray
    served: np.ndarray
    quality: np.ndarray
    resolved: np.ndarray
    unresolved: np.ndarray
    engagement: np.ndarray
    visits: np.ndarray
    contacts: np.ndarray
    pressure: np.ndarray
    repeat: np.ndarray
    front_count: np.ndarray
    quality_sum: np.ndarray
    standard_minutes: np.ndarray


@dataclass(frozen=True)
class CustomerClimate:
    """What the front line of each store met this week: the shares of visits by fully engaged
    and by actively disengaged customers, and of visits left with an unresolved problem."""

    fans: np.ndarray
    hostile: np.ndarray
    complaints: np.ndarray

    @staticmethod
    def typical(n_stores: int) -> CustomerClimate:
        """A typical firm's mix (no net push on staff): for the spin-up, before customers."""
        return CustomerClimate(np.full(n_stores, rules.TYPICAL_FAN_SHARE),
                               np.full(n_stores, rules.TYPICAL_HOSTILE_SHARE),
                               np.zeros(n_stores))


def customer_climate(cust: Population, enc: Encounters) -> CustomerClimate:
    """The mix of customers each store's front line served this week."""
    n_s = len(enc.visits)
    code = np.where(enc.visit, cust.store * 4 + rules.customer_segments(enc.engagement), 4 * n_s)
    by_segment = np.bincount(code, minlength=4 * n_s + 1)[: 4 * n_s].reshape(n_s, 4)
    visits = np.maximum(enc.visits, 1)
    return CustomerClimate(by_segment[:, 0] / visits, by_segment[:, 3] / visits,
                           enc.repeat / visits)


def front_line_hours(emp: Population, params: Parameters, n_stores: int) -> np.ndarray:
    """Effective front-line hours per store (skilled staff work faster, strained ones slower)."""
    front = emp.active & emp.frontline
    hours = rules.effective_hours(params.hours_per_employee, emp.skill[front], emp.strain[front])
    return np.bincount(emp.store[front], hours, n_stores)


def serve(emp: Population, cust: Population, params: Parameters, standard_minutes: np.ndarray,
          repeat_contacts: np.ndarray, crisis_severity: float, g: np.random.Generator
          ) -> Encounters:
    """Visits, work pressure, the standard's drift and every visitor's encounter this week."""
    p, n_s = params, len(standard_minutes)
    policy = SERVICE_POLICY_SPECS[p.service_policy]

    # Front-line capacity.
    front_idx = np.flatnonzero(emp.active & emp.frontline)
    front_store = emp.store[front_idx]
    front_skill = emp.skill[front_idx]
    front_strain = emp.strain[front_idx]
    available = front_line_hours(emp, p, n_s)

    # Demand: visits follow emotional engagement.
    store = cust.store
    engagement = rules.customer_engagement(cust.confidence, cust.integrity, cust.pride,
                                           cust.passion)
    demand = 1.0 - p.crisis_demand_drop * crisis_severity
    visit = g.random(cust.size, dtype=F32) < rules.visit_probability(
        engagement, F32(p.visits_per_week), F32(p.visit_engagement_slope), F32(demand))
    visit &= cust.active
    visits = np.bincount(store, visit, n_s)
    contacts = visits + repeat_contacts
    pressure = rules.work_pressure(contacts, standard_minutes, available)
    least = p.min_service_share * policy["minutes"]
    delivered = rules.delivered_minutes(standard_minutes, pressure, p.max_overtime, least)
    can_serve = rules.served_share(pressure, standard_minutes, p.max_overtime, least, available)
    adequacy = np.minimum(delivered / policy["minutes"], 1.0)
    standard = rules.drift_standard(standard_minutes, delivered, policy["minutes"], pressure,
                                    p.standard_erosion_weeks, p.standard_recovery_weeks)
    busy = rules.busyness(pressure)

    # Who serves whom: each visitor meets a random front-line employee of their store.
    emotion = rules.displayed_emotion(emp.engagement[front_idx], front_strain,
                                      busy[front_store], p.busyness_emotion_effect)
    capability = rules.service_capability(front_skill, emotion, adequacy[front_store])
    order = np.argsort(front_store, kind="stable")
    capability = np.append(capability[order], rules.NO_STAFF_QUALITY).astype(F32)
    staff = np.bincount(front_store, minlength=n_s)
    start = np.cumsum(staff) - staff
    start = np.where(staff > 0, start, len(capability) - 1)
    staff = np.maximum(staff, 1)
    slot = g.random(cust.size, dtype=F32) * staff[store]
    pick = start[store] + slot.astype(np.intp)
    np.minimum(pick, (start + staff - 1)[store], out=pick)
    quality = capability[pick]
    quality += F32(p.quality_noise) * g.standard_normal(cust.size, dtype=F32)
    np.clip(quality, 0.0, 1.0, out=quality)
    if (can_serve < 1.0).any():
        # The fraction of the uniform that picked the employee is itself uniform and
        # independent of the pick: no extra draw, so the streams stay aligned across arms.
        served = visit & ((slot - np.floor(slot)) < can_serve[store])
        quality[visit & ~served] = 0.0  # waited in vain or walked out
    else:
        served = visit

    # Problems and their resolution (one uniform draw decides both).
    draw = g.random(cust.size, dtype=F32)
    p_problem = rules.problem_probability(quality, F32(p.problem_rate))
    problem = served & (draw < p_problem)
    resolve_share = F32(policy["first_contact_resolution"]) * np.minimum(
        quality + rules.RESOLUTION_QUALITY_LIFT, 1.0)
    resolved = problem & (draw < p_problem * resolve_share)
    unresolved = problem & ~resolved

    return Encounters(
        visit=visit, served=served, quality=quality, resolved=resolved, unresolved=unresolved,
        engagement=engagement, visits=visits, contacts=contacts, pressure=pressure,
        repeat=np.bincount(store, unresolved, n_s),
        front_count=np.bincount(front_store, minlength=n_s),
        quality_sum=np.bincount(store, quality * visit, n_s), standard_minutes=standard)
