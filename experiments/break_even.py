"""Break-even study: the worlds where an HR programme does at least as well as coaching.

Runs the Latin hypercube of `experiments/break_even_coaching_vs_hr.yaml` (each design point a
plausible world of the uncertain parameters, both arms on the same seeds), averages the profit
contrast coaching - HR over replications at each point, and asks PRIM (Friedman & Fisher 1999;
EMA Workbench's implementation) for the box of parameter values where the verdict flips
(contrast <= 0). Prints the box with its coverage (share of all flipped worlds inside it) and
density (share of worlds inside it that flip), and draws the seaborn figure of the README.

    python experiments/break_even.py [--workers 2] [--figure docs/break_even.png]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "experiments" / "break_even_coaching_vs_hr.yaml"
SCRIPT = "experiments/break_even.py"
CONTRAST = "coaching_minus_hr"


def worlds(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: its factor values and the mean profit lead of coaching."""
    from sim.studies.sensitivity import contrast_runs

    lead = contrast_runs(runs, CONTRAST)
    factors = list(runs.attrs["sweep"].manifest["design"]["factors"])
    return lead.groupby("point").agg({**{f: "first" for f in factors}, "profit": "mean"})


def find_box(points: pd.DataFrame, factors: list[str], peel_alpha: float = 0.1):
    """PRIM box of the worlds where coaching's profit lead is <= 0; None if none flips."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    flips = (points["profit"] <= 0).to_numpy()
    if not flips.any():
        return None, flips
    finder = prim.Prim(points[factors].reset_index(drop=True), flips, peel_alpha=peel_alpha,
                       mass_min=0.05)
    box = finder.find_box()
    return box, flips


def box_limits(box, factors: list[str]) -> pd.DataFrame:
    """The box's restricted dimensions: low and high of each, with the full range beside."""
    limits = box.box_lims[box._cur_box]
    full = box.box_lims[0]
    rows = [{"factor": f, "low": float(limits[f][0]), "high": float(limits[f][1]),
             "range_low": float(full[f][0]), "range_high": float(full[f][1])}
            for f in factors if (limits[f][0], limits[f][1]) != (full[f][0], full[f][1])]
    return pd.DataFrame(rows)


def _shown(factor: str, values):
    """A factor as the figure shows it: decays as half-lives in weeks, the rest as they are."""
    if factor.endswith("_decay"):
        return np.log(2) / -np.log1p(-np.asarray(values, dtype=float))
    return np.asarray(values, dtype=float)


def _axis_label(factor: str) -> str:
    """The factor in words with its unit, as parameters.py declares it."""
    from sim.model.parameters import parameter_fields
    from sim.studies.labels import humanize

    if factor.endswith("_decay"):
        return f"{humanize(factor.removesuffix('_decay'))} half-life (weeks)"
    unit = {f.name: f.metadata["unit"] for f in parameter_fields()}.get(factor)
    return f"{humanize(factor)} ({unit})" if unit else humanize(factor)


def figure(points: pd.DataFrame, box, limits: pd.DataFrame, path: Path) -> None:
    """Seaborn scatter of the two factors the PRIM box restricts most (HR effect x HR
    half-life when there is no box), coloured by the verdict, the box drawn on them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Rectangle

    axes = ["hr_effect", "hr_decay"]
    if not limits.empty:
        kept = (limits["high"] - limits["low"]) / (limits["range_high"] - limits["range_low"])
        axes = list(limits.assign(kept=kept).nsmallest(2, "kept")["factor"])
        axes += [f for f in ("hr_effect", "hr_decay") if f not in axes][: 2 - len(axes)]
    x, y = axes
    df = points.assign(**{f"shown_{f}": _shown(f, points[f]) for f in axes})
    df["verdict"] = np.where(df["profit"] > 0, "coaching ahead", "HR at least as good")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    sns.scatterplot(data=df, x=f"shown_{x}", y=f"shown_{y}", hue="verdict", ax=ax,
                    palette={"coaching ahead": "#3a6ea5", "HR at least as good": "#d1495b"})
    title = "Coaching vs HR programme at equal budget: 3-year profit"
    note = f"{len(df)} worlds; HR at least as good in {(df['profit'] <= 0).mean():.0%}"
    if box is not None:
        lim = {r.factor: (r.low, r.high) for r in limits.itertuples()}
        (x0, x1), (y0, y1) = (sorted(_shown(f, lim.get(f, (points[f].min(), points[f].max()))))
                              for f in (x, y))
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=2, ls="--",
                               ec="#d1495b"))
        others = [f"{r.factor} {r.low:.3g}-{r.high:.3g}" for r in limits.itertuples()
                  if r.factor not in axes]
        note += (f"\nPRIM box (dashed): coverage {box.coverage:.0%}, density "
                 f"{box.density:.0%}, mass {box.mass:.0%}")
        note += "".join(f"\n  and {o}" for o in others)
    ax.set(xlabel=_axis_label(x), ylabel=_axis_label(y), title=title)
    ax.text(0.99, 0.99, note, transform=ax.transAxes, ha="right", va="top", fontsize=7.5,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999"})
    ax.legend(fontsize=7.5, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    from sim.cli.scripts import ScriptParser, study

    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_cluster_options(workers=2)
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "break_even.png")
    parser.add_argument("--out", type=Path, default=None, help="sweep folder")
    args = parser.parse_args()
    try:
        with warnings.catch_warnings():  # its optional back ends, which PRIM does not use
            warnings.simplefilter("ignore")
            import ema_workbench  # noqa: F401
    except ImportError:
        print(f"{SCRIPT}: needs EMA Workbench (pip install -e '.[dev]' installs it)",
              file=sys.stderr)
        return 2

    runs = parser.run(study(SCRIPT, SPEC), SPEC, args)
    points = worlds(runs)
    factors = [c for c in points.columns if c != "profit"]
    box, flips = find_box(points, factors)
    print(f"{len(points)} worlds; HR programme at least as good as coaching in {int(flips.sum())}"
          f" ({flips.mean():.0%})"
          f"; median coaching lead ${points['profit'].median() / 1e6:+.2f}M "
          f"(5th-95th percentile ${points['profit'].quantile(0.05) / 1e6:+.2f}M to "
          f"${points['profit'].quantile(0.95) / 1e6:+.2f}M)")
    limits = pd.DataFrame()
    if box is None:
        print("No world flips the verdict: no box.")
    else:
        limits = box_limits(box, factors)
        print(f"PRIM box: coverage {box.coverage:.0%}, density {box.density:.0%}, "
              f"mass {box.mass:.0%}")
        print(limits.to_string(index=False))
    figure(points, box, limits, args.figure)
    print(f"Figure: {args.figure}")
    return 0


if __name__ == "__main__":
    from sim.cli.scripts import guarded

    raise SystemExit(guarded(SCRIPT, main))
