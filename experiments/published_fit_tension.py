"""Which published patterns pull against each other? Read from a published fit's own history.

Every candidate the ABC-SMC fit accepted (all generations; each one simulated pair of 50-store
chains) is scored on each fitted statistic as a standardised gap, (simulated - published) / SE.
Prints how many candidates had every fitted statistic inside its band, which statistic is out
when only one is, and, for one statistic (default: the both-above quadrant ratio of target 1),
how the candidates that reach its band differ from those that do not: the median gap of every
other statistic and the median of every fitted parameter. Needs the fit's pyabc history.db; the
folder may be a fit that is still running.

    python experiments/published_fit_tension.py experiments/results/published_fit_long
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.cli.scripts import ScriptParser, load_fit


def accepted_candidates(cal) -> pd.DataFrame:
    """One row per accepted particle of every generation: generation, parameters, statistics."""
    history = cal.history()
    frames = []
    for t in range(history.max_t + 1):
        params, _ = history.get_distribution(m=0, t=t)
        _, stats = history.get_weighted_sum_stats(t=t)
        frame = pd.concat([params.reset_index(drop=True), pd.DataFrame(stats)], axis=1)
        frame.insert(0, "generation", t)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = ScriptParser("experiments/published_fit_tension.py", __doc__)
    parser.add_argument("folder")
    parser.add_argument("--statistic", default="quadrant_both_above")
    parser.add_argument("--from-generation", type=int, default=3,
                        help="compare candidates from this generation on (later ones are "
                             "closer to the targets)")
    args = parser.parse_args()
    cal = load_fit("experiments/published_fit_tension.py", args.folder)
    targets = cal.targets.targets
    if args.statistic not in targets:
        parser.error(f"--statistic {args.statistic!r}: allowed: {', '.join(targets)}")
    df = accepted_candidates(cal)
    gap = pd.DataFrame({k: (df[k] - t.observed) / t.scale for k, t in targets.items()})
    inside = pd.DataFrame({k: df[k].between(*t.interval) for k, t in targets.items()})
    outside = (~inside).sum(axis=1)
    print(f"{len(df)} accepted candidates in generations 0-{df['generation'].max()}; "
          f"every fitted statistic inside its band: {int((outside == 0).sum())}")
    print("statistics outside their bands, per candidate:")
    print(outside.value_counts().sort_index().to_string())
    only = inside[outside == 1]
    print(f"the one statistic outside, for the {len(only)} candidates with one:")
    print((~only).sum().sort_values(ascending=False).loc[lambda s: s > 0].to_string())
    late = df["generation"] >= args.from_generation
    reach = inside[args.statistic]
    print(f"\n{args.statistic}: generations {args.from_generation}+, "
          f"{int((reach & late).sum())} candidates inside its band, "
          f"{int((~reach & late).sum())} outside")
    print("median standardised gap (SEs) of each fitted statistic:")
    print(pd.DataFrame({"inside": gap[reach & late].median(),
                        "outside": gap[~reach & late].median()}).round(2).to_string())
    print("median of each fitted parameter:")
    print(pd.DataFrame({"inside": df.loc[reach & late, cal.parameters].median(),
                        "outside": df.loc[~reach & late, cal.parameters].median()})
          .apply(lambda c: c.map(lambda v: float(np.format_float_positional(v, 3))))
          .to_string())


if __name__ == "__main__":
    main()
