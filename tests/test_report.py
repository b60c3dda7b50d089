"""The scenario report answers its question first, from the runs: a sentence per sub-question
of every shipped scenario with a number and its interval; spend, savings and profit apart with
a warning where layoffs mix with an investment; figures without clipped titles; and an HTML
page that stays inert whatever text a scenario file holds."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.studies import answers, comparison, effects, evidence, report, report_figures
from sim.studies.labels import METRIC_BY_NAME
from sim.studies.runner import simulate
from sim.studies.scenario import Scenario, shipped_scenarios

SMALL = {"n_stores": 3, "employees_per_store": 6, "customers_per_store": 120}
INTERVAL = re.compile(r"[+−]\$?[\d,.]+[kM]?[^()]*\(95% CI [+−]\$?[\d,.]+[kM]? to "
                      r"[+−]\$?[\d,.]+[kM]?")


def run_small(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every job of `scenario` in this process: its weekly and per-store frames."""
    weekly, stores = [], []
    for job in scenario.jobs():
        model_frame, stores_frame, _ = simulate(job)
        for frame, into in ((model_frame, weekly), (stores_frame, stores)):
            frame = frame.copy()
            frame.insert(0, "seed", job.seed)
            frame.insert(0, "replication", job.seed - scenario.seed)
            frame.insert(0, "arm", job.label)
            into.append(frame)
    return pd.concat(weekly, ignore_index=True), pd.concat(stores, ignore_index=True)


def shrink(scenario: Scenario, replications: int = 3) -> Scenario:
    """The scenario on a small chain and a short horizon that still holds its events."""
    data = scenario.as_file_data()
    data["parameters"] = {**data["parameters"], **SMALL}
    last = max([e["week"] for e in data["events"]]
               + [e["week"] for arm in data["arms"].values() for e in arm["events"]])
    data["horizon_weeks"] = max(30, last + 8)
    data["replications"] = replications
    return Scenario.model_validate(data)


def write(scenario: Scenario, folder: Path) -> report.ScenarioReport:
    timeseries, stores = run_small(scenario)
    return report.write_scenario_report(folder, scenario, timeseries, stores,
                                        settings=[("scenario file", "`test`")])


def in_short(md: str) -> list[str]:
    section = md.split("## In short", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("- **")]


# ------------------------------------------------------------------------------ summary
SHIPPED = [(path.stem, s) for path, s in shipped_scenarios()]


@pytest.mark.parametrize("name, scenario", SHIPPED, ids=[n for n, _ in SHIPPED])
def test_summary_answers_every_sub_question_of_a_shipped_scenario(name, scenario, tmp_path):
    assert isinstance(scenario, Scenario), scenario
    assert scenario.questions, f"{name}: a shipped scenario states its sub-questions"
    small = shrink(scenario)
    written = write(small, tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith(f"# {comparison.md_text(scenario.question)}\n")
    # The summary comes before the evidence and the table.
    assert md.index("## In short") < md.index("## The evidence") < md.index("## Comparison")
    lines = in_short(md)
    metrics = written.metrics
    for q in small.questions:
        (line,) = [x for x in lines if x.startswith(f"- **{comparison.md_text(q.text)}**")]
        assert INTERVAL.search(line), line
        for metric in q.metrics:
            m = METRIC_BY_NAME[metric]
            # The number said is the one computed from the runs, whichever way it points.
            if q.combined is not None:
                est = effects.interaction(metrics, q.combined, q.parts, small.baseline_arm,
                                         metric)
            elif q.contrast is not None:
                est = effects.contrast(metrics, *q.contrast, metric)
            else:
                est = effects.contrast(metrics, q.arms[0], small.baseline_arm, metric)
            said = f"{m.words} {answers.estimate_words(m, est)}"
            assert said.removesuffix(")") in line, (said, line)  # heads may follow in ()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.index("In short") < html.index("Comparison table")


def _synthetic(profit_gap: float) -> tuple[Scenario, pd.DataFrame]:
    scenario = Scenario.model_validate({
        "name": "synthetic", "question": "Coaching or HR?", "horizon_weeks": 52,
        "replications": 6, "seed": 1, "baseline": "base",
        "questions": [{"text": "Which does more for profit?", "contrast": ["coach", "hr"]}],
        "arms": {"base": {}, "coach": {"parameters": {"coaching_hours": 2.0}},
                 "hr": {"parameters": {"hr_budget": 300.0}}}})
    rng = np.random.default_rng(0)
    rows = []
    for rep in range(6):
        chain = rng.normal(10e6, 1e6)  # seed-to-seed spread, shared by every arm
        for arm, gap in (("base", 0.0), ("coach", profit_gap), ("hr", 0.0)):
            row = {name: 0.0 for name in effects._ALL}
            row.update(arm=arm, replication=rep, seed=1 + rep, weeks=52, total_costs=5e7,
                       profit=chain + gap + rng.normal(0, 1e4), policy_cost=1e5)
            rows.append(row)
    return scenario, pd.DataFrame(rows)


@pytest.mark.parametrize("gap, verdict", [(5e5, "clearly better on profit"),
                                          (-5e5, "clearly worse on profit"),
                                          (0.0, "no difference distinguishable from zero")])
def test_answers_follow_the_runs_either_way(gap, verdict):
    scenario, metrics = _synthetic(gap)
    (answer, best) = answers.executive_summary(scenario, metrics, ["base", "coach", "hr"])
    assert answer.question == "Which does more for profit?"
    assert answer.answer.startswith("Coach against HR (paired by seed): profit ")
    assert verdict in answer.answer
    assert best.answer.startswith("Most profitable: ")


def test_interaction_is_both_minus_each_alone_plus_the_baseline():
    metrics = pd.DataFrame({"arm": ["base", "a", "b", "ab"] * 2,
                            "replication": [0] * 4 + [1] * 4,
                            "profit": [10, 13, 12, 15, 20, 23, 22, 25.0]})
    est = effects.interaction(metrics, "ab", ("a", "b"), "base", "profit")
    assert est.mean == pytest.approx(15 - 13 - 12 + 10) and est.n == 2  # -> 0: overlap of 3


# ------------------------------------------------------------------------------ money
def test_savings_are_not_a_return_on_spend():
    base = {"arm": "base", "replication": 0, "policy_cost": 0.0, "wages": 1e6,
            "hiring_training": 1e5, "profit": 1e6, "total_costs": 1e7}
    rows = [base, {**base, "arm": "invest", "policy_cost": 1e5, "profit": 1.3e6},
            {**base, "arm": "cut", "policy_cost": 1e5, "wages": 0.2e6, "profit": 1.6e6}]
    rows += [{**r, "replication": 1, "profit": r["profit"] + 5e4} for r in rows]
    metrics = pd.DataFrame(rows)
    invest = effects.money_split(metrics, "invest", "base")
    assert invest.return_on_spend.mean == pytest.approx(3.0)  # +$0.3M after $0.1M spend
    cut = effects.money_split(metrics, "cut", "base")
    assert cut.return_on_spend is None and "savings on wages" in cut.no_return_because
    assert cut.wages_saved.mean == pytest.approx(8e5) and cut.profit.mean == pytest.approx(6e5)


LAYOFFS = {
    "name": "layoffs", "question": "Does laying off while coaching pay?", "horizon_weeks": 30,
    "replications": 3, "seed": 5, "parameters": SMALL, "baseline": "baseline",
    "arms": {
        "baseline": {"label": "As usual"},
        "coach": {"label": "Coaching", "events": [{"week": 4, "set": {"coaching_hours": 3.0}}]},
        "cut_and_coach": {"label": "Lay off 30% and coach", "events": [
            {"week": 4, "set": {"coaching_hours": 3.0}}, {"week": 4, "layoff": {"share": 0.3}}]},
    },
}


@pytest.fixture(scope="module")
def layoffs_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layoffs")
    scenario = Scenario.model_validate(LAYOFFS)
    timeseries, stores = run_small(scenario)
    written = report.write_scenario_report(folder, scenario, timeseries, stores, settings=[])
    return scenario, written, folder, timeseries


def test_an_arm_with_layoffs_shows_spend_savings_and_profit_apart(layoffs_run):
    scenario, written, folder, _ = layoffs_run
    split = effects.money_split(written.metrics, "cut_and_coach", "baseline")
    assert split.spend.mean > 0 and split.wages_saved.mean > 0
    assert split.return_on_spend is None  # the wage savings are not a return on the spend
    md = (folder / "report.md").read_text(encoding="utf-8")
    block = md.split("**Lay off 30% and coach** against **As usual**", 1)[1].split("\n\n**")[0]
    assert "> **Warning:** Lay off 30% and coach mixes layoffs with an investment" in block
    for line in ("- Policy spend: +$", "- Savings: wages +$", "- Profit change, after all "
                 "costs: ", "- No return on policy spend is given: its savings on wages"):
        assert line in block, line
    summary = written.summary.set_index(["arm", "metric"])
    assert np.isnan(summary.loc[("cut_and_coach", "return_per_dollar"), "mean"])
    assert evidence.layoff_warning(scenario, "coach") == ""
    assert md.count("mixes layoffs with an investment") == 2  # the summary and the evidence


# ------------------------------------------------------------------------------ figures
def test_figures_are_the_same_bytes_when_drawn_twice(layoffs_run, tmp_path):
    """Same runs, same figures: nothing in them (e.g. a strip plot's jitter) is unseeded."""
    scenario, written, _, _ = layoffs_run
    arms = list(scenario.arms)
    labels = {a: scenario.arm_label(a) for a in scenario.arms}
    timeseries, stores = run_small(scenario)
    drawn = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        np.random.seed(ord(name))  # noqa: NPY002 - the global state seaborn drew from
        report_figures.write_figures(folder, timeseries, stores, written.summary, arms,
                                     "baseline", report_figures.timeline(scenario), labels)
        drawn.append({f.name: f.read_bytes() for f in sorted(folder.glob("*.png"))})
    assert drawn[0].keys() == {name for name, _ in report_figures.FIGURES}
    for name in drawn[0]:
        assert drawn[0][name] == drawn[1][name], name


def test_figure_titles_are_not_clipped(layoffs_run):
    scenario, written, folder, timeseries = layoffs_run
    labels = {a: scenario.arm_label(a) for a in scenario.arms}
    arms = list(scenario.arms)
    figs = [report_figures.trajectories_figure(timeseries, arms, "baseline",
                                               report_figures.timeline(scenario),
                                               folder / "t.png", labels),
            report_figures.differences_figure(written.summary, arms, "baseline",
                                              folder / "d.png", labels)]
    for fig in figs:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        boxes = []
        for ax in fig.axes:
            box = ax.title.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= width and box.y1 <= height, ax.get_title()
            # A title stays over its own panel.
            panel = ax.get_window_extent(renderer)
            assert box.x0 >= panel.x0 - 60 and box.x1 <= panel.x1 + 60, ax.get_title()
            boxes.append(box)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b)


def test_saw_tooth_of_cadenced_programmes_is_explained():
    (scenario,) = [s for p, s in shipped_scenarios() if p.stem == "coaching_vs_hr"]
    note = evidence.cadence_note(scenario, list(scenario.arms))
    assert "every 13 weeks" in note and "HR programme" in note and "Coaching," not in note
    assert evidence.cadence_note(Scenario.model_validate(LAYOFFS), list(LAYOFFS["arms"])) == ""


# ------------------------------------------------------------------------------ safe HTML
class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_hostile_text_comes_out_inert(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nTOP-SECRET-BYTES" * 10)
    results = tmp_path / "results"
    results.mkdir()
    hostile = {
        "name": "hostile",
        "question": "<script>alert(document.domain)</script> and $x$?",
        "description": (f"![x]({secret}) ![y](../secret.png) <iframe src=//evil></iframe> "
                        "[click](javascript:alert(1)) <b onmouseover=alert(2)>hi</b>"),
        "horizon_weeks": 8, "replications": 2, "seed": 3, "parameters": SMALL,
        "arms": {
            "<img src=x onerror=alert(1)>": {"label": "<svg onload=alert(3)> $$ cost"},
            "plain": {"description": "<script>alert(4)</script>",
                      "events": [{"week": 2, "set": {"coaching_hours": 2.0}}]},
        },
        "questions": [{"text": "<img src=y onerror=alert(5)>?", "arms": ["plain"]}],
    }
    write(Scenario.model_validate(hostile), results)
    page = (results / "report.html").read_text(encoding="utf-8")
    parser = Elements()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "iframe" not in tags and "svg" not in tags
    for tag, attrs in parser.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
        if tag == "a":
            assert not (attrs.get("href") or "").startswith("javascript")
    # Only the run's own four figures are embedded; the secret file's bytes are not.
    assert tags.count("img") == 4
    assert base64.b64encode(secret.read_bytes())[:40].decode() not in page
    assert "TOP-SECRET" not in page
    # The hostile text is still shown, as text.
    assert "&lt;script&gt;alert(document.domain)&lt;/script&gt;" in page
    assert "&lt;svg onload=alert(3)&gt;" in page
    md = (results / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "<img" not in md and f"![x]({secret})" not in md


# ------------------------------------------------------------------------------ questions
@pytest.mark.parametrize("question, words", [
    ({"text": "?", "arms": ["nope"]}, "key 'questions.0': no arm is called 'nope'"),
    ({"text": "?", "arms": ["coach"], "contrast": ["coach", "baseline"]},
     "the question mixes 'arms' and 'contrast'"),
    ({"text": "?", "combined": "coach"}, "'combined' and 'parts' go together"),
    ({"text": "?", "arms": ["coach"], "metrics": ["proft"]}, "questions.0.metrics.0"),
])
def test_a_bad_question_gives_one_line(question, words, tmp_path):
    import yaml

    from sim.studies.scenario import load_scenario
    from sim.studies.specfile import SpecError

    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump({**LAYOFFS, "questions": [question]}), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}:") and words in message, message


@pytest.mark.parametrize("extra, verdict", [(-3e5, "they overlap"),
                                            (3e5, "they reinforce each other"),
                                            (0.0, "the two add up on profit")])
def test_does_doing_both_add_up_is_read_from_the_interaction(extra, verdict):
    scenario = Scenario.model_validate({
        "name": "both", "question": "Does doing both add up?", "horizon_weeks": 52,
        "replications": 6, "seed": 1, "baseline": "base",
        "questions": [{"text": "Add up?", "combined": "both", "parts": ["a", "b"]}],
        "arms": {"base": {}, "a": {"parameters": {"coaching_hours": 2.0}},
                 "b": {"parameters": {"hr_budget": 300.0}},
                 "both": {"parameters": {"coaching_hours": 2.0, "hr_budget": 300.0}}}})
    rng = np.random.default_rng(1)
    rows = []
    for rep in range(6):
        chain = rng.normal(10e6, 1e6)
        for arm, effect in (("base", 0), ("a", 1e6), ("b", 5e5), ("both", 1.5e6 + extra)):
            rows.append({**{name: 0.0 for name in effects._ALL}, "arm": arm, "replication": rep,
                         "profit": chain + effect + rng.normal(0, 2e4), "weeks": 52})
    (answer, _) = answers.executive_summary(scenario, pd.DataFrame(rows), list(scenario.arms))
    assert "(the interaction: both − A − B + Base, paired by seed): profit " in answer.answer
    assert verdict in answer.answer, answer.answer


def test_html_table_marks_clear_differences_in_bold_with_an_arrow_and_colour(layoffs_run):
    _, written, folder, _ = layoffs_run
    page = (folder / "report.html").read_text(encoding="utf-8")
    table = page.split("<table>", 1)[1].split("</table>", 1)[0]
    body = comparison.comparison_cells(written.summary, written.arms, "baseline",
                                   {a: a for a in written.arms})
    clear = [c for _, diff, cells in body if diff for c in cells if c.clear]
    assert clear  # laying off 30% of the staff moves something clearly
    for c in clear:
        arrow = "▲" if c.up else "▼"
        assert f"<strong>{arrow} {c.text}</strong>" in table, c
    styles = {"better": 'class="good"', "worse": 'class="bad"'}
    for verdict in {c.verdict for c in clear} - {""}:
        assert styles[verdict] in table
    unclear = [c for _, diff, cells in body if diff for c in cells if c.text and not c.clear]
    for c in unclear:
        assert f"<em>{c.text}</em>" in table
