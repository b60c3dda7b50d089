"""Where each parameter's default comes from (published, fitted or assumed) and, for the
uncertain ones, the distribution drawn under `uncertainty: evidence`; the ODD table built from
both."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sim.model.checks import describe_allowed
from sim.model.parameters import PARAMETER_NAMES, Parameters

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
ENGAGEMENT_SD = 0.103

# The continuous employee-side policies (recognition, mission, crisis candour) have no
# meta-analysed effect on engagement of their own: each is given the pooled effect of
# controlled work-engagement interventions, so none gets an advantage or a handicap the
# evidence does not give, and each shares coaching's and HR programmes' persistence prior.
_POOLED = ("the pooled effect of controlled work-engagement interventions (Virga, Maricutoiu "
           "& Iancu 2021, k = 54: d = 0.24, 95% CI 0.16-0.32) x ENGAGEMENT_SD = 0.025")
# The published fit (docs/ODD.md section 9): ABC-SMC of thirteen parameters to targets 1-4 and
# the condition customer_base_growth. Their defaults are the weighted posterior medians, to
# three significant figures, of the snapshot of its generation committed at PUBLISHED_FIT (a
# test keeps them equal).
PUBLISHED_FIT = "experiments/results/published_fit_long"
_FIT = ("posterior median of the published fit (ABC-SMC to targets 1-4, "
        "experiments/calibration_published_long.yaml, generation 14, converged; docs/ODD.md "
        "section 9)")
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
    "supervisor_quality_sd": fitted(_FIT + "; target 4 (managers >= 70% of unit variance) "
                                    "informs it most"),
    "supervisor_climate_effect": fitted(_FIT + "; target 4 (managers' share of unit variance) "
                                        "informs it most"),
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
    "reciprocity_channels": assumed(
        "both halves act, as the sources describe them (Grant et al. 2007; Dormann & Zapf "
        "2004); one half alone is for taking the loop apart"),
    "reciprocity_strength": fitted(
        _FIT + "; the direction from customer-mistreatment and emotional-labour studies "
        "(Dormann & Zapf 2004; Wang, Liao, Zhan & Shi 2011) and beneficiary contact (Grant et "
        "al. 2007), no published size"),
    "driver_baseline": fitted(
        "Gallup employee segments: about 30% engaged, 50% not, 20% actively disengaged; set by "
        "hand (33%, 47%, 20% with the defaults of then); under the published fit's converged "
        "medians, which were not fitted to them, 35%, 45%, 20% (8 chains of 30 stores, "
        "second year)"),
    "driver_adjustment": assumed("drivers respond within a few months"),
    "driver_noise": assumed("week-to-week variation"),
    "trait_sd": fitted("Gallup employee segments (about 30% engaged, 20% actively "
                       "disengaged); set by hand with driver_baseline (see there)"),
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
    "quit_engagement_sensitivity": fitted(_FIT + "; the fully engaged share (target 2) "
                                          "moves most with it"),
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
                                 "before customers go unserved; the task, not the eroding "
                                 "standard, sets that least time; service needs people"),
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
    "visit_engagement_slope": fitted(_FIT + "; target 2 (+23% / -13% revenue by segment)"),
    "basket": assumed("scale choice"),
    "spend_engagement_slope": fitted(_FIT + "; target 2 (+23% / -13% revenue by segment)"),
    "wallet_spread": assumed("heterogeneous wallets"),
    "gross_margin": published(
        "NRA & Deloitte, Restaurant Industry Operations Report 2010: food and beverage cost "
        "about one third of sales (margin about 0.67), the cost structure of a service outlet "
        "whose labour is also about a third of sales, as here"),
    "fixed_cost_per_store": published(
        "US Census Bureau Business Expenses Survey 2007, food-service establishments (as "
        "reported by Dorfman 2013): lease and rental payments 8% of expenses, about $2,000 a "
        "week of the default store's $25,000 of expenses"),
    "expectation": fitted(_FIT + "; target 2 (19% fully engaged, 24% actively disengaged)"),
    "local_market_spread": fitted(_FIT + "; target 1 (quadrant ratios) moves most with it"),
    "expectation_sd": fitted(_FIT + "; target 2 (segment shares)"),
    "satisfaction_adjustment": assumed("rational satisfaction follows the last encounters"),
    "attachment_gain": assumed("emotional attachment moves over months (seed 002)"),
    "attachment_loss_ratio": published("negativity bias: bad events weigh about 2-3 good ones "
                                       "(Baumeister et al. 2001)"),
    "passion_adjustment": assumed("passion builds slowly on the other three"),
    "annual_churn_rate": assumed("retail-bank and service churn about 20%/year"),
    "churn_engagement_sensitivity": fitted(_FIT + "; target 3 (emotionally satisfied churn "
                                           "about 37% less)"),
    "acquisition_rate": fitted(_FIT + "; its condition customer_base_growth (a stable "
                               "customer base, about 0 a year; assumed, not published) "
                               "informs it most"),
    "market_size": assumed("catchments saturate"),
    "acquisition_cost": assumed("acquiring costs 5-25x keeping a customer (commonly cited)"),
    "referral_rate": fitted(_FIT + "; target 1 (word of mouth of fully engaged customers "
                            "grows their stores)"),
    "deterrence": fitted(_FIT + "; target 1 (word of mouth of actively disengaged customers "
                         "keeps new customers from their stores; it moves the quadrant ratios "
                         "more than any other parameter)"),
    "customer_programme_budget": assumed("policy lever"),
    "customer_programme_effect": assumed("a campaign moves attachment over weeks"),
    "customer_programme_promise": assumed(
        "a programme's promise raises what customers expect (Oliver 1980, "
        "expectation-disconfirmation); size not published: a quarter of the encounter-to-"
        "encounter spread of quality (quality_noise) per $20/customer/year, set before any "
        "run of the erosion measure"),
    "programme_confirmation": assumed(
        "a service brand's meaning comes mostly from customers' own experience of the "
        "service, and a promise it does not keep is discounted (Berry 2000, J. Acad. "
        "Marketing Science 28:128-137; Oliver 1980); no published size: the middle of its "
        "range, set before any run of the erosion or interaction measures, with the whole "
        "range as its uncertainty"),
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
        0.0117, 0.0034, 0.0, 0.05, "Jones et al. 2016 δ = 0.51; SD 0.15 in δ units (the "
        "spread of coaching meta-analyses, Theeboom et al. 2014: g 0.43-0.74), converted alike"),
    "coaching_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: half-life from about 3 weeks to over a year; the "
        "same distribution as hr_decay"),
    "hr_effect": Uncertain(
        0.0473, 0.0141, 0.0, 0.15, "Knight, Patterson & Dawson 2017: g = 0.29, 95% CI "
        "0.12-0.46, SD = CI width / 3.92, converted alike"),
    "hr_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "hr_reach": Uncertain(
        0.8, 0.15, 0.2, 1.0, "assumed: uptake varies between programmes (Knight et al. 2017: "
        "implementation success varied)"),
    "hr_spend_scale": Uncertain(
        400.0, 200.0, 50.0, 1500.0, "assumed: no published cost per participant"),
    "recognition_effect": Uncertain(
        0.025, 0.012, 0.0, 0.08, "assumed: the pooled engagement-intervention d = 0.24 with SD "
        "0.12 in d units (three times the meta-analytic SE: the transfer to recognition is "
        "itself uncertain), converted alike"),
    "recognition_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "mission_effect": Uncertain(
        0.025, 0.012, 0.0, 0.08, "assumed: as recognition_effect"),
    "mission_decay": Uncertain(
        0.06, 0.03, 0.01, 0.25, "assumed: the same distribution as coaching_decay"),
    "candour_effect": Uncertain(
        0.025, 0.012, 0.0, 0.08, "assumed: as recognition_effect"),
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
        0.0757, 0.065, 0.0, 0.3, "fitted: the published fit's posterior (weighted SD 0.065 "
        "at the generation its median comes from), truncated to the fit's prior [0, 0.3]"),
    "customer_programme_promise": Uncertain(
        0.03, 0.015, 0.0, 0.1, "assumed: no published size; coefficient of variation 0.5"),
    "expectation_adaptation_weeks": Uncertain(
        26.0, 13.0, 4.0, 104.0, "assumed: from a month to two years"),
    "programme_confirmation": Uncertain(
        0.5, 0.3, 0.0, 1.0, "assumed: no published size; from a promise that works whatever "
        "the service to one that works only where it is kept"),
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
