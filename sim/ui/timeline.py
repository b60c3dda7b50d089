"""A run's timeline in a few words: each timed event (policy change, crisis, layoffs,
re-hiring) as a short label for the charts' markers, and the week the policies start."""

from __future__ import annotations

from typing import Any

from sim.studies.labels import CHOICE_LABELS, choice_label, humanize

# Short names and units of the levers an event can set, for chart markers and status lines.
_EVENT_NAMES = {
    "coaching_hours": ("coaching", " h/wk"),
    "hr_budget": ("HR programme $", "/employee/yr"),
    "transparency": ("transparency", ""),
    "mission_resonance": ("mission", ""),
    "frontline_recognition": ("recognition", ""),
    "customer_programme_budget": ("customer programme $", "/customer/yr"),
}


def event_label(spec: dict[str, Any], after_layoff: bool = False) -> str:
    """A timed event in a few plain words (no week), for a marker on a chart.

    A return to full staffing after a layoff is "re-hiring".
    """
    if "crisis" in spec:
        return f"crisis (severity {spec['crisis']['severity']:g})"
    if "layoff" in spec:
        return f"layoffs {spec['layoff']['share']:.0%}"
    parts = []
    for name, value in spec.get("set", {}).items():
        if name == "staffing_level":
            parts.append("re-hiring" if after_layoff and value >= 1 else f"staffing {value:.0%}")
        elif name in CHOICE_LABELS:
            parts.append(choice_label(name, value))
        elif name in _EVENT_NAMES:
            short, unit = _EVENT_NAMES[name]
            parts.append(f"{short}{value:g}{unit}" if short.endswith("$")
                         else f"{short} {value:g}{unit}")
        else:
            parts.append(f"{humanize(name).lower()} {value:g}")
    return ", ".join(parts)


def event_markers(events: list[dict[str, Any]] | tuple[dict[str, Any], ...]
                  ) -> list[tuple[int, str]]:
    """(week, label) of every timed event, in week order."""
    markers = []
    laid_off = False
    for spec in sorted(events, key=lambda e: e["week"]):
        markers.append((int(spec["week"]), event_label(spec, after_layoff=laid_off)))
        laid_off = laid_off or "layoff" in spec
    return markers


def policy_start(events: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> int:
    """The week the first timed event (policy change, crisis or layoff) happens; 0 when there
    is none. The key figures count their changes from the week before."""
    weeks = [int(e["week"]) for e in events]
    return min(weeks) if weeks else 0
