"""Reciprocity: is an employee policy plus a customer programme worth more than the two alone?

Four arms on the default chain, every arm on the same seeds (common random numbers): baseline,
coaching (4 h/supervisor/week), the customer programme ($20/customer/year), both, each switched
on at week 26 as in target 7. Per seed the interaction is `both - coaching - customer +
baseline`; it is measured on front-line and all employees' engagement and customers'
attachment (mean over the last year) and on profit (sum over the weeks the policies run), with
the reinforcing loop on (`reciprocity_strength` at its default) and off (0). The loop's own
contribution is the paired difference of the two interactions; the customer -> employee flow
is what the customer programme alone does to employees' engagement, loop on minus off. CIs are
Student-t over seeds.

    python experiments/reciprocity_interaction.py [--seeds 40] [--workers 2] [--csv out.csv]
        [--strength 0.245] [--channels gratitude] [--set programme_confirmation=1.0 ...]

`--channels gratitude` (or `hostility`) keeps only that half of the loop on, to take the
loop's contribution apart.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from erosion_contrast import parameter_settings

START, WEEKS, LAST_YEAR = 26, 156, 52
ARMS = {
    "baseline": {},
    "coaching": {"coaching_hours": 4.0},
    "customer": {"customer_programme_budget": 20.0},
    "both": {"coaching_hours": 4.0, "customer_programme_budget": 20.0},
}
OUTCOMES = ("employee_engagement", "customer_engagement", "profit_musd")


def one_run(job: tuple[int, str, float, int, dict]) -> dict:
    """Outcomes of one arm on one seed."""
    from sim import LoyaltyModel

    seed, arm, strength, n_stores, settings = job
    events = [{"week": START, "set": ARMS[arm]}] if ARMS[arm] else []
    frame = LoyaltyModel(rng=seed, events=events, **{**settings, "n_stores": n_stores,
                                                     "reciprocity_strength": strength}
                         ).run(WEEKS).model_frame()
    last = frame.iloc[-LAST_YEAR:]
    return {"seed": seed, "arm": arm, "loop": "on" if strength > 0 else "off",
            "employee_engagement": float(last["employee_engagement"].mean()),
            "customer_engagement": float(last["customer_engagement"].mean()),
            "profit_musd": float(frame["profit"].iloc[START:].sum()) / 1e6}


def run_all(seeds: list[int], strength: float, n_stores: int = 20,
            workers: int = 1, settings: dict | None = None) -> pd.DataFrame:
    """Every arm on every seed, loop on (`strength`) and off."""
    from sim import LoyaltyModel  # noqa: F401  (loaded once, before any worker forks)

    jobs = [(s, arm, k, n_stores, settings or {}) for k in (strength, 0.0) for s in seeds
            for arm in ARMS]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(one_run, jobs, chunksize=4))
    else:
        rows = [one_run(j) for j in jobs]
    return pd.DataFrame(rows)


def interactions(runs: pd.DataFrame) -> pd.DataFrame:
    """Per seed and loop setting, each outcome's interaction both - coaching - customer + base."""
    wide = runs.pivot_table(index=["loop", "seed"], columns="arm", values=list(OUTCOMES))
    out = pd.DataFrame({o: wide[(o, "both")] - wide[(o, "coaching")] - wide[(o, "customer")]
                        + wide[(o, "baseline")] for o in OUTCOMES})
    return out.reset_index()


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean interaction with its 95% CI, loop on and off, and the loop's paired contribution."""
    from sim.studies.stats import mean_ci, paired_difference_ci

    inter = interactions(runs)
    rows = []
    for outcome in OUTCOMES:
        on = inter[inter["loop"] == "on"].set_index("seed")[outcome]
        off = inter[inter["loop"] == "off"].set_index("seed")[outcome].reindex(on.index)
        for label, est in (("loop on", mean_ci(on)), ("loop off", mean_ci(off)),
                           ("on - off", paired_difference_ci(on.to_numpy(), off.to_numpy()))):
            rows.append({"outcome": outcome, "interaction": label, "mean": est.mean,
                         "ci95_low": est.low, "ci95_high": est.high, "seeds": est.n,
                         "excludes_zero": est.excludes_zero()})
    return pd.DataFrame(rows)


def loop_flow(runs: pd.DataFrame) -> pd.DataFrame:
    """What the customer programme alone does to employees' engagement (programme - baseline,
    per seed), loop on and off, and the paired difference: the customer -> employee flow."""
    from sim.studies.stats import mean_ci, paired_difference_ci

    wide = runs.pivot_table(index="seed", columns=["loop", "arm"],
                            values="employee_engagement")
    on = (wide[("on", "customer")] - wide[("on", "baseline")]).to_numpy()
    off = (wide[("off", "customer")] - wide[("off", "baseline")]).to_numpy()
    rows = []
    for label, est in (("loop on", mean_ci(on)), ("loop off", mean_ci(off)),
                       ("on - off", paired_difference_ci(on, off))):
        rows.append({"customer programme -> employee engagement": label, "mean": est.mean,
                     "ci95_low": est.low, "ci95_high": est.high, "seeds": est.n})
    return pd.DataFrame(rows)


def main() -> None:
    from sim.model.parameters import RECIPROCITY_CHANNELS, Parameters

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--n-stores", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--csv", type=Path, default=None, help="write the per-run outcomes")
    parser.add_argument("--strength", type=float, default=Parameters().reciprocity_strength,
                        help="reciprocity_strength with the loop on (default: its default)")
    parser.add_argument("--channels", choices=RECIPROCITY_CHANNELS, default="both",
                        help="which half of the loop acts when it is on (default: both)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter for every arm (repeatable)")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    settings = parameter_settings(args.set)
    if args.channels != "both":
        settings["reciprocity_channels"] = args.channels
    runs = run_all(seeds, args.strength, args.n_stores, args.workers, settings)
    if args.csv:
        runs.to_csv(args.csv, index=False)
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        print(summary(runs).to_string(index=False))
        print()
        print(loop_flow(runs).to_string(index=False))
    means = runs.groupby(["loop", "arm"])[list(OUTCOMES)].mean()
    print("\nArm means (over seeds):")
    print(means.round(4).to_string())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
