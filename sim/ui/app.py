"""The workshop view: `solara run sim/ui/app.py` (or `loyalty-sim ui`).

Made for a projector. Two pages, each with Mesa's model controller (Reset / Play / Step) and
model creator (the levers), a plain speed control and big key figures:
- Store view ("/", `sim.ui.store_view`): the levers in the sidebar, a preset selector that loads
  an arm of any shipped scenario with its story (question, what to watch, what to try next), the
  store map, the quadrant of stores and the live charts, a week slider to look back, and exports.
- Compare arms ("/compare", `sim.ui.compare_view`): up to three arms on the same seed, side by
  side, with a headline sentence saying which is ahead and by how much, and a button that runs
  them to the end.
Game mode (`loyalty-sim ui --game`) adds the pages of sim.ui.game. The pieces the pages share
are in `sim.ui.widgets`; this module holds the routes and the layout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import solara
import solara.server.settings

from sim.ui import game_view
from sim.ui.assets import WebAssetsError, ensure_web_assets
from sim.ui.compare_view import CompareView
from sim.ui.store_view import StoreView, preset_label


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
