"""`uncertainty: evidence`: each replication draws the uncertain parameters from their declared
distributions, the same draw in every arm (common random numbers), and the report says how
often an arm wins across those worlds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import truncnorm

from sim.model.parameters import Parameters
from sim.model.sources import UNCERTAIN
from sim.studies.scenario import Scenario, load_scenario
from sim.studies.specfile import SpecError
from sim.studies.sweep_spec import spec_from_data
from sim.studies.uncertainty import draw_parameters, draw_worlds, world_sentence, world_summary

SMALL = {"n_stores": 2, "employees_per_store": 5, "customers_per_store": 60}
SCENARIO = {
    "name": "t", "question": "q?", "horizon_weeks": 8, "replications": 3, "seed": 11,
    "uncertainty": "evidence", "parameters": SMALL,
    "arms": {"base": {}, "hr": {"parameters": {"hr_budget": 400.0}},
             "fixed": {"parameters": {"hr_effect": 0.2}}},
}


def test_a_draw_depends_on_the_seed_only_and_stays_in_bounds():
    assert draw_parameters(5) == draw_parameters(5)
    assert draw_parameters(5) != draw_parameters(6)
    for seed in range(50):
        for name, value in draw_parameters(seed).items():
            u = UNCERTAIN[name]
            assert u.low <= value <= u.high, name
            Parameters().replace(**{name: value})  # a value the model accepts


def test_draws_follow_the_declared_truncated_normal():
    """Over 4,000 worlds the median and the 10th/90th percentiles of each draw match the
    declared distribution's within 0.06 of its SD (binomial error of a quantile at n = 4,000
    is about 0.03 SD)."""
    worlds = draw_worlds(range(4000))
    assert [worlds[s] for s in (0, 17, 3999)] == [draw_parameters(s) for s in (0, 17, 3999)]
    draws = pd.DataFrame(worlds)
    for name, u in UNCERTAIN.items():
        a, b = (u.low - u.mean) / u.sd, (u.high - u.mean) / u.sd
        for q in (0.1, 0.5, 0.9):
            expected = truncnorm.ppf(q, a, b, loc=u.mean, scale=u.sd)
            assert abs(np.quantile(draws[name], q) - expected) < 0.06 * u.sd, (name, q)
    # Separate streams: two parameters' draws are uncorrelated.
    corr = np.corrcoef(draws["hr_effect"], draws["hr_decay"])[0, 1]
    assert abs(corr) < 0.06


def test_every_arm_of_a_replication_lives_in_the_same_world():
    s = Scenario.model_validate(SCENARIO)
    jobs = s.jobs()
    by_seed: dict[int, list] = {}
    for job in jobs:
        by_seed.setdefault(job.seed, []).append(job)
    assert len(by_seed) == 3
    worlds = set()
    for seed, arm_jobs in by_seed.items():
        drawn = draw_parameters(seed)
        for job in arm_jobs:
            for name, value in drawn.items():
                expected = 0.2 if (job.label == "fixed" and name == "hr_effect") else value
                assert job.params[name] == expected, (job.label, name)
        worlds.add(drawn["hr_effect"])
    assert len(worlds) == 3  # replications differ


def test_without_evidence_the_jobs_use_the_defaults():
    s = Scenario.model_validate({**SCENARIO, "uncertainty": "none"})
    assert all("hr_effect" not in job.params for job in s.jobs() if job.label != "fixed")
    assert "uncertainty" not in s.as_file_data()


def test_a_scenario_written_back_keeps_its_uncertainty(tmp_path):
    s = Scenario.model_validate(SCENARIO)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(s.as_file_data()))
    assert load_scenario(path).uncertainty == "evidence"


def test_a_bad_uncertainty_is_one_line_naming_key_and_choices(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, "uncertainty": "literature"}))
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "uncertainty" in message and "evidence" in message and "\n" not in message


def test_sweep_runs_share_the_world_of_their_replication_at_every_point():
    spec = spec_from_data({
        "name": "t", "question": "q?", "horizon_weeks": 8, "replications": 2, "seed": 5,
        "uncertainty": "evidence", "parameters": SMALL,
        "factors": {"hr_budget": {"levels": [0, 500]}, "hr_decay": {"levels": [0.05, 0.2]}}})
    for run in spec.plan():
        drawn = draw_parameters(run.job.seed)
        assert run.job.params["hr_effect"] == drawn["hr_effect"]
        assert run.job.params["hr_decay"] in (0.05, 0.2)  # the factor wins over the draw


def test_an_unknown_mode_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'evidence'"):
        Scenario.model_validate({**SCENARIO, "uncertainty": "maybe"})


def test_world_sentence_counts_paired_wins_and_gives_the_spread():
    metrics = pd.DataFrame({
        "arm": ["a"] * 4 + ["b"] * 4, "replication": [0, 1, 2, 3] * 2,
        "profit": [3e6, 2e6, 1e6, 0.5e6, 1e6, 1e6, 1e6, 1e6]})
    s = world_summary(np.array([2e6, 1e6, 0.0, -0.5e6]))
    assert s["share"] == 0.5 and s["median"] == 0.5e6
    text = world_sentence(metrics, "a", "b", arm_label="Coaching", other_label="HR")
    assert text.startswith("Coaching beats HR on profit in 50% of 4 draws")
    assert "median profit lead +$500.0k" in text


def test_the_report_states_wins_across_worlds():
    from sim.studies import evidence

    g = np.random.default_rng(0)
    rows = [{"arm": arm, "replication": r, "profit": 1e6 + lead + 1e5 * g.normal()}
            for arm, lead in (("base", 0.0), ("coaching", 2e5), ("hr", 1e5)) for r in range(6)]
    metrics = pd.DataFrame(rows)
    scenario = Scenario.model_validate({**SCENARIO, "arms": {"base": {}, "coaching": {},
                                                             "hr": {}}})
    text = evidence._worlds_block(scenario, metrics, ["base", "coaching", "hr"])
    assert "Across plausible worlds" in text
    assert "draws of the uncertain evidence" in text
    assert f"{scenario.arm_label('coaching')} beats {scenario.arm_label('hr')} on profit" in text
    # A contrast the scenario asks about is stated too, though neither arm is the best.
    rows += [{"arm": "both", "replication": r, "profit": 2e6} for r in range(6)]
    asked = Scenario.model_validate({**SCENARIO, "arms": {"base": {}, "coaching": {}, "hr": {},
                                                          "both": {}},
                                     "questions": [{"text": "Which?",
                                                    "contrast": ["hr", "coaching"]}]})
    text = evidence._worlds_block(asked, pd.DataFrame(rows), ["base", "coaching", "hr", "both"])
    assert f"{asked.arm_label('hr')} beats {asked.arm_label('coaching')} on profit" in text
    assert text.count("beats") == 3  # both against coaching and hr, and the asked contrast


def test_break_even_prim_recovers_a_planted_region(tmp_path):
    """The break-even study's PRIM step finds the box where a synthetic verdict flips."""
    import importlib.util
    from pathlib import Path

    pytest.importorskip("ema_workbench")
    path = Path(__file__).resolve().parent.parent / "experiments" / "break_even.py"
    spec = importlib.util.spec_from_file_location("break_even", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g = np.random.default_rng(3)
    points = pd.DataFrame(g.random((400, 3)), columns=["hr_effect", "hr_decay", "other"])
    flip = (points["hr_effect"] > 0.7) & (points["hr_decay"] < 0.4)
    points["profit"] = np.where(flip, -1.0, 1.0)
    box, flips = module.find_box(points, ["hr_effect", "hr_decay", "other"])
    assert flips.sum() == flip.sum()
    assert box.coverage > 0.8 and box.density > 0.8
    limits = module.box_limits(box, ["hr_effect", "hr_decay", "other"]).set_index("factor")
    assert abs(limits.loc["hr_effect", "low"] - 0.7) < 0.06
    assert abs(limits.loc["hr_decay", "high"] - 0.4) < 0.06
    # The figure is drawn on the box's two most restricted factors.
    module.figure(points, box, module.box_limits(box, ["hr_effect", "hr_decay", "other"]),
                  tmp_path / "break_even.png")
    assert (tmp_path / "break_even.png").stat().st_size > 10_000


def test_the_command_line_states_wins_across_worlds_too(tmp_path):
    """A strategist running an evidence scenario reads the same sentences in the terminal as
    in the report (a real `loyalty-sim run`)."""
    import os
    import subprocess
    import sys

    file = tmp_path / "worlds.yaml"
    file.write_text(yaml.safe_dump({**SCENARIO, "arms": {
        "base": {}, "hr": {"parameters": {"hr_budget": 400.0}},
        "coaching": {"parameters": {"coaching_hours": 4.0}}}}))
    result = subprocess.run([sys.executable, "-m", "sim", "run", str(file), "--workers", "1",
                             "--no-progress", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    console = " ".join(result.stdout.split())
    assert "Across plausible worlds" in console
    report = (tmp_path / "out" / "report.md").read_text()
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("**Across plausible worlds**"))
    sentences = []
    for line in lines[start + 2:]:
        if not line.startswith("- "):
            break
        sentences.append(line[2:])
    assert sentences and all("of 3 draws of the uncertain evidence" in x for x in sentences)
    for sentence in sentences:
        assert " ".join(sentence.replace("\\", "").split()) in console
