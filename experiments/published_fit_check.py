"""Is the published fit's posterior median closer to targets 1-4 than the hand-set defaults?

Both parameter sets are simulated on the same fresh seeds (never used by the fit; common random
numbers), each candidate as the fit simulates one (two 50-store chains of 156 weeks), and scored
with the fit's own distance (RMS of the standardised gaps to targets 1-4, in SEs). Prints each
seed's distances, the means and the paired difference with its 95% CI, and the mean of each
statistic against its published figure.

    python experiments/published_fit_check.py experiments/results/published_fit --seeds 8

The folder may also be one a fit is still writing (or was stopped before finishing): its last
finished generation is then checked.

`--closest K` also looks for a maximum-likelihood-like point among the posterior's particles:
the K particles of the last generation that came closest to the targets in the fit are each
re-simulated on `--screen-seeds` screening seeds (not the checking seeds), and the one with the
smallest mean distance is checked beside the defaults and the median on the checking seeds, so
that its luck in the screening does not count (needs the fit's pyabc history.db).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.cli.scripts import ScriptParser, load_fit
from sim.model.parameters import Parameters
from sim.studies.calibration.engine import distance
from sim.studies.calibration.statistics import simulate
from sim.studies.stats import mean_ci, paired_difference_ci


def main() -> None:
    parser = ScriptParser("experiments/published_fit_check.py", __doc__)
    parser.add_argument("folder")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--closest", type=int, default=0)
    parser.add_argument("--screen-seeds", type=int, default=4)
    args = parser.parse_args()
    cal = load_fit("experiments/published_fit_check.py", args.folder)
    if cal.info.get("status") == "unfinished":  # a long fit still running or stopped
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
    if args.closest:
        screen = [int(s) for s in
                  np.random.SeedSequence([t.abc.seed, 98]).generate_state(args.screen_seeds)]
        sets["closest particle"] = closest_particle(cal, args.closest, screen, observed,
                                                    scales)
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
    for label in list(sets)[1:]:
        diff = paired_difference_ci(df.loc[df["set"] == label, "distance"].to_numpy(),
                                    df.loc[df["set"] == "defaults", "distance"].to_numpy())
        print(f"{label} - defaults: {diff.mean:+.2f} SEs (95% CI {diff.low:+.2f} to "
              f"{diff.high:+.2f}), {len(seeds)} seeds")
    means = df.groupby("set")[list(scales)].mean().T
    means.insert(0, "published", pd.Series(observed))
    means["SE"] = pd.Series(scales)
    print(means.round(3).to_string())


def closest_particle(cal, k: int, seeds: list[int], observed: dict, scales: dict) -> dict:
    """Of the last generation's k particles closest to the targets in the fit, the one with
    the smallest mean distance over `seeds`."""
    history = cal.history()
    particles = sorted(history.get_population(t=history.max_t).particles,
                       key=lambda p: p.distance)[:k]
    best, best_distance = None, np.inf
    for i, particle in enumerate(particles):
        params = {p: float(particle.parameter[p]) for p in cal.parameters}
        d = float(np.mean([distance(simulate(params, seed, cal.targets.simulation), observed,
                                    scales) for seed in seeds]))
        print(f"particle {i} (fit distance {particle.distance:.2f}): {d:.3f}", flush=True)
        if d < best_distance:
            best, best_distance = params, d
    return best


if __name__ == "__main__":
    main()
