"""Charts of the workshop view as Vega-Lite specs, built with Altair from a model's read-outs
(no Solara here).

Each chart is authored with Altair against named data sets, and the rows are put into the spec's
`datasets` afterwards: Altair copies, sanitises and hashes inline data on every build, which made
a redraw of the six charts take a quarter of a second; this way it takes a few milliseconds.

Made for a projector: every chart has one y axis, text of at least 16 px, and fills the width
of its card. Weekly churn and turnover of a chain are noisy (a few dozen people a week), so the
time charts show them as moving averages and say so in the axis title. An axis that does not
start at zero says "zoomed" in its title. Every timed event (policy start, crisis, layoffs,
re-hiring) is a labelled rule on every time chart.
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


def _records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready records (missing values become null).

    Built from plain lists: pandas' own conversion took most of a redraw's server time.
    """
    columns = list(frame.columns) if columns is None else columns
    lists = [[None if isinstance(x, float) and x != x else x for x in frame[c].tolist()]
             for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*lists, strict=True)]


def _long(frame: pd.DataFrame, columns: list[str], names: list[str], value: str = "value"
          ) -> pd.DataFrame:
    """Weekly columns stacked into (week, series, value) rows (a quick melt)."""
    weeks = frame["week"].to_numpy()
    return pd.DataFrame({
        "week": np.tile(weeks, len(columns)),
        "series": np.repeat(names, len(weeks)),
        "column": np.repeat(columns, len(weeks)),
        value: np.concatenate([frame[c].to_numpy(dtype=float) for c in columns])
        if columns else np.array([]),
    })


def _cached_template(build=None, *, fill_width: bool = True):
    """Memoise a function that builds an Altair chart from its static settings into a
    Vega-Lite dict; callers get a fresh copy to fill in (building costs ~10 ms, copying ~0.2).

    The template gets the projector's font sizes and, with `fill_width`, the width of its card.
    """
    if build is None:
        return functools.partial(_cached_template, fill_width=fill_width)

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


def _fill(spec: Spec, **datasets: list[dict[str, Any]]) -> Spec:
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
    return _fill(spec, stores=_records(frame))


@_cached_template(fill_width=False)
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
    return _fill(spec, stores=_records(frame), medians=[{"x": x_mid, "y": y_mid}])


@_cached_template
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


# ---------------------------------------------------------------------------- time charts
def _y_scale(empty: bool, **kwargs) -> alt.Scale:
    """A y scale; before the first week (no data) a fixed domain, so Vega has an extent."""
    return alt.Scale(domain=[0, 1], **kwargs) if empty else alt.Scale(**kwargs)


def _week_axis(horizon: int) -> alt.X:
    return alt.X("week:Q", title="Week", scale=alt.Scale(domain=[0, max(horizon, 1)]),
                 axis=alt.Axis(tickCount=6))


def crisis_weeks(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The crisis as a band of weeks (empty list: no crisis so far)."""
    if frame.empty or "crisis_severity" not in frame or not (frame["crisis_severity"] > 0).any():
        return []
    weeks = frame.loc[frame["crisis_severity"] > 0, "week"]
    return [{"start": int(weeks.min()), "end": int(weeks.max()) + 1, "label": "crisis"}]


def _steady_domain(values: pd.Series, min_span: float) -> list[float]:
    """A y domain around the data that spans at least `min_span`, so that week-to-week noise of
    a few customers or a hundredth of engagement does not fill the chart's height.

    The ends are rounded outwards to a tenth of `min_span`, so the domain (and with it the
    chart's shape, which makes the browser redraw it from scratch) changes only now and then.
    """
    values = values.dropna()
    low, high = float(values.min()), float(values.max())
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    grain = min_span / 10
    return [math.floor(low / grain) * grain, math.ceil(high / grain) * grain]


def _overlays(horizon: int, crisis: bool, viewing: bool) -> list[alt.Chart]:
    """Layers every time chart shares: the crisis band, the event rules with their labels and
    the week being looked at when scrubbing back."""
    layers = []
    if crisis:
        layers.append(alt.Chart(alt.NamedData(name="crisis")).mark_rect(
            color="#999", opacity=0.18).encode(
            x=alt.X("start:Q", scale=alt.Scale(domain=[0, max(horizon, 1)])), x2="end:Q",
            tooltip=alt.Tooltip("label:N", title="Period")))
    events = alt.NamedData(name="events")
    layers.append(alt.Chart(events).mark_rule(color="#333", strokeDash=[6, 3],
                                              strokeWidth=1.5).encode(
        x="week:Q", tooltip=[alt.Tooltip("week:Q", title="Week"),
                             alt.Tooltip("label:N", title="Event")]))
    layers.append(alt.Chart(events).mark_text(
        align="left", baseline="top", dx=4, fontSize=FONT_PX, color="#222").encode(
        x="week:Q", y=alt.Y("offset:Q", scale=None, axis=None), text="label:N"))
    if viewing:
        layers.append(alt.Chart(alt.NamedData(name="viewing")).mark_rule(
            color=VIEWING_COLOUR, strokeWidth=3).encode(x="week:Q"))
    return layers


def event_rows(events: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Event markers as rows: events of the same week share one label; labels of nearby weeks
    are put on separate lines so they do not overlap."""
    by_week: dict[int, list[str]] = {}
    for week, label in sorted(events):
        by_week.setdefault(int(week), [])
        if label not in by_week[int(week)]:
            by_week[int(week)].append(label)
    rows, last_week, line = [], None, 0
    for week, labels in sorted(by_week.items()):
        line = line + 1 if last_week is not None and week - last_week < 20 else 0
        rows.append({"week": week, "label": "; ".join(labels), "offset": (line % 3) * 20})
        last_week = week
    return rows


def _overlay_data(frame: pd.DataFrame, events: list[dict[str, Any]], view_week: int | None):
    data: dict[str, Any] = {"events": events}
    crisis = crisis_weeks(frame)
    if crisis:
        data["crisis"] = crisis
    if view_week is not None:
        data["viewing"] = [{"week": view_week}]
    return data


def line_chart(frame: pd.DataFrame, horizon: int, series: tuple[tuple[str, str, str], ...],
               title: str, number_format: str, *, events: list[dict[str, Any]] = (),
               view_week: int | None = None, zoom_span: float | None = None,
               domain: tuple[float, float] | None = None) -> Spec:
    """One or more weekly series on one y axis: (column, legend name, colour) each.

    The axis starts at zero, or at a fixed `domain`, or (with `zoom_span`) is zoomed around the
    data with at least that span, which its title then says.
    """
    columns = [c for c, _, _ in series]
    empty = frame.empty
    long = (_long(frame, columns, [n for _, n, _ in series]) if not empty
            else pd.DataFrame(columns=["week", "series", "value"]))
    zoomed = zoom_span is not None and not empty
    data = _overlay_data(frame, list(events), view_week)
    spec = _line_template(horizon, series, title, number_format, empty, zoomed, domain,
                          "crisis" in data, view_week is not None)
    if zoomed:
        lines = next(layer for layer in spec["layer"] if layer.get("name") == "lines")
        lines["encoding"]["y"]["scale"]["domain"] = _steady_domain(long["value"], zoom_span)
    return _fill(spec, weekly=_records(long, ["week", "series", "value"]), **data)


@_cached_template
def _line_template(horizon: int, series: tuple, title: str, number_format: str, empty: bool,
                   zoomed: bool, domain: tuple | None, crisis: bool, viewing: bool):
    names = [n for _, n, _ in series]
    if domain is not None:
        scale = alt.Scale(domain=list(domain))
    elif zoomed:
        # a placeholder domain: the data's goes in at each draw (see line_chart)
        scale = alt.Scale(domain=[0, 1], zero=False, nice=False)
        title = f"{title} - zoomed"
    else:
        scale = _y_scale(empty, zero=True)
    axis_format = {"$": "$~s"}.get(number_format[:1], number_format)
    lines = alt.Chart(alt.NamedData(name="weekly"), name="lines").mark_line(
        strokeWidth=3).encode(
        x=_week_axis(horizon),
        y=alt.Y("value:Q", title=title, scale=scale, axis=alt.Axis(format=axis_format)),
        color=alt.Color("series:N", title=None, sort=names,
                        scale=alt.Scale(domain=names, range=[c for _, _, c in series]),
                        legend=alt.Legend(orient="top") if len(series) > 1 else None),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("value:Q", title=title, format=number_format)])
    layers = [*_overlays(horizon, crisis, viewing)]
    layers.insert(1 if crisis else 0, lines)
    if not zoomed and domain is None:
        layers.append(alt.Chart(alt.InlineData(values=[{"y": 0}])).mark_rule(
            color="#555").encode(y="y:Q"))
    return alt.layer(*layers).properties(height=CHART_HEIGHT)


def customers(frame, horizon, **kw) -> Spec:
    # Zoomed to at least 10% of the chain's first-week customers (see _steady_domain).
    span = 0.10 * float(frame["active_customers"].iloc[0]) if not frame.empty else None
    return line_chart(frame, horizon, (("active_customers", "Customers", CUSTOMER_COLOUR),),
                      "Customers (people)", ",.0f", zoom_span=span, **kw)


def churn(frame, horizon, **kw) -> Spec:
    return line_chart(frame, horizon, (("churn_avg", "Churn", "#c0392b"),),
                      f"Churn (%/yr, {CHURN_WINDOW}-wk avg)", ".1f", **kw)


def money(frame, horizon, **kw) -> Spec:
    """Revenue and profit per week on one dollar axis (profit can go below zero)."""
    return line_chart(frame, horizon, (("revenue", "Revenue", "#1f77b4"),
                                       ("profit", "Profit", "#1a7f37")),
                      "$ per week", "$,.0f", **kw)


def engagement(frame, horizon, **kw) -> Spec:
    """Staff and customer engagement on the one 0-1 scale, zoomed (and saying so)."""
    return line_chart(frame, horizon, (("employee_engagement", "Staff", STAFF_COLOUR),
                                       ("customer_engagement", "Customers", CUSTOMER_COLOUR)),
                      "Engagement (0-1)", ".2f", zoom_span=0.2, **kw)


def turnover(frame, horizon, **kw) -> Spec:
    return line_chart(frame, horizon, (("turnover_avg", "Staff turnover", "#8e44ad"),),
                      f"Staff turnover (%/yr, {TURNOVER_WINDOW}-wk avg)", ".0f", **kw)


def segment_shares(frame: pd.DataFrame, horizon: int, *, events=(), view_week=None) -> Spec:
    """Customer engagement segments as a stacked area (shares of active customers, %)."""
    columns = list(SEGMENTS)
    if frame.empty:
        long = pd.DataFrame(columns=["week", "segment", "share", "order"])
    else:
        long = _long(frame, columns, [v[0] for v in SEGMENTS.values()], "share")
        long["share"] = 100 * long["share"]
        long["order"] = np.repeat(np.arange(len(columns)), len(frame))
        long = long.rename(columns={"series": "segment"})
    data = _overlay_data(frame, list(events), view_week)
    spec = _segments_template(horizon, "crisis" in data, view_week is not None)
    return _fill(spec, segments=_records(long, ["week", "segment", "share", "order"]), **data)


@_cached_template
def _segments_template(horizon: int, crisis: bool, viewing: bool):
    names = [v[0] for v in SEGMENTS.values()]
    area = alt.Chart(alt.NamedData(name="segments")).mark_area().encode(
        x=_week_axis(horizon),
        y=alt.Y("share:Q", stack="zero", title="Share of customers (%)",
                scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("segment:N", title=None, sort=names,
                        scale=alt.Scale(domain=names, range=[v[1] for v in SEGMENTS.values()]),
                        legend=alt.Legend(orient="top", columns=2)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("share:Q", title="Share (%)", format=".1f")],
    )
    overlays = _overlays(horizon, crisis, viewing)
    # the area below the crisis band would hide it: band on top, see-through
    return alt.layer(area, *overlays).properties(height=CHART_HEIGHT)


def compare_lines(frames: dict[str, pd.DataFrame], column: str, title: str, horizon: int,
                  number_format: str = ",.1f", *, events=(), view_week=None) -> Spec:
    """One line per arm of a weekly column (arms in ARM_COLOURS order), on one axis from 0."""
    parts = [f[["week", column]].assign(arm=label) for label, f in frames.items() if not f.empty]
    data = (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=["week", column, "arm"]))
    reference = next((f for f in frames.values() if not f.empty), pd.DataFrame())
    overlay = _overlay_data(reference, list(events), view_week)
    spec = _compare_template(tuple(frames), column, title, horizon, number_format, data.empty,
                             "crisis" in overlay, view_week is not None)
    return _fill(spec, arms=_records(data, ["week", column, "arm"]), **overlay)


@_cached_template
def _compare_template(labels: tuple[str, ...], column: str, title: str, horizon: int,
                      number_format: str, empty: bool, crisis: bool, viewing: bool):
    axis_format = {"$": "$~s", "+": "+~s"}.get(number_format[:1], "~s")
    lines = alt.Chart(alt.NamedData(name="arms")).mark_line(strokeWidth=3).encode(
        x=_week_axis(horizon),
        y=alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format=axis_format),
                scale=_y_scale(empty, zero=True)),
        color=alt.Color("arm:N", title=None,
                        scale=alt.Scale(domain=list(labels),
                                        range=list(ARM_COLOURS[:len(labels)])),
                        legend=alt.Legend(orient="top", columns=1, labelLimit=600)),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("arm:N", title="Arm"),
                 alt.Tooltip(f"{column}:Q", title=title, format=number_format)])
    overlays = _overlays(horizon, crisis, viewing)
    zero = alt.Chart(alt.InlineData(values=[{"y": 0}])).mark_rule(color="#555").encode(y="y:Q")
    band, rest = (overlays[:1], overlays[1:]) if crisis else ([], overlays)
    return alt.layer(*band, lines, zero, *rest).properties(height=CHART_HEIGHT)
