"""What a scenario run found: per-replication metrics, the comparison table, figures and the
plain-language report (report.md and a self-contained report.html).

Definitions (all over the whole horizon, per replication, then averaged over replications):
total revenue and profit ($); customer churn = customers lost / average customers, per year (%);
employee turnover = voluntary quits / average headcount, per year (%); final employee and
customer engagement (0-1, last week); policy cost = spend on the policy items
(`POLICY_COST_ITEMS`, $). Differences from the baseline pair replications with the same seed.
The return on a policy is its extra profit per extra dollar of policy cost (profit already nets
that cost, so 0 means it paid for itself exactly and -1 that it bought nothing).
"""

from __future__ import annotations

import base64
import html
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.model import COST_ITEMS  # noqa: E402
from sim.studies.stats import Estimate, mean_ci, mean_ci_rows, paired_difference_ci  # noqa: E402

POLICY_COST_ITEMS = tuple(item for item in COST_ITEMS if item in (
    "coaching", "hr_programmes", "customer_programme", "recognition", "layoffs"))
# A return per dollar is only meaningful when the policy really spends more than the baseline.
MATERIAL_COST_SHARE = 0.001


@dataclass(frozen=True)
class Metric:
    """A summary number of one replication, with how to show it."""

    name: str
    label: str
    unit: str  # unit of the stored value
    shown_unit: str  # unit in tables
    scale: float  # stored value / scale = shown value
    higher_is_better: bool | None
    short: str  # label in the terminal table


METRICS = (
    Metric("revenue", "Total revenue", "$", "$M", 1e6, True, "Revenue"),
    Metric("profit", "Total profit", "$", "$M", 1e6, True, "Profit"),
    Metric("customer_churn_pct", "Customer churn", "%/year", "%/yr", 1.0, False, "Cust. churn"),
    Metric("employee_turnover_pct", "Employee turnover", "%/year", "%/yr", 1.0, False,
           "Staff turnover"),
    Metric("employee_engagement", "Final employee engagement", "0-1", "0-1", 1.0, True,
           "Staff engagement"),
    Metric("customer_engagement", "Final customer engagement", "0-1", "0-1", 1.0, True,
           "Cust. engagement"),
    Metric("policy_cost", "Policy cost", "$", "$k", 1e3, None, "Policy cost"),
)
RETURN = Metric("return_per_dollar", "Return on policy cost", "$ profit per $ of policy cost",
                "$/$", 1.0, True, "Return")
METRIC_BY_NAME = {m.name: m for m in (*METRICS, RETURN)}


# ------------------------------------------------------------------------------- numbers
def replication_metrics(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, replication) with every metric of METRICS.

    `timeseries` has columns arm, replication, seed, week and the model's weekly reporters.
    """
    rows = []
    for (arm, rep), f in timeseries.groupby(["arm", "replication"], sort=False):
        f = f.sort_values("week")
        years = len(f) / 52.0
        rows.append({
            "arm": arm, "replication": int(rep), "seed": int(f["seed"].iloc[0]),
            "weeks": len(f),
            "revenue": float(f["revenue"].sum()),
            "profit": float(f["profit"].sum()),
            "customer_churn_pct": 100.0 * float(f["churned_customers"].sum())
            / max(float(f["active_customers"].mean()), 1.0) / years,
            "employee_turnover_pct": 100.0 * float(f["quits"].sum())
            / max(float(f["headcount"].mean()), 1.0) / years,
            "employee_engagement": float(f["employee_engagement"].iloc[-1]),
            "customer_engagement": float(f["customer_engagement"].iloc[-1]),
            "policy_cost": float(f[list(POLICY_COST_ITEMS)].to_numpy().sum()),
            "total_costs": float(f["total_costs"].sum()),
        })
    return pd.DataFrame(rows)


def _paired(metrics: pd.DataFrame, arm: str, other: str, column: str) -> tuple[np.ndarray, ...]:
    a = metrics.loc[metrics["arm"] == arm, ["replication", column]]
    b = metrics.loc[metrics["arm"] == other, ["replication", column]]
    both = a.merge(b, on="replication", suffixes=("_a", "_b")).sort_values("replication")
    return both[f"{column}_a"].to_numpy(), both[f"{column}_b"].to_numpy()


def return_on_cost(metrics: pd.DataFrame, arm: str, baseline: str) -> Estimate | None:
    """Extra profit per extra dollar of policy cost, per replication, with its t interval.

    None when the arm does not spend materially more than the baseline in every replication.
    """
    cost, cost_base = _paired(metrics, arm, baseline, "policy_cost")
    profit, profit_base = _paired(metrics, arm, baseline, "profit")
    if len(cost) == 0:
        return None
    extra = cost - cost_base
    base_costs = metrics.loc[metrics["arm"] == baseline, "total_costs"].mean()
    if np.any(extra <= 0) or extra.mean() < MATERIAL_COST_SHARE * base_costs:
        return None
    return mean_ci((profit - profit_base) / extra)


def summarise(metrics: pd.DataFrame, arms: Sequence[str], baseline: str) -> pd.DataFrame:
    """The comparison table in long form: one row per arm and metric.

    Columns: arm, metric, label, unit, n, mean, ci_low, ci_high and, for arms other than the
    baseline, diff, diff_ci_low, diff_ci_high, diff_n (paired on the seed).
    """
    rows = []
    for arm in arms:
        here = metrics[metrics["arm"] == arm]
        for m in METRICS:
            est = mean_ci(here[m.name].to_numpy())
            row = {"arm": arm, "metric": m.name, "label": m.label, "unit": m.unit, "n": est.n,
                   "mean": est.mean, "ci_low": est.low, "ci_high": est.high,
                   "diff": math.nan, "diff_ci_low": math.nan, "diff_ci_high": math.nan,
                   "diff_n": 0}
            if arm != baseline:
                d = paired_difference_ci(*_paired(metrics, arm, baseline, m.name))
                row.update(diff=d.mean, diff_ci_low=d.low, diff_ci_high=d.high, diff_n=d.n)
            rows.append(row)
        ret = return_on_cost(metrics, arm, baseline) if arm != baseline else None
        rows.append({"arm": arm, "metric": RETURN.name, "label": RETURN.label,
                     "unit": RETURN.unit, "n": ret.n if ret else 0,
                     "mean": ret.mean if ret else math.nan,
                     "ci_low": ret.low if ret else math.nan,
                     "ci_high": ret.high if ret else math.nan, "diff": math.nan,
                     "diff_ci_low": math.nan, "diff_ci_high": math.nan, "diff_n": 0})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- formatting
def _decimals(half_width: float, value: float) -> int:
    if math.isfinite(half_width) and half_width > 0:
        return int(min(4, max(0, 1 - math.floor(math.log10(half_width)))))
    if math.isfinite(value) and value != 0:
        return int(min(4, max(0, 2 - math.floor(math.log10(abs(value))))))
    return 2


def format_estimate(mean: float, low: float, high: float, scale: float = 1.0,
                    signed: bool = False) -> str:
    """'12.34 ± 0.56' (95% CI half-width), 'n/a' when there is no estimate."""
    if not math.isfinite(mean):
        return "n/a"
    m = mean / scale
    half = (high - low) / 2 / scale if math.isfinite(low) and math.isfinite(high) else math.nan
    d = _decimals(half, m)
    text = f"{m:+.{d}f}" if signed else f"{m:.{d}f}"
    if math.isfinite(half):
        text += f" ± {half:.{d}f}"
    return text


def table_rows(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
               short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison table: each arm's mean, then its difference."""
    header = ["Arm", *[f"{m.short if short else m.label} ({m.shown_unit})"
                       for m in (*METRICS, RETURN)]]
    rows = []
    for arm in arms:
        part = summary[summary["arm"] == arm].set_index("metric")
        cells = [arm + (" (baseline)" if arm == baseline and arm != "baseline" else "")]
        diffs = ["  vs baseline"]
        for m in (*METRICS, RETURN):
            r = part.loc[m.name]
            cells.append(format_estimate(r["mean"], r["ci_low"], r["ci_high"], m.scale))
            if m is RETURN:
                diffs.append("")
            else:
                diffs.append(format_estimate(r["diff"], r["diff_ci_low"], r["diff_ci_high"],
                                             m.scale, signed=True))
        rows.append(cells)
        if arm != baseline:
            rows.append(diffs)
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in rows:
        cells = [esc(c) for c in row]
        if row[0].startswith("  vs"):
            cells = ["&nbsp;&nbsp;*vs baseline*"] + [f"*{c}*" if c else "" for c in cells[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- figures
TRAJECTORY_PANELS = (
    ("revenue", "Revenue", "$ thousand per week", 1e3, 4),
    ("profit", "Profit", "$ thousand per week", 1e3, 13),
    ("churn_rate_annual_pct", "Customer churn", "% per year", 1.0, 13),
    ("turnover_rate_annual_pct", "Employee turnover", "% per year", 1.0, 13),
    ("employee_engagement", "Employee engagement", "mean score (0-1)", 1.0, 1),
    ("customer_engagement", "Customer engagement", "mean score (0-1)", 1.0, 1),
)


@dataclass(frozen=True)
class Timeline:
    """What happens when: policy starts (marked by a line) and crises (shaded)."""

    policy_weeks: tuple[int, ...] = ()
    crises: tuple[tuple[int, int], ...] = ()


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
                        timeline: Timeline, path: Path) -> None:
    """Weekly trajectories per arm: mean over replications with 95% CI bands."""
    import seaborn as sns

    palette = _palette(arms, baseline)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(13, 7.5), layout="constrained")
        axes = fig.subplots(2, 3, sharex=True).ravel()
        ts = timeseries.sort_values(["arm", "replication", "week"])
        for ax, (column, title, unit, scale, window) in zip(axes, TRAJECTORY_PANELS,
                                                             strict=True):
            _mark_timeline(ax, timeline)
            for arm in arms:
                f = ts[ts["arm"] == arm]
                wide = f.pivot(index="week", columns="replication", values=column) / scale
                if window > 1:
                    wide = wide.rolling(window, min_periods=1).mean()
                mean, low, high = mean_ci_rows(wide.to_numpy())
                sns.lineplot(x=wide.index, y=mean, ax=ax, color=palette[arm], label=arm,
                             lw=1.6, legend=False)
                if wide.shape[1] >= 2:
                    ax.fill_between(wide.index, low, high, color=palette[arm], alpha=0.2, lw=0)
            smooth = f", {window}-week rolling mean" if window > 1 else ""
            ax.set_title(f"{title}{smooth}", fontsize=10)
            ax.set_ylabel(unit)
            ax.set_xlabel("week")
        handles, labels = axes[0].get_legend_handles_labels()
        extra = []
        if timeline.policy_weeks:
            extra.append(Line2D([], [], color="0.3", ls=":", label="policy change"))
        if timeline.crises:
            extra.append(Patch(color="0.85", label="crisis"))
        fig.legend(handles + extra, labels + [e.get_label() for e in extra], loc="outside "
                   "lower center", ncol=min(len(handles) + len(extra), 6), frameon=False)
        reps = timeseries.groupby("arm")["replication"].nunique()
        fig.suptitle("How each policy plays out week by week (mean over "
                     f"{_reps_text(reps)}; bands: 95% CI of the mean, wide because chains "
                     "differ from seed to seed: see the paired differences)", fontsize=11)
        fig.savefig(path, dpi=100)


def _reps_text(reps: pd.Series) -> str:
    low, high = int(reps.min()), int(reps.max())
    return f"{low} replications" if low == high else f"{low}-{high} replications"


def quadrant_figure(stores: pd.DataFrame, arms: Sequence[str], baseline: str,
                    path: Path) -> None:
    """Stores in the final week: employee vs customer engagement, one panel per arm."""
    import seaborn as sns

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
            ax.set_title(f"{arm}: {both.mean():.0%} of stores high on both", fontsize=10)
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
        fig.suptitle("Stores in the final week: employee vs customer engagement (each dot a "
                     f"store in one replication, {int(n.min())}-{int(n.max())} per arm; lines: "
                     "medians of all stores)" if n.min() != n.max() else
                     "Stores in the final week: employee vs customer engagement (each dot a "
                     f"store in one replication, {int(n.min())} per arm; lines: medians of all "
                     "stores)", fontsize=11)
        fig.savefig(path, dpi=100)


def store_performance_figure(stores: pd.DataFrame, arms: Sequence[str], baseline: str,
                             path: Path) -> None:
    """Distribution over stores (and replications) of profit and churn in the last year."""
    import seaborn as sns

    palette = _palette(arms, baseline)
    last_week = int(stores["week"].max())
    window = min(52, last_week + 1)
    recent = stores[stores["week"] > last_week - window]
    per_store = recent.groupby(["arm", "replication", "store"], sort=False).agg(
        profit=("profit", "sum"), churned=("churned", "sum"), customers=("customers", "mean"))
    per_store = per_store.reset_index()
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
                sns.boxplot(data=per_store, x="arm", y=column, hue="arm", order=list(arms),
                            hue_order=list(arms), palette=palette, ax=ax, showfliers=False,
                            width=0.6, legend=False, boxprops={"alpha": 0.75})
            sns.stripplot(data=per_store, x="arm", y=column, order=list(arms), color="0.2",
                          size=2, alpha=0.35, jitter=0.25, ax=ax)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel(unit)
            ax.tick_params(axis="x", labelrotation=15)
        fig.suptitle(f"How stores perform under each policy (last {window} weeks; each dot a "
                     "store in one replication; boxes: quartiles)", fontsize=11)
        fig.savefig(path, dpi=100)


def differences_figure(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                       path: Path) -> None:
    """Difference of each arm from the baseline, metric by metric, with paired 95% CIs."""
    import seaborn as sns

    palette = _palette(arms, baseline)
    others = [a for a in arms if a != baseline]
    metrics = [m for m in METRICS if m.name != "policy_cost"]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(13, 1.2 + 0.55 * len(others) * 2 + 1.6), layout="constrained")
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
            ax.set_yticks(y, others)
            ax.set_ylim(-0.6, len(others) - 0.4)
            ax.invert_yaxis()
            better = {True: "higher is better", False: "lower is better"}.get(
                m.higher_is_better, "")
            ax.set_title(f"{m.label} ({better})" if better else m.label, fontsize=10)
            ax.set_xlabel(f"difference ({m.shown_unit})")
        fig.suptitle(f"Difference from '{baseline}', paired by seed: mean and 95% CI",
                     fontsize=12)
        fig.savefig(path, dpi=100)


# ------------------------------------------------------------------------------- report
FIGURES = (
    ("trajectories.png", "Trajectories"),
    ("differences.png", "Differences from the baseline"),
    ("quadrant.png", "Stores: employee vs customer engagement"),
    ("store_performance.png", "Distribution of store performance"),
)


def write_figures(folder: Path, timeseries: pd.DataFrame, stores: pd.DataFrame,
                  summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                  timeline: Timeline) -> list[str]:
    """Write every figure into `folder`; return their file names."""
    trajectories_figure(timeseries, arms, baseline, timeline, folder / "trajectories.png")
    differences_figure(summary, arms, baseline, folder / "differences.png")
    quadrant_figure(stores, arms, baseline, folder / "quadrant.png")
    store_performance_figure(stores, arms, baseline, folder / "store_performance.png")
    return [name for name, _ in FIGURES]


def _money(value: float, signed: bool = False) -> str:
    sign = "-" if value < 0 else ("+" if signed else "")
    v = abs(value)
    if v >= 1e6:
        return f"{sign}${v / 1e6:,.2f}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:,.1f}k"
    return f"{sign}${v:,.0f}"


def _amount(value: float, m: Metric, signed: bool = False, decimals: int | None = None) -> str:
    """A value in words-friendly units: $1.23M, 0.045, 24.1, $2.10 (return per $)."""
    if m is RETURN:
        return f"{'+' if signed and value >= 0 else ''}{'-' if value < 0 else ''}" \
               f"${abs(value):.2f}"
    if m.unit == "$":
        return _money(value, signed)
    d = (3 if m.unit == "0-1" else 1) if decimals is None else decimals
    return f"{value:+.{d}f}" if signed else f"{value:.{d}f}"


def _label_words(m: Metric) -> str:
    return m.label + {"%/year": " (%/year)", "0-1": " (0-1)"}.get(m.unit, "")


def _verdict(low: float, high: float, reps: int) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return " (one replication: no interval)."
    if low > 0 or high < 0:
        return ": a clear difference."
    return f": not distinguishable from zero with {reps} replications."


def _change_line(arm: str, baseline: str, part: pd.DataFrame, base: pd.DataFrame,
                 m: Metric, reps: int) -> str:
    """'Total profit: $14.24M -> $16.06M, +$1.82M (95% CI +$1.45M to +$2.19M): clear.'"""
    r = part.loc[m.name]
    diff, low, high = r["diff"], r["diff_ci_low"], r["diff_ci_high"]
    levels = (f"{_amount(base.loc[m.name, 'mean'], m)} under {baseline}, "
              f"{_amount(r['mean'], m)} under {arm}")
    if not math.isfinite(diff):
        return f"{_label_words(m)}: {levels}; no paired replications to compare."
    d = max(_decimals((high - low) / 2, diff), 3 if m.unit == "0-1" else 1)
    text = f"{_label_words(m)}: {levels}; difference {_amount(diff, m, True, d)}"
    if math.isfinite(low):
        text += f" (95% CI {_amount(low, m, True, d)} to {_amount(high, m, True, d)})"
    return text + _verdict(low, high, reps)


def _return_line(part: pd.DataFrame) -> str:
    cost, ret = part.loc["policy_cost"], part.loc[RETURN.name]
    if not math.isfinite(cost["diff"]):
        return ""
    if not math.isfinite(ret["mean"]):
        if cost["diff"] < 0:
            return (f"Policy cost: {_money(-cost['diff'])} less than the baseline on policy "
                    "items, so a return per dollar does not apply.")
        return ("Policy cost: about the same as the baseline on policy items, so a return per "
                "dollar does not apply.")
    text = (f"Policy cost: {_money(cost['diff'])} more than the baseline; every extra dollar "
            f"returned {_amount(ret['mean'], RETURN, True)} of profit on top of paying for "
            "itself")
    if math.isfinite(ret["ci_low"]):
        text += (f" (95% CI {_amount(ret['ci_low'], RETURN, True)} to "
                 f"{_amount(ret['ci_high'], RETURN, True)})")
        if ret["ci_low"] > 0:
            return text + ": it pays for itself and more."
        if ret["ci_high"] < 0:
            return text + ": it does not pay for itself."
        return text + ": we cannot tell whether it pays for itself."
    return text + "."


def plain_reading(summary: pd.DataFrame, metrics: pd.DataFrame, arms: Sequence[str],
                  baseline: str, weeks: int, evidence: bool = False) -> list[str]:
    """Markdown blocks saying what differs from the baseline and how sure we are; with
    `evidence` (replications drew the uncertain parameters), how often each arm wins across
    the plausible worlds."""
    from sim.studies.uncertainty import world_sentence

    blocks = []
    base = summary[summary["arm"] == baseline].set_index("metric")
    for arm in arms:
        if arm == baseline:
            continue
        part = summary[summary["arm"] == arm].set_index("metric")
        reps = int(part.loc["profit", "diff_n"])
        lines = [f"**{arm}** against **{baseline}** over {weeks} weeks ({reps} paired "
                 "replications):", ""]
        items = [_change_line(arm, baseline, part, base, METRIC_BY_NAME[name], reps)
                 for name in ("profit", "revenue")]
        items.append(_return_line(part))
        items += [_change_line(arm, baseline, part, base, METRIC_BY_NAME[name], reps)
                  for name in ("customer_churn_pct", "employee_turnover_pct",
                               "employee_engagement", "customer_engagement")]
        if evidence:
            items.append(world_sentence(metrics, arm, baseline))
        lines += [f"- {item}" for item in items if item]
        blocks.append("\n".join(lines))
    blocks.append(_best_arm(metrics, arms))
    if evidence:
        blocks.append(_worlds_block(metrics, arms, baseline, world_sentence))
    return blocks


def _worlds_block(metrics: pd.DataFrame, arms: Sequence[str], baseline: str,
                  world_sentence) -> str:
    """The most profitable arm against each other policy, across the drawn worlds."""
    means = metrics.groupby("arm")["profit"].mean().reindex(list(arms)).dropna()
    others = [a for a in means.sort_values(ascending=False).index if a != baseline]
    if len(others) < 2:
        return ""
    best = others[0]
    lines = ["**Across plausible worlds** (each replication drew the uncertain effect sizes "
             "and persistence from their declared distributions, docs/ODD.md; the same draw in "
             "every arm):", ""]
    lines += [f"- {world_sentence(metrics, best, other)}" for other in others[1:]]
    return "\n".join(lines)


def _best_arm(metrics: pd.DataFrame, arms: Sequence[str]) -> str:
    means = metrics.groupby("arm")["profit"].mean().reindex(list(arms)).dropna()
    if len(means) < 2:
        return ""
    order = means.sort_values(ascending=False).index.tolist()
    best, second = order[0], order[1]
    d = paired_difference_ci(*_paired(metrics, best, second, "profit"))
    m = METRIC_BY_NAME["profit"]
    text = f"**Most profitable: {best}**, {_money(d.mean)} ahead of the next best, {second}"
    if not math.isfinite(d.low):
        return text + " (one replication: no interval)."
    text += (f" (95% CI {_amount(d.low, m, True)} to {_amount(d.high, m, True)}, paired by "
             "seed)")
    if d.excludes_zero():
        return text + ": the lead is clear."
    return text + (": the two cannot be told apart with these replications; more "
                   "replications (`--replications`) would narrow the interval.")


def write_report(folder: Path, *, title: str, question: str, description: str,
                 settings: list[tuple[str, str]], table: tuple[list[str], list[list[str]]],
                 reading: list[str], figures: Sequence[str], warning: str = "") -> None:
    """Write report.md (figures linked) and report.html (figures embedded, self-contained)."""
    header, rows = table
    parts = [f"# {title}", ""]
    if warning:
        parts += [f"> **Warning: {warning}**", ""]
    parts += [f"**Question.** {question}", ""]
    if description.strip():
        parts += [description.strip(), ""]
    parts += ["## What we found", ""]
    parts += [f"{block}\n" for block in reading if block]
    parts += ["## Comparison table", "",
              "Each arm's mean over replications ± the half-width of its 95% confidence "
              "interval (t distribution); the line under each arm is its difference from the "
              "baseline, paired replication by replication (same seed, so the same customers, "
              "staff and chance events), with its 95% CI. A difference whose interval excludes "
              "zero is clear at this number of replications.", "",
              markdown_table(header, rows), "",
              "Definitions: totals are over the whole horizon; churn is customers lost per "
              "year as a share of the average customer base; turnover is voluntary quits per "
              "year as a share of the average headcount; engagement is the chain's mean score "
              "in the last week; policy cost is the spend on "
              f"{', '.join(POLICY_COST_ITEMS)}; the return is the extra profit per extra "
              "dollar of policy cost (profit already pays for the policy, so 0 means it paid "
              "for itself exactly, -1 that it bought nothing; n/a when the arm spends no more "
              "than the baseline).", ""]
    captions = dict(FIGURES)
    parts += ["## Figures", ""]
    for name in figures:
        parts += [f"### {captions.get(name, name)}", "", f"![{captions.get(name, name)}]"
                  f"({name})", ""]
    parts += ["## How this was run", "", "| setting | value |", "|---|---|"]
    parts += [f"| {k} | {v} |" for k, v in settings]
    parts.append("")
    text = "\n".join(parts)
    (folder / "report.md").write_text(text, encoding="utf-8")
    (folder / "report.html").write_text(_html(text, title, folder), encoding="utf-8")


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; }
th { background: #f3f3f3; }
td { white-space: nowrap; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: 0.2em 1em;
             background: #fff4f4; }
img { max-width: 100%; }
"""


def _html(markdown_text: str, title: str, folder: Path) -> str:
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])

    def embed(match: re.Match) -> str:
        name = html.unescape(match.group(1))
        path = folder / name
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
