"""The report of a calibration: posterior histograms and pair plot, and each statistic's
observed value beside its posterior-predictive interval (fitted and held out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.studies.calibration.convergence import CRITERIA
from sim.studies.labels import humanize


def target_check(cal: Any, level: float = 0.95) -> pd.DataFrame:
    """One row per statistic (fitted, then held out): observed with its interval, the
    posterior-predictive median and interval, and whether the observed interval and the
    simulated one overlap (pass) or not (miss)."""
    rows = []
    tail = 100 * (1 - level) / 2
    for role, group in (("fitted", cal.targets.targets), ("held out", cal.targets.held_out)):
        for key, t in group.items():
            sim = cal.predictive[key].to_numpy(float) if key in cal.predictive else np.array([])
            sim = sim[np.isfinite(sim)]
            low, high = (np.percentile(sim, [tail, 100 - tail]) if len(sim)
                         else (np.nan, np.nan))
            o_low, o_high = t.interval
            rows.append({"statistic": key, "role": role, "observed": t.observed,
                         "observed_low": o_low, "observed_high": o_high,
                         "simulated": float(np.median(sim)) if len(sim) else np.nan,
                         "simulated_low": float(low), "simulated_high": float(high),
                         "pass": bool(len(sim) and low <= o_high and high >= o_low)})
    return pd.DataFrame(rows)


def posterior_summary(cal: Any) -> pd.DataFrame:
    """Weighted median and 90% interval of each fitted parameter, beside its prior."""
    from sim.studies.calibration.targets import prior_bounds

    rows = []
    for name, prior in cal.targets.fit.items():
        low, high = cal.interval(name, 0.9)
        p_low, p_high = prior_bounds(name, prior)
        rows.append({"parameter": name, "median": cal.median()[name], "q05": low, "q95": high,
                     "prior": f"{prior.distribution} [{p_low:g}, {p_high:g}]"})
    return pd.DataFrame(rows)


def write_report(cal: Any, folder: Path) -> Path:
    """Write report.md with its figures into `folder`; return the Markdown file."""
    # No matplotlib.use(): the caller's backend stays (a notebook keeps drawing inline); every
    # figure made here is closed, so none is shown.
    import matplotlib.pyplot as plt
    import seaborn as sns

    folder.mkdir(parents=True, exist_ok=True)
    names = cal.parameters
    post = cal.posterior
    n = len(names)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        sns.histplot(x=post[name], weights=post["weight"], ax=ax, bins=20, stat="density")
        ax.set_xlabel(humanize(name))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(folder / "posterior.png", dpi=110)
    plt.close(fig)
    figures = ["posterior.png"]
    if n >= 2:
        sample = pd.DataFrame(cal.draws(min(400, 4 * len(post)), cal.targets.abc.seed))
        grid = sns.pairplot(sample, corner=True, plot_kws={"s": 8, "alpha": 0.5})
        grid.savefig(folder / "pairs.png", dpi=90)
        plt.close(grid.figure)
        figures.append("pairs.png")
    check = target_check(cal)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(check) + 1.2))
    y = np.arange(len(check))[::-1]
    scale = check[["observed_low", "observed_high"]].abs().max(axis=1).replace(0, 1)
    ax.errorbar(check["observed"] / scale, y + 0.15, xerr=[
        (check["observed"] - check["observed_low"]) / scale,
        (check["observed_high"] - check["observed"]) / scale], fmt="o", label="observed")
    ax.errorbar(check["simulated"] / scale, y - 0.15, xerr=[
        (check["simulated"] - check["simulated_low"]).clip(lower=0) / scale,
        (check["simulated_high"] - check["simulated"]).clip(lower=0) / scale], fmt="s",
        label="simulated (posterior, 95%)")
    ax.set_yticks(y, [f"{humanize(s)} ({r})" for s, r in zip(check["statistic"],
                                                              check["role"], strict=True)])
    ax.set_xlabel("value / largest observed bound")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "targets.png", dpi=110)
    plt.close(fig)
    figures.append("targets.png")
    info = cal.info
    lines = [f"# Calibration '{cal.targets.name}'", "",
             f"{info.get('method', '')}. {info.get('generations')} generations, "
             f"{info.get('simulations')} simulated chains, final epsilon "
             f"{info.get('final_epsilon', float('nan')):.3g} (RMS of gaps in standard errors), "
             f"effective sample size {info.get('ess')}, {info.get('seconds')} s.", "",
             *_convergence_lines(info.get("convergence")),
             "## Posterior (weighted median and 90% interval)", "",
             _markdown(posterior_summary(cal)), "",
             "## Targets: observed vs simulated under the posterior (95% intervals)", "",
             _markdown(check), ""]
    lines += [f"![{f}]({f})" for f in figures]
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _convergence_lines(verdict: dict | None) -> list[str]:
    """The convergence verdict (`sim.studies.calibration.convergence`), one line a criterion."""
    if not verdict:
        return []
    head = "**Converged**" if verdict["converged"] else "**Not converged**"
    lines = [f"{head} at generation {verdict['generation']}:", ""]
    for name, c in verdict["criteria"].items():
        value = "-" if c["value"] is None else f"{c['value']:.3g}"
        lines.append(f"- {CRITERIA[name]}: {value} (threshold {c['threshold']:g}, "
                     f"{'held' if c['held'] else 'failed'}; {c['detail']})")
    return [*lines, ""]


def _markdown(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])
