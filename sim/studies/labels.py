"""Plain-English labels for what users read: arm names, parameter choice values and outcome
names. One table, shared by the reports, the terminal tables and the browser view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.model.events import describe
from sim.model.parameters import COACHING_TARGETS, SERVICE_POLICIES, STAFFING_RULES

# Labels of the values of choice parameters, by parameter. Every allowed value has one (tested).
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "coaching_target": {
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
CHOICES = {"coaching_target": COACHING_TARGETS, "service_policy": SERVICE_POLICIES,
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


def words(name: str) -> str:
    """A snake_case name as words inside a sentence: 'hr_budget' -> 'HR budget'."""
    h = humanize(name)
    return h if h[:2].isupper() else h[:1].lower() + h[1:]


def event_words(event: dict) -> str:
    """A timed event in words: 'from week 13: coaching hours 4' (sim.model.events.describe,
    the one describer, with these labels); reports and the browser view both use it."""
    return describe(event, words, value_words)


def value_words(name: str, value: Any) -> str:
    return choice_label(name, value) if isinstance(value, str) else format(value, ",.6g")


# ------------------------------------------------------------------------------ outcomes
@dataclass(frozen=True)
class Metric:
    """A summary number of one replication, with how to show it to people."""

    name: str
    label: str
    unit: str  # unit of the stored value
    shown_unit: str  # unit of a level in tables
    diff_unit: str  # unit of a difference in tables: percentage points for rates
    scale: float  # stored value / scale = shown value
    higher_is_better: bool | None
    short: str  # label in the terminal table
    words: str  # how a sentence names it: "profit", "customer churn"


METRICS = (
    Metric("revenue", "Total revenue", "$", "$M", "$M", 1e6, True, "Revenue", "revenue"),
    Metric("profit", "Total profit", "$", "$M", "$M", 1e6, True, "Profit", "profit"),
    Metric("customer_churn_pct", "Customer churn", "%/year", "%/yr", "pp/yr", 1.0, False,
           "Cust. churn", "customer churn"),
    Metric("employee_turnover_pct", "Employee turnover", "%/year", "%/yr", "pp/yr", 1.0, False,
           "Staff turnover", "staff turnover"),
    Metric("employee_engagement", "Final employee engagement", "0-1", "0-1", "0-1", 1.0, True,
           "Staff engagement", "staff engagement"),
    Metric("customer_engagement", "Final customer engagement", "0-1", "0-1", "0-1", 1.0, True,
           "Cust. engagement", "customer engagement"),
    Metric("policy_cost", "Policy spend", "$", "$k", "$k", 1e3, None, "Policy spend",
           "policy spend"),
)
RETURN = Metric("return_per_dollar", "Return on policy spend", "$ profit per $ of policy spend",
                "$/$", "$/$", 1.0, True, "Return", "return on policy spend")
METRIC_BY_NAME = {m.name: m for m in (*METRICS, RETURN)}
# What a scenario's `questions:` may ask about.
QUESTION_METRICS = tuple(m.name for m in METRICS)
