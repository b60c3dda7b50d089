"""Terminal tables of `loyalty-sim run` and `loyalty-sim sweep` (rich).

Tables fit the terminal: when every column fits (a scenario's comparison needs about 170
columns), one table; otherwise the same rows in stacked tables, each repeating the row labels
with as many measures as fit (two at 80 columns), so no cell is cut and no word is broken.
Clear differences (the 95% interval excludes zero) are bold with an arrow, and green or red
where colour shows.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sim.studies.labels import METRIC_BY_NAME, Metric, humanize

MAX_ROWS_SHOWN = 30  # design points shown in a sweep's table (all are in summary.csv)
_PAD = 3  # a column's padding and its border


def console() -> Console:
    """The console tables print on: the terminal's width, or 200 columns when piped."""
    return Console(width=None if sys.stdout.isatty() else 200)


@dataclass(frozen=True)
class Row:
    """A table row: its labels (arm, factor values) and its value cells."""

    keys: list[str]
    cells: list[Any]  # sim.studies.comparison.Cell
    dim: bool = False  # a difference row, shown under the row it belongs to


def _styled(cell: Any, dim: bool) -> Text:
    if not cell.text:
        return Text("")
    if cell.clear:
        colour = {"better": "green", "worse": "red"}.get(cell.verdict, "")
        return Text(f"{'▲' if cell.up else '▼'} {cell.text}", style=f"bold {colour}".strip())
    return Text(cell.text, style="dim" if dim else "")


def _width(texts: Sequence[str], header: str) -> int:
    longest_word = max((len(w) for w in header.split()), default=0)
    return max([longest_word, *(len(t) for t in texts)])


def fit_tables(title: str, key_headers: list[str], value_headers: list[str],
               rows: Sequence[Row], width: int, caption: str = "") -> list[Table]:
    """One table if every column fits in `width`, else stacked tables that each repeat the
    row labels with as many value columns as fit."""
    keys = [_width([r.keys[i] for r in rows], h) for i, h in enumerate(key_headers)]
    values = [_width([("▲ " + r.cells[i].text) if r.cells[i].clear else r.cells[i].text
                      for r in rows], h) for i, h in enumerate(value_headers)]
    room = width - 1 - sum(k + _PAD for k in keys)
    full = [max(v, len(h)) for v, h in zip(values, value_headers, strict=True)]
    if sum(w + _PAD for w in full) <= room:
        values = full  # everything fits on one table: headers on one line
    chunks: list[list[int]] = [[]]
    used = 0
    for i, w in enumerate(values):
        if chunks[-1] and used + w + _PAD > room:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += w + _PAD
    tables = []
    for n, chunk in enumerate(chunks):
        part = f" ({n + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        table = Table(title=escape(title + part), title_justify="left",
                      caption=escape(caption) if n == len(chunks) - 1 and caption else None,
                      caption_justify="left")
        for h, w in zip(key_headers, keys, strict=True):
            table.add_column(escape(h), width=min(w, 40), overflow="fold")
        for i in chunk:
            # A fixed width: headers wrap between words, values never wrap.
            table.add_column(escape(value_headers[i]), justify="right", width=values[i])
        for r in rows:
            labels = [Text(k, style="dim" if r.dim else "") for k in r.keys]
            table.add_row(*labels, *[_styled(r.cells[i], r.dim) for i in chunk])
        tables.append(table)
    return tables


# ------------------------------------------------------------------------------ scenarios
def comparison_tables(summary: Any, arms: Sequence[str], baseline: str,
                      labels: dict[str, str], title: str, width: int) -> list[Table]:
    """The scenario comparison: each arm's mean and, under it, its paired difference."""
    from sim.studies import comparison

    body = comparison.comparison_cells(summary, arms, baseline, labels)
    rows = [Row(["  " + name if diff else name], cells, diff) for name, diff, cells in body]
    headers = [h for h in comparison.table_header(short=True)[1:]]
    caption = ("mean ± 95% CI half-width over replications; 'vs baseline': paired difference "
               "(same seeds) ± 95% CI, churn and turnover in percentage points (pp); bold ▲/▼: "
               "the interval excludes zero (green better, red worse)")
    return fit_tables(title, ["Policy"], headers, rows, width, caption)


def print_comparison(outcome: Any, scenario: Any, out: Console | None = None) -> None:
    """Print a scenario run: its question, the answers in short, the comparison table and
    where the results are."""
    import pandas as pd

    from sim.studies.answers import executive_summary
    from sim.studies.evidence import WORLDS_HEADING, layoff_warning, world_sentences

    out = out or console()
    out.print(Text(scenario.question, style="bold"), soft_wrap=False)
    path = Path(outcome.folder) / "replications.csv"
    if path.is_file() and outcome.baseline in outcome.arms and len(outcome.arms) >= 2:
        metrics = pd.read_csv(path)
        out.print()
        for a in executive_summary(scenario, metrics, outcome.arms):
            out.print(Text.assemble("• ", (a.question, "bold"), " ", a.answer))
        if scenario.uncertainty == "evidence":
            worlds = world_sentences(scenario, metrics, outcome.arms)
            if worlds:
                out.print(Text.assemble("• ", (WORLDS_HEADING, "bold"), " ", " ".join(worlds)))
        for arm in outcome.arms:
            warning = layoff_warning(scenario, arm) if arm != outcome.baseline else ""
            if warning:
                out.print(Text("Warning: " + warning, style="yellow"))
        out.print()
    labels = {a: scenario.arm_label(a) for a in scenario.arms}
    for table in comparison_tables(outcome.summary, outcome.arms, outcome.baseline, labels,
                                   f"{scenario.name}: the policies compared", out.width):
        out.print(table)
    out.print(Text(f"Results: {outcome.folder} (report: "
                   f"{Path(outcome.folder) / 'report.html'})"), soft_wrap=True)


# ------------------------------------------------------------------------------ sweeps
def _outcome(name: str) -> tuple[Metric | None, str, float]:
    """An outcome's metric (if the scenario reports have it), header and scale."""
    m = METRIC_BY_NAME.get(name)
    if m is not None:
        return m, f"{m.label} ({m.shown_unit})", m.scale
    from sim.studies.sensitivity import outcome_label, outcome_scale

    label = outcome_label(name)
    head, _, unit = label.partition(" (")
    return None, f"{humanize(head)} ({unit}" if unit else humanize(head), outcome_scale(name)


def _factor_header(name: str) -> str:
    from sim.studies.sensitivity import factor_label

    head, _, unit = factor_label(name).partition(" (")
    return f"{humanize(head)} ({unit}" if unit else humanize(head)


def _factor_value(value: Any, factor: str) -> str:
    from sim.studies.labels import choice_label

    if isinstance(value, str):
        return choice_label(factor, value)
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def means_tables(summary: Any, info: Any, width: int) -> list[Table]:
    """Replication means per design point and arm, with the spec's paired contrasts under
    each point (arm minus arm, same seeds: their intervals are the ones to read)."""
    from sim.studies import comparison
    from sim.studies.sweep_spec import SINGLE_ARM

    manifest = info.manifest
    factors = manifest["design"]["factors"]
    outcomes = manifest["columns"]
    contrasts = manifest.get("contrasts") or {}
    show_arm = manifest["arms"] != [SINGLE_ARM]
    described = [_outcome(o) for o in outcomes]
    headers = [h for _, h, _ in described]
    key_headers = [_factor_header(f) for f in factors] + (["Arm"] if show_arm else [])
    order = {a: i for i, a in enumerate([*manifest["arms"], *contrasts])}
    rows, shown = [], 0
    for point, group in summary.groupby("point", sort=True):
        if shown == MAX_ROWS_SHOWN:
            break
        shown += 1
        values = manifest["design"]["points"][point]
        factor_cells = [_factor_value(values[f], f) for f in factors]
        for arm, part in sorted(group.groupby("arm", sort=False), key=lambda p: order[p[0]]):
            by = part.set_index("outcome")
            diff = arm in contrasts
            cells = []
            for o, (m, _, scale) in zip(outcomes, described, strict=True):
                mean, low, high = by.at[o, "mean"], by.at[o, "ci_low"], by.at[o, "ci_high"]
                text = comparison.format_estimate(mean, low, high, scale, signed=diff)
                if diff and m is not None and m.diff_unit != m.shown_unit and text != "n/a":
                    text += f" {m.diff_unit.split('/')[0]}"
                clear = diff and comparison.is_clear(low, high)
                verdict = comparison.judgement(m, low, high) if (diff and m is not None) else ""
                cells.append(comparison.Cell(text, clear, bool(low > 0), verdict))
            if diff:
                c = contrasts[arm]
                name = f"{humanize(c['arm'])} − {humanize(c['minus'])}"
            else:
                name = humanize(arm)
            keys = factor_cells + ([name] if show_arm else [])
            rows.append(Row(keys, cells, dim=False))
            factor_cells = [""] * len(factors)  # the point's values once, on its first row
    points = len(manifest["design"]["points"])
    more = f"; the first {MAX_ROWS_SHOWN} of {points:,} design points" if points > shown else ""
    caption = ("mean ± 95% CI half-width over replications; 'A − B': paired difference (same "
               "seeds) ± 95% CI, rates in percentage points (pp); bold ▲/▼: the interval "
               f"excludes zero{more}")
    return fit_tables(f"{manifest['name']}: {manifest['question']}", key_headers, headers,
                      rows, width, caption)


def indices_table(indices: Any, target: str, outcome: str) -> Table:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of one outcome, largest first."""
    from sim.studies.comparison import format_estimate

    sobol = "S1" in indices.columns
    m, header, scale = _outcome(outcome)
    name = m.label if m is not None else header
    table = Table(title=escape(f"{'Sobol' if sobol else 'Morris'} indices of {name} "
                               f"({humanize(target)}) over {indices.attrs['points']:,} design "
                               "points"), title_justify="left",
                  caption="± 95% bootstrap CI half-width", caption_justify="left")
    table.add_column("Factor")

    def pm(mean: float, half: float, s: float = 1.0) -> str:
        if not math.isfinite(mean):
            return "n/a"
        return format_estimate(mean, mean - half, mean + half, s)

    if sobol:
        table.add_column("First order S1", justify="right")
        table.add_column("Total ST", justify="right")
        for _, r in indices.sort_values("ST", ascending=False).iterrows():
            table.add_row(escape(_factor_header(r["factor"])), pm(r["S1"], r["S1_ci95"]),
                          pm(r["ST"], r["ST_ci95"]))
    else:
        table.add_column(f"mu* per factor range, {header}", justify="right")
        table.add_column("sigma", justify="right")
        for _, r in indices.sort_values("mu_star", ascending=False).iterrows():
            table.add_row(escape(_factor_header(r["factor"])),
                          pm(r["mu_star"], r["mu_star_ci95"], scale),
                          pm(r["sigma"], math.nan, scale))
    return table
