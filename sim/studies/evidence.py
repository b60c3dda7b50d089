"""The evidence, policy by policy: each arm against the baseline on every metric, the money
split, warnings where a comparison mixes things, and what each arm does, in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.studies.answers import estimate_words, heads_words, join_words, number_words
from sim.studies.comparison import is_clear, judgement, md_text
from sim.studies.effects import MoneySplit, contrast, money_split
from sim.studies.labels import METRIC_BY_NAME, RETURN, event_words, value_words, words

if TYPE_CHECKING:
    from sim.studies.scenario import Scenario


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
            f"({join_words([words(k) for k in levers])}): its profit change includes wages "
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
            f"{number_words(ret.mean, RETURN, True)} of profit on top of paying for itself")
    if math.isfinite(ret.low):
        text += (f" (95% CI {number_words(ret.low, RETURN, True)} to "
                 f"{number_words(ret.high, RETURN, True)})")
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
            levels = (f"{number_words(_mean(metrics, base, name), m)}{unit} → "
                      f"{number_words(_mean(metrics, arm, name), m)}{unit}")
            heads = heads_words(metrics, m, (arm, base))
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


def world_sentences(scenario: Scenario, metrics: pd.DataFrame, arms: Sequence[str]) -> list[str]:
    """Under `uncertainty: evidence`: the most profitable policy against each other policy,
    and each contrast the scenario's questions ask for, across the drawn worlds, a plain
    sentence each (none with fewer than two policies besides the baseline)."""
    from sim.studies.uncertainty import world_sentence

    base, label = scenario.baseline_arm, scenario.arm_label
    means = metrics.groupby("arm")["profit"].mean().reindex(list(arms)).dropna()
    others = [a for a in means.sort_values(ascending=False).index if a != base]
    if len(others) < 2:
        return []
    best = others[0]
    pairs = [(best, o) for o in others[1:]]
    pairs += [(a, b) for q in scenario.questions if q.contrast for a, b in [q.contrast]
              if {a, b} <= set(means.index) and {(a, b), (b, a)}.isdisjoint(pairs)]
    return [world_sentence(metrics, a, b, arm_label=label(a), other_label=label(b))
            for a, b in pairs]


WORLDS_HEADING = ("Across plausible worlds (each replication drew the uncertain effect sizes and "
                  "persistence from their declared distributions, docs/ODD.md; the same draw in "
                  "every arm):")


def _worlds_block(scenario: Scenario, metrics: pd.DataFrame, arms: Sequence[str]) -> str:
    """The report's block of `world_sentences`."""
    sentences = world_sentences(scenario, metrics, arms)
    if not sentences:
        return ""
    head, rest = WORLDS_HEADING.split(" (", 1)
    return "\n".join([f"**{head}** ({rest}", "", *(f"- {md_text(x)}" for x in sentences)])


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
    return (f"The HR programme is paid in rounds every {join_words([str(w) for w in weeks])} "
            f"weeks, so {join_words([scenario.arm_label(a) for a in hit])} show a saw-tooth: "
            "profit dips in the week a round is paid and engagement jumps, then fades until the "
            "next round. Compare totals over the horizon, not single weeks.")
