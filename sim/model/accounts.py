"""Accounts (ODD 7.8): each store's revenue, costs and profit for the week, the store table's
row, and the chain's weekly reporters (`sim.model.reporters`).

`account` reads the week's flows, returned by the other processes, and the end-of-week state; it
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.parameters import Parameters
from sim.model.population import Population

if TYPE_CHECKING:
    from sim.model.customers import Acquisition, Census, Purchases
    from sim.model.service import Encounters

COST_ITEMS = ("cost_of_goods", "wages", "hiring_training", "coaching", "hr_programmes",
              "cost_to_serve", "acquisition", "layoffs", "customer_programme", "recognition",
              "fixed_costs")

STORE_COLUMNS = (
    "supervisor_quality", "headcount", "customers", "employee_engagement",
    "customer_engagement", "revenue", "profit", "churned", "churn_rate_annual_pct", "quits",
    "turnover_rate_annual_pct", "workload", "service_quality", "rational_satisfaction",
    "fully_engaged_share", "actively_disengaged_share",
)


@dataclass(frozen=True)
class Accounts:
    """One week's books: each cost item per store ($), the store table's row (one array per
    column of STORE_COLUMNS) and the chain's reporters that flows determine."""

    costs: dict[str, np.ndarray]
    stores: dict[str, np.ndarray]
    chain: dict[str, float]


@dataclass(frozen=True)
class StaffFlows:
    """This week's staff movements per store: hires, quits, layoffs, and programme spend ($)."""

    hires: np.ndarray
    quits: np.ndarray
    laid_off: np.ndarray
    hr_spend: np.ndarray


def account(params: Parameters, emp: Population, staff: StaffFlows, enc: Encounters,
            purchases: Purchases, acquisition: Acquisition, census: Census,
            start_customers: np.ndarray, store_size: np.ndarray,
            supervisor_quality: np.ndarray, standard_minutes: np.ndarray,
            policy_minutes: float) -> Accounts:
    """The week's books per store and for the chain.

    Args:
        census: the end-of-week census; `start_customers` is last week's count per store.
        standard_minutes: each store's service standard at the end of the week.
        policy_minutes: the service policy's design time per contact.
    """
    p, n_s = params, len(store_size)
    active = emp.active
    heads = np.bincount(emp.store[active], minlength=n_s).astype(float)
    quits = staff.quits
    paid_heads = heads + quits  # quitters are paid for their last week
    costs = {
        "cost_of_goods": (1.0 - p.gross_margin) * purchases.revenue,
        "wages": paid_heads * p.weekly_wage + p.supervisor_weekly_wage,
        "hiring_training": staff.hires * p.hiring_cost_share * p.weekly_wage
        * rules.WEEKS_PER_YEAR,
        "coaching": np.full(n_s, p.coaching_hours * p.supervisor_weekly_wage
                            / rules.SUPERVISOR_WEEK_HOURS),
        "hr_programmes": staff.hr_spend,
        "cost_to_serve": enc.contacts * p.cost_per_contact,
        "acquisition": acquisition.paid * p.acquisition_cost,
        "layoffs": staff.laid_off * p.severance_weeks * p.weekly_wage,
        "customer_programme": census.customers * p.customer_programme_budget
        / rules.WEEKS_PER_YEAR,
        "recognition": (enc.front_count * p.frontline_recognition * p.recognition_cost
                        / rules.WEEKS_PER_YEAR),
        "fixed_costs": p.fixed_cost_per_store * store_size,
    }
    revenue = purchases.revenue
    store_profit = revenue - sum(costs.values())
    eng = emp.engagement
    emp_eng_sum = np.bincount(emp.store[active], eng[active], n_s)
    customers = census.customers.astype(float)
    start = np.maximum(start_customers, 1)
    stores = {
        "supervisor_quality": supervisor_quality,
        "headcount": heads,
        "customers": customers,
        "employee_engagement": np.divide(emp_eng_sum, heads, out=np.zeros(n_s),
                                         where=heads > 0),
        "customer_engagement": np.divide(census.engagement_sum, customers, out=np.zeros(n_s),
                                         where=customers > 0),
        "revenue": revenue,
        "profit": store_profit,
        "churned": purchases.churned.astype(float),
        "churn_rate_annual_pct": purchases.churned / start * 52 * 100,
        "quits": quits,
        "turnover_rate_annual_pct": np.divide(quits, heads + quits, out=np.zeros(n_s),
                                              where=heads + quits > 0) * 52 * 100,
        "workload": enc.pressure,
        "service_quality": np.divide(enc.quality_sum, enc.visits, out=np.zeros(n_s),
                                     where=enc.visits > 0),
        "rational_satisfaction": np.divide(census.rational_sum, customers, out=np.zeros(n_s),
                                           where=customers > 0),
        "fully_engaged_share": census.segments[:, 0] / np.maximum(customers, 1),
        "actively_disengaged_share": census.segments[:, 3] / np.maximum(customers, 1),
    }

    chain: dict[str, float] = {item: float(per_store.sum()) for item, per_store in costs.items()}
    chain["total_costs"] = float(sum(chain[k] for k in COST_ITEMS))
    chain["revenue"] = float(revenue.sum())
    chain["profit"] = chain["revenue"] - chain["total_costs"]
    n_cust = int(customers.sum())
    chain["active_customers"] = n_cust
    chain["acquired_customers"] = int(acquisition.acquired.sum())
    chain["churned_customers"] = int(purchases.churned.sum())
    chain["churn_rate_annual_pct"] = (chain["churned_customers"]
                                      / max(int(start_customers.sum()), 1) * 52 * 100)
    chain["headcount"] = int(heads.sum())
    chain["hires"] = int(staff.hires.sum())
    chain["quits"] = int(quits.sum())
    chain["laid_off"] = int(staff.laid_off.sum())
    chain["turnover_rate_annual_pct"] = (chain["quits"]
                                         / max(chain["headcount"] + chain["quits"], 1) * 5200)
    active_eng = eng[active]
    chain["employee_engagement"] = float(active_eng.mean()) if len(active_eng) else 0.0
    emp_seg = np.bincount(rules.employee_segments(active_eng), minlength=3) / max(
        len(active_eng), 1)
    for name, share in zip(("employees_engaged_share", "employees_not_engaged_share",
                            "employees_actively_disengaged_share"), emp_seg, strict=True):
        chain[name] = float(share)
    cust_seg = census.segments.sum(axis=0) / max(n_cust, 1)
    for name, share in zip(("customers_fully_engaged_share", "customers_engaged_share",
                            "customers_not_engaged_share",
                            "customers_actively_disengaged_share"), cust_seg, strict=True):
        chain[name] = float(share)
    chain["customer_engagement"] = float(census.engagement_sum.sum()) / max(n_cust, 1)
    chain["rational_satisfaction"] = float(census.rational_sum.sum()) / max(n_cust, 1)
    for d, total in census.dimensions.items():
        chain[d] = total / max(n_cust, 1)
    visits = float(enc.visits.sum())
    chain["service_quality"] = float(enc.quality_sum.sum()) / visits if visits else 0.0
    contacts = enc.contacts
    chain["contacts"] = float(contacts.sum())
    chain["repeat_contacts"] = float(enc.repeat.sum())
    chain["workload"] = (float(np.dot(enc.pressure, contacts) / contacts.sum())
                         if contacts.sum() else 0.0)
    chain["service_standard"] = float(standard_minutes.mean() / policy_minutes)
    return Accounts(costs, stores, chain)
