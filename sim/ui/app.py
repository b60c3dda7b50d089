"""The workshop view: `solara run sim/ui/app.py` (or `loyalty-sim ui`).

Two pages, each a Mesa SolaraViz with its own Play / Step / Reset and seed box:
- Store view ("/"): the levers in the sidebar, a preset selector that loads an arm of any
  shipped scenario, the store map, the quadrant scatter of stores and the live charts.
- Compare arms ("/compare"): two arms on the same seed, side by side, with the gap in profit and
  churn as they run.
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import pandas as pd
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.ui import charts as ui_charts
from sim.ui.assets import WebAssetsError, ensure_web_assets
from sim.ui.vega import VegaChart
from sim.ui.workshop import (
    MODEL_DEFAULTS,
    RENDER_INTERVAL_ENV,
    ArmsComparison,
    Preset,
    WorkshopModel,
    changed_parameters,
    default_arms,
    load_presets,
    model_params,
    parameters_of,
    preset_problems,
    recommended_render_interval,
)

TITLE = "Loyalty simulation"
EXPLANATION_WIDTH = "210px"

# The preset the store view shows (one per browser session: solara scopes it to the kernel).
preset_label = solara.reactive(MODEL_DEFAULTS)

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
"""

EXPLAIN = {
    "map": (
        "Each square is a store, placed on its tile. **Colour**: how engaged its staff and "
        "customers are (red low, green high). **Size**: its revenue last week. Hover a store "
        "for its figures. Stores with a strong supervisor turn green first."),
    "quadrant": (
        "Each dot is a store: staff engagement across, customer engagement up; the dashed "
        "lines are the chain's medians. Stores where **both** are high (top right) earn the "
        "most: engaged staff make engaged customers."),
    "customers": (
        "**Customers** still with the chain (blue) and the **churn** rate (red: share lost per "
        "year, averaged over 4 weeks). Churn rises first when service slips; the customer "
        "count follows slowly. Grey band: the crisis."),
    "money": (
        "**Revenue** and **profit** per week in dollars, for the whole chain. Coaching and "
        "HR programmes cost money now; their pay-off comes later through loyal customers. "
        "With an HR programme, profit dips in the weeks a programme round is paid."),
    "staff": (
        "**Employee engagement** (green, 0-1 score) and **staff turnover** (purple: quits "
        "per year as a share of staff, 13-week average). Engaged staff stay; every quit "
        "costs hiring and a new, less skilled colleague."),
    "segments": (
        "Customers by how attached they are, as a share of all customers. **Fully engaged** "
        "customers visit more, spend more and bring friends; **actively disengaged** ones "
        "leave and put others off."),
    "summary": (
        "Both arms run on the **same seed**: the same stores, staff and customers, so the "
        "gap comes from the policy. One run only: for 95% intervals over replications use "
        "`loyalty-sim run` on the scenario file."),
    "gap": (
        "The running gap, arm B minus arm A: **cumulative profit** (blue, dollars since "
        "week 0) and **churn** (orange, percentage points per year, 13-week average). Above "
        "zero on profit means B earned more so far."),
    "profit": (
        "Cumulative profit of each arm since week 0, in dollars. Policies that invest in "
        "people start behind and should catch up as loyalty builds."),
    "churn": (
        "Churn of each arm (share of customers lost per year, 4-week average). The arm that "
        "keeps staff engaged should lose fewer customers."),
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
def Explanation(text: str, width: str = EXPLANATION_WIDTH):
    solara.HTML(tag="div", unsafe_innerHTML=_rich(text),
                style=f"width: {width}; min-width: 160px; font-size: 15px; line-height: 1.4; "
                      "color: #333")


@solara.component
def LiveChart(model, build, week: int):
    """The part of a card redrawn each week: `build(model)` gives the chart's spec."""
    VegaChart(build(model))


@solara.component
def ChartCard(title: str, model, build, explanation: str, week: int):
    """A live chart with its plain-language explanation beside it."""
    with solara.Card(title, style={"height": "100%", "overflow": "auto"}):
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
            LiveChart(model, build, week)
            Explanation(explanation)


# ------------------------------------------------------------------------------- store view
def _customers(model):
    return ui_charts.customers_and_churn(ui_charts.weekly(model), model.horizon_weeks)


def _money(model):
    return ui_charts.revenue_and_profit(ui_charts.weekly(model), model.horizon_weeks)


def _staff(model):
    return ui_charts.engagement_and_turnover(ui_charts.weekly(model), model.horizon_weeks)


def _segments(model):
    return ui_charts.segment_shares(ui_charts.weekly(model), model.horizon_weeks)


STORE_CARDS = (
    ("Store map", ui_charts.store_map, EXPLAIN["map"]),
    ("Staff vs customer engagement by store", ui_charts.quadrant, EXPLAIN["quadrant"]),
    ("Customers and churn", _customers, EXPLAIN["customers"]),
    ("Revenue and profit", _money, EXPLAIN["money"]),
    ("Employee engagement and turnover", _staff, EXPLAIN["staff"]),
    ("Customer engagement segments", _segments, EXPLAIN["segments"]),
)


@solara.component
def RunStatus(model):
    """What the room is looking at: week, seed, preset, levers; and any notice."""
    update_counter.get()
    levers = parameters_of(model)
    week = model.week + 1
    if model.steps == 0:
        solara.Text("Not started: press Step or \u25b6 (play).")
    else:
        state = "finished" if not model.running else "running"
        solara.Text(f"Week {week} of {model.horizon_weeks} ({state})")
    solara.Text(f"Seed {model.seed} \u00b7 {model.n_stores} stores \u00b7 preset: {model.preset}")
    summary = (f"coaching {levers['coaching_hours']:g} h/wk ({levers['coaching_targeting']}), "
               f"HR ${levers['hr_budget']:,.0f}/employee/yr, staffing {levers['staffing_rule']}, "
               f"{levers['service_policy']}, transparency {levers['transparency']:g}")
    solara.Text(summary, style={"font-size": "13px", "color": "#444"})
    events = model.scheduled
    if events:
        solara.Text("Events: " + "; ".join(_event_text(e) for e in events),
                    style={"font-size": "13px", "color": "#444"})
    if model.notice:
        solara.Warning(model.notice, dense=True)
    interval = recommended_render_interval(model.n_stores)
    if interval > 1:
        solara.Info(f"{model.n_stores} stores: set Render Interval to {interval} or more for a "
                    "smooth play.", dense=True)


def _event_text(spec: dict) -> str:
    from sim.studies.labels import event_words

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
        solara.Text(preset.description, style={"font-size": "13px"})
        changes = changed_parameters(preset)
        if changes:
            solara.Text("Sets " + ", ".join(f"{k}={v}" for k, v in changes.items()),
                        style={"font-size": "13px", "color": "#444"})
        for problem in problems:
            solara.Warning(f"left out {problem}", dense=True)


@solara.component
def Navigation():
    """Tabs in the app bar between the two pages, named for the room."""
    path = solara.use_router().path.strip("/")
    paths = [route.path.strip("/") for route in routes]
    index = paths.index(path) if path in paths else 0
    with solara.AppBar():
        with solara.lab.Tabs(value=index, align="center"):
            for route in routes:
                solara.lab.Tab(route.label, path_or_route="/" + route.path.strip("/"))


@solara.component
def Dashboard(cards: tuple, model):
    """The page's cards in a grid that keeps two columns on a projector and one on a laptop.

    The grid, not each chart, listens to Mesa's redraw counter: every listener costs a render
    pass over the whole page, so one listener for six charts keeps a step's redraw short.
    """
    tick = update_counter.get()
    with solara.Div(style="display: grid; grid-template-columns: repeat(auto-fit, "
                          "minmax(660px, 1fr)); gap: 12px; align-items: stretch"):
        for title, build, explanation in cards:
            ChartCard(title, model, build, explanation, tick)


@solara.component
def StoreViz(preset: Preset):
    """The store view for one preset: Mesa's SolaraViz (controls, Play / Step / Reset, seed box)
    and the cards. Mounted afresh for each preset, so every control starts at its values."""
    initial = solara.use_memo(lambda: WorkshopModel(**preset.settings()), [])
    model = solara.use_reactive(initial)
    params = solara.use_memo(lambda: model_params(preset), [])
    env_interval = os.environ.get(RENDER_INTERVAL_ENV, "")
    render_interval = (int(env_interval) if env_interval.isdigit() and int(env_interval) > 0
                       else recommended_render_interval(initial.n_stores))
    with solara.Sidebar():
        with solara.Card("This run"):
            RunStatus(model.value)
    # SolaraViz's own draggable grid does not load under Vue 3, so it gets no components and
    # the cards are laid out by Dashboard.
    SolaraViz(model, components=[], model_params=params, name=f"{TITLE} - store view",
              render_interval=render_interval)
    Dashboard(STORE_CARDS, model.value)


@solara.component
def StoreView():
    presets = load_presets()
    preset = presets.get(preset_label.value, presets[MODEL_DEFAULTS])
    solara.Style(PAGE_CSS)
    Navigation()
    with solara.Sidebar():
        PresetCard()
    StoreViz(preset).key(f"store-view-{preset.label}")


# ------------------------------------------------------------------------------ compare page
def _recent(frame: pd.DataFrame, column: str, weeks: int = 13) -> float:
    return float(frame[column].tail(weeks).mean()) if not frame.empty else float("nan")


@solara.component
def ArmsSummary(model):
    update_counter.get()
    frames = [ui_charts.weekly(arm) for arm in model.arms]
    with solara.Card(f"Side by side - week {model.week + 1}, seed {model.seed}",
                     style={"height": "100%", "overflow": "auto"}):
        with solara.Row(style={"flex-wrap": "nowrap", "align-items": "flex-start"}):
            for tag, label, frame, colour in zip("AB", model.labels, frames,
                                                 ui_charts.ARM_COLOURS, strict=True):
                with solara.Column(style={"min-width": "220px", "flex": "1"}):
                    solara.HTML(tag="div", unsafe_innerHTML=(
                        f"<b style='color:{colour};font-size:20px'>{tag}: "
                        f"{html.escape(label)}</b>"))
                    _figures(frame)
            with solara.Column(style={"min-width": "220px", "flex": "1"}):
                solara.HTML(tag="div",
                            unsafe_innerHTML="<b style='font-size:20px'>Gap (B - A)</b>")
                _gap_figures(frames)
            Explanation(EXPLAIN["summary"])
        if model.notice:
            solara.Warning(model.notice, dense=True)


def _figures(frame: pd.DataFrame) -> None:
    if frame.empty:
        solara.Text("not started")
        return
    last = frame.iloc[-1]
    rows = [
        ("Customers", f"{last['active_customers']:,.0f}"),
        ("Churn (last 13 wk)", f"{_recent(frame, 'churn_rate_annual_pct'):.1f} %/yr"),
        ("Profit (last 13 wk)", f"${_recent(frame, 'profit'):,.0f} /wk"),
        ("Cumulative profit", f"${last['cumulative_profit']:,.0f}"),
        ("Employee engagement", f"{last['employee_engagement']:.2f} (0-1)"),
    ]
    _figure_list(rows)


def _gap_figures(frames: list[pd.DataFrame]) -> None:
    a, b = frames
    if a.empty or b.empty:
        solara.Text("not started")
        return
    weeks = min(len(a), len(b))
    profit_gap = b["profit"].iloc[:weeks].sum() - a["profit"].iloc[:weeks].sum()
    churn_gap = (_recent(b.iloc[:weeks], "churn_rate_annual_pct")
                 - _recent(a.iloc[:weeks], "churn_rate_annual_pct"))
    customers_gap = b["active_customers"].iloc[weeks - 1] - a["active_customers"].iloc[weeks - 1]
    rows = [
        ("Cumulative profit", f"{'+' if profit_gap >= 0 else '-'}${abs(profit_gap):,.0f}"),
        ("Churn (last 13 wk)", f"{churn_gap:+.1f} points (%/yr)"),
        ("Customers", f"{customers_gap:+,.0f}"),
    ]
    _figure_list(rows)


def _figure_list(rows: list[tuple[str, str]]) -> None:
    items = "".join(f"<li>{html.escape(k)}: <b>{html.escape(v)}</b></li>" for k, v in rows)
    solara.HTML(tag="ul", unsafe_innerHTML=items, style="font-size: 16px")


def gap_frame(model: ArmsComparison) -> pd.DataFrame:
    """Week by week, arm B minus arm A: cumulative profit ($) and 13-week churn (points)."""
    a, b = (ui_charts.weekly(arm) for arm in model.arms)
    weeks = min(len(a), len(b))
    if weeks == 0:
        return pd.DataFrame(columns=["week", "profit_gap", "churn_gap"])
    a, b = a.iloc[:weeks], b.iloc[:weeks]
    churn = [f["churn_rate_annual_pct"].rolling(13, 1).mean().to_numpy() for f in (a, b)]
    return pd.DataFrame({
        "week": a["week"].to_numpy(),
        "profit_gap": b["cumulative_profit"].to_numpy() - a["cumulative_profit"].to_numpy(),
        "churn_gap": churn[1] - churn[0],
    })


def _arm_frames(model: ArmsComparison) -> dict[str, pd.DataFrame]:
    return {f"{tag}: {label}": ui_charts.weekly(arm)
            for tag, label, arm in zip("AB", model.labels, model.arms, strict=True)}


def _gap(model):
    return ui_charts.gap_chart(gap_frame(model), model.horizon_weeks)


def _arm_profit(model):
    return ui_charts.compare_lines(_arm_frames(model), "cumulative_profit",
                                   "Cumulative profit ($)", model.horizon_weeks, "$,.0f")


def _arm_churn(model):
    return ui_charts.compare_lines(_arm_frames(model), "churn_avg",
                                   "Churn (%/yr, 4-week average)", model.horizon_weeks)


COMPARE_CARDS = (
    ("The gap as it builds", _gap, EXPLAIN["gap"]),
    ("Profit", _arm_profit, EXPLAIN["profit"]),
    ("Churn", _arm_churn, EXPLAIN["churn"]),
)


@solara.component
def CompareView():
    presets = load_presets()
    arm_a, arm_b = default_arms(presets)
    # Opens on arm A's scenario seed, as the store view does for a preset.
    initial = solara.use_memo(lambda: ArmsComparison(rng=str(presets[arm_a].seed), arm_a=arm_a,
                                                     arm_b=arm_b), [])
    labels = list(presets)
    params = {
        "rng": {"type": "InputText", "value": str(initial.seed),
                "label": "Seed (a whole number; both arms use it)"},
        "arm_a": {"type": "Select", "value": arm_a, "values": labels, "label": "Arm A"},
        "arm_b": {"type": "Select", "value": arm_b, "values": labels, "label": "Arm B"},
    }
    model = solara.use_reactive(initial)
    solara.Style(PAGE_CSS)
    Navigation()
    with solara.Sidebar():
        with solara.Card("How to use"):
            Explanation("Pick two arms, press **Reset** to load them, then **\u25b6** (play). "
                        "Both run on the same seed.", width="100%")
    SolaraViz(model, components=[], model_params=params, name=f"{TITLE} - compare arms")
    with solara.Column(style="gap: 12px"):
        ArmsSummary(model.value)
        Dashboard(COMPARE_CARDS, model.value)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    """The app's layout, remounted (sidebar included) for each page and each preset.

    Mesa's controls take their starting values only when they mount, and they live in the
    sidebar, which the layout keeps across renders by position: without a remount a new preset
    (or the other page's SolaraViz) would inherit the previous controls' state.
    """
    page = solara.use_router().path
    return solara.AppLayout(children=children).key(f"layout-{page}-{preset_label.value}")


routes = [
    # The root route's layout wraps every page (Solara ignores a module-level Layout once the
    # module defines routes).
    solara.Route(path="/", component=StoreView, label="Store view", layout=Layout),
    solara.Route(path="compare", component=CompareView, label="Compare arms"),
]


def _served_by_solara_run() -> bool:
    """True when this module was loaded by `solara run` (not by tests or an import)."""
    program = sys.argv[0] if sys.argv else ""
    return Path(program).name == "solara" or program.endswith(os.path.join("solara",
                                                                            "__main__.py"))


if _served_by_solara_run():
    # `solara run sim/ui/app.py` directly: make sure the page's web assets are there (no-op after
    # the first time; `loyalty-sim ui` has done it already).
    try:
        ensure_web_assets(echo=print)
    except WebAssetsError as err:
        print(f"warning: {err}", file=sys.stderr)
