"""The model's parameters: one declaration gives each its default, unit, bounds and meaning.

Everything that needs the parameter list (the model's signature and docstring, validation, the
ODD parameter table, scenario schemas, the browser view's controls) reads it from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STAFFING_RULES = ("random", "most_engaged", "least_engaged")
COACHING_TARGETS = ("least_engaged", "random", "most_engaged")
SERVICE_POLICIES = ("short_contacts", "first_contact_resolution")


def _p(
    default: Any,
    unit: str,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    source: str = "calibrated",
    group: str = "",
) -> Any:
    meta = {
        "unit": unit,
        "doc": doc,
        "low": low,
        "high": high,
        "choices": choices,
        "source": source,
        "group": group,
    }
    return field(default=default, metadata=meta)


SHARE = {"low": 0.0, "high": 1.0}


@dataclass(frozen=True)
class Parameters:
    """All model parameters with their defaults. Time step: one week. Money: dollars."""

    # --- chain size -------------------------------------------------------------------------
    n_stores: int = _p(20, "stores", "Number of stores in the chain.", low=1, group="chain")
    employees_per_store: int = _p(
        15, "employees/store", "Average initial staff per store (front line and back office).",
        low=2, group="chain")
    customers_per_store: int = _p(
        1000, "customers/store", "Average initial customers per store.", low=1, group="chain")
    store_size_spread: float = _p(
        0.3, "log-sd", "Spread of store size (customers and staff scale together) around the "
        "average.", low=0.0, high=2.0, group="chain")
    staffing_spread: float = _p(
        0.10, "log-sd", "Store-to-store spread of staffing relative to store size: some stores are "
        "understaffed for their demand.", low=0.0, high=1.0, group="chain")
    frontline_share: float = _p(
        0.7, "share", "Share of a store's staff working on the front line.", **SHARE,
        group="chain")
    staffing_level: float = _p(
        1.0, "x planned", "Headcount target as a multiple of the planned staffing; layoffs lower "
        "it.", low=0.0, high=3.0, group="chain")

    # --- supervisors and coaching -----------------------------------------------------------
    supervisor_quality_mean: float = _p(
        0.5, "0-1 score", "Mean leadership quality of store supervisors.", **SHARE,
        group="supervision")
    supervisor_quality_sd: float = _p(
        0.15, "0-1 score", "Store-to-store spread of supervisor quality: the main source of "
        "between-store variance (Beck & Harter 2015).", low=0.0, high=0.5, group="supervision")
    supervisor_climate_effect: float = _p(
        0.25, "engagement/quality", "How strongly the supervisor's quality sets the drivers' "
        "level that employees settle at.", low=0.0, high=3.0, group="supervision")
    coaching_hours: float = _p(
        0.5, "h/supervisor/week", "Coaching time each supervisor spends per week (one hour per "
        "coached employee).", low=0.0, high=40.0, group="supervision")
    coaching_targeting: str = _p(
        "least_engaged", "rule", "Which employees a supervisor coaches first.",
        choices=COACHING_TARGETS, group="supervision")
    coaching_effect: float = _p(
        0.04, "driver/h", "Driver gain from one hour of coaching by an average (0.5) supervisor "
        "for a fully disengaged employee (Markey 2014: mastery and autonomy most).",
        low=0.0, high=1.0, group="supervision")
    supervisor_weekly_wage: float = _p(
        1400.0, "$/supervisor/week", "Supervisor pay (40 h); coaching time is costed at its "
        "hourly rate.", low=0.0, group="supervision")

    # --- HR programmes ----------------------------------------------------------------------
    hr_budget: float = _p(
        0.0, "$/employee/year", "Company-wide engagement programme spend.", low=0.0,
        group="hr")
    hr_cadence_weeks: int = _p(
        13, "weeks", "Weeks between programme rounds (spend is paid at each round).", low=1,
        high=520, group="hr")
    hr_effect: float = _p(
        0.08, "engagement", "Largest boost one round can give a participant (diminishing "
        "returns in spend).", low=0.0, high=1.0, group="hr")
    hr_spend_scale: float = _p(
        400.0, "$/employee/round", "Spend per round at which the boost reaches 63% of its "
        "largest value.", low=1.0, group="hr")
    hr_decay: float = _p(
        0.10, "1/week", "Weekly decay of a programme boost (half-life about 7 weeks).", **SHARE,
        group="hr")
    hr_reach: float = _p(
        0.8, "share", "Participation of fully engaged employees; the least engaged take part "
        "least (participation scales with engagement).", **SHARE, group="hr")

    # --- employees --------------------------------------------------------------------------
    driver_baseline: float = _p(
        0.58, "0-1 score", "Level the four drivers settle at under an average supervisor.",
        **SHARE, group="employees")
    driver_adjustment: float = _p(
        0.06, "1/week", "Rate at which drivers move toward the level their store sets.",
        **SHARE, group="employees")
    driver_noise: float = _p(
        0.015, "0-1 score/week", "Week-to-week idiosyncratic change of each driver.", low=0.0,
        high=0.5, group="employees")
    trait_sd: float = _p(
        0.09, "0-1 score", "Spread of employees' personal disposition toward engagement.",
        low=0.0, high=0.5, group="employees")
    tenure_drift: float = _p(
        0.12, "0-1 score", "Drop of the drivers' level after three years of tenure under a "
        "poor supervisor (none under a perfect one).", low=0.0, high=1.0, group="employees")
    frontline_penalty: float = _p(
        0.05, "0-1 score", "Lower drivers' level in customer-facing roles (Bain/Netsurvey "
        "2013).", low=0.0, high=1.0, group="employees")
    strain_penalty: float = _p(
        0.35, "engagement/strain", "Engagement lost per unit of strain (worry at work or home).",
        low=0.0, high=2.0, group="employees")
    skill_learning: float = _p(
        0.02, "1/week", "Weekly skill gain on the job (faster when engaged).", **SHARE,
        group="employees")
    new_hire_skill: float = _p(
        0.25, "0-1 score", "Skill of a new hire.", **SHARE, group="employees")
    new_hire_engagement: float = _p(
        0.62, "0-1 score", "Drivers of a new hire (a honeymoon above the usual level).",
        **SHARE, group="employees")
    annual_quit_rate: float = _p(
        0.40, "share/year", "Voluntary quits per year of an average-engaged, unstrained "
        "employee (front-line service work).", low=0.0, high=0.99, group="employees")
    quit_engagement_sensitivity: float = _p(
        5.0, "log-hazard/engagement", "How steeply the quit hazard falls with engagement.",
        low=0.0, high=20.0, group="employees")
    quit_strain_sensitivity: float = _p(
        1.5, "x hazard/strain", "Extra quit hazard per unit of strain.", low=0.0, high=20.0,
        group="employees")
    vacancy_fill_rate: float = _p(
        0.5, "share/week", "Share of open positions filled each week.", **SHARE,
        group="employees")
    weekly_wage: float = _p(
        700.0, "$/employee/week", "Pay of a front-line or back-office employee.", low=0.0,
        group="employees")
    hiring_cost_share: float = _p(
        0.21, "share of annual pay", "Hiring and training cost of one hire (median, Boushey & "
        "Glynn 2012).", low=0.0, high=5.0, source="Boushey & Glynn 2012", group="employees")
    severance_weeks: float = _p(
        8.0, "weeks of pay", "Cost of laying off one employee.", low=0.0, high=104.0,
        group="employees")

    # --- work pressure (Oliva & Sterman 2001) -----------------------------------------------
    hours_per_employee: float = _p(
        35.0, "h/week", "Contracted front-line hours per employee.", low=1.0, high=80.0,
        group="work pressure")
    max_overtime: float = _p(
        0.15, "share of hours", "Extra effort staff can give under pressure before cutting "
        "corners.", low=0.0, high=1.0, group="work pressure")
    strain_build: float = _p(
        1.5, "strain/pressure", "Strain reached per unit of pressure above 0.9.", low=0.0,
        high=20.0, group="work pressure")
    strain_adjustment: float = _p(
        0.15, "1/week", "Rate at which strain moves toward what the workload implies.",
        **SHARE, group="work pressure")
    standard_erosion_weeks: float = _p(
        6.0, "weeks", "Time for the service standard to drift down to the time actually "
        "given.", low=1.0, high=520.0, group="work pressure")
    standard_recovery_weeks: float = _p(
        52.0, "weeks", "Time for the service standard to climb back toward the policy when "
        "there is slack.", low=1.0, high=5200.0, group="work pressure")

    # --- service encounter ------------------------------------------------------------------
    service_policy: str = _p(
        "short_contacts", "policy", "Short contacts (fast, lower first-contact resolution) or "
        "first-contact resolution (longer contacts, fewer repeats; seed 003).",
        choices=SERVICE_POLICIES, group="service")
    busyness_emotion_effect: float = _p(
        0.25, "emotion/busyness", "Fall of displayed positive emotion when the store is busy "
        "(Rafaeli & Sutton 1990).", low=0.0, high=2.0, group="service")
    quality_noise: float = _p(
        0.13, "0-1 score", "Encounter-to-encounter variation of service quality.", low=0.0,
        high=1.0, group="service")
    problem_rate: float = _p(
        0.12, "share of contacts", "Share of contacts with a problem at average quality.",
        **SHARE, group="service")
    recovery_effect: float = _p(
        0.08, "integrity", "Integrity gained when a problem is resolved well (service "
        "recovery).", **SHARE, group="service")
    cost_per_contact: float = _p(
        1.5, "$/contact", "Direct cost to serve one contact (materials, systems); repeat "
        "contacts cost the same again.", low=0.0, group="service")

    # --- customers --------------------------------------------------------------------------
    visits_per_week: float = _p(
        0.5, "visits/customer/week", "Visit rate of a customer of middling emotional "
        "engagement.", low=0.0, high=7.0, group="customers")
    visit_engagement_slope: float = _p(
        0.3, "x visits/engagement", "Relative change in visit rate per unit of emotional "
        "engagement (emotion, not rational satisfaction, drives visits).", low=0.0, high=5.0,
        group="customers")
    basket: float = _p(
        60.0, "$/visit", "Spend per visit of a customer of middling engagement.", low=0.0,
        group="customers")
    spend_engagement_slope: float = _p(
        0.22, "x spend/engagement", "Relative change in spend per visit (share of wallet) per "
        "unit of emotional engagement.", low=0.0, high=5.0, group="customers")
    wallet_spread: float = _p(
        0.4, "log-sd", "Spread of customers' wallet sizes.", low=0.0, high=3.0,
        group="customers")
    gross_margin: float = _p(
        0.66, "share of revenue", "Revenue left after cost of goods.", **SHARE,
        group="customers")
    fixed_cost_per_store: float = _p(
        1000.0, "$/store/week", "Rent and overheads of a store of average size.", low=0.0,
        group="customers")
    expectation: float = _p(
        0.738, "0-1 score", "Service quality customers expect; encounters are appraised against "
        "it.", **SHARE, group="customers")
    local_market_spread: float = _p(
        0.05, "0-1 score", "Store-to-store spread of what local customers expect (competition, "
        "neighbourhood): differences in attachment that staff do not cause.", low=0.0,
        high=0.5, group="customers")
    expectation_sd: float = _p(
        0.045, "0-1 score", "Spread of customers' personal expectations.", low=0.0, high=0.5,
        group="customers")
    satisfaction_adjustment: float = _p(
        0.6, "1/visit", "Rate at which rational satisfaction follows encounter quality.",
        **SHARE, group="customers")
    attachment_gain: float = _p(
        0.3, "1/visit", "Gain of an emotional dimension per unit of encounter above "
        "expectation.", low=0.0, high=2.0, group="customers")
    attachment_loss_ratio: float = _p(
        2.5, "x gain", "A bad encounter costs this many times what a good one gains "
        "(asymmetry).", low=1.0, high=20.0, group="customers")
    passion_adjustment: float = _p(
        0.03, "1/week", "Rate at which passion follows the other three dimensions.", **SHARE,
        group="customers")
    annual_churn_rate: float = _p(
        0.22, "share/year", "Churn of a customer of middling emotional engagement.", low=0.0,
        high=0.99, group="customers")
    churn_engagement_sensitivity: float = _p(
        1.7, "log-hazard/engagement", "How steeply the churn hazard falls with emotional "
        "engagement.", low=0.0, high=20.0, group="customers")

    # --- acquisition and word of mouth -------------------------------------------------------
    acquisition_rate: float = _p(
        0.55, "share of base/year", "Customers won by paid marketing per year, as a share of a "
        "store's initial customers, when its whole catchment is untapped.", low=0.0, high=10.0,
        group="acquisition")
    market_size: float = _p(
        2.0, "x initial customers", "Potential customers in a store's catchment; marketing and "
        "referrals convert only the part not yet won, so growth saturates.", low=1.0,
        high=100.0, group="acquisition")
    acquisition_cost: float = _p(
        120.0, "$/customer", "Cost of one customer won by marketing (5-25x the weekly cost of "
        "keeping one).", low=0.0, group="acquisition")
    referral_rate: float = _p(
        0.3, "referrals/fully engaged customer/year", "New customers brought by fully engaged "
        "customers.", low=0.0, high=10.0, group="acquisition")
    deterrence: float = _p(
        0.6, "share/AD share", "Loss of marketing conversions per unit share of actively "
        "disengaged customers.", low=0.0, high=10.0, group="acquisition")

    # --- customer engagement programme (marketing-led) ----------------------------------------
    customer_programme_budget: float = _p(
        0.0, "$/customer/year", "Marketing-led customer engagement programme (pride and "
        "passion campaigns).", low=0.0, group="customer programme")
    customer_programme_effect: float = _p(
        0.03, "attachment/week", "Weekly pull on pride and passion of a $20/customer/year "
        "programme when new.", low=0.0, high=1.0, group="customer programme")
    customer_programme_habituation_weeks: float = _p(
        26.0, "weeks", "Time over which the programme's pull wears off.", low=1.0,
        group="customer programme")
    customer_programme_promise: float = _p(
        0.01, "0-1 score", "Rise in expected service quality the programme's promise causes "
        "(per $20/customer/year).", low=0.0, high=1.0, group="customer programme")

    # --- crisis and company conduct ----------------------------------------------------------
    transparency: float = _p(
        0.0, "0-1 score", "Company's transparency, reassurance and listening in a crisis "
        "(seeds 000/001).", **SHARE, group="crisis")
    crisis_demand_drop: float = _p(
        0.4, "share of visits/severity", "Fall in visits per unit of crisis severity.",
        **SHARE, group="crisis")
    crisis_churn_effect: float = _p(
        1.0, "x hazard/anxiety", "Extra churn hazard per unit of customer anxiety.", low=0.0,
        high=20.0, group="crisis")
    crisis_stress_effect: float = _p(
        0.5, "strain/severity", "Employee strain added per unit of crisis severity.", **SHARE,
        group="crisis")
    anxiety_recovery: float = _p(
        0.05, "1/week", "Weekly fading of anxiety after a crisis without transparency "
        "(transparency up to quadruples it).", **SHARE, group="crisis")
    layoff_brand_damage: float = _p(
        0.10, "integrity and pride", "Fall in customers' integrity and pride when they see "
        "layoffs (doubled in a crisis, halved by full transparency).", **SHARE,
        group="crisis")

    # --- mission and recognition --------------------------------------------------------------
    mission_resonance: float = _p(
        0.3, "0-1 score", "How far the mission resonates with employees (purpose) and "
        "customers (pride) (seed 003).", **SHARE, group="mission")
    frontline_recognition: float = _p(
        0.0, "0-1 score", "Treating the front line as heroes: offsets the front-line penalty "
        "and lifts affiliation.", **SHARE, group="mission")
    recognition_cost: float = _p(
        600.0, "$/front-line employee/year", "Cost of full recognition (scaled by "
        "frontline_recognition).", low=0.0, group="mission")

    # --- staffing rule ------------------------------------------------------------------------
    staffing_rule: str = _p(
        "random", "rule", "Who is put on the front line: the most engaged, at random, or the "
        "least engaged (Markey 2014: often the cheapest).", choices=STAFFING_RULES,
        group="staffing")
    staffing_follows_demand: float = _p(
        1.0, "share", "How far each store's headcount target follows its customer base at "
        "every staffing review (0: the original plan; 1: in proportion to its customers).",
        **SHARE, group="staffing")
    staffing_review_weeks: int = _p(
        13, "weeks", "Weeks between reviews of who works on the front line.", low=1, high=520,
        group="staffing")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check_value(f.name, getattr(self, f.name))

    def replace(self, **changes: Any) -> Parameters:
        """Return a copy with some parameters changed (validated)."""
        unknown = sorted(set(changes) - set(PARAMETER_NAMES))
        if unknown:
            raise ValueError(unknown_parameter_message(unknown[0]))
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parameter_fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Parameters)


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Parameters))
_FIELDS = {f.name: f for f in dataclasses.fields(Parameters)}


def unknown_parameter_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, PARAMETER_NAMES, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{name}'{hint} (see docs/ODD.md for the list)"


def describe_allowed(name: str) -> str:
    """Plain words for what a parameter accepts, e.g. 'a number >= 0 and <= 1'."""
    f = _FIELDS[name]
    meta = f.metadata
    if meta["choices"]:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    kind = "a whole number" if f.type in ("int", int) else "a number"
    bounds = []
    if meta["low"] is not None:
        bounds.append(f">= {meta['low']:g}")
    if meta["high"] is not None:
        bounds.append(f"<= {meta['high']:g}")
    return kind + (" " + " and ".join(bounds) if bounds else "")


def check_value(name: str, value: Any) -> None:
    """Raise ValueError naming the parameter, the value and what is allowed."""
    f = _FIELDS.get(name)
    if f is None:
        raise ValueError(unknown_parameter_message(name))
    meta = f.metadata
    allowed = describe_allowed(name)
    bad = ValueError(f"parameter '{name}' = {value!r} is not allowed: expected {allowed}")
    if meta["choices"]:
        if value not in meta["choices"]:
            raise bad
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    if f.type in ("int", int) and not float(value).is_integer():
        raise bad
    if value != value or value in (float("inf"), float("-inf")):
        raise bad
    if meta["low"] is not None and value < meta["low"]:
        raise bad
    if meta["high"] is not None and value > meta["high"]:
        raise bad


# Where each default comes from: a published figure, or the target it was calibrated to.
SOURCES = {
    "n_stores": "scale of a regional chain; any size works",
    "employees_per_store": "scale choice; staff per customer sets the workload",
    "customers_per_store": "scale choice",
    "store_size_spread": "Human Sigma: unit performance roughly normal, wide spread",
    "staffing_spread": "scale choice: some stores run above 90% of capacity",
    "frontline_share": "typical service chain",
    "staffing_level": "policy lever",
    "supervisor_quality_mean": "scale midpoint",
    "supervisor_quality_sd": "target 4 (managers >= 70% of unit variance)",
    "supervisor_climate_effect": "targets 4 and 5 (unit spread of engagement)",
    "coaching_hours": "policy lever; a little coaching in a typical firm",
    "coaching_targeting": "policy lever (Markey 2014)",
    "coaching_effect": "plausible gains: 4 h/week raises engagement about 0.02-0.03",
    "supervisor_weekly_wage": "US retail/service supervisor pay",
    "hr_budget": "policy lever",
    "hr_cadence_weeks": "quarterly programmes",
    "hr_effect": "small boosts (Markey 2014: HR programmes are not the lever)",
    "hr_spend_scale": "diminishing returns above a few hundred dollars a round",
    "hr_decay": "boosts fade within a quarter",
    "hr_reach": "uneven reach (least engaged take part least)",
    "driver_baseline": "Gallup: about 30% engaged, 50% not, 20% actively disengaged",
    "driver_adjustment": "drivers respond within a few months",
    "driver_noise": "week-to-week variation",
    "trait_sd": "employee segment shares (Gallup)",
    "tenure_drift": "Bain/Netsurvey 2013: engagement falls with tenure",
    "frontline_penalty": "Bain/Netsurvey 2013: lowest in sales and service roles",
    "strain_penalty": "seed 002: staff worried about problems serve worse",
    "skill_learning": "a new hire reaches most of full skill within a year",
    "new_hire_skill": "Markey 2014: new hires start with low skill",
    "new_hire_engagement": "honeymoon of new hires",
    "annual_quit_rate": "service-sector turnover about 40-60%/year",
    "quit_engagement_sensitivity": "target 5 (turnover -25% to -65%, top vs bottom quartile)",
    "quit_strain_sensitivity": "Oliva & Sterman 2001: fatigue raises turnover",
    "vacancy_fill_rate": "vacancies open about two weeks",
    "weekly_wage": "US front-line pay about $36,000/year",
    "hiring_cost_share": "Boushey & Glynn 2012: median 21% of annual pay",
    "severance_weeks": "typical severance",
    "hours_per_employee": "contracted hours",
    "max_overtime": "Oliva & Sterman 2001: effort before corner cutting",
    "strain_build": "Oliva & Sterman 2001: fatigue under sustained pressure",
    "strain_adjustment": "fatigue builds and fades over weeks",
    "standard_erosion_weeks": "Oliva & Sterman 2001: standards erode quickly",
    "standard_recovery_weeks": "Oliva & Sterman 2001: and recover slowly (target 8)",
    "service_policy": "policy lever (seed 003)",
    "busyness_emotion_effect": "Rafaeli & Sutton 1990; Pugh 2001",
    "quality_noise": "encounter-to-encounter variation",
    "problem_rate": "share of contacts with a problem",
    "recovery_effect": "service recovery builds integrity (Human Sigma)",
    "cost_per_contact": "direct cost to serve",
    "visits_per_week": "a visit every other week",
    "visit_engagement_slope": "target 2 (+23% / -13% revenue by segment)",
    "basket": "scale choice",
    "spend_engagement_slope": "target 2 (+23% / -13% revenue by segment)",
    "wallet_spread": "heterogeneous wallets",
    "gross_margin": "target 1 (quadrant ratios need a typical margin of about 15%)",
    "fixed_cost_per_store": "target 1",
    "expectation": "target 2 (19% fully engaged, 24% actively disengaged)",
    "local_market_spread": "target 5 (unit correlation of employee with customer "
                           "engagement about 0.3)",
    "expectation_sd": "target 2 (segment shares)",
    "satisfaction_adjustment": "rational satisfaction follows the last encounters",
    "attachment_gain": "emotional attachment moves over months (seed 002)",
    "attachment_loss_ratio": "negativity bias: a bad encounter weighs 2-3 good ones",
    "passion_adjustment": "passion builds slowly on the other three",
    "annual_churn_rate": "retail-bank and service churn about 20%/year",
    "churn_engagement_sensitivity": "target 3 (emotionally satisfied churn about 37% less)",
    "acquisition_rate": "keeps the default chain's customer base about stable",
    "market_size": "catchments saturate",
    "acquisition_cost": "5-25x the cost of keeping a customer",
    "referral_rate": "word of mouth of fully engaged customers",
    "deterrence": "word of mouth of actively disengaged customers",
    "customer_programme_budget": "policy lever",
    "customer_programme_effect": "target 7 (customer-only gains erode)",
    "customer_programme_habituation_weeks": "target 7",
    "customer_programme_promise": "target 7",
    "transparency": "policy lever (seeds 000/001)",
    "crisis_demand_drop": "pandemic-like fall in visits",
    "crisis_churn_effect": "anxiety raises churn (seeds 000/001)",
    "crisis_stress_effect": "stress weighs on staff (seeds 000/001)",
    "anxiety_recovery": "seeds 000/001: reassurance and transparency speed recovery",
    "layoff_brand_damage": "seed 000: customers watch how staff are treated",
    "mission_resonance": "policy lever (seed 003)",
    "frontline_recognition": "policy lever (seed 003: the front line as heroes)",
    "recognition_cost": "modest recognition budget",
    "staffing_rule": "policy lever (Markey 2014)",
    "staffing_follows_demand": "chains re-plan labour to traffic each quarter",
    "staffing_review_weeks": "quarterly reviews",
}


def parameter_table() -> list[dict[str, Any]]:
    """Rows for the ODD parameter table and for documentation tools."""
    rows = []
    for f in dataclasses.fields(Parameters):
        m = f.metadata
        rows.append({
            "name": f.name,
            "group": m["group"],
            "meaning": m["doc"],
            "unit": m["unit"],
            "default": f.default,
            "allowed": describe_allowed(f.name),
            "source": SOURCES.get(f.name, m["source"]),
        })
    return rows


ODD_TABLE_START = "<!-- parameters:start (generated by `make docs`) -->"
ODD_TABLE_END = "<!-- parameters:end -->"


def markdown_table() -> str:
    """The ODD parameter table, one row per parameter, grouped as in the dataclass."""
    lines = ["| group | name | meaning | unit | default | allowed | source |",
             "|---|---|---|---|---|---|---|"]
    for row in parameter_table():
        default = repr(row["default"]) if isinstance(row["default"], str) else f"{row['default']:g}"
        lines.append(f"| {row['group']} | `{row['name']}` | {row['meaning']} | {row['unit']} | "
                     f"{default} | {row['allowed']} | {row['source']} |")
    return "\n".join(lines)


def write_odd_table(path: str = "docs/ODD.md") -> None:
    """Rewrite the ODD document's generated tables (parameters, reporters) between their
    markers."""
    from sim.model import reporters

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    for start, end, table in ((ODD_TABLE_START, ODD_TABLE_END, markdown_table()),
                              (reporters.ODD_TABLE_START, reporters.ODD_TABLE_END,
                               reporters.markdown_table())):
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{table}\n{end}{tail}"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
