"""When an ABC-SMC fit may be called converged, judged on its generations' history.

Three criteria must all hold at the last generation (thresholds in the targets file's
`abc.convergence`):

- epsilon has stopped falling: its relative decrease over the last two generations is below
  `epsilon_decrease` (the distance threshold has reached the simulator's noise floor);
- the weights are not degenerate: the effective sample size is at least `ess_fraction` of the
  population (otherwise the posterior rests on a handful of particles);
- the posterior has stopped moving: every fitted parameter's weighted median moved less than
  `median_shift` of its prior range between the last two generations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# What each criterion measures, in words (reports).
CRITERIA = {"epsilon_decrease": "relative fall of epsilon over the last two generations",
            "ess": "effective sample size as a share of the population",
            "median_shift": "largest move of a posterior median, share of its prior range"}


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size of importance weights (normalised here)."""
    w = np.asarray(weights, float)
    w = w / w.sum()
    return float(1 / np.sum(w ** 2))


def generation_table(history: Any, names: list[str]) -> pd.DataFrame:
    """One row per finished generation of a pyabc history: epsilon, samples, particles,
    acceptance rate, effective sample size and each parameter's weighted median
    (`median_<name>`)."""
    from sim.studies.calibration.engine import weighted_quantile

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, pop in pops.iterrows():
        t = int(pop["t"])
        df, w = history.get_distribution(m=0, t=t)
        rows.append({
            "generation": t, "epsilon": float(pop["epsilon"]), "samples": int(pop["samples"]),
            "particles": int(pop["particles"]),
            "acceptance_rate": pop["particles"] / max(pop["samples"], 1),
            "ess": round(effective_sample_size(w), 2),
            "population_end_time": pop["population_end_time"],
            **{f"median_{n}": weighted_quantile(df[n], w, 0.5) for n in names},
        })
    return pd.DataFrame(rows)


def check(generations: pd.DataFrame, ranges: dict[str, tuple[float, float]],
          rule: Any) -> dict[str, Any]:
    """Judge the last generation of `generations` (as `generation_table` gives) against
    `rule` (epsilon_decrease, ess_fraction, median_shift); `ranges` are the prior bounds.

    Returns `{"converged": bool, "generation": t, "criteria": {name: {"value", "threshold",
    "held", "detail"}}}`; a criterion that cannot be judged yet (too few generations) fails.
    """
    n = len(generations)
    criteria: dict[str, dict[str, Any]] = {}
    eps = generations["epsilon"].to_numpy(float) if n else np.array([])
    if n >= 3 and eps[-3] > 0:
        drop = float((eps[-3] - eps[-1]) / eps[-3])
        criteria["epsilon_decrease"] = _criterion(
            drop, rule.epsilon_decrease, drop < rule.epsilon_decrease,
            f"epsilon {eps[-3]:.3g} -> {eps[-1]:.3g} over the last two generations")
    else:
        criteria["epsilon_decrease"] = _criterion(
            None, rule.epsilon_decrease, False, "needs three generations")
    if n:
        last = generations.iloc[-1]
        share = float(last["ess"] / last["particles"])
        criteria["ess"] = _criterion(share, rule.ess_fraction, share >= rule.ess_fraction,
                                     f"ESS {last['ess']:.1f} of {int(last['particles'])}")
    else:
        criteria["ess"] = _criterion(None, rule.ess_fraction, False, "no generation yet")
    if n >= 2:
        shifts = {p: abs(generations[f"median_{p}"].iloc[-1]
                         - generations[f"median_{p}"].iloc[-2]) / (high - low)
                  for p, (low, high) in ranges.items()}
        worst = max(shifts, key=shifts.get)
        criteria["median_shift"] = _criterion(
            float(shifts[worst]), rule.median_shift, shifts[worst] < rule.median_shift,
            f"largest move: {worst}, {shifts[worst]:.1%} of its prior range")
    else:
        criteria["median_shift"] = _criterion(None, rule.median_shift, False,
                                              "needs two generations")
    return {"converged": all(c["held"] for c in criteria.values()),
            "generation": int(generations["generation"].iloc[-1]) if n else None,
            "criteria": criteria}


def _criterion(value: float | None, threshold: float, held: bool, detail: str) -> dict:
    return {"value": None if value is None else round(value, 4), "threshold": threshold,
            "held": bool(held), "detail": detail}
