"""The per-store part of a scenario report, for runs on a chain file (`chain:`).

Each of the chain's own stores gets its predicted gain from each policy against the baseline
(profit and revenue over the horizon, $, paired replication by replication: same seed, so the
same staff, customers and chance events), with its 95% interval, so a strategist can see where
a policy pays most (targeting); and the chain's own quadrant plot: its stores by employee x
customer engagement under the baseline, with an arrow to where each policy moves them.

`add_chain_section` is called once by `sim.studies.report.write_scenario_report` after the
report is written: it writes `store_gains.csv` and two figures, inserts its section into
report.md before "How this was run" and renders report.html again with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.studies.stats import paired_difference_ci

GAINS_FILE = "store_gains.csv"
GAINS_FIGURE = "store_gains.png"
QUADRANT_FIGURE = "chain_quadrant.png"
SETTINGS_HEADING = "## How this was run"
MEASURES = {"profit": "profit", "revenue": "revenue"}  # stores-frame column -> words
TABLE_ROWS = 40  # stores shown in report.md (all are in the CSV)


def store_totals(stores: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """Per arm, replication and store: profit and revenue over the horizon ($) and the
    engagement scores averaged over the last 13 weeks (0-1)."""
    last = stores["week"].max()
    g = stores.groupby(["arm", "replication", "store"])
    late = stores[stores["week"] > last - 13].groupby(["arm", "replication", "store"])
    out = pd.DataFrame({m: g[m].sum() for m in MEASURES})
    for col in ("employee_engagement", "customer_engagement"):
        out[col] = late[col].mean()
    out = out.reset_index()
    out["store_id"] = np.asarray(ids, dtype=object)[out["store"].to_numpy()]
    return out


def store_gains(totals: pd.DataFrame, arms: Sequence[str], baseline: str) -> pd.DataFrame:
    """One row per store and policy: the mean paired gain over the baseline in each measure
    with its 95% interval (t over replications finished in both arms)."""
    rows = []
    wide = totals.set_index(["store", "store_id", "replication", "arm"])[list(MEASURES)]
    wide = wide.unstack("arm")
    for arm in arms:
        if arm == baseline:
            continue
        for (store, store_id), f in wide.groupby(level=["store", "store_id"], sort=True):
            row = {"store": int(store), "store_id": store_id, "arm": arm}
            for m in MEASURES:
                pair = f[m][[arm, baseline]].dropna()
                est = paired_difference_ci(pair[arm].to_numpy(), pair[baseline].to_numpy())
                row.update({f"{m}_gain": est.mean, f"{m}_gain_low": est.low,
                            f"{m}_gain_high": est.high, "replications": est.n})
            rows.append(row)
    return pd.DataFrame(rows)


def _interval(mean: float, low: float, high: float) -> str:
    """'+$12.3k (95% CI +$4.1k to +$20.5k)'."""
    def money(v: float) -> str:
        sign = "−" if v < 0 else "+"
        return f"{sign}${abs(v) / 1e3:,.1f}k"

    if not math.isfinite(mean):
        return "n/a"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{money(mean)} (one replication: no interval)"
    return f"{money(mean)} ({money(low)} to {money(high)})"


def _row_interval(row: pd.Series) -> str:
    return _interval(row["profit_gain"], row["profit_gain_low"], row["profit_gain_high"])


def gains_table(gains: pd.DataFrame, profile: object, arms: Sequence[str], baseline: str,
                labels: dict[str, str]) -> str:
    """The Markdown table: stores ranked by the first policy's profit gain."""
    from sim.studies.comparison import md_text

    policies = [a for a in arms if a != baseline]
    first = gains[gains["arm"] == policies[0]].sort_values("profit_gain", ascending=False)
    quality = dict(zip(profile.ids, profile.supervisor_quality, strict=True))
    market = dict(zip(profile.ids, profile.local_market, strict=True))
    head = ["store", "supervisor quality (0-1)", "local market: expectation (0-1)"]
    head += [f"{md_text(labels.get(a, a))}: profit gain, $ (95% CI)" for a in policies]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by = gains.set_index(["arm", "store_id"])
    for store_id in first["store_id"].head(TABLE_ROWS):
        cells = [md_text(str(store_id)), f"{quality[store_id]:.2f}", f"{market[store_id]:.3f}"]
        for a in policies:
            r = by.loc[(a, store_id)]
            cells.append(_interval(r["profit_gain"], r["profit_gain_low"],
                                   r["profit_gain_high"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gains_figure(gains: pd.DataFrame, arms: Sequence[str], baseline: str, horizon: int,
                 path: Path, labels: dict[str, str]) -> None:
    """Each store's profit gain from each policy with its 95% interval, stores ranked by the
    first policy's gain."""
    import seaborn as sns
    from matplotlib.figure import Figure

    policies = [a for a in arms if a != baseline]
    order = (gains[gains["arm"] == policies[0]].sort_values("profit_gain")["store_id"].tolist())
    y = {s: i for i, s in enumerate(order)}
    colours = sns.color_palette("colorblind", len(policies))
    offset = np.linspace(-0.25, 0.25, len(policies)) if len(policies) > 1 else [0.0]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(8, 1.2 + 0.28 * len(order)), layout="constrained")
        ax = fig.subplots()
        ax.axvline(0, color="0.3", lw=0.9)
        for a, colour, dy in zip(policies, colours, offset, strict=True):
            f = gains[gains["arm"] == a]
            pos = np.array([y[s] for s in f["store_id"]]) + dy
            mean = f["profit_gain"].to_numpy() / 1e3
            low = np.nan_to_num(mean - f["profit_gain_low"].to_numpy() / 1e3)
            high = np.nan_to_num(f["profit_gain_high"].to_numpy() / 1e3 - mean)
            ax.errorbar(mean, pos, xerr=[low, high], fmt="o", ms=4, color=colour, lw=1.2,
                        capsize=2, label=labels.get(a, a))
        ax.set_yticks(range(len(order)), order)
        ax.set_xlabel(f"profit gain over the baseline, $ thousand over {horizon} weeks "
                      "(mean and 95% CI, paired by seed)")
        ax.set_ylabel("store")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_title("Where each policy pays: each store's predicted profit gain", fontsize=11)
        fig.savefig(path, dpi=100)


def quadrant_figure(totals: pd.DataFrame, arms: Sequence[str], baseline: str, path: Path,
                    labels: dict[str, str]) -> None:
    """The chain's own stores by employee x customer engagement (last 13 weeks, mean over
    replications) under the baseline, with arrows to where each policy moves them (one panel
    per policy)."""
    import seaborn as sns
    from matplotlib.figure import Figure

    mean = totals.groupby(["arm", "store_id"])[["employee_engagement",
                                                "customer_engagement"]].mean()
    base = mean.loc[baseline]
    policies = [a for a in arms if a != baseline]
    colours = sns.color_palette("colorblind", len(policies))
    x_mid = float(base["employee_engagement"].median())
    y_mid = float(base["customer_engagement"].median())
    cols = min(len(policies), 3)
    rows = math.ceil(len(policies) / cols)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(5.2 * cols, 4.8 * rows + 0.6), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
        for ax, a, colour in zip(axes, policies, colours, strict=False):
            moved = mean.loc[a].reindex(base.index)
            ax.axvline(x_mid, color="0.5", lw=0.8)
            ax.axhline(y_mid, color="0.5", lw=0.8)
            sns.scatterplot(data=base, x="employee_engagement", y="customer_engagement",
                            ax=ax, color="0.25", s=24, zorder=3)
            for s in base.index:
                start = (base.at[s, "employee_engagement"], base.at[s, "customer_engagement"])
                ax.annotate("", xy=(moved.at[s, "employee_engagement"],
                                    moved.at[s, "customer_engagement"]), xytext=start,
                            arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.0})
                ax.annotate(str(s), start, fontsize=7, xytext=(3, 3),
                            textcoords="offset points", color="0.3")
            ax.set_title(f"{labels.get(baseline, baseline)} (dots) → {labels.get(a, a)}",
                         fontsize=10)
            ax.set_xlabel("employee engagement, last 13 weeks (0-1)")
            ax.set_ylabel("customer engagement, last 13 weeks (0-1)")
        for ax in axes[len(policies):]:
            ax.set_visible(False)
        fig.suptitle("The chain's own stores: employee vs customer engagement (mean over "
                     "replications; lines: the baseline's medians)", fontsize=11)
        fig.savefig(path, dpi=100)


def chain_section(gains: pd.DataFrame, totals: pd.DataFrame, scenario: object,
                  arms: Sequence[str], labels: dict[str, str]) -> str:
    """The report's per-store section (Markdown)."""
    from sim.studies.comparison import md_text

    chain = scenario.chain_file()
    baseline = scenario.baseline_arm
    policies = [a for a in arms if a != baseline]
    first = gains[gains["arm"] == policies[0]]
    best = first.sort_values("profit_gain", ascending=False).iloc[0]
    worst = first.sort_values("profit_gain").iloc[0]
    clear = int((first["profit_gain_low"] > 0).sum())
    reps = int(first["replications"].min())
    n = len(first)
    quality = np.asarray(chain.profile.supervisor_quality)[first["store"].to_numpy()]
    r = (float(np.corrcoef(quality, first["profit_gain"])[0, 1])
         if n > 2 and first["profit_gain"].std() > 0 else math.nan)
    name = md_text(labels.get(policies[0], policies[0]))
    parts = [
        "## Your chain, store by store", "",
        f"These runs start from the chain file `{md_text(chain.path)}` ({n} stores, each "
        "with its own headcount, customers, supervisor quality and local market). Each "
        "store's gain is its total over the horizon in the policy's run minus the "
        f"baseline's on the same seed, averaged over {reps} replications, with its 95% "
        "confidence interval (t distribution).", "",
        f"With **{name}**, profit gains range from {_row_interval(worst)} at store "
        f"{md_text(str(worst['store_id']))} to {_row_interval(best)} at store "
        f"{md_text(str(best['store_id']))}; the interval is above zero at {clear} "
        f"of {n} stores."
        + (f" Across stores, the gain's correlation with the supervisor's quality is "
           f"r = {r:+.2f}." if math.isfinite(r) else ""), "",
        f"All stores and measures (profit and revenue gains, $, with their intervals) are in "
        f"`{GAINS_FILE}`; the table shows the {min(n, TABLE_ROWS)} stores with the largest "
        f"gains from {name}.", "",
        gains_table(gains, chain.profile, arms, baseline, labels), "",
        "### Each store's predicted gain", "",
        f"![Each store's predicted gain]({GAINS_FIGURE})", "",
        "### The chain's own quadrant", "",
        f"![The chain's own quadrant]({QUADRANT_FIGURE})", "",
        "Each dot is one of the chain's stores under the baseline (mean of the last 13 weeks "
        "over replications); in each panel, arrows show where that policy moves it.", ""]
    return "\n".join(parts)


def add_chain_section(folder: Path, scenario: object, stores: pd.DataFrame,
                      summary: pd.DataFrame, arms: Sequence[str], figures: Sequence[str],
                      labels: dict[str, str]) -> list[str]:
    """Write the per-store table, CSV and figures and add them to report.md/html (nothing
    without a chain file or with fewer than two arms); returns the figure names added."""
    from sim.studies.comparison import markdown_table
    from sim.studies.report_html import render_html

    chain = scenario.chain_file()
    baseline = scenario.baseline_arm
    if chain is None or baseline not in arms or len(arms) < 2:
        return []
    totals = store_totals(stores, chain.profile.ids)
    gains = store_gains(totals, arms, baseline)
    gains.to_csv(folder / GAINS_FILE, index=False)
    gains_figure(gains, arms, baseline, scenario.horizon_weeks, folder / GAINS_FIGURE, labels)
    quadrant_figure(totals, arms, baseline, folder / QUADRANT_FIGURE, labels)
    section = chain_section(gains, totals, scenario, arms, labels)
    text = (folder / "report.md").read_text(encoding="utf-8")
    at = text.find(SETTINGS_HEADING)
    text = text[:at] + section + "\n" + text[at:] if at >= 0 else text + "\n" + section
    (folder / "report.md").write_text(text, encoding="utf-8")
    _, styles = markdown_table(summary, arms, baseline, labels)
    added = [GAINS_FIGURE, QUADRANT_FIGURE]
    (folder / "report.html").write_text(
        render_html(text, scenario.question, folder, [*figures, *added], styles),
        encoding="utf-8")
    return added
