"""Reciprocity: is an employee policy plus a customer programme worth more than the two alone?

Runs the sweep `experiments/reciprocity_interaction.yaml`: four arms on the default chain, every
arm on the same seeds (common random numbers): baseline, coaching (4 h/supervisor/week), the
customer programme ($20/customer/year) and both, each switched on at week 26 as in target 7,
with the reinforcing loop on (`reciprocity_strength` at its default) and off (0). Per seed the
interaction is `both - coaching - customer + baseline`; it is measured on employees'
engagement and customers' attachment (mean over the last year) and on profit (runs are
identical until week 26, so three-year profit gives the interaction of what the policies
earn). The loop's own contribution is the paired difference of the two interactions; the
customer -> employee flow is what the customer programme alone does to employees'
engagement, loop on minus off. CIs are Student-t over seeds.

    python experiments/reciprocity_interaction.py [--seeds 40] [--workers 2] [--out FOLDER]
        [--strength 0.0829] [--channels gratitude] [--set programme_confirmation=1.0 ...]

`--channels gratitude` (or `hostility`) keeps only that half of the loop on, to take the
loop's contribution apart. The runs go to a sweep folder (default
results/sweeps/reciprocity_interaction-<fingerprint>/), one file per finished run: after Ctrl-C
or a crash the same command carries on where it stopped, and `sim.load_sweep(FOLDER)` reads
every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = "experiments/reciprocity_interaction.py"
SPEC = Path(__file__).resolve().parent / "reciprocity_interaction.yaml"
# The outcomes, in the words of the tables below, and the sweep's column for each.
OUTCOMES = {"employee_engagement": "employee_engagement_last_year",
            "customer_engagement": "customer_engagement_last_year",
            "profit_musd": "profit"}


def outcomes(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: seed, arm, loop ('on' / 'off') and the outcomes (profit in $M)."""
    out = pd.DataFrame({"seed": runs["seed"].astype(int), "arm": runs["arm"],
                        "loop": np.where(runs["reciprocity_strength"] > 0, "on", "off")})
    for name, column in OUTCOMES.items():
        out[name] = runs[column] / (1e6 if name == "profit_musd" else 1.0)
    return out


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
    from sim.cli.scripts import ScriptParser, bad_input, parameter_option, study
    from sim.model.parameters import RECIPROCITY_CHANNELS, Parameters

    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_study_options(seeds=40)
    parser.add_argument("--strength", type=float, default=Parameters().reciprocity_strength,
                        help="reciprocity_strength with the loop on (default: its default)")
    parser.add_argument("--channels", choices=RECIPROCITY_CHANNELS, default="both",
                        help="which half of the loop acts when it is on (default: both)")
    args = parser.parse_args()
    parameters = parser.study_parameters(args)
    if args.channels != "both":
        parameters["reciprocity_channels"] = args.channels
    if not args.strength > 0:
        raise bad_input(SCRIPT, f"--strength {args.strength}: not allowed; allowed: a number > "
                        "0 (the loop on; it is compared with 0, off)")
    parameter_option(SCRIPT, "--strength", "reciprocity_strength", args.strength)
    spec = study(SCRIPT, SPEC, replications=args.seeds, seed=args.first_seed,
                 parameters=parameters,
                 factors={"reciprocity_strength": {"levels": [args.strength, 0.0]}})
    runs = outcomes(parser.run(spec, SPEC, args))
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        print(summary(runs).to_string(index=False))
        print()
        print(loop_flow(runs).to_string(index=False))
    means = runs.groupby(["loop", "arm"])[list(OUTCOMES)].mean()
    print("\nArm means (over seeds; profit over the three years, $M):")
    print(means.round(4).to_string())


if __name__ == "__main__":
    from sim.cli.scripts import guarded

    np.seterr(all="ignore")
    raise SystemExit(guarded(SCRIPT, main))
