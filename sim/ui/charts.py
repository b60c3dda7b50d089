"""Charts of the workshop view as Vega-Lite specs, built with Altair from a model's read-outs
(no Solara here).

Each chart is authored with Altair against named data sets, and the rows are put into the spec's
`datasets` afterwards: Altair copies, sanitises and hashes inline data on every build, which made
a redraw of the six charts take a quarter of a second; this way it takes a few milliseconds.

Weekly churn and turnover of a chain are noisy (a few dozen people a week), so the time charts
show them as moving averages and say so in the axis title. Scales are fixed where the room
compares one week with the next (engagement 0-1, segment shares 0-100%), so movement is real
movement and not a rescaled axis.
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

CHART_WIDTH = 420
CHART_HEIGHT = 250
CHURN_WINDOW = 4  # weeks
TURNOVER_WINDOW = 13  # weeks (a quarter: quits of ~300 staff are rare events week to week)
ENGAGEMENT_DOMAIN = (0.2, 0.85)  # 0-1 scores; fixed so the map's colours mean the same all run
SEGMENTS = {
    "customers_fully_engaged_share": ("Fully engaged", "#1a7f37"),
    "customers_engaged_share": ("Engaged", "#8cc084"),
    "customers_not_engaged_share": ("Not engaged", "#f2c14e"),
    "customers_actively_disengaged_share": ("Actively disengaged", "#c0392b"),
}
ARM_COLOURS = ("#1f77b4", "#e67e22")
QUADRANTS = {
    "both engaged": "#1a7f37",
    "staff engaged, customers not": "#f2a541",
    "customers engaged, staff not": "#5b8def",
    "neither engaged": "#c0392b",
}


Spec = dict[str, Any]


def _records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready records (missing values become null)."""
    part = frame if columns is None else frame[columns]
    return part.astype(object).where(part.notna(), None).to_dict("records")


def _cached_template(build):
    """Memoise a function that builds an Altair chart from its static settings into a
    Vega-Lite dict; callers get a fresh copy to fill in (building costs ~10 ms, copying ~0.2)."""
    @functools.lru_cache(maxsize=64)
    def template(*key):
        spec = build(*key).to_dict(validate=False)
        # The page's Vega-Lite is version 5; Altair writes a version 6 $schema, which would make
        # Vega-Embed warn on every draw. The specs use nothing version 5 lacks.
        spec.pop("$schema", None)
        return spec

    @functools.wraps(build)
    def fresh(*key) -> Spec:
        return copy.deepcopy(template(*key))

    return fresh


def _fill(spec: Spec, **datasets: list[dict[str, Any]]) -> Spec:
    spec["datasets"] = datasets
    return spec


def validate(spec: Spec) -> None:
    """Raise if a spec is not valid Vega-Lite (for tests; the page does not re-check)."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    validate_jsonschema(spec, load_schema())


_WEEKLY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def weekly(model: LoyaltyModel) -> pd.DataFrame:
    """The chain's weekly reporters plus the moving averages the charts show (computed once per
    week of a model: four charts read it)."""
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


def stores(model: LoyaltyModel) -> pd.DataFrame:
    """One row per store with last week's figures and its tile on the map."""
    rows = []
    for store in model.stores:
        col, row = store.position
        rows.append({
            "store": store.index + 1,
            "col": col,
            "row": row,
            "supervisor_quality": store.supervisor_quality,
            "headcount": store.headcount,
            "customers": store.customers,
            "employee_engagement": store.employee_engagement,
            "customer_engagement": store.customer_engagement,
            "revenue": store.revenue,
            "profit": store.profit,
            "churn_rate": store.churn_rate,
            "turnover_rate": store.turnover_rate,
        })
    frame = pd.DataFrame(rows)
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
    alt.Tooltip("employee_engagement:Q", title="Employee engagement (0-1)", format=".2f"),
    alt.Tooltip("customer_engagement:Q", title="Customer engagement (0-1)", format=".2f"),
    alt.Tooltip("revenue:Q", title="Revenue last week ($)", format="$,.0f"),
    alt.Tooltip("profit:Q", title="Profit last week ($)", format="$,.0f"),
    alt.Tooltip("churn_rate:Q", title="Churn last week (%/yr)", format=".0f"),
    alt.Tooltip("turnover_rate:Q", title="Staff turnover last week (%/yr)", format=".0f"),
]


def store_map(model: LoyaltyModel, width: int = CHART_WIDTH - 90) -> Spec:
    """Each store a square on its tile: colour = combined engagement, size = revenue."""
    frame = stores(model)
    side = max(1, math.ceil(math.sqrt(len(frame))))
    rows = int(frame["row"].max()) + 1
    started = model.steps > 0
    reference = typical_store_revenue(model)
    if not started:
        frame["engagement"] = np.nan
        frame["revenue"] = reference
    spec = _store_map_template(width, side, rows, reference, started)
    return _fill(spec, stores=_records(frame))


@_cached_template
def _store_map_template(width: int, side: int, rows: int, reference: float, started: bool):
    tile = width / side
    height = max(120, int(tile * rows))
    colour = alt.Color(
        "engagement:Q", title=["Engagement", "(staff+customers)/2"],
        scale=alt.Scale(scheme="redyellowgreen", domain=list(ENGAGEMENT_DOMAIN), clamp=True),
        legend=alt.Legend(orient="right", gradientLength=max(60, height - 60), format=".1f"))
    data = alt.NamedData(name="stores")
    chart = alt.Chart(data).mark_square(opacity=0.95, stroke="#333", strokeWidth=0.5).encode(
        x=alt.X("col:O", axis=None),
        y=alt.Y("row:O", axis=None),
        color=colour if started else alt.value("#bbbbbb"),
        size=alt.Size("revenue:Q", legend=None,
                      scale=alt.Scale(domain=[0, 2.5 * reference],
                                      range=[30, (0.95 * tile) ** 2], clamp=True)),
        tooltip=_TOOLTIP,
    )
    labels = alt.Chart(data).mark_text(fontSize=min(14, max(7, tile / 5)), color="#111").encode(
        x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None), text="store:O",
        tooltip=_TOOLTIP)
    layered = alt.layer(chart, labels) if side <= 12 else chart
    return layered.properties(width=width, height=height)


def quadrant(model: LoyaltyModel, width: int = CHART_WIDTH) -> Spec:
    """Stores by employee (x) and customer (y) engagement, split at the chain's medians."""
    frame = stores(model)
    if model.steps == 0:
        frame = frame.iloc[0:0]
    x_mid = float(frame["employee_engagement"].median()) if len(frame) else 0.5
    y_mid = float(frame["customer_engagement"].median()) if len(frame) else 0.5
    staff_high = frame["employee_engagement"] >= x_mid
    customers_high = frame["customer_engagement"] >= y_mid
    frame = frame.assign(quadrant=np.select(
        [staff_high & customers_high, staff_high, customers_high],
        list(QUADRANTS)[:3], default=list(QUADRANTS)[3]))
    spec = _quadrant_template(width, typical_store_revenue(model))
    return _fill(spec, stores=_records(frame), medians=[{"x": x_mid, "y": y_mid}])


@_cached_template
def _quadrant_template(width: int, reference: float):
    scale = alt.Scale(domain=[0.1, 0.9], clamp=True)
    points = alt.Chart(alt.NamedData(name="stores")).mark_circle(
        opacity=0.85, stroke="#333", strokeWidth=0.5).encode(
        x=alt.X("employee_engagement:Q", scale=scale, title="Employee engagement (0-1)"),
        y=alt.Y("customer_engagement:Q", scale=scale, title="Customer engagement (0-1)"),
        color=alt.Color("quadrant:N", title="Store is",
                        scale=alt.Scale(domain=list(QUADRANTS), range=list(QUADRANTS.values())),
                        legend=alt.Legend(orient="bottom", columns=2)),
        size=alt.Size("revenue:Q", title="Revenue ($/week)", legend=None,
                      scale=alt.Scale(domain=[0, 2.5 * reference], range=[20, 500],
                                      clamp=True)),
        tooltip=_TOOLTIP,
    )
    medians = alt.NamedData(name="medians")
    vline = alt.Chart(medians).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    hline = alt.Chart(medians).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
    return alt.layer(points, vline, hline).properties(width=width - 40, height=CHART_HEIGHT)


def _y_scale(empty: bool, **kwargs) -> alt.Scale:
    """A y scale; before the first week (no data) a fixed domain, so Vega has an extent."""
    return alt.Scale(domain=[0, 1], **kwargs) if empty else alt.Scale(**kwargs)


def _week_axis(horizon: int) -> alt.X:
    return alt.X("week:Q", title="Week", scale=alt.Scale(domain=[0, max(horizon, 1)]))


def _crisis_weeks(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The crisis as a band of weeks (empty list: no crisis so far)."""
    if frame.empty or "crisis_severity" not in frame or not (frame["crisis_severity"] > 0).any():
        return []
    weeks = frame.loc[frame["crisis_severity"] > 0, "week"]
    return [{"start": int(weeks.min()), "end": int(weeks.max()) + 1, "label": "crisis"}]


def _crisis_band() -> alt.Chart:
    return alt.Chart(alt.NamedData(name="crisis")).mark_rect(color="#999", opacity=0.15).encode(
        x="start:Q", x2="end:Q", tooltip=alt.Tooltip("label:N", title="Period"))


def _steady_domain(values: pd.Series, min_span: float) -> list[float]:
    """A y domain around the data that spans at least `min_span`, so that week-to-week noise of
    a few customers or a hundredth of engagement does not fill the chart's height.

    The ends are rounded outwards to a tenth of `min_span`, so the domain (and with it the
    chart's shape, which makes the browser redraw it from scratch) changes only now and then.
    """
    low, high = float(values.min()), float(values.max())
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    grain = min_span / 10
    return [math.floor(low / grain) * grain, math.ceil(high / grain) * grain]


def _two_axes(frame: pd.DataFrame, horizon: int, left: tuple[str, str, str, str],
              right: tuple[str, str, str, str], left_span: float | None = None) -> Spec:
    """Two series with their own y axes: (column, title with unit, colour, number format) each.

    The left axis is scaled around its data with at least `left_span` of range (None: from
    zero); the right one starts at zero.
    """
    crisis = _crisis_weeks(frame)
    steady = left_span is not None and not frame.empty
    spec = _two_axes_template(horizon, left, right, steady, frame.empty, bool(crisis))
    if steady:
        # The template's left scale has a placeholder domain; the data's goes in here.
        left_layer = spec["layer"][1 if crisis else 0]
        left_layer["encoding"]["y"]["scale"]["domain"] = _steady_domain(frame[left[0]],
                                                                        left_span)
    return _fill(spec, weekly=_records(frame, ["week", left[0], right[0]]),
                 **({"crisis": crisis} if crisis else {}))


@_cached_template
def _two_axes_template(horizon: int, left: tuple, right: tuple, steady: bool, empty: bool,
                       crisis: bool):
    base = alt.Chart(alt.NamedData(name="weekly"))
    layers = []
    for column, title, colour, number_format in (left, right):
        if column == left[0] and steady:
            scale = alt.Scale(domain=[0, 1], zero=False, nice=True)
        else:
            scale = _y_scale(empty)
        layers.append(base.mark_line(color=colour, strokeWidth=2.5).encode(
            x=_week_axis(horizon),
            y=alt.Y(f"{column}:Q", title=title, scale=scale,
                    axis=alt.Axis(titleColor=colour, format=number_format)),
            tooltip=[alt.Tooltip("week:Q", title="Week"),
                     alt.Tooltip(f"{column}:Q", title=title, format=number_format)]))
    return alt.layer(*([_crisis_band()] if crisis else []), *layers).resolve_scale(
        y="independent").properties(width=CHART_WIDTH - 70, height=CHART_HEIGHT)


def customers_and_churn(frame: pd.DataFrame, horizon: int) -> Spec:
    # At least 10% of the chain's first-week customers (a fixed span: see _steady_domain).
    span = 0.10 * float(frame["active_customers"].iloc[0]) if not frame.empty else None
    return _two_axes(frame, horizon,
                     ("active_customers", "Customers (people)", "#1f77b4", ",.0f"),
                     ("churn_avg", f"Churn (%/yr, {CHURN_WINDOW}-week average)", "#c0392b",
                      ".0f"), left_span=span)


def engagement_and_turnover(frame: pd.DataFrame, horizon: int) -> Spec:
    return _two_axes(frame, horizon,
                     ("employee_engagement", "Employee engagement (0-1)", "#1a7f37", ".2f"),
                     ("turnover_avg", f"Staff turnover (%/yr, {TURNOVER_WINDOW}-week average)",
                      "#8e44ad", ".0f"), left_span=0.2)


def revenue_and_profit(frame: pd.DataFrame, horizon: int) -> Spec:
    """Revenue and profit per week on one dollar axis (profit can go below zero)."""
    names = {"revenue": "Revenue", "profit": "Profit"}
    long = (frame.melt(id_vars=["week"], value_vars=list(names), var_name="series",
                       value_name="dollars") if not frame.empty
            else pd.DataFrame(columns=["week", "series", "dollars"]))
    long["series"] = long["series"].map(names)
    crisis = _crisis_weeks(frame)
    spec = _money_template(horizon, long.empty, bool(crisis))
    return _fill(spec, money=_records(long), zero=[{"y": 0}],
                 **({"crisis": crisis} if crisis else {}))


@_cached_template
def _money_template(horizon: int, empty: bool, crisis: bool):
    names = ["Revenue", "Profit"]
    lines = alt.Chart(alt.NamedData(name="money")).mark_line(strokeWidth=2.5).encode(
        x=_week_axis(horizon),
        y=alt.Y("dollars:Q", title="$ per week", axis=alt.Axis(format="$~s"),
                scale=_y_scale(empty)),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=names, range=["#1f77b4", "#1a7f37"]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("dollars:Q", title="$ per week", format="$,.0f")])
    zero = alt.Chart(alt.NamedData(name="zero")).mark_rule(color="#555").encode(y="y:Q")
    layers = [_crisis_band(), lines, zero] if crisis else [lines, zero]
    return alt.layer(*layers).properties(width=CHART_WIDTH - 30, height=CHART_HEIGHT)


def segment_shares(frame: pd.DataFrame, horizon: int) -> Spec:
    """Customer engagement segments as a stacked area (shares of active customers, %)."""
    columns = list(SEGMENTS)
    if frame.empty:
        long = pd.DataFrame(columns=["week", "segment", "share", "order"])
    else:
        long = frame.melt(id_vars=["week"], value_vars=columns, var_name="column",
                          value_name="share")
        long["share"] = 100 * long["share"]
        long["order"] = long["column"].map({c: i for i, c in enumerate(columns)})
        long["segment"] = long["column"].map({c: v[0] for c, v in SEGMENTS.items()})
    return _fill(_segments_template(horizon),
                 segments=_records(long, ["week", "segment", "share", "order"]))


@_cached_template
def _segments_template(horizon: int):
    names = [v[0] for v in SEGMENTS.values()]
    return alt.Chart(alt.NamedData(name="segments")).mark_area().encode(
        x=_week_axis(horizon),
        y=alt.Y("share:Q", stack="zero", title="Share of customers (%)",
                scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("segment:N", title=None, sort=names,
                        scale=alt.Scale(domain=names, range=[v[1] for v in SEGMENTS.values()]),
                        legend=alt.Legend(orient="top", columns=2)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("share:Q", title="Share (%)", format=".1f")],
    ).properties(width=CHART_WIDTH - 30, height=CHART_HEIGHT)


def compare_lines(frames: dict[str, pd.DataFrame], column: str, title: str, horizon: int,
                  number_format: str = ",.1f") -> Spec:
    """One line per arm of a weekly column (arms in ARM_COLOURS order)."""
    parts = [f[["week", column]].assign(arm=label) for label, f in frames.items() if not f.empty]
    data = (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=["week", column, "arm"]))
    spec = _compare_template(tuple(frames), column, title, horizon, number_format, data.empty)
    return _fill(spec, arms=_records(data, ["week", column, "arm"]))


@_cached_template
def _compare_template(labels: tuple[str, ...], column: str, title: str, horizon: int,
                      number_format: str, empty: bool):
    axis_format = "$~s" if number_format.startswith("$") else "~s"
    lines = alt.Chart(alt.NamedData(name="arms")).mark_line(strokeWidth=2.5).encode(
        x=_week_axis(horizon),
        y=alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format=axis_format),
                scale=_y_scale(empty)),
        color=alt.Color("arm:N", title=None,
                        scale=alt.Scale(domain=list(labels), range=list(ARM_COLOURS)),
                        legend=alt.Legend(orient="top", columns=1, labelLimit=400)),
        tooltip=[alt.Tooltip("week:Q", title="Week"), alt.Tooltip("arm:N", title="Arm"),
                 alt.Tooltip(f"{column}:Q", title=title, format=number_format)])
    return lines.properties(width=CHART_WIDTH - 30, height=CHART_HEIGHT)


def gap_chart(gaps: pd.DataFrame, horizon: int) -> Spec:
    """Arm B minus arm A, week by week: cumulative profit ($) and churn (points); both axes
    include zero, so the side of zero a line is on says which arm is ahead."""
    return _two_axes(gaps, horizon,
                     ("profit_gap", "Cumulative profit gap, B - A ($)", ARM_COLOURS[0], "$~s"),
                     ("churn_gap", "Churn gap, B - A (points of %/yr, 13-wk avg)",
                      ARM_COLOURS[1], "+.1f"))
