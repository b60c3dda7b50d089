"""Service needs people (issue 10 section 4): what a chain keeps of its revenue, month by
month, after laying off 90% of its staff.

Runs the sweep `experiments/layoff_collapse.yaml`: chains of 10 stores with and without a
layoff of 90% of the staff at week 13, on the same seeds. Per window after the layoff (month 1,
months 2-3, 4-6, 7-9):

- the revenue kept: the layoff arm's weekly revenue over the window as a share of its own mean
  over the 13 weeks before (95% t CI over seeds), and how many chains keep more than half;
- the same against the no-layoff arm over the same weeks;
- the headcount kept, and churn (annualised) as a multiple of the no-layoff arm's.

    python experiments/layoff_collapse.py [--seeds 12] [--workers 2] [--out FOLDER]
        [--set min_service_share=0.4 ...]

The runs go to a sweep folder (default results/sweeps/layoff_collapse-<fingerprint>/), one
file per finished run: after Ctrl-C or a crash the same command carries on where it stopped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SCRIPT = "experiments/layoff_collapse.py"
SPEC = Path(__file__).resolve().parent / "layoff_collapse.yaml"
LAYOFF_WEEK = 13
# Windows after the layoff, in weeks since it (the test in tests/test_mechanisms.py reads
# months 2-3, weeks 8-13 after).
WINDOWS = {"month 1": (0, 4), "months 2-3": (8, 13), "months 4-6": (13, 26),
           "months 7-9": (26, 39)}


def summarise(weekly: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per window: revenue and headcount kept and churn's multiple, with CIs."""
    from sim.studies.stats import mean_ci

    arm_of = dict(zip(runs["run"], runs["arm"], strict=True))
    seed_of = dict(zip(runs["run"], runs["seed"], strict=True))
    series: dict[tuple[str, int], pd.DataFrame] = {
        (arm_of[run], int(seed_of[run])): frame.sort_values("week").reset_index(drop=True)
        for run, frame in weekly.groupby("run", sort=True)}
    seeds = sorted({s for _, s in series})
    rows = []
    for window, (start, stop) in WINDOWS.items():
        weeks = slice(LAYOFF_WEEK + start, LAYOFF_WEEK + stop)
        own, against, staff, churn = [], [], [], []
        for s in seeds:
            cut, kept = series[("layoff", s)], series[("no_layoff", s)]
            before = cut["revenue"].iloc[:LAYOFF_WEEK].mean()
            own.append(cut["revenue"].iloc[weeks].mean() / before)
            against.append(cut["revenue"].iloc[weeks].mean() / kept["revenue"].iloc[weeks].mean())
            staff.append(cut["headcount"].iloc[weeks].mean()
                         / cut["headcount"].iloc[:LAYOFF_WEEK].mean())
            churn.append(cut["churn_rate_annual_pct"].iloc[weeks].mean()
                         / kept["churn_rate_annual_pct"].iloc[weeks].mean())
        row = {"window": window, "weeks_after": f"{start}-{stop}"}
        for name, values in (("revenue_kept", own), ("revenue_vs_no_layoff", against),
                             ("headcount_kept", staff), ("churn_multiple", churn)):
            est = mean_ci(values)
            row |= {name: est.mean, f"{name}_low": est.low, f"{name}_high": est.high}
        row["chains_keeping_over_half"] = f"{sum(v > 0.5 for v in own)} of {len(own)}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("window")


def main() -> None:
    from sim import load_sweep
    from sim.cli.scripts import ScriptParser, study

    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_study_options(seeds=12)
    parser.set_defaults(n_stores=10)
    args = parser.parse_args()
    fixed = parser.study_parameters(args)
    spec = study(SCRIPT, SPEC, replications=args.seeds, seed=args.first_seed,
                 parameters={"employees_per_store": 9, "customers_per_store": 600, **fixed})
    runs = parser.run(spec, SPEC, args)
    weekly = load_sweep(runs.attrs["sweep"].folder, series=True)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(summarise(weekly, runs).T.to_string())


if __name__ == "__main__":
    from sim.cli.scripts import guarded

    raise SystemExit(guarded(SCRIPT, main))
