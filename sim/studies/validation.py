"""Measure the published targets of MODEL_NOTES on simulated chains.

Each `measure_*` function reads what the model did (store tables, customers' realised spend and
churn) and never re-derives a rule. `validation_table` runs replications and sets each measured
value beside its published figure and the band the default calibration must reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import LoyaltyModel, rules


@dataclass(frozen=True)
class Target:
    key: str
    number: int
    claim: str
    published: str
    low: float
    high: float
    unit: str


# The bands the default calibration must reach (published figures are correlational results
# from consultancies: bands, not points).
TARGETS: tuple[Target, ...] = (
    Target("quadrant_one_above", 1, "Stores with one of employee/customer engagement above "
           "the median vs both below: financial effectiveness (revenue against plan x "
           "year-on-year growth)", "1.7x",
           1.2, 2.2, "x"),
    Target("quadrant_both_above", 1, "Stores with both above the median vs both below: "
           "financial effectiveness (revenue against plan x year-on-year growth)", "3.4x",
           2.4, 4.4, "x"),
    Target("fully_engaged_share", 2, "Share of customers fully engaged (typical firm)",
           "19%", 0.14, 0.25, "share"),
    Target("actively_disengaged_share", 2, "Share of customers actively disengaged "
           "(typical firm)", "24%", 0.18, 0.30, "share"),
    Target("engaged_to_disengaged_ratio", 2, "Fully engaged : actively disengaged (typical "
           "firm)", "0.8:1", 0.5, 1.2, "x"),
    Target("world_class_ratio", 2, "Fully engaged : actively disengaged in the best quarter "
           "of stores (world-class units)", "8:1", 3.0, 20.0, "x"),
    Target("fully_engaged_revenue", 2, "Revenue of fully engaged customers vs the average "
           "customer", "+23%", 0.13, 0.33, "relative"),
    Target("actively_disengaged_revenue", 2, "Revenue of actively disengaged customers vs "
           "the average customer", "-13%", -0.23, -0.05, "relative"),
    Target("emotional_vs_rational_churn", 3, "Churn of emotionally satisfied vs rationally "
           "satisfied customers", "-37%", -0.50, -0.25, "relative"),
    Target("rational_vs_dissatisfied_churn", 3, "Churn of rationally satisfied vs "
           "dissatisfied customers (about alike)", "about 0", -0.25, 0.25, "relative"),
    Target("manager_variance_share", 4, "Share of the variance in store employee engagement "
           "explained by the supervisor", ">= 70%", 0.70, 1.0, "share"),
    Target("quartile_turnover", 5, "Employee turnover, top vs bottom quartile of stores by "
           "employee engagement", "-25% to -65%", -0.65, -0.25, "relative"),
    Target("quartile_customer_rating", 5, "Customer satisfaction rating, top vs bottom "
           "quartile", "+10%", 0.03, 0.20, "relative"),
    Target("quartile_profitability", 5, "Profit margin (profit over revenue), top vs bottom "
           "quartile: the top's margin over the bottom's, minus 1", "+20% (relative)", 0.10,
           0.70, "relative"),
    Target("engagement_customer_correlation", 5, "Store-level correlation of employee "
           "engagement with customer engagement", "0.3", 0.15, 0.70, "r"),
    Target("customer_only_erosion", 7, "Customer-only programme: share of its peak gain in "
           "customer engagement left after two years", "erodes", -2.0, 0.25, "share of peak"),
    Target("both_persistence", 7, "Customer and employee engagement together: share of the "
           "peak gain left after two years", "persists", 0.40, 2.0, "share of peak"),
)
TARGETS_BY_KEY = {t.key: t for t in TARGETS}

# Targets the default calibration misses, with what we know of why. A miss is reported here, in
# the validation table and in the calibration test (which fails if a target outside this list
# leaves its band, or if a listed one comes back inside it): it is never fixed by widening a
# band or by tuning a constant that has a source of its own.
KNOWN_MISSES: dict[str, str] = {
    "quartile_profitability": "with gross margin and fixed costs from published figures "
    "(0.67; rent about $2,000 a store-week) and the fitted marketing (acquisition_rate 1.3, "
    "at $120 a customer won) the bottom quartile's margin is about nil (8 x 50 stores: "
    "+2.1% against the top quartile's +19.5%), so the relative contrast is not defined in "
    "any useful sense (+8.4 over those chains, +23.9 over the calibration test's 24 chains "
    "of 50 stores, +8.2 over its 80 of 10, -109 over its 6 of 200), not +20%; the band is "
    "kept and no cost is tuned to meet it",
    "customer_only_erosion": "with erosion coming only from raised expectations (no decay "
    "constant) and the programme's pull taken in as far as customers' experience meets them, "
    "a customer-only programme keeps about half of its peak gain after two years (0.56, 95% "
    "CI 0.49-0.64, 6 seeds of 20 stores), not under 25%; it does erode, and erodes more than "
    "with coaching (both_persistence 0.72), but not more in a chain of disengaged staff than "
    "in one of engaged staff (0.63 vs 0.59, 12 seeds, experiments/erosion_contrast.py; at "
    "generation 6's medians 0.70 vs 0.55, with the hand-set defaults 0.75 vs 0.63): at "
    "equilibrium a raised expectation costs about as much attachment where service is poor "
    "(frequent shortfalls, little attachment to lose) as where it is good, so the deep "
    "erosion seed 002 describes does not follow (docs/ODD.md section 7.5)",
    "rational_vs_dissatisfied_churn": "fitted (target 3): rationally satisfied customers "
    "churn less than dissatisfied ones by 21% to 49% (the calibration test's chains of 10, "
    "50 and 200 stores: -0.38, -0.21, -0.26; the validation table's 8 x 50 stores: -0.49, "
    "95% CI -0.63 to -0.14), where Fleming & Asplund find them about alike. Two causes: "
    "churn depends on emotional engagement, of which the rationally satisfied have a little "
    "more (the fitted churn_engagement_sensitivity, 1.45, turns that into a larger churn "
    "gap); and the small 'dissatisfied' group takes in the visitors that understaffed stores "
    "leave unserved, some of whom leave at once (unserved_churn; without it, -0.21 on the "
    "test's 10-store chains). Which chains have such a store decides the figure, hence its "
    "spread across sizes. Reported, not re-tuned",
}
# Misses seen at some chain sizes only: the calibration test does not require them to miss.
SIZE_DEPENDENT_MISSES = frozenset({"rational_vs_dissatisfied_churn"})


# --- one run -----------------------------------------------------------------------------------

@dataclass
class Run:
    """What the targets need from one finished run: its store table over the last year, its
    chain-level segment shares, and each customer's group at the snapshot with their spend and
    churn over the window that followed."""

    stores: pd.DataFrame
    fully_engaged_share: float
    actively_disengaged_share: float
    customers: pd.DataFrame  # segment, satisfaction group, spent, churned


def run_with_snapshot(seed: int, weeks: int = 156, window_weeks: int = 52,
                      **params: Any) -> Run:
    """Run a new model `weeks` weeks, photographing customers `window_weeks` before the end."""
    return observe(LoyaltyModel(rng=seed, **params), weeks, window_weeks)


def observe(model: LoyaltyModel, weeks: int, window_weeks: int = 52) -> Run:
    """Run `model` (fresh) for `weeks` weeks, photographing its customers `window_weeks` before
    the end; the caller keeps the finished model for anything else it wants to read."""
    model.run(weeks - window_weeks)
    snap = model.customers_frame()[["rational", "engagement", "spend_total"]]
    model.run(window_weeks)
    final = model.customers_frame(include_departed=True).reindex(snap.index)
    rational = snap["rational"].to_numpy()
    satisfied = rational >= rules.RATIONALLY_SATISFIED
    fully = snap["engagement"].to_numpy() >= rules.CUSTOMER_FULLY_ENGAGED
    group = np.where(satisfied & fully, "emotional", np.where(
        satisfied, "rational", np.where(rational < rules.DISSATISFIED, "dissatisfied",
                                        "neutral")))
    customers = pd.DataFrame({
        "segment": rules.customer_segments(snap["engagement"].to_numpy()),
        "group": group,
        "spent": final["spend_total"].to_numpy() - snap["spend_total"].to_numpy(),
        "churned": (final["churn_week"] >= 0).to_numpy(),
    })
    return Run(store_summary(model, window_weeks), model.customers_fully_engaged_share,
               model.customers_actively_disengaged_share, customers)


def store_summary(model: LoyaltyModel, last_weeks: int = 52) -> pd.DataFrame:
    """Per store, averages over the last weeks: the unit-level data of Gallup's studies."""
    full = model.stores_frame()
    end = full["week"].max()
    df = full[full["week"] > end - last_weeks]
    prior = full[(full["week"] > end - 2 * last_weeks) & (full["week"] <= end - last_weeks)]
    g = df.groupby("store")
    out = pd.DataFrame({
        "supervisor_quality": g["supervisor_quality"].mean(),
        "employee_engagement": g["employee_engagement"].mean(),
        "customer_engagement": g["customer_engagement"].mean(),
        "rational_satisfaction": g["rational_satisfaction"].mean(),
        "revenue": g["revenue"].sum(),
        "profit": g["profit"].sum(),
        "quits": g["quits"].sum(),
        "employee_weeks": g["headcount"].sum(),
        "fully_engaged_share": g["fully_engaged_share"].mean(),
        "actively_disengaged_share": g["actively_disengaged_share"].mean(),
    })
    out["size"] = model.store_size
    # The customer base at the end and a window earlier: whether the chain grows or shrinks.
    out["customers_end"] = full[full["week"] == end].set_index("store")["customers"]
    out["customers_window_before"] = full[full["week"] == end - last_weeks].set_index(
        "store")["customers"]
    # Financial effectiveness as Gallup measured it for units (sales performance against
    # target and year-on-year sales growth; Fleming, Coffman & Harter 2005): revenue against
    # the store's plan (the chain's sales per unit of catchment size) compounded with the
    # store's year-on-year revenue growth factor, relative to the chain's mean. (Not profit: a
    # profit ratio can be stretched at will by the fixed costs it nets off.) Without a full
    # prior year the growth factor is taken as 1.
    per_size = out["revenue"] / out["size"]
    out["sales_to_plan"] = per_size / per_size.mean()
    if prior["week"].nunique() == last_weeks:
        out["growth"] = out["revenue"] / prior.groupby("store")["revenue"].sum() - 1.0
    else:
        out["growth"] = np.nan
    effectiveness = out["sales_to_plan"] * (1.0 + out["growth"].fillna(0.0))
    out["performance"] = effectiveness / effectiveness.mean()
    out["margin"] = out["profit"] / out["revenue"]
    out["turnover"] = out["quits"] / out["employee_weeks"]
    return out


# --- the targets -------------------------------------------------------------------------------

def measure_quadrants(runs: list[Run]) -> dict[str, float]:
    """Median split on employee and on customer engagement within each chain; mean financial
    effectiveness (revenue against plan x year-on-year growth) of each quadrant relative to
    'both below', pooled over chains."""
    rows = []
    for s in (r.stores for r in runs):
        high_e = s["employee_engagement"] > s["employee_engagement"].median()
        high_c = s["customer_engagement"] > s["customer_engagement"].median()
        rows.append(pd.DataFrame({"above": high_e.astype(int) + high_c.astype(int),
                                  "performance": s["performance"]}))
    pooled = pd.concat(rows).groupby("above")["performance"].mean()
    # A quadrant may be empty in a small chain whose two medians split the same stores.
    base = pooled.get(0, np.nan)
    return {"quadrant_one_above": pooled.get(1, np.nan) / base,
            "quadrant_both_above": pooled.get(2, np.nan) / base}


def quarter_weights(values: pd.Series, top: bool = True) -> np.ndarray:
    """Each store's weight in the top (or bottom) quarter of a chain's stores by `values`:
    exactly a quarter of the stores, the one at the boundary counting with the part of it the
    quarter needs (of 10 stores, two and half of the third). So a quarter is a quarter at
    every chain size; taking the stores at or beyond the quartile instead took 3 of 10 (30%),
    13 of 50 (26%) and 50 of 200."""
    x = values.to_numpy(dtype=float)
    order = np.argsort(-x if top else x, kind="stable")
    weights = np.empty(len(x))
    weights[order] = np.clip(len(x) / 4.0 - np.arange(len(x)), 0.0, 1.0)
    return weights


def _weighted(frames: list[pd.DataFrame], weights: list[np.ndarray], column: str) -> float:
    """Sum over the chains of each store's `column` times its weight."""
    return float(sum(np.dot(w, f[column].to_numpy(dtype=float))
                     for f, w in zip(frames, weights, strict=True)))


def measure_segments(runs: list[Run]) -> dict[str, float]:
    fe = float(np.mean([r.fully_engaged_share for r in runs]))
    ad = float(np.mean([r.actively_disengaged_share for r in runs]))
    stores = [r.stores for r in runs]
    best = [quarter_weights(s["customer_engagement"]) for s in stores]
    return {"fully_engaged_share": fe, "actively_disengaged_share": ad,
            "engaged_to_disengaged_ratio": fe / ad,
            "world_class_ratio": _weighted(stores, best, "fully_engaged_share")
            / max(_weighted(stores, best, "actively_disengaged_share"), 1e-9)}


def measure_segment_revenue(runs: list[Run]) -> dict[str, float]:
    """Realised spend over the window of customers by their segment at the snapshot."""
    df = pd.concat([r.customers[["segment", "spent"]] for r in runs])
    mean = df["spent"].mean()
    by = df.groupby("segment")["spent"].mean()  # a segment may be empty in a small sample
    return {"fully_engaged_revenue": float(by.get(0, np.nan) / mean - 1),
            "actively_disengaged_revenue": float(by.get(3, np.nan) / mean - 1)}


def measure_churn_by_satisfaction(runs: list[Run]) -> dict[str, float]:
    """Churn over the window of customers grouped at the snapshot by rational satisfaction
    and emotional engagement (Fleming & Asplund's retail-bank comparison)."""
    rate = pd.concat([r.customers[["group", "churned"]] for r in runs]).groupby("group")[
        "churned"].mean()
    # A group may be empty in a small sample: its contrast is then undefined (NaN).
    emotional, rational, dissatisfied = (rate.get(g, np.nan) for g in
                                         ("emotional", "rational", "dissatisfied"))
    def contrast(a: float, b: float) -> float:
        # Undefined (NaN) when the reference group is empty or never churned.
        return float(a / b - 1) if b > 0 else float("nan")

    return {"emotional_vs_rational_churn": contrast(emotional, rational),
            "rational_vs_dissatisfied_churn": contrast(rational, dissatisfied)}


def measure_manager_share(runs: list[Run]) -> dict[str, float]:
    """R squared of store employee engagement on supervisor quality, averaged over chains."""
    r2 = [np.corrcoef(s["supervisor_quality"], s["employee_engagement"])[0, 1] ** 2
          for s in (r.stores for r in runs) if len(s) > 2]
    return {"manager_variance_share": float(np.mean(r2))}


def measure_quartiles(runs: list[Run]) -> dict[str, float]:
    """Top vs bottom quartile of stores by employee engagement, pooled over chains."""
    stores = [r.stores for r in runs]
    top = [quarter_weights(s["employee_engagement"], top=True) for s in stores]
    bottom = [quarter_weights(s["employee_engagement"], top=False) for s in stores]

    def ratio(column: str, per: str | None = None) -> float:
        """Top quarter's `column` (per unit of `per`, or per store) over the bottom's."""
        def rate(w: list[np.ndarray]) -> float:
            base = _weighted(stores, w, per) if per else float(sum(x.sum() for x in w))
            return _weighted(stores, w, column) / base
        return rate(top) / rate(bottom)

    corr = np.mean([np.corrcoef(s["employee_engagement"], s["customer_engagement"])[0, 1]
                    for s in stores if len(s) > 2])
    return {"quartile_turnover": ratio("quits", "employee_weeks") - 1,
            "quartile_customer_rating": ratio("rational_satisfaction") - 1,
            "quartile_profitability": ratio("profit", "revenue") - 1,
            "engagement_customer_correlation": float(corr)}


# Targets 1-5: each takes the finished runs (pooled) and returns its measures.
RUN_MEASURES = (measure_quadrants, measure_segments, measure_segment_revenue,
                measure_churn_by_satisfaction, measure_manager_share, measure_quartiles)

PROGRAMME_START = 26


def programme_arms() -> dict[str, list[dict]]:
    """Target 7's arms: events added to the default chain from week 26."""
    customer = {"customer_programme_budget": 20.0}
    employee = {"coaching_hours": 4.0}
    return {
        "baseline": [],
        "customer_only": [{"week": PROGRAMME_START, "set": customer}],
        "both": [{"week": PROGRAMME_START, "set": {**customer, **employee}}],
    }


def programme_gains(seeds: list[int], weeks: int = 156, **params: Any) -> dict[str, list]:
    """Per seed, the gain in customer engagement of each programme arm over the baseline."""
    gains: dict[str, list[np.ndarray]] = {"customer_only": [], "both": []}
    for seed in seeds:
        series = {}
        for arm, events in programme_arms().items():
            m = LoyaltyModel(rng=seed, events=events, **params).run(weeks)
            series[arm] = m.model_frame()["customer_engagement"].to_numpy()
        for arm in gains:
            gains[arm].append(series[arm] - series["baseline"])
    return gains


def erosion_from_gains(gains: dict[str, list]) -> dict[str, float]:
    """Share of the peak gain (8-week smoothed, after launch) left in the last quarter."""
    out = {}
    for arm, key in (("customer_only", "customer_only_erosion"), ("both", "both_persistence")):
        smooth = pd.Series(np.mean(gains[arm], axis=0)).rolling(8, min_periods=1).mean()
        peak = smooth.to_numpy()[PROGRAMME_START:].max()
        out[key] = float(smooth.to_numpy()[-13:].mean() / peak) if peak > 0 else float("nan")
    return out


def measure_programme_erosion(seeds: list[int], weeks: int = 156,
                              **params: Any) -> dict[str, float]:
    """Target 7: customer-only gains erode; customer and employee gains together persist."""
    return erosion_from_gains(programme_gains(seeds, weeks, **params))


# --- everything together ---------------------------------------------------------------------

def measure_all(runs: list[Run]) -> dict[str, float]:
    """Targets 1-5 pooled over the runs (stores and customers of all chains together)."""
    out: dict[str, float] = {}
    for measure in RUN_MEASURES:
        out.update(measure(runs))
    return {k: float(v) for k, v in out.items()}


def validation_table(replications: int = 8, seed: int = 1, erosion_replications: int = 4,
                     bootstrap: int = 200, n_stores: int = 50, calibration: Any = None,
                     **params: Any) -> pd.DataFrame:
    """Each target's published figure, band and simulated value with a 95% CI; `note` says
    what we know of a known miss (KNOWN_MISSES).

    Targets 1-5 are pooled over `replications` chains of `n_stores` stores (as in the
    calibration tests; quadrant ratios divide by the weakest stores' mean and need a few hundred
    stores); the CI is a percentile bootstrap over chains. Target 7 compares arms on common
    seeds of the default chain; its CI is the bootstrap over seeds of the mean gain curves.

    With `calibration` (a calibration folder or `Calibration`), each chain runs one posterior
    draw (so the CI carries the calibration's uncertainty), target 7 runs the posterior median,
    and a column `role` says whether each target was fitted or held out. Without it, the
    defaults run and `role` is each target's role in the published fit they come from
    (`sim.model.sources.PUBLISHED_FIT`), when that folder is there.
    """
    draws: list[dict[str, float]] = [{}] * replications
    roles: dict[str, str] = {}
    if calibration is None:
        roles = _published_fit_roles()
    else:
        from sim.studies.calibration import load_calibration

        cal = (load_calibration(calibration) if not hasattr(calibration, "draws")
               else calibration)
        draws = cal.draws(replications, seed)
        params = {**params, **cal.median()}
        roles = calibration_roles(cal.targets)
    runs = [run_with_snapshot(seed + r, n_stores=n_stores, **{**params, **draws[r]})
            for r in range(replications)]
    estimate = measure_all(runs)
    g = np.random.default_rng(seed)
    draws = [measure_all([runs[i] for i in g.integers(0, len(runs), len(runs))])
             for _ in range(bootstrap)] if len(runs) > 1 else []
    erosion_seeds = [seed + 1000 + r for r in range(erosion_replications)]
    gains = programme_gains(erosion_seeds, **params)
    estimate.update(erosion_from_gains(gains))
    erosion_draws = [erosion_from_gains({arm: [curves[i] for i in picks]
                                         for arm, curves in gains.items()})
                     for picks in (g.integers(0, len(erosion_seeds), len(erosion_seeds))
                                   for _ in range(bootstrap if len(erosion_seeds) > 1 else 0))]
    rows = []
    for t in TARGETS:
        pool = erosion_draws if t.number == 7 else draws
        values = np.array([d[t.key] for d in pool], float)
        values = values[np.isfinite(values)]
        low, high = (np.percentile(values, [2.5, 97.5]) if len(values) > 10
                     else (float("nan"), float("nan")))
        rows.append({"target": t.number, "key": t.key, "claim": t.claim,
                     "published": t.published, "band": f"[{t.low:g}, {t.high:g}]",
                     "simulated": estimate[t.key], "ci95_low": float(low),
                     "ci95_high": float(high), "within_band": t.low <= estimate[t.key] <= t.high,
                     "note": KNOWN_MISSES.get(t.key, "")})
    table = pd.DataFrame(rows)
    if roles:
        table.insert(1, "role", [roles.get(k, "not in the calibration") for k in table["key"]])
    return table


def _published_fit_roles() -> dict[str, str]:
    """Fitted or held out, per statistic, in the published fit the defaults come from; empty
    when its folder is not there (the package used outside this repository)."""
    from sim.model.sources import PUBLISHED_FIT
    from sim.studies.calibration import CalibrationError, load_calibration

    try:
        fit = load_calibration(Path(__file__).resolve().parents[2] / PUBLISHED_FIT)
    except CalibrationError:
        return {}
    return calibration_roles(fit.targets)


# Statistics of the table that no fit of MODEL_NOTES' patterns takes as targets of their own.
DERIVED_ROLES = {"engaged_to_disengaged_ratio": "implied by the two shares"}


def calibration_roles(targets: Any) -> dict[str, str]:
    """Each target's role in a fit of this targets file: fitted, held out, or (a fit to
    MODEL_NOTES' published patterns, `statistics: published`) held out to its own experiment
    for targets 6-8, which need runs of their own; `validation_table` calls the rest "not in
    the calibration"."""
    roles = {**{k: "fitted" for k in targets.targets},
             **{k: "held out" for k in targets.held_out}}
    if targets.simulation.statistics == "published":
        for t in TARGETS:
            if t.key not in roles:
                roles[t.key] = ("held out (own experiment)" if t.number >= 6
                                else DERIVED_ROLES.get(t.key, "not in the calibration"))
    return roles
