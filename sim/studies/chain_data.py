"""A chain's store data (CSV): read, check and convert to the simulator's observables.

One row per store (or per store and quarter). Each measure may come in the form the chain's
own tools report it (README, "Your own chain: CSV schema"):

- employee engagement: a 0-1 score, or the shares engaged and actively disengaged (Q12-style);
- customer engagement: a 0-1 score, the shares fully engaged and actively disengaged, or NPS;
- customers, or transactions (converted at the model's visit rate);
- churn, or retention.

Shares (0-1 or 0-100) become the 0-1 score through the model's own survey cut-offs
(`sim.model.rules`): within a store, scores are taken as normally spread, so the two shares
fix the spread's mean and width, and the mean is the store's score. NPS (promoters minus
detractors, -100 to 100) is read as fully engaged minus actively disengaged at the typical
within-store spread of customers' engagement.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import norm

from sim.model import rules
from sim.model.parameters import Parameters

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
SHARE = (0, 100)  # a share: 0-1, or 0-100 when any value of its column is above 1
# Other forms of a required column: column -> [(source columns, (what, allowed range))].
ALTERNATIVES: dict[str, list[tuple[tuple[str, ...], tuple[str, tuple[float, float]]]]] = {
    "churn_pct": [(("retention_pct",), ("annual customer retention, % (0-100)", (0, 100)))],
    "customers": [(("transactions",), ("transactions over the period", (1, 1e12)))],
    "employee_engagement": [(("employees_engaged", "employees_actively_disengaged"),
                             ("share of staff engaged / actively disengaged, 0-1 or 0-100",
                              SHARE))],
    "customer_engagement": [(("customers_fully_engaged", "customers_actively_disengaged"),
                             ("share of customers fully engaged / actively disengaged, 0-1 or "
                              "0-100", SHARE)),
                            (("nps",), ("net promoter score, -100 to 100", (-100, 100)))],
}
SHARE_COLUMNS = ("employees_engaged", "employees_actively_disengaged",
                 "customers_fully_engaged", "customers_actively_disengaged")
# Shares at the ends (0 or 100%) are read as this close to them: a normal spread never
# puts exactly nobody past a cut-off.
SHARE_FLOOR = 0.005
SHARE_INFORMATIVE = 0.03  # a share nearer 0 or 1 than this does not fix the spread
# Within-store spread (sd) of customers' engagement scores, used to read NPS: measured in the
# default model (20 stores after 104 weeks, seed 1: 0.137 to 0.165 across stores, mean 0.15;
# with the published fit's defaults of 2026-11-26, 0.085 to 0.184, mean 0.156, within 4% of
# the value used, so it was not changed).
CUSTOMER_ENGAGEMENT_SD = 0.15
EMPLOYEE_ENGAGEMENT_SD = 0.08  # the same for staff (same run: mean 0.078; fitted defaults 0.077)


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


def score_from_shares(high: np.ndarray, low: np.ndarray, high_cut: float, low_cut: float,
                      typical_sd: float) -> np.ndarray:
    """The mean 0-1 score of a store whose share `high` (0-1) scores at or above `high_cut`
    and share `low` below `low_cut`, with scores normally spread within the store. When one
    share is near 0 (or 1) it says little about the spread: the other share is read at the
    typical spread `typical_sd` instead."""
    high = np.clip(high, SHARE_FLOOR, 1 - SHARE_FLOOR)
    low = np.clip(low, SHARE_FLOOR, 1 - SHARE_FLOOR)
    z_low, z_high = ndtri(low), ndtri(1 - high)
    sd = (high_cut - low_cut) / np.maximum(z_high - z_low, 1e-3)
    both = low_cut - sd * z_low
    from_low = low_cut - typical_sd * z_low
    from_high = high_cut - typical_sd * z_high
    edge = np.minimum(np.minimum(high, 1 - high), np.minimum(low, 1 - low)) < SHARE_INFORMATIVE
    one = np.where(np.minimum(high, 1 - high) < np.minimum(low, 1 - low), from_low, from_high)
    return np.clip(np.where(edge, one, both), 0.0, 1.0)


def score_from_nps(nps: np.ndarray, sd: float = CUSTOMER_ENGAGEMENT_SD) -> np.ndarray:
    """The mean customer engagement (0-1) at which fully engaged minus actively disengaged
    customers, at a within-store spread `sd`, equals NPS / 100 (monotone: solved on a grid)."""
    grid = np.linspace(0.0, 1.0, 2001)
    net = (norm.sf(rules.CUSTOMER_FULLY_ENGAGED, grid, sd)
           - norm.cdf(rules.CUSTOMER_NOT_ENGAGED, grid, sd))
    return np.interp(np.asarray(nps, float) / 100.0, net, grid)


def read_chain_csv(path: str | Path) -> ChainData:
    """Read and check a chain's CSV; raise ChainDataError naming file, row and column."""
    path = Path(path)
    header, rows = _read_rows(path)
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen and h in _known():
            raise ChainDataError(f"{path}: row 1: column '{h}' appears twice; allowed: each "
                                 "column once")
        seen[h] = i
    sources = {}
    for col in REQUIRED:
        found = _source(col, seen)
        if found is None:
            forms = "".join(f" or {' + '.join(s)}" for s, _ in ALTERNATIVES.get(col, []))
            raise ChainDataError(f"{path}: row 1: column '{col}' is missing; allowed: "
                                 f"{col}{forms} (columns: {', '.join(REQUIRED)}; quarter is "
                                 "optional; README, CSV schema)")
        sources[col] = found
    ignored = [h for h in header if h not in _known()]
    quarterly = "quarter" in seen
    ranges = {c: bounds for col, (cols, (_, bounds)) in sources.items() if col != "store_id"
              for c in cols}
    if quarterly:
        ranges["quarter"] = (1, 400)
    records = []
    for n, row in rows:
        rec: dict[str, Any] = {"store_id": row[seen["store_id"]].strip(), "row": n}
        if not rec["store_id"]:
            raise ChainDataError(f"{path}: row {n}, column 'store_id': is empty; allowed: the "
                                 "store's id")
        for col, bounds in ranges.items():
            text = row[seen[col]].strip()
            try:
                value = float(text.rstrip("%")) if text else math.nan
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ChainDataError(f"{path}: row {n}, column '{col}': {text!r} is not a "
                                     f"number; allowed: {_describe(col)}")
            if not bounds[0] <= value <= bounds[1]:
                raise ChainDataError(f"{path}: row {n}, column '{col}': {value:g} is outside "
                                     f"{bounds[0]:g}-{bounds[1]:g}; allowed: {_describe(col)}")
            rec[col] = value
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if df.empty:
        raise ChainDataError(f"{path}: has no store rows; allowed: at least {MIN_STORES} stores")
    _convert(path, df, sources, quarterly)
    key = ["store_id", "quarter"] if quarterly else ["store_id"]
    dup = df.duplicated(key)
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        what = "store and quarter" if quarterly else "store id"
        raise ChainDataError(f"{path}: row {df['row'].iloc[first]}, column 'store_id': "
                             f"duplicate {what} {df['store_id'].iloc[first]!r}; allowed: each "
                             f"{what} once")
    df = df[["store_id", *(["quarter"] if quarterly else []), *list(REQUIRED)[1:]]]
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


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
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
    body = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ChainDataError(f"{path}: row {n}: has {len(row)} values for {len(header)} "
                                 "columns; allowed: one value per column")
        body.append((n, row))
    return header, body


def _known() -> set[str]:
    alt = {c for forms in ALTERNATIVES.values() for cols, _ in forms for c in cols}
    return {*REQUIRED, *OPTIONAL, *alt}


def _source(col: str, seen: dict[str, int]) -> tuple[tuple[str, ...], tuple[str, Any]] | None:
    """Where a required column comes from: itself, or the first complete alternative."""
    if col in seen:
        return (col,), REQUIRED[col]
    for cols, what in ALTERNATIVES.get(col, []):
        if all(c in seen for c in cols):
            return cols, what
    return None


def _convert(path: Path, df: pd.DataFrame, sources: dict, quarterly: bool) -> None:
    """Fill the required columns from their alternative forms (in place)."""
    for col in SHARE_COLUMNS:
        if col in df and (df[col] > 1).any():  # given in percent
            df[col] = df[col] / 100.0
    for col, (cols, _) in sources.items():
        if cols == (col,):
            continue
        if col == "churn_pct":
            df[col] = 100.0 - df["retention_pct"]
        elif col == "customers":
            weeks = 13 if quarterly else 52
            df[col] = np.maximum(df["transactions"] / (weeks * Parameters().visits_per_week), 1)
        elif cols == ("nps",):
            df[col] = score_from_nps(df["nps"].to_numpy())
        else:
            high, low = df[cols[0]].to_numpy(), df[cols[1]].to_numpy()
            both = high + low
            if (both > 1 + 1e-9).any():
                i = int(np.flatnonzero(both > 1 + 1e-9)[0])
                raise ChainDataError(
                    f"{path}: row {df['row'].iloc[i]}, column '{cols[1]}': {cols[0]} and "
                    f"{cols[1]} add up to {100 * both[i]:.4g}%; allowed: shares that add up to "
                    "at most 100%")
            cuts = ((rules.EMPLOYEE_ENGAGED, rules.EMPLOYEE_ACTIVELY_DISENGAGED,
                     EMPLOYEE_ENGAGEMENT_SD) if col == "employee_engagement"
                    else (rules.CUSTOMER_FULLY_ENGAGED, rules.CUSTOMER_NOT_ENGAGED,
                          CUSTOMER_ENGAGEMENT_SD))
            df[col] = score_from_shares(high, low, *cuts)


def per_store(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Rows per store and quarter -> one row per store: averages, revenue annualised."""
    g = quarterly.groupby("store_id", sort=False)
    df = g[[c for c in REQUIRED if c not in ("store_id", "revenue")]].mean()
    df["revenue"] = g["revenue"].sum() * 4 / g.size()
    return df.reset_index()


def _describe(col: str) -> str:
    if col in REQUIRED:
        return REQUIRED[col][0]
    for forms in ALTERNATIVES.values():
        for cols, (what, _) in forms:
            if col in cols:
                return what
    return OPTIONAL.get(col, col)
