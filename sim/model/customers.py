"""Customers (ODD 7.5-7.6): appraisal of the week's encounters (rational satisfaction and
emotional attachment), spend and churn, the end-of-week census, and acquisition by marketing and
referrals.

Each function takes the customer population and the parameters; the ones that have flows return
them as a frozen record, and the population's rows are changed in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.parameters import Parameters
from sim.model.population import Population
from sim.model.service import Encounters

F32 = np.float32
DIMENSIONS = ("confidence", "integrity", "pride", "passion")


@dataclass(frozen=True)
class Purchases:
    """This week's revenue ($) and churned customers per store."""

    revenue: np.ndarray
    churned: np.ndarray


@dataclass(frozen=True)
class Census:
    """End-of-week count of active customers per store: by segment (columns fully engaged,
    engaged, not engaged, actively disengaged), in all, and sums of emotional engagement and
    rational satisfaction; and the chain's sum of each emotional dimension."""

    segments: np.ndarray
    customers: np.ndarray
    engagement_sum: np.ndarray
    rational_sum: np.ndarray
    dimensions: dict[str, float]


@dataclass(frozen=True)
class Acquisition:
    """This week's new customers per store, in all and won by paid marketing."""

    acquired: np.ndarray
    paid: np.ndarray


def programme_promise(params: Parameters) -> float:
    """Rise in expected quality the customer programme's promise causes once customers have
    adapted to it."""
    p = params
    return p.customer_programme_promise * p.customer_programme_budget / rules.PROGRAMME_BUDGET_UNIT


def adapt_expectation(lift: float, params: Parameters) -> float:
    """What customers now expect above their own standard: it moves toward the programme's
    promise (and back to nothing when the programme stops) over `expectation_adaptation_weeks`.
    Encounters that fall short of it erode attachment (expectation-disconfirmation, Oliver
    1980): a programme's gains last only where the service keeps its promise."""
    return lift + (programme_promise(params) - lift) / params.expectation_adaptation_weeks


def programme_pull(params: Parameters) -> float:
    """Weekly pull of the customer programme on pride and passion while it runs, on a customer
    whose experience bears its promise out (no decay of its own: any erosion comes from
    disappointed expectations and from promises the service does not keep)."""
    p = params
    if p.customer_programme_budget <= 0:
        return 0.0
    return min(p.customer_programme_effect * p.customer_programme_budget
               / rules.PROGRAMME_BUDGET_UNIT, rules.PROGRAMME_PULL_CAP)


def appraise(cust: Population, enc: Encounters, params: Parameters, lift: float,
             pull: float, crisis_severity: float) -> None:
    """Visitors appraise their encounter against expectation: rational satisfaction moves fast,
    the emotional dimensions slowly and asymmetrically; passion follows the other three."""
    p, w = params, rules.ATTACHMENT_WEIGHTS
    gap = enc.quality - cust.expectation - F32(lift)
    good = np.maximum(gap, 0) * enc.visit
    bad = np.maximum(-gap, 0) * enc.visit
    gain, loss = p.attachment_gain, p.attachment_gain * p.attachment_loss_ratio
    cust.column("confidence")[:] = rules.attachment_step(
        cust.confidence, good, bad, F32(w["confidence"] * gain), F32(w["confidence"] * loss))
    integrity = rules.attachment_step(cust.integrity, good, bad, F32(w["integrity"] * gain),
                                      F32(w["integrity"] * loss))
    integrity += F32(p.recovery_effect) * enc.resolved * (1 - integrity)
    integrity -= F32(rules.UNRESOLVED_LOSS_RATIO * p.recovery_effect) * enc.unresolved * integrity
    if crisis_severity > 0 and p.transparency > 0:
        integrity += F32(p.candour_integrity * p.transparency * crisis_severity) * (
            1 - integrity)
    pride = rules.attachment_step(cust.pride, good, bad, F32(w["pride"] * gain),
                                  F32(w["pride"] * loss))
    pride += F32(p.mission_pride_pull * p.mission_resonance) * (1 - pride)
    passion = cust.passion
    passion += F32(p.passion_adjustment) * ((cust.confidence + integrity + pride) / 3 - passion)
    if pull > 0:
        taken = F32(pull) * rules.programme_reach(cust.rational, cust.expectation, F32(lift),
                                                  F32(p.programme_confirmation))
        pride += taken * (1 - pride)
        passion += taken * (1 - passion)
    cust.column("integrity")[:] = np.clip(integrity, 0, 1)
    cust.column("pride")[:] = np.clip(pride, 0, 1)
    np.clip(passion, 0, 1, out=passion)
    rational = cust.rational
    rational += F32(p.satisfaction_adjustment) * (enc.quality - rational) * enc.visit


def spend_and_churn(cust: Population, enc: Encounters, params: Parameters, anxiety: float,
                    week: int, g: np.random.Generator) -> Purchases:
    """Served visitors spend and some customers leave: both follow the engagement they came
    with, and a visitor nobody served may leave at once."""
    p, n_s = params, len(enc.visits)
    store = cust.store
    spend = rules.spend_per_visit(enc.engagement, cust.wallet, F32(p.basket),
                                  F32(p.spend_engagement_slope), F32(anxiety)) * enc.served
    stay = 1 - rules.churn_probability(
        enc.engagement, F32(rules.weekly_hazard(p.annual_churn_rate)),
        F32(p.churn_engagement_sensitivity), F32(anxiety), F32(p.crisis_churn_effect))
    # A customer nobody served may take their business elsewhere at once (no cap: a store
    # without staff loses its customers as fast as they find the door shut).
    if enc.served is not enc.visit:
        stay *= 1 - F32(p.unserved_churn) * (enc.visit & ~enc.served)
    churn = cust.active & (g.random(cust.size, dtype=F32) >= stay)
    cust.column("visits_total")[:] += enc.visit
    cust.column("spend_total")[:] += spend
    cust.column("active")[churn] = False
    cust.column("churn_week")[churn] = week
    return Purchases(np.bincount(store, spend, n_s), np.bincount(store, churn, n_s))


def take_census(cust: Population, n_stores: int) -> Census:
    """End-of-week segments and attachment per store (active customers only)."""
    n_s = n_stores
    active = cust.active
    engagement = rules.customer_engagement(cust.confidence, cust.integrity, cust.pride,
                                           cust.passion)
    segment = rules.customer_segments(engagement)
    code = np.where(active, cust.store * 4 + segment, 4 * n_s)
    by_segment = np.bincount(code, minlength=4 * n_s + 1)[: 4 * n_s].reshape(n_s, 4)
    weights = active.astype(F32)
    return Census(
        segments=by_segment,
        customers=by_segment.sum(axis=1),
        engagement_sum=np.bincount(cust.store, engagement * weights, n_s),
        rational_sum=np.bincount(cust.store, cust.rational * weights, n_s),
        dimensions={d: float(np.dot(getattr(cust, d), weights)) for d in DIMENSIONS})


def acquire(cust: Population, census: Census, params: Parameters,
            initial_customers: np.ndarray, local_expectation: np.ndarray,
            crisis_severity: float, week: int, g: np.random.Generator) -> Acquisition:
    """Marketing wins customers (fewer where detractors abound); fans refer friends. Both act
    on the census of the week before (`census`)."""
    p = params
    seg = census.segments
    customers = np.maximum(census.customers, 1)
    demand = 1.0 - p.crisis_demand_drop * crisis_severity
    detractors = seg[:, 3] / customers
    untapped = np.maximum(1.0 - customers / (p.market_size * initial_customers), 0.0)
    paid = g.poisson(p.acquisition_rate / rules.WEEKS_PER_YEAR * initial_customers * demand
                     * untapped * np.maximum(1.0 - p.deterrence * detractors, 0.0))
    referred = g.poisson(p.referral_rate / rules.WEEKS_PER_YEAR * seg[:, 0] * demand
                         * untapped)
    new = paid + referred
    n = int(new.sum())
    if n > 0:
        store = np.repeat(np.arange(len(new)), new)
        start = g.normal(0, rules.NEWCOMER_ATTACHMENT_SD, n)
        cust.add(
            n, store=store, rational=np.float32(rules.NEWCOMER_RATIONAL),
            **{k: np.clip(v + start, 0, 1) for k, v in rules.NEWCOMER_ATTACHMENT.items()},
            expectation=g.normal(local_expectation[store], p.expectation_sd).astype(F32),
            wallet=draw_wallets(g, n, p.wallet_spread), acquired_week=week, churn_week=-1)
    return Acquisition(new, paid)


def draw_wallets(g: np.random.Generator, n: int, spread: float) -> np.ndarray:
    """Wallet sizes (relative, mean 1): lognormal with log-sd `spread`."""
    return np.exp(g.normal(-0.5 * spread * spread, spread, n)).astype(F32)


def see_layoffs(cust: Population, damage: float) -> None:
    """Every customer's integrity and pride fall by the share `damage` (they watch how staff
    are treated)."""
    for name in ("integrity", "pride"):
        col = cust.column(name)
        col -= np.float32(damage) * col
