"""Erosion contrast (target 7): does a customer-only programme erode more where staff are
disengaged?

Two chains that differ only in how engaged their staff are (`--lever`: supervisors' mean
quality, or the drivers' baseline level), three arms each on the same seeds: baseline, the
customer programme ($20/customer/year from week 26) and the same programme without its promise
(`customer_programme_promise = 0`: no raised expectations, so no disappointment). Per chain:

- the gain in customer attachment over baseline at its peak and in the last quarter of year
  three, and target 7's ratio of the two (peak of the 8-week smoothed mean curve, as
  `sim.studies.validation.erosion_from_gains`; 95% CI by bootstrap over seeds);
- the disappointment cost: the last-quarter gain without the promise minus with it (paired t
  CI over seeds), i.e. how much of the gain raised expectations took back.

    python experiments/erosion_contrast.py [--seeds 12] [--lever supervisors] [--workers 2]
        [--set programme_confirmation=1.0 ...]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

START, WEEKS = 26, 156
PROGRAMME = {"customer_programme_budget": 20.0}
ARMS = {"baseline": {}, "programme": PROGRAMME,
        "no_promise": {**PROGRAMME, "customer_programme_promise": 0.0}}
# Two chains per lever: disengaged and engaged staff, everything else at the defaults.
LEVERS = {
    "supervisors": {"disengaged": {"supervisor_quality_mean": 0.25},
                    "engaged": {"supervisor_quality_mean": 0.75}},
    "drivers": {"disengaged": {"driver_baseline": 0.50},
                "engaged": {"driver_baseline": 0.66}},
}


def one_run(job: tuple[int, str, str, str, dict]
            ) -> tuple[tuple[str, str, int], np.ndarray, float]:
    """Weekly customer attachment of one arm on one seed, and its staff's engagement."""
    from sim import LoyaltyModel

    seed, lever, chain, arm, settings = job
    # The promise is a standing parameter (it only matters once the budget is spent).
    standing = {k: v for k, v in ARMS[arm].items() if k != "customer_programme_budget"}
    spend = {k: v for k, v in ARMS[arm].items() if k == "customer_programme_budget"}
    events = [{"week": START, "set": spend}] if spend else []
    frame = LoyaltyModel(rng=seed, events=events, **{**settings, **LEVERS[lever][chain],
                                                     **standing}).run(WEEKS).model_frame()
    return ((chain, arm, seed), frame["customer_engagement"].to_numpy(),
            float(frame["employee_engagement"].iloc[START:].mean()))


def curves(seeds: list[int], lever: str, workers: int = 1, settings: dict | None = None):
    from sim import LoyaltyModel  # noqa: F401  (loaded once, before any worker forks)

    jobs = [(s, lever, c, a, settings or {}) for c in LEVERS[lever] for a in ARMS
            for s in seeds]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            out = list(pool.map(one_run, jobs, chunksize=3))
    else:
        out = [one_run(j) for j in jobs]
    return {key: series for key, series, _ in out}, {key: e for key, _, e in out}


def parameter_settings(pairs: list[str]) -> dict[str, float]:
    """`--set name=value` pairs as model keyword arguments (the model checks names and values)."""
    settings = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            settings[name.strip()] = float(value)
        except ValueError:
            raise SystemExit(f"--set {pair}: expected NAME=NUMBER") from None
    return settings


def peak_and_end(mean_gain: np.ndarray) -> tuple[float, float]:
    smooth = pd.Series(mean_gain).rolling(8, min_periods=1).mean().to_numpy()
    return float(smooth[START:].max()), float(mean_gain[-13:].mean())


def summarise(series: dict, staff: dict, seeds: list[int], lever: str,
              bootstrap: int = 500) -> pd.DataFrame:
    from sim.studies.stats import mean_ci, paired_difference_ci

    g = np.random.default_rng(0)
    rows = []
    for chain in LEVERS[lever]:
        gain = np.array([series[(chain, "programme", s)] - series[(chain, "baseline", s)]
                         for s in seeds])
        free = np.array([series[(chain, "no_promise", s)] - series[(chain, "baseline", s)]
                         for s in seeds])
        peak, end = peak_and_end(gain.mean(axis=0))
        ratios = []
        for _ in range(bootstrap):
            pick = g.integers(0, len(seeds), len(seeds))
            p, e = peak_and_end(gain[pick].mean(axis=0))
            ratios.append(e / p if p > 0 else np.nan)
        low, high = np.nanpercentile(ratios, [2.5, 97.5])
        end_gain = mean_ci(gain[:, -13:].mean(axis=1))
        cost = paired_difference_ci(free[:, -13:].mean(axis=1), gain[:, -13:].mean(axis=1))
        rows.append({
            "chain": chain, "staff_engagement": np.mean([staff[(chain, "baseline", s)]
                                                         for s in seeds]),
            "baseline_attachment": np.mean([series[(chain, "baseline", s)][-13:].mean()
                                            for s in seeds]),
            "peak_gain": peak, "end_gain": end_gain.mean, "end_gain_low": end_gain.low,
            "end_gain_high": end_gain.high, "share_of_peak": end / peak,
            "share_low": low, "share_high": high, "disappointment_cost": cost.mean,
            "cost_low": cost.low, "cost_high": cost.high, "seeds": len(seeds)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--lever", choices=sorted(LEVERS), default="supervisors")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter for every chain and arm (repeatable)")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    series, staff = curves(seeds, args.lever, args.workers, parameter_settings(args.set))
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(summarise(series, staff, seeds, args.lever).T.to_string())


if __name__ == "__main__":
    main()
