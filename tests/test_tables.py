"""Terminal tables fit the terminal: one table when it is wide, stacked tables when it is
narrow, never a cut cell or a broken word; sweep tables speak the scenario reports' units and
show paired contrasts."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sim.cli import tables
from sim.studies import effects
from sim.studies.comparison import comparison_cells, table_rows
from sim.studies.labels import METRICS, RETURN
from sim.studies.scenario import Scenario
from sim.studies.sweep import sweep
from tests.test_report import LAYOFFS, SMALL, run_small


def render(renderables, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    for r in renderables:
        console.print(r)
    return console.file.getvalue()


@pytest.fixture(scope="module")
def comparison():
    scenario = Scenario.model_validate(LAYOFFS)
    timeseries, _ = run_small(scenario)
    metrics = effects.replication_metrics(timeseries)
    arms = list(scenario.arms)
    summary = effects.summarise(metrics, arms, "baseline")
    labels = {a: scenario.arm_label(a) for a in arms}
    return summary, arms, labels


@pytest.mark.parametrize("width", [80, 200])
def test_comparison_fits_the_terminal_without_breaking_words(comparison, width):
    summary, arms, labels = comparison
    found = tables.comparison_tables(summary, arms, "baseline", labels, "layoffs", width)
    text = render(found, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    if width == 200:
        assert len(found) == 1
        (header,) = [line for line in lines if "Revenue ($M)" in line]
        assert "Profit ($M)" in header and "Return ($/$)" in header  # one row of measures
    else:
        assert len(found) >= 2  # stacked: the policies are rows of each table
        assert all(len(t.columns) <= 4 for t in found)
    # Every number and every label whole, on one line.
    _, rows = table_rows(summary, arms, "baseline", labels, short=True)
    for row in rows:
        for cell in row:
            assert cell.strip() in text, cell
    for label in labels.values():
        assert label in text
    for m in (*METRICS, RETURN):
        for word in m.short.split():
            assert word in text.split() or f"{word}" in text


def test_differences_are_readable_without_colour(comparison):
    summary, arms, labels = comparison
    text = render(tables.comparison_tables(summary, arms, "baseline", labels, "t", 200), 200)
    body = comparison_cells(summary, arms, "baseline", labels)
    clear = [c for _, diff, cells in body if diff for c in cells if c.clear]
    assert clear  # a 30% layoff moves something clearly
    for c in clear:
        assert f"{'▲' if c.up else '▼'} {c.text}" in text
    assert " pp" in text  # churn and turnover differences in percentage points


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    spec = {"name": "arms", "question": "Does coaching beat the baseline?",
            "horizon_weeks": 12, "replications": 3, "seed": 21, "parameters": SMALL,
            "factors": {"hr_budget": {"levels": [0, 800]}},
            "compare": {"base": {}, "coach": {"parameters": {"coaching_hours": 4.0}}},
            "contrasts": {"coach_minus_base": {"arm": "coach", "minus": "base"}},
            "outcomes": ["profit", "customer_churn_pct", "policy_cost",
                         "employee_engagement"]}
    return sweep(spec, out=tmp_path_factory.mktemp("sweep") / "s", workers=1, progress=False)


@pytest.mark.parametrize("width", [80, 200])
def test_sweep_table_has_human_headers_units_and_paired_contrasts(small_sweep, width):
    from sim.studies import sensitivity

    summary = sensitivity.replication_summary(small_sweep)
    info = sensitivity.sweep_info(small_sweep)
    text = render(tables.means_tables(summary, info, width), width)
    assert max(len(line) for line in text.splitlines()) <= width
    flat = " ".join(text.split())
    for header in ("Total profit ($M)", "Policy spend ($k)", "HR budget ($/employee/year)",
                   "Customer churn (%/yr)"):
        assert header in flat or all(w in flat for w in header.split()), header
    assert "Coach − Base" in text  # the paired contrast, under each design point
    assert "policy_cost" not in text and "hr_budget" not in text  # no snake_case
    assert " pp" in text  # the contrast's churn in percentage points
    if width == 200:
        assert len(tables.means_tables(summary, info, width)) == 1
