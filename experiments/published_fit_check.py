"""Is the published fit's posterior median closer to targets 1-4 than the hand-set defaults?

Both parameter sets are simulated on the same fresh seeds (never used by the fit; common random
numbers), each candidate as the fit simulates one (two 50-store chains of 156 weeks), and scored
with the fit's own distance (RMS of the standardised gaps to targets 1-4, in SEs). Prints each
seed's distances, the means and the paired difference with its 95% CI, and the mean of each
statistic against its published figure.

    python experiments/published_fit_check.py experiments/results/published_fit --seeds 8

The folder may also be one a fit is still writing (or was stopped before finishing): its last
finished generation is then checked.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from sim.model.parameters import Parameters
from sim.studies.calibration import CalibrationError, load_calibration, load_unfinished
from sim.studies.calibration.engine import distance
from sim.studies.calibration.statistics import simulate
from sim.studies.stats import mean_ci, paired_difference_ci


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    try:
        cal = load_calibration(args.folder)
    except CalibrationError:  # a long fit still running or stopped: its last generation
        cal = load_unfinished(args.folder)
        print(f"unfinished fit: generation {cal.info['generations'] - 1}, "
              f"epsilon {cal.info['final_epsilon']:.3g}")
    t = cal.targets
    defaults = Parameters()
    sets = {"defaults": {p: getattr(defaults, p) for p in cal.parameters},
            "posterior median": cal.median()}
    scales = {k: v.scale for k, v in t.targets.items()}
    observed = {k: v.observed for k, v in t.targets.items()}
    # Fresh seeds: the fit's seeds come from numpy's global generator seeded with abc.seed.
    seeds = [int(s) for s in np.random.SeedSequence([t.abc.seed, 99]).generate_state(args.seeds)]
    rows = []
    for label, params in sets.items():
        for seed in seeds:
            stats = simulate(params, seed, t.simulation)
            rows.append({"set": label, "seed": seed, **stats,
                         "distance": distance(stats, observed, scales)})
            print(label, seed, round(rows[-1]["distance"], 3), flush=True)
    df = pd.DataFrame(rows)
    for label, params in sets.items():
        d = mean_ci(df.loc[df["set"] == label, "distance"])
        print(f"{label}: distance {d.mean:.2f} SEs (95% CI {d.low:.2f}-{d.high:.2f}); "
              + ", ".join(f"{k}={v:.4g}" for k, v in params.items()))
    diff = paired_difference_ci(df.loc[df["set"] == "posterior median", "distance"].to_numpy(),
                                df.loc[df["set"] == "defaults", "distance"].to_numpy())
    print(f"posterior median - defaults: {diff.mean:+.2f} SEs (95% CI {diff.low:+.2f} to "
          f"{diff.high:+.2f}), {len(seeds)} seeds")
    means = df.groupby("set")[list(scales)].mean().T
    means.insert(0, "published", pd.Series(observed))
    means["SE"] = pd.Series(scales)
    print(means.round(3).to_string())


if __name__ == "__main__":
    main()
