"""What a scenario run found: per-replication metrics, the executive summary, the comparison
table, figures and the plain-language report (report.md and a self-contained report.html).

Definitions (all over the whole horizon, per replication, then averaged over replications):
total revenue and profit ($); customer churn = customers lost / average customers, per year (%);
employee turnover = voluntary quits / average headcount, per year (%); final employee and
customer engagement (0-1, last week); policy spend = spend on the policy items
(`POLICY_COST_ITEMS`, $). Differences from the baseline pair replications with the same seed;
differences of rates are in percentage points. Savings are the fall in wages and in hiring and
training costs against the baseline. The return on policy spend is the extra profit per extra
dollar of policy spend (profit already nets that spend, so 0 means it paid for itself exactly
and -1 that it bought nothing); it is given only where the arm spends materially more than the
baseline and savings on wages and hiring are not what drives its profit change.

Everything a scenario file supplies (question, description, names, labels) is treated as
untrusted text: escaped in report.md, rendered without raw HTML in report.html, where only the
run's own figures are embedded.
"""

from __future__ import annotations

import base64
import math
import textwrap
import warnings
import xml.etree.ElementTree as etree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.model import COST_ITEMS  # noqa: E402
from sim.model.reporters import REPORTER_BY_NAME  # noqa: E402
from sim.studies.labels import (  # noqa: E402
    METRIC_BY_NAME,
    METRICS,
    RETURN,
    Metric,
    event_words,
    value_words,
    words,
)
from sim.studies.stats import Estimate, mean_ci, mean_ci_rows, paired_difference_ci  # noqa: E402

if TYPE_CHECKING:
    from sim.studies.scenario import Question, Scenario

__all__ = ["METRICS", "METRIC_BY_NAME", "RETURN", "Metric"]  # re-exported for callers

POLICY_COST_ITEMS = tuple(item for item in COST_ITEMS if item in (
    "coaching", "hr_programmes", "customer_programme", "recognition", "layoffs"))
SAVINGS_ITEMS = ("wages", "hiring_training")
# A return per dollar is only meaningful when the policy really spends more than the baseline.
MATERIAL_COST_SHARE = 0.001
# Savings on wages and hiring "drive" a profit change when they make up at least this share of
# it: the profit then comes from paying for less, not from what the policy spend bought.
SAVINGS_DRIVER_SHARE = 0.5

# Numbers behind the money split and the engagement head counts (in summary.csv, not in the
# comparison table).
DETAILS = (
    Metric("wages", "Wages", "$", "$k", "$k", 1e3, None, "Wages", "wages"),
    Metric("hiring_training", "Hiring and training", "$", "$k", "$k", 1e3, None, "Hiring",
           "hiring and training"),
    Metric("engaged_staff", "Engaged staff, last week", "people", "people", "people", 1.0,
           True, "Engaged staff", "engaged staff"),
    Metric("disengaged_staff", "Actively disengaged staff, last week", "people", "people",
           "people", 1.0, False, "Disengaged staff", "actively disengaged staff"),
    Metric("fully_engaged_customers", "Fully engaged customers, last week", "people",
           "people", "people", 1.0, True, "Fully engaged customers", "fully engaged customers"),
    Metric("disengaged_customers", "Actively disengaged customers, last week", "people",
           "people", "people", 1.0, False, "Disengaged customers",
           "actively disengaged customers"),
)
_ALL = {**METRIC_BY_NAME, **{m.name: m for m in DETAILS}}
# Engagement scores and the head counts that make them concrete.
_HEADS = {"employee_engagement": ("engaged_staff", "disengaged_staff", "staff"),
          "customer_engagement": ("fully_engaged_customers", "disengaged_customers",
                                  "customers")}


# ------------------------------------------------------------------------------- numbers
def replication_metrics(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, replication) with every metric of METRICS and DETAILS.

    `timeseries` has columns arm, replication, seed, week and the model's weekly reporters.
    """
    rows = []
    for (arm, rep), f in timeseries.groupby(["arm", "replication"], sort=False):
        f = f.sort_values("week")
        years = len(f) / 52.0
        last = f.iloc[-1]
        rows.append({
            "arm": arm, "replication": int(rep), "seed": int(f["seed"].iloc[0]),
            "weeks": len(f),
            "revenue": float(f["revenue"].sum()),
            "profit": float(f["profit"].sum()),
            "customer_churn_pct": 100.0 * float(f["churned_customers"].sum())
            / max(float(f["active_customers"].mean()), 1.0) / years,
            "employee_turnover_pct": 100.0 * float(f["quits"].sum())
            / max(float(f["headcount"].mean()), 1.0) / years,
            "employee_engagement": float(last["employee_engagement"]),
            "customer_engagement": float(last["customer_engagement"]),
            "policy_cost": float(f[list(POLICY_COST_ITEMS)].to_numpy().sum()),
            "total_costs": float(f["total_costs"].sum()),
            "wages": float(f["wages"].sum()),
            "hiring_training": float(f["hiring_training"].sum()),
            "engaged_staff": float(last["employees_engaged_share"] * last["headcount"]),
            "disengaged_staff": float(last["employees_actively_disengaged_share"]
                                      * last["headcount"]),
            "fully_engaged_customers": float(last["customers_fully_engaged_share"]
                                             * last["active_customers"]),
            "disengaged_customers": float(last["customers_actively_disengaged_share"]
                                          * last["active_customers"]),
            "headcount_end": float(last["headcount"]),
            "customers_end": float(last["active_customers"]),
        })
    return pd.DataFrame(rows)


def _by_replication(metrics: pd.DataFrame, arms: Sequence[str], column: str) -> pd.DataFrame:
    """`column` of each arm side by side, one row per replication finished in every arm."""
    parts = [metrics.loc[metrics["arm"] == a].set_index("replication")[column].rename(i)
             for i, a in enumerate(arms)]
    return pd.concat(parts, axis=1, join="inner").sort_index()


def _paired(metrics: pd.DataFrame, arm: str, other: str, column: str) -> tuple[np.ndarray, ...]:
    both = _by_replication(metrics, [arm, other], column)
    return both[0].to_numpy(), both[1].to_numpy()


def contrast(metrics: pd.DataFrame, arm: str, other: str, column: str) -> Estimate:
    """Mean of `arm - other` in `column`, paired replication by replication, with its CI."""
    return paired_difference_ci(*_paired(metrics, arm, other, column))


def interaction(metrics: pd.DataFrame, combined: str, parts: Sequence[str], baseline: str,
                column: str) -> Estimate:
    """How far doing both departs from adding up: combined - (a + b - baseline), per seed.

    Zero means the effects add up; positive means the combined arm has more of `column` than
    the two effects added to the baseline.
    """
    a, b = parts
    wide = _by_replication(metrics, [combined, a, b, baseline], column)
    return mean_ci((wide[0] - wide[1] - wide[2] + wide[3]).to_numpy())


@dataclass(frozen=True)
class MoneySplit:
    """An arm's money against the baseline, kept apart: what it spent, what it saved and what
    happened to profit (all paired by seed, $ over the horizon)."""

    spend: Estimate  # extra policy spend
    wages_saved: Estimate  # baseline wages - arm wages
    hiring_saved: Estimate  # baseline hiring and training - arm's
    profit: Estimate  # profit change (after every cost)
    return_on_spend: Estimate | None
    no_return_because: str  # why there is no return per dollar ("" when there is one)

    @property
    def savings(self) -> float:
        return self.wages_saved.mean + self.hiring_saved.mean


def money_split(metrics: pd.DataFrame, arm: str, baseline: str) -> MoneySplit:
    """Spend, savings and profit change of `arm` against `baseline`, and the return on the
    spend where one applies (see the module docstring)."""
    spend = contrast(metrics, arm, baseline, "policy_cost")
    wages_saved = contrast(metrics, baseline, arm, "wages")
    hiring_saved = contrast(metrics, baseline, arm, "hiring_training")
    profit = contrast(metrics, arm, baseline, "profit")
    cost_arm, cost_base = _paired(metrics, arm, baseline, "policy_cost")
    extra = cost_arm - cost_base
    base_costs = metrics.loc[metrics["arm"] == baseline, "total_costs"].mean()
    savings = wages_saved.mean + hiring_saved.mean
    ret, why = None, ""
    if len(extra) == 0:
        why = "no paired replications"
    elif np.any(extra <= 0) or extra.mean() < MATERIAL_COST_SHARE * base_costs:
        why = "it spends no more than the baseline on policy items"
    elif savings > 0 and savings >= SAVINGS_DRIVER_SHARE * abs(profit.mean):
        why = ("its savings on wages and hiring, not its policy spend, drive the profit "
               "change")
    else:
        p_arm, p_base = _paired(metrics, arm, baseline, "profit")
        ret = mean_ci((p_arm - p_base) / extra)
    return MoneySplit(spend, wages_saved, hiring_saved, profit, ret, why)


def return_on_cost(metrics: pd.DataFrame, arm: str, baseline: str) -> Estimate | None:
    """Extra profit per extra dollar of policy spend with its t interval, or None where a
    return does not apply (see `money_split`)."""
    return money_split(metrics, arm, baseline).return_on_spend


def summarise(metrics: pd.DataFrame, arms: Sequence[str], baseline: str) -> pd.DataFrame:
    """The comparison in long form: one row per arm and metric (METRICS, DETAILS, RETURN).

    Columns: arm, metric, label, unit, n, mean, ci_low, ci_high and, for arms other than the
    baseline, diff, diff_ci_low, diff_ci_high, diff_n (paired on the seed).
    """
    rows = []
    shown = [m for m in (*METRICS, *DETAILS) if m.name in metrics.columns]
    for arm in arms:
        here = metrics[metrics["arm"] == arm]
        for m in shown:
            est = mean_ci(here[m.name].to_numpy())
            row = {"arm": arm, "metric": m.name, "label": m.label, "unit": m.unit, "n": est.n,
                   "mean": est.mean, "ci_low": est.low, "ci_high": est.high,
                   "diff": math.nan, "diff_ci_low": math.nan, "diff_ci_high": math.nan,
                   "diff_n": 0}
            if arm != baseline:
                d = contrast(metrics, arm, baseline, m.name)
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


# ------------------------------------------------------------------------------- words
def _money(value: float, signed: bool = False, decimals: int | None = None) -> str:
    sign = "−" if value < 0 else ("+" if signed else "")
    v = abs(value)
    if v >= 1e6:
        return f"{sign}${v / 1e6:,.{2 if decimals is None else decimals}f}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:,.{1 if decimals is None else min(decimals, 1)}f}k"
    return f"{sign}${v:,.0f}"


def _number(value: float, m: Metric, signed: bool = False, decimals: int | None = None) -> str:
    """A value in words-friendly units: $1.23M, 0.045, 24.1, $2.10 (return per $)."""
    if m is RETURN:
        return f"{'+' if signed and value >= 0 else ''}{'−' if value < 0 else ''}" \
               f"${abs(value):.2f}"
    if m.unit == "$":
        return _money(value, signed, decimals)
    d = {"0-1": 3, "people": 0}.get(m.unit, 1) if decimals is None else decimals
    text = f"{value:+,.{d}f}" if signed else f"{value:,.{d}f}"
    return text.replace("-", "−")


_DIFF_UNIT_WORDS = {"%/year": " percentage points a year", "0-1": " on the 0-1 scale",
                    "people": ""}


def estimate_words(m: Metric, est: Estimate) -> str:
    """'+$1.82M (95% CI +$1.45M to +$2.19M)', '−0.8 percentage points a year (95% CI −1.0
    to −0.6)': a difference with its unit and interval."""
    if not math.isfinite(est.mean):
        return "n/a"
    d = None
    if m.unit != "$":
        d = max(_decimals(est.half_width, est.mean), {"0-1": 3, "people": 0}.get(m.unit, 1))
    elif math.isfinite(est.half_width) and abs(est.mean) >= 1e6:
        d = max(2, min(3, _decimals(est.half_width / 1e6, est.mean / 1e6)))
    text = _number(est.mean, m, True, d) + _DIFF_UNIT_WORDS.get(m.unit, "")
    if est.n >= 2 and est.half_width == 0:
        text += " (the same in every replication)"
    elif math.isfinite(est.low):
        text += f" (95% CI {_number(est.low, m, True, d)} to {_number(est.high, m, True, d)})"
    else:
        text += " (one replication: no interval)"
    return text


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _heads_words(metrics: pd.DataFrame, m: Metric, pair: tuple[str, str],
                 short: bool = False) -> str:
    """'about 24 more staff engaged and 9 fewer actively disengaged' for an engagement
    change: the score made concrete as people moved between segments."""
    if m.name not in _HEADS:
        return ""
    up, down, who = _HEADS[m.name]
    gained = contrast(metrics, *pair, up)
    lost = contrast(metrics, *pair, down)
    if not (math.isfinite(gained.mean) and math.isfinite(lost.mean)):
        return ""
    top = "engaged" if who == "staff" else "fully engaged"

    def part(n: float, what: str) -> str:
        k = round(abs(n))
        return f"{k:,} {'more' if n > 0 else 'fewer'} {what}" if k else ""

    said = _join([part(gained.mean, f"{who} {top}"),
                  "" if short else part(lost.mean, "actively disengaged")])
    return f"about {said}" if said else ""


def _verdicts(parts: list[tuple[Metric, Estimate]], reps: int) -> str:
    better = [m.words for m, e in parts if judgement(m, e.low, e.high) == "better"]
    worse = [m.words for m, e in parts if judgement(m, e.low, e.high) == "worse"]
    unclear = [m.words for m, e in parts if not is_clear(e.low, e.high)]
    said = []
    if better:
        said.append(f"clearly better on {_join(better)}")
    if worse:
        said.append(f"clearly worse on {_join(worse)}")
    if unclear:
        said.append(f"no difference distinguishable from zero on {_join(unclear)} with "
                    f"{reps} replications")
    return "; ".join(said)


def _measures(metrics: pd.DataFrame, q_metrics: Sequence[str], pair: tuple[str, str]
              ) -> tuple[str, list[tuple[Metric, Estimate]], int]:
    parts, texts = [], []
    for name in q_metrics:
        m = METRIC_BY_NAME[name]
        est = contrast(metrics, *pair, name)
        parts.append((m, est))
        heads = _heads_words(metrics, m, pair, short=True)
        text = f"{m.words} {estimate_words(m, est)}"
        texts.append(text[:-1] + f"; {heads})" if heads and text.endswith(")") else text)
    reps = max((e.n for _, e in parts), default=0)
    return "; ".join(texts), parts, reps


@dataclass(frozen=True)
class Answer:
    """One sub-question and its answer, both plain text."""

    question: str
    answer: str


def default_questions(scenario: Scenario, arms: Sequence[str]) -> list[Question]:
    """Without explicit `questions:`: each arm against the baseline on profit, churn and
    staff engagement."""
    from sim.studies.scenario import Question

    others = [a for a in arms if a != scenario.baseline_arm]
    return [Question(text=scenario.question, arms=others,
                     metrics=["profit", "customer_churn_pct", "employee_engagement"])]


def _named(scenario: Scenario, arm: str) -> str:
    """An arm's label inside a sentence: quoted when it holds a comma."""
    text = scenario.arm_label(arm)
    return f"“{text}”" if "," in text else text


def answer(question: Question, scenario: Scenario, metrics: pd.DataFrame) -> Answer:
    """The answer to one sub-question, computed from the runs (either direction)."""
    base = scenario.baseline_arm

    def label(arm: str) -> str:
        return _named(scenario, arm)

    finished = set(metrics["arm"])
    missing = [a for a in [*question.arm_names(), base] if a not in finished]
    if missing:
        return Answer(question.text, "Not answered: " + _join(
            [label(a) for a in dict.fromkeys(missing)]) + " did not finish.")
    if question.combined is not None:
        a, b = question.parts
        parts, texts = [], []
        for name in question.metrics:
            m = METRIC_BY_NAME[name]
            est = interaction(metrics, question.combined, (a, b), base, name)
            parts.append((m, est))
            texts.append(f"{m.words} {estimate_words(m, est)}")
        reps = max((e.n for _, e in parts), default=0)
        adds = [m.words for m, e in parts if not is_clear(e.low, e.high)]
        less = [m.words for m, e in parts if is_clear(e.low, e.high) and (
            judgement(m, e.low, e.high) == "worse" or (m.higher_is_better is None and e.mean > 0))]
        more = [m.words for m, e in parts if is_clear(e.low, e.high) and m.words not in less]
        verdicts = []
        if adds:
            verdicts.append(f"the two add up on {_join(adds)} (no interaction distinguishable "
                            f"from zero with {reps} replications)")
        if less:
            verdicts.append(f"doing both does clearly less for {_join(less)} than the two "
                            "alone added up: they overlap")
        if more:
            verdicts.append(f"doing both does clearly more for {_join(more)} than the two "
                            "alone added up: they reinforce each other")
        return Answer(question.text, (
            f"{label(question.combined)} against {label(a)} and {label(b)} added up (the "
            f"interaction: both − {label(a)} − {label(b)} + {label(base)}, paired by seed): "
            + "; ".join(texts) + ". So " + "; ".join(verdicts) + "."))
    if question.contrast is not None:
        a, b = question.contrast
        text, parts, reps = _measures(metrics, question.metrics, (a, b))
        return Answer(question.text, f"{label(a)} against {label(b)} (paired by seed): {text}. "
                      f"{label(a)} is {_verdicts(parts, reps)}.")
    sentences = []
    for arm in question.arms or []:
        text, parts, reps = _measures(metrics, question.metrics, (arm, base))
        sentences.append(f"{label(arm)} against {label(base)}: {text}: "
                         f"{_verdicts(parts, reps)}.")
    return Answer(question.text, " ".join(sentences))


def best_arm(scenario: Scenario, metrics: pd.DataFrame, arms: Sequence[str]) -> str:
    """Which arm made the most profit, by how much over the next and how sure we are."""
    means = metrics.groupby("arm")["profit"].mean().reindex(list(arms)).dropna()
    if len(means) < 2:
        return ""
    order = means.sort_values(ascending=False).index.tolist()
    best, second = order[0], order[1]
    d = contrast(metrics, best, second, "profit")
    text = (f"Most profitable: {_named(scenario, best)}, ahead of the next best, "
            f"{_named(scenario, second)}, by {estimate_words(METRIC_BY_NAME['profit'], d)}")
    if not math.isfinite(d.low):
        return text + "."
    if d.excludes_zero():
        return text + ": the lead is clear."
    return text + (": the two cannot be told apart with these replications; more "
                   "replications (`--replications`) would narrow the interval.")


def executive_summary(scenario: Scenario, metrics: pd.DataFrame,
                      arms: Sequence[str]) -> list[Answer]:
    """An answer per sub-question (the file's `questions`, or each arm against the
    baseline), then the most profitable arm."""
    questions = scenario.questions or default_questions(scenario, arms)
    answers = [answer(q, scenario, metrics) for q in questions]
    best = best_arm(scenario, metrics, arms)
    if best:
        answers.append(Answer("Which policy makes the most profit?", best))
    return answers


# ------------------------------------------------------------------------------- evidence
def layoff_warning(scenario: Scenario, arm: str) -> str:
    """A warning when an arm lays staff off (unlike the baseline) and also invests in something
    else: its profit change then mixes wage savings with the investment's effect."""
    def layoffs(name: str) -> list[dict]:
        return [e for e in scenario.arm_events(name) if "layoff" in e]

    # Layoffs the baseline makes as well cancel out of the comparison.
    if not layoffs(arm) or layoffs(arm) == layoffs(scenario.baseline_arm):
        return ""
    own = dict(_given(scenario.arms[arm].parameters))
    for e in scenario.arms[arm].events:
        own.update(e.as_dict().get("set", {}))
    base = dict(_given(scenario.arms[scenario.baseline_arm].parameters))
    for e in scenario.arms[scenario.baseline_arm].events:
        base.update(e.as_dict().get("set", {}))
    levers = [k for k, v in own.items() if k != "staffing_level" and base.get(k) != v]
    if not levers:
        return ""
    return (f"{scenario.arm_label(arm)} mixes layoffs with an investment "
            f"({_join([words(k) for k in levers])}): its profit change includes wages "
            "saved by having fewer staff, so it is not a return on the investment. Read the "
            "spend, savings and profit lines apart.")


def _given(parameters: Any) -> dict[str, Any]:
    return {} if parameters is None else parameters.model_dump(exclude_unset=True)


def money_lines(split: MoneySplit, reps: int) -> list[str]:
    """Spend, savings and profit change as separate lines, then the return where it applies."""
    money = METRIC_BY_NAME["profit"]
    lines = [f"Policy spend: {estimate_words(money, split.spend)} against the baseline.",
             f"Savings: wages {estimate_words(money, split.wages_saved)}, hiring and training "
             f"{estimate_words(money, split.hiring_saved)} (positive: the arm paid less).",
             f"Profit change, after all costs: {estimate_words(money, split.profit)}."]
    ret = split.return_on_spend
    if ret is None:
        lines.append(f"No return on policy spend is given: {split.no_return_because}.")
        return lines
    text = (f"Return on policy spend: every extra dollar returned "
            f"{_number(ret.mean, RETURN, True)} of profit on top of paying for itself")
    if math.isfinite(ret.low):
        text += (f" (95% CI {_number(ret.low, RETURN, True)} to "
                 f"{_number(ret.high, RETURN, True)})")
        if ret.low > 0:
            return [*lines, text + ": it pays for itself and more."]
        if ret.high < 0:
            return [*lines, text + ": it does not pay for itself."]
        return [*lines, text + f": whether it pays for itself cannot be told with {reps} "
                "replications."]
    return [*lines, text + "."]


def evidence(scenario: Scenario, metrics: pd.DataFrame, arms: Sequence[str]) -> list[str]:
    """Markdown blocks: each arm against the baseline, every metric, the money split; under
    `uncertainty: evidence`, how often each arm wins across the drawn worlds."""
    from sim.studies.uncertainty import world_sentence

    blocks = []
    base = scenario.baseline_arm
    label = scenario.arm_label
    for arm in arms:
        if arm == base:
            continue
        reps = contrast(metrics, arm, base, "profit").n
        lines = [f"**{md_text(label(arm))}** against **{md_text(label(base))}** over "
                 f"{int(metrics['weeks'].max())} weeks ({reps} paired replications):", ""]
        warning = layoff_warning(scenario, arm)
        if warning:
            lines += [f"> **Warning:** {md_text(warning)}", ""]
        for name in ("revenue", "customer_churn_pct", "employee_turnover_pct",
                     "employee_engagement", "customer_engagement"):
            m = METRIC_BY_NAME[name]
            est = contrast(metrics, arm, base, name)
            unit = "% a year" if m.unit == "%/year" else ""
            levels = (f"{_number(_mean(metrics, base, name), m)}{unit} → "
                      f"{_number(_mean(metrics, arm, name), m)}{unit}")
            heads = _heads_words(metrics, m, (arm, base))
            verdict = judgement(m, est.low, est.high) or (
                "clear" if is_clear(est.low, est.high) else "not distinguishable from zero")
            lines.append(f"- {m.label}: {levels}, difference {estimate_words(m, est)}"
                         f"{'; ' + heads if heads else ''}: {verdict}.")
        lines += [f"- {line}" for line in money_lines(money_split(metrics, arm, base), reps)]
        if scenario.uncertainty == "evidence":
            sentence = world_sentence(metrics, arm, base, arm_label=label(arm),
                                      other_label=label(base))
            lines.append(f"- {md_text(sentence)}")
        blocks.append("\n".join(lines))
    if scenario.uncertainty == "evidence":
        blocks.append(_worlds_block(scenario, metrics, arms))
    return blocks


def _worlds_block(scenario: Scenario, metrics: pd.DataFrame, arms: Sequence[str]) -> str:
    """Under `uncertainty: evidence`: the most profitable policy against each other policy,
    across the drawn worlds."""
    from sim.studies.uncertainty import world_sentence

    base, label = scenario.baseline_arm, scenario.arm_label
    means = metrics.groupby("arm")["profit"].mean().reindex(list(arms)).dropna()
    others = [a for a in means.sort_values(ascending=False).index if a != base]
    if len(others) < 2:
        return ""
    best = others[0]
    lines = ["**Across plausible worlds** (each replication drew the uncertain effect sizes "
             "and persistence from their declared distributions, docs/ODD.md; the same draw in "
             "every arm):", ""]
    lines += [f"- {md_text(world_sentence(metrics, best, o, arm_label=label(best),
                                          other_label=label(o)))}" for o in others[1:]]
    return "\n".join(lines)


def _mean(metrics: pd.DataFrame, arm: str, column: str) -> float:
    return float(metrics.loc[metrics["arm"] == arm, column].mean())


def arms_section(scenario: Scenario) -> str:
    """What each arm does, in words, with labels and plain-English parameter values."""
    lines = []
    for name, arm in scenario.arms.items():
        changes = []
        params = _given(arm.parameters)
        if params:
            changes.append("from week 0: " + _settings_words(params))
        changes += [event_words(e.as_dict()) for e in arm.events]
        what = "; ".join(changes) if changes else "no change"
        tag = " (baseline)" if name == scenario.baseline_arm else ""
        desc = f"{md_text(arm.description)} " if arm.description.strip() else ""
        lines.append(f"- **{md_text(scenario.arm_label(name))}**{tag}: {desc}"
                     f"[{md_text(what)}]")
    shared = [event_words(e.as_dict()) for e in scenario.events]
    if shared:
        lines += ["", "Every arm: " + md_text("; ".join(shared)) + "."]
    return "\n".join(lines)


def _settings_words(values: dict[str, Any]) -> str:
    return ", ".join(f"{words(k)} {value_words(k, v)}" for k, v in values.items())


def cadence_note(scenario: Scenario, arms: Sequence[str]) -> str:
    """Why some trajectories saw-tooth: programmes paid in rounds."""
    from sim.model.parameters import Parameters

    hit = {}
    for arm in arms:
        params = {**scenario.arm_parameters(arm)}
        budget = params.get("hr_budget", Parameters().hr_budget)
        for e in scenario.arm_events(arm):
            budget = max(budget, e.get("set", {}).get("hr_budget", 0.0))
            params.update({k: v for k, v in e.get("set", {}).items()
                           if k == "hr_cadence_weeks"})
        cadence = params.get("hr_cadence_weeks", Parameters().hr_cadence_weeks)
        if budget > 0 and cadence > 1:
            hit[arm] = cadence
    if not hit:
        return ""
    weeks = sorted(set(hit.values()))
    return (f"The HR programme is paid in rounds every {_join([str(w) for w in weeks])} weeks, "
            f"so {_join([scenario.arm_label(a) for a in hit])} show a saw-tooth: profit dips in "
            "the week a round is paid and engagement jumps, then fades until the next round. "
            "Compare totals over the horizon, not single weeks.")


# ------------------------------------------------------------------------------- figures
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
            sns.stripplot(data=per_store, x="arm", y=column, order=order, color="0.2",
                          size=2, alpha=0.35, jitter=0.25, ax=ax)
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


# ------------------------------------------------------------------------------- report
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


@dataclass(frozen=True)
class ScenarioReport:
    """What `write_scenario_report` computed, for the terminal."""

    metrics: pd.DataFrame
    summary: pd.DataFrame
    arms: list[str]
    answers: list[Answer]


def write_scenario_report(folder: Path, scenario: Scenario, timeseries: pd.DataFrame,
                          stores: pd.DataFrame, *, settings: list[tuple[str, str]],
                          warning: str = "") -> ScenarioReport:
    """Everything a scenario run writes after its runs, from the stored frames:
    replications.csv, summary.csv, the figures, report.md and report.html."""
    metrics = replication_metrics(timeseries)
    finished = set(metrics["arm"])
    arms = [a for a in scenario.arms if a in finished]
    baseline = scenario.baseline_arm
    metrics.to_csv(folder / "replications.csv", index=False)
    summary = summarise(metrics, arms, baseline)
    summary.to_csv(folder / "summary.csv", index=False)
    labels = {a: scenario.arm_label(a) for a in scenario.arms}
    if baseline in arms and len(arms) >= 2:
        figures = write_figures(folder, timeseries, stores, summary, arms, baseline,
                                timeline(scenario), labels)
        answers = executive_summary(scenario, metrics, arms)
        blocks = evidence(scenario, metrics, arms)
    else:
        figures, answers, blocks = [], [], []
        warning += " Too few arms finished to compare: no figures."
    write_report(folder, scenario=scenario, metrics=metrics, summary=summary, arms=arms,
                 answers=answers, evidence_blocks=blocks, figures=figures, settings=settings,
                 warning=warning.strip())
    if scenario.chain is not None:  # runs on a chain file: its stores, one by one
        from sim.studies.chain_report import add_chain_section

        add_chain_section(folder, scenario, stores, summary, arms, figures, labels)
    return ScenarioReport(metrics, summary, arms, answers)


def write_report(folder: Path, *, scenario: Scenario, metrics: pd.DataFrame,
                 summary: pd.DataFrame, arms: Sequence[str], answers: Sequence[Answer],
                 evidence_blocks: Sequence[str], figures: Sequence[str],
                 settings: list[tuple[str, str]], warning: str = "") -> None:
    """Write report.md (figures linked) and report.html (self-contained, safe to share)."""
    labels = {a: scenario.arm_label(a) for a in scenario.arms}
    baseline = scenario.baseline_arm
    parts = [f"# {md_text(scenario.question)}", "",
             f"*Scenario `{md_text(scenario.name)}`: {len(arms)} policies compared over "
             f"{scenario.horizon_weeks} weeks, {scenario.replications} replications each.*", ""]
    if warning:
        parts += [f"> **Warning: {md_text(warning)}**", ""]
    if answers:
        parts += ["## In short", ""]
        parts += [f"- **{md_text(a.question)}** {md_text(a.answer)}" for a in answers]
        parts += [""]
    warnings_ = [w for w in (layoff_warning(scenario, a) for a in arms if a != baseline) if w]
    parts += [f"> **Warning:** {md_text(w)}\n" for w in warnings_]
    parts += ["## The policies compared", ""]
    if scenario.description.strip():
        parts += [md_text(scenario.description, block=True), ""]
    parts += [arms_section(scenario), ""]
    if evidence_blocks:
        parts += ["## The evidence, policy by policy", ""]
        parts += [f"{block}\n" for block in evidence_blocks]
    table, styles = markdown_table(summary, arms, baseline, labels)
    parts += ["## Comparison table", "",
              "Each policy's mean over replications ± the half-width of its 95% confidence "
              "interval (t distribution); the line under each is its difference from the "
              "baseline, paired replication by replication (same seed, so the same customers, "
              "staff and chance events), ± its 95% CI. Differences of churn and turnover are "
              "in percentage points (pp). **▲ / ▼ in bold**: the interval excludes zero (the "
              "difference is clear at this number of replications), the arrow gives its "
              "direction; in the HTML report, green is better and red worse.", "",
              table, "",
              "Definitions: totals are over the whole horizon; churn is customers lost per "
              "year as a share of the average customer base; turnover is voluntary quits per "
              "year as a share of the average headcount; engagement is the chain's mean score "
              "in the last week; policy spend is the spend on "
              f"{_join([_SPEND_WORDS.get(i, words(i)) for i in POLICY_COST_ITEMS])}; the "
              "return is the extra profit per extra dollar of policy spend (profit already "
              "pays for the policy, so 0 means it paid for itself exactly, −1 that it bought "
              "nothing), given only where an arm spends more than the baseline and savings "
              "on wages and hiring do not drive its profit change (n/a otherwise).", ""]
    captions = dict(FIGURES)
    if figures:
        parts += ["## Figures", ""]
        note = cadence_note(scenario, arms)
        for name in figures:
            parts += [f"### {captions.get(name, name)}", "", f"![{captions.get(name, name)}]"
                      f"({name})", ""]
            if name == "trajectories.png":
                parts += ["The left column shows levels: their bands are wide because chains "
                          "differ from seed to seed. The right column shows each policy's "
                          "difference from the baseline on the same seeds: a band clear of "
                          "zero is a real effect even where the levels' bands overlap.", ""]
                if note:
                    parts += [md_text(note), ""]
    parts += ["## How this was run", "", "| setting | value |", "|---|---|"]
    parts += [f"| {k} | {v} |" for k, v in settings]
    parts.append("")
    text = "\n".join(parts)
    (folder / "report.md").write_text(text, encoding="utf-8")
    (folder / "report.html").write_text(
        render_html(text, scenario.question, folder, figures, styles), encoding="utf-8")


_SPEND_WORDS = {"layoffs": "severance for layoffs"}
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; display: block;
        overflow-x: auto; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; }
th { background: #f3f3f3; }
td { white-space: nowrap; }
td.good { color: #1a6e2e; background: #eaf6ec; }
td.bad { color: #a11d1d; background: #fbeaea; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: 0.2em 1em;
             background: #fff4f4; }
img { max-width: 100%; }
"""
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")


def render_html(markdown_text: str, title: str, folder: Path, figures: Sequence[str],
                table_styles: Sequence[Sequence[str]] = ()) -> str:
    """report.md as one self-contained HTML page that is safe to share.

    Raw HTML in the Markdown is shown as text, links keep only http(s)/mailto/anchor targets,
    and only the figures named in `figures` (files of `folder`) are embedded; any other image
    becomes its alt text, so no file outside the results folder ends up in the page.
    """
    import markdown
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    embedded = {}
    for name in figures:
        path = folder / name
        if "/" not in name and "\\" not in name and path.is_file() and not path.is_symlink():
            embedded[name] = "data:image/png;base64," + base64.b64encode(
                path.read_bytes()).decode("ascii")

    class Safe(Treeprocessor):
        def run(self, root: etree.Element) -> None:
            parents = {child: parent for parent in root.iter() for child in parent}
            for img in list(root.iter("img")):
                src = img.get("src", "")
                if src in embedded:
                    img.set("src", embedded[src])
                    continue
                parent = parents[img]
                span = etree.Element("span")
                span.text = img.get("alt", "")
                span.tail = img.tail
                parent[list(parent).index(img)] = span
            for link in root.iter("a"):
                if not link.get("href", "").startswith(_SAFE_SCHEMES):
                    link.attrib.pop("href", None)
            table = next(root.iter("table"), None)
            if table is not None and table_styles:
                body = table.find("tbody")
                for tr, styles in zip(body if body is not None else [], table_styles,
                                      strict=False):
                    for td, style in zip(tr, styles, strict=False):
                        if style:
                            td.set("class", style)

    class SafeExtension(Extension):
        def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (its API)
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(Safe(md), "safe", 0)

    body = markdown.markdown(markdown_text, extensions=["tables", SafeExtension()])
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{_escape(title)}</title><style>{_CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)
