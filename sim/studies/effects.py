"""What a scenario's runs measured: per-replication metrics and each arm's paired effects.

Definitions (all over the whole horizon, per replication, then averaged over replications):
total revenue and profit ($); customer churn = customers lost / average customers, per year (%);
employee turnover = voluntary quits / average headcount, per year (%); final employee and
customer engagement (0-1, last week); policy spend = spend on the policy items
(`POLICY_COST_ITEMS`, $). Differences from the baseline pair replications with the same seed;
differences of rates are in percentage points. Savings are the fall in wages and in hiring and
training costs against the baseline. The return on policy spend is the extra profit per extra
dollar of policy spend (profit already nets that spend, so 0 means it paid for itself exactly
and -1 that it bought nothing); it is given only where the arm spends materially more than the
baseline and savings on wages and hiring are not what drives its profit change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import COST_ITEMS
from sim.studies.labels import METRIC_BY_NAME, METRICS, RETURN, Metric
from sim.studies.stats import Estimate, mean_ci, paired_difference_ci

POLICY_COST_ITEMS = tuple(item for item in COST_ITEMS if item in (
    "coaching", "hr_programmes", "customer_programme", "recognition", "layoffs"))
SAVINGS_ITEMS = ("wages", "hiring_training")
# A return per dollar is only meaningful when the policy really spends more than the baseline.
MATERIAL_COST_SHARE = 0.001
# Savings on wages and hiring "drive" a profit change when they make up at least this share of
# it: the profit then comes from paying for less, not from what the policy spend bought.
SAVINGS_DRIVER_SHARE = 0.5

# Numbers behind the money split and the engagement head counts (in summary.csv, not in the
# comparison table).
DETAILS = (
    Metric("wages", "Wages", "$", "$k", "$k", 1e3, None, "Wages", "wages"),
    Metric("hiring_training", "Hiring and training", "$", "$k", "$k", 1e3, None, "Hiring",
           "hiring and training"),
    Metric("engaged_staff", "Engaged staff, last week", "people", "people", "people", 1.0,
           True, "Engaged staff", "engaged staff"),
    Metric("disengaged_staff", "Actively disengaged staff, last week", "people", "people",
           "people", 1.0, False, "Disengaged staff", "actively disengaged staff"),
    Metric("fully_engaged_customers", "Fully engaged customers, last week", "people",
           "people", "people", 1.0, True, "Fully engaged customers", "fully engaged customers"),
    Metric("disengaged_customers", "Actively disengaged customers, last week", "people",
           "people", "people", 1.0, False, "Disengaged customers",
           "actively disengaged customers"),
)
_ALL = {**METRIC_BY_NAME, **{m.name: m for m in DETAILS}}


def replication_metrics(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, replication) with every metric of METRICS and DETAILS.

    `timeseries` has columns arm, replication, seed, week and the model's weekly reporters.
    """
    rows = []
    for (arm, rep), f in timeseries.groupby(["arm", "replication"], sort=False):
        f = f.sort_values("week")
        years = len(f) / 52.0
        last = f.iloc[-1]
        rows.append({
            "arm": arm, "replication": int(rep), "seed": int(f["seed"].iloc[0]),
            "weeks": len(f),
            "revenue": float(f["revenue"].sum()),
            "profit": float(f["profit"].sum()),
            "customer_churn_pct": 100.0 * float(f["churned_customers"].sum())
            / max(float(f["active_customers"].mean()), 1.0) / years,
            "employee_turnover_pct": 100.0 * float(f["quits"].sum())
            / max(float(f["headcount"].mean()), 1.0) / years,
            "employee_engagement": float(last["employee_engagement"]),
            "customer_engagement": float(last["customer_engagement"]),
            "policy_cost": float(f[list(POLICY_COST_ITEMS)].to_numpy().sum()),
            "total_costs": float(f["total_costs"].sum()),
            "wages": float(f["wages"].sum()),
            "hiring_training": float(f["hiring_training"].sum()),
            "engaged_staff": float(last["employees_engaged_share"] * last["headcount"]),
            "disengaged_staff": float(last["employees_actively_disengaged_share"]
                                      * last["headcount"]),
            "fully_engaged_customers": float(last["customers_fully_engaged_share"]
                                             * last["active_customers"]),
            "disengaged_customers": float(last["customers_actively_disengaged_share"]
                                          * last["active_customers"]),
            "headcount_end": float(last["headcount"]),
            "customers_end": float(last["active_customers"]),
        })
    return pd.DataFrame(rows)


def _by_replication(metrics: pd.DataFrame, arms: Sequence[str], column: str) -> pd.DataFrame:
    """`column` of each arm side by side, one row per replication finished in every arm."""
    parts = [metrics.loc[metrics["arm"] == a].set_index("replication")[column].rename(i)
             for i, a in enumerate(arms)]
    return pd.concat(parts, axis=1, join="inner").sort_index()


def _paired(metrics: pd.DataFrame, arm: str, other: str, column: str) -> tuple[np.ndarray, ...]:
    both = _by_replication(metrics, [arm, other], column)
    return both[0].to_numpy(), both[1].to_numpy()


def contrast(metrics: pd.DataFrame, arm: str, other: str, column: str) -> Estimate:
    """Mean of `arm - other` in `column`, paired replication by replication, with its CI."""
    return paired_difference_ci(*_paired(metrics, arm, other, column))


def interaction(metrics: pd.DataFrame, combined: str, parts: Sequence[str], baseline: str,
                column: str) -> Estimate:
    """How far doing both departs from adding up: combined - (a + b - baseline), per seed.

    Zero means the effects add up; positive means the combined arm has more of `column` than
    the two effects added to the baseline.
    """
    a, b = parts
    wide = _by_replication(metrics, [combined, a, b, baseline], column)
    return mean_ci((wide[0] - wide[1] - wide[2] + wide[3]).to_numpy())


@dataclass(frozen=True)
class MoneySplit:
    """An arm's money against the baseline, kept apart: what it spent, what it saved and what
    happened to profit (all paired by seed, $ over the horizon)."""

    spend: Estimate  # extra policy spend
    wages_saved: Estimate  # baseline wages - arm wages
    hiring_saved: Estimate  # baseline hiring and training - arm's
    profit: Estimate  # profit change (after every cost)
    return_on_spend: Estimate | None
    no_return_because: str  # why there is no return per dollar ("" when there is one)

    @property
    def savings(self) -> float:
        return self.wages_saved.mean + self.hiring_saved.mean


def money_split(metrics: pd.DataFrame, arm: str, baseline: str) -> MoneySplit:
    """Spend, savings and profit change of `arm` against `baseline`, and the return on the
    spend where one applies (see the module docstring)."""
    spend = contrast(metrics, arm, baseline, "policy_cost")
    wages_saved = contrast(metrics, baseline, arm, "wages")
    hiring_saved = contrast(metrics, baseline, arm, "hiring_training")
    profit = contrast(metrics, arm, baseline, "profit")
    cost_arm, cost_base = _paired(metrics, arm, baseline, "policy_cost")
    extra = cost_arm - cost_base
    base_costs = metrics.loc[metrics["arm"] == baseline, "total_costs"].mean()
    savings = wages_saved.mean + hiring_saved.mean
    ret, why = None, ""
    if len(extra) == 0:
        why = "no paired replications"
    elif np.any(extra <= 0) or extra.mean() < MATERIAL_COST_SHARE * base_costs:
        why = "it spends no more than the baseline on policy items"
    elif savings > 0 and savings >= SAVINGS_DRIVER_SHARE * abs(profit.mean):
        why = ("its savings on wages and hiring, not its policy spend, drive the profit "
               "change")
    else:
        p_arm, p_base = _paired(metrics, arm, baseline, "profit")
        ret = mean_ci((p_arm - p_base) / extra)
    return MoneySplit(spend, wages_saved, hiring_saved, profit, ret, why)


def return_on_cost(metrics: pd.DataFrame, arm: str, baseline: str) -> Estimate | None:
    """Extra profit per extra dollar of policy spend with its t interval, or None where a
    return does not apply (see `money_split`)."""
    return money_split(metrics, arm, baseline).return_on_spend


def summarise(metrics: pd.DataFrame, arms: Sequence[str], baseline: str) -> pd.DataFrame:
    """The comparison in long form: one row per arm and metric (METRICS, DETAILS, RETURN).

    Columns: arm, metric, label, unit, n, mean, ci_low, ci_high and, for arms other than the
    baseline, diff, diff_ci_low, diff_ci_high, diff_n (paired on the seed).
    """
    rows = []
    shown = [m for m in (*METRICS, *DETAILS) if m.name in metrics.columns]
    for arm in arms:
        here = metrics[metrics["arm"] == arm]
        for m in shown:
            est = mean_ci(here[m.name].to_numpy())
            row = {"arm": arm, "metric": m.name, "label": m.label, "unit": m.unit, "n": est.n,
                   "mean": est.mean, "ci_low": est.low, "ci_high": est.high,
                   "diff": math.nan, "diff_ci_low": math.nan, "diff_ci_high": math.nan,
                   "diff_n": 0}
            if arm != baseline:
                d = contrast(metrics, arm, baseline, m.name)
                row.update(diff=d.mean, diff_ci_low=d.low, diff_ci_high=d.high, diff_n=d.n)
            rows.append(row)
        ret = return_on_cost(metrics, arm, baseline) if arm != baseline else None
        rows.append({"arm": arm, "metric": RETURN.name, "label": RETURN.label,
                     "unit": RETURN.unit, "n": ret.n if ret else 0,
                     "mean": ret.mean if ret else math.nan,
                     "ci_low": ret.low if ret else math.nan,
                     "ci_high": ret.high if ret else math.nan, "diff": math.nan,
                     "diff_ci_low": math.nan, "diff_ci_high": math.nan, "diff_n": 0})
    return pd.DataFrame(rows)
