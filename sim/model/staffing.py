"""Staffing (ODD 7.2): the staffing plan, hiring into vacancies, who works on the front line, and
rounds of layoffs.

Each function takes the employee population and the parameters and returns what happened to the
stores this week; the population's rows are changed in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.development import DRIVERS, LEFT_LAYOFF, refresh_engagement
from sim.model.parameters import Parameters
from sim.model.population import Population, rank_within_store

F32 = np.float32


@dataclass(frozen=True)
class Hiring:
    """This week's hires per store."""

    hires: np.ndarray


def is_review_week(week: int, params: Parameters) -> bool:
    """Weeks at which stores re-plan staffing and the staffing rule reassigns the front line."""
    return week % params.staffing_review_weeks == 0


def replan(planned_staff: np.ndarray, initial_customers: np.ndarray, customers: Population,
           params: Parameters) -> np.ndarray:
    """The staffing plan after a review: it moves toward staff in proportion to customers."""
    counts = np.bincount(customers.store[customers.active], minlength=len(planned_staff))
    follow = planned_staff * counts / initial_customers
    return np.maximum(2.0, (1 - params.staffing_follows_demand) * planned_staff
                      + params.staffing_follows_demand * follow)


def hire(emp: Population, params: Parameters, staff_plan: np.ndarray, week: int,
         g: np.random.Generator) -> Hiring:
    """Fill vacancies against the headcount target; at review weeks apply the staffing rule."""
    p, n_stores = params, len(staff_plan)
    active = emp.active
    heads = np.bincount(emp.store[active], minlength=n_stores)
    target = np.round(staff_plan * p.staffing_level).astype(np.int64)
    hires = g.binomial(np.maximum(target - heads, 0), p.vacancy_fill_rate)
    fronts = np.bincount(emp.store[active & emp.frontline], minlength=n_stores)
    if hires.sum() > 0:
        n = int(hires.sum())
        store = np.repeat(np.arange(n_stores), hires)
        order_in_store = np.arange(n) - np.repeat(np.cumsum(hires) - hires, hires)
        # New hires fill the front line's gaps first.
        front_gap = np.maximum(np.round(p.frontline_share * (heads + hires)) - fronts, 0)
        level = p.new_hire_engagement
        emp.add(n, store=store, frontline=order_in_store < front_gap[store],
                tenure=0, hired_week=week, left_week=-1, skill=p.new_hire_skill,
                trait=g.normal(0.0, p.trait_sd, n).astype(F32),
                **{d: np.clip(level + g.normal(0, rules.NEW_HIRE_DRIVER_SD, n), 0, 1)
                   for d in DRIVERS})
        refresh_engagement(emp, p)
    if p.staffing_rule != "random" and is_review_week(week, p):
        _assign_front_line(emp, p, n_stores)
    return Hiring(hires.astype(float))


def _assign_front_line(emp: Population, params: Parameters, n_stores: int) -> None:
    """The staffing rule: rank each store's staff by engagement, the first go to the front."""
    active_idx = np.flatnonzero(emp.active)
    key = emp.engagement[active_idx]
    if params.staffing_rule == "most_engaged":
        key = -key
    store = emp.store[active_idx]
    rank = rank_within_store(store, key, n_stores)
    heads = np.bincount(store, minlength=n_stores)
    emp.column("frontline")[active_idx] = rank < np.round(params.frontline_share * heads)[store]


def initial_roles(store: np.ndarray, frontline_share: float, n_stores: int,
                  g: np.random.Generator) -> np.ndarray:
    """Front-line flags at set-up: a random `frontline_share` of each store's staff."""
    rank = rank_within_store(store, g.random(len(store)), n_stores)
    heads = np.bincount(store, minlength=n_stores)
    return rank < np.round(frontline_share * heads)[store]


def lay_off(emp: Population, share: float, cushion: float, week: int, n_stores: int,
            g: np.random.Generator) -> np.ndarray:
    """Lay off `share` of the staff at random; survivors lose affiliation and purpose.

    Returns the number laid off per store. `cushion` is the share of the blow that lands
    (`rules.transparency_cushion`).
    """
    active = np.flatnonzero(emp.active)
    k = int(round(share * len(active)))
    if k == 0:
        return np.zeros(n_stores)
    gone = g.choice(active, size=k, replace=False)
    emp.column("active")[gone] = False
    emp.column("left_week")[gone] = week
    emp.column("left_reason")[gone] = LEFT_LAYOFF
    affiliation = emp.column("affiliation")
    purpose = emp.column("purpose")
    affiliation -= np.float32(rules.LAYOFF_AFFILIATION_LOSS * cushion) * affiliation
    purpose -= np.float32(rules.LAYOFF_PURPOSE_LOSS * cushion) * purpose
    return np.bincount(emp.store[gone], minlength=n_stores).astype(float)
