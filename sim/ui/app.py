"""The workshop view: `solara run sim/ui/app.py` (or `loyalty-sim ui`).

Made for a projector. Two pages, each with Mesa's model controller (Reset / Play / Step) and
model creator (the levers), a plain speed control and big key figures:
- Store view ("/"): the levers in the sidebar, a preset selector that loads an arm of any
  shipped scenario with its story (question, what to watch, what to try next), the store map,
  the quadrant of stores and the live charts, a week slider to look back, and exports.
- Compare arms ("/compare"): up to three arms on the same seed, side by side, with a headline
  sentence saying which is ahead and by how much, and a button that runs them to the end.
Game mode (`loyalty-sim ui --game`) adds the pages of sim.ui.game.
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import pandas as pd
import solara
import solara.server.settings
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import force_update, update_counter

from sim.studies.labels import choice_label, event_words
from sim.ui import charts as ui_charts
from sim.ui import game_view
from sim.ui.assets import WebAssetsError, ensure_web_assets
from sim.ui.vega import VegaChart
from sim.ui.workshop import (
    CONTROLS,
    MODEL_DEFAULTS,
    RENDER_INTERVAL_ENV,
    ArmsComparison,
    Preset,
    WorkshopModel,
    changed_parameters,
    default_arms,
    event_markers,
    load_presets,
    model_params,
    parameters_of,
    policy_start,
    preset_problems,
    recommended_render_interval,
)

TITLE = "Loyalty simulation"

# The preset the store view shows (one per browser session: solara scopes it to the kernel).
preset_label = solara.reactive(MODEL_DEFAULTS)

# Speeds the room can choose, as milliseconds between weeks while playing.
SPEEDS = {"slow": 600, "normal": 150, "fast": 1}
DEFAULT_SPEED = "normal"

# Mesa's sliders put a long label beside a short slider and show their value only while dragged:
# stack label over slider so labels with units fit, and keep the value shown for the room.
PAGE_CSS = """
.v-slider.v-input--horizontal { grid-template-areas: "prepend prepend prepend"
    "control control control" "a messages b"; }
.v-slider.v-input--horizontal > .v-input__prepend { margin-inline-end: 0; margin-bottom: -6px; }
.v-slider .v-slider__label { white-space: normal; }
.v-slider.v-input--horizontal > .v-input__control { margin-top: 32px; }
.v-slider-thumb__label-container { display: block !important; }
.solara-autorouter-content > .v-sheet, .solara-autorouter-content > .v-sheet > .v-sheet {
    row-gap: 0 !important; }
.loyalty-chart .vega-embed { width: 100%; }
.loyalty-chart .vega-embed details summary { width: 32px; height: 32px; }
.key-figure { flex: 1 1 100px; min-width: 0; padding: 4px 8px; border-radius: 6px;
    background: #f4f6f8; }
.key-figure .label { font-size: 16px; color: #444; line-height: 1.2; }
.key-figure .value { font-size: 26px; font-weight: 600; line-height: 1.2; white-space: nowrap; }
.key-figure .change { font-size: 16px; color: #444; line-height: 1.2; }
.changed-cue { color: #9a5b00; font-weight: 600; }
"""

EXPLAIN = {
    "map": (
        "Each square is a store, placed on its tile. **Colour**: engagement of its staff and "
        "customers together (red low, green high; the quadrant uses the same colours). "
        "**Size**: its revenue that week."),
    "quadrant": (
        "Each dot is a store: staff engagement across, customer engagement up; dashed lines: "
        "the chain's medians. Stores where **both** are high (top right) earn the most."),
    "customers": "**Customers** still with the chain. Churn rises first; the count follows.",
    "churn": "**Churn**: the share of customers lost per year. Grey band: the crisis.",
    "money": (
        "**Revenue** and **profit** per week for the whole chain. Coaching and HR "
        "programmes cost money now; their pay-off comes later through loyal customers."),
    "engagement": (
        "**Staff** (green) and **customer** (blue) engagement, 0-1 scores. Engaged staff "
        "make engaged customers, a few months later."),
    "turnover": "**Staff turnover**: quits per year as a share of staff. Every quit costs "
                "hiring and a new, less skilled colleague.",
    "segments": (
        "Customers by how attached they are. **Fully engaged** customers visit more, spend "
        "more and bring friends; **actively disengaged** ones leave and put others off."),
    "summary": (
        "All arms run on the **same seed**: the same stores, staff and customers, so the "
        "difference comes from the policy. One run only: for 95% intervals over replications "
        "use `loyalty-sim run` on the scenario file."),
    "profit": "Cumulative profit since week 0 of each arm, minus that of the first arm, in "
              "dollars: above zero means ahead of it.",
    "arm_churn": "Churn of each arm (share of customers lost per year, 13-week average).",
    "arm_engagement": "Staff engagement of each arm (0-1 score).",
}


def _rich(text: str) -> str:
    """Our explanations' light mark-up (**bold**, `code`) as HTML.

    solara.Markdown would load Mermaid and KaTeX into the page for every text block; plain HTML
    keeps the page light and its assets few (see sim.ui.assets).
    """
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


@solara.component
def Explanation(text: str):
    solara.HTML(tag="div", unsafe_innerHTML=_rich(text),
                style="font-size: 16px; line-height: 1.35; color: #333; margin-top: 4px")


@solara.component
def ChartCard(title: str, spec: dict, explanation: str):
    """A chart as wide as its card, with its plain-language explanation under it."""
    with solara.Card(title, style={"height": "100%"}):
        with solara.Div(classes=["loyalty-chart"], style="width: 100%"):
            VegaChart(spec)
        Explanation(explanation)


# ------------------------------------------------------------------------------- controls
@solara.component
def RunControls(model: solara.Reactive, model_parameters: solara.Reactive,
                render_interval: int = 1):
    """Reset / Play / Step (Mesa's controller), a plain speed choice, and Mesa's developer
    settings behind an "advanced" switch."""
    speed = solara.use_reactive(DEFAULT_SPEED)
    play_ms = solara.use_reactive(SPEEDS[DEFAULT_SPEED])
    interval = solara.use_reactive(render_interval)
    threads = solara.use_reactive(False)
    advanced = solara.use_reactive(False)

    def set_speed(name: str) -> None:
        speed.set(name)
        play_ms.set(SPEEDS[name])

    with solara.Card("Run", style={"padding-bottom": "4px"}):
        ModelController(model, model_parameters=model_parameters, play_interval=play_ms,
                        render_interval=interval, use_threads=threads)
        with solara.Row(style={"align-items": "center"}):
            solara.Text("Speed", style={"font-size": "16px"})
            solara.ToggleButtonsSingle(value=speed.value, values=list(SPEEDS),
                                       on_value=set_speed, dense=True)
        solara.Checkbox(label="Advanced settings", value=advanced)
        if advanced.value:
            solara.SliderInt("Weeks per redraw", value=interval, min=1, max=50)
            solara.SliderInt("Pause between weeks (ms)", value=play_ms, min=1, max=1000)
            solara.Checkbox(label="Step in a background thread", value=threads)


LEVER_LABELS = {c.name: c.label for c in CONTROLS}


def changed_levers(running: dict, chosen: dict) -> list[str]:
    """The levers set differently in the sidebar than in the running model, as words."""
    changes = []
    for name, label in LEVER_LABELS.items():
        if name in chosen and name in running and chosen[name] != running[name]:
            short = label.split(" (")[0]
            changes.append(f"{short}: {_shown(running[name])} \u2192 {_shown(chosen[name])}")
    return changes


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@solara.component
def ChangedCue(model, model_parameters: solara.Reactive):
    """'changed: press Reset to apply' under the levers, naming each changed lever."""
    changes = changed_levers(getattr(model, "settings", {}), model_parameters.value)
    if changes:
        with solara.Div(style="font-size: 16px; margin-top: 6px"):
            solara.HTML(tag="div", unsafe_innerHTML="changed: press Reset to apply",
                        classes=["changed-cue"])
            for line in changes:
                solara.Text(line, style={"display": "block", "font-size": "15px"})


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
            shown_delta = (("+" if delta >= 0 else "") + _money(delta) if change == "$"
                           else change.format(delta))
            text = f"{_change(shown_delta)} since wk {since + 1}"
        value = _money(now) if shown == "$" else shown.format(now)
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


# ------------------------------------------------------------------------------- store view
STORE_CARDS = (
    ("Store map", "map"), ("Stores: staff vs customer engagement", "quadrant"),
    ("Customers", "customers"), ("Churn", "churn"), ("Revenue and profit", "money"),
    ("Engagement: staff and customers", "engagement"), ("Staff turnover", "turnover"),
    ("Customer engagement segments", "segments"),
)
_TIME_CHARTS = {"customers": ui_charts.customers, "churn": ui_charts.churn,
                "money": ui_charts.money, "engagement": ui_charts.engagement,
                "turnover": ui_charts.turnover, "segments": ui_charts.segment_shares}


def store_specs(model: WorkshopModel, view_week: int | None = None) -> dict[str, dict]:
    """Every chart of the store view for a model (and the week looked back at, if any)."""
    frame = ui_charts.weekly(model)
    events = ui_charts.event_rows(event_markers(model.scheduled))
    specs = {"map": ui_charts.store_map(model, view_week),
             "quadrant": ui_charts.quadrant(model, view_week)}
    for key, build in _TIME_CHARTS.items():
        specs[key] = build(frame, model.horizon_weeks, events=events, view_week=view_week)
    return specs


@solara.component
def Dashboard(cards: tuple, specs: dict):
    """The page's cards in a grid: two columns at 1366 px and wider, one on a small laptop."""
    with solara.Div(classes=["chart-grid"],
                    style="display: grid; grid-template-columns: repeat(auto-fit, "
                          "minmax(min(100%, 420px), 1fr)); gap: 10px; align-items: stretch"):
        for title, key in cards:
            ChartCard(title, specs[key], EXPLAIN[key])


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


@solara.component
def Navigation():
    """Tabs in the app bar between the pages, named for the room."""
    path = solara.use_router().path.strip("/")
    shown = [route for route in routes if route.label]
    paths = [route.path.strip("/") for route in shown]
    index = paths.index(path) if path in paths else 0
    solara.AppBarTitle(TITLE)
    with solara.AppBar():
        with solara.lab.Tabs(value=index, align="center"):
            for route in shown:
                solara.lab.Tab(route.label, path_or_route="/" + route.path.strip("/"))


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


# ------------------------------------------------------------------------------ compare page
def _recent(frame: pd.DataFrame, column: str, weeks: int = 13) -> float:
    return float(frame[column].tail(weeks).mean()) if not frame.empty else float("nan")


def _money(dollars: float) -> str:
    """Dollars in the room's words: $0.99M, $120k, $950."""
    size = abs(dollars)
    sign = "-" if dollars < 0 else ""
    if size >= 1e6:
        return f"{sign}${size / 1e6:.2f}M"
    if size >= 1e4:
        return f"{sign}${size / 1e3:.0f}k"
    return f"{sign}${size:,.0f}"


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
            f"{_money(profit[lead] - profit[second])}{joint}{churn_text}")
    for other in order[2:]:
        text += (f"; {names[other]} is {_money(profit[lead] - profit[other])} behind "
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
    events = ui_charts.event_rows(compare_markers(model))
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
        "profit": ui_charts.compare_lines(
            relative, "ahead", f"Cumulative profit vs {model.labels[0]} ($)", horizon,
            "$,.0f", events=events),
        "arm_churn": ui_charts.compare_lines(churn, "churn_13", "Churn (%/yr, 13-wk avg)",
                                             horizon, ".1f", events=events),
        "arm_engagement": ui_charts.compare_lines(frames, "employee_engagement",
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


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    """The app's layout, remounted (sidebar included) for each page and each preset.

    Mesa's controls take their starting values only when they mount, and they live in the
    sidebar, which the layout keeps across renders by position: without a remount a new preset
    (or the other page's SolaraViz) would inherit the previous controls' state.
    """
    page = solara.use_router().path
    # The pages draw their own tabs (Navigation); a participant's page has none, and no
    # automatic ones either.
    participant = page.strip("/") == "play"
    return solara.AppLayout(children=children, navigation=not participant).key(
        f"layout-{page}-{preset_label.value}")


routes = [
    # The root route's layout wraps every page (Solara ignores a module-level Layout once the
    # module defines routes).
    solara.Route(path="/", component=StoreView, label="Store view", layout=Layout),
    solara.Route(path="compare", component=CompareView, label="Compare arms"),
    # Game mode: the facilitator's tab shows only with `loyalty-sim ui --game`; participants
    # open /play from the join address.
    solara.Route(path="game", component=game_view.GameFacilitator,
                 label="Game" if game_view.game_enabled() else ""),
    solara.Route(path="play", component=game_view.GamePlayer, label=""),
]


def _served_by_solara_run() -> bool:
    """True when this module was loaded by `solara run` (not by tests or an import)."""
    program = sys.argv[0] if sys.argv else ""
    return Path(program).name == "solara" or program.endswith(os.path.join("solara",
                                                                            "__main__.py"))


# The "This website runs on Solara" badge would cover the bottom-right corner of the charts.
solara.server.settings.theme.show_banner = False

if _served_by_solara_run():
    # `solara run sim/ui/app.py` directly: make sure the page's web assets are there (no-op after
    # the first time; `loyalty-sim ui` has done it already).
    try:
        ensure_web_assets(echo=print)
    except WebAssetsError as err:
        print(f"warning: {err}", file=sys.stderr)
