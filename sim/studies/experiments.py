"""What a sweep run measures (its outcomes) and the measures of validation targets 6 and 8.

`OUTCOMES` lists every scalar a sweep spec can ask for. Each outcome is computed in the worker
from the finished run, so only a few numbers travel back. The scenario metrics (total revenue,
profit, churn, turnover, final engagement, policy cost) are `sim.studies.effects`'s definitions; the
validation outcomes (quadrants, segments, ...) call `sim.studies.validation`'s measures on the one
chain of the run, so a spec in `experiments/` feeds the same measure as `validation_table`.

Targets 6 and 8 are not in `sim.studies.validation`: `growth_by_engagement` (target 6:
high-engagement chains grow revenue about 2.5x as much as low-engagement ones) and
`overload_erosion` (target 8: a temporary overload leaves the service standard lower after
staffing is restored) measure them on sweep results; `extra_targets_table` sets them beside
their published claims.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model import MODEL_REPORTERS
from sim.model.reporters import REPORTER_BY_NAME
from sim.studies.runner import Job

if TYPE_CHECKING:
    from sim.studies.stats import Estimate

SNAPSHOT_WEEKS = 52  # customers are photographed this long before the end (as validation does)
YEAR = 52
QUARTER = 13
SERIES_NAMES = tuple(name for name in MODEL_REPORTERS if name != "week")


class RunRecord:
    """A job and, computed on first use, what its outcomes read: the finished model (its
    weekly frame and scenario metrics) and sim.studies.validation's Run (store table of the last
    year, segment shares and, when asked, the customers' snapshot a year before the end)."""

    def __init__(self, job: Job, snapshot: bool = False):
        self.job = job
        self._snapshot = snapshot

    @cached_property
    def model(self) -> Any:
        from sim.model import LoyaltyModel
        from sim.studies import validation

        job = self.job
        model = LoyaltyModel(rng=job.seed, events=list(job.events), **job.params)
        if self._snapshot:
            # One simulation serves both: validation photographs customers on the way.
            self._observed = validation.observe(model, job.weeks, SNAPSHOT_WEEKS)
            return model
        return model.run(job.weeks)

    @cached_property
    def frame(self) -> pd.DataFrame:
        return self.model.model_frame()

    @cached_property
    def metrics(self) -> dict[str, float]:
        """The scenario metrics of sim.studies.effects for this run."""
        from sim.studies.effects import replication_metrics

        frame = self.frame.assign(arm=self.job.label, replication=0, seed=self.job.seed)
        return replication_metrics(frame).iloc[0].to_dict()

    @cached_property
    def validation_run(self) -> Any:
        from sim.studies import validation

        model = self.model
        if self._snapshot:
            return self._observed
        return validation.Run(validation.store_summary(model, SNAPSHOT_WEEKS),
                              model.customers_fully_engaged_share,
                              model.customers_actively_disengaged_share, pd.DataFrame())

    @property
    def stores(self) -> pd.DataFrame:
        return self.validation_run.stores


@dataclass(frozen=True)
class Outcome:
    """A scalar summary (or a group of them) that a sweep run reports."""

    name: str
    columns: dict[str, str]  # column -> unit
    doc: str
    measure: Callable[[RunRecord], dict[str, float]]
    # Needs the customers' snapshot a year before the end (taken during the run's one
    # simulation, sim.studies.validation.observe).
    snapshot: bool = False
    own_arms: bool = False  # runs its own arms (ignores the spec's compare and events)
    min_weeks: int = 1


def _metric(name: str) -> Callable[[RunRecord], dict[str, float]]:
    return lambda rec: {name: float(rec.metrics[name])}


def _window_mean(column: str, weeks: int, last: bool, name: str) -> Callable:
    def measure(rec: RunRecord) -> dict[str, float]:
        values = rec.frame[column].to_numpy()
        part = values[-weeks:] if last else values
        return {name: float(np.mean(part))}
    return measure


def _window_outcome(column: str, weeks: int, doc: str, last: bool = True,
                    suffix: str = "") -> Outcome:
    """The mean of a weekly reporter over the last `weeks` (or the whole run), in its unit,
    named `<column>_end` (`_mean` for the whole run) unless `suffix` names the window."""
    name = f"{column}_{suffix or ('end' if last else 'mean')}"
    return Outcome(name, {name: REPORTER_BY_NAME[column].unit}, doc,
                   _window_mean(column, weeks, last, name))


def _revenue_growth(rec: RunRecord) -> dict[str, float]:
    revenue = rec.frame["revenue"].to_numpy()
    return {"revenue_growth": float(revenue[-YEAR:].sum() / revenue[:YEAR].sum() - 1.0)}


def _validation(columns: tuple[str, ...], compute: Callable[[RunRecord], dict]) -> Callable:
    """A sim.studies.validation measure on this run's single chain. A group that is empty in this
    chain (e.g. no store with both engagements below the median) leaves the measure
    undefined: nan, not an error."""
    def measure(rec: RunRecord) -> dict[str, float]:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                found = compute(rec)
            except (KeyError, IndexError, ZeroDivisionError):
                return dict.fromkeys(columns, math.nan)
        return {c: float(found[c]) for c in columns}
    return measure


def _pooled(measure_name: str) -> Callable[[RunRecord], dict]:
    """Apply a sim.studies.validation target measure (which pools runs) to this one run."""
    def compute(rec: RunRecord) -> dict:
        from sim.studies import validation

        return getattr(validation, measure_name)([rec.validation_run])
    return compute


def _programme_erosion(rec: RunRecord) -> dict:
    from sim.studies.validation import measure_programme_erosion

    return measure_programme_erosion([rec.job.seed], rec.job.weeks, **rec.job.params)


def _validation_outcome(name: str, columns: dict[str, str], doc: str, compute: Callable,
                        **extra: Any) -> Outcome:
    return Outcome(name, columns, doc, _validation(tuple(columns), compute), **extra)


_OUTCOME_LIST = (
    Outcome("revenue", {"revenue": "$"}, "total revenue over the horizon", _metric("revenue")),
    Outcome("profit", {"profit": "$"}, "total profit over the horizon", _metric("profit")),
    Outcome("customer_churn_pct", {"customer_churn_pct": "%/year"}, "customers lost per "
            "year / average customers", _metric("customer_churn_pct")),
    Outcome("employee_turnover_pct", {"employee_turnover_pct": "%/year"}, "voluntary quits "
            "per year / average headcount", _metric("employee_turnover_pct")),
    Outcome("employee_engagement", {"employee_engagement": "0-1"}, "employee engagement in "
            "the last week", _metric("employee_engagement")),
    Outcome("customer_engagement", {"customer_engagement": "0-1"}, "customer engagement in "
            "the last week", _metric("customer_engagement")),
    Outcome("policy_cost", {"policy_cost": "$"}, "spend on coaching, HR and customer "
            "programmes, recognition and layoffs", _metric("policy_cost")),
    _window_outcome("employee_engagement", 0, "employee engagement averaged over the horizon",
                    last=False),
    _window_outcome("customer_engagement", 0, "customer engagement averaged over the horizon",
                    last=False),
    _window_outcome("employee_engagement", YEAR, "employee engagement averaged over the last "
                    "52 weeks", suffix="last_year"),
    _window_outcome("customer_engagement", YEAR, "customer engagement averaged over the last "
                    "52 weeks", suffix="last_year"),
    _window_outcome("service_quality", QUARTER, "service quality averaged over the last 13 "
                    "weeks"),
    _window_outcome("service_standard", QUARTER, "service standard (time given per contact, "
                    "as a ratio to the policy's design time) averaged over the last 13 weeks"),
    Outcome("revenue_growth", {"revenue_growth": "relative"}, "revenue of the last year / "
            "revenue of the first year - 1", _revenue_growth, min_weeks=2 * YEAR),
    _validation_outcome(
        "quadrants", {"quadrant_one_above": "x", "quadrant_both_above": "x"},
        "target 1: financial effectiveness (revenue against plan x year-on-year growth) of "
        "stores with one / both engagements above the median vs both below "
        "(sim.studies.validation.measure_quadrants)",
        _pooled("measure_quadrants"),
        min_weeks=YEAR),
    _validation_outcome(
        "segments", {"fully_engaged_share": "share", "actively_disengaged_share": "share",
                     "engaged_to_disengaged_ratio": "x", "world_class_ratio": "x"},
        "target 2: customer segments (sim.studies.validation.measure_segments)",
        _pooled("measure_segments"), min_weeks=YEAR),
    _validation_outcome(
        "segment_revenue", {"fully_engaged_revenue": "relative",
                            "actively_disengaged_revenue": "relative"},
        "target 2: revenue by customer segment over the last year "
        "(sim.studies.validation.measure_segment_revenue)", _pooled("measure_segment_revenue"),
        snapshot=True, min_weeks=SNAPSHOT_WEEKS + 1),
    _validation_outcome(
        "churn_by_satisfaction", {"emotional_vs_rational_churn": "relative",
                                  "rational_vs_dissatisfied_churn": "relative"},
        "target 3: churn over the last year by satisfaction type "
        "(sim.studies.validation.measure_churn_by_satisfaction)",
        _pooled("measure_churn_by_satisfaction"),
        snapshot=True, min_weeks=SNAPSHOT_WEEKS + 1),
    _validation_outcome(
        "manager_share", {"manager_variance_share": "share"}, "target 4: share of the "
        "variance in store engagement due to the supervisor "
        "(sim.studies.validation.measure_manager_share)", _pooled("measure_manager_share"),
        min_weeks=YEAR),
    _validation_outcome(
        "quartiles", {"quartile_turnover": "relative", "quartile_customer_rating": "relative",
                      "quartile_profitability": "relative",
                      "engagement_customer_correlation": "r"},
        "target 5: top vs bottom quartile of stores (sim.studies.validation.measure_quartiles)",
        _pooled("measure_quartiles"), min_weeks=YEAR),
    _validation_outcome(
        "programme_erosion", {"customer_only_erosion": "share of peak",
                              "both_persistence": "share of peak"},
        "target 7: runs baseline, customer-only and both programmes from week 26 "
        "(sim.studies.validation.measure_programme_erosion)", _programme_erosion, own_arms=True,
        min_weeks=2 * YEAR),
)
OUTCOMES: dict[str, Outcome] = {o.name: o for o in _OUTCOME_LIST}
COLUMN_UNITS: dict[str, str] = {c: u for o in _OUTCOME_LIST for c, u in o.columns.items()}


def outcome_columns(names: list[str] | tuple[str, ...]) -> list[str]:
    """The result columns the named outcomes produce, in order."""
    return [c for n in names for c in OUTCOMES[n].columns]


def measure_run(job: Job, outcomes: tuple[str, ...], series: tuple[str, ...] = ()
                ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Run one sweep job in a worker and return only what is kept: a one-row frame of the
    outcomes, the weekly series asked for (empty frame if none) and the seconds it took."""
    start = time.perf_counter()
    chosen = [OUTCOMES[n] for n in outcomes]
    rec = RunRecord(job, snapshot=any(o.snapshot for o in chosen))
    values: dict[str, float] = {}
    for outcome in chosen:
        values.update(outcome.measure(rec))
    row = pd.DataFrame({k: [float(v)] for k, v in values.items()})
    weekly = rec.frame[["week", *series]].copy() if series else pd.DataFrame()
    return row, weekly, time.perf_counter() - start


# ------------------------------------------------------------- targets 6 and 8 on sweeps
@dataclass(frozen=True)
class GrowthComparison:
    """Target 6: revenue growth of high- vs low-engagement chains."""

    high: Estimate  # mean revenue growth of the top group (relative, e.g. 0.12 = +12%)
    low: Estimate
    ratio: float  # high growth / low growth
    ratio_low: float  # 95% bootstrap interval of the ratio
    ratio_high: float
    runs_per_group: int


def growth_by_engagement(runs: pd.DataFrame, *, by: str = "employee_engagement_mean",
                         outcome: str = "revenue_growth", share: float = 0.25,
                         resamples: int = 2000, seed: int = 0) -> GrowthComparison:
    """Revenue growth of the chains in the top `share` by employee engagement vs the bottom
    `share`, their ratio and a 95% percentile-bootstrap interval of the ratio (chains resampled
    within each group). The ratio is nan when the low group's growth is not positive."""
    from sim.studies.stats import mean_ci

    data = runs[[by, outcome]].dropna()
    k = max(2, int(round(share * len(data))))
    if 2 * k > len(data):
        raise ValueError(f"{len(data)} runs are too few to compare a top and bottom "
                         f"{share:.0%}: expected at least 4 runs")
    ordered = data.sort_values(by, kind="stable")
    low = ordered[outcome].to_numpy()[:k]
    high = ordered[outcome].to_numpy()[-k:]
    g = np.random.default_rng(seed)
    boot_high = g.choice(high, (resamples, k)).mean(axis=1)
    boot_low = g.choice(low, (resamples, k)).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(boot_low > 0, boot_high / boot_low, np.nan)
    ratio = high.mean() / low.mean() if low.mean() > 0 else math.nan
    finite = ratios[np.isfinite(ratios)]
    lo, hi = ((np.quantile(finite, 0.025), np.quantile(finite, 0.975))
              if len(finite) > 0.95 * resamples else (math.nan, math.nan))
    return GrowthComparison(mean_ci(high), mean_ci(low), float(ratio), float(lo), float(hi), k)


def overload_erosion(runs: pd.DataFrame, *, arm: str = "overload", baseline: str = "baseline",
                     outcome: str = "service_standard_end") -> Estimate:
    """Target 8: relative change of `outcome` after a temporary overload, paired on the seed
    (same design point and replication) with the baseline arm: mean of (overload / baseline
    - 1) with its 95% t interval."""
    from sim.studies.stats import mean_ci

    keys = ["point", "replication"]
    a = runs.loc[runs["arm"] == arm, [*keys, outcome]]
    b = runs.loc[runs["arm"] == baseline, [*keys, outcome]]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    if both.empty:
        raise ValueError(f"no pair of runs with arms '{arm}' and '{baseline}': expected a "
                         "sweep that compares both")
    return mean_ci(both[f"{outcome}_a"].to_numpy() / both[f"{outcome}_b"].to_numpy() - 1.0)


# Bands proposed for the lead's calibration (published figures are consultancies' findings).
GROWTH_BAND = (1.5, 4.0)
OVERLOAD_BAND = (-1.0, -0.01)


def extra_targets_table(growth: GrowthComparison | None = None,
                        overload: Estimate | None = None,
                        overload_quality: Estimate | None = None) -> pd.DataFrame:
    """Targets 6 and 8 in the columns of sim.studies.validation.validation_table (CIs: 95%,
    percentile bootstrap for the growth ratio, t interval over seeds for the overload)."""
    rows = []
    if growth is not None:
        rows.append({"target": 6, "key": "engagement_growth_ratio", "claim": "Revenue growth "
                     "of high- vs low-engagement chains (top vs bottom quarter of runs)",
                     "published": "2.5x", "band": f"[{GROWTH_BAND[0]:g}, {GROWTH_BAND[1]:g}]",
                     "simulated": growth.ratio, "ci95_low": growth.ratio_low,
                     "ci95_high": growth.ratio_high,
                     "within_band": GROWTH_BAND[0] <= growth.ratio <= GROWTH_BAND[1]})
    for key, est, what in (("overload_standard_erosion", overload, "service standard"),
                           ("overload_quality_erosion", overload_quality, "service quality")):
        if est is None:
            continue
        rows.append({"target": 8, "key": key, "claim": f"After a temporary overload ends, "
                     f"{what} vs an unstrained chain (same seeds), relative",
                     "published": "stays lower",
                     "band": f"[{OVERLOAD_BAND[0]:g}, {OVERLOAD_BAND[1]:g}]",
                     "simulated": est.mean, "ci95_low": est.low, "ci95_high": est.high,
                     "within_band": OVERLOAD_BAND[0] <= est.mean <= OVERLOAD_BAND[1]})
    return pd.DataFrame(rows)
