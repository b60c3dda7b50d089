"""The store view ("/"): one chain under a preset's levers, with the key figures, the story of
the preset's scenario, the store map, the quadrant of stores, the live charts, a week slider to
look back, and exports."""

from __future__ import annotations

import html
import os

import pandas as pd
import solara
from mesa.visualization.solara_viz import ModelCreator
from mesa.visualization.utils import update_counter

from sim.studies.labels import choice_label, event_words
from sim.ui import charts as ui_charts
from sim.ui import time_charts
from sim.ui.timeline import event_markers, policy_start
from sim.ui.widgets import (
    PAGE_CSS,
    ChangedCue,
    Dashboard,
    Navigation,
    RunControls,
    money_text,
)
from sim.ui.workshop import (
    MODEL_DEFAULTS,
    RENDER_INTERVAL_ENV,
    Preset,
    WorkshopModel,
    changed_parameters,
    load_presets,
    model_params,
    parameters_of,
    preset_problems,
    recommended_render_interval,
)

# The preset the store view shows (one per browser session: solara scopes it to the kernel).
preset_label = solara.reactive(MODEL_DEFAULTS)


# ---------------------------------------------------------------------------- key figures
KEY_FIGURES = (
    # label, column, format of the value and of its change
    ("Customers", "active_customers", "{:,.0f}", "{:+,.0f}"),
    ("Churn %/yr", "churn_13", "{:.1f}", "{:+.1f} pts"),
    ("Profit $/wk", "profit_avg", "${:,.0f}", "$"),
    ("Total profit", "cumulative_profit", "$", "$"),
    ("Staff engagement", "employee_engagement", "{:.2f}", "{:+.2f}"),
    ("Customer eng.", "customer_engagement", "{:.2f}", "{:+.2f}"),
)
# What the key figures' labels stand for (their tooltips): churn over 13 weeks and profit over
# 4, because a single week of a chain is noisy.
KEY_FIGURE_NOTES = {
    "Churn %/yr": "Share of customers lost per year, average of the last 13 weeks",
    "Profit $/wk": "Profit per week of the whole chain, average of the last 4 weeks",
    "Total profit": "Cumulative profit since week 1",
    "Staff engagement": "Average engagement of the staff (0-1)",
    "Customer eng.": "Average engagement of the customers (0-1)",
}


def _change(text: str) -> str:
    """'+0.00' and '-0.00' both read as 'no change'."""
    return "no change" if not any(c in "123456789" for c in text) else text


def key_figures(frame: pd.DataFrame, start: int, week: int | None = None
                ) -> list[tuple[str, str, str]]:
    """(label, value, change since the policy started) of the strip's figures at a week (the
    last one by default); the change is from the week before `start` (week 0 if 0)."""
    if frame.empty:
        return [("Week", "0", "before week 1")] + [(label, "\u2014", "")
                                                    for label, *_ in KEY_FIGURES]
    frame = frame.assign(churn_13=frame["churn_rate_annual_pct"].rolling(13, 1).mean())
    last = len(frame) - 1
    row = last if week is None else min(max(week, 0), last)
    base = max(start - 1, 0)
    rows = [("Week", f"{row + 1}", f"events from wk {start}" if start else "")]
    for label, column, shown, change in KEY_FIGURES:
        now = float(frame[column].iloc[row])
        text = ""
        since = base if start else 0
        if row >= since and (start or row > 0):
            delta = now - float(frame[column].iloc[since])
            shown_delta = (("+" if delta >= 0 else "") + money_text(delta) if change == "$"
                           else change.format(delta))
            text = f"{_change(shown_delta)} since wk {since + 1}"
        value = money_text(now) if shown == "$" else shown.format(now)
        rows.append((label, value.replace("$-", "-$"), text))
    return rows


@solara.component
def KeyFigures(frame: pd.DataFrame, start: int, week: int | None = None):
    """The strip of big figures at the top of the page."""
    cells = "".join(
        f"<div class='key-figure' title='{html.escape(KEY_FIGURE_NOTES.get(label, label))}'>"
        f"<div class='label'>{html.escape(label)}</div>"
        f"<div class='value'>{html.escape(value)}</div>"
        f"<div class='change'>{html.escape(change) or '&nbsp;'}</div></div>"
        for label, value, change in key_figures(frame, start, week))
    solara.HTML(tag="div", unsafe_innerHTML=cells, classes=["key-figures"],
                style="display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 8px")


@solara.component
def StoryCard(preset: Preset):
    """The narrative: the question, what to watch, what to try next (from the scenario file)."""
    rows = [("The question", preset.question), ("Watch", preset.watch),
            ("Try next", preset.try_next)]
    items = "".join(f"<div style='flex: 1 1 220px'><b>{html.escape(k)}</b><br>"
                    f"{html.escape(v)}</div>" for k, v in rows)
    solara.HTML(tag="div", unsafe_innerHTML=items, classes=["story"],
                style="display: flex; flex-wrap: wrap; gap: 16px; font-size: 16px; "
                      "line-height: 1.35; padding: 10px 12px; background: #fff8e6; "
                      "border-left: 4px solid #f2a541; margin-bottom: 8px")


@solara.component
def WeekSlider(done: int, view_week: solara.Reactive):
    """Scrub back through the `done` finished weeks: the charts mark the week, the figures, map
    and quadrant show it. 'Live' follows the run again."""
    if done < 2:
        return
    shown = view_week.value if view_week.value is not None else done - 1
    with solara.Row(style={"align-items": "center", "gap": "12px"}):
        with solara.Div(style="min-width: 320px; flex: 1"):
            solara.SliderInt("Look back at week", value=min(shown, done - 1) + 1, min=1,
                             max=done, thumb_label="always",
                             on_value=lambda w: view_week.set(None if w >= done else w - 1))
        solara.Button("Live", on_click=lambda: view_week.set(None),
                      disabled=view_week.value is None, outlined=True)


def _frame_csv(model) -> bytes:
    return ui_charts.weekly(model).to_csv(index=False).encode()


@solara.component
def Exports(model, name: str):
    """The run as CSV (each chart's own menu saves it as PNG or SVG)."""
    solara.FileDownload(lambda: _frame_csv(model), filename=f"{name}.csv",
                        label="Download the run (CSV)")


STORE_CARDS = (
    ("Store map", "map"), ("Stores: staff vs customer engagement", "quadrant"),
    ("Customers", "customers"), ("Churn", "churn"), ("Revenue and profit", "money"),
    ("Engagement: staff and customers", "engagement"), ("Staff turnover", "turnover"),
    ("Customer engagement segments", "segments"),
)
_TIME_CHARTS = {"customers": time_charts.customers, "churn": time_charts.churn,
                "money": time_charts.money, "engagement": time_charts.engagement,
                "turnover": time_charts.turnover, "segments": time_charts.segment_shares}


def store_specs(model: WorkshopModel, view_week: int | None = None) -> dict[str, dict]:
    """Every chart of the store view for a model (and the week looked back at, if any)."""
    frame = ui_charts.weekly(model)
    events = time_charts.event_rows(event_markers(model.scheduled))
    specs = {"map": ui_charts.store_map(model, view_week),
             "quadrant": ui_charts.quadrant(model, view_week)}
    for key, build in _TIME_CHARTS.items():
        specs[key] = build(frame, model.horizon_weeks, events=events, view_week=view_week)
    return specs


@solara.component
def RunStatus(model):
    """What the room is looking at: week, seed, preset, levers, events; and any notice."""
    update_counter.get()
    levers = parameters_of(model)
    week = model.week + 1
    if model.steps == 0:
        solara.Text("Not started: press Step or \u25b6 (play).")
    else:
        state = "finished" if not model.running else "running"
        solara.Text(f"Week {week} of {model.horizon_weeks} ({state})")
    solara.Text(f"Seed {model.seed} \u00b7 {model.n_stores} stores \u00b7 preset: {model.preset}")
    words = {k: choice_label(k, levers[k])
             for k in ("coaching_targeting", "staffing_rule", "service_policy")}
    summary = (f"coaching {levers['coaching_hours']:g} h/wk ({words['coaching_targeting']}), "
               f"HR ${levers['hr_budget']:,.0f}/employee/yr, front line: "
               f"{words['staffing_rule']}, {words['service_policy']}, transparency "
               f"{levers['transparency']:g}")
    solara.Text(summary, style={"font-size": "14px", "color": "#444"})
    events = model.scheduled
    if events:
        solara.Text("Events: " + "; ".join(_event_text(e) for e in events),
                    style={"font-size": "14px", "color": "#444"})
    if model.notice:
        solara.Warning(model.notice, dense=True)
    interval = recommended_render_interval(model.n_stores)
    if interval > 1:
        solara.Info(f"{model.n_stores} stores: set Weeks per redraw (Advanced settings) to "
                    f"{interval} or more for a smooth play.", dense=True)


def _event_text(spec: dict) -> str:
    """An event in words for the status card: the one describer (sim.model.events) with the
    shared labels; the charts' markers are the short `event_label`."""
    return event_words(spec)


@solara.component
def PresetCard():
    """Load an arm of a shipped scenario into the sidebar's controls (and reset the model)."""
    presets = load_presets()
    problems = preset_problems()
    preset = presets.get(preset_label.value, presets[MODEL_DEFAULTS])
    with solara.Card("Preset"):
        solara.Select("Scenario arm", value=preset.label, values=list(presets),
                      on_value=preset_label.set)
        solara.Text(preset.description, style={"font-size": "14px"})
        changes = changed_parameters(preset)
        if changes:
            solara.Text("Sets " + ", ".join(f"{k}={v}" for k, v in changes.items()),
                        style={"font-size": "13px", "color": "#444"})
        for problem in problems:
            solara.Warning(f"left out {problem}", dense=True)


def _render_interval(n_stores: int) -> int:
    env_interval = os.environ.get(RENDER_INTERVAL_ENV, "")
    return (int(env_interval) if env_interval.isdigit() and int(env_interval) > 0
            else recommended_render_interval(n_stores))


@solara.component
def StoreBody(model, preset: Preset, view_week: solara.Reactive):
    """The part of the page redrawn each week: figures, story, scrubber and charts.

    One listener of Mesa's redraw counter for the whole body: every listener costs a render
    pass, so one keeps a step's redraw short.
    """
    update_counter.get()
    week = view_week.value if view_week.value is not None and view_week.value < model.steps \
        else None
    KeyFigures(ui_charts.weekly(model), policy_start(model.scheduled), week)
    StoryCard(preset)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        with solara.Div(style="flex: 1"):
            WeekSlider(model.steps, view_week)
        Exports(model, "loyalty-sim-store-view")
    Dashboard(STORE_CARDS, store_specs(model, week))


@solara.component
def StoreViz(preset: Preset):
    """The store view for one preset: controls, levers and the page body. Mounted afresh for
    each preset, so every control starts at its values."""
    initial = solara.use_memo(lambda: WorkshopModel(**preset.settings()), [])
    model = solara.use_reactive(initial)
    params = solara.use_memo(lambda: model_params(preset), [])
    chosen = solara.use_reactive({})
    view_week = solara.use_reactive(None)
    solara.use_effect(lambda: view_week.set(None), [model.value])
    with solara.Sidebar():
        RunControls(model, chosen, _render_interval(initial.n_stores))
        PresetCard()
        with solara.Card("Levers"):
            ModelCreator(model, params, model_parameters=chosen)
            ChangedCue(model.value, chosen)
        with solara.Card("This run"):
            RunStatus(model.value)
    StoreBody(model.value, preset, view_week)


@solara.component
def StoreView():
    presets = load_presets()
    preset = presets.get(preset_label.value, presets[MODEL_DEFAULTS])
    solara.Style(PAGE_CSS)
    Navigation()
    StoreViz(preset).key(f"store-view-{preset.label}")
