"""Each behavioural rule of sim/model/rules.py moves the way docs/ODD.md section 7 says and
stays within its bounds (hypothesis over the rules' inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model import rules

unit = st.floats(0.0, 1.0)
positive = st.floats(0.01, 10.0)


def a(*values) -> np.ndarray:
    return np.array(values, dtype=float)


@given(st.floats(0.0, 0.99))
def test_weekly_hazard_compounds_to_the_annual_rate(annual):
    weekly = rules.weekly_hazard(annual)
    assert 0.0 <= weekly <= annual + 1e-12
    assert 1.0 - (1.0 - weekly) ** 52 == pytest.approx(annual, abs=1e-9)


def test_transparency_cushion_halves_a_blow_at_full_transparency():
    assert rules.transparency_cushion(0.0, 0.5) == 1.0
    assert rules.transparency_cushion(1.0, 0.5) == pytest.approx(0.5)
    assert rules.transparency_cushion(0.3, 0.5) > rules.transparency_cushion(0.6, 0.5)


@given(unit, st.floats(0.0, 0.5), unit, st.floats(0.0, 2.0))
def test_employee_engagement_is_a_bounded_score_that_strain_lowers(drivers, boost, strain,
                                                                   penalty):
    e = rules.employee_engagement(a(drivers), a(boost), a(strain), penalty)[0]
    assert 0.0 <= e <= 1.0
    assert rules.employee_engagement(a(drivers), a(boost), a(min(strain + 0.1, 1)),
                                     penalty)[0] <= e
    assert rules.employee_engagement(a(drivers), a(boost + 0.1), a(strain), penalty)[0] >= e


def test_driver_level_rises_with_the_supervisor_and_falls_with_tenure_and_front_line_work():
    def level(quality=0.5, tenure=0, front=False):
        return rules.driver_level(0.58, 0.0, quality, 0.25, tenure, 0.12, front, 0.05)

    assert level(quality=0.8) > level(quality=0.5) > level(quality=0.2)
    assert level(quality=0.5) == pytest.approx(0.58)  # an average supervisor adds nothing
    assert level(tenure=156) < level(tenure=52) < level(tenure=0)
    assert level(tenure=312) == pytest.approx(level(tenure=156))  # drift stops at three years
    assert level(quality=1.0, tenure=156) == pytest.approx(level(quality=1.0))
    assert level(front=True) == pytest.approx(level() - 0.05)


def test_a_continuous_policy_holds_its_stated_gain_whatever_its_persistence():
    # Dosed every week, a continuous policy's gain settles at its sustained effect times the
    # dose (for an employee of engagement 0.5), fast or slow as its decay says.
    for decay in (0.02, 0.06, 0.2):
        gain = np.float32(0.0)
        for _ in range(2000):
            gain = rules.fade(gain, decay) + rules.exposure_impulse(0.7, 0.02, decay, 0.5)
        assert float(gain) == pytest.approx(0.014, rel=1e-3)
    assert rules.exposure_impulse(1.0, 0.02, 0.06, 1.0) == 0.0  # no room to grow
    assert rules.exposure_impulse(-0.3, 0.02, 0.06, 0.5) < 0.0  # a hollow mission costs


@given(st.floats(0.0, 10.0), unit, unit)
def test_coaching_impulse_grows_with_hours_and_supervisor_and_is_nil_for_the_fully_engaged(
        hours, quality, engagement):
    gain = rules.coaching_impulse(hours, quality, engagement, 0.04)
    assert gain >= 0.0
    assert rules.coaching_impulse(hours + 1, quality, engagement, 0.04) >= gain
    assert rules.coaching_impulse(hours, min(quality + 0.1, 1), engagement, 0.04) >= gain
    assert rules.coaching_impulse(hours, quality, 1.0, 0.04) == 0.0
    assert rules.coaching_impulse(0.0, quality, engagement, 0.04) == 0.0


@given(st.floats(0.0, 1e5))
def test_hr_impulse_has_diminishing_returns_up_to_its_largest_value(spend):
    boost = rules.hr_impulse(spend, 0.08, 400.0, 0.5)  # room to grow 1 at engagement 0.5
    assert 0.0 <= boost <= 0.08
    assert rules.hr_impulse(spend + 100, 0.08, 400.0, 0.5) >= boost
    assert rules.hr_impulse(400.0, 0.08, 400.0, 0.5) == pytest.approx(0.08 * (1 - np.exp(-1)))


def test_hr_participation_follows_its_reach_rule():
    assert rules.hr_participation(0.2, 0.8, "everyone") == rules.hr_participation(
        0.7, 0.8, "everyone") == 0.8
    assert (rules.hr_participation(0.2, 0.8, "engaged_more")
            < rules.hr_participation(0.7, 0.8, "engaged_more") <= 0.8)


@given(st.floats(0.0, 5.0), unit)
def test_strain_builds_above_ninety_percent_of_capacity_and_with_a_crisis(pressure, crisis):
    s = rules.strain_level(a(pressure), 1.5, crisis)[0]
    assert 0.0 <= s <= 1.0
    assert rules.strain_level(a(pressure + 0.1), 1.5, crisis)[0] >= s
    assert rules.strain_level(a(0.85), 1.5, 0.0)[0] == 0.0
    assert rules.strain_level(a(1.1), 1.5, 0.0)[0] > 0.0


@given(unit, unit, st.integers(0, 520))
def test_quit_probability_falls_with_engagement_and_rises_with_strain(engagement, strain,
                                                                      tenure):
    def q(e=engagement, s=strain, t=tenure):
        return float(rules.quit_probability(e, s, t, 0.01, 5.0, 1.5))

    assert 0.0 <= q() <= 1.0
    assert q(e=min(engagement + 0.1, 1.0)) <= q()
    assert q(s=min(strain + 0.1, 1.0)) >= q()
    assert q(t=5) == pytest.approx(1.5 * q(t=13))  # new hires quit more


def test_quit_probability_is_capped_at_one():
    assert rules.quit_probability(0.0, 1.0, 0, 0.9, 20.0, 20.0) == 1.0


@given(unit, unit)
def test_skill_grows_toward_full_and_faster_when_engaged(skill, engagement):
    g = rules.skill_gain(skill, engagement, 0.02)
    assert 0.0 <= g <= 1.0 - skill + 1e-12
    assert rules.skill_gain(skill, min(engagement + 0.1, 1.0), 0.02) >= g
    assert rules.skill_gain(1.0, engagement, 0.02) == 0.0


@given(unit, unit, unit)
def test_displayed_emotion_falls_when_busy_or_strained(engagement, strain, busy):
    d = rules.displayed_emotion(a(engagement), a(strain), a(busy), 0.25)[0]
    assert 0.0 <= d <= engagement + 1e-12
    assert rules.displayed_emotion(a(engagement), a(strain), a(min(busy + 0.2, 1)),
                                   0.25)[0] <= d


@given(unit, unit)
def test_effective_hours_rise_with_skill_and_fall_with_strain(skill, strain):
    h = rules.effective_hours(35.0, skill, strain)
    assert 35.0 * 0.7 * 0.7 - 1e-9 <= h <= 35.0 + 1e-9
    assert rules.effective_hours(35.0, min(skill + 0.1, 1), strain) >= h
    assert rules.effective_hours(35.0, skill, min(strain + 0.1, 1)) <= h


def test_work_pressure_is_required_over_available_hours_capped():
    cap = rules.MAX_PRESSURE
    assert rules.work_pressure(a(120.0), a(30.0), a(60.0))[0] == pytest.approx(1.0)
    assert rules.work_pressure(a(240.0), a(30.0), a(60.0))[0] == pytest.approx(2.0)
    assert rules.work_pressure(a(10.0), a(30.0), a(0.0))[0] == cap  # nobody on the front line
    assert rules.work_pressure(a(1e6), a(30.0), a(1.0))[0] == cap


def test_beyond_the_corner_cutting_floor_contacts_go_unserved():
    hours = a(100.0, 100.0, 100.0, 0.0)
    share = rules.served_share(a(1.0, 2.0, 4.6, 1.0), a(30.0), 0.15, 15.0, hours)
    assert share.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.0])


def test_an_eroded_standard_does_not_lower_the_least_time_a_contact_takes():
    """A standard eroded to 10 minutes (of a 30-minute design) under pressure 4.6 at that
    standard: contacts still take 15 minutes, so the staff serve the hours they have over the
    hours 15-minute contacts need, 1.15 x 10 / (4.6 x 15), not everyone."""
    delivered = rules.delivered_minutes(a(10.0), a(4.6), 0.15, 15.0)
    assert delivered.tolist() == pytest.approx([15.0])
    share = rules.served_share(a(4.6), a(10.0), 0.15, 15.0, a(100.0))
    assert share.tolist() == pytest.approx([1.15 * 10.0 / (4.6 * 15.0)])


@given(st.floats(0.1, 5.0), st.floats(0.0, 1.0))
def test_staff_work_harder_then_cut_corners(pressure, overtime):
    given_minutes = rules.delivered_minutes(a(30.0), a(pressure), overtime, 0.0)[0]
    assert 0.0 < given_minutes <= 30.0
    if pressure <= 1.0 + overtime:
        assert given_minutes == pytest.approx(30.0)
    else:
        assert given_minutes < 30.0


def test_busyness_runs_from_calm_to_overrun():
    b = rules.busyness(a(0.5, 0.75, 1.0, 1.25, 3.0))
    assert b.tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])


def test_service_standard_erodes_quickly_and_recovers_slowly_only_with_slack():
    policy = 30.0
    eroded = rules.drift_standard(a(30.0), a(24.0), policy, a(1.5), 6.0, 52.0)[0]
    assert eroded == pytest.approx(30.0 - 6.0 / 6.0)
    # Delivered time back at the policy: recovery only when there is slack.
    busy = rules.drift_standard(a(25.0), a(25.0), policy, a(1.05), 6.0, 52.0)[0]
    calm = rules.drift_standard(a(25.0), a(25.0), policy, a(0.8), 6.0, 52.0)[0]
    assert busy == 25.0
    assert calm == pytest.approx(25.0 + 5.0 / 52.0)
    assert 30.0 - calm < eroded - 24.0 + 5.0  # recovery is slower than erosion
    assert rules.drift_standard(a(30.0), a(30.0), policy, a(0.5), 6.0, 52.0)[0] == 30.0


@given(unit, unit, unit)
def test_service_capability_is_a_weighted_score(skill, emotion, time):
    weights = (rules.QUALITY_SKILL_WEIGHT, rules.QUALITY_EMOTION_WEIGHT,
               rules.QUALITY_TIME_WEIGHT)
    assert sum(weights) == pytest.approx(1.0)
    c = rules.service_capability(skill, emotion, time)
    assert -1e-12 <= c <= 1.0 + 1e-12
    assert rules.service_capability(min(skill + 0.1, 1), emotion, time) >= c


@given(unit, unit, unit, unit)
def test_customer_engagement_is_the_mean_of_the_four_dimensions(c, i, p, q):
    e = rules.customer_engagement(a(c), a(i), a(p), a(q))[0]
    assert e == pytest.approx((c + i + p + q) / 4)


@given(unit, unit)
def test_visits_follow_emotional_engagement_within_bounds(engagement, demand):
    v = rules.visit_probability(a(engagement), 0.5, 0.3, demand)[0]
    assert 0.0 <= v <= 0.95
    assert rules.visit_probability(a(min(engagement + 0.1, 1)), 0.5, 0.3, demand)[0] >= v
    assert rules.visit_probability(a(0.5), 0.5, 0.3, 1.0)[0] == pytest.approx(0.5)
    assert rules.visit_probability(a(0.5), 5.0, 0.3, 1.0)[0] == 0.95


@given(unit, unit)
def test_spend_rises_with_engagement_and_falls_with_anxiety(engagement, anxiety):
    s = rules.spend_per_visit(a(engagement), a(1.0), 60.0, 0.22, anxiety)[0]
    assert s > 0
    assert rules.spend_per_visit(a(min(engagement + 0.1, 1)), a(1.0), 60.0, 0.22,
                                 anxiety)[0] >= s
    assert rules.spend_per_visit(a(engagement), a(1.0), 60.0, 0.22,
                                 min(anxiety + 0.1, 1))[0] <= s
    assert rules.spend_per_visit(a(0.5), a(1.0), 60.0, 0.22, 0.0)[0] == pytest.approx(60.0)


@given(unit)
def test_problems_fall_with_quality_within_bounds(quality):
    p = rules.problem_probability(a(quality), 0.12)[0]
    assert 0.1 * 0.12 - 1e-12 <= p <= 5 * 0.12 + 1e-12
    assert rules.problem_probability(a(min(quality + 0.1, 1)), 0.12)[0] <= p
    assert rules.problem_probability(a(0.65), 0.12)[0] == pytest.approx(0.12)


@given(unit, st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_attachment_step_stays_a_score_and_moves_with_the_encounter(d, good, bad, gain, loss):
    new = rules.attachment_step(a(d), a(good), a(0.0), gain, loss)[0]
    assert d - 1e-12 <= new <= 1.0 + 1e-12
    worse = rules.attachment_step(a(d), a(0.0), a(bad), gain, loss)[0]
    assert -1e-12 <= worse <= d + 1e-12


def test_a_bad_encounter_costs_more_than_a_good_one_gains():
    gain, ratio = 0.3, 2.5
    up = rules.attachment_step(a(0.5), a(0.1), a(0.0), gain, gain * ratio)[0] - 0.5
    down = 0.5 - rules.attachment_step(a(0.5), a(0.0), a(0.1), gain, gain * ratio)[0]
    assert down == pytest.approx(ratio * up)


@given(unit, unit)
def test_churn_falls_with_engagement_and_rises_with_anxiety(engagement, anxiety):
    c = float(rules.churn_probability(engagement, 0.005, 1.7, anxiety, 1.0))
    assert 0.0 <= c <= 1.0
    assert float(rules.churn_probability(min(engagement + 0.1, 1), 0.005, 1.7, anxiety,
                                         1.0)) <= c
    assert float(rules.churn_probability(engagement, 0.005, 1.7, min(anxiety + 0.1, 1),
                                         1.0)) >= c
    assert float(rules.churn_probability(0.0, 0.9, 20.0, 1.0, 20.0)) == 1.0


def test_segments_use_the_published_cut_offs():
    customers = rules.customer_segments(a(0.75, 0.70, 0.6, 0.55, 0.45, 0.40, 0.2))
    assert customers.tolist() == [0, 0, 1, 1, 2, 2, 3]
    staff = rules.employee_segments(a(0.7, 0.61, 0.55, 0.49, 0.3))
    assert staff.tolist() == [0, 0, 1, 1, 2]


@given(st.floats(0.2, 0.9), st.floats(0.2, 0.9), st.floats(0.02, 0.3))
def test_expected_gaps_are_the_normal_partial_moments(mean, expectation, sd):
    above, below = rules.expected_gaps(a(mean), a(expectation), sd)
    # Partial moments are non-negative; a gap far in the tail may come out as -1e-17 in floats.
    assert above[0] >= -1e-12 and below[0] >= -1e-12
    assert above[0] - below[0] == pytest.approx(mean - expectation)


def test_expected_gaps_match_a_monte_carlo_estimate():
    q = np.random.default_rng(5).normal(0.7, 0.15, 400_000)
    above, below = rules.expected_gaps(a(0.7), a(0.74), 0.15)
    assert above[0] == pytest.approx(np.maximum(q - 0.74, 0).mean(), abs=1e-3)
    assert below[0] == pytest.approx(np.maximum(0.74 - q, 0).mean(), abs=1e-3)


@given(st.floats(0.0, 1.0), st.floats(0.001, 1.0))
def test_attachment_equilibrium_is_the_fixed_point_of_the_weekly_update(up, down):
    d = rules.attachment_equilibrium(a(up), a(down))[0]
    assert 0.0 <= d <= 1.0
    # The expected weekly change up * (1 - d) - down * d vanishes there.
    assert up * (1 - d) - down * d == pytest.approx(0.0, abs=1e-12)


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 0.2), st.floats(0, 1))
def test_programme_reach_is_full_where_experience_bears_the_promise_out(rational, expectation,
                                                                         lift, confirmation):
    reach = float(rules.programme_reach(np.float32(rational), np.float32(expectation),
                                        np.float32(lift), np.float32(confirmation)))
    if rational >= np.float32(expectation) + np.float32(lift):
        assert reach == 1.0
    else:
        assert reach == pytest.approx(1.0 - confirmation, abs=1e-6)
