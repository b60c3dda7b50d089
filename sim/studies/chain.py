"""Your own chain: read a chain's store data (CSV), fit the model to it, write a chain file.

The fit has two stages. (1) ABC-SMC (`sim.studies.calibration`) fits the chain-level parameters
to the chain's statistics across stores (means and spreads of engagement, turnover, churn and
revenue per customer, and the engagement correlation), simulating chains of the same number and
sizes of stores. (2) Each store's own characteristics (its supervisor's leadership quality and
its local market: what its customers expect) are estimated by simulation-based regression:
chains simulated under posterior draws give, store by store, the true characteristics beside
the observables; one least-squares fit of each characteristic on the observables (with the
store's size and staff per customer) over all of those stores, applied to the chain's stores,
gives the estimate, and each simulated chain's errors its interval. The CSV itself is read by
`sim.studies.chain_data`; the chain file is read back by `sim.studies.chain_file`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.studies.calibration.statistics import STORE_OBSERVABLES, chain_statistics
from sim.studies.chain_data import (  # noqa: F401 (the chain CSV's names, kept importable here)
    MIN_STORES,
    REQUIRED,
    ChainData,
    ChainDataError,
    per_store,
    read_chain_csv,
)

CHAIN_PARAMETERS = {  # fitted chain-level parameter -> prior bounds
    "supervisor_quality_mean": (0.2, 0.8),
    "supervisor_quality_sd": (0.03, 0.3),
    "expectation": (0.65, 0.82),
    "local_market_spread": (0.0, 0.12),
    "annual_quit_rate": (0.1, 0.9),
    "annual_churn_rate": (0.05, 0.5),
    "basket": (20.0, 150.0),
}


def chain_size(data: ChainData) -> dict[str, Any]:
    """Model parameters that give a simulated chain the data's number and sizes of stores."""
    s = data.stores
    log_c = np.log(s["customers"].to_numpy(float))
    ratio = np.log(s["headcount"].to_numpy(float)) - log_c
    return {"n_stores": len(s), "customers_per_store": int(round(s["customers"].mean())),
            "employees_per_store": int(max(2, round(s["headcount"].mean()))),
            "store_size_spread": float(min(2.0, log_c.std(ddof=1))),
            "staffing_spread": float(min(1.0, ratio.std(ddof=1)))}


def chain_targets(data: ChainData, quick: bool = False, seed: int = 1) -> dict[str, Any]:
    """The targets file (as a mapping) of a chain: its statistics with bootstrap SEs."""
    obs = data.observables()
    stats = chain_statistics(obs)
    g = np.random.default_rng(seed)
    boot = [chain_statistics(obs.iloc[g.integers(0, len(obs), len(obs))]) for _ in range(200)]
    targets = {}
    for k, v in stats.items():
        se = float(np.nanstd([b[k] for b in boot], ddof=1))
        floor = 0.01 * abs(v) + 1e-6  # a statistic equal in every resample still has noise
        targets[k] = {"observed": float(v), "se": max(se, floor)}
    size = chain_size(data)
    window = 13 * data.quarters if data.quarters else 52
    return {
        "name": f"chain-{_slug(data.path.stem)}",
        "description": f"Chain-level fit to {data.path.name} ({len(obs)} stores)",
        "fit": {p: {"low": lo, "high": hi} for p, (lo, hi) in CHAIN_PARAMETERS.items()},
        "targets": targets,
        "simulation": {"statistics": "chain", "n_stores": size["n_stores"],
                       # the data's period (a year without quarters) after half a
                       # year's settling, so simulated stores average as much as the data
                       "weeks": 26 + window, "window_weeks": window,
                       "replications": 1,
                       "fixed": {k: v for k, v in size.items() if k != "n_stores"}},
        "abc": ({"population_size": 24, "generations": 3, "predictive_draws": 8,
                 "seed": seed} if quick else
                {"population_size": 100, "generations": 6, "predictive_draws": 30,
                 "seed": seed}),
    }


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in text) or "chain"


def simulated_stores(params: dict[str, Any], seed: int, weeks: int,
                     window_weeks: int) -> pd.DataFrame:
    """One simulated chain's stores: true characteristics beside the observables."""
    from sim.model import LoyaltyModel
    from sim.studies.calibration.statistics import store_observables

    model = LoyaltyModel(rng=seed, **params).run(weeks)
    obs = store_observables(model.stores_frame(), window_weeks)
    obs["supervisor_quality"] = model.supervisor_quality
    obs["local_market"] = model.chain.local_expectation
    return obs


CHARACTERISTICS = ("supervisor_quality", "local_market")


def _design(obs: pd.DataFrame) -> np.ndarray:
    cols = [obs[o].to_numpy(float) for o in STORE_OBSERVABLES]
    return np.column_stack([np.ones(len(obs)), *cols])


def _store_features(obs: pd.DataFrame) -> np.ndarray:
    """A store's observables with its size and workload (log customers, log staff per
    customer): busier stores strain their staff, so their engagement says less about their
    supervisor."""
    customers = obs["customers"].to_numpy(float)
    return np.column_stack([_design(obs), np.log(customers),
                            np.log(obs["headcount"].to_numpy(float) / customers)])


def estimate_stores(data: ChainData, cal: Any, draws: int = 12, chains_per_draw: int = 4,
                    seed: int = 1) -> pd.DataFrame:
    """Each store's supervisor quality and local market: estimate and 90% interval.

    Chains are simulated under `draws` posterior draws (`chains_per_draw` each, the data's
    number and sizes of stores); one least-squares fit of each characteristic on the store
    features over all of their stores (so the fit averages over the posterior rather than
    trusting one draw's 30-odd stores per coefficient) is applied to the chain's stores. The
    interval adds each simulated chain's shared error to its stores' own spread."""
    sim = cal.targets.simulation
    base = {**sim.fixed, "n_stores": sim.n_stores}
    seeds = np.random.SeedSequence([seed, 2]).generate_state(draws * chains_per_draw)
    tables = []
    for d, params in enumerate(cal.draws(draws, seed)):
        for s in seeds[d * chains_per_draw:(d + 1) * chains_per_draw]:
            tables.append(simulated_stores({**base, **params}, int(s), sim.weeks,
                                           sim.window_weeks).assign(chain=len(tables)))
    train = pd.concat(tables, ignore_index=True)
    x = _store_features(train)
    scale = x.std(axis=0)
    scale[scale == 0] = 1
    x, x_obs = x / scale, _store_features(data.observables()) / scale
    g = np.random.default_rng(seed)
    out = pd.DataFrame(index=data.stores.index)
    for c in CHARACTERISTICS:
        y = train[c].to_numpy(float)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        # Per simulated chain: its stores' errors share a part (the whole chain off in the
        # same direction) and have their own spread; both go into the interval.
        samples = []
        for k in range(len(tables)):
            rows = train["chain"].to_numpy() == k
            shift = float(resid[rows].mean())
            sd = float(resid[rows].std(ddof=1))
            samples.append((x_obs @ coef + shift)[:, None]
                           + sd * g.standard_normal((len(x_obs), 25)))
        s = np.concatenate(samples, axis=1)
        if c == "supervisor_quality":
            s = np.clip(s, 0.02, 0.98)
        out[c] = np.median(s, axis=1)
        out[f"{c}_q05"] = np.percentile(s, 5, axis=1)
        out[f"{c}_q95"] = np.percentile(s, 95, axis=1)
    return out


def chain_file_data(data: ChainData, cal: Any, stores: pd.DataFrame) -> dict[str, Any]:
    """The chain file (YAML mapping): chain-level parameters and the stores."""
    s = data.stores
    return {
        "chain": _slug(data.path.stem),
        "source": str(data.path),
        "calibration": cal.targets.name,
        "parameters": {**{k: round(float(v), 6) for k, v in cal.median().items()},
                       **chain_size(data)},
        "stores": [{"id": str(i), "customers": int(round(s.at[i, "customers"])),
                    "headcount": int(round(s.at[i, "headcount"])),
                    **{c: round(float(stores.at[i, c]), 4) for c in stores.columns}}
                   for i in s.index],
    }


def calibrate_chain(path: str | Path, *, out: str | Path | None = None,
                    workers: int | None = None, cluster: str | None = None,
                    progress: bool = True, quick: bool = False, seed: int = 1,
                    abc: dict[str, Any] | None = None, store_draws: int | None = None) -> Any:
    """Fit a chain's own store data: check the CSV (nothing written if it is bad), fit the
    chain-level parameters by ABC-SMC, estimate each store's characteristics, and write the
    calibration folder with `chain.yaml` and `stores.csv` in it. `quick` is a small fit for a
    first look; `abc` overrides ABC settings; `store_draws` the posterior draws of stage 2."""
    from sim.studies.calibration import calibrate, load_calibration

    data = read_chain_csv(path)
    targets, folder, staging = chain_fit_folders(data, path, out, quick, seed, abc)
    if (folder / "chain.yaml").is_file():
        return load_calibration(folder)
    cal = calibrate(targets, out=staging, workers=workers, cluster=cluster, progress=progress)
    stores = estimate_stores(data, cal, draws=store_draws or (3 if quick else 12),
                             chains_per_draw=2 if quick else 4, seed=seed)
    stores.to_csv(staging / "stores.csv")
    chain = chain_file_data(data, cal, stores)
    text = "# Written by `loyalty-sim calibrate --stores`: fitted to the data named below.\n"
    (staging / "chain.yaml").write_text(text + yaml.safe_dump(chain, sort_keys=False),
                                        encoding="utf-8")
    staging.rename(folder)
    return load_calibration(folder)


def chain_fit_folders(data: ChainData, path: str | Path, out: str | Path | None,
                      quick: bool = False, seed: int = 1,
                      abc: dict[str, Any] | None = None) -> tuple[Any, Path, Path]:
    """The chain fit's targets, its calibration folder, and the folder its ABC fit writes
    first (renamed into place once the stores are estimated)."""
    from sim.studies.calibration.engine import default_folder
    from sim.studies.calibration.targets import parse_targets

    spec = chain_targets(data, quick, seed)
    spec["abc"].update(abc or {})
    targets = parse_targets(spec, path)
    folder = Path(out) if out is not None else default_folder(targets)
    return targets, folder, folder.with_name(f".{folder.name}.fit")


def synthetic_chain(params: dict[str, Any], seed: int, *, years: int = 1,
                    burn_in_weeks: int = 26) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic chain's data, generated by the model with `params` (kept hidden from a fit):
    one row per store and quarter in the CSV schema, and the stores' true characteristics."""
    from sim.model import LoyaltyModel

    model = LoyaltyModel(rng=seed, **params).run(burn_in_weeks + 52 * years)
    frame = model.stores_frame()
    frame = frame[frame["week"] >= burn_in_weeks].copy()
    frame["quarter"] = (frame["week"] - burn_in_weeks) // 13 + 1
    g = frame.groupby(["store", "quarter"])
    rows = pd.DataFrame({
        "headcount": g["headcount"].mean().round(1),
        "customers": g["customers"].mean().round(0),
        "employee_engagement": g["employee_engagement"].mean().round(4),
        "customer_engagement": g["customer_engagement"].mean().round(4),
        "turnover_pct": (100 * 52 * g["quits"].sum() / g["headcount"].sum()).round(2),
        "churn_pct": (100 * 4 * g["churned"].sum() / g["customers"].mean()).round(2),
        "revenue": g["revenue"].sum().round(0),
    }).reset_index()
    rows.insert(0, "store_id", [f"S{s + 1:03d}" for s in rows["store"]])
    rows = rows.drop(columns="store")
    truth = pd.DataFrame({"store_id": [f"S{s + 1:03d}" for s in range(model.n_stores)],
                          "supervisor_quality": model.supervisor_quality,
                          "local_market": model.chain.local_expectation})
    return rows, truth


FORECAST = ("revenue", "turnover_pct", "churn_pct")


def _forecast_design(year1: pd.DataFrame) -> np.ndarray:
    """Year-1 store features as deviations from their chain's mean (so the fitted persistence
    does not lean on the simulated chain's level), with an intercept for the drift."""
    obs = ChainData(Path("-"), year1.set_index("store_id"), [], 4).observables()
    x = np.column_stack([_design(obs)[:, 1:], np.log(year1["customers"].to_numpy(float)),
                         np.log(year1["headcount"].to_numpy(float))])
    return np.column_stack([np.ones(len(x)), x - x.mean(axis=0)])


def forecast_next_year(year1: pd.DataFrame, cal: Any, draws: int = 4,
                       chains_per_draw: int = 2, seed: int = 1) -> pd.DataFrame:
    """Each store's revenue, turnover and churn next year, forecast by the calibrated model.

    Chains simulated over two years under posterior draws show how much of a store's year-1
    figures persists into year 2 (its supervisor and market) and how much is noise; a
    least-squares fit of year 2 on year 1 over the simulated stores, applied to the chain's
    year-1 data (`year1`, one row per store as `per_store` gives), is the forecast. Features
    and outcomes are taken relative to the chain's own year-1 means (revenue as a log ratio
    to the store's year 1), so a calibration that misses the chain's level still lends the
    forecast its persistence."""
    sim = cal.targets.simulation
    base = {**sim.fixed, "n_stores": sim.n_stores}
    seeds = np.random.SeedSequence([seed, 3]).generate_state(draws * chains_per_draw)
    xs, ys = [], {k: [] for k in FORECAST}
    for d, params in enumerate(cal.draws(draws, seed)):
        for s in seeds[d * chains_per_draw:(d + 1) * chains_per_draw]:
            rows, _ = synthetic_chain({**base, **params}, int(s), years=2)
            y1 = per_store(rows[rows["quarter"] <= 4])
            y2 = per_store(rows[rows["quarter"] > 4]).set_index("store_id").loc[y1["store_id"]]
            xs.append(_forecast_design(y1))
            ys["revenue"].append(np.log(y2["revenue"].to_numpy(float)
                                        / y1["revenue"].to_numpy(float)))
            for k in ("turnover_pct", "churn_pct"):
                ys[k].append(y2[k].to_numpy(float) - y1[k].mean())
    x = np.vstack(xs)
    scale = x.std(axis=0)
    scale[scale == 0] = 1
    x_obs = _forecast_design(year1) / scale
    out = pd.DataFrame({"store_id": year1["store_id"].to_numpy()})
    for k in FORECAST:
        coef, *_ = np.linalg.lstsq(x / scale, np.concatenate(ys[k]), rcond=None)
        pred = x_obs @ coef
        out[k] = (year1["revenue"].to_numpy(float) * np.exp(pred) if k == "revenue"
                  else np.maximum(pred + year1[k].mean(), 0.0))
    return out.set_index("store_id")


def load_chain(path: str | Path) -> dict[str, Any]:
    """Read a chain file (the `chain.yaml` of a chain calibration)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
