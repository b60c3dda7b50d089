"""Charts of the workshop view as Vega-Lite specs, built with Altair from a model's read-outs
(no Solara here): the read-outs, the spec helpers every chart uses, and the store map and the
quadrant of stores. The charts over time are in `sim.ui.time_charts`.

Each chart is authored with Altair against named data sets, and the rows are put into the spec's
`datasets` afterwards: Altair copies, sanitises and hashes inline data on every build, which made
a redraw of the six charts take a quarter of a second; this way it takes a few milliseconds.

Made for a projector: every chart has one y axis, text of at least 16 px, and fills the width
of its card.
"""

from __future__ import annotations

import copy
import functools
import math
import weakref
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from sim.model import LoyaltyModel

CHART_HEIGHT = 260
MAP_WIDTH = 290
FONT_PX = 16  # smallest text on a chart: readable from the back of a room (issue 12)
CHURN_WINDOW = 4  # weeks
TURNOVER_WINDOW = 13  # weeks (a quarter: quits of ~300 staff are rare events week to week)
ENGAGEMENT_DOMAIN = (0.2, 0.85)  # 0-1 scores; fixed so the colours mean the same all run
ENGAGEMENT_SCHEME = "redyellowgreen"
SEGMENTS = {
    "customers_fully_engaged_share": ("Fully engaged", "#1a7f37"),
    "customers_engaged_share": ("Engaged", "#8cc084"),
    "customers_not_engaged_share": ("Not engaged", "#f2c14e"),
    "customers_actively_disengaged_share": ("Actively disengaged", "#c0392b"),
}
ARM_COLOURS = ("#1f77b4", "#e67e22", "#2ca02c", "#8e44ad", "#7f7f7f")
STAFF_COLOUR, CUSTOMER_COLOUR = "#1a7f37", "#1f77b4"
VIEWING_COLOUR = "#d62728"  # the week looked back at
CONFIG = {
    "axis": {"labelFontSize": FONT_PX, "titleFontSize": FONT_PX, "titleFontWeight": "normal"},
    "legend": {"labelFontSize": FONT_PX, "titleFontSize": FONT_PX, "symbolSize": 160},
    "text": {"fontSize": FONT_PX},
    "view": {"stroke": None},
}


Spec = dict[str, Any]


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready records (missing values become null).

    Built from plain lists: pandas' own conversion took most of a redraw's server time.
    """
    columns = list(frame.columns) if columns is None else columns
    lists = [[None if isinstance(x, float) and x != x else x for x in frame[c].tolist()]
             for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*lists, strict=True)]


def long_rows(frame: pd.DataFrame, columns: list[str], names: list[str],
              value: str = "value") -> pd.DataFrame:
    """Weekly columns stacked into (week, series, value) rows (a quick melt)."""
    weeks = frame["week"].to_numpy()
    return pd.DataFrame({
        "week": np.tile(weeks, len(columns)),
        "series": np.repeat(names, len(weeks)),
        "column": np.repeat(columns, len(weeks)),
        value: np.concatenate([frame[c].to_numpy(dtype=float) for c in columns])
        if columns else np.array([]),
    })


def cached_template(build=None, *, fill_width: bool = True):
    """Memoise a function that builds an Altair chart from its static settings into a
    Vega-Lite dict; callers get a fresh copy to fill in (building costs ~10 ms, copying ~0.2).

    The template gets the projector's font sizes and, with `fill_width`, the width of its card.
    """
    if build is None:
        return functools.partial(cached_template, fill_width=fill_width)

    @functools.lru_cache(maxsize=128)
    def template(*key):
        spec = build(*key).to_dict(validate=False)
        # The page's Vega-Lite is version 5; Altair writes a version 6 $schema, which would make
        # Vega-Embed warn on every draw. The specs use nothing version 5 lacks.
        spec.pop("$schema", None)
        spec["config"] = copy.deepcopy(CONFIG)
        if fill_width:
            spec["width"] = "container"
            spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        return spec

    @functools.wraps(build)
    def fresh(*key) -> Spec:
        return copy.deepcopy(template(*key))

    return fresh


def fill_datasets(spec: Spec, **datasets: list[dict[str, Any]]) -> Spec:
    """A template's spec with the rows of its named data sets filled in."""
    # The template's own constant data (a zero line) stays beside the rows filled in.
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def validate(spec: Spec) -> None:
    """Raise if a spec is not valid Vega-Lite (for tests; the page does not re-check)."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    validate_jsonschema(spec, load_schema())


# ------------------------------------------------------------------------------ read-outs
_WEEKLY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def weekly(model: LoyaltyModel) -> pd.DataFrame:
    """The chain's weekly reporters plus the moving averages the charts show (computed once per
    week of a model: several charts read it)."""
    cached = _WEEKLY.get(model)
    if cached is not None and cached[0] == model.steps:
        return cached[1]
    frame = model.model_frame().copy()
    frame["churn_avg"] = frame["churn_rate_annual_pct"].rolling(CHURN_WINDOW, 1).mean()
    frame["turnover_avg"] = frame["turnover_rate_annual_pct"].rolling(TURNOVER_WINDOW, 1).mean()
    frame["profit_avg"] = frame["profit"].rolling(CHURN_WINDOW, 1).mean()
    frame["cumulative_profit"] = frame["profit"].cumsum()
    _WEEKLY[model] = (model.steps, frame)
    return frame


def _store_history(model: LoyaltyModel) -> pd.DataFrame:
    cached = _STORES.get(model)
    if cached is not None and cached[0] == model.steps:
        return cached[1]
    frame = model.stores_frame()
    _STORES[model] = (model.steps, frame)
    return frame


def stores(model: LoyaltyModel, week: int | None = None) -> pd.DataFrame:
    """One row per store with a week's figures (default: the last simulated week) and its tile
    on the map. Before the first week the figures are the chain's starting state.

    Cached per week of a model (the map and the quadrant both read it); callers get a copy.
    """
    key = (model.steps, week)
    cached = _STORE_WEEK.get(model)
    if cached is not None and cached[0] == key:
        return cached[1].copy()
    frame = _stores(model, week)
    _STORE_WEEK[model] = (key, frame)
    return frame.copy()


_STORE_WEEK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _stores(model: LoyaltyModel, week: int | None) -> pd.DataFrame:
    history = _store_history(model)
    positions = pd.DataFrame([{"store": s.index + 1, "col": s.position[0], "row": s.position[1],
                               "supervisor_quality": s.supervisor_quality}
                              for s in model.stores])
    if history.empty:  # nothing measured yet: the map shows grey tiles
        frame = positions.assign(
            headcount=np.nan, customers=np.nan, employee_engagement=np.nan,
            customer_engagement=np.nan, revenue=np.nan, profit=np.nan, churn_rate=np.nan,
            turnover_rate=np.nan)
    else:
        last = int(history["week"].max())
        shown = last if week is None else min(max(int(week), 0), last)
        rows = history[history["week"] == shown].sort_values("store")
        frame = positions.assign(
            headcount=rows["headcount"].to_numpy(), customers=rows["customers"].to_numpy(),
            employee_engagement=rows["employee_engagement"].to_numpy(),
            customer_engagement=rows["customer_engagement"].to_numpy(),
            revenue=rows["revenue"].to_numpy(), profit=rows["profit"].to_numpy(),
            churn_rate=rows["churn_rate_annual_pct"].to_numpy(),
            turnover_rate=rows["turnover_rate_annual_pct"].to_numpy())
    frame["engagement"] = (frame["employee_engagement"] + frame["customer_engagement"]) / 2
    return frame


def typical_store_revenue(model: LoyaltyModel) -> float:
    """Weekly revenue of an average store at middling engagement ($), to fix the map's sizes."""
    p = model.params
    return p.customers_per_store * p.visits_per_week * p.basket


_TOOLTIP = [
    alt.Tooltip("store:O", title="Store"),
    alt.Tooltip("supervisor_quality:Q", title="Supervisor quality (0-1)", format=".2f"),
    alt.Tooltip("headcount:Q", title="Staff"),
    alt.Tooltip("customers:Q", title="Customers", format=","),
    alt.Tooltip("employee_engagement:Q", title="Staff engagement (0-1)", format=".2f"),
    alt.Tooltip("customer_engagement:Q", title="Customer engagement (0-1)", format=".2f"),
    alt.Tooltip("revenue:Q", title="Revenue that week ($)", format="$,.0f"),
    alt.Tooltip("profit:Q", title="Profit that week ($)", format="$,.0f"),
    alt.Tooltip("churn_rate:Q", title="Churn that week (%/yr)", format=".0f"),
    alt.Tooltip("turnover_rate:Q", title="Staff turnover that week (%/yr)", format=".0f"),
]


def _engagement_colour(title) -> alt.Color:
    """The one colour meaning of the map and the quadrant: (staff + customer engagement) / 2."""
    return alt.Color(
        "engagement:Q", title=title,
        scale=alt.Scale(scheme=ENGAGEMENT_SCHEME, domain=list(ENGAGEMENT_DOMAIN), clamp=True),
        legend=alt.Legend(orient="right", format=".1f", gradientLength=160))


def store_map(model: LoyaltyModel, week: int | None = None, width: int = MAP_WIDTH) -> Spec:
    """Each store a square on its tile: colour = combined engagement, size = revenue."""
    return store_map_of(stores(model, week), typical_store_revenue(model), width)


def store_map_of(frame: pd.DataFrame, reference: float, width: int = MAP_WIDTH) -> Spec:
    """The store map of a stores frame (columns as `stores` gives; `reference`: a typical
    store's weekly revenue, $). A `label` column, if any, is shown on the tiles instead of the
    store's number."""
    frame = frame.copy()
    if "label" not in frame:
        frame["label"] = frame["store"].astype(str)
    side = max(1, math.ceil(math.sqrt(len(frame))))
    rows = int(frame["row"].max()) + 1
    frame["revenue"] = frame["revenue"].fillna(reference)
    started = bool(frame["engagement"].notna().any())
    spec = _store_map_template(width, side, rows, reference, started)
    return fill_datasets(spec, stores=records(frame))


@cached_template(fill_width=False)
def _store_map_template(width: int, side: int, rows: int, reference: float, started: bool):
    tile = width / side
    height = max(120, int(tile * rows))
    data = alt.NamedData(name="stores")
    chart = alt.Chart(data).mark_square(opacity=0.95, stroke="#333", strokeWidth=0.5).encode(
        x=alt.X("col:O", axis=None),
        y=alt.Y("row:O", axis=None),
        color=(_engagement_colour("Engagement") if started
               else alt.value("#bbbbbb")),
        size=alt.Size("revenue:Q", legend=None,
                      scale=alt.Scale(domain=[0, 2.5 * reference],
                                      range=[30, (0.95 * tile) ** 2], clamp=True)),
        tooltip=_TOOLTIP,
    )
    # Store numbers only where a tile has room for 16 px text.
    if tile < 3 * FONT_PX:
        return chart.properties(width=width, height=height)
    labels = alt.Chart(data).mark_text(fontSize=FONT_PX, color="#111").encode(
        x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None), text="label:N",
        tooltip=_TOOLTIP)
    return alt.layer(chart, labels).properties(width=width, height=height)


def quadrant(model: LoyaltyModel, week: int | None = None) -> Spec:
    """Stores by staff (x) and customer (y) engagement, with the chain's medians as dashed
    lines; coloured like the map (combined engagement on the same scale)."""
    return quadrant_of(stores(model, week), typical_store_revenue(model))


def quadrant_of(frame: pd.DataFrame, reference: float) -> Spec:
    """The quadrant of a stores frame (see `store_map_of`)."""
    frame = frame.copy()
    # before the first week nothing is measured: the medians sit mid-chart
    x_mid = frame["employee_engagement"].median()
    y_mid = frame["customer_engagement"].median()
    x_mid, y_mid = (0.5 if pd.isna(m) else float(m) for m in (x_mid, y_mid))
    frame["revenue"] = frame["revenue"].fillna(reference)
    spec = _quadrant_template(reference)
    return fill_datasets(spec, stores=records(frame), medians=[{"x": x_mid, "y": y_mid}])


@cached_template
def _quadrant_template(reference: float):
    scale = alt.Scale(domain=[0, 1], clamp=True)
    points = alt.Chart(alt.NamedData(name="stores")).mark_circle(
        opacity=0.9, stroke="#333", strokeWidth=0.5).encode(
        x=alt.X("employee_engagement:Q", scale=scale, title="Staff engagement (0-1)",
                axis=alt.Axis(tickCount=5)),
        y=alt.Y("customer_engagement:Q", scale=scale, title="Customer engagement (0-1)",
                axis=alt.Axis(tickCount=5)),
        # the map beside it carries the legend of the one colour meaning
        color=_engagement_colour(None).legend(None),
        size=alt.Size("revenue:Q", title="Revenue ($/week)", legend=None,
                      scale=alt.Scale(domain=[0, 2.5 * reference], range=[40, 600],
                                      clamp=True)),
        tooltip=_TOOLTIP,
    )
    medians = alt.NamedData(name="medians")
    vline = alt.Chart(medians).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    hline = alt.Chart(medians).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
    return alt.layer(points, vline, hline).properties(height=CHART_HEIGHT + 40)
