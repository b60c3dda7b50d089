"""The model's parameters: one declaration gives each its default, unit, bounds and meaning.

Everything that needs the parameter list (the model's signature and docstring, validation in
`sim.model.checks`, provenance and the ODD table in `sim.model.sources`, scenario schemas, the
browser view's controls) reads it from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STAFFING_RULES = ("random", "most_engaged", "least_engaged")
COACHING_TARGETS = ("least_engaged", "random", "most_engaged")
SERVICE_POLICIES = ("short_contacts", "first_contact_resolution")
HR_REACH_RULES = ("everyone", "engaged_more")
RECIPROCITY_CHANNELS = ("both", "gratitude", "hostility")


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
        0.177, "0-1 score", "Store-to-store spread of supervisor quality: the main source of "
        "between-store variance (Beck & Harter 2015).", low=0.0, high=0.5, group="supervision")
    supervisor_climate_effect: float = _p(
        0.364, "engagement/quality", "How strongly the supervisor's quality sets the drivers' "
        "level that employees settle at.", low=0.0, high=3.0, group="supervision")
    coaching_hours: float = _p(
        0.5, "h/supervisor/week", "Coaching time each supervisor spends per week (one hour per "
        "coached employee).", low=0.0, high=40.0, group="supervision")
    coaching_targeting: str = _p(
        "least_engaged", "rule", "Which employees a supervisor coaches first.",
        choices=COACHING_TARGETS, group="supervision")
    coaching_effect: float = _p(
        0.0117, "engagement/h", "Engagement gain from one hour of coaching by an average (0.5) "
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
        0.0473, "engagement", "Largest engagement gain one round can give a participant of "
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
        0.0757, "0-1 score/share", "How strongly the customers staff serve act back on them: "
        "purpose and affiliation rise with the share of fully engaged visitors, strain with "
        "the share of hostile visitors and repeat complaints (each above a typical firm's "
        "mix). 0 switches the loop off.", low=0.0, high=5.0, group="reciprocity")
    reciprocity_channels: str = _p(
        "both", "rule", "Which half of the loop acts: 'both'; only 'gratitude' (fully engaged "
        "visitors lift purpose and affiliation); only 'hostility' (hostile visitors and repeat "
        "complaints add strain). The halves apart show what each does.",
        choices=RECIPROCITY_CHANNELS, group="reciprocity")

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
        5.14, "log-hazard/engagement", "How steeply the quit hazard falls with engagement.",
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
        0.5, "share of policy time", "Least time a contact takes, as a share of the service "
        "policy's design time, however far the standard has eroded; staff who cannot give it "
        "leave contacts unserved (wait in vain, walk out).", low=0.05, high=1.0,
        group="work pressure")
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
        0.395, "x visits/engagement", "Relative change in visit rate per unit of emotional "
        "engagement (emotion, not rational satisfaction, drives visits).", low=0.0, high=5.0,
        group="customers")
    basket: float = _p(
        60.0, "$/visit", "Spend per visit of a customer of middling engagement.", low=0.0, high=1e5,
        group="customers")
    spend_engagement_slope: float = _p(
        0.168, "x spend/engagement", "Relative change in spend per visit (share of wallet) per "
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
        0.746, "0-1 score", "Service quality customers expect; encounters are appraised against "
        "it.", **SHARE, group="customers")
    local_market_spread: float = _p(
        0.0343, "0-1 score", "Store-to-store spread of what local customers expect (competition, "
        "neighbourhood): differences in attachment that staff do not cause.", low=0.0,
        high=0.5, group="customers")
    expectation_sd: float = _p(
        0.0432, "0-1 score", "Spread of customers' personal expectations.", low=0.0, high=0.5,
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
        1.45, "log-hazard/engagement", "How steeply the churn hazard falls with emotional "
        "engagement.", low=0.0, high=20.0, group="customers")

    # --- acquisition and word of mouth -------------------------------------------------------
    acquisition_rate: float = _p(
        1.3, "share of base/year", "Customers won by paid marketing per year, as a share of a "
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
        0.954, "referrals/fully engaged customer/year", "New customers brought by fully engaged "
        "customers.", low=0.0, high=10.0, group="acquisition")
    deterrence: float = _p(
        1.91, "share/AD share", "Loss of marketing conversions per unit share of actively "
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
    programme_confirmation: float = _p(
        0.5, "share", "Share of the programme's pull a customer takes in only while their "
        "own experience (rational satisfaction) meets the expectation it raised: 0, the "
        "promise works whatever the service; 1, only where the service keeps it.", **SHARE,
        group="customer programme")
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
        0.025, "engagement", "Engagement gain (booked to affiliation: being heard) that full "
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
        0.025, "engagement/resonance", "Engagement gain (booked to purpose) sustained in every "
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
        0.025, "engagement", "Engagement gain (booked to affiliation) full recognition "
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
        # Imported here: the checks read this module's declaration.
        from sim.model.checks import chain_size_problem, check_value

        for f in dataclasses.fields(self):
            check_value(f.name, getattr(self, f.name))
        too_big = chain_size_problem(self.n_stores, self.employees_per_store,
                                     self.customers_per_store)
        if too_big:
            raise ValueError(f"{too_big[0]}; allowed: {too_big[1]}")

    def replace(self, **changes: Any) -> Parameters:
        """Return a copy with some parameters changed (validated)."""
        from sim.model.checks import unknown_parameter_message

        unknown = sorted(set(changes) - set(PARAMETER_NAMES))
        if unknown:
            raise ValueError(unknown_parameter_message(unknown[0]))
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parameter_fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Parameters)


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Parameters))
