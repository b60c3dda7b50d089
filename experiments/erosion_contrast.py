"""Erosion contrast (target 7): does a customer-only programme erode more where staff are
disengaged?

Runs the sweep `experiments/erosion_contrast.yaml`: two chains that differ only in how engaged
their staff are (`--lever`: supervisors' mean quality, or the drivers' baseline level), three
arms each on the same seeds: baseline, the customer programme ($20/customer/year from week 26)
and the same programme without its promise (`customer_programme_promise = 0`: no raised
expectations, so no disappointment). Per chain:

- the gain in customer attachment over baseline at its peak and in the last quarter of year
  three, and target 7's ratio of the two (peak of the 8-week smoothed mean curve, as
  `sim.studies.validation.erosion_from_gains`; 95% CI by bootstrap over seeds);
- the disappointment cost: the last-quarter gain without the promise minus with it (paired t
  CI over seeds), i.e. how much of the gain raised expectations took back.

    python experiments/erosion_contrast.py [--seeds 12] [--lever supervisors] [--workers 2]
        [--out FOLDER] [--set programme_confirmation=1.0 ...]

The runs go to a sweep folder (default results/sweeps/erosion_contrast-<fingerprint>/), one
file per finished run: after Ctrl-C or a crash the same command carries on where it stopped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = "experiments/erosion_contrast.py"
SPEC = Path(__file__).resolve().parent / "erosion_contrast.yaml"
START = 26
CHAINS = ("disengaged", "engaged")
# The parameter that sets the staff's engagement in each chain (disengaged, engaged), all else
# at the defaults.
LEVERS = {
    "supervisors": ("supervisor_quality_mean", (0.25, 0.75)),
    "drivers": ("driver_baseline", (0.50, 0.66)),
}


def curves(runs: pd.DataFrame, weekly: pd.DataFrame, lever: str
           ) -> tuple[dict[tuple[str, str, int], np.ndarray], dict[tuple[str, str, int], float]]:
    """Per (chain, arm, seed): the weekly customer attachment, and the staff's engagement
    averaged from the programme's start."""
    parameter, levels = LEVERS[lever]
    chain_of = dict(zip(levels, CHAINS, strict=True))
    key = {r.run: (chain_of[getattr(r, parameter)], r.arm, int(r.seed))
           for r in runs.itertuples()}
    series, staff = {}, {}
    for run, frame in weekly.groupby("run", sort=True):
        frame = frame.sort_values("week")
        series[key[run]] = frame["customer_engagement"].to_numpy()
        staff[key[run]] = float(frame["employee_engagement"].iloc[START:].mean())
    return series, staff


def peak_and_end(mean_gain: np.ndarray) -> tuple[float, float]:
    smooth = pd.Series(mean_gain).rolling(8, min_periods=1).mean().to_numpy()
    return float(smooth[START:].max()), float(mean_gain[-13:].mean())


def summarise(series: dict, staff: dict, seeds: list[int], bootstrap: int = 500) -> pd.DataFrame:
    from sim.studies.stats import mean_ci, paired_difference_ci

    g = np.random.default_rng(0)
    rows = []
    for chain in CHAINS:
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
    from sim import load_sweep
    from sim.cli.scripts import ScriptParser, bad_input, study

    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_study_options(seeds=12)
    parser.add_argument("--lever", choices=sorted(LEVERS), default="supervisors",
                        help="what makes the staff disengaged or engaged")
    args = parser.parse_args()
    parameter, levels = LEVERS[args.lever]
    fixed = parser.study_parameters(args)
    if parameter in fixed:
        raise bad_input(SCRIPT, f"--set {parameter}: not allowed with --lever {args.lever}, "
                        "which sets it in each chain; allowed: any other parameter")
    spec = study(SCRIPT, SPEC, replications=args.seeds, seed=args.first_seed,
                 parameters=fixed, factors={parameter: {"levels": list(levels)}})
    runs = parser.run(spec, SPEC, args)
    weekly = load_sweep(runs.attrs["sweep"].folder, series=True)
    series, staff = curves(runs, weekly, args.lever)
    seeds = sorted(int(s) for s in runs["seed"].unique())
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(summarise(series, staff, seeds).set_index("chain").T.to_string())


if __name__ == "__main__":
    from sim.cli.scripts import guarded

    raise SystemExit(guarded(SCRIPT, main))
