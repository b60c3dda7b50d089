"""LoyaltyModel: stores, supervisors, employees and customers on Mesa, one step a week.

The process order inside a week is the one of docs/ODD.md section 3:
events -> crisis climate -> staffing -> service encounters -> customer acquisition ->
employee development and quits -> accounts and reporters.
"""

from __future__ import annotations

import inspect
import math
from collections import defaultdict
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import rules
from sim.model.agents import Store, Supervisor
from sim.model.events import Crisis, Event, Layoff, PolicyChange, parse_event
from sim.model.parameters import (
    PARAMETER_NAMES,
    Parameters,
    parameter_fields,
    unknown_parameter_message,
)
from sim.model.population import Population

F32 = np.float32

# Service policies (seed 003): design time per contact and share of problems solved at once.
SERVICE_POLICY_SPECS = {
    "short_contacts": {"minutes": 30.0, "first_contact_resolution": 0.60},
    "first_contact_resolution": {"minutes": 34.0, "first_contact_resolution": 0.90},
}

COST_ITEMS = ("cost_of_goods", "wages", "hiring_training", "coaching", "hr_programmes",
              "cost_to_serve", "acquisition", "layoffs", "customer_programme", "recognition",
              "fixed_costs")

MODEL_REPORTERS = (
    "week", "active_customers", "acquired_customers", "churned_customers",
    "churn_rate_annual_pct", "revenue", *COST_ITEMS, "total_costs", "profit", "headcount",
    "hires", "quits", "laid_off", "turnover_rate_annual_pct", "employee_engagement",
    "employees_engaged_share", "employees_not_engaged_share",
    "employees_actively_disengaged_share", "customers_fully_engaged_share",
    "customers_engaged_share", "customers_not_engaged_share",
    "customers_actively_disengaged_share", "customer_engagement", "rational_satisfaction",
    "confidence", "integrity", "pride", "passion", "service_quality", "workload",
    "service_standard", "contacts", "repeat_contacts", "anxiety", "crisis_severity",
)

STORE_COLUMNS = (
    "supervisor_quality", "headcount", "customers", "employee_engagement",
    "customer_engagement", "revenue", "profit", "churned", "churn_rate_annual_pct", "quits",
    "turnover_rate_annual_pct", "workload", "service_quality", "rational_satisfaction",
    "fully_engaged_share", "actively_disengaged_share",
)

EMPLOYEE_COLUMNS = {
    "store": np.intp, "frontline": bool, "autonomy": F32, "mastery": F32, "purpose": F32,
    "affiliation": F32, "trait": F32, "skill": F32, "strain": F32, "hr_boost": F32,
    "engagement": F32, "tenure": np.int32, "hired_week": np.int32, "left_week": np.int32,
    "left_reason": np.int8,
}
CUSTOMER_COLUMNS = {
    "store": np.intp, "rational": F32, "confidence": F32, "integrity": F32, "pride": F32,
    "passion": F32, "expectation": F32, "wallet": F32, "acquired_week": np.int32,
    "churn_week": np.int32, "visits_total": np.int32, "spend_total": F32,
}
# A new customer's emotional dimensions before any encounter.
NEWCOMER_ATTACHMENT = {"confidence": 0.5, "integrity": 0.5, "pride": 0.5, "passion": 0.4}
DRIVERS = ("autonomy", "mastery", "purpose", "affiliation")
# How much of a coaching hour's gain goes to each driver (Markey: mastery and autonomy most).
COACHING_SHARE = {"autonomy": 1.0, "mastery": 1.0, "purpose": 0.5, "affiliation": 0.5}
LEFT_QUIT, LEFT_LAYOFF = 1, 2
SPIN_UP_WEEKS = 104


class LoyaltyModel(mesa.Model):
    """A chain of stores whose employees' engagement shapes customers' attachment and spend.

    Keyword arguments only; every parameter has a default (listed below with its unit and in
    docs/ODD.md). `rng` is an int seed; `events` is a list of timed policy changes, crises and
    layoffs (`sim.model.events`).
    """

    def __init__(self, *, rng: int | None = None, events: list | tuple = (), **parameters: Any):
        unknown = [k for k in parameters if k not in PARAMETER_NAMES]
        if unknown:
            raise ValueError(unknown_parameter_message(unknown[0]))
        if isinstance(rng, str):  # text boxes hand seeds over as strings
            if not rng.strip().isdigit():
                raise ValueError(f"rng = {rng!r} is not allowed: expected a whole number >= 0 "
                                 "(the seed)")
            rng = int(rng)
        super().__init__(rng=rng)
        self.params = Parameters(**parameters)
        # Independent streams, so that a policy change in one process leaves the others' draws
        # alone (common random numbers across arms).
        streams = np.random.SeedSequence(int(self.rng.integers(2**63))).spawn(4)
        self._rng_setup, self._rng_staff, self._rng_customers, self._rng_events = (
            np.random.default_rng(s) for s in streams)

        self._events: dict[int, list[Event]] = defaultdict(list)
        for spec in events:
            self.schedule(spec)
        self.crisis_severity = 0.0
        self._crisis_until = -1
        self._crisis_level = 0.0
        self.anxiety = 0.0
        self._layoff_stress = 0.0
        self._programme_started: int | None = None

        self._set_up_stores()
        self._set_up_employees()
        self._set_up_customers()
        self._customer_census()
        self._store_history: list[np.ndarray] = []
        self._init_reporters()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: name for name in MODEL_REPORTERS})
        self.running = True

    # ------------------------------------------------------------------ set-up
    def _set_up_stores(self) -> None:
        p, g = self.params, self._rng_setup
        n = p.n_stores
        self.n_stores = n
        self.store_size = np.exp(g.normal(-0.5 * p.store_size_spread**2, p.store_size_spread, n))
        self.initial_store_customers = np.maximum(
            1, np.round(p.customers_per_store * self.store_size)).astype(np.int64)
        staffing_noise = np.exp(g.normal(0.0, p.staffing_spread, n))
        self.planned_staff = np.maximum(
            2, np.round(p.employees_per_store * self.store_size * staffing_noise)).astype(np.int64)
        self.local_expectation = g.normal(p.expectation, p.local_market_spread, n)
        self.staff_plan = self.planned_staff.astype(float)
        self.supervisor_quality = np.clip(
            g.normal(p.supervisor_quality_mean, p.supervisor_quality_sd, n), 0.02, 0.98)
        policy = SERVICE_POLICY_SPECS[p.service_policy]
        self.standard_minutes = np.full(n, policy["minutes"])
        self._repeat_contacts = np.zeros(n)
        side = math.ceil(math.sqrt(n))
        self.store_positions = [(i % side, i // side) for i in range(n)]
        self.stores = [Store(self, i) for i in range(n)]
        self.supervisors = [Supervisor(self, s) for s in self.stores]
        self.store_state = {c: np.zeros(n) for c in STORE_COLUMNS}
        self.store_state["supervisor_quality"] = self.supervisor_quality.copy()

    def _set_up_employees(self) -> None:
        p, g = self.params, self._rng_setup
        total = int(self.planned_staff.sum())
        store = np.repeat(np.arange(self.n_stores), self.planned_staff)
        emp = Population(EMPLOYEE_COLUMNS, capacity=int(total * 1.5))
        mean_tenure = 1.0 / max(rules.weekly_hazard(p.annual_quit_rate), 1e-6)
        tenure = np.minimum(g.exponential(mean_tenure, total), 520).astype(np.int32)
        skill = 1.0 - (1.0 - p.new_hire_skill) * np.exp(-p.skill_learning * tenure)
        # Dispositions in the mix turnover leaves behind: from twice as many candidates, those
        # who would quit less are kept more often (weights 1 / quit hazard at their level).
        pool = g.normal(0.0, p.trait_sd, 2 * total)
        pool_store = np.repeat(np.arange(self.n_stores), 2 * self.planned_staff)
        settled_level = (p.driver_baseline + pool + p.supervisor_climate_effect
                         * (self.supervisor_quality[pool_store] - 0.5))
        hazard = rules.quit_probability(
            settled_level, 0.0, 52, max(rules.weekly_hazard(p.annual_quit_rate), 1e-4),
            p.quit_engagement_sensitivity, p.quit_strain_sensitivity)
        trait = pool[_weighted_pick_per_store(pool_store, 1.0 / hazard, self.planned_staff, g)]
        rows = emp.add(total, store=store, tenure=tenure, hired_week=-tenure, left_week=-1,
                       skill=skill, trait=trait)
        self.employees = emp
        frontline = self._initial_roles(store, g)
        emp.column("frontline")[rows] = frontline
        # Drivers start part-way from a new hire's honeymoon to the level the store sets.
        level = self._driver_levels()
        settled = np.exp(-p.driver_adjustment * tenure)
        for name in DRIVERS:
            now = level[name] + (p.new_hire_engagement - level[name]) * settled
            emp.column(name)[:] = np.clip(now + g.normal(0, 0.05, total), 0, 1)
        self._refresh_engagement()
        self._spin_up_employees()

    def _spin_up_employees(self, weeks: int = SPIN_UP_WEEKS) -> None:
        """Run the staff alone for a year at the planned workload before week 0, so that the
        chain starts with the tenure, engagement and skill mix its own turnover produces; the
        staff still there become week 0's employees (ids from 0)."""
        for week in range(-weeks, 0):
            self._week = {"pressure": self._planned_pressure()}
            self._reset_week()
            self._staff_stores(week)
            self._develop_employees(week)
        old = self.employees
        keep = np.flatnonzero(old.active)
        fresh = Population(EMPLOYEE_COLUMNS, capacity=int(len(keep) * 1.5))
        fresh.add(len(keep), **{k: old.column(k)[keep] for k in EMPLOYEE_COLUMNS})
        self.employees = fresh
        self.initial_headcount = len(keep)
        policy = SERVICE_POLICY_SPECS[self.params.service_policy]
        self._repeat_contacts = (self.initial_store_customers * self.params.visits_per_week
                                 * self.params.problem_rate
                                 * (1.0 - policy["first_contact_resolution"]))

    def _initial_roles(self, store: np.ndarray, g: np.random.Generator) -> np.ndarray:
        rank = _rank_within_store(store, g.random(len(store)), self.n_stores)
        heads = np.bincount(store, minlength=self.n_stores)
        n_front = np.round(self.params.frontline_share * heads)
        return rank < n_front[store]

    def _set_up_customers(self) -> None:
        p, g = self.params, self._rng_setup
        total = int(self.initial_store_customers.sum())
        # Draw twice as many candidates as needed, then keep each store's customers in the
        # proportions a stationary base would have: types that churn less are more common.
        pool_store = np.repeat(np.arange(self.n_stores), 2 * self.initial_store_customers)
        pool_expectation = g.normal(self.local_expectation[pool_store], p.expectation_sd)
        mean_quality, quality_sd = self._expected_quality()
        settled = self._settled_attachment(mean_quality[pool_store], pool_expectation,
                                           quality_sd)
        settled_engagement = sum(level for level, _ in settled.values()) / 4
        # A floor of one departure per ten years keeps ages finite when churn is switched off.
        hazard = np.maximum(rules.churn_probability(
            settled_engagement, rules.weekly_hazard(p.annual_churn_rate),
            p.churn_engagement_sensitivity, 0.0, 0.0), 1.0 / 520)
        keep = _weighted_pick_per_store(pool_store, 1.0 / hazard, self.initial_store_customers,
                                        g)
        store, expectation, hazard = pool_store[keep], pool_expectation[keep], hazard[keep]
        cust = Population(CUSTOMER_COLUMNS, capacity=int(total * 1.3))
        rows = cust.add(total, store=store, expectation=expectation.astype(F32),
                        churn_week=-1, wallet=self._draw_wallets(g, total))
        self.customers = cust
        # Start each customer where the weekly rules would have brought them by now: part-way
        # from a newcomer's neutral attachment to their settled level, by their age.
        age = g.exponential(1.0 / hazard)
        cust.column("acquired_week")[rows] = -np.ceil(age).astype(np.int32)
        others = []
        for name, (level, rate) in settled.items():
            level, rate = level[keep], rate[keep]
            others.append((level, rate))
            now = level + (NEWCOMER_ATTACHMENT[name] - level) * np.exp(-rate * age)
            cust.column(name)[rows] = np.clip(now + g.normal(0, 0.04, total), 0.01, 0.99)
        # Passion follows the other three, which are themselves still on their way.
        target = sum(level for level, _ in others) / 3
        lead = sum(rate for _, rate in others) / 3
        follow = p.passion_adjustment
        lag = np.where(np.abs(lead - follow) > 1e-6, follow / (lead - follow + 1e-12), 0.0)
        start_gap = sum(NEWCOMER_ATTACHMENT[k] for k in settled) / 3 - target
        passion = (target + (NEWCOMER_ATTACHMENT["passion"] - target) * np.exp(-follow * age)
                   + start_gap * lag * (np.exp(-lead * age) - np.exp(-follow * age)))
        cust.column("passion")[rows] = np.clip(passion + g.normal(0, 0.04, total), 0.01, 0.99)
        cust.column("rational")[rows] = np.clip(mean_quality[store] + g.normal(0, 0.1, total),
                                                0, 1)
        self.initial_customers = total

    def _settled_attachment(self, mean_quality, expectation, quality_sd) -> dict:
        """Each dimension's fixed point under the weekly rules of `_serve_customers`, taking
        expected gains and losses at the store's mean quality and a middling visit rate."""
        p = self.params
        policy = SERVICE_POLICY_SPECS[p.service_policy]
        visits = p.visits_per_week
        good, bad = rules.expected_gaps(mean_quality, expectation, quality_sd)
        gain, loss = p.attachment_gain * good * visits, p.attachment_gain * \
            p.attachment_loss_ratio * bad * visits
        problem = rules.problem_probability(mean_quality, p.problem_rate)
        solved = problem * policy["first_contact_resolution"] * np.minimum(mean_quality + 0.4, 1)
        unsolved = problem - solved
        rates = {
            "confidence": (gain, loss),
            "integrity": (0.8 * gain + visits * p.recovery_effect * solved,
                          0.8 * loss + visits * 2 * p.recovery_effect * unsolved),
            "pride": (0.5 * gain + 0.004 * p.mission_resonance, 0.5 * loss),
        }
        settled = {k: (rules.attachment_equilibrium(up, down), up + down)
                   for k, (up, down) in rates.items()}
        return settled

    def _draw_wallets(self, g: np.random.Generator, n: int) -> np.ndarray:
        s = self.params.wallet_spread
        return np.exp(g.normal(-0.5 * s * s, s, n)).astype(F32)

    def _planned_pressure(self) -> np.ndarray:
        """Each store's work pressure under its planned demand (initial customers at the
        middling visit rate, with the repeat contacts unresolved problems bring)."""
        p, emp = self.params, self.employees
        front = emp.active & emp.frontline
        hours = rules.effective_hours(p.hours_per_employee, emp.skill[front], emp.strain[front])
        available = np.bincount(emp.store[front], hours, self.n_stores)
        policy = SERVICE_POLICY_SPECS[p.service_policy]
        repeat_share = p.problem_rate * (1.0 - policy["first_contact_resolution"])
        contacts = self.initial_store_customers * p.visits_per_week * (1.0 + repeat_share)
        return rules.work_pressure(contacts, self.standard_minutes, available)

    def _expected_quality(self) -> tuple[np.ndarray, float]:
        """Each store's mean encounter quality at set-up under its planned pressure (the same
        rules as the weekly step), and the spread of quality customers face."""
        p, emp = self.params, self.employees
        front = emp.active & emp.frontline
        store = emp.store[front]
        pressure = self._planned_pressure()
        adequacy = np.minimum(rules.delivered_minutes(
            self.standard_minutes, pressure, p.max_overtime) / self.standard_minutes, 1.0)
        emotion = rules.displayed_emotion(emp.engagement[front], emp.strain[front],
                                          rules.busyness(pressure)[store],
                                          p.busyness_emotion_effect)
        cap = rules.service_capability(emp.skill[front], emotion, adequacy[store])
        totals = np.bincount(store, cap, self.n_stores)
        counts = np.bincount(store, minlength=self.n_stores)
        mean = np.where(counts > 0, totals / np.maximum(counts, 1), rules.NO_STAFF_QUALITY)
        # A customer meets the staff of their own store: the spread that matters is within
        # stores, not across the chain.
        within = cap - mean[store]
        spread = float(np.sqrt(np.mean(within * within))) if len(cap) else 0.0
        return mean, float(np.hypot(p.quality_noise, spread))

    # ------------------------------------------------------------------ events
    @property
    def week(self) -> int:
        """Index of the last simulated week (0 = the first); -1 before any step."""
        return self.steps - 1

    def schedule(self, event: Event | dict) -> Event:
        """Add a timed event; its week must not be in the past."""
        event = parse_event(event)
        next_week = self.steps
        if event.week < next_week:
            raise ValueError(
                f"event week = {event.week} is in the past: the model is at week {next_week} "
                f"(expected a week >= {next_week})")
        self._events[event.week].append(event)
        return event

    def _apply_events(self, week: int) -> None:
        for event in self._events.pop(week, []):
            if isinstance(event, PolicyChange):
                old = self.params
                self.params = old.replace(**event.changes)
                if self.params.service_policy != old.service_policy:
                    # A new policy resets the service design time; erosion then starts afresh.
                    self.standard_minutes[:] = SERVICE_POLICY_SPECS[
                        self.params.service_policy]["minutes"]
                if (self.params.customer_programme_budget > 0
                        and old.customer_programme_budget == 0):
                    self._programme_started = week
            elif isinstance(event, Crisis):
                self._crisis_until = week + event.duration
                self._crisis_level = event.severity
            elif isinstance(event, Layoff):
                self._lay_off(week, event.share)

    def _update_crisis(self, week: int) -> None:
        p = self.params
        self.crisis_severity = self._crisis_level if week < self._crisis_until else 0.0
        if self.crisis_severity > 0:
            self.anxiety = max(self.anxiety, self.crisis_severity)
        else:
            self.anxiety *= 1.0 - min(1.0, p.anxiety_recovery * (1.0 + 3.0 * p.transparency))
        self._layoff_stress *= 0.9

    def _lay_off(self, week: int, share: float) -> None:
        p, emp = self.params, self.employees
        active = np.flatnonzero(emp.active)
        k = int(round(share * len(active)))
        if k == 0:
            return
        gone = self._rng_events.choice(active, size=k, replace=False)
        emp.column("active")[gone] = False
        emp.column("left_week")[gone] = week
        emp.column("left_reason")[gone] = LEFT_LAYOFF
        self._week_laid_off += np.bincount(emp.store[gone], minlength=self.n_stores)
        self.params = p.replace(staffing_level=p.staffing_level * (1.0 - share))
        # Survivors: lower belonging and purpose, more stress; less so when the company is open.
        softened = 1.0 - 0.5 * p.transparency
        affiliation = emp.column("affiliation")
        purpose = emp.column("purpose")
        affiliation -= np.float32(0.10 * softened) * affiliation
        purpose -= np.float32(0.05 * softened) * purpose
        self._layoff_stress += 0.15 * softened
        # Customers watch how staff are treated, more so in a crisis.
        damage = p.layoff_brand_damage * (2.0 if self.crisis_severity > 0 else 1.0) * softened
        cust = self.customers
        for name in ("integrity", "pride"):
            col = cust.column(name)
            col -= np.float32(damage) * col

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        week = self.week
        self._reset_week()
        self._apply_events(week)
        self._update_crisis(week)
        self.customers.compact()
        self.employees.compact(0.25)
        self._staff_stores(week)
        self._serve_customers(week)
        self._acquire_customers(week)
        self._customer_census()
        self._develop_employees(week)
        self._account(week)
        self.datacollector.collect(self)

    def _reset_week(self) -> None:
        n = self.n_stores
        self._week_laid_off = np.zeros(n)
        self._week_hires = np.zeros(n)
        self._week_quits = np.zeros(n)
        self._week_hr = np.zeros(n)

    def _staff_stores(self, week: int) -> None:
        """Fill vacancies and, at review weeks, apply the staffing rule to the front line."""
        p, emp, g = self.params, self.employees, self._rng_staff
        active = emp.active
        heads = np.bincount(emp.store[active], minlength=self.n_stores)
        if week >= 0 and week % p.staffing_review_weeks == 0:
            self._replan_staffing()
        target = np.round(self.staff_plan * p.staffing_level).astype(np.int64)
        hires = g.binomial(np.maximum(target - heads, 0), p.vacancy_fill_rate)
        fronts = np.bincount(emp.store[active & emp.frontline], minlength=self.n_stores)
        if hires.sum() > 0:
            n = int(hires.sum())
            store = np.repeat(np.arange(self.n_stores), hires)
            order_in_store = np.arange(n) - np.repeat(np.cumsum(hires) - hires, hires)
            front_gap = np.maximum(np.round(p.frontline_share * (heads + hires)) - fronts, 0)
            level = p.new_hire_engagement
            emp.add(n, store=store, frontline=order_in_store < front_gap[store],
                    tenure=0, hired_week=week, left_week=-1, skill=p.new_hire_skill,
                    trait=g.normal(0.0, p.trait_sd, n).astype(F32),
                    **{d: np.clip(level + g.normal(0, 0.05, n), 0, 1) for d in DRIVERS})
            self._refresh_engagement()
        self._week_hires = hires.astype(float)
        if p.staffing_rule != "random" and week % p.staffing_review_weeks == 0:
            active_idx = np.flatnonzero(emp.active)
            key = emp.engagement[active_idx]
            if p.staffing_rule == "most_engaged":
                key = -key
            store = emp.store[active_idx]
            rank = _rank_within_store(store, key, self.n_stores)
            heads = np.bincount(store, minlength=self.n_stores)
            emp.column("frontline")[active_idx] = rank < np.round(p.frontline_share * heads)[store]

    def _replan_staffing(self) -> None:
        """At a review, each store's plan moves toward staff in proportion to its customers."""
        p = self.params
        customers = np.bincount(self.customers.store[self.customers.active],
                                minlength=self.n_stores)
        follow = self.planned_staff * customers / self.initial_store_customers
        self.staff_plan = np.maximum(
            2.0, (1 - p.staffing_follows_demand) * self.planned_staff
            + p.staffing_follows_demand * follow)

    def _serve_customers(self, week: int) -> None:
        """Visits, work pressure, encounters, attachment, spend and churn for one week."""
        p, emp, cust, g = self.params, self.employees, self.customers, self._rng_customers
        n_s = self.n_stores
        policy = SERVICE_POLICY_SPECS[p.service_policy]

        # Front-line capacity.
        front_idx = np.flatnonzero(emp.active & emp.frontline)
        front_store = emp.store[front_idx]
        front_skill = emp.skill[front_idx]
        front_strain = emp.strain[front_idx]
        hours = rules.effective_hours(p.hours_per_employee, front_skill, front_strain)
        available = np.bincount(front_store, hours, n_s)

        # Demand: visits follow emotional engagement.
        store = cust.store
        active = cust.active
        engagement = rules.customer_engagement(cust.confidence, cust.integrity, cust.pride,
                                               cust.passion)
        demand = 1.0 - p.crisis_demand_drop * self.crisis_severity
        visit = g.random(cust.size, dtype=F32) < rules.visit_probability(
            engagement, F32(p.visits_per_week), F32(p.visit_engagement_slope), F32(demand))
        visit &= active
        visits = np.bincount(store, visit, n_s)
        contacts = visits + self._repeat_contacts
        pressure = rules.work_pressure(contacts, self.standard_minutes, available)
        delivered = rules.delivered_minutes(self.standard_minutes, pressure, p.max_overtime)
        adequacy = np.minimum(delivered / policy["minutes"], 1.0)
        self.standard_minutes = rules.drift_standard(
            self.standard_minutes, delivered, policy["minutes"], pressure,
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
        pick = start[store] + (g.random(cust.size, dtype=F32) * staff[store]).astype(np.intp)
        np.minimum(pick, (start + staff - 1)[store], out=pick)
        quality = capability[pick]
        quality += F32(p.quality_noise) * g.standard_normal(cust.size, dtype=F32)
        np.clip(quality, 0.0, 1.0, out=quality)

        # Problems and their resolution (one uniform draw decides both).
        draw = g.random(cust.size, dtype=F32)
        p_problem = rules.problem_probability(quality, F32(p.problem_rate))
        problem = visit & (draw < p_problem)
        resolve_share = F32(policy["first_contact_resolution"]) * np.minimum(quality + 0.4, 1.0)
        resolved = problem & (draw < p_problem * resolve_share)
        unresolved = problem & ~resolved
        self._repeat_contacts = np.bincount(store, unresolved, n_s)

        # Appraisal against expectation: rational satisfaction fast, emotion slow, asymmetric.
        promise = self._programme_promise()
        gap = quality - cust.expectation - F32(promise)
        good = np.maximum(gap, 0) * visit
        bad = np.maximum(-gap, 0) * visit
        gain, loss = p.attachment_gain, p.attachment_gain * p.attachment_loss_ratio
        cust.column("confidence")[:] = rules.attachment_step(
            cust.confidence, good, bad, F32(gain), F32(loss))
        integrity = rules.attachment_step(cust.integrity, good, bad, F32(0.8 * gain),
                                          F32(0.8 * loss))
        integrity += F32(p.recovery_effect) * resolved * (1 - integrity)
        integrity -= F32(2 * p.recovery_effect) * unresolved * integrity
        if self.crisis_severity > 0 and p.transparency > 0:
            integrity += F32(0.01 * p.transparency * self.crisis_severity) * (1 - integrity)
        pride = rules.attachment_step(cust.pride, good, bad, F32(0.5 * gain), F32(0.5 * loss))
        pride += F32(0.004 * p.mission_resonance) * (1 - pride)
        pull = self._programme_pull(week)
        passion = cust.passion
        passion += F32(p.passion_adjustment) * ((cust.confidence + integrity + pride) / 3 - passion)
        if pull > 0:
            pride += F32(pull) * (1 - pride)
            passion += F32(pull) * (1 - passion)
        cust.column("integrity")[:] = np.clip(integrity, 0, 1)
        cust.column("pride")[:] = np.clip(pride, 0, 1)
        np.clip(passion, 0, 1, out=passion)
        rational = cust.rational
        rational += F32(p.satisfaction_adjustment) * (quality - rational) * visit

        # Spend and churn follow emotional engagement.
        anxiety = self.anxiety * (1.0 - 0.5 * p.transparency)
        spend = rules.spend_per_visit(engagement, cust.wallet, F32(p.basket),
                                      F32(p.spend_engagement_slope), F32(anxiety)) * visit
        churn = active & (g.random(cust.size, dtype=F32) < rules.churn_probability(
            engagement, F32(rules.weekly_hazard(p.annual_churn_rate)),
            F32(p.churn_engagement_sensitivity), F32(anxiety), F32(p.crisis_churn_effect)))
        cust.column("visits_total")[:] += visit
        cust.column("spend_total")[:] += spend
        cust.column("active")[churn] = False
        cust.column("churn_week")[churn] = week

        self._week = {
            "visits": visits, "contacts": contacts, "pressure": pressure,
            "repeat": self._repeat_contacts, "front_count": np.bincount(front_store,
                                                                        minlength=n_s),
            "revenue": np.bincount(store, spend, n_s),
            "churned": np.bincount(store, churn, n_s),
            # Last week's census was taken after its acquisitions: this week's starting base.
            "customers_start": self._census["customers"],
            "quality_sum": np.bincount(store, quality * visit, n_s),
        }

    def _customer_census(self) -> None:
        """End-of-week segments and attachment per store (active customers only)."""
        cust, n_s = self.customers, self.n_stores
        active = cust.active
        engagement = rules.customer_engagement(cust.confidence, cust.integrity, cust.pride,
                                               cust.passion)
        segment = rules.customer_segments(engagement)
        code = np.where(active, cust.store * 4 + segment, 4 * n_s)
        by_segment = np.bincount(code, minlength=4 * n_s + 1)[: 4 * n_s].reshape(n_s, 4)
        weights = active.astype(F32)
        self._census = {
            "segments": by_segment,
            "customers": by_segment.sum(axis=1),
            "engagement_sum": np.bincount(cust.store, engagement * weights, n_s),
            "rational_sum": np.bincount(cust.store, cust.rational * weights, n_s),
            "dimensions": {d: float(np.dot(getattr(cust, d), weights))
                           for d in ("confidence", "integrity", "pride", "passion")},
        }

    def _programme_promise(self) -> float:
        p = self.params
        return p.customer_programme_promise * p.customer_programme_budget / 20.0

    def _programme_pull(self, week: int) -> float:
        """Weekly pull of the customer programme on pride and passion; it wears off."""
        p = self.params
        if p.customer_programme_budget <= 0 or self._programme_started is None:
            return 0.0
        age = week - self._programme_started
        fresh = math.exp(-age / p.customer_programme_habituation_weeks)
        return min(p.customer_programme_effect * p.customer_programme_budget / 20.0 * fresh, 0.5)

    def _acquire_customers(self, week: int) -> None:
        """Marketing wins customers (fewer where detractors abound); fans refer friends. Both
        act on last week's census of segments."""
        p, g = self.params, self._rng_customers
        seg = self._census["segments"]
        customers = np.maximum(self._census["customers"], 1)
        demand = 1.0 - p.crisis_demand_drop * self.crisis_severity
        detractors = seg[:, 3] / customers
        untapped = np.maximum(1.0 - customers / (p.market_size * self.initial_store_customers),
                              0.0)
        paid = g.poisson(p.acquisition_rate / rules.WEEKS_PER_YEAR
                         * self.initial_store_customers * demand * untapped
                         * np.maximum(1.0 - p.deterrence * detractors, 0.0))
        referred = g.poisson(p.referral_rate / rules.WEEKS_PER_YEAR * seg[:, 0] * demand
                             * untapped)
        new = paid + referred
        n = int(new.sum())
        self._week["acquired"] = new
        self._week["paid_acquired"] = paid
        if n == 0:
            return
        store = np.repeat(np.arange(self.n_stores), new)
        start = g.normal(0, 0.05, n)
        self.customers.add(
            n, store=store, rational=np.float32(0.6),
            **{k: np.clip(v + start, 0, 1) for k, v in NEWCOMER_ATTACHMENT.items()},
            expectation=g.normal(self.local_expectation[store], p.expectation_sd).astype(F32),
            wallet=self._draw_wallets(g, n), acquired_week=week, churn_week=-1)

    def _develop_employees(self, week: int) -> None:
        """Strain, coaching, HR programmes, drivers, skill, tenure and quits."""
        p, emp, g = self.params, self.employees, self._rng_staff
        n_s = self.n_stores
        idx = np.flatnonzero(emp.active)
        store = emp.store[idx]
        front = emp.frontline[idx]
        engagement = emp.engagement[idx]
        quality = self.supervisor_quality[store]

        crisis_stress = (p.crisis_stress_effect * self.crisis_severity * (1 - 0.5 * p.transparency)
                         + self._layoff_stress)
        pressure = np.where(front, self._week["pressure"][store], 0.0)
        strain = emp.strain[idx]
        strain += F32(p.strain_adjustment) * (
            rules.strain_level(pressure, p.strain_build, crisis_stress) - strain)

        hours = self._coaching_hours(store, engagement, g)
        gain = rules.coaching_gain(hours, quality, engagement, p.coaching_effect)
        level = self._driver_levels(idx)
        noise = g.standard_normal((4, len(idx)))
        for k, name in enumerate(DRIVERS):
            x = getattr(emp, name)[idx]
            x += (p.driver_adjustment * (level[name] - x) + COACHING_SHARE[name] * gain
                  + p.driver_noise * noise[k])
            emp.column(name)[idx] = np.clip(x, 0, 1)

        skill = emp.skill[idx]
        skill += rules.skill_gain(skill, engagement, p.skill_learning) + 0.5 * gain * (1 - skill)
        emp.column("skill")[idx] = np.clip(skill, 0, 1)
        emp.column("strain")[idx] = np.clip(strain, 0, 1)

        boost = emp.hr_boost[idx] * F32(1.0 - p.hr_decay)
        if p.hr_budget > 0 and week % p.hr_cadence_weeks == 0:
            spend = p.hr_budget * p.hr_cadence_weeks / rules.WEEKS_PER_YEAR
            takes_part = g.random(len(idx)) < rules.hr_participation(engagement, p.hr_reach)
            boost += takes_part * F32(rules.hr_programme_boost(spend, p.hr_effect,
                                                               p.hr_spend_scale))
            self._week_hr = spend * np.bincount(store, minlength=n_s)
        emp.column("hr_boost")[idx] = boost
        emp.column("tenure")[idx] += 1
        self._refresh_engagement()

        engagement = emp.engagement[idx]
        quits = g.random(len(idx)) < rules.quit_probability(
            engagement, emp.strain[idx], emp.tenure[idx],
            rules.weekly_hazard(p.annual_quit_rate), p.quit_engagement_sensitivity,
            p.quit_strain_sensitivity)
        gone = idx[quits]
        emp.column("active")[gone] = False
        emp.column("left_week")[gone] = week
        emp.column("left_reason")[gone] = LEFT_QUIT
        self._week_quits = np.bincount(store[quits], minlength=n_s).astype(float)

    def _coaching_hours(self, store, engagement, g) -> np.ndarray:
        """Each supervisor's hours go one per employee, in the order of the targeting rule;
        hours beyond one per employee are shared equally."""
        p = self.params
        budget = p.coaching_hours
        if budget <= 0 or len(store) == 0:
            return np.zeros(len(store))
        key = {"least_engaged": engagement, "most_engaged": -engagement,
               "random": g.random(len(store))}[p.coaching_targeting]
        rank = _rank_within_store(store, key, self.n_stores)
        heads = np.bincount(store, minlength=self.n_stores)[store]
        return np.clip(budget - rank, 0.0, 1.0) + np.maximum(budget - heads, 0.0) / heads

    def _driver_levels(self, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
        p, emp = self.params, self.employees
        if idx is None:
            idx = np.flatnonzero(emp.active)
        store, front = emp.store[idx], emp.frontline[idx]
        base = rules.driver_level(
            p.driver_baseline, emp.trait[idx], self.supervisor_quality[store],
            p.supervisor_climate_effect, emp.tenure[idx], p.tenure_drift, front,
            p.frontline_penalty, p.frontline_recognition)
        heard = 0.05 * p.transparency * self.crisis_severity
        return {
            "autonomy": base,
            "mastery": base,
            "purpose": base + 0.2 * (p.mission_resonance - 0.3),
            "affiliation": base + 0.08 * p.frontline_recognition * front + heard,
        }

    def _refresh_engagement(self) -> None:
        emp, p = self.employees, self.params
        drivers = (emp.autonomy + emp.mastery + emp.purpose + emp.affiliation) * F32(0.25)
        emp.column("engagement")[:] = rules.employee_engagement(
            drivers, emp.hr_boost, emp.strain, F32(p.strain_penalty))

    # ------------------------------------------------------------------ accounts
    def _account(self, week: int) -> None:
        p, w, c = self.params, self._week, self._census
        emp = self.employees
        n_s = self.n_stores
        active = emp.active
        heads = np.bincount(emp.store[active], minlength=n_s).astype(float)
        paid_heads = heads + self._week_quits  # quitters are paid for their last week
        costs = {
            "cost_of_goods": (1.0 - p.gross_margin) * w["revenue"],
            "wages": paid_heads * p.weekly_wage + p.supervisor_weekly_wage,
            "hiring_training": self._week_hires * p.hiring_cost_share * p.weekly_wage * 52,
            "coaching": np.full(n_s, p.coaching_hours * p.supervisor_weekly_wage / 40.0),
            "hr_programmes": self._week_hr,
            "cost_to_serve": w["contacts"] * p.cost_per_contact,
            "acquisition": w["paid_acquired"] * p.acquisition_cost,
            "layoffs": self._week_laid_off * p.severance_weeks * p.weekly_wage,
            "customer_programme": c["customers"] * p.customer_programme_budget / 52.0,
            "recognition": (w["front_count"] * p.frontline_recognition * p.recognition_cost
                            / 52.0),
            "fixed_costs": p.fixed_cost_per_store * self.store_size,
        }
        store_costs = sum(costs.values())
        store_profit = w["revenue"] - store_costs
        eng = emp.engagement
        emp_eng_sum = np.bincount(emp.store[active], eng[active], n_s)
        customers = c["customers"].astype(float)
        start = np.maximum(w["customers_start"], 1)
        s = self.store_state
        s["headcount"] = heads
        s["customers"] = customers
        s["employee_engagement"] = np.divide(emp_eng_sum, heads, out=np.zeros(n_s),
                                             where=heads > 0)
        s["customer_engagement"] = np.divide(c["engagement_sum"], customers,
                                             out=np.zeros(n_s), where=customers > 0)
        s["rational_satisfaction"] = np.divide(c["rational_sum"], customers,
                                               out=np.zeros(n_s), where=customers > 0)
        s["revenue"] = w["revenue"]
        s["profit"] = store_profit
        s["churned"] = w["churned"].astype(float)
        s["churn_rate_annual_pct"] = w["churned"] / start * 52 * 100
        s["quits"] = self._week_quits
        s["turnover_rate_annual_pct"] = np.divide(
            self._week_quits, heads + self._week_quits, out=np.zeros(n_s),
            where=heads + self._week_quits > 0) * 52 * 100
        s["workload"] = w["pressure"]
        s["service_quality"] = np.divide(w["quality_sum"], w["visits"], out=np.zeros(n_s),
                                         where=w["visits"] > 0)
        s["fully_engaged_share"] = c["segments"][:, 0] / np.maximum(customers, 1)
        s["actively_disengaged_share"] = c["segments"][:, 3] / np.maximum(customers, 1)
        self._store_history.append(np.column_stack([s[k] for k in STORE_COLUMNS]))

        # Chain totals.
        for item, per_store in costs.items():
            setattr(self, item, float(per_store.sum()))
        self.total_costs = float(sum(getattr(self, k) for k in COST_ITEMS))
        self.revenue = float(w["revenue"].sum())
        self.profit = self.revenue - self.total_costs
        n_cust = int(customers.sum())
        self.active_customers = n_cust
        self.acquired_customers = int(w["acquired"].sum())
        self.churned_customers = int(w["churned"].sum())
        self.customers_acquired_total += self.acquired_customers
        self.customers_churned_total += self.churned_customers
        self.churn_rate_annual_pct = (self.churned_customers
                                      / max(int(w["customers_start"].sum()), 1) * 52 * 100)
        self.headcount = int(heads.sum())
        self.hires = int(self._week_hires.sum())
        self.quits = int(self._week_quits.sum())
        self.laid_off = int(self._week_laid_off.sum())
        self.hires_total += self.hires
        self.quits_total += self.quits
        self.laid_off_total += self.laid_off
        self.turnover_rate_annual_pct = self.quits / max(self.headcount + self.quits, 1) * 5200
        active_eng = eng[active]
        self.employee_engagement = float(active_eng.mean()) if len(active_eng) else 0.0
        emp_seg = np.bincount(rules.employee_segments(active_eng), minlength=3) / max(
            len(active_eng), 1)
        (self.employees_engaged_share, self.employees_not_engaged_share,
         self.employees_actively_disengaged_share) = (float(x) for x in emp_seg)
        cust_seg = c["segments"].sum(axis=0) / max(n_cust, 1)
        (self.customers_fully_engaged_share, self.customers_engaged_share,
         self.customers_not_engaged_share, self.customers_actively_disengaged_share) = (
            float(x) for x in cust_seg)
        self.customer_engagement = float(c["engagement_sum"].sum()) / max(n_cust, 1)
        self.rational_satisfaction = float(c["rational_sum"].sum()) / max(n_cust, 1)
        for d, total in c["dimensions"].items():
            setattr(self, d, total / max(n_cust, 1))
        visits = float(w["visits"].sum())
        self.service_quality = float(w["quality_sum"].sum()) / visits if visits else 0.0
        contacts = w["contacts"]
        self.contacts = float(contacts.sum())
        self.repeat_contacts = float(w["repeat"].sum())
        self.workload = (float(np.dot(w["pressure"], contacts) / contacts.sum())
                         if contacts.sum() else 0.0)
        policy_minutes = SERVICE_POLICY_SPECS[p.service_policy]["minutes"]
        self.service_standard = float(self.standard_minutes.mean() / policy_minutes)

    def _init_reporters(self) -> None:
        """Set every reporter to its value before the first week (no flows yet)."""
        for name in MODEL_REPORTERS:
            if name != "week" and not hasattr(self, name):
                setattr(self, name, 0.0)
        self.customers_acquired_total = 0
        self.customers_churned_total = 0
        self.hires_total = 0
        self.quits_total = 0
        self.laid_off_total = 0

    # ------------------------------------------------------------------ read-outs
    def model_frame(self) -> pd.DataFrame:
        """One row per simulated week with every chain-level reporter."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def stores_frame(self) -> pd.DataFrame:
        """One row per store and week: the between-store table (Human Sigma)."""
        if not self._store_history:
            return pd.DataFrame(columns=["week", "store", *STORE_COLUMNS])
        data = np.stack(self._store_history)  # weeks x stores x columns
        weeks, n_s, _ = data.shape
        df = pd.DataFrame(data.reshape(weeks * n_s, -1), columns=list(STORE_COLUMNS))
        df.insert(0, "store", np.tile(np.arange(n_s), weeks))
        df.insert(0, "week", np.repeat(np.arange(weeks), n_s))
        for col in ("headcount", "customers", "churned", "quits"):
            df[col] = df[col].astype(np.int64)
        return df

    def employees_frame(self, include_departed: bool = False) -> pd.DataFrame:
        """Employees (one row each, indexed by stable id)."""
        return self.employees.frame(include_departed)

    def customers_frame(self, include_departed: bool = False) -> pd.DataFrame:
        """Customers (one row each, indexed by stable id) with their emotional engagement."""
        df = self.customers.frame(include_departed)
        df["engagement"] = rules.customer_engagement(
            df["confidence"], df["integrity"], df["pride"], df["passion"])
        return df

    def employee(self, employee_id: int) -> dict:
        return self.employees.lookup(employee_id)

    def customer(self, customer_id: int) -> dict:
        return self.customers.lookup(customer_id)

    def run(self, weeks: int) -> LoyaltyModel:
        """Advance the model by `weeks` weeks."""
        for _ in range(int(weeks)):
            self.step()
        return self


def _rank_within_store(store: np.ndarray, key: np.ndarray, n_stores: int) -> np.ndarray:
    """Rank (0 = first) of each row within its store, by ascending key."""
    order = np.lexsort((key, store))
    counts = np.bincount(store, minlength=n_stores)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(store), dtype=np.int64)
    rank[order] = np.arange(len(store)) - starts[store[order]]
    return rank


def _weighted_pick_per_store(store: np.ndarray, weight: np.ndarray, counts: np.ndarray,
                             g: np.random.Generator) -> np.ndarray:
    """Rows to keep: `counts[s]` rows of each store s, drawn without replacement with
    probability proportional to `weight` (Efraimidis-Spirakis keys), in store order."""
    key = np.log(g.random(len(store))) / weight
    order = np.lexsort((-key, store))
    rank = np.empty(len(store), dtype=np.int64)
    starts = np.cumsum(np.bincount(store, minlength=len(counts))) - np.bincount(
        store, minlength=len(counts))
    rank[order] = np.arange(len(store)) - starts[store[order]]
    return np.flatnonzero(rank < counts[store])


def _signature() -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("rng", inspect.Parameter.KEYWORD_ONLY, default=None),
              inspect.Parameter("events", inspect.Parameter.KEYWORD_ONLY, default=())]
    for f in parameter_fields():
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=f.default))
    return inspect.Signature(params)


def _docstring() -> str:
    lines = [LoyaltyModel.__doc__ or "", "", "Args:",
             "    rng: int seed of the model's random numbers (None: fresh entropy).",
             "    events: timed PolicyChange / Crisis / Layoff events, or their dict form."]
    for f in parameter_fields():
        lines.append(f"    {f.name}: {f.metadata['doc']} [{f.metadata['unit']}; default "
                     f"{f.default!r}]")
    return "\n".join(lines)


LoyaltyModel.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
LoyaltyModel.__doc__ = _docstring()
