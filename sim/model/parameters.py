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
HR_REACH_RULES = ("everyone", "engaged_more")


def _p(
    default: Any,
    unit: str,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    group: str = "",
) -> Any:
    meta = {
        "unit": unit,
        "doc": doc,
        "low": low,
        "high": high,
        "choices": choices,
        "group": group,
    }
    return field(default=default, metadata=meta)


SHARE = {"low": 0.0, "high": 1.0}
# Money parameters have upper bounds (1e4 to 1e7, far above any real chain) so that no
# accepted value can make a sum overflow to inf or NaN (issue 9). A chain beyond these sizes
# would exhaust memory rather than answer a question.
MAX_CUSTOMERS = 2_000_000
MAX_STAFF = 200_000


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
        0.0094, "engagement/h", "Engagement gain from one hour of coaching by an average (0.5) "
        "supervisor for an employee of engagement 0.5 (less for the engaged, more for the "
        "disengaged).", low=0.0, high=1.0, group="supervision")
    coaching_decay: float = _p(
        0.06, "1/week", "Weekly fading of coaching's gain (half-life about 11 weeks).", **SHARE,
        group="supervision")
    coaching_skill_share: float = _p(
        0.55, "skill/engagement", "Skill gained per unit of engagement gained from coaching "
        "(coaching teaches).", low=0.0, high=5.0, group="supervision")
    supervisor_weekly_wage: float = _p(
        1400.0, "$/supervisor/week", "Supervisor pay (40 h); coaching time is costed at its "
        "hourly rate.", low=0.0, high=1e5, group="supervision")

    # --- HR programmes ----------------------------------------------------------------------
    hr_budget: float = _p(
        0.0, "$/employee/year", "Company-wide engagement programme spend.", low=0.0, high=1e6,
        group="hr")
    hr_cadence_weeks: int = _p(
        13, "weeks", "Weeks between programme rounds (spend is paid at each round).", low=1,
        high=520, group="hr")
    hr_effect: float = _p(
        0.038, "engagement", "Largest engagement gain one round can give a participant of "
        "engagement 0.5 (diminishing returns in spend: 63% of it at `hr_spend_scale`).",
        low=0.0, high=1.0, group="hr")
    hr_spend_scale: float = _p(
        400.0, "$/employee/round", "Typical spend per participant of a published programme: "
        "the gain reaches 63% of its largest value there.", low=1.0, high=1e6, group="hr")
    hr_decay: float = _p(
        0.06, "1/week", "Weekly fading of a programme round's gain (half-life about 11 weeks).",
        **SHARE, group="hr")
    hr_reach: float = _p(
        0.8, "share", "Share of employees who take part in a round.", **SHARE, group="hr")
    hr_reach_rule: str = _p(
        "everyone", "rule", "Who takes part: anyone with chance `hr_reach`, or "
        "'engaged_more' (chance `hr_reach` x engagement: the least engaged least).",
        choices=HR_REACH_RULES, group="hr")
    hr_skill_share: float = _p(
        0.0, "skill/engagement", "Skill gained per unit of engagement gained from a programme "
        "round.", low=0.0, high=5.0, group="hr")

    # --- reciprocity -------------------------------------------------------------------------
    reciprocity_strength: float = _p(
        0.08, "0-1 score/share", "How strongly the customers staff serve act back on them: "
        "purpose and affiliation rise with the share of fully engaged visitors, strain with "
        "the share of hostile visitors and repeat complaints (each above a typical firm's "
        "mix). 0 switches the loop off.", low=0.0, high=5.0, group="reciprocity")

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
        700.0, "$/employee/week", "Pay of a front-line or back-office employee.", low=0.0, high=1e5,
        group="employees")
    hiring_cost_share: float = _p(
        0.21, "share of annual pay", "Hiring and training cost of one hire (median, Boushey & "
        "Glynn 2012).", low=0.0, high=5.0, group="employees")
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
    min_service_share: float = _p(
        0.5, "share of standard", "Least time per contact staff give before contacts go "
        "unserved (wait in vain, walk out).", low=0.05, high=1.0, group="work pressure")
    unserved_churn: float = _p(
        0.15, "share", "Chance that a visitor nobody served takes their business elsewhere "
        "at once.", **SHARE, group="work pressure")
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
        "contacts cost the same again.", low=0.0, high=1e4, group="service")

    # --- customers --------------------------------------------------------------------------
    visits_per_week: float = _p(
        0.5, "visits/customer/week", "Visit rate of a customer of middling emotional "
        "engagement.", low=0.0, high=7.0, group="customers")
    visit_engagement_slope: float = _p(
        0.3, "x visits/engagement", "Relative change in visit rate per unit of emotional "
        "engagement (emotion, not rational satisfaction, drives visits).", low=0.0, high=5.0,
        group="customers")
    basket: float = _p(
        60.0, "$/visit", "Spend per visit of a customer of middling engagement.", low=0.0, high=1e5,
        group="customers")
    spend_engagement_slope: float = _p(
        0.22, "x spend/engagement", "Relative change in spend per visit (share of wallet) per "
        "unit of emotional engagement.", low=0.0, high=5.0, group="customers")
    wallet_spread: float = _p(
        0.4, "log-sd", "Spread of customers' wallet sizes.", low=0.0, high=3.0,
        group="customers")
    gross_margin: float = _p(
        0.67, "share of revenue", "Revenue left after cost of goods.", **SHARE,
        group="customers")
    fixed_cost_per_store: float = _p(
        2000.0, "$/store/week", "Rent and overheads of a store of average size.", low=0.0, high=1e7,
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
        "keeping one).", low=0.0, high=1e6, group="acquisition")
    referral_rate: float = _p(
        0.3, "referrals/fully engaged customer/year", "New customers brought by fully engaged "
        "customers.", low=0.0, high=10.0, group="acquisition")
    deterrence: float = _p(
        0.6, "share/AD share", "Loss of marketing conversions per unit share of actively "
        "disengaged customers.", low=0.0, high=10.0, group="acquisition")

    # --- customer engagement programme (marketing-led) ----------------------------------------
    customer_programme_budget: float = _p(
        0.0, "$/customer/year", "Marketing-led customer engagement programme (pride and "
        "passion campaigns).", low=0.0, high=1e4, group="customer programme")
    customer_programme_effect: float = _p(
        0.03, "attachment/week", "Weekly pull on pride and passion of a $20/customer/year "
        "programme while it runs.", low=0.0, high=1.0, group="customer programme")
    customer_programme_promise: float = _p(
        0.03, "0-1 score", "Rise in the service quality customers expect that the "
        "programme's promise causes once they have adapted to it (per $20/customer/year).",
        low=0.0, high=1.0, group="customer programme")
    expectation_adaptation_weeks: float = _p(
        26.0, "weeks", "Time customers take to adapt what they expect to a programme's promise "
        "(and back when it stops).", low=1.0, high=520.0, group="customer programme")

    # --- crisis and company conduct ----------------------------------------------------------
    transparency: float = _p(
        0.0, "0-1 score", "Company's transparency, reassurance and listening in a crisis "
        "(seeds 000/001).", **SHARE, group="crisis")
    transparency_cushion: float = _p(
        0.5, "share", "Share of a blow (staff's crisis stress and layoff stress, customers' "
        "anxiety, layoff damage to the brand) that full transparency absorbs.", **SHARE,
        group="crisis")
    transparency_recovery_boost: float = _p(
        3.0, "x recovery", "Extra speed of anxiety's fading after a crisis under full "
        "transparency (3: four times as fast).", low=0.0, high=20.0, group="crisis")
    candour_effect: float = _p(
        0.020, "engagement", "Engagement gain (booked to affiliation: being heard) that full "
        "transparency sustains in every employee of engagement 0.5 through a crisis of "
        "severity 1 (dose: transparency x severity each crisis week).", low=0.0, high=1.0,
        group="crisis")
    candour_decay: float = _p(
        0.06, "1/week", "Weekly fading of candour's gain once the crisis is over (half-life "
        "about 11 weeks).", **SHARE, group="crisis")
    candour_integrity: float = _p(
        0.01, "integrity/week", "Weekly pull on customers' integrity per unit of transparency "
        "x crisis severity (a company that levels with them in a crisis).", **SHARE,
        group="crisis")
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
    mission_effect: float = _p(
        0.020, "engagement/resonance", "Engagement gain (booked to purpose) sustained in every "
        "employee of engagement 0.5 per unit of mission resonance above a typical firm's 0.3 "
        "(a loss below it).", low=0.0, high=1.0, group="mission")
    mission_decay: float = _p(
        0.06, "1/week", "Weekly fading of the mission's gain after the resonance changes "
        "(half-life about 11 weeks).", **SHARE, group="mission")
    mission_pride_pull: float = _p(
        0.004, "pride/week", "Weekly pull on customers' pride per unit of mission resonance "
        "(pride moves over years).", **SHARE, group="mission")
    frontline_recognition: float = _p(
        0.0, "0-1 score", "Treating the front line as heroes: the weekly dose of the "
        "recognition channel each front-line employee receives.", **SHARE, group="mission")
    recognition_effect: float = _p(
        0.020, "engagement", "Engagement gain (booked to affiliation) full recognition "
        "sustains in a front-line employee of engagement 0.5.", low=0.0, high=1.0,
        group="mission")
    recognition_decay: float = _p(
        0.06, "1/week", "Weekly fading of recognition's gain once it stops (half-life about "
        "11 weeks).", **SHARE, group="mission")
    recognition_cost: float = _p(
        600.0, "$/front-line employee/year", "Cost of full recognition (scaled by "
        "frontline_recognition).", low=0.0, high=1e6, group="mission")

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
        too_big = chain_size_problem(self.n_stores, self.employees_per_store,
                                     self.customers_per_store)
        if too_big:
            raise ValueError(f"{too_big[0]}; allowed: {too_big[1]}")

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


def chain_size_problem(n_stores: int, employees_per_store: int,
                       customers_per_store: int) -> tuple[str, str] | None:
    """(problem, what is allowed) if the chain is too big to simulate, else None."""
    for count, limit, what in ((n_stores * customers_per_store, MAX_CUSTOMERS, "customers"),
                               (n_stores * employees_per_store, MAX_STAFF, "employees")):
        if count > limit:
            shown = f"{int(count):,}" if count < 10**15 else f"over 10^{len(str(int(count))) - 1}"
            return (f"the chain would have {shown} {what}",
                    f"at most {limit:,} {what} (n_stores x {what}_per_store)")
    return None


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
    # Whole numbers are compared as integers: float() of a 400-digit number overflows.
    if f.type in ("int", int) and isinstance(value, float) and not value.is_integer():
        raise bad
    if value != value or value in (float("inf"), float("-inf")):
        raise bad
    if meta["low"] is not None and value < meta["low"]:
        raise bad
    if meta["high"] is not None and value > meta["high"]:
        raise bad


# --- provenance -------------------------------------------------------------------------------
# Where each default comes from, as one of three kinds (MODEL_NOTES "Calibration honesty"):
#   published: a published number and its reference;
#   fitted:    fitted to a named calibration target (validation.TARGETS), by the stated procedure;
#   assumed:   a modelling choice, with the reason it is acceptable.
# No source may cite the conclusion the parameter then produces (tests/test_parameters.py).
PROVENANCE_KINDS = ("published", "fitted", "assumed")


@dataclass(frozen=True)
class Provenance:
    """Where a parameter's default comes from."""

    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


def published(text: str) -> Provenance:
    return Provenance("published", text)


def fitted(text: str) -> Provenance:
    return Provenance("fitted", text)


def assumed(text: str) -> Provenance:
    return Provenance("assumed", text)


# The standardised-effect conversion rule: a published standardised effect d (Cohen's d,
# Hedges' g, δ) on engagement is d x ENGAGEMENT_SD on the model's 0-1 engagement score, where
# ENGAGEMENT_SD is the simulated between-employee SD of engagement in the default chain (a test
# keeps it true).
ENGAGEMENT_SD = 0.083

# The continuous employee-side policies (recognition, mission, crisis candour) have no
# meta-analysed effect on engagement of their own: each is given the pooled effect of
# controlled work-engagement interventions, so none gets an advantage or a handicap the
# evidence does not give, and each shares coaching's and HR programmes' persistence prior.
_POOLED = ("the pooled effect of controlled work-engagement interventions (Virga, Maricutoiu "
           "& Iancu 2021, k = 54: d = 0.24, 95% CI 0.16-0.32) x ENGAGEMENT_SD = 0.020")
_SAME_PERSISTENCE = ("no meta-analytic persistence figure for any employee-side policy: the "
                     "same prior as coaching_decay and hr_decay")

PROVENANCE: dict[str, Provenance] = {
    "n_stores": assumed("scale of a regional chain; results are read per store, any size works"),
    "employees_per_store": assumed("scale choice; staff per customer sets the workload"),
    "customers_per_store": assumed("scale choice"),
    "store_size_spread": assumed("Human Sigma: unit performance is widely spread; no published "
                                 "size SD for one chain"),
    "staffing_spread": assumed("some stores run above 90% of capacity, as in Oliva & Sterman's "
                               "service centre"),
    "frontline_share": assumed("typical service outlet"),
    "staffing_level": assumed("policy lever (1 = the plan)"),
    "supervisor_quality_mean": assumed("scale midpoint"),
    "supervisor_quality_sd": fitted("target 4 (managers >= 70% of unit variance)"),
    "supervisor_climate_effect": fitted("targets 4 and 5 (unit spread of engagement)"),
    "coaching_hours": assumed("policy lever; a little coaching in a typical firm"),
    "coaching_targeting": assumed("policy lever (Markey 2014 describes the practice)"),
    "coaching_effect": published(
        "Jones, Woods & Guillaume 2016 (k = 17): workplace coaching δ = 0.51 on affective "
        "outcomes; read as the gain at the end of six one-hour sessions two weeks apart: "
        "0.51 x ENGAGEMENT_SD / rules.programme_gain_at_end(6, 2, coaching_decay)"),
    "coaching_decay": assumed(
        "no meta-analytic persistence figure for coaching or for HR programmes: the same prior "
        "for both, gains fading as fast as drivers return to their level (driver_adjustment)"),
    "coaching_skill_share": published(
        "Jones, Woods & Guillaume 2016: skill-based δ = 0.28 vs affective 0.51, ratio 0.55"),
    "supervisor_weekly_wage": assumed("US retail/service supervisor pay, about $73,000/year"),
    "hr_budget": assumed("policy lever"),
    "hr_cadence_weeks": assumed("quarterly programme rounds"),
    "hr_effect": published(
        "Knight, Patterson & Dawson 2017 (k = 14): work-engagement interventions g = 0.29 "
        "(95% CI 0.12-0.46), read as the gain right after one round at the typical spend per "
        "participant (hr_spend_scale), as coaching's is read at a typical dose: 0.29 x "
        "ENGAGEMENT_SD / (1 - exp(-1))"),
    "hr_spend_scale": assumed("no published cost per participant for the interventions "
                              "Knight et al. pool; wide distribution"),
    "hr_decay": assumed(
        "no meta-analytic persistence figure for coaching or for HR programmes: the same prior "
        "for both (see coaching_decay)"),
    "hr_reach": assumed("Knight et al. 2017 report variable implementation and uptake"),
    "hr_reach_rule": assumed("no evidence on who takes part in engagement programmes: "
                             "uniform by default, self-selection as an option"),
    "hr_skill_share": assumed("Knight et al. 2017 report engagement outcomes only"),
    "reciprocity_strength": fitted(
        "targets 4 and 5: direction from customer-mistreatment and emotional-labour studies "
        "(Dormann & Zapf 2004; Wang, Liao, Zhan & Shi 2011) and beneficiary contact (Grant et "
        "al. 2007), no published size; above about 0.1 the loop spreads stores beyond the "
        "unit correlation and quartile bands, so the largest value inside them"),
    "driver_baseline": fitted("Gallup employee segments: about 30% engaged, 50% not, 20% "
                              "actively disengaged"),
    "driver_adjustment": assumed("drivers respond within a few months"),
    "driver_noise": assumed("week-to-week variation"),
    "trait_sd": fitted("Gallup employee segments (about 30% engaged, 20% actively "
                       "disengaged)"),
    "tenure_drift": assumed("Bain/Netsurvey 2013 report engagement falling with tenure; size "
                            "not published"),
    "frontline_penalty": assumed("Bain/Netsurvey 2013 report engagement lowest in sales and "
                                 "service roles; size not published"),
    "strain_penalty": assumed("seed 002: staff worried about problems serve worse; size not "
                              "published"),
    "skill_learning": assumed("a new hire reaches most of full skill within a year"),
    "new_hire_skill": assumed("Markey 2014: new hires start with low skill"),
    "new_hire_engagement": assumed("honeymoon of new hires"),
    "annual_quit_rate": published("US accommodation/food-service and retail quits about "
                                  "40-60%/year (BLS JOLTS annual quits rates)"),
    "quit_engagement_sensitivity": fitted("target 5 (turnover -25% to -65%, top vs bottom "
                                          "quartile)"),
    "quit_strain_sensitivity": assumed("Oliva & Sterman 2001: fatigue raises turnover"),
    "vacancy_fill_rate": assumed("vacancies open about two weeks"),
    "weekly_wage": published("US front-line service pay about $36,000/year (BLS OES)"),
    "hiring_cost_share": published("Boushey & Glynn 2012: median 21% of annual pay"),
    "severance_weeks": assumed("typical severance"),
    "hours_per_employee": assumed("contracted hours"),
    "max_overtime": assumed("Oliva & Sterman 2001: effort before corner cutting"),
    "strain_build": assumed("Oliva & Sterman 2001: fatigue under sustained pressure"),
    "strain_adjustment": assumed("fatigue builds and fades over weeks"),
    "min_service_share": assumed("staff will cut a contact to about half its design time "
                                 "before customers go unserved; service needs people"),
    "unserved_churn": assumed("a customer turned away often tries elsewhere; no published "
                              "rate for this setting"),
    "standard_erosion_weeks": assumed("Oliva & Sterman 2001: standards erode quickly"),
    "standard_recovery_weeks": fitted("target 8 (Oliva & Sterman 2001: standards recover "
                                      "slowly)"),
    "service_policy": assumed("policy lever (seed 003)"),
    "busyness_emotion_effect": assumed("Rafaeli & Sutton 1990; Pugh 2001 (direction, not "
                                       "size)"),
    "quality_noise": assumed("encounter-to-encounter variation"),
    "problem_rate": assumed("share of contacts with a problem"),
    "recovery_effect": assumed("service recovery builds integrity (Human Sigma)"),
    "cost_per_contact": assumed("direct cost to serve"),
    "visits_per_week": assumed("a visit every other week"),
    "visit_engagement_slope": fitted("target 2 (+23% / -13% revenue by segment)"),
    "basket": assumed("scale choice"),
    "spend_engagement_slope": fitted("target 2 (+23% / -13% revenue by segment)"),
    "wallet_spread": assumed("heterogeneous wallets"),
    "gross_margin": published(
        "NRA & Deloitte, Restaurant Industry Operations Report 2010: food and beverage cost "
        "about one third of sales (margin about 0.67), the cost structure of a service outlet "
        "whose labour is also about a third of sales, as here"),
    "fixed_cost_per_store": published(
        "US Census Bureau Business Expenses Survey 2007, food-service establishments (as "
        "reported by Dorfman 2013): lease and rental payments 8% of expenses, about $2,000 a "
        "week of the default store's $25,000 of expenses"),
    "expectation": fitted("target 2 (19% fully engaged, 24% actively disengaged)"),
    "local_market_spread": fitted("target 5 (unit correlation of employee with customer "
                                  "engagement about 0.3)"),
    "expectation_sd": fitted("target 2 (segment shares)"),
    "satisfaction_adjustment": assumed("rational satisfaction follows the last encounters"),
    "attachment_gain": assumed("emotional attachment moves over months (seed 002)"),
    "attachment_loss_ratio": published("negativity bias: bad events weigh about 2-3 good ones "
                                       "(Baumeister et al. 2001)"),
    "passion_adjustment": assumed("passion builds slowly on the other three"),
    "annual_churn_rate": assumed("retail-bank and service churn about 20%/year"),
    "churn_engagement_sensitivity": fitted("target 3 (emotionally satisfied churn about 37% "
                                           "less)"),
    "acquisition_rate": assumed("keeps the default chain's customer base about stable"),
    "market_size": assumed("catchments saturate"),
    "acquisition_cost": assumed("acquiring costs 5-25x keeping a customer (commonly cited)"),
    "referral_rate": assumed("word of mouth of fully engaged customers"),
    "deterrence": assumed("word of mouth of actively disengaged customers"),
    "customer_programme_budget": assumed("policy lever"),
    "customer_programme_effect": assumed("a campaign moves attachment over weeks"),
    "customer_programme_promise": assumed(
        "a programme's promise raises what customers expect (Oliver 1980, "
        "expectation-disconfirmation); size not published: a quarter of the encounter-to-"
        "encounter spread of quality (quality_noise) per $20/customer/year, set before any "
        "run of the erosion measure"),
    "expectation_adaptation_weeks": assumed(
        "expectations adapt to a brand's promise over months (Oliver 1980: expectations are "
        "an adaptation level); size not published"),
    "transparency": assumed("policy lever (seeds 000/001)"),
    "transparency_cushion": assumed(
        "seeds 000/001: reassurance and candour soften a crisis for staff and customers; size "
        "not published: half of a blow at full transparency"),
    "transparency_recovery_boost": assumed(
        "seeds 000/001: reassurance speeds recovery; size not published"),
    "candour_effect": assumed(
        "no meta-analysis of crisis candour's effect on engagement found; read as "
        + _POOLED + ", for full transparency through a crisis of severity 1"),
    "candour_decay": assumed(_SAME_PERSISTENCE),
    "candour_integrity": assumed(
        "seeds 000/001: customers trust a company that levels with them in a crisis; size not "
        "published: a crisis of severity 1 with full transparency moves integrity by about a "
        "tenth of its range in ten weeks"),
    "crisis_demand_drop": assumed("pandemic-like fall in visits"),
    "crisis_churn_effect": assumed("anxiety raises churn (seeds 000/001)"),
    "crisis_stress_effect": assumed("stress weighs on staff (seeds 000/001)"),
    "anxiety_recovery": assumed("seeds 000/001: reassurance and transparency speed recovery"),
    "layoff_brand_damage": assumed("seed 000: customers watch how staff are treated"),
    "mission_resonance": assumed("policy lever (seed 003)"),
    "mission_effect": assumed(
        "no meta-analysis of a mission's effect on engagement found (Grant 2008 shows the "
        "direction: contact with the work's beneficiaries raises effort); read as "
        + _POOLED + ", per unit of resonance"),
    "mission_decay": assumed(_SAME_PERSISTENCE),
    "mission_pride_pull": assumed(
        "seed 003: customers take pride in a brand whose mission they share; size not "
        "published: small (pride, a broad judgement, moves over years)"),
    "frontline_recognition": assumed("policy lever (seed 003: the front line as heroes)"),
    "recognition_effect": assumed(
        "no meta-analysis of recognition's effect on engagement found (Stajkovic & Luthans "
        "2003 report social recognition's effect on performance, not engagement); read as "
        + _POOLED + ", for full recognition"),
    "recognition_decay": assumed(_SAME_PERSISTENCE),
    "recognition_cost": assumed("modest recognition budget"),
    "staffing_rule": assumed("policy lever (Markey 2014)"),
    "staffing_follows_demand": assumed("chains re-plan labour to traffic each quarter"),
    "staffing_review_weeks": assumed("quarterly reviews"),
}


def provenance(name: str) -> Provenance:
    """The provenance of a parameter's default (KeyError if it has none: a test forbids that)."""
    return PROVENANCE[name]


def provenance_counts() -> dict[str, int]:
    """How many parameters are published, fitted and assumed."""
    counts = dict.fromkeys(PROVENANCE_KINDS, 0)
    for name in PARAMETER_NAMES:
        counts[PROVENANCE[name].kind] += 1
    return counts


# --- uncertainty ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Uncertain:
    """A parameter whose value the evidence leaves uncertain: a normal distribution truncated to
    [low, high], with the source of its centre and spread."""

    mean: float
    sd: float
    low: float
    high: float
    source: str

    def describe(self) -> str:
        return (f"normal(mean {self.mean:g}, sd {self.sd:g}) truncated to [{self.low:g}, "
                f"{self.high:g}]")


# Parameters drawn per replication under `uncertainty: evidence` (sim.studies.uncertainty).
UNCERTAIN: dict[str, Uncertain] = {
    "coaching_effect": Uncertain(
        0.0094, 0.0028, 0.0, 0.05, "Jones et al. 2016 δ = 0.51; SD 0.15 in δ units (the "
        "spread of coaching meta-analyses, Theeboom et al. 2014: g 0.43-0.74), converted alike"),
    "coaching_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: half-life from about 3 weeks to over a year; the "
        "same distribution as hr_decay"),
    "hr_effect": Uncertain(
        0.038, 0.0114, 0.0, 0.15, "Knight, Patterson & Dawson 2017: g = 0.29, 95% CI "
        "0.12-0.46, SD = CI width / 3.92, converted alike"),
    "hr_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "hr_reach": Uncertain(
        0.8, 0.15, 0.2, 1.0, "assumed: uptake varies between programmes (Knight et al. 2017: "
        "implementation success varied)"),
    "hr_spend_scale": Uncertain(
        400.0, 200.0, 50.0, 1500.0, "assumed: no published cost per participant"),
    "recognition_effect": Uncertain(
        0.020, 0.010, 0.0, 0.08, "assumed: the pooled engagement-intervention d = 0.24 with SD "
        "0.12 in d units (three times the meta-analytic SE: the transfer to recognition is "
        "itself uncertain), converted alike"),
    "recognition_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "mission_effect": Uncertain(
        0.020, 0.010, 0.0, 0.08, "assumed: as recognition_effect"),
    "mission_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "candour_effect": Uncertain(
        0.020, 0.010, 0.0, 0.08, "assumed: as recognition_effect"),
    "candour_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "transparency_cushion": Uncertain(
        0.5, 0.2, 0.0, 1.0, "assumed: no published size; from none to all of a blow"),
    "transparency_recovery_boost": Uncertain(
        3.0, 1.5, 0.0, 10.0, "assumed: no published size; coefficient of variation 0.5"),
    "mission_pride_pull": Uncertain(
        0.004, 0.002, 0.0, 0.02, "assumed: no published size; coefficient of variation 0.5"),
    "candour_integrity": Uncertain(
        0.01, 0.005, 0.0, 0.05, "assumed: no published size; coefficient of variation 0.5"),
    "reciprocity_strength": Uncertain(
        0.08, 0.04, 0.0, 0.25, "assumed: no published size; from none to three times the "
        "default"),
    "customer_programme_promise": Uncertain(
        0.03, 0.015, 0.0, 0.1, "assumed: no published size; coefficient of variation 0.5"),
    "expectation_adaptation_weeks": Uncertain(
        26.0, 13.0, 4.0, 104.0, "assumed: from a month to two years"),
    "customer_programme_effect": Uncertain(
        0.03, 0.015, 0.0, 0.2, "assumed: no published effect of a loyalty campaign on "
        "attachment; coefficient of variation 0.5"),
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
            "provenance": PROVENANCE[f.name].kind,
            "source": PROVENANCE[f.name].text,
            "uncertainty": UNCERTAIN[f.name].describe() if f.name in UNCERTAIN else "",
        })
    return rows


ODD_TABLE_START = "<!-- parameters:start (generated by `make docs`) -->"
ODD_TABLE_END = "<!-- parameters:end -->"


def markdown_table() -> str:
    """The ODD parameter table, one row per parameter, grouped as in the dataclass."""
    lines = ["| group | name | meaning | unit | default | allowed | provenance | source |",
             "|---|---|---|---|---|---|---|---|"]
    for row in parameter_table():
        default = repr(row["default"]) if isinstance(row["default"], str) else f"{row['default']:g}"
        source = row["source"]
        if row["uncertainty"]:
            source += (f". **Uncertain:** {row['uncertainty']} "
                       f"({UNCERTAIN[row['name']].source})")
        lines.append(f"| {row['group']} | `{row['name']}` | {row['meaning']} | {row['unit']} | "
                     f"{default} | {row['allowed']} | {row['provenance']} | {source} |")
    counts = provenance_counts()
    lines += ["", "Provenance of the defaults: " + ", ".join(
        f"{n} {kind}" for kind, n in counts.items()) + f"; {len(UNCERTAIN)} parameters carry "
        "a distribution drawn under `uncertainty: evidence`."]
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
