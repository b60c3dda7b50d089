"""Your own chain: read a chain's store data (CSV), fit the model to it, write a chain file.

The fit has two stages. (1) ABC-SMC (`sim.studies.calibration`) fits the chain-level parameters
to the chain's statistics across stores (means and spreads of engagement, turnover, churn and
revenue per customer, and the engagement correlation), simulating chains of the same number and
sizes of stores. (2) Each store's own characteristics (its supervisor's leadership quality and
its local market: what its customers expect) are estimated by simulation-based regression:
chains simulated under posterior draws give, store by store, the true characteristics beside
the observables; a least-squares fit of each characteristic on the observables, applied to the
chain's stores, gives the estimate, and the spread of the residuals and of the draws its
interval.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.studies.calibration.statistics import STORE_OBSERVABLES, chain_statistics

MIN_STORES = 5
MAX_STORES = 5000
# Column -> (what it holds, allowed range). Turnover and churn are annual rates in percent
# (above 100 when a store replaces its staff more than once a year); scores are 0-1.
REQUIRED = {
    "store_id": ("the store's id", None),
    "headcount": ("staff (average over the period)", (1, 100_000)),
    "customers": ("active customers (average over the period)", (1, 100_000_000)),
    "employee_engagement": ("employee engagement, a 0-1 score", (0, 1)),
    "customer_engagement": ("customer engagement, a 0-1 score", (0, 1)),
    "turnover_pct": ("annual staff turnover, % of headcount (0-500)", (0, 500)),
    "churn_pct": ("annual customer churn, % of customers (0-500)", (0, 500)),
    "revenue": ("revenue over the period, $", (0, 1e12)),
}
OPTIONAL = {"quarter": "period number (rows per store and quarter; revenue per quarter)"}
# Read instead of churn_pct when only retention is reported.
ALTERNATIVES = {"churn_pct": ("retention_pct", lambda r: 100.0 - r)}

CHAIN_PARAMETERS = {  # fitted chain-level parameter -> prior bounds
    "supervisor_quality_mean": (0.2, 0.8),
    "supervisor_quality_sd": (0.03, 0.3),
    "expectation": (0.65, 0.82),
    "local_market_spread": (0.0, 0.12),
    "annual_quit_rate": (0.1, 0.9),
    "annual_churn_rate": (0.05, 0.5),
    "basket": (20.0, 150.0),
}


class ChainDataError(Exception):
    """The chain's data cannot be used; `str(err)` is one line naming file, row and column."""


@dataclass
class ChainData:
    """A chain's stores: one row per store with the observables, annualised."""

    path: Path
    stores: pd.DataFrame  # index store_id; REQUIRED columns (revenue per year)
    ignored: list[str]
    quarters: int  # 0 when the file has one row per store

    @property
    def revenue_per_customer(self) -> pd.Series:
        return self.stores["revenue"] / self.stores["customers"]

    def observables(self) -> pd.DataFrame:
        """The store observables in the simulator's names (`statistics.store_observables`)."""
        s = self.stores
        return pd.DataFrame({
            "employee_engagement": s["employee_engagement"],
            "customer_engagement": s["customer_engagement"],
            "turnover_pct": s["turnover_pct"], "churn_pct": s["churn_pct"],
            "revenue_per_customer": self.revenue_per_customer,
            "headcount": s["headcount"], "customers": s["customers"]})


def read_chain_csv(path: str | Path) -> ChainData:
    """Read and check a chain's CSV; raise ChainDataError naming file, row and column."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise ChainDataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ChainDataError(f"{path}: cannot be read as UTF-8 CSV ({err}); allowed: a CSV "
                             "file with one row per store") from None
    except csv.Error as err:
        raise ChainDataError(f"{path}: not valid CSV ({err})") from None
    if not rows:
        raise ChainDataError(f"{path}: is empty; allowed: a header row and one row per store")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header and not (
        c in ALTERNATIVES and ALTERNATIVES[c][0] in header)]
    if missing:
        raise ChainDataError(f"{path}: row 1: column '{missing[0]}' is missing; allowed: "
                             f"columns {', '.join(REQUIRED)} (retention_pct may replace "
                             "churn_pct; quarter is optional)")
    seen = {}
    for i, h in enumerate(header):
        if h in seen and h in (*REQUIRED, *OPTIONAL):
            raise ChainDataError(f"{path}: row 1: column '{h}' appears twice; allowed: each "
                                 "column once")
        seen[h] = i
    used = [*REQUIRED, *OPTIONAL, *(a for a, _ in ALTERNATIVES.values())]
    ignored = [h for h in header if h not in used]
    quarterly = "quarter" in seen
    records = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ChainDataError(f"{path}: row {n}: has {len(row)} values for {len(header)} "
                                 "columns; allowed: one value per column")
        rec: dict[str, Any] = {"store_id": row[seen["store_id"]].strip()}
        if not rec["store_id"]:
            raise ChainDataError(f"{path}: row {n}, column 'store_id': is empty; allowed: the "
                                 "store's id")
        numeric = [c for c in REQUIRED if c != "store_id"] + (["quarter"] if quarterly else [])
        for col in numeric:
            source, convert = col, None
            if col not in seen:
                source, convert = ALTERNATIVES[col]
            text = row[seen[source]].strip()
            try:
                value = float(text.rstrip("%")) if text else math.nan
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ChainDataError(f"{path}: row {n}, column '{source}': {text!r} is not a "
                                     f"number; allowed: {_describe(col)}")
            bounds = REQUIRED.get(col, (None, (1, 400)))[1]
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ChainDataError(f"{path}: row {n}, column '{source}': {value:g} is outside "
                                     f"{bounds[0]:g}-{bounds[1]:g}; allowed: {_describe(col)}")
            rec[col] = convert(value) if convert else value
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if df.empty:
        raise ChainDataError(f"{path}: has no store rows; allowed: at least {MIN_STORES} stores")
    key = ["store_id", "quarter"] if quarterly else ["store_id"]
    dup = df.duplicated(key)
    if dup.any():
        n = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        what = "store and quarter" if quarterly else "store id"
        raise ChainDataError(f"{path}: row {n}, column 'store_id': duplicate {what} "
                             f"{df['store_id'].iloc[n - 2]!r}; allowed: each {what} once")
    quarters = 0
    if quarterly:
        quarters = int(df.groupby("store_id").size().max())
        df = per_store(df)
    if len(df) < MIN_STORES:
        raise ChainDataError(f"{path}: has {len(df)} stores; allowed: at least {MIN_STORES} "
                             "stores (the fit compares stores)")
    if len(df) > MAX_STORES:
        raise ChainDataError(f"{path}: has {len(df)} stores; allowed: at most {MAX_STORES}")
    return ChainData(path, df.set_index("store_id"), ignored, quarters)


def per_store(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Rows per store and quarter -> one row per store: averages, revenue annualised."""
    g = quarterly.groupby("store_id", sort=False)
    df = g[[c for c in REQUIRED if c not in ("store_id", "revenue")]].mean()
    df["revenue"] = g["revenue"].sum() * 4 / g.size()
    return df.reset_index()


def _describe(col: str) -> str:
    return REQUIRED[col][0] if col in REQUIRED else OPTIONAL.get(col, col)


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
    return {
        "name": f"chain-{_slug(data.path.stem)}",
        "description": f"Chain-level fit to {data.path.name} ({len(obs)} stores)",
        "fit": {p: {"low": lo, "high": hi} for p, (lo, hi) in CHAIN_PARAMETERS.items()},
        "targets": targets,
        "simulation": {"statistics": "chain", "n_stores": size["n_stores"],
                       # a year of data after half a year's settling, like the example
                       "weeks": 78, "window_weeks": 52,
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


def estimate_stores(data: ChainData, cal: Any, draws: int = 8, chains_per_draw: int = 3,
                    seed: int = 1) -> pd.DataFrame:
    """Each store's supervisor quality and local market: estimate and 90% interval."""
    sim = cal.targets.simulation
    base = {**sim.fixed, "n_stores": sim.n_stores}
    x_obs = _design(data.observables())
    g = np.random.default_rng(seed)
    samples = {c: [] for c in CHARACTERISTICS}
    seeds = np.random.SeedSequence([seed, 2]).generate_state(draws * chains_per_draw)
    for d, params in enumerate(cal.draws(draws, seed)):
        table = pd.concat([simulated_stores({**base, **params}, int(s), sim.weeks,
                                            sim.window_weeks)
                           for s in seeds[d * chains_per_draw:(d + 1) * chains_per_draw]])
        x = _design(table)
        scale = x.std(axis=0)
        scale[scale == 0] = 1
        for c in CHARACTERISTICS:
            y = table[c].to_numpy(float)
            coef, *_ = np.linalg.lstsq(x / scale, y, rcond=None)
            resid_sd = float(np.std(y - (x / scale) @ coef, ddof=x.shape[1]))
            fitted = (x_obs / scale) @ coef
            samples[c].append(fitted[:, None] + resid_sd * g.standard_normal((len(fitted), 50)))
    out = pd.DataFrame(index=data.stores.index)
    for c in CHARACTERISTICS:
        s = np.concatenate(samples[c], axis=1)
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
    from sim.studies.calibration.engine import default_folder
    from sim.studies.calibration.targets import parse_targets

    data = read_chain_csv(path)
    spec = chain_targets(data, quick, seed)
    spec["abc"].update(abc or {})
    targets = parse_targets(spec, path)
    folder = Path(out) if out is not None else default_folder(targets)
    if (folder / "chain.yaml").is_file():
        return load_calibration(folder)
    staging = folder.with_name(f".{folder.name}.fit")
    cal = calibrate(targets, out=staging, workers=workers, cluster=cluster, progress=progress)
    stores = estimate_stores(data, cal, draws=store_draws or (3 if quick else 8),
                             chains_per_draw=2 if quick else 3, seed=seed)
    stores.to_csv(staging / "stores.csv")
    chain = chain_file_data(data, cal, stores)
    text = "# Written by `loyalty-sim calibrate --stores`: fitted to the data named below.\n"
    (staging / "chain.yaml").write_text(text + yaml.safe_dump(chain, sort_keys=False),
                                        encoding="utf-8")
    staging.rename(folder)
    return load_calibration(folder)


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
