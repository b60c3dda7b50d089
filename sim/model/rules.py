"""The model's behavioural rules as named functions on numpy arrays (one row per agent).

Each function is one mechanism of docs/ODD.md; the model calls them in the weekly order.
Arrays of employee or customer state are float32; store-level arrays are float64.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

WEEKS_PER_YEAR = 52.0

# Measurement instruments: score cut-offs that turn continuous states into the survey segments.
CUSTOMER_FULLY_ENGAGED = 0.70
CUSTOMER_ENGAGED = 0.55
CUSTOMER_NOT_ENGAGED = 0.40  # below this: actively disengaged
EMPLOYEE_ENGAGED = 0.61
EMPLOYEE_ACTIVELY_DISENGAGED = 0.49
RATIONALLY_SATISFIED = 0.70  # rational satisfaction at or above: "satisfied"
DISSATISFIED = 0.50  # below: "dissatisfied"

# Service encounter weights (they sum to one so that quality stays a 0-1 score).
QUALITY_SKILL_WEIGHT = 0.30
QUALITY_EMOTION_WEIGHT = 0.30
QUALITY_TIME_WEIGHT = 0.40
NO_STAFF_QUALITY = 0.10  # a store with nobody on the front line
# Supervisor quality at which the climate effect is nil and coaching has its stated size.
AVERAGE_SUPERVISOR = 0.5

# Shapes of the rules below (assumed; docs/ODD.md section 7 states each formula).
MIDDLING_ENGAGEMENT = 0.5  # engagement at which hazards, visits and spend take their base value
TENURE_DRIFT_WEEKS = 156.0  # the drivers' drift with tenure is complete after three years
STRAIN_THRESHOLD = 0.9  # work pressure above which strain builds
NEWCOMER_WEEKS = 13  # a new hire's first quarter ...
NEWCOMER_QUIT_FACTOR = 1.5  # ... in which they quit half as often again
LEARNING_AT_ZERO_ENGAGEMENT = 0.5  # on-the-job learning rises from this at engagement 0
STRAIN_EMOTION_LOSS = 0.3  # displayed emotion lost per unit of strain
UNSKILLED_PACE, SKILL_PACE = 0.7, 0.3  # pace of work: 0.7 for a novice, 1.0 fully skilled
STRAIN_PACE_LOSS = 0.3  # share of pace lost per unit of strain
# Work pressure is capped (and is this when nobody is on the front line): a store that would
# need fifty times its staff's hours serves almost no one either way (served_share).
MAX_PRESSURE = 50.0
BUSY_FROM, BUSY_SPAN = 0.75, 0.5  # busyness rises from pressure 0.75 to full at 1.25
MAX_VISIT_PROBABILITY = 0.95
ANXIETY_SPEND_LOSS = 0.2  # share of spend an anxious (A = 1) customer holds back
# Problems: problem_rate at quality 0.65, 4x problem_rate more per unit of quality below it,
# the factor kept between 0.1 and 5.
PROBLEM_REFERENCE_QUALITY = 0.65
PROBLEM_QUALITY_SLOPE = 4.0
PROBLEM_FACTOR_RANGE = (0.1, 5.0)

# Fixed coefficients of the weekly rules. None is fitted: each is the assumed shape of a
# mechanism of docs/ODD.md section 7, with the reason beside it. They are named here, once, so
# that the set-up (which starts agents at the rules' equilibrium) and the weekly step read the
# same numbers: editing one cannot silently move the other.
# Share of an encounter's gain or loss each emotional dimension takes: confidence follows
# encounters fully, integrity a little less, pride (a broader judgement) half as much.
ATTACHMENT_WEIGHTS = {"confidence": 1.0, "integrity": 0.8, "pride": 0.5}
# An unresolved problem costs integrity twice what a resolved one gains (negativity bias).
UNRESOLVED_LOSS_RATIO = 2.0
# A resolvable problem is solved at once with chance share * min(quality + 0.4, 1): a good
# encounter resolves nearly all of what the policy allows, a poor one much less.
RESOLUTION_QUALITY_LIFT = 0.4
# Layoffs: survivors' layoff stress kept from one week to the next, stress added by a round,
# shares of affiliation and purpose lost, and how much worse customers judge layoffs in a crisis.
LAYOFF_STRESS_KEPT = 0.9
LAYOFF_STRESS = 0.15
LAYOFF_AFFILIATION_LOSS = 0.10
LAYOFF_PURPOSE_LOSS = 0.05
CRISIS_LAYOFF_DAMAGE = 2.0
# Mission resonance of a typical firm: the mission's channel doses the difference from it, so
# the drivers' baseline (fitted at a typical firm) already holds a typical mission.
TYPICAL_MISSION_RESONANCE = 0.3
# The customer programme's effect and promise are stated per this budget ($/customer/year);
# its weekly pull is capped so that no budget makes attachment jump.
PROGRAMME_BUDGET_UNIT = 20.0
PROGRAMME_PULL_CAP = 0.5
# A supervisor's paid week (h): coaching is costed at the supervisor's hourly rate.
SUPERVISOR_WEEK_HOURS = 40.0
# Spread of a new hire's drivers around `new_hire_engagement`.
NEW_HIRE_DRIVER_SD = 0.05
# A new customer's emotional dimensions and rational satisfaction before any encounter, and the
# spread of the emotional ones.
NEWCOMER_ATTACHMENT = {"confidence": 0.5, "integrity": 0.5, "pride": 0.5, "passion": 0.4}
NEWCOMER_ATTACHMENT_SD = 0.05
NEWCOMER_RATIONAL = 0.6


def weekly_hazard(annual_rate: float) -> float:
    """Weekly probability that gives `annual_rate` over 52 weeks."""
    return 1.0 - (1.0 - annual_rate) ** (1.0 / WEEKS_PER_YEAR)


def transparency_cushion(transparency: float, cushion: float) -> float:
    """Share of a blow (crisis stress, anxiety, layoff damage) that still lands: full
    transparency absorbs the share `cushion` of it."""
    return 1.0 - cushion * transparency


# --- employees --------------------------------------------------------------------------------

def employee_engagement(drivers_mean, policy_gains, strain, strain_penalty):
    """Engagement: the four drivers' mean plus the gains policies have left on them, less what
    strain takes."""
    return np.clip(drivers_mean + policy_gains - strain_penalty * strain, 0.0, 1.0)


def driver_level(baseline, trait, supervisor_quality, climate_effect, tenure_weeks,
                 tenure_drift, frontline, frontline_penalty):
    """Level the drivers settle at: set by the supervisor, eroded by tenure and front-line work
    (policies act through their channels, not on this level)."""
    tenure_years3 = np.minimum(tenure_weeks / TENURE_DRIFT_WEEKS, 1.0)
    return (baseline + trait + climate_effect * (supervisor_quality - AVERAGE_SUPERVISOR)
            - tenure_drift * tenure_years3 * (1.0 - supervisor_quality)
            - frontline_penalty * frontline)


# --- employee-side policies: one channel for all (issue 10) -----------------------------------
# Every employee-side policy (coaching, HR programmes, recognition, mission, crisis candour)
# acts the same way: a dose reaches some
# employees (its reach rule), gives each an impulse on the drivers (its effect per unit of dose,
# times the room the employee has to grow), and the gain then fades at the programme's own
# weekly rate (its persistence). Effects are stated for an employee of engagement 0.5.
TYPICAL_ENGAGEMENT = 0.5


def room_to_grow(engagement):
    """How much of a programme's stated effect an employee can take: more for the disengaged,
    1 at engagement 0.5, none at 1 (the same for every programme)."""
    return np.clip((1.0 - engagement) / (1.0 - TYPICAL_ENGAGEMENT), 0.0, 2.0)


def coaching_impulse(hours, supervisor_quality, engagement, coaching_effect):
    """Engagement gain from this week's coaching: per hour, scaled by the coach's quality."""
    return (coaching_effect * hours * (supervisor_quality / AVERAGE_SUPERVISOR)
            * room_to_grow(engagement))


def hr_impulse(spend_per_round, hr_effect, spend_scale, engagement):
    """Engagement gain one programme round gives a participant: `hr_effect` at saturating
    spend, with diminishing returns in spend."""
    return hr_effect * (1.0 - np.exp(-spend_per_round / spend_scale)) * room_to_grow(engagement)


def hr_participation(engagement, reach, rule):
    """Chance to take part in a programme round: `reach` for everyone, or (rule
    'engaged_more') in proportion to engagement, so the least engaged take part least."""
    if rule == "engaged_more":
        return reach * engagement
    return np.full(np.shape(engagement), reach)


def exposure_impulse(dose, sustained_effect, weekly_decay, engagement):
    """Weekly impulse of a continuous policy (recognition, mission, crisis candour): a dose
    each week it lasts. `sustained_effect` is the gain it holds an employee of engagement 0.5
    at under a dose of 1 every week (the impulse is that times the decay, so the gain's steady
    state is the effect whatever the persistence)."""
    return sustained_effect * weekly_decay * dose * room_to_grow(engagement)


def fade(gain, weekly_decay):
    """A programme's gain one week later."""
    return gain * np.float32(1.0 - weekly_decay)


def programme_gain_at_end(sessions, spacing_weeks, weekly_decay):
    """Gain left at the last of `sessions` doses of impulse 1, `spacing_weeks` apart: the factor
    that turns a published end-of-programme effect into an impulse per dose."""
    k = np.arange(sessions)
    return float(np.sum((1.0 - weekly_decay) ** (spacing_weeks * k)))


# --- reciprocity: customers act on the staff who serve them (issue 10) ------------------------
# Deviations are taken from a typical firm's customer mix (Gallup 2009: 19% fully engaged, 24%
# actively disengaged), so a typical store's staff feel no net push either way.
TYPICAL_FAN_SHARE = 0.19
TYPICAL_HOSTILE_SHARE = 0.24


def gratitude_lift(fan_share, strength):
    """Purpose and affiliation level front-line staff gain from serving attached regulars
    (meaningful contact with the people their work helps: Grant 2007, 2008)."""
    return strength * (fan_share - TYPICAL_FAN_SHARE)


def hostility_strain(hostile_share, complaint_share, strength):
    """Strain front-line staff take from hostile (actively disengaged) customers and repeat
    complaints (customer mistreatment, emotional labour: Dormann & Zapf 2004; Grandey, Dickter
    & Sin 2004; Wang, Liao, Zhan & Shi 2011)."""
    return strength * (hostile_share - TYPICAL_HOSTILE_SHARE + complaint_share)


def strain_level(pressure, strain_build, crisis_stress):
    """Strain implied by the workload (above 90% of capacity) and by a crisis."""
    return np.clip(strain_build * np.maximum(pressure - STRAIN_THRESHOLD, 0.0) + crisis_stress,
                   0.0, 1.0)


def quit_probability(engagement, strain, tenure_weeks, base_weekly, engagement_sensitivity,
                     strain_sensitivity):
    """Weekly quit probability: falls steeply with engagement, rises with strain; new hires
    (first quarter) quit half as often again."""
    newcomer = np.where(tenure_weeks < NEWCOMER_WEEKS, NEWCOMER_QUIT_FACTOR, 1.0)
    hazard = (base_weekly * np.exp(-engagement_sensitivity * (engagement - MIDDLING_ENGAGEMENT))
              * (1.0 + strain_sensitivity * strain) * newcomer)
    return np.minimum(hazard, 1.0)


def skill_gain(skill, engagement, learning):
    """On-the-job learning, faster for engaged employees."""
    return learning * (LEARNING_AT_ZERO_ENGAGEMENT + engagement) * (1.0 - skill)


def displayed_emotion(engagement, strain, busyness, busyness_effect):
    """Positive emotion shown to customers: falls when the store is busy (Rafaeli & Sutton)."""
    return np.clip(engagement - busyness_effect * busyness - STRAIN_EMOTION_LOSS * strain,
                   0.0, 1.0)


def effective_hours(hours, skill, strain):
    """Productive front-line hours: skilled staff work faster, fatigued staff slower."""
    return hours * (UNSKILLED_PACE + SKILL_PACE * skill) * (1.0 - STRAIN_PACE_LOSS * strain)


# --- stores: work pressure (Oliva & Sterman 2001) ----------------------------------------------

def work_pressure(contacts, standard_minutes, available_hours):
    """Hours the service standard requires over hours available."""
    required = contacts * standard_minutes / 60.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pressure = np.where(available_hours > 0, required / available_hours, MAX_PRESSURE)
    return np.minimum(pressure, MAX_PRESSURE)


def delivered_minutes(standard_minutes, pressure, max_overtime, least_minutes):
    """Time actually given per served contact: staff first work harder, then cut corners, but
    not below `least_minutes`, the least a contact can take (below that, contacts go unserved).
    The floor is fixed by the task, not by the standard: however far the standard has eroded,
    no contact is served in less."""
    share = np.minimum(1.0, (1.0 + max_overtime) / np.maximum(pressure, 1e-9))
    return np.maximum(standard_minutes * share, least_minutes)


def served_share(pressure, standard_minutes, max_overtime, least_minutes, available_hours):
    """Share of contacts the front line can serve at all: everyone until the staff, working
    harder and cutting corners down to `least_minutes` a contact, run out of hours; beyond
    that the rest wait in vain or walk out (none where nobody is on the front line)."""
    least = np.maximum(least_minutes, 1e-9)
    share = np.clip((1.0 + max_overtime) * standard_minutes / (np.maximum(pressure, 1e-9) * least),
                    0.0, 1.0)
    return np.where(available_hours > 0, share, 0.0)


def busyness(pressure):
    """How busy the store feels, from 0 (calm) to 1 (overrun)."""
    return np.clip((pressure - BUSY_FROM) / BUSY_SPAN, 0.0, 1.0)


def drift_standard(standard, delivered, policy_minutes, pressure, erosion_weeks,
                   recovery_weeks):
    """The service standard drifts down to what is delivered and climbs back only slowly,
    and only when there is slack: a temporary overload leaves a lasting loss."""
    eroding = delivered < standard
    down = standard + (delivered - standard) / erosion_weeks
    up = standard + (policy_minutes - standard) / recovery_weeks
    return np.where(eroding, down, np.where(pressure < 1.0, np.minimum(up, policy_minutes),
                                            standard))


def service_capability(skill, emotion, time_adequacy):
    """What an employee brings to an encounter before its chance variation."""
    return (QUALITY_SKILL_WEIGHT * skill + QUALITY_EMOTION_WEIGHT * emotion
            + QUALITY_TIME_WEIGHT * time_adequacy)


# --- customers --------------------------------------------------------------------------------

def customer_engagement(confidence, integrity, pride, passion):
    """Emotional engagement: the mean of the four dimensions (Human Sigma)."""
    return (confidence + integrity + pride + passion) * np.float32(0.25)


def visit_probability(engagement, visits_per_week, slope, demand):
    """Weekly chance of a visit; follows emotional engagement, not rational satisfaction."""
    return np.clip(visits_per_week * demand * (1.0 + slope * (engagement - MIDDLING_ENGAGEMENT)),
                   0.0, MAX_VISIT_PROBABILITY)


def spend_per_visit(engagement, wallet, basket, slope, anxiety):
    """Spend of one visit: share of wallet rises with emotional engagement."""
    return (basket * wallet * (1.0 + slope * (engagement - MIDDLING_ENGAGEMENT))
            * (1.0 - ANXIETY_SPEND_LOSS * anxiety))


def problem_probability(quality, problem_rate):
    """Chance that a contact has a problem (mistake, unmet need); falls with quality."""
    return problem_rate * np.clip(
        1.0 + PROBLEM_QUALITY_SLOPE * (PROBLEM_REFERENCE_QUALITY - quality), *PROBLEM_FACTOR_RANGE)


def programme_reach(rational, expectation, lift, confirmation):
    """Share of the customer programme's weekly pull a customer takes in: all of it where
    their own recent experience (rational satisfaction) bears out the expectation the
    programme raised, `1 - confirmation` where it falls short (a brand's promise is believed
    as far as the service keeps it; Berry 2000)."""
    return 1.0 - confirmation * (rational < expectation + lift)


def attachment_step(dimension, good, bad, gain, loss):
    """Asymmetric slow update of one emotional dimension: `good`/`bad` are the encounter's
    quality above/below expectation (zero for customers who did not visit)."""
    return dimension + gain * good * (1.0 - dimension) - loss * bad * dimension


def churn_probability(engagement, base_weekly, sensitivity, anxiety, anxiety_effect):
    """Weekly churn chance: falls with emotional engagement, rises with crisis anxiety."""
    return np.minimum(base_weekly * np.exp(-sensitivity * (engagement - MIDDLING_ENGAGEMENT))
                      * (1.0 + anxiety_effect * anxiety), 1.0)


def customer_segments(engagement):
    """0 fully engaged, 1 engaged, 2 not engaged, 3 actively disengaged."""
    return (3 - (engagement >= CUSTOMER_NOT_ENGAGED).astype(np.int8)
            - (engagement >= CUSTOMER_ENGAGED) - (engagement >= CUSTOMER_FULLY_ENGAGED))


def employee_segments(engagement):
    """0 engaged, 1 not engaged, 2 actively disengaged."""
    return (2 - (engagement >= EMPLOYEE_ACTIVELY_DISENGAGED).astype(np.int8)
            - (engagement >= EMPLOYEE_ENGAGED))


def expected_gaps(mean_quality, expectation, quality_sd):
    """Expected quality above and below expectation, E[g+] and E[g-], for quality ~ N(mean, sd)."""
    m = mean_quality - expectation
    z = m / quality_sd
    density = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    above = quality_sd * density + m * ndtr(z)
    return above, above - m


def attachment_equilibrium(rate_up, rate_down):
    """Where a dimension settles when it rises at rate_up * (1 - d) and falls at rate_down * d
    per week (all its terms are of that form). Used to start customers near their long-run
    attachment rather than at an arbitrary point."""
    return rate_up / np.maximum(rate_up + rate_down, 1e-12)
