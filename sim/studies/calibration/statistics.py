"""Summary statistics of simulated chains that a calibration compares with observed ones.

Two families: `published` (the MODEL_NOTES targets 1-5, measured as in
`sim.studies.validation`) and `chain` (store-level figures a chain's own data gives: means and
spreads across stores of engagement, turnover, churn and revenue per customer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.studies import runner, validation

PUBLISHED = tuple(t.key for t in validation.TARGETS if t.number <= 5)
# Not a published pattern: a condition a fit can be asked to hold beside targets 1-5. The chain's
# customer base growth over the measured window, so that a fit which moves what drives stores
# apart (word of mouth, acquisition) keeps the chain as stable as a mature one.
CONDITIONS = ("customer_base_growth",)

# Store-level observables of a chain's data (one value per store over a window).
STORE_OBSERVABLES = ("employee_engagement", "customer_engagement", "turnover_pct",
                     "churn_pct", "revenue_per_customer")
CHAIN = (*(f"{o}_{s}" for o in STORE_OBSERVABLES for s in ("mean", "sd")),
         "engagement_correlation")

STATISTICS: dict[str, tuple[str, ...]] = {"published": (*PUBLISHED, *CONDITIONS),
                                           "chain": CHAIN}

UNITS = {"employee_engagement": "0-1 score", "customer_engagement": "0-1 score",
         "turnover_pct": "%/year", "churn_pct": "%/year", "revenue_per_customer": "$/year"}


def store_observables(stores: pd.DataFrame, window_weeks: int) -> pd.DataFrame:
    """Per store, the chain-data observables over the last `window_weeks` of a store table
    (`LoyaltyModel.stores_frame()`), annualised."""
    df = stores[stores["week"] > stores["week"].max() - window_weeks]
    g = df.groupby("store")
    years = g.size() / 52.0
    customers = g["customers"].mean()
    return pd.DataFrame({
        "employee_engagement": g["employee_engagement"].mean(),
        "customer_engagement": g["customer_engagement"].mean(),
        "turnover_pct": 100 * g["quits"].sum() / g["headcount"].sum() * 52,
        "churn_pct": 100 * g["churned"].sum() / customers / years,
        "revenue_per_customer": g["revenue"].sum() / customers / years,
        "headcount": g["headcount"].mean(),
        "customers": customers,
    })


def customer_base_growth(runs: list[Any]) -> float:
    """Growth of the chains' pooled customer base over the measured window (a share; the
    window is a year in the published fit)."""
    end = sum(float(r.stores["customers_end"].sum()) for r in runs)
    before = sum(float(r.stores["customers_window_before"].sum()) for r in runs)
    return end / before - 1.0


def chain_statistics(obs: pd.DataFrame) -> dict[str, float]:
    """The `chain` statistics of a table of store observables (one row per store)."""
    out: dict[str, float] = {}
    for o in STORE_OBSERVABLES:
        out[f"{o}_mean"] = float(obs[o].mean())
        out[f"{o}_sd"] = float(obs[o].std(ddof=1))
    out["engagement_correlation"] = float(
        np.corrcoef(obs["employee_engagement"], obs["customer_engagement"])[0, 1])
    return out


def simulate(params: dict[str, float], seed: int, simulation: Any,
             model_kwargs: dict[str, Any] | None = None) -> dict[str, float]:
    """Run `simulation.replications` chains with `params` and return the statistics of the
    simulation's family, pooled (published) or averaged (chain) over the replications."""
    from sim.model import LoyaltyModel

    kwargs = {**simulation.fixed, **params, "n_stores": simulation.n_stores,
              **(model_kwargs or {})}
    seeds = np.random.SeedSequence(seed).generate_state(simulation.replications)
    if simulation.statistics == "published":
        runs = [validation.run_with_snapshot(int(s), simulation.weeks, simulation.window_weeks,
                                             **kwargs) for s in seeds]
        stats = {k: v for k, v in validation.measure_all(runs).items() if k in PUBLISHED}
        return {**stats, "customer_base_growth": customer_base_growth(runs)}
    stats = []
    for s in seeds:
        model = LoyaltyModel(rng=int(s), **kwargs).run(simulation.weeks)
        stats.append(chain_statistics(store_observables(model.stores_frame(),
                                                        simulation.window_weeks)))
    return {k: float(np.mean([d[k] for d in stats])) for k in CHAIN}


def _predict_one(args: tuple) -> dict[str, float]:
    params, seed, simulation, model_kwargs = args
    return simulate(params, seed, simulation, model_kwargs)


def predictive(targets: Any, draws: list[dict[str, float]], seeds: list[int],
               workers: int = 1, model_kwargs: dict[str, Any] | None = None) -> pd.DataFrame:
    """Simulate each posterior draw with its seed (`targets` a TargetsFile); one row per draw
    (seed, params, stats)."""
    jobs = [(d, s, targets.simulation, model_kwargs or {}) for d, s in zip(draws, seeds,
                                                                           strict=True)]
    if workers > 1 and len(jobs) > 1:
        pool = runner.worker_pool(workers)
        try:
            stats = list(pool.map(_predict_one, jobs))
        except BaseException:
            runner.stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        stats = [_predict_one(j) for j in jobs]
    return pd.DataFrame([{"draw": i, "seed": s, **d, **st}
                         for i, (d, s, st) in enumerate(zip(draws, seeds, stats, strict=True))])
