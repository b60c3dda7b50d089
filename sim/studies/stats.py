"""Means and differences with t-based 95% confidence intervals over replications."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats


@dataclass(frozen=True)
class Estimate:
    """A mean over `n` replications with its confidence interval (nan when n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return bool(self.low > 0 or self.high < 0)


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Estimate:
    """Mean of `values` with the Student-t confidence interval at `level`."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sd = float(x.std(ddof=1))
    half = float(_scipy_stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def paired_difference_ci(treated: Sequence[float] | np.ndarray,
                         baseline: Sequence[float] | np.ndarray,
                         level: float = 0.95) -> Estimate:
    """Mean of `treated - baseline`, pair by pair (same seed), with its t interval.

    Pairs where either value is missing (nan) are dropped.
    """
    a, b = np.asarray(treated, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same length, got {len(a)} and {len(b)}")
    return mean_ci(a - b, level)


def mean_ci_rows(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, ...]:
    """Row-wise mean_ci of a 2-D array (rows: e.g. weeks, columns: replications).

    Returns arrays (mean, low, high); low and high are nan for rows with fewer than 2 values.
    """
    x = np.asarray(values, dtype=float)
    n = np.isfinite(x).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(np.where(np.isfinite(x), x, 0.0), axis=1)
                        / np.maximum(n, 1), np.nan)
        dev = np.where(np.isfinite(x), x - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / (n - 1))
        t = _scipy_stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, t * sd / np.sqrt(n), np.nan)
    return mean, mean - half, mean + half
