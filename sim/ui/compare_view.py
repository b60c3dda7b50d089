"""Compare arms ("/compare"): up to three arms on the same seed, side by side, with a headline
sentence saying which is ahead and by how much, and a button that runs them to the end."""

from __future__ import annotations

import html

import pandas as pd
import solara
from mesa.visualization.solara_viz import ModelCreator
from mesa.visualization.utils import force_update, update_counter

from sim.ui import charts as ui_charts
from sim.ui import time_charts
from sim.ui.timeline import event_markers
from sim.ui.widgets import (
    EXPLAIN,
    PAGE_CSS,
    Dashboard,
    Explanation,
    Navigation,
    RunControls,
    money_text,
)
from sim.ui.workshop import ArmsComparison, default_arms, load_presets


def _recent(frame: pd.DataFrame, column: str, weeks: int = 13) -> float:
    return float(frame[column].tail(weeks).mean()) if not frame.empty else float("nan")


def headline(model: ArmsComparison) -> str:
    """One sentence: which arm is ahead on cumulative profit, by how much, and on churn."""
    frames = [ui_charts.weekly(arm) for arm in model.arms]
    weeks = min(len(f) for f in frames)
    if weeks == 0:
        return ("Press \u25b6 or Run to the end: the arms run on the same seed, and this line "
                "says which is ahead.")
    profit = [float(f["profit"].iloc[:weeks].sum()) for f in frames]
    churn = [_recent(f.iloc[:weeks], "churn_rate_annual_pct") for f in frames]
    order = sorted(range(len(frames)), key=lambda i: -profit[i])
    lead, second = order[0], order[1]
    if abs(profit[lead] - profit[order[-1]]) < 1:
        starts = sorted(w for w, label in compare_markers(model) if label == "policies start")
        later = [w for w in starts if w >= weeks]
        return (f"After {weeks} weeks the arms are level"
                + (f": their policies differ from week {later[0]}." if later else "."))
    names = model.labels
    churn_gap = churn[second] - churn[lead]
    churn_text = (f"{churn_gap:.1f} churn points a year" if churn_gap >= 0
                  else f"its churn is {-churn_gap:.1f} points a year higher")
    joint = " and " if churn_gap >= 0 else ", though "
    text = (f"After {weeks} weeks {names[lead]} is ahead of {names[second]} by "
            f"{money_text(profit[lead] - profit[second])}{joint}{churn_text}")
    for other in order[2:]:
        text += (f"; {names[other]} is {money_text(profit[lead] - profit[other])} behind "
                 f"{names[lead]}")
    return text + "."


def _run_to_end(model: solara.Reactive) -> None:
    comparison = model.value
    while comparison.running:
        comparison.step()
    force_update()


@solara.component
def Headline(model: solara.Reactive):
    update_counter.get()
    with solara.Card(style={"background": "#eef5ff"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(headline(model.value)),
                        classes=["headline"],
                        style="font-size: 24px; font-weight: 600; flex: 1 1 500px")
            solara.Button("Run to the end", color="primary",
                          on_click=lambda: _run_to_end(model),
                          disabled=not model.value.running)


def arms_table(model: ArmsComparison) -> list[list[str]]:
    """Rows (figure, then one value per arm) of the side-by-side table, with units."""
    frames = [ui_charts.weekly(arm) for arm in model.arms]
    rows = [["", *model.labels]]
    if any(f.empty for f in frames):
        return rows + [["Week", *["not started"] * len(frames)]]

    def add(name, values):
        rows.append([name, *values])

    add("Customers", [f"{f['active_customers'].iloc[-1]:,.0f}" for f in frames])
    add("Churn (13 wk)", [f"{_recent(f, 'churn_rate_annual_pct'):.1f} %/yr" for f in frames])
    add("Profit (13 wk)", [f"${_recent(f, 'profit'):,.0f} /wk" for f in frames])
    add("Cumulative profit", [f"${f['cumulative_profit'].iloc[-1]:,.0f}" for f in frames])
    add("Staff engagement", [f"{f['employee_engagement'].iloc[-1]:.2f} (0-1)" for f in frames])
    add("Customer engagement", [f"{f['customer_engagement'].iloc[-1]:.2f} (0-1)"
                                for f in frames])
    return rows


@solara.component
def ArmsSummary(model):
    update_counter.get()
    rows = arms_table(model)
    colours = ui_charts.ARM_COLOURS
    head = "".join(f"<th style='color:{colours[i]};text-align:left;padding:4px 12px'>"
                   f"{html.escape(label)}</th>" for i, label in enumerate(rows[0][1:]))
    body = "".join("<tr><td style='padding:2px 12px 2px 0'>" + html.escape(r[0]) + "</td>"
                   + "".join(f"<td style='padding:2px 12px'><b>{html.escape(c)}</b></td>"
                             for c in r[1:]) + "</tr>" for r in rows[1:])
    with solara.Card(f"Side by side - week {model.week + 1}, seed {model.seed}"):
        solara.HTML(tag="table", unsafe_innerHTML=f"<tr><th></th>{head}</tr>{body}",
                    style="font-size: 18px; border-collapse: collapse")
        Explanation(EXPLAIN["summary"])
        if model.notice:
            solara.Warning(model.notice, dense=True)


def compare_markers(model: ArmsComparison) -> list[tuple[int, str]]:
    """Event markers of the compare page: an event every arm has keeps its label; where the
    arms do different things in a week, the marker says "policies start"."""
    per_arm = [set(event_markers(arm.scheduled)) for arm in model.arms]
    shared = set.intersection(*per_arm) if per_arm else set()
    markers = sorted(shared)
    differing = {week for arm in per_arm for week, _ in arm - shared}
    markers += [(week, "policies start") for week in sorted(differing)]
    return sorted(markers)


def compare_specs(model: ArmsComparison) -> dict[str, dict]:
    frames = {label: ui_charts.weekly(arm) for label, arm in zip(model.labels, model.arms,
                                                                 strict=True)}
    events = time_charts.event_rows(compare_markers(model))
    first = next(iter(frames.values()))
    weeks = min(len(f) for f in frames.values())
    relative = {}
    for label, frame in frames.items():
        part = frame.iloc[:weeks][["week", "cumulative_profit"]].copy()
        part["ahead"] = part["cumulative_profit"].to_numpy() - first["cumulative_profit"].iloc[
            :weeks].to_numpy()
        relative[label] = part
    churn = {label: f.assign(churn_13=f["churn_rate_annual_pct"].rolling(13, 1).mean())
             for label, f in frames.items()}
    horizon = model.horizon_weeks
    return {
        "profit": time_charts.compare_lines(
            relative, "ahead", f"Cumulative profit vs {model.labels[0]} ($)", horizon,
            "$,.0f", events=events),
        "arm_churn": time_charts.compare_lines(churn, "churn_13", "Churn (%/yr, 13-wk avg)",
                                             horizon, ".1f", events=events),
        "arm_engagement": time_charts.compare_lines(frames, "employee_engagement",
                                                  "Staff engagement (0-1)", horizon, ".2f",
                                                  events=events),
    }


COMPARE_CARDS = (("Cumulative profit, compared", "profit"), ("Churn", "arm_churn"),
                 ("Staff engagement", "arm_engagement"))


@solara.component
def CompareCharts(model):
    update_counter.get()
    Dashboard(COMPARE_CARDS, compare_specs(model))
    solara.FileDownload(lambda: _compare_csv(model), filename="loyalty-sim-compare.csv",
                        label="Download the arms (CSV)")


def _compare_csv(model: ArmsComparison) -> bytes:
    parts = [ui_charts.weekly(arm).assign(arm=label)
             for label, arm in zip(model.labels, model.arms, strict=True)]
    return pd.concat(parts, ignore_index=True).to_csv(index=False).encode()


@solara.component
def CompareView():
    presets = load_presets()
    arms = default_arms(presets)
    first = presets[arms[0]]
    # Opens on the first arm's scenario seed, as the store view does for a preset.
    initial = solara.use_memo(lambda: ArmsComparison(
        rng=str(first.seed), arm_a=arms[0], arm_b=arms[1],
        arm_c=arms[2] if len(arms) > 2 else ArmsComparison.NO_ARM), [])
    labels = list(presets)
    params = {
        "rng": {"type": "InputText", "value": str(initial.seed),
                "label": "Seed (a whole number; every arm uses it)"},
        "arm_a": {"type": "Select", "value": arms[0], "values": labels, "label": "Arm A"},
        "arm_b": {"type": "Select", "value": arms[1], "values": labels, "label": "Arm B"},
        "arm_c": {"type": "Select", "value": arms[2] if len(arms) > 2 else ArmsComparison.NO_ARM,
                  "values": [ArmsComparison.NO_ARM, *labels], "label": "Arm C (optional)"},
    }
    model = solara.use_reactive(initial)
    chosen = solara.use_reactive({})
    solara.Style(PAGE_CSS)
    Navigation()
    with solara.Sidebar():
        RunControls(model, chosen)
        with solara.Card("Arms"):
            ModelCreator(model, params, model_parameters=chosen)
            Explanation("Pick the arms, press **Reset** to load them, then **\u25b6** (play) "
                        "or **Run to the end**. All run on the same seed.")
    with solara.Column(style="gap: 12px"):
        Headline(model)
        ArmsSummary(model.value)
        CompareCharts(model.value)
