"""What a scenario run found, written out: replications.csv, summary.csv, the figures and the
plain-language report (report.md and a self-contained report.html).

The report's parts live beside it: the metrics and paired effects (`effects`), the comparison
table (`comparison`), the executive summary (`answers`), the evidence policy by policy
(`evidence`), the figures (`report_figures`) and the safe HTML page (`report_html`). The
sections are assembled in `write_report`.

Everything a scenario file supplies (question, description, names, labels) is treated as
untrusted text: escaped in report.md, rendered without raw HTML in report.html, where only the
run's own figures are embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.studies.answers import Answer, executive_summary, join_words
from sim.studies.comparison import markdown_table, md_text
from sim.studies.effects import POLICY_COST_ITEMS, replication_metrics, summarise
from sim.studies.evidence import arms_section, cadence_note, evidence, layoff_warning
from sim.studies.labels import words
from sim.studies.report_figures import FIGURES, timeline, write_figures
from sim.studies.report_html import render_html

if TYPE_CHECKING:
    from sim.studies.scenario import Scenario


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
              f"{join_words([_SPEND_WORDS.get(i, words(i)) for i in POLICY_COST_ITEMS])}; the "
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
