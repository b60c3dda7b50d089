"""Uncertainty that reaches the verdict: each replication is one plausible world.

Under `uncertainty: evidence` (scenario files and sweep specs), replication r draws every
uncertain parameter (`sim.model.sources.UNCERTAIN`: policy effect sizes and persistence,
reciprocity strength, ...) from its declared distribution. The draw depends only on the
replication's seed, never on the arm or the design point, so arm A and arm B in replication r
live in the same world (common random numbers across arms): their difference is the policy's
effect in that world. Parameters a file sets explicitly (scenario, arm or sweep factor) win over
the draw: they are what the user fixed.

`world_sentence` turns the paired per-replication results into the report's plain sentence
("coaching beats the HR programme in 78% of draws; median profit lead $0.9M, 90% interval
...").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from sim.model.sources import UNCERTAIN, Uncertain

MODES = ("none", "evidence")
# Mixed into the seed so the draws are a stream of their own, independent of the model's.
_STREAM = 0x0E71DE


def draw_parameters(seed: int, names: tuple[str, ...] | None = None) -> dict[str, float]:
    """One plausible world: a value for each uncertain parameter, a function of `seed` only.

    Each parameter has its own sub-stream (keyed by its name), so adding a parameter to
    UNCERTAIN leaves the others' draws alone.
    """
    return draw_worlds([seed], names)[0]


def draw_worlds(seeds: Any, names: tuple[str, ...] | None = None) -> list[dict[str, float]]:
    """`draw_parameters` for each seed, with one quantile call per parameter for all of them."""
    seeds = [int(s) for s in seeds]
    columns = {}
    for name in sorted(UNCERTAIN if names is None else names):
        key = int.from_bytes(name.encode(), "little") % (2**63)
        p = np.array([np.random.default_rng([_STREAM, s, key]).random() for s in seeds])
        columns[name] = np.atleast_1d(quantile(UNCERTAIN[name], p))
    return [{name: float(v[i]) for name, v in columns.items()} for i in range(len(seeds))]


def quantile(u: Uncertain, p: float | np.ndarray) -> Any:
    """The p-quantile of an uncertain parameter's truncated normal (p in [0, 1])."""
    if u.sd <= 0:
        return float(u.mean) if np.ndim(p) == 0 else np.full(np.shape(p), u.mean)
    a, b = (u.low - u.mean) / u.sd, (u.high - u.mean) / u.sd
    value = truncnorm.ppf(p, a, b, loc=u.mean, scale=u.sd)
    return float(value) if np.ndim(value) == 0 else value


# ------------------------------------------------------------------------------- reading
def paired_leads(metrics: pd.DataFrame, arm: str, other: str,
                 column: str = "profit") -> np.ndarray:
    """`arm` minus `other` in each replication (world) both finished."""
    a = metrics.loc[metrics["arm"] == arm, ["replication", column]]
    b = metrics.loc[metrics["arm"] == other, ["replication", column]]
    both = a.merge(b, on="replication", suffixes=("_a", "_b"))
    return (both[f"{column}_a"] - both[f"{column}_b"]).to_numpy(float)


def world_summary(leads: np.ndarray) -> dict[str, float]:
    """Share of worlds where the lead is positive, its median and 90% interval (5th-95th
    percentile across worlds: the spread of plausible outcomes, not a CI of the mean)."""
    leads = np.asarray(leads, float)
    if len(leads) == 0:
        return {"n": 0, "share": float("nan"), "median": float("nan"),
                "low": float("nan"), "high": float("nan")}
    low, median, high = np.percentile(leads, [5, 50, 95])
    return {"n": len(leads), "share": float(np.mean(leads > 0)), "median": float(median),
            "low": float(low), "high": float(high)}


def world_sentence(metrics: pd.DataFrame, arm: str, other: str, *, arm_label: str | None = None,
                   other_label: str | None = None, evidence: bool = True,
                   column: str = "profit") -> str:
    """Plain sentence: how often `arm` beats `other` on `column` across the paired
    replications, with the median lead and its 90% interval across them.

    With `evidence`, each replication is a draw of the uncertain parameters (a plausible
    world); without, only chance differs between replications and the sentence says so.
    """
    from sim.studies.answers import money_words

    s = world_summary(paired_leads(metrics, arm, other, column))
    a, b = arm_label or arm, other_label or other
    if s["n"] == 0:
        return ""
    what = "draws of the uncertain evidence" if evidence else "replications (chance only)"
    return (f"{a} beats {b} on {column} in {s['share']:.0%} of {s['n']} {what}; median "
            f"{column} lead {money_words(s['median'], True)}, 90% interval "
            f"{money_words(s['low'], True)} to {money_words(s['high'], True)}.")
