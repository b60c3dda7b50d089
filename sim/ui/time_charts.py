"""The workshop view's charts over time, as Vega-Lite specs: customers, churn, money,
engagement, turnover, customer segments, and one line per arm on the compare page.

Weekly churn and turnover of a chain are noisy (a few dozen people a week), so they are shown as
moving averages and the axis title says so. An axis that does not start at zero says "zoomed" in
its title. Every timed event (policy start, crisis, layoffs, re-hiring) is a labelled rule on
every chart, and the week looked back at is marked.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from sim.ui.charts import (
    ARM_COLOURS,
    CHART_HEIGHT,
    CHURN_WINDOW,
    CUSTOMER_COLOUR,
    FONT_PX,
    SEGMENTS,
    STAFF_COLOUR,
    TURNOVER_WINDOW,
    VIEWING_COLOUR,
    Spec,
    cached_template,
    fill_datasets,
    long_rows,
    records,
)


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
    long = (long_rows(frame, columns, [n for _, n, _ in series]) if not empty
            else pd.DataFrame(columns=["week", "series", "value"]))
    zoomed = zoom_span is not None and not empty
    data = _overlay_data(frame, list(events), view_week)
    spec = _line_template(horizon, series, title, number_format, empty, zoomed, domain,
                          "crisis" in data, view_week is not None)
    if zoomed:
        lines = next(layer for layer in spec["layer"] if layer.get("name") == "lines")
        lines["encoding"]["y"]["scale"]["domain"] = _steady_domain(long["value"], zoom_span)
    return fill_datasets(spec, weekly=records(long, ["week", "series", "value"]), **data)


@cached_template
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
        long = long_rows(frame, columns, [v[0] for v in SEGMENTS.values()], "share")
        long["share"] = 100 * long["share"]
        long["order"] = np.repeat(np.arange(len(columns)), len(frame))
        long = long.rename(columns={"series": "segment"})
    data = _overlay_data(frame, list(events), view_week)
    spec = _segments_template(horizon, "crisis" in data, view_week is not None)
    return fill_datasets(spec, segments=records(long, ["week", "segment", "share", "order"]),
                         **data)


@cached_template
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
    return fill_datasets(spec, arms=records(data, ["week", column, "arm"]), **overlay)


@cached_template
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
