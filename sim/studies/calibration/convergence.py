"""When an ABC-SMC fit may be called converged, judged on its generations' history.

Three criteria must all hold at the last generation (thresholds in the targets file's
`abc.convergence`):

- epsilon has reached the targets' stated uncertainty (`stated_tolerance`, the floor of the
  fit's epsilon schedule) or stopped falling above it: its relative decrease over the last two
  generations is below `epsilon_decrease` (the distance threshold has reached the simulator's
  noise floor);
- the weights are not degenerate: the effective sample size is at least `ess_fraction` of the
  population (otherwise the posterior rests on a handful of particles);
- the posterior has stopped moving: no fitted parameter's weighted median moved by more than
  `median_shift` of its prior range between the last two generations, beyond what Monte Carlo
  noise explains. A median of a few hundred weighted particles is itself uncertain: at the
  published fit's generation 6 (300 particles, ESS 143), the standard error of a move between
  two generations of a stationary posterior is 4-7% of the prior range for 7 of its 13
  parameters, so a bare "< 5%" would fail a posterior that no longer moves about 97% of the
  time. A move counts as movement when it reaches `median_shift` plus `MOVE_Z` standard
  errors (one-sided 5%); the standard error of each generation's median comes from
  Woodruff's interval (`median_standard_error`), and the two generations' are combined as
  independent. A generation table without standard errors is judged on the bare threshold.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

# What each criterion measures, in words (reports).
CRITERIA = {"epsilon_decrease": "relative fall of epsilon over the last two generations "
                                "(held at once where epsilon reaches the targets' stated "
                                "uncertainty)",
            "ess": "effective sample size as a share of the population",
            "median_shift": "largest move of a posterior median, share of its prior range"}


MOVE_Z = NormalDist().inv_cdf(0.95)  # one-sided 5%: a move this many SEs past the threshold


def stated_tolerance(n_targets: int) -> float:
    """The epsilon at which the fit's candidates match the targets as closely as their stated
    uncertainty allows, and no closer: sqrt((k + 2) / k) on the RMS of the k standardised
    gaps. Accepting gaps up to epsilon is exact inference under an error uniform on that ball
    (Wilkinson 2013, Stat. Appl. Genet. Mol. Biol. 12:129-141); on a ball of radius
    sqrt(k + 2) in SE units each of the k components of that error has variance 1, so the
    error has the standard errors the targets file states. A smaller epsilon would treat the
    published figures as more precise than their bands say."""
    return math.sqrt((n_targets + 2) / n_targets)


def median_standard_error(values: Any, weights: Any) -> float:
    """Monte Carlo standard error of a weighted median, by Woodruff's (1952) method: the
    median's 95% interval read off the weighted distribution at 0.5 +/- 1.96 sqrt(0.25 / ESS),
    divided by 2 x 1.96 (Woodruff, J. Am. Stat. Assoc. 47:635-646; ESS is Kish's)."""
    from sim.studies.calibration.engine import weighted_quantile

    z = NormalDist().inv_cdf(0.975)
    half = z * math.sqrt(0.25 / effective_sample_size(weights))
    low = weighted_quantile(values, weights, max(0.5 - half, 0.0))
    high = weighted_quantile(values, weights, min(0.5 + half, 1.0))
    return (high - low) / (2 * z)


def posterior_medians(particles: pd.DataFrame, weights: Any, names: list[str]
                      ) -> dict[str, float]:
    """Each parameter's weighted median (`median_<name>`) and its Monte Carlo standard error
    (`median_se_<name>`), as a generation's row holds them."""
    from sim.studies.calibration.engine import weighted_quantile

    row = {f"median_{n}": weighted_quantile(particles[n], weights, 0.5) for n in names}
    return row | {f"median_se_{n}": median_standard_error(particles[n], weights) for n in names}


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size of importance weights (normalised here)."""
    w = np.asarray(weights, float)
    w = w / w.sum()
    return float(1 / np.sum(w ** 2))


def generation_table(history: Any, names: list[str]) -> pd.DataFrame:
    """One row per finished generation of a pyabc history: epsilon, samples, particles,
    acceptance rate, effective sample size, each parameter's weighted median
    (`median_<name>`) and that median's Monte Carlo standard error (`median_se_<name>`)."""
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
            **posterior_medians(df, w, names),
        })
    return pd.DataFrame(rows)


def check(generations: pd.DataFrame, ranges: dict[str, tuple[float, float]],
          rule: Any, tolerance: float | None = None) -> dict[str, Any]:
    """Judge the last generation of `generations` (as `generation_table` gives) against
    `rule` (epsilon_decrease, ess_fraction, median_shift); `ranges` are the prior bounds and
    `tolerance` the floor of the epsilon schedule (`stated_tolerance`), if it has one.

    Returns `{"converged": bool, "generation": t, "criteria": {name: {"value", "threshold",
    "held", "detail"}}}`; a criterion that cannot be judged yet (too few generations) fails.
    """
    n = len(generations)
    criteria: dict[str, dict[str, Any]] = {}
    eps = generations["epsilon"].to_numpy(float) if n else np.array([])
    if n and tolerance is not None and eps[-1] <= tolerance * (1 + 1e-9):
        drop = float((eps[-3] - eps[-1]) / eps[-3]) if n >= 3 and eps[-3] > 0 else None
        criteria["epsilon_decrease"] = _criterion(
            drop, rule.epsilon_decrease, True,
            f"epsilon {eps[-1]:.3g} has reached the targets' stated uncertainty "
            f"({tolerance:.3g}, the floor of its schedule)")
    elif n >= 3 and eps[-3] > 0:
        drop = float((eps[-3] - eps[-1]) / eps[-3])
        criteria["epsilon_decrease"] = _criterion(
            drop, rule.epsilon_decrease, drop < rule.epsilon_decrease,
            f"epsilon {eps[-3]:.3g} -> {eps[-1]:.3g} over the last two generations"
            + ("" if tolerance is None else f", above the targets' stated uncertainty "
               f"({tolerance:.3g})"))
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
        moves = {p: _move(generations, p, high - low) for p, (low, high) in ranges.items()}
        moved = {p: move >= rule.median_shift + MOVE_Z * se for p, (move, se) in moves.items()}
        worst = max(moves, key=lambda p: moves[p][0])
        move, se = moves[worst]

        def allowance(p: str) -> str:
            m, e = moves[p]
            return f"{p} {m:.1%} (SE {e:.1%}; counts past {rule.median_shift + MOVE_Z * e:.1%})"

        if any(moved.values()):
            detail = "moved beyond noise (share of the prior range): " + ", ".join(
                allowance(p) for p in moves if moved[p])
        else:
            detail = f"largest move (share of the prior range): {allowance(worst)}"
        criteria["median_shift"] = _criterion(
            float(move), rule.median_shift, not any(moved.values()),
            f"{detail}; a move counts past {rule.median_shift:.0%} + {MOVE_Z:.2f} SE")
    else:
        criteria["median_shift"] = _criterion(None, rule.median_shift, False,
                                              "needs two generations")
    return {"converged": all(c["held"] for c in criteria.values()),
            "generation": int(generations["generation"].iloc[-1]) if n else None,
            "criteria": criteria}


def _move(generations: pd.DataFrame, name: str, prior_range: float) -> tuple[float, float]:
    """A median's move over the last two generations and the move's Monte Carlo standard
    error, both as shares of the prior range (SE 0 when the table has none)."""
    median = generations[f"median_{name}"]
    move = abs(float(median.iloc[-1] - median.iloc[-2])) / prior_range
    column = f"median_se_{name}"
    if column not in generations:
        return move, 0.0
    se = generations[column].iloc[-2:].to_numpy(float)
    return move, float(math.sqrt(np.sum(se ** 2))) / prior_range if np.isfinite(se).all() \
        else 0.0


def _criterion(value: float | None, threshold: float, held: bool, detail: str) -> dict:
    return {"value": None if value is None else round(value, 4), "threshold": threshold,
            "held": bool(held), "detail": detail}
