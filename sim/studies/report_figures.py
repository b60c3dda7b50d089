"""The report's figures: weekly trajectories with paired differences, differences from the
baseline, stores' engagement quadrant and the distribution of store performance (PNG files)."""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.model.reporters import REPORTER_BY_NAME  # noqa: E402
from sim.studies.labels import METRICS  # noqa: E402
from sim.studies.stats import mean_ci_rows  # noqa: E402

if TYPE_CHECKING:
    from sim.studies.scenario import Scenario


def _panel(column: str, scale: float, window: int) -> tuple[str, str, str, float, int]:
    """A trajectory panel: the reporter's title and unit (sim.model.reporters), the scale its
    values are divided by and the rolling window (weeks)."""
    reporter = REPORTER_BY_NAME[column]
    unit = f"thousand {reporter.unit}" if scale == 1e3 else reporter.unit
    return column, reporter.title, unit, scale, window


TRAJECTORY_PANELS = (
    _panel("revenue", 1e3, 4),
    _panel("profit", 1e3, 13),
    _panel("churn_rate_annual_pct", 1.0, 13),
    _panel("turnover_rate_annual_pct", 1.0, 13),
    _panel("employee_engagement", 1.0, 1),
    _panel("customer_engagement", 1.0, 1),
)
_DIFF_UNITS = {"%/year": "percentage points per year"}  # a difference of rates is in points
TITLE_WIDTH = 44  # characters per line of a panel title: no title wider than its panel


@dataclass(frozen=True)
class Timeline:
    """What happens when: policy starts (marked by a line) and crises (shaded)."""

    policy_weeks: tuple[int, ...] = ()
    crises: tuple[tuple[int, int], ...] = ()


def timeline(scenario: Scenario) -> Timeline:
    """Policy changes and crises of a scenario, for the figures."""
    policy, crises = set(), set()
    for event in scenario.events:
        if event.crisis is not None:
            crises.add((event.week, event.week + event.crisis.duration))
    for arm in scenario.arms.values():
        for event in arm.events:
            if event.crisis is not None:
                crises.add((event.week, event.week + event.crisis.duration))
            else:
                policy.add(event.week)
    return Timeline(tuple(sorted(policy)), tuple(sorted(crises)))


def plot_text(text: str) -> str:
    """Untrusted text safe for matplotlib: '$' would start mathtext."""
    return str(text).replace("$", r"\$")


def _title(text: str, width: int = TITLE_WIDTH) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _palette(arms: Sequence[str], baseline: str) -> dict[str, tuple]:
    import seaborn as sns

    # The baseline in grey, the policies in colour-blind-safe colours (orange and vermilion,
    # alike, come apart).
    colours = sns.color_palette("colorblind", 10)
    order = [colours[i] for i in (0, 1, 2, 4, 3, 5, 8, 9, 6)]
    palette, k = {}, 0
    for arm in arms:
        if arm == baseline:
            palette[arm] = (0.45, 0.45, 0.45)
        else:
            palette[arm] = order[k % len(order)]
            k += 1
    return palette


def _mark_timeline(ax, timeline: Timeline) -> None:
    for start, end in timeline.crises:
        ax.axvspan(start, end, color="0.85", zorder=0, lw=0)
    for week in timeline.policy_weeks:
        ax.axvline(week, color="0.3", ls=":", lw=1)


def trajectories_figure(timeseries: pd.DataFrame, arms: Sequence[str], baseline: str,
                        timeline: Timeline, path: Path,
                        labels: dict[str, str] | None = None) -> Figure:
    """Weekly trajectories, one row per measure: on the left each arm's level (mean over
    replications, 95% CI band), on the right each arm's difference from the baseline paired
    by seed (mean and 95% CI band): the bands on the left are wide because chains differ from
    seed to seed, the paired differences on the right are what a policy changes."""
    import seaborn as sns

    labels = labels or {}
    palette = _palette(arms, baseline)
    ts = timeseries.sort_values(["arm", "replication", "week"])
    wide = {}
    for (column, *_rest, window) in TRAJECTORY_PANELS:
        for arm in arms:
            w = ts[ts["arm"] == arm].pivot(index="week", columns="replication", values=column)
            wide[column, arm] = w.rolling(window, min_periods=1).mean() if window > 1 else w
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(12, 3.0 * len(TRAJECTORY_PANELS) + 1.2), layout="constrained")
        axes = fig.subplots(len(TRAJECTORY_PANELS), 2, sharex=True)
        for row, (column, title, unit, scale, window) in zip(axes, TRAJECTORY_PANELS,
                                                             strict=True):
            smooth = f", {window}-week rolling mean" if window > 1 else ""
            level_ax, diff_ax = row
            for ax in row:
                _mark_timeline(ax, timeline)
            for arm in arms:
                w = wide[column, arm] / scale
                mean, low, high = mean_ci_rows(w.to_numpy())
                level_ax.plot(w.index, mean, color=palette[arm], lw=1.6,
                              label=plot_text(labels.get(arm, arm)))
                if w.shape[1] >= 2:
                    level_ax.fill_between(w.index, low, high, color=palette[arm], alpha=0.2,
                                          lw=0)
                if arm == baseline:
                    continue
                base = wide[column, baseline] / scale
                both = w.columns.intersection(base.columns)
                d = (w[both] - base[both]).to_numpy()
                mean, low, high = mean_ci_rows(d)
                diff_ax.plot(w.index, mean, color=palette[arm], lw=1.6)
                if d.shape[1] >= 2:
                    diff_ax.fill_between(w.index, low, high, color=palette[arm], alpha=0.2,
                                         lw=0)
            diff_ax.axhline(0, color=palette.get(baseline, "0.3"), lw=1.2)
            level_ax.set_title(_title(f"{title}{smooth}"), fontsize=10)
            diff_ax.set_title(_title(f"{title}: difference from the baseline, paired by seed"),
                              fontsize=10)
            level_ax.set_ylabel(unit)
            diff_ax.set_ylabel(_DIFF_UNITS.get(unit, unit))
        for ax in axes[-1]:
            ax.set_xlabel("week")
        handles, names = axes[0][0].get_legend_handles_labels()
        extra = []
        if timeline.policy_weeks:
            extra.append(Line2D([], [], color="0.3", ls=":", label="policy change"))
        if timeline.crises:
            extra.append(Patch(color="0.85", label="crisis"))
        fig.legend(handles + extra, names + [e.get_label() for e in extra],
                   loc="outside lower center", ncol=min(len(handles) + len(extra), 4),
                   frameon=False)
        reps = timeseries.groupby("arm")["replication"].nunique()
        fig.suptitle(_title("How each policy plays out week by week: levels (left, mean over "
                            f"{_reps_text(reps)}, bands: 95% CI) and differences from the "
                            "baseline (right, same seeds, bands: 95% CI)", 110), fontsize=11)
        fig.savefig(path, dpi=100)
    return fig


def _reps_text(reps: pd.Series) -> str:
    low, high = int(reps.min()), int(reps.max())
    return f"{low} replications" if low == high else f"{low}-{high} replications"


def quadrant_figure(stores: pd.DataFrame, arms: Sequence[str], baseline: str,
                    path: Path, labels: dict[str, str] | None = None) -> None:
    """Stores in the final week: employee vs customer engagement, one panel per arm."""
    import seaborn as sns

    labels = labels or {}
    palette = _palette(arms, baseline)
    last = stores[stores["week"] == stores["week"].max()]
    x_mid = float(last["employee_engagement"].median())
    y_mid = float(last["customer_engagement"].median())
    lim_x = (float(last["employee_engagement"].min()) - 0.02,
             float(last["employee_engagement"].max()) + 0.02)
    lim_y = (float(last["customer_engagement"].min()) - 0.02,
             float(last["customer_engagement"].max()) + 0.02)
    cols = min(len(arms), 4)
    rows = math.ceil(len(arms) / cols)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(3.6 * cols + 0.5, 3.6 * rows + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
        for ax, arm in zip(axes, arms, strict=False):
            f = last[last["arm"] == arm]
            ax.axvline(x_mid, color="0.5", lw=0.8)
            ax.axhline(y_mid, color="0.5", lw=0.8)
            sns.scatterplot(data=f, x="employee_engagement", y="customer_engagement", ax=ax,
                            color=palette[arm], s=18, alpha=0.6, edgecolor="none")
            both = ((f["employee_engagement"] > x_mid) & (f["customer_engagement"] > y_mid))
            ax.set_title(_title(plot_text(f"{labels.get(arm, arm)}: {both.mean():.0%} of stores "
                                    "high on both"), 34), fontsize=10)
            ax.set_xlim(*lim_x)
            ax.set_ylim(*lim_y)
            ax.set_xlabel("employee engagement (0-1)")
            ax.set_ylabel("customer engagement (0-1)")
            for (hx, hy, text) in ((0.98, 0.98, "both high"), (0.02, 0.02, "both low")):
                ax.text(hx, hy, text, transform=ax.transAxes, ha="right" if hx > 0.5 else
                        "left", va="top" if hy > 0.5 else "bottom", fontsize=8, color="0.35")
        for ax in axes[len(arms):]:
            ax.set_visible(False)
        n = last.groupby("arm").size()
        fig.suptitle(_title("Stores in the final week: employee vs customer engagement (each dot a "
                     f"store in one replication, {int(n.min())}-{int(n.max())} per arm; lines: "
                     "medians of all stores)" if n.min() != n.max() else
                     "Stores in the final week: employee vs customer engagement (each dot a "
                     f"store in one replication, {int(n.min())} per arm; lines: medians of all "
                     "stores)", 100), fontsize=11)
        fig.savefig(path, dpi=100)


def store_performance_figure(stores: pd.DataFrame, arms: Sequence[str], baseline: str,
                             path: Path, labels: dict[str, str] | None = None) -> None:
    """Distribution over stores (and replications) of profit and churn in the last year."""
    import seaborn as sns

    labels = labels or {}
    palette = _palette(arms, baseline)
    last_week = int(stores["week"].max())
    window = min(52, last_week + 1)
    recent = stores[stores["week"] > last_week - window]
    per_store = recent.groupby(["arm", "replication", "store"], sort=False).agg(
        profit=("profit", "sum"), churned=("churned", "sum"), customers=("customers", "mean"))
    per_store = per_store.reset_index()
    # Plot by label: the axis reads "HR programme", not "hr_programme".
    shown = {a: _title(plot_text(labels.get(a, a)), 18) for a in arms}
    per_store["arm"] = per_store["arm"].map(shown)
    order = [shown[a] for a in arms]
    palette = {shown[a]: c for a, c in palette.items()}
    per_store["profit_k"] = per_store["profit"] * 52 / window / 1e3
    per_store["churn_pct"] = (100 * per_store["churned"] / per_store["customers"].clip(lower=1)
                              * 52 / window)
    panels = (("profit_k", "Store profit", "$ thousand per store per year"),
              ("churn_pct", "Store customer churn", "% per year"))
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(max(9, 3.2 * len(arms)), 4.6), layout="constrained")
        axes = fig.subplots(1, 2)
        for ax, (column, title, unit) in zip(axes, panels, strict=True):
            with warnings.catch_warnings():
                # seaborn 0.13 still passes matplotlib's deprecated `vert` argument.
                warnings.filterwarnings("ignore", message="vert: bool was deprecated")
                sns.boxplot(data=per_store, x="arm", y=column, hue="arm", order=order,
                            hue_order=order, palette=palette, ax=ax, showfliers=False,
                            width=0.6, legend=False, boxprops={"alpha": 0.75})
            # Our own jitter from a fixed seed: seaborn's comes from numpy's global random
            # state, which made this figure differ between two runs of the same seed.
            jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(per_store))
            where = per_store["arm"].map({a: i for i, a in enumerate(order)}) + jitter
            ax.scatter(where, per_store[column], s=4, color="0.2", alpha=0.35, lw=0)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel(unit)
            ax.tick_params(axis="x", labelrotation=0)
        fig.suptitle(_title(f"How stores perform under each policy (last {window} weeks; each "
                            "dot a store in one replication; boxes: quartiles)", 100),
                     fontsize=11)
        fig.savefig(path, dpi=100)


def differences_figure(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                       path: Path, labels: dict[str, str] | None = None) -> Figure:
    """Difference of each arm from the baseline, metric by metric, with paired 95% CIs."""
    import seaborn as sns

    labels = labels or {}
    palette = _palette(arms, baseline)
    others = [a for a in arms if a != baseline]
    names = [_title(plot_text(labels.get(a, a)), 22) for a in others]
    metrics = [m for m in METRICS if m.name != "policy_cost"]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(13, 1.6 + 0.55 * len(others) * 2 + 1.6), layout="constrained")
        axes = fig.subplots(2, 3).ravel()
        for ax, m in zip(axes, metrics, strict=True):
            part = summary[(summary["metric"] == m.name) & (summary["arm"].isin(others))]
            part = part.set_index("arm").loc[others]
            y = np.arange(len(others))
            for i, arm in enumerate(others):
                r = part.loc[arm]
                lo, hi = r["diff_ci_low"] / m.scale, r["diff_ci_high"] / m.scale
                err = ([[r["diff"] / m.scale - lo], [hi - r["diff"] / m.scale]]
                       if math.isfinite(lo) else None)
                ax.errorbar(r["diff"] / m.scale, y[i], xerr=err, fmt="o", color=palette[arm],
                            capsize=4, ms=6)
            ax.axvline(0, color="0.3", lw=1)
            ax.set_yticks(y, names)
            ax.set_ylim(-0.6, len(others) - 0.4)
            ax.invert_yaxis()
            better = {True: "higher is better", False: "lower is better"}.get(
                m.higher_is_better, "")
            ax.set_title(_title(f"{m.label} ({better})" if better else m.label, 26),
                         fontsize=10)
            ax.set_xlabel(f"difference ({m.diff_unit})")
        fig.suptitle(_title(plot_text(f"Difference from the baseline "
                                      f"(“{labels.get(baseline, baseline)}”), paired by seed: "
                                      "mean and 95% CI"), 100), fontsize=12)
        fig.savefig(path, dpi=100)
    return fig


FIGURES = (
    ("trajectories.png", "Trajectories: levels and paired differences"),
    ("differences.png", "Differences from the baseline"),
    ("quadrant.png", "Stores: employee vs customer engagement"),
    ("store_performance.png", "Distribution of store performance"),
)


def write_figures(folder: Path, timeseries: pd.DataFrame, stores: pd.DataFrame,
                  summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                  timeline: Timeline, labels: dict[str, str] | None = None) -> list[str]:
    """Write every figure into `folder`; return their file names."""
    trajectories_figure(timeseries, arms, baseline, timeline, folder / "trajectories.png",
                        labels)
    differences_figure(summary, arms, baseline, folder / "differences.png", labels)
    quadrant_figure(stores, arms, baseline, folder / "quadrant.png", labels)
    store_performance_figure(stores, arms, baseline, folder / "store_performance.png", labels)
    return [name for name, _ in FIGURES]
