"""Plain-English labels for what users read: arm names, parameter choice values and outcome
names. One table, shared by the reports, the terminal tables and the browser view."""

from __future__ import annotations

from sim.model.parameters import COACHING_TARGETS, SERVICE_POLICIES, STAFFING_RULES

# Labels of the values of choice parameters, by parameter. Every allowed value has one (tested).
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "coaching_targeting": {
        "least_engaged": "least engaged staff first",
        "random": "staff at random",
        "most_engaged": "most engaged staff first",
    },
    "service_policy": {
        "short_contacts": "short contacts",
        "first_contact_resolution": "first-contact resolution",
    },
    "staffing_rule": {
        "random": "at random",
        "most_engaged": "most engaged on the front line",
        "least_engaged": "least engaged (cheapest) on the front line",
    },
}
CHOICES = {"coaching_targeting": COACHING_TARGETS, "service_policy": SERVICE_POLICIES,
           "staffing_rule": STAFFING_RULES}


def humanize(name: str) -> str:
    """A snake_case name as words: 'hr_programme' -> 'HR programme'."""
    words = name.replace("_", " ").replace("-", " ").split()
    if not words:
        return name
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    for short in ("hr", "ceo", "kpi", "nps"):
        text = " ".join(w.upper() if w.lower() == short else w for w in text.split(" "))
    return text


def choice_label(parameter: str, value: str) -> str:
    """The plain-English label of a choice parameter's value (the value itself if unknown)."""
    return CHOICE_LABELS.get(parameter, {}).get(value, humanize(str(value)))


def choice_value(parameter: str, label: str) -> str:
    """The value whose plain-English label is `label` (a value passes through unchanged)."""
    for value, text in CHOICE_LABELS.get(parameter, {}).items():
        if text == label:
            return value
    return label
