"""The executive summary: each question of a scenario answered in words from its runs, with
every difference given with its unit and 95% interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sim.studies.comparison import decimals_shown, is_clear, judgement
from sim.studies.effects import contrast, interaction
from sim.studies.labels import METRIC_BY_NAME, RETURN, Metric
from sim.studies.stats import Estimate

if TYPE_CHECKING:
    from sim.studies.scenario import Scenario
    from sim.studies.spec_blocks import Question


# Engagement scores and the head counts that make them concrete.
_HEADS = {"employee_engagement": ("engaged_staff", "disengaged_staff", "staff"),
          "customer_engagement": ("fully_engaged_customers", "disengaged_customers",
                                  "customers")}


def money_words(value: float, signed: bool = False, decimals: int | None = None) -> str:
    """Dollars in words: $1.23M, $45.6k, $789 (`signed`: gains with a +)."""
    sign = "−" if value < 0 else ("+" if signed else "")
    v = abs(value)
    if v >= 1e6:
        return f"{sign}${v / 1e6:,.{2 if decimals is None else decimals}f}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:,.{1 if decimals is None else min(decimals, 1)}f}k"
    return f"{sign}${v:,.0f}"


def number_words(value: float, m: Metric, signed: bool = False, decimals: int | None = None) -> str:
    """A value in words-friendly units: $1.23M, 0.045, 24.1, $2.10 (return per $)."""
    if m is RETURN:
        return f"{'+' if signed and value >= 0 else ''}{'−' if value < 0 else ''}" \
               f"${abs(value):.2f}"
    if m.unit == "$":
        return money_words(value, signed, decimals)
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
        d = max(decimals_shown(est.half_width, est.mean), {"0-1": 3, "people": 0}.get(m.unit, 1))
    elif math.isfinite(est.half_width) and abs(est.mean) >= 1e6:
        d = max(2, min(3, decimals_shown(est.half_width / 1e6, est.mean / 1e6)))
    text = number_words(est.mean, m, True, d) + _DIFF_UNIT_WORDS.get(m.unit, "")
    if est.n >= 2 and est.half_width == 0:
        text += " (the same in every replication)"
    elif math.isfinite(est.low):
        text += (f" (95% CI {number_words(est.low, m, True, d)} to "
                 f"{number_words(est.high, m, True, d)})")
    else:
        text += " (one replication: no interval)"
    return text


def join_words(items: Sequence[str]) -> str:
    """'a, b and c': the non-empty items in a sentence."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def heads_words(metrics: pd.DataFrame, m: Metric, pair: tuple[str, str],
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

    said = join_words([part(gained.mean, f"{who} {top}"),
                  "" if short else part(lost.mean, "actively disengaged")])
    return f"about {said}" if said else ""


def _verdicts(parts: list[tuple[Metric, Estimate]], reps: int) -> str:
    better = [m.words for m, e in parts if judgement(m, e.low, e.high) == "better"]
    worse = [m.words for m, e in parts if judgement(m, e.low, e.high) == "worse"]
    unclear = [m.words for m, e in parts if not is_clear(e.low, e.high)]
    said = []
    if better:
        said.append(f"clearly better on {join_words(better)}")
    if worse:
        said.append(f"clearly worse on {join_words(worse)}")
    if unclear:
        said.append(f"no difference distinguishable from zero on {join_words(unclear)} with "
                    f"{reps} replications")
    return "; ".join(said)


def _measures(metrics: pd.DataFrame, q_metrics: Sequence[str], pair: tuple[str, str]
              ) -> tuple[str, list[tuple[Metric, Estimate]], int]:
    parts, texts = [], []
    for name in q_metrics:
        m = METRIC_BY_NAME[name]
        est = contrast(metrics, *pair, name)
        parts.append((m, est))
        heads = heads_words(metrics, m, pair, short=True)
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
    from sim.studies.spec_blocks import Question

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
        return Answer(question.text, "Not answered: " + join_words(
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
            verdicts.append(f"the two add up on {join_words(adds)} (no interaction distinguishable "
                            f"from zero with {reps} replications)")
        if less:
            verdicts.append(f"doing both does clearly less for {join_words(less)} than the two "
                            "alone added up: they overlap")
        if more:
            verdicts.append(f"doing both does clearly more for {join_words(more)} than the two "
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
