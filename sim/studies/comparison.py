"""The comparison table: each arm's mean and paired difference from the baseline, formatted
with its 95% interval, judged better or worse, as plain text or Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sim.studies.labels import METRICS, RETURN, Metric


def decimals_shown(half_width: float, value: float) -> int:
    """Decimals to show: two significant digits of an interval's half-width, or three of the
    value where there is no interval (0 to 4)."""
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
    d = decimals_shown(half, m)
    text = f"{m:+.{d}f}" if signed else f"{m:.{d}f}"
    if math.isfinite(half):
        text += f" ± {half:.{d}f}"
    return text.replace("-", "−")


def is_clear(low: float, high: float) -> bool:
    """True when a confidence interval lies wholly on one side of zero."""
    return bool(math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0))


def judgement(m: Metric, low: float, high: float) -> str:
    """'better', 'worse' or '' for a difference of `m` with interval (low, high)."""
    if m.higher_is_better is None or not is_clear(low, high):
        return ""
    return "better" if (low > 0) == m.higher_is_better else "worse"


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and, for a difference, whether it is clear and which way."""

    text: str
    clear: bool = False
    up: bool = False
    verdict: str = ""  # "better", "worse" or ""


def comparison_cells(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                     labels: dict[str, str]) -> list[tuple[str, bool, list[Cell]]]:
    """The comparison table's body: (row label, is a difference row, cells), each arm's mean
    then its paired difference from the baseline. Columns: METRICS then RETURN."""
    rows = []
    for arm in arms:
        part = summary[summary["arm"] == arm].set_index("metric")
        name = labels.get(arm, arm) + (" (baseline)" if arm == baseline else "")
        cells, diffs = [], []
        for m in (*METRICS, RETURN):
            r = part.loc[m.name]
            cells.append(Cell(format_estimate(r["mean"], r["ci_low"], r["ci_high"], m.scale)))
            if m is RETURN:
                diffs.append(Cell(""))
                continue
            text = format_estimate(r["diff"], r["diff_ci_low"], r["diff_ci_high"], m.scale,
                                   signed=True)
            if m.diff_unit != m.shown_unit and text != "n/a":
                text += f" {m.diff_unit.split('/')[0]}"
            clear = is_clear(r["diff_ci_low"], r["diff_ci_high"])
            diffs.append(Cell(text, clear, bool(r["diff_ci_low"] > 0),
                              judgement(m, r["diff_ci_low"], r["diff_ci_high"])))
        rows.append((name, False, cells))
        if arm != baseline:
            rows.append(("vs baseline", True, diffs))
    return rows


def table_header(short: bool = False) -> list[str]:
    """Column titles of the comparison table, with units."""
    return ["Policy", *[f"{m.short if short else m.label} ({m.shown_unit})"
                     for m in (*METRICS, RETURN)]]


def table_rows(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
               labels: dict[str, str] | None = None,
               short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and plain-text rows of the comparison table (differences indented)."""
    body = comparison_cells(summary, arms, baseline, labels or {})
    return table_header(short), [[("  " + name) if diff else name, *[c.text for c in cells]]
                                 for name, diff, cells in body]


def md_text(text: str, block: bool = False) -> str:
    """Untrusted text made inert in Markdown: no raw HTML, no images, no table breaks; one
    line unless `block` (a description may hold paragraphs and lists)."""
    text = (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("![", "!\\[").replace("|", "\\|"))
    return text.strip() if block else text.replace("\n", " ").strip()


def markdown_table(summary: pd.DataFrame, arms: Sequence[str], baseline: str,
                   labels: dict[str, str]) -> tuple[str, list[list[str]]]:
    """The comparison table in Markdown (clear differences in bold with an arrow) and the
    style of each body cell ('good', 'bad' or '') for the HTML version."""
    # A non-breaking hyphen: a narrow column must not split "0-1".
    header = [h.replace("0-1", "0\u20111") for h in table_header()]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    styles = []
    for name, diff, cells in comparison_cells(summary, arms, baseline, labels):
        texts = [f"*{name}*" if diff else f"**{md_text(name)}**"]
        row_style = [""]
        for c in cells:
            text = c.text
            if c.clear:
                text = f"**{'▲' if c.up else '▼'} {text}**"
            elif diff and text:
                text = f"*{text}*"
            texts.append(text)
            row_style.append({"better": "good", "worse": "bad"}.get(c.verdict, ""))
        lines.append("| " + " | ".join(texts) + " |")
        styles.append(row_style)
    return "\n".join(lines), styles
