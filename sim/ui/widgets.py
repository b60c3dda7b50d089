"""The pieces every page of the workshop view shares: the page's CSS, plain-language
explanations, chart cards in a grid, the run controls, the cue for changed levers and the tabs
between the pages."""

from __future__ import annotations

import html
import re

import solara
from mesa.visualization.solara_viz import ModelController

from sim.ui.vega import VegaChart
from sim.ui.workshop import CONTROLS

TITLE = "Loyalty simulation"

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


@solara.component
def Dashboard(cards: tuple, specs: dict):
    """The page's cards in a grid: two columns at 1366 px and wider, one on a small laptop."""
    with solara.Div(classes=["chart-grid"],
                    style="display: grid; grid-template-columns: repeat(auto-fit, "
                          "minmax(min(100%, 420px), 1fr)); gap: 10px; align-items: stretch"):
        for title, key in cards:
            ChartCard(title, specs[key], EXPLAIN[key])


@solara.component
def Navigation():
    """Tabs in the app bar between the pages, named for the room."""
    from sim.ui.app import routes  # the app imports the pages, so its routes are read here

    path = solara.use_router().path.strip("/")
    shown = [route for route in routes if route.label]
    paths = [route.path.strip("/") for route in shown]
    index = paths.index(path) if path in paths else 0
    solara.AppBarTitle(TITLE)
    with solara.AppBar():
        with solara.lab.Tabs(value=index, align="center"):
            for route in shown:
                solara.lab.Tab(route.label, path_or_route="/" + route.path.strip("/"))


def money_text(dollars: float) -> str:
    """Dollars in the room's words: $0.99M, $120k, $950."""
    size = abs(dollars)
    sign = "-" if dollars < 0 else ""
    if size >= 1e6:
        return f"{sign}${size / 1e6:.2f}M"
    if size >= 1e4:
        return f"{sign}${size / 1e3:.0f}k"
    return f"{sign}${size:,.0f}"
