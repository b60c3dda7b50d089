"""Initialization (ODD 5): the stores, the staff (run alone for two years so that turnover shapes
them) and the customers (started near where the weekly rules would have brought them).

The equilibrium the customers start at is computed from the same named coefficients of
`sim.model.rules` as the weekly step (`settled_attachment`), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.customers import draw_wallets
from sim.model.development import DRIVERS, develop, driver_levels, refresh_engagement
from sim.model.parameters import Parameters
from sim.model.population import Population, weighted_pick_per_store
from sim.model.service import SERVICE_POLICY_SPECS, front_line_hours
from sim.model.staffing import hire, initial_roles

F32 = np.float32
SPIN_UP_WEEKS = 104

EMPLOYEE_COLUMNS = {
    "store": np.intp, "frontline": bool, "autonomy": F32, "mastery": F32, "purpose": F32,
    "affiliation": F32, "trait": F32, "skill": F32, "strain": F32, "coaching_gain": F32,
    "hr_gain": F32, "recognition_gain": F32, "mission_gain": F32, "candour_gain": F32,
    "engagement": F32, "tenure": np.int32, "hired_week": np.int32, "left_week": np.int32,
    "left_reason": np.int8,
}
CUSTOMER_COLUMNS = {
    "store": np.intp, "rational": F32, "confidence": F32, "integrity": F32, "pride": F32,
    "passion": F32, "expectation": F32, "wallet": F32, "acquired_week": np.int32,
    "churn_week": np.int32, "visits_total": np.int32, "spend_total": F32,
}

# Set-up choices (assumed; they shape only the starting state, which the spin-up and the
# stationary draws then settle). Supervisors' quality is kept off the ends of the scale.
SUPERVISOR_QUALITY_RANGE = (0.02, 0.98)
MAX_INITIAL_TENURE = 520  # weeks: nobody starts with more than ten years
INITIAL_DRIVER_SD = 0.05  # drivers' spread around their expected level at set-up
INITIAL_ATTACHMENT_SD = 0.04  # customers' spread around their expected attachment
INITIAL_ATTACHMENT_RANGE = (0.01, 0.99)  # nobody starts at the very ends of a dimension
INITIAL_RATIONAL_SD = 0.1  # customers' rational satisfaction around their store's quality
# A floor of one departure per ten years keeps customers' ages finite when churn is switched off.
MIN_CUSTOMER_HAZARD = 1.0 / 520
CANDIDATES_PER_AGENT = 2  # stationary mixes are drawn from twice as many candidates
# Rows allocated beyond the starting populations (they grow as needed).
STAFF_HEADROOM, CUSTOMER_HEADROOM = 1.5, 1.3


@dataclass(frozen=True)
class Chain:
    """The stores' fixed facts, drawn once at set-up (one row per store)."""

    size: np.ndarray  # relative to the chain's average
    initial_customers: np.ndarray
    planned_staff: np.ndarray
    local_expectation: np.ndarray
    supervisor_quality: np.ndarray

    @property
    def n_stores(self) -> int:
        return len(self.size)


def draw_chain(params: Parameters, g: np.random.Generator) -> Chain:
    """Store sizes, planned staff and customers, local expectations and supervisors."""
    p, n = params, params.n_stores
    size = np.exp(g.normal(-0.5 * p.store_size_spread**2, p.store_size_spread, n))
    initial_customers = np.maximum(1, np.round(p.customers_per_store * size)).astype(np.int64)
    staffing_noise = np.exp(g.normal(0.0, p.staffing_spread, n))
    planned_staff = np.maximum(
        2, np.round(p.employees_per_store * size * staffing_noise)).astype(np.int64)
    local_expectation = g.normal(p.expectation, p.local_market_spread, n)
    quality = np.clip(g.normal(p.supervisor_quality_mean, p.supervisor_quality_sd, n),
                      *SUPERVISOR_QUALITY_RANGE)
    return Chain(size, initial_customers, planned_staff, local_expectation, quality)


@dataclass(frozen=True)
class StoreProfile:
    """A chain's own stores (a chain file's `stores`), set up instead of the generic draws.

    Headcount and customers keep their ratios between stores; `customers_per_store` sets the
    scale (a chain file sets it to the data's mean, so the stores keep their own sizes).
    Supervisor quality (0-1) and local market (what the store's customers expect, 0-1) are
    taken as they are: `supervisor_quality_mean`/`_sd`, `expectation`, `local_market_spread`,
    `store_size_spread` and `staffing_spread` are then not drawn from.
    """

    ids: tuple[str, ...]
    headcount: tuple[float, ...]
    customers: tuple[float, ...]
    supervisor_quality: tuple[float, ...]
    local_market: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.ids)
        columns = ("headcount", "customers", "supervisor_quality", "local_market")
        if n < 1 or any(len(getattr(self, c)) != n for c in columns):
            raise ValueError("a store profile needs one value of each of ids, " +
                             ", ".join(columns) + " per store (at least one store)")
        for c, low, high in (("headcount", 1, None), ("customers", 1, None),
                             ("supervisor_quality", 0, 1), ("local_market", 0, 1)):
            values = np.asarray(getattr(self, c), float)
            if not np.all(np.isfinite(values)) or (values < low).any() or (
                    high is not None and (values > high).any()):
                top = f" and <= {high}" if high is not None else ""
                raise ValueError(f"store profile: {c} must be >= {low}{top} for every store")

    @property
    def n_stores(self) -> int:
        return len(self.ids)


def profile_chain(params: Parameters, profile: StoreProfile) -> Chain:
    """The Chain of a store profile, scaled to `customers_per_store` on average."""
    customers = np.asarray(profile.customers, float)
    scale = params.customers_per_store / customers.mean()
    initial_customers = np.maximum(1, np.round(customers * scale)).astype(np.int64)
    planned_staff = np.maximum(
        2, np.round(np.asarray(profile.headcount, float) * scale)).astype(np.int64)
    quality = np.clip(np.asarray(profile.supervisor_quality, float), *SUPERVISOR_QUALITY_RANGE)
    return Chain(customers / customers.mean(), initial_customers, planned_staff,
                 np.asarray(profile.local_market, float), quality)


def planned_pressure(emp: Population, params: Parameters, chain: Chain,
                     standard_minutes: np.ndarray) -> np.ndarray:
    """Each store's work pressure under its planned demand (initial customers at the
    middling visit rate, with the repeat contacts unresolved problems bring)."""
    p = params
    available = front_line_hours(emp, p, chain.n_stores)
    policy = SERVICE_POLICY_SPECS[p.service_policy]
    repeat_share = p.problem_rate * (1.0 - policy["first_contact_resolution"])
    contacts = chain.initial_customers * p.visits_per_week * (1.0 + repeat_share)
    return rules.work_pressure(contacts, standard_minutes, available)


def planned_repeat_contacts(params: Parameters, chain: Chain) -> np.ndarray:
    """Repeat contacts of the week before week 0 under planned demand."""
    p = params
    policy = SERVICE_POLICY_SPECS[p.service_policy]
    return (chain.initial_customers * p.visits_per_week * p.problem_rate
            * (1.0 - policy["first_contact_resolution"]))


def set_up_staff(params: Parameters, chain: Chain, standard_minutes: np.ndarray,
                 g_setup: np.random.Generator, g_staff: np.random.Generator,
                 spin_up_weeks: int = SPIN_UP_WEEKS) -> Population:
    """The staff of week 0 (ids from 0): drawn, then run alone for `spin_up_weeks`."""
    emp = _draw_staff(params, chain, g_setup)
    return _spin_up(emp, params, chain, standard_minutes, spin_up_weeks, g_staff)


def _draw_staff(params: Parameters, chain: Chain, g: np.random.Generator) -> Population:
    p, n = params, chain.n_stores
    total = int(chain.planned_staff.sum())
    store = np.repeat(np.arange(n), chain.planned_staff)
    emp = Population(EMPLOYEE_COLUMNS, capacity=int(total * STAFF_HEADROOM))
    mean_tenure = 1.0 / max(rules.weekly_hazard(p.annual_quit_rate), 1e-6)
    tenure = np.minimum(g.exponential(mean_tenure, total), MAX_INITIAL_TENURE).astype(np.int32)
    skill = 1.0 - (1.0 - p.new_hire_skill) * np.exp(-p.skill_learning * tenure)
    # Dispositions in the mix turnover leaves behind: from twice as many candidates, those
    # who would quit less are kept more often (weights 1 / quit hazard at their level).
    pool = g.normal(0.0, p.trait_sd, CANDIDATES_PER_AGENT * total)
    pool_store = np.repeat(np.arange(n), CANDIDATES_PER_AGENT * chain.planned_staff)
    settled_level = (p.driver_baseline + pool + p.supervisor_climate_effect
                     * (chain.supervisor_quality[pool_store] - rules.AVERAGE_SUPERVISOR))
    hazard = rules.quit_probability(  # of an unstrained employee past the newcomer weeks
        settled_level, 0.0, 52, max(rules.weekly_hazard(p.annual_quit_rate), 1e-4),
        p.quit_engagement_sensitivity, p.quit_strain_sensitivity)
    trait = pool[weighted_pick_per_store(pool_store, 1.0 / hazard, chain.planned_staff, g)]
    rows = emp.add(total, store=store, tenure=tenure, hired_week=-tenure, left_week=-1,
                   skill=skill, trait=trait)
    emp.column("frontline")[rows] = initial_roles(store, p.frontline_share, n, g)
    # Drivers start part-way from a new hire's honeymoon to the level the store sets.
    level = driver_levels(emp, p, chain.supervisor_quality)
    settled = np.exp(-p.driver_adjustment * tenure)
    for name in DRIVERS:
        now = level[name] + (p.new_hire_engagement - level[name]) * settled
        emp.column(name)[:] = np.clip(now + g.normal(0, INITIAL_DRIVER_SD, total), 0, 1)
    refresh_engagement(emp, p)
    return emp


def _spin_up(emp: Population, params: Parameters, chain: Chain, standard_minutes: np.ndarray,
             weeks: int, g: np.random.Generator) -> Population:
    """Run the staff alone at the planned workload before week 0, so that the chain starts
    with the tenure, engagement and skill mix its own turnover produces; the staff still there
    become week 0's employees (ids from 0)."""
    staff_plan = chain.planned_staff.astype(float)
    for week in range(-weeks, 0):
        pressure = planned_pressure(emp, params, chain, standard_minutes)
        hire(emp, params, staff_plan, week, g)
        develop(emp, params, chain.supervisor_quality, pressure, crisis_stress=0.0,
                crisis_severity=0.0, week=week, g=g)
    keep = np.flatnonzero(emp.active)
    fresh = Population(EMPLOYEE_COLUMNS, capacity=int(len(keep) * STAFF_HEADROOM))
    fresh.add(len(keep), **{k: emp.column(k)[keep] for k in EMPLOYEE_COLUMNS})
    return fresh


def expected_quality(emp: Population, params: Parameters, chain: Chain,
                     standard_minutes: np.ndarray) -> tuple[np.ndarray, float]:
    """Each store's mean encounter quality at set-up under its planned pressure (the same
    rules as the weekly step), and the spread of quality customers face."""
    p, n = params, chain.n_stores
    front = emp.active & emp.frontline
    store = emp.store[front]
    pressure = planned_pressure(emp, p, chain, standard_minutes)
    least = p.min_service_share * SERVICE_POLICY_SPECS[p.service_policy]["minutes"]
    adequacy = np.minimum(rules.delivered_minutes(
        standard_minutes, pressure, p.max_overtime, least) / standard_minutes, 1.0)
    emotion = rules.displayed_emotion(emp.engagement[front], emp.strain[front],
                                      rules.busyness(pressure)[store], p.busyness_emotion_effect)
    cap = rules.service_capability(emp.skill[front], emotion, adequacy[store])
    totals = np.bincount(store, cap, n)
    counts = np.bincount(store, minlength=n)
    mean = np.where(counts > 0, totals / np.maximum(counts, 1), rules.NO_STAFF_QUALITY)
    # A customer meets the staff of their own store: the spread that matters is within
    # stores, not across the chain.
    within = cap - mean[store]
    spread = float(np.sqrt(np.mean(within * within))) if len(cap) else 0.0
    return mean, float(np.hypot(p.quality_noise, spread))


def settled_attachment(params: Parameters, mean_quality: np.ndarray, expectation: np.ndarray,
                       quality_sd: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each dimension's fixed point and its weekly rate of approach under the weekly rules of
    `sim.model.customers.appraise`, taking expected gains and losses at the store's mean
    quality and a middling visit rate (no crisis, no customer programme)."""
    p, w = params, rules.ATTACHMENT_WEIGHTS
    policy = SERVICE_POLICY_SPECS[p.service_policy]
    visits = p.visits_per_week
    good, bad = rules.expected_gaps(mean_quality, expectation, quality_sd)
    gain = p.attachment_gain * good * visits
    loss = p.attachment_gain * p.attachment_loss_ratio * bad * visits
    problem = rules.problem_probability(mean_quality, p.problem_rate)
    solved = problem * policy["first_contact_resolution"] * np.minimum(
        mean_quality + rules.RESOLUTION_QUALITY_LIFT, 1)
    unsolved = problem - solved
    rates = {
        "confidence": (w["confidence"] * gain, w["confidence"] * loss),
        "integrity": (w["integrity"] * gain + visits * p.recovery_effect * solved,
                      w["integrity"] * loss
                      + visits * rules.UNRESOLVED_LOSS_RATIO * p.recovery_effect * unsolved),
        "pride": (w["pride"] * gain + p.mission_pride_pull * p.mission_resonance,
                  w["pride"] * loss),
    }
    return {k: (rules.attachment_equilibrium(up, down), up + down)
            for k, (up, down) in rates.items()}


def set_up_customers(params: Parameters, chain: Chain, emp: Population,
                     standard_minutes: np.ndarray, g: np.random.Generator) -> Population:
    """Week 0's customers, each started part-way from a newcomer's attachment to the level the
    weekly rules settle them at, by their age, in the mix a stationary base would have."""
    p, n = params, chain.n_stores
    total = int(chain.initial_customers.sum())
    # Draw twice as many candidates as needed, then keep each store's customers in the
    # proportions a stationary base would have: types that churn less are more common.
    pool_store = np.repeat(np.arange(n), CANDIDATES_PER_AGENT * chain.initial_customers)
    pool_expectation = g.normal(chain.local_expectation[pool_store], p.expectation_sd)
    mean_quality, quality_sd = expected_quality(emp, p, chain, standard_minutes)
    settled = settled_attachment(p, mean_quality[pool_store], pool_expectation, quality_sd)
    settled_engagement = sum(level for level, _ in settled.values()) / 4
    hazard = np.maximum(rules.churn_probability(
        settled_engagement, rules.weekly_hazard(p.annual_churn_rate),
        p.churn_engagement_sensitivity, 0.0, 0.0), MIN_CUSTOMER_HAZARD)
    keep = weighted_pick_per_store(pool_store, 1.0 / hazard, chain.initial_customers, g)
    store, expectation, hazard = pool_store[keep], pool_expectation[keep], hazard[keep]
    cust = Population(CUSTOMER_COLUMNS, capacity=int(total * CUSTOMER_HEADROOM))
    rows = cust.add(total, store=store, expectation=expectation.astype(F32),
                    churn_week=-1, wallet=draw_wallets(g, total, p.wallet_spread))
    # Start each customer where the weekly rules would have brought them by now: part-way
    # from a newcomer's neutral attachment to their settled level, by their age.
    age = g.exponential(1.0 / hazard)
    cust.column("acquired_week")[rows] = -np.ceil(age).astype(np.int32)
    others = []
    for name, (level, rate) in settled.items():
        level, rate = level[keep], rate[keep]
        others.append((level, rate))
        now = level + (rules.NEWCOMER_ATTACHMENT[name] - level) * np.exp(-rate * age)
        cust.column(name)[rows] = np.clip(now + g.normal(0, INITIAL_ATTACHMENT_SD, total),
                                          *INITIAL_ATTACHMENT_RANGE)
    # Passion follows the other three, which are themselves still on their way.
    target = sum(level for level, _ in others) / 3
    lead = sum(rate for _, rate in others) / 3
    follow = p.passion_adjustment
    lag = np.where(np.abs(lead - follow) > 1e-6, follow / (lead - follow + 1e-12), 0.0)
    start_gap = sum(rules.NEWCOMER_ATTACHMENT[k] for k in settled) / 3 - target
    passion = (target + (rules.NEWCOMER_ATTACHMENT["passion"] - target) * np.exp(-follow * age)
               + start_gap * lag * (np.exp(-lead * age) - np.exp(-follow * age)))
    cust.column("passion")[rows] = np.clip(
        passion + g.normal(0, INITIAL_ATTACHMENT_SD, total), *INITIAL_ATTACHMENT_RANGE)
    cust.column("rational")[rows] = np.clip(
        mean_quality[store] + g.normal(0, INITIAL_RATIONAL_SD, total), 0, 1)
    return cust
