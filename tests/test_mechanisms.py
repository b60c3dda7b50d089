"""Each mechanism of MODEL_NOTES moves outcomes the way the brief says.

Arms share seeds (common random numbers) and effects are averaged over replications; each test
states the size of effect it requires.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sim import LoyaltyModel
from sim.model.service import CustomerClimate

# Staff per customer as in the default chain (15 per 1,000), so stores are as busy.
CHAIN = {"n_stores": 10, "employees_per_store": 9, "customers_per_store": 600}
SEEDS = range(101, 107)


def weekly(events=(), weeks=104, seeds=SEEDS, **params) -> list[pd.DataFrame]:
    return [LoyaltyModel(rng=s, events=list(events), **{**CHAIN, **params}).run(weeks)
            .model_frame() for s in seeds]


def mean_over(frames, column, weeks) -> float:
    return float(np.mean([f.loc[weeks, column].mean() for f in frames]))


def test_coaching_raises_engagement_most_where_supervisors_are_good():
    base, coached = [], []
    for s in SEEDS:
        for hours, out in ((0.0, base), (4.0, coached)):
            m = LoyaltyModel(rng=s, coaching_hours=hours, **CHAIN).run(78)
            t = m.stores_frame()
            out.append(t[t["week"] >= 52].groupby("store")[
                ["employee_engagement", "supervisor_quality"]].mean())
    gains = pd.concat([c["employee_engagement"] - b["employee_engagement"]
                       for b, c in zip(base, coached, strict=True)])
    quality = pd.concat([b["supervisor_quality"] for b in base])
    assert gains.mean() > 0.02
    good = quality >= quality.median()
    assert gains[good].mean() > gains[~good].mean()


def test_hr_programme_boost_arrives_with_each_round_and_decays():
    base = weekly(weeks=40, hr_budget=0.0)
    hr = weekly(weeks=40, hr_budget=3000.0, hr_cadence_weeks=26)
    gap = np.mean([h["employee_engagement"] - b["employee_engagement"]
                   for b, h in zip(base, hr, strict=True)], axis=0)
    # Rounds at weeks 0 and 26: a jump at each, fading in between.
    assert gap[0] > 0.01 and gap[26] > gap[25] + 0.005
    assert gap[24] < 0.6 * gap[1]


def test_engaged_front_line_engages_customers():
    most = weekly(staffing_rule="most_engaged")
    least = weekly(staffing_rule="least_engaged")
    weeks = slice(52, 103)
    assert mean_over(most, "customer_engagement", weeks) > mean_over(
        least, "customer_engagement", weeks) + 0.01
    assert mean_over(most, "churn_rate_annual_pct", weeks) < mean_over(
        least, "churn_rate_annual_pct", weeks)


def test_temporary_overload_leaves_lasting_lower_service_standard():
    overload = [{"week": 20, "layoff": {"share": 0.3}},
                {"week": 32, "set": {"staffing_level": 1.0}}]
    base = weekly(weeks=80)
    hit = weekly(events=overload, weeks=80)
    during = slice(21, 31)
    after = slice(56, 79)  # six months after staffing was restored
    assert mean_over(hit, "workload", during) > mean_over(base, "workload", during) + 0.1
    assert mean_over(hit, "service_standard", after) < mean_over(
        base, "service_standard", after) - 0.02
    assert mean_over(hit, "service_quality", after) < mean_over(base, "service_quality", after)


def test_first_contact_resolution_trades_time_for_fewer_repeat_contacts():
    short = weekly(weeks=52, service_policy="short_contacts")
    fcr = weekly(weeks=52, service_policy="first_contact_resolution")
    weeks = slice(13, 51)

    def repeat_share(frames):
        return float(np.mean([f.loc[weeks, "repeat_contacts"].sum() / f.loc[weeks, "contacts"]
                              .sum() for f in frames]))

    assert repeat_share(fcr) < 0.5 * repeat_share(short)
    assert mean_over(fcr, "workload", weeks) > mean_over(short, "workload", weeks)
    # With the staff to give the extra minutes, resolving at once builds integrity.
    staffed = {"staffing_level": 1.3}
    short = weekly(weeks=52, service_policy="short_contacts", **staffed)
    fcr = weekly(weeks=52, service_policy="first_contact_resolution", **staffed)
    assert mean_over(fcr, "integrity", weeks) > mean_over(short, "integrity", weeks)


def test_crisis_conduct_layoffs_and_silence_cost_customers():
    crisis = {"week": 26, "crisis": {"duration": 12, "severity": 0.6}}
    silent = weekly(events=[crisis, {"week": 28, "layoff": {"share": 0.15}}], weeks=78,
                    transparency=0.0)
    open_ = weekly(events=[crisis], weeks=78, transparency=1.0)
    window = slice(26, 77)
    assert mean_over(silent, "churn_rate_annual_pct", window) > mean_over(
        open_, "churn_rate_annual_pct", window) + 1.0
    assert mean_over(silent, "integrity", window) < mean_over(open_, "integrity", window)
    assert mean_over(silent, "employee_engagement", window) < mean_over(
        open_, "employee_engagement", window)


def test_mission_and_recognition_lift_pride_and_engagement():
    # Twenty chains: the engagement lift varies by about 0.012 from chain to chain (who quits,
    # who is hired), so six left its mean within 1.5 SEs of the bar.
    seeds = range(101, 121)
    plain = weekly(weeks=78, seeds=seeds, mission_resonance=0.0, frontline_recognition=0.0)
    inspired = weekly(weeks=78, seeds=seeds, mission_resonance=1.0, frontline_recognition=1.0)
    weeks = slice(52, 77)
    assert mean_over(inspired, "pride", weeks) > mean_over(plain, "pride", weeks) + 0.01
    assert mean_over(inspired, "employee_engagement", weeks) > mean_over(
        plain, "employee_engagement", weeks) + 0.02


def test_turnover_costs_hiring_and_new_hires_start_unskilled():
    model = LoyaltyModel(rng=3, annual_quit_rate=0.8, **CHAIN).run(30)
    staff = model.employees_frame()
    new = staff[staff["tenure"] <= 2]
    assert len(new) > 0 and new["skill"].max() < 0.35
    hires = model.model_frame()["hires"]
    assert np.allclose(model.model_frame()["hiring_training"],
                       hires * 0.21 * model.params.weekly_wage * 52)


# --- issue 10: even-handed policies, reciprocity, expectations, service needs people -----------

def test_coaching_and_hr_programmes_share_one_channel():
    """Same impulse rule (room to grow) and the same fading: an hour of coaching by an average
    supervisor and a saturated programme round of equal stated effect move an employee alike."""
    from sim.model import rules

    engagement = np.array([0.2, 0.5, 0.8], dtype=np.float32)
    coached = rules.coaching_impulse(1.0, rules.AVERAGE_SUPERVISOR, engagement, 0.03)
    programme = rules.hr_impulse(1e9, 0.03, 400.0, engagement)
    assert np.allclose(coached, programme)
    assert np.allclose(rules.fade(coached, 0.06), rules.fade(programme, 0.06))
    assert rules.room_to_grow(np.float32(0.5)) == 1.0


@functools.cache
def _layoff_runs():
    """Three chains with and without a layoff of 90% of staff at week 13 (common seeds)."""
    seeds = range(101, 104)
    return (weekly(weeks=39, seeds=seeds),
            weekly(events=[{"week": 13, "layoff": {"share": 0.9}}], weeks=39, seeds=seeds))


def test_laying_off_ninety_percent_of_staff_multiplies_churn():
    """Service needs people: contacts nobody can serve buy nothing and may leave at once, so
    churn is not capped by the engagement hazard."""
    for b, c in zip(*_layoff_runs(), strict=True):
        assert c["churn_rate_annual_pct"][13:26].mean() > 3 * b["churn_rate_annual_pct"][
            13:26].mean()


def test_laying_off_ninety_percent_of_staff_loses_most_revenue_within_months():
    """Issue 10's requirement, chain by chain: most of the revenue gone 8 to 13 weeks after
    (12 chains of `experiments/layoff_collapse.py` keep 27%, 95% CI 24-30%; none half)."""
    for b, c in zip(*_layoff_runs(), strict=True):
        before = c["revenue"][:13].mean()
        assert c["revenue"][21:26].mean() < 0.5 * before  # 8 to 13 weeks after
        assert c["revenue"][21:26].mean() < 0.55 * b["revenue"][21:26].mean()


def test_a_store_without_front_line_staff_sells_nothing():
    frames = weekly(weeks=3, seeds=[101], frontline_share=0.0)
    assert frames[0]["revenue"].sum() == 0.0


def test_reciprocity_ties_staff_engagement_to_the_customers_they_serve():
    """With the loop on, stores whose customers are attached get more engaged staff: the store
    correlation of employee with customer engagement rises (switched off: only service flows).
    Stores' customers differ here for a reason their staff do not cause (local markets spread
    over three times as wide as the fitted default, 0.1), so that only the loop can carry it to
    the staff: at the defaults service already ties the two at about 0.7."""
    def correlation(strength):
        r = []
        for s in SEEDS:
            t = LoyaltyModel(rng=s, reciprocity_strength=strength, local_market_spread=0.1,
                             **CHAIN).run(78)
            t = t.stores_frame()
            t = t[t["week"] >= 52].groupby("store")[
                ["employee_engagement", "customer_engagement"]].mean()
            r.append(np.corrcoef(t["employee_engagement"], t["customer_engagement"])[0, 1])
        return float(np.mean(r))

    assert correlation(0.3) > correlation(0.0) + 0.1


def test_customer_programme_pull_does_not_wear_off_by_itself():
    """Without a promise to disappoint, a customer-only programme's gain holds (no programmed
    habituation): at least 80% of its peak is left after two years."""
    from sim.studies import validation

    gains = validation.programme_gains(list(SEEDS)[:4], customer_programme_promise=0.0,
                                       **CHAIN)
    assert validation.erosion_from_gains(gains)["customer_only_erosion"] > 0.8


def test_customer_only_programme_erodes_more_than_one_with_engaged_staff():
    """Target 7 as a consequence: the promise raises expectations; where coaching keeps
    improving service the gain holds better than where it does not."""
    from sim.studies import validation

    measured = validation.erosion_from_gains(
        validation.programme_gains(list(SEEDS), **CHAIN))
    assert measured["customer_only_erosion"] < measured["both_persistence"] - 0.15


def _programme_gain_in_pride(confirmation):
    """Each customer's pride gained from one week of the programme's pull (with a raised
    expectation of 0.05 and no encounters, so only the pull acts), and who falls short."""
    import copy

    from sim.model import customers
    from sim.model.service import Encounters

    model = LoyaltyModel(rng=5, programme_confirmation=confirmation, **CHAIN)
    n, lift = model.customers.size, 0.05
    nobody, zero = np.zeros(n, bool), np.zeros(n, np.float32)
    per_store = np.zeros(model.n_stores)
    idle = Encounters(nobody, nobody, zero, nobody, nobody, zero, per_store, per_store,
                      per_store, per_store, per_store, per_store, per_store)
    pride = {}
    for pull in (0.0, 0.03):
        cust = copy.deepcopy(model.customers)
        customers.appraise(cust, idle, model.params, lift, pull, 0.0)
        pride[pull] = cust.pride.copy()
    short = model.customers.rational < model.customers.expectation + np.float32(lift)
    return pride[0.03] - pride[0.0], short & model.customers.active, ~short & model.customers.active


def test_programme_pull_is_taken_in_as_far_as_the_service_keeps_its_promise():
    # Confirmation 1: customers whose own experience falls short of the raised expectation
    # take in none of the pull; 0: all take it in, whatever the service; 0.5: half as much.
    gain, short, met = _programme_gain_in_pride(1.0)
    assert short.sum() > 100 and met.sum() > 100
    assert np.all(gain[short] == 0) and np.all(gain[met] > 0)
    gain_all, _, _ = _programme_gain_in_pride(0.0)
    assert np.all(gain_all[short | met] > 0)
    np.testing.assert_allclose(gain_all[met], gain[met], rtol=1e-5)
    half, _, _ = _programme_gain_in_pride(0.5)
    np.testing.assert_allclose(half[short], 0.5 * gain_all[short], rtol=1e-3, atol=1e-7)


def _front_after(climate, strength, weeks=40, channels="both", seed=5):
    """Front-line engagement, strain, and mean of purpose and affiliation (the drivers
    gratitude lifts) after `weeks` of meeting the same customers."""
    import copy

    from sim.model import development

    model = LoyaltyModel(rng=seed, reciprocity_strength=strength,
                         reciprocity_channels=channels, **CHAIN)
    emp = copy.deepcopy(model.employees)
    g = np.random.default_rng(0)
    pressure = np.full(model.n_stores, 0.8)  # below the strain threshold: only customers act
    for week in range(weeks):
        development.develop(emp, model.params, model.supervisor_quality, pressure, 0.0, 0.0,
                            week, g, climate)
    front = emp.active & emp.frontline
    return (float(emp.engagement[front].mean()), float(emp.strain[front].mean()),
            float((emp.purpose[front].mean() + emp.affiliation[front].mean()) / 2))


def test_reciprocity_carries_customers_to_the_front_line_and_is_off_at_zero():
    # Fans (half the visits fully engaged) vs a hostile crowd (half actively disengaged, one
    # visit in ten a repeat complaint), same staff and draws. With the loop on, fans leave
    # the front line more engaged and less strained; switched off, the customers they serve
    # change nothing at all.
    n = CHAIN["n_stores"]
    fans = CustomerClimate(np.full(n, 0.5), np.full(n, 0.05), np.zeros(n))
    hostile = CustomerClimate(np.full(n, 0.05), np.full(n, 0.5), np.full(n, 0.1))
    (e_fans, s_fans, _), (e_hostile, s_hostile, _) = (_front_after(c, 0.08)
                                                      for c in (fans, hostile))
    assert e_fans > e_hostile + 0.01
    assert s_hostile > s_fans + 0.01
    assert _front_after(fans, 0.0) == _front_after(hostile, 0.0)


def test_each_half_of_the_reciprocity_loop_can_act_alone():
    # Gratitude alone: fans lift purpose and affiliation, hostile customers add no strain.
    # Hostility alone: hostile customers add strain (which costs engagement, by the strain
    # penalty) and move purpose and affiliation no more than who quits does. Means over eight
    # chains; the quits' part has an SE of about 0.003 there.
    n = CHAIN["n_stores"]
    fans = CustomerClimate(np.full(n, 0.5), np.full(n, 0.05), np.zeros(n))
    hostile = CustomerClimate(np.full(n, 0.05), np.full(n, 0.5), np.full(n, 0.1))

    def differences(channels):
        """Fans minus hostile: engagement, strain (hostile minus fans), purpose/affiliation."""
        d = []
        for seed in range(5, 13):
            f, h = (_front_after(c, 0.08, channels=channels, seed=seed) for c in (fans, hostile))
            d.append((f[0] - h[0], h[1] - f[1], f[2] - h[2]))
        return np.mean(d, axis=0)

    gratitude_lift, gratitude_strain, gratitude_drivers = differences("gratitude")
    hostility_lift, hostility_strain, hostility_drivers = differences("hostility")
    assert gratitude_drivers > 0.02 and gratitude_lift > 0.005 and hostility_strain > 0.01
    assert hostility_lift > 0  # strain costs engagement
    assert abs(gratitude_strain) < 0.1 * hostility_strain
    assert abs(hostility_drivers) < 0.25 * gratitude_drivers


def test_every_employee_side_policy_fades_after_it_stops_at_its_own_persistence():
    # One channel for all: recognition (front line only) and the mission build a gain while
    # they last and lose it at their own decay once they stop; engagement follows.
    stop = 60
    events = [{"week": stop, "set": {"frontline_recognition": 0.0,
                                     "mission_resonance": 0.3}}]
    model = LoyaltyModel(rng=7, frontline_recognition=1.0, mission_resonance=1.0,
                         recognition_decay=0.1, mission_decay=0.03, events=events, **CHAIN)
    model.run(stop)
    emp = model.employees_frame()
    front = emp[emp["frontline"]]
    back = emp[~emp["frontline"]]
    # The back office gets none (only what people moved off the front line still carry).
    assert front["recognition_gain"].mean() > 0.012
    assert back["recognition_gain"].mean() < 0.25 * front["recognition_gain"].mean()
    assert emp["mission_gain"].mean() > 0.008
    held = front["recognition_gain"].mean(), emp["mission_gain"].mean()
    model.run(20)
    emp = model.employees_frame()
    kept = (emp[emp["frontline"]]["recognition_gain"].mean() / held[0],
            emp["mission_gain"].mean() / held[1])
    # Stayers keep (1 - decay)^20 of their gain: 0.12 and 0.54; turnover only lowers it.
    assert kept[0] < 0.2 and 0.35 < kept[1] < 0.6
