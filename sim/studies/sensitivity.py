"""Reading sweep results: replication means with CIs, arm contrasts, Sobol and Morris indices,
and seaborn plots (heatmap over two parameters, index bars, response curves with CI bands).

Every function takes the frame returned by `sim.sweep` or `sim.load_sweep` (one row per run;
its `attrs["sweep"]` tells which sweep it is). `arm` names an arm of the spec's `compare` or
one of its `contrasts`; a contrast is computed replication by replication (same seed), so
common random numbers cancel most of the noise. Confidence intervals are 95%: Student-t over
replications for means, SALib's bootstrap for Sobol and Morris indices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.model.parameters import parameter_fields
from sim.studies.experiments import COLUMN_UNITS
from sim.studies.stats import mean_ci
from sim.studies.sweep_design import unit_problem
from sim.studies.sweep_folder import SweepInfo
from sim.studies.sweep_spec import SINGLE_ARM

KEYS = ("point", "replication")
_UNITS = {f.name: f.metadata["unit"] for f in parameter_fields()}
_SCALES = {"$": (1e6, "$M")}  # money is shown in millions


# ------------------------------------------------------------------------------ labels
def outcome_label(column: str) -> str:
    """'profit ($M)', 'customer_churn_pct (%/year)': a column with the unit it is shown in."""
    unit = COLUMN_UNITS.get(column, "")
    shown = _SCALES.get(unit, (1.0, unit))[1]
    return f"{column} ({shown})" if shown else column


def outcome_scale(column: str) -> float:
    """Divide stored values by this to show them in the unit of `outcome_label`."""
    return _SCALES.get(COLUMN_UNITS.get(column, ""), (1.0, ""))[0]


def factor_label(name: str) -> str:
    unit = _UNITS.get(name, "")
    return f"{name} ({unit})" if unit else name


# ------------------------------------------------------------------------------ frames
def sweep_info(runs: pd.DataFrame) -> SweepInfo:
    info = runs.attrs.get("sweep")
    if not isinstance(info, SweepInfo):
        raise ValueError("this frame does not say which sweep it comes from: pass the frame "
                         "returned by sim.sweep or sim.load_sweep (attrs['sweep'])")
    return info


def contrast_runs(runs: pd.DataFrame, contrast: str | None = None) -> pd.DataFrame:
    """The spec's contrasts as runs: for each design point and replication, every outcome of
    arm `arm` minus the same outcome of arm `minus` (same seed). The `arm` column holds the
    contrast's name. All contrasts unless one is named."""
    info = sweep_info(runs)
    contrasts = info.manifest["contrasts"]
    names = list(contrasts) if contrast is None else [contrast]
    for name in names:
        if name not in contrasts:
            allowed = ", ".join(f"'{c}'" for c in contrasts) or "none: the spec has none"
            raise ValueError(f"no contrast is called '{name}'; allowed: {allowed}")
    factors = info.manifest["design"]["factors"]
    columns = info.manifest["columns"]
    parts = []
    for name in names:
        c = contrasts[name]
        a = runs.loc[runs["arm"] == c["arm"], [*KEYS, "seed", *factors, *columns]]
        b = runs.loc[runs["arm"] == c["minus"], [*KEYS, *columns]]
        both = a.merge(b, on=list(KEYS), suffixes=("", "__minus"))
        for col in columns:
            both[col] = both[col] - both.pop(f"{col}__minus")
        both.insert(1, "arm", name)
        parts.append(both)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out = out.sort_values(["arm", *KEYS], kind="stable").reset_index(drop=True)
    out.attrs["sweep"] = info
    return out


def _arm_runs(runs: pd.DataFrame, arm: str | None) -> tuple[pd.DataFrame, str]:
    """The runs of one arm, or of one contrast; by default the only contrast, else the only
    arm."""
    info = sweep_info(runs)
    arms, contrasts = info.manifest["arms"], list(info.manifest["contrasts"])
    if arm is None:
        if len(contrasts) == 1:
            arm = contrasts[0]
        elif len(arms) == 1:
            arm = arms[0]
        else:
            raise ValueError("name the arm or contrast to analyse; allowed: " + ", ".join(
                f"'{a}'" for a in [*arms, *contrasts]))
    if arm in contrasts:
        return contrast_runs(runs, arm), arm
    if arm not in arms:
        raise ValueError(f"no arm or contrast is called '{arm}'; allowed: " + ", ".join(
            f"'{a}'" for a in [*arms, *contrasts]))
    return runs[runs["arm"] == arm], arm


def replication_summary(runs: pd.DataFrame, outcomes: list[str] | None = None,
                        contrasts: bool = True) -> pd.DataFrame:
    """Mean of each outcome over replications at each design point and arm, with its 95%
    t interval. Long form: point, arm, the factors, outcome, unit, mean, ci_low, ci_high, n.
    With `contrasts`, the spec's contrasts are added as arms."""
    info = sweep_info(runs)
    factors = info.manifest["design"]["factors"]
    outcomes = list(info.manifest["columns"] if outcomes is None else outcomes)
    frames = [runs]
    if contrasts and info.manifest["contrasts"]:
        frames.append(contrast_runs(runs))
    rows = []
    for frame in frames:
        for (point, arm), group in frame.groupby(["point", "arm"], sort=True):
            first = group.iloc[0]
            for outcome in outcomes:
                est = mean_ci(group[outcome].to_numpy())
                rows.append({"point": point, "arm": arm,
                             **{f: first[f] for f in factors}, "outcome": outcome,
                             "unit": COLUMN_UNITS.get(outcome, ""), "mean": est.mean,
                             "ci_low": est.low, "ci_high": est.high, "n": est.n})
    out = pd.DataFrame(rows)
    out.attrs["sweep"] = info
    return out


def _point_means(runs: pd.DataFrame, outcome: str, info: SweepInfo) -> np.ndarray:
    """Replication mean of `outcome` at every design point, in design order."""
    points = len(info.manifest["design"]["points"])
    means = runs.groupby("point")[outcome].mean().reindex(range(points))
    if means.isna().any():
        missing = int(means.isna().sum())
        raise ValueError(f"{missing} of {points} design points have no finished run (or a nan "
                         f"{outcome}): finish the sweep first (run it again into its folder)")
    return means.to_numpy(dtype=float)


# ------------------------------------------------------------------------------ indices
def sobol_indices(runs: pd.DataFrame, outcome: str, arm: str | None = None, *,
                  resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of `outcome` for each factor, with 95%
    bootstrap CI half-widths (S1_ci95, ST_ci95), from a sweep with design method 'sobol'.
    Outcomes are averaged over replications at each point first."""
    from SALib.analyze import sobol

    info = sweep_info(runs)
    _need_method(info, "sobol")
    chosen, arm = _arm_runs(runs, arm)
    y = _point_means(chosen, outcome, info)
    factors = info.manifest["design"]["factors"]
    second = bool(info.manifest["spec"].get("design", {}).get("second_order", False))
    with np.errstate(all="ignore"):
        si = sobol.analyze(unit_problem(factors), y, calc_second_order=second,
                           num_resamples=resamples, conf_level=0.95, seed=seed)
    out = pd.DataFrame({"factor": factors, "S1": si["S1"], "S1_ci95": si["S1_conf"],
                        "ST": si["ST"], "ST_ci95": si["ST_conf"]})
    out.attrs.update(outcome=outcome, arm=arm, method="sobol", points=len(y))
    return out


def morris_indices(runs: pd.DataFrame, outcome: str, arm: str | None = None, *,
                   resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects of `outcome` for each factor: mu (mean), mu_star (mean of
    absolute effects) with its 95% bootstrap CI half-width, and sigma (their spread), from a
    sweep with design method 'morris'. An effect is the change of the outcome (in its own
    unit) when the factor moves by one Morris step, expressed per whole range of the factor
    (low to high, or the distribution's 0-1 quantile range)."""
    from SALib.analyze import morris

    info = sweep_info(runs)
    _need_method(info, "morris")
    chosen, arm = _arm_runs(runs, arm)
    y = _point_means(chosen, outcome, info)
    factors = info.manifest["design"]["factors"]
    x = info.design.unit
    levels = int(info.manifest["spec"].get("design", {}).get("levels", 4))
    with np.errstate(all="ignore"):
        si = morris.analyze(unit_problem(factors), x, y, num_resamples=resamples,
                            conf_level=0.95, num_levels=levels, seed=seed)
    out = pd.DataFrame({"factor": factors, "mu": np.asarray(si["mu"], float),
                        "mu_star": np.asarray(si["mu_star"], float),
                        "mu_star_ci95": np.asarray(si["mu_star_conf"], float),
                        "sigma": np.asarray(si["sigma"], float)})
    out.attrs.update(outcome=outcome, arm=arm, method="morris", points=len(y))
    return out


def _need_method(info: SweepInfo, method: str) -> None:
    found = info.manifest["design"]["method"]
    if found != method:
        raise ValueError(f"{method} indices need a sweep with design method '{method}'; this "
                         f"one is '{found}'")


# ------------------------------------------------------------------------------ plots
def plot_heatmap(runs: pd.DataFrame, x: str, y: str, outcome: str, arm: str | None = None, *,
                 ax: Any = None, annot: bool = True, cmap: str = "viridis") -> Any:
    """Heatmap of `outcome` over two factors: each cell the mean over its runs (replications
    and any other factors). Cells show the mean; the title gives the largest 95% CI
    half-width, so a reader can tell which differences are real."""
    import seaborn as sns
    from matplotlib import pyplot as plt

    chosen, arm = _arm_runs(runs, arm)
    scale = outcome_scale(outcome)
    cells = []
    for (xv, yv), group in chosen.groupby([x, y], sort=True):
        est = mean_ci(group[outcome].to_numpy() / scale)
        cells.append({x: xv, y: yv, "mean": est.mean, "half": est.half_width, "n": est.n})
    table = pd.DataFrame(cells)
    grid = table.pivot(index=y, columns=x, values="mean").sort_index(ascending=False)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 3, 0.6 * grid.shape[0] + 2),
                             layout="constrained")
    sns.heatmap(grid, annot=annot, fmt=".3g", cmap=cmap, ax=ax,
                cbar_kws={"label": outcome_label(outcome)})
    ax.set_xlabel(factor_label(x))
    ax.set_ylabel(factor_label(y))
    half = np.nanmax(table["half"].to_numpy()) if table["half"].notna().any() else math.nan
    n = int(table["n"].min()) if len(table) else 0
    where = "" if arm == SINGLE_ARM else f"{arm}: "
    ax.set_title(f"{where}mean {outcome_label(outcome)}; {n}+ runs per cell, 95% CI "
                 f"half-width up to {half:.3g}", fontsize="medium")
    return ax


def plot_indices(indices: pd.DataFrame, *, ax: Any = None) -> Any:
    """Bar chart of Sobol indices (S1 and ST with 95% CI error bars) or Morris indices (mu*
    with its 95% CI, and sigma), as returned by sobol_indices / morris_indices."""
    import seaborn as sns
    from matplotlib import pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * len(indices) + 1.8), layout="constrained")
    if "S1" in indices.columns:
        kinds = (("S1", "S1_ci95", "first order (S1)"), ("ST", "ST_ci95", "total (ST)"))
        xlabel = "Sobol index (share of the outcome's variance)"
    else:
        kinds = (("mu_star", "mu_star_ci95", "mu* (mean |effect|)"),
                 ("sigma", None, "sigma (spread of effects)"))
        xlabel = f"elementary effect ({_index_unit(indices)} per factor range)"
    order = indices.sort_values(kinds[1][0], ascending=True)["factor"].tolist()
    rows = indices.set_index("factor").loc[order]
    palette = sns.color_palette(n_colors=len(kinds))
    height = 0.8 / len(kinds)
    for j, (value, ci, label) in enumerate(kinds):
        y = np.arange(len(order)) + (j - (len(kinds) - 1) / 2) * height
        ax.barh(y, rows[value], height=height, color=palette[j], label=label,
                xerr=rows[ci] if ci else None, error_kw={"capsize": 2, "lw": 1})
    ax.set_yticks(np.arange(len(order)), order)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    title = indices.attrs.get("outcome", "")
    if title:
        where = indices.attrs.get("arm", "")
        where = "" if where in ("", SINGLE_ARM) else f" ({where})"
        ax.set_title(f"{title}{where}: 95% CI bars", fontsize="medium")
    ax.legend(title="", loc="lower right")
    sns.despine(ax=ax)
    return ax


def _index_unit(indices: pd.DataFrame) -> str:
    return COLUMN_UNITS.get(indices.attrs.get("outcome", ""), "outcome units")


def plot_response(runs: pd.DataFrame, factor: str, outcome: str,
                  arms: list[str] | None = None, *, bins: int = 8, ax: Any = None) -> Any:
    """Response curve: the mean of `outcome` against one factor, one line per arm (or
    contrast), with its 95% t confidence band over the runs at each value. Sampled designs
    (many distinct values) are grouped into `bins` quantile bins, plotted at the bins' means."""
    import seaborn as sns
    from matplotlib import pyplot as plt

    info = sweep_info(runs)
    if arms is None:
        arms = list(info.manifest["contrasts"]) or info.manifest["arms"]
    scale = outcome_scale(outcome)
    rows = []
    for arm in arms:
        chosen, _ = _arm_runs(runs, arm)
        values = chosen[factor]
        if values.nunique() > 2 * bins and pd.api.types.is_numeric_dtype(values):
            key = pd.qcut(values, bins, duplicates="drop")
        else:
            key = values
        for _, group in chosen.groupby(key, observed=True, sort=True):
            est = mean_ci(group[outcome].to_numpy() / scale)
            rows.append({"arm": arm, "x": float(group[factor].mean()), "mean": est.mean,
                         "low": est.low, "high": est.high, "n": est.n})
    curve = pd.DataFrame(rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    palette = sns.color_palette(n_colors=len(arms))
    sns.lineplot(data=curve, x="x", y="mean", hue="arm", hue_order=arms, marker="o", ax=ax,
                 palette=palette, errorbar=None)
    for color, arm in zip(palette, arms, strict=True):
        part = curve[curve["arm"] == arm]
        ax.fill_between(part["x"], part["low"], part["high"], color=color, alpha=0.2, lw=0)
    ax.set_xlabel(factor_label(factor))
    ax.set_ylabel(f"mean {outcome_label(outcome)}")
    ax.set_title(f"{outcome} against {factor}: mean and 95% CI band "
                 f"({int(curve['n'].min()) if len(curve) else 0}+ runs per point)",
                 fontsize="medium")
    if len(arms) == 1 and arms[0] == SINGLE_ARM:
        ax.get_legend().remove()
    else:
        ax.legend(title="")
    return ax
