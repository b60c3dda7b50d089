"""Game mode's pages (`loyalty-sim ui --game`): the facilitator's ("/game") and the
participants' ("/play"). The game itself is sim.ui.game.

Every page watches the one game of the server: a thread per page looks at the game's version a
few times a second and redraws the page when another browser session changed it.
"""

from __future__ import annotations

import html
import os

import pandas as pd
import solara

from sim.studies.labels import choice_label
from sim.ui import charts as ui_charts
from sim.ui.game import (
    GAME_ENV,
    GAME_SETTINGS_ENV,
    HR_BUDGET_PER_EMPLOYEE,
    JOIN_URL_ENV,
    MAX_COACHING_HOURS,
    STAFFING_LABELS,
    Decision,
    GameError,
    GameSession,
    current_session,
    new_session,
)
from sim.ui.vega import VegaChart
from sim.ui.widgets import PAGE_CSS, Navigation

POLL_S = 0.25
LOCAL_KEY = "local"  # the player key outside a browser session (tests)

GAME_CSS = """
.game-big { font-size: 40px; font-weight: 700; letter-spacing: 4px; }
.game-table { font-size: 18px; border-collapse: collapse; }
.game-table td, .game-table th { padding: 3px 12px 3px 0; text-align: left; }
.game-table tr.mine { background: #fff3cd; }
"""


def game_enabled() -> bool:
    return os.environ.get(GAME_ENV, "") == "1"


def session_settings() -> dict[str, int]:
    """The game's settings that `loyalty-sim ui --game` handed to the server."""
    settings = {}
    for name, variable in GAME_SETTINGS_ENV.items():
        value = os.environ.get(variable, "")
        if value.isdigit():
            settings[name] = int(value)
    return settings


def game() -> GameSession:
    return current_session(**session_settings())


def use_game():
    """The server's game, a function that redraws the calling page at once, and the game's
    version; the page also redraws whenever any session changes the game.

    Child components take the version as an argument: a component whose arguments did not
    change is not drawn again.
    """
    seen = solara.use_ref(game().version)
    version, set_version = solara.use_state(seen.current)

    def refresh() -> None:
        seen.current = game().version
        set_version(seen.current)

    def watch(cancel):
        while not cancel.wait(POLL_S):
            if game().version != seen.current:
                refresh()

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    return game(), refresh, version


def browser_key() -> str:
    """Who this browser is: Solara's session cookie survives a reload, so a participant who
    reloads finds their store again."""
    try:
        return solara.get_session_id()
    except Exception:  # no browser session (solara.render in tests)
        return LOCAL_KEY


def _num(value: float, spec: str) -> str:
    """A figure, or '-' before the first quarter."""
    return "-" if pd.isna(value) else format(value, spec)


def _money(dollars: float) -> str:
    sign = "-" if dollars < 0 else ""
    return f"{sign}${abs(dollars):,.0f}"


def _table(header: list[str], rows: list[list[str]], mine: int | None = None,
           classes: str = "game-table") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = ""
    for row in rows:
        attr = " class='mine'" if mine is not None and row[0] == str(mine) else ""
        body += f"<tr{attr}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
    return f"<table class='{classes}'><tr>{head}</tr>{body}</table>"


@solara.component
def Leaderboard(session: GameSession, version: int, mine: int | None = None):
    board = session.leaderboard()
    rows = [[str(r.store), r.player, _money(r.cumulative_profit),
             "-" if pd.isna(r.churn_rate) else f"{r.churn_rate:.1f}",
             _num(r.employee_engagement, ".2f"), _num(r.customer_engagement, ".2f")]
            for r in board.itertuples()]
    with solara.Card("Leaderboard"):
        solara.HTML(tag="div", unsafe_innerHTML=_table(
            ["Store", "Run by", "Profit so far", "Churn %/yr", "Staff eng.", "Cust. eng."],
            rows, mine), classes=["leaderboard"])
        solara.Text("Profit: cumulative since the game started. Churn: last quarter's "
                    "average. Engagement: 0-1 scores.", style={"font-size": "15px"})


def _round_text(session: GameSession) -> str:
    if session.finished:
        return f"Game over: {session.rounds} quarters played"
    return f"Quarter {session.round + 1} of {session.rounds}"


# ---------------------------------------------------------------------------- facilitator
@solara.component
def GameFacilitator():
    """The facilitator's screen: join address and code, who runs which store, the quarter's
    progress, the leaderboard and, at the end, the debrief."""
    session, refresh, version = use_game()
    error = solara.use_reactive("")
    solara.Style(PAGE_CSS + GAME_CSS)
    Navigation()
    join_url = os.environ.get(JOIN_URL_ENV, "/play")
    owners = session.owners()
    decided = session.decided()

    def advance():
        try:
            session.advance()
            error.set("")
        except GameError as err:
            error.set(str(err))
        refresh()

    def restart():
        new_session(**session_settings())
        refresh()

    with solara.Sidebar():
        with solara.Card("Join the game"):
            solara.Text("Open on your laptop or phone:", style={"font-size": "16px"})
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(join_url),
                        style="font-size: 22px; font-weight: 600; word-break: break-all")
            solara.Text("Code:", style={"font-size": "16px"})
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(session.code),
                        classes=["game-big", "join-code"])
            solara.Text(f"{session.n_stores} stores, {session.rounds} quarters of 13 weeks, "
                        f"budget ${session.budget:,.0f} a quarter per store.",
                        style={"font-size": "15px"})
        with solara.Card("Facilitator"):
            solara.Button("New game", on_click=restart, outlined=True)

    with solara.Card():
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "16px"}):
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(_round_text(session)),
                        classes=["round-status"], style="font-size: 28px; font-weight: 600")
            run = sorted(owners)
            if not session.finished:
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(
                    f"{len(decided & set(run))} of {len(run)} stores with players have "
                    "decided"), classes=["decided-count"], style="font-size: 20px")
                solara.Button("Play the quarter", color="primary", on_click=advance)
        if error.value:
            solara.Error(error.value)
        solara.Text("Stores nobody runs follow the company default (half an hour of "
                    "coaching, no recognition, front line at random, no HR programme); a "
                    "store whose players have not decided keeps its last decision.",
                    style={"font-size": "15px"})
    table = session.store_table()
    with solara.Div(style="display: grid; grid-template-columns: repeat(auto-fit, "
                          "minmax(min(100%, 420px), 1fr)); gap: 10px"):
        with solara.Card("Who runs which store"):
            VegaChart(ui_charts.store_map_of(table, session.typical_revenue()))
            rows = [[str(r.store), r.player,
                     "decided" if r.store in decided else (
                         "-" if r.store not in owners or session.finished else "thinking"),
                     r.decision] for r in table.itertuples()]
            solara.HTML(tag="div", unsafe_innerHTML=_table(
                ["Store", "Run by", "This quarter", "Policy in force"], rows),
                classes=["who-runs"], style="font-size: 16px")
        Leaderboard(session, version)
    if session.finished:
        Debrief(session, table)


@solara.component
def Debrief(session: GameSession, table: pd.DataFrame):
    """Which decisions paid, and the chain's quadrant."""
    paid = session.debrief()
    rows = []
    for r in paid.itertuples(index=False):
        rows.append([r[0], str(r[1]), "-" if pd.isna(r[2]) else _money(r[2]), str(r[3]),
                     "-" if pd.isna(r[4]) else _money(r[4])])
    best = table.sort_values("gain", ascending=False).iloc[0]
    with solara.Card("Debrief: which decisions paid"):
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(
            f"Store {best.store} ({best.player}) gained most over its twin run with the "
            f"company default: {_money(best.gain)} of profit."),
            classes=["debrief-headline"], style="font-size: 22px; font-weight: 600")
        with solara.Div(style="display: grid; grid-template-columns: repeat(auto-fit, "
                              "minmax(min(100%, 420px), 1fr)); gap: 10px"):
            with solara.Div():
                solara.HTML(tag="div", unsafe_innerHTML=_table(
                    ["Lever (used in half the quarters or more)", "Stores", "Gain, using",
                     "Stores not", "Gain, not"], rows), classes=["debrief-table"])
                solara.Text("Gain: a store's profit minus that of its twin, the same store on "
                            "the same seed under the company default. One game of a few "
                            "stores: a pointer for discussion, not an estimate; "
                            "loyalty-sim run gives intervals over replications.",
                            style={"font-size": "15px"})
            with solara.Div(classes=["loyalty-chart"]):
                VegaChart(ui_charts.quadrant_of(table, session.typical_revenue()))


# ---------------------------------------------------------------------------- participant
@solara.component
def GamePlayer():
    """A participant's page: join a store, then decide each quarter and see the figures."""
    session, refresh, version = use_game()
    key = browser_key()
    solara.Style(PAGE_CSS + GAME_CSS)
    solara.AppBarTitle("Loyalty game")
    player = session.player(key)
    if player is None:
        JoinForm(session, key, refresh, version)
        return
    store = player.store
    row = session.store_table().set_index("store").loc[store]
    with solara.Card(f"Store {store} \u00b7 {player.name}"):
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(_round_text(session)),
                    classes=["round-status"], style="font-size: 24px; font-weight: 600")
        figures = [("Profit so far", _money(row.cumulative_profit)),
                   ("Churn %/yr", "-" if pd.isna(row.churn_rate) else f"{row.churn_rate:.1f}"),
                   ("Staff engagement", _num(row.employee_engagement, ".2f")),
                   ("Customer engagement", _num(row.customer_engagement, ".2f")),
                   ("Customers", _num(row.customers, ",.0f"))]
        cells = "".join(f"<div class='key-figure'><div class='label'>{html.escape(k)}</div>"
                        f"<div class='value'>{html.escape(v)}</div></div>" for k, v in figures)
        solara.HTML(tag="div", unsafe_innerHTML=cells, classes=["my-figures"],
                    style="display: flex; flex-wrap: wrap; gap: 8px")
        solara.Text(f"In force: {row.decision}", style={"font-size": "16px"})
    if not session.finished:
        DecisionForm(session, key, store, refresh, version).key(
            f"decision-{store}-{session.round}")
    Leaderboard(session, version, mine=store)


@solara.component
def JoinForm(session: GameSession, key: str, refresh, version: int):
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    owners = session.owners()
    choices = [f"Store {s}" + (f" (team: {', '.join(owners[s])})" if s in owners else " (free)")
               for s in range(1, session.n_stores + 1)]
    free = [c for c in choices if c.endswith("(free)")]
    store = solara.use_reactive(free[0] if free else choices[0])
    error = solara.use_reactive("")

    def join():
        try:
            number = int(store.value.split()[1])
            session.join(key, name.value, number, code.value)
        except GameError as err:
            error.set(str(err))
        refresh()

    with solara.Card("Join the game"):
        solara.InputText("Code on the screen", value=code, continuous_update=True)
        solara.InputText("Your name (or your team's)", value=name, continuous_update=True)
        solara.Select("Store", value=store, values=choices)
        solara.Button("Join", color="primary", on_click=join)
        if error.value:
            solara.Error(error.value)


@solara.component
def DecisionForm(session: GameSession, key: str, store: int, refresh, version: int):
    start = session.decision_for(store)
    coaching = solara.use_reactive(start.coaching_hours)
    recognition = solara.use_reactive(start.recognition)
    staffing = solara.use_reactive(choice_label("staffing_rule", start.staffing_rule))
    hr = solara.use_reactive(start.hr_programme)
    message = solara.use_reactive("")
    decision = Decision.from_form(coaching.value, recognition.value, staffing.value, hr.value)
    cost = decision.quarter_cost(session.stores[store - 1])
    submitted = store in session.decided()

    def submit():
        try:
            session.decide(key, decision)
            message.set("")
        except GameError as err:
            message.set(str(err))
        refresh()

    with solara.Card(f"Your decision for quarter {session.round + 1}"):
        solara.SliderFloat("Supervisor coaching (hours a week)", value=coaching, min=0.0,
                           max=MAX_COACHING_HOURS, step=0.5, thumb_label="always")
        solara.SliderFloat("Front-line recognition (0 = none, 1 = full)", value=recognition,
                           min=0.0, max=1.0, step=0.25, thumb_label="always")
        solara.Select("Who works the front line", value=staffing, values=list(STAFFING_LABELS))
        solara.Checkbox(label="Join the company HR programme "
                        f"(${HR_BUDGET_PER_EMPLOYEE:,.0f} per employee a year)",
                        value=hr)
        over = cost > session.budget
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(
            f"Cost: ${cost:,.0f} of ${session.budget:,.0f} this quarter"
            + (" - over budget" if over else "")),
            classes=["decision-cost"],
            style=f"font-size: 18px; color: {'#b00020' if over else '#1a7f37'}")
        solara.Button("Submit decision", color="primary", on_click=submit, disabled=over)
        if message.value:
            solara.Error(message.value)
        elif submitted:
            solara.Success("Your decision is in: wait for the facilitator to play the quarter "
                           "(you can still change it).", classes=["decision-in"])
