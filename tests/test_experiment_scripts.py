"""The analysis scripts of experiments/ that produce the ODD's issue-10 measures: their sweeps
run the validation target's policies, their arithmetic finds a planted interaction, and as real
processes they keep finished runs when stopped, carry on where they stopped, give the same
numbers with one or two workers, and answer bad input with one line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_reliability import _no_leftovers, _runs, _sigterm_stops_cleanly, _wait_for_runs

from sim.model.parameters import Parameters
from sim.studies import validation
from sim.studies.sweep_spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
RECIPROCITY = EXPERIMENTS / "reciprocity_interaction.py"
EROSION = EXPERIMENTS / "erosion_contrast.py"
LAYOFF = EXPERIMENTS / "layoff_collapse.py"
# A chain small enough for 48 runs of three years in seconds.
SMALL = ["--n-stores", "3", "--set", "customers_per_store=100", "--set", "employees_per_store=5",
         "--no-progress"]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _start(script: Path, *args: object, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(script: Path, *args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _changes(spec) -> dict[str, tuple[int, dict]]:
    """Each arm's policy change: (week, what it sets); the baseline arm sets nothing."""
    out = {}
    for arm in spec.arm_names:
        events = spec.arm_events(arm)
        assert len(events) <= 1
        out[arm] = (events[0]["week"], dict(events[0]["set"])) if events else (None, {})
    return out


def test_the_scripts_sweeps_run_target_7s_policies_and_the_default_loop():
    arms = validation.programme_arms()
    customer = arms["customer_only"][0]["set"]
    both = arms["both"][0]["set"]
    coaching = {k: v for k, v in both.items() if k not in customer}
    start = validation.PROGRAMME_START

    recip = load_spec(EXPERIMENTS / "reciprocity_interaction.yaml")
    assert _changes(recip) == {"baseline": (None, {}), "coaching": (start, coaching),
                               "customer": (start, customer), "both": (start, both)}
    # The loop on is the default strength (when the defaults are re-fitted, the spec follows).
    levels = recip.factors["reciprocity_strength"].levels
    assert levels == [Parameters().reciprocity_strength, 0.0]

    erosion = load_spec(EXPERIMENTS / "erosion_contrast.yaml")
    assert _changes(erosion) == {"baseline": (None, {}), "programme": (start, customer),
                                 "no_promise": (start, customer)}
    standing = {arm: set(erosion.arm_parameters(arm)) - set(erosion.arm_parameters("baseline"))
                for arm in erosion.arm_names}
    assert standing == {"baseline": set(), "programme": set(),
                        "no_promise": {"customer_programme_promise"}}
    assert erosion.arm_parameters("no_promise")["customer_programme_promise"] == 0
    parameter, chains = _module(EROSION).LEVERS["supervisors"]
    assert erosion.factors[parameter].levels == list(chains)


def test_the_interaction_is_what_doing_both_adds_beyond_the_sum():
    recip = _module(RECIPROCITY)
    g = np.random.default_rng(5)
    planted = {"on": 0.3, "off": -0.1}
    rows = []
    for loop, extra in planted.items():
        for seed in range(1, 9):
            level = g.normal(0, 1.0)  # a seed's own luck, shared by its arms
            for arm, (coach, cust) in {"baseline": (0, 0), "coaching": (1, 0),
                                       "customer": (0, 1), "both": (1, 1)}.items():
                value = level + 0.7 * coach + 0.4 * cust + extra * coach * cust
                rows.append({"seed": seed, "arm": arm, "loop": loop,
                             **dict.fromkeys(recip.OUTCOMES, value)})
    summary = recip.summary(pd.DataFrame(rows)).set_index(["outcome", "interaction"])
    for outcome in recip.OUTCOMES:
        assert summary.loc[(outcome, "loop on"), "mean"] == pytest.approx(0.3)
        assert summary.loc[(outcome, "loop off"), "mean"] == pytest.approx(-0.1)
        assert summary.loc[(outcome, "on - off"), "mean"] == pytest.approx(0.4)
        assert summary.loc[(outcome, "on - off"), "excludes_zero"]


def test_the_layoff_study_lays_off_ninety_percent_at_the_week_it_reads_from():
    spec = load_spec(EXPERIMENTS / "layoff_collapse.yaml")
    assert spec.arm_names == ["no_layoff", "layoff"]
    assert spec.arm_events("no_layoff") == []
    assert [dict(e) for e in spec.arm_events("layoff")] == [
        {"week": _module(LAYOFF).LAYOFF_WEEK, "layoff": {"share": 0.9}}]


def test_the_layoff_study_reads_revenue_kept_against_the_chains_own_past():
    """Planted series: every chain sells 100 a week, the layoff arm 30 from the layoff on
    (one chain 60) and its churn is four times the other arm's."""
    layoff = _module(LAYOFF)
    week0 = layoff.LAYOFF_WEEK
    runs, weekly = [], []
    for run, (arm, seed) in enumerate((a, s) for s in (1, 2, 3, 4)
                                      for a in ("no_layoff", "layoff")):
        runs.append({"run": run, "arm": arm, "seed": seed})
        after = 60.0 if seed == 4 else 30.0
        for week in range(52):
            cut = arm == "layoff" and week >= week0
            weekly.append({"run": run, "week": week, "revenue": after if cut else 100.0,
                           "headcount": 9.0 if cut else 90.0,
                           "churn_rate_annual_pct": 80.0 if cut else 20.0})
    table = layoff.summarise(pd.DataFrame(weekly), pd.DataFrame(runs))
    assert table.loc["months 2-3", "revenue_kept"] == pytest.approx(0.375)
    assert table.loc["months 2-3", "revenue_vs_no_layoff"] == pytest.approx(0.375)
    assert table.loc["months 2-3", "headcount_kept"] == pytest.approx(0.1)
    assert table.loc["months 7-9", "churn_multiple"] == pytest.approx(4.0)
    assert table.loc["month 1", "chains_keeping_over_half"] == "1 of 4"


def test_a_stopped_script_keeps_its_runs_carries_on_and_matches_one_worker(tmp_path):
    out = tmp_path / "two"
    args = ["--seeds", 6, *SMALL, "--out", out]
    proc = _start(RECIPROCITY, *args, "--workers", 2, cwd=tmp_path)
    _wait_for_runs(out, 2, proc)
    _sigterm_stops_cleanly(proc, workers=2)
    assert 2 <= _runs(out) < 48

    again = _run(RECIPROCITY, *args, "--workers", 2, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert _runs(out) == 48
    one = _run(RECIPROCITY, "--seeds", 6, *SMALL, "--out", tmp_path / "one", "--workers", 1,
               cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert again.stdout == one.stdout
    assert "loop on" in one.stdout and "profit_musd" in one.stdout
    _no_leftovers(tmp_path)


@pytest.mark.parametrize(("script", "args", "words"), [
    (RECIPROCITY, ["--set", "expectaton=0.7"], "--set expectaton=0.7: unknown parameter "
     "'expectaton'; did you mean 'expectation'?"),
    (RECIPROCITY, ["--set", "expectation=2"], "--set expectation=2: parameter 'expectation' = 2 "
     "is not allowed: expected a number >= 0 and <= 1"),
    (RECIPROCITY, ["--seeds", "1"], "--seeds 1: 1 is not allowed; allowed: a whole number >= 2"),
    (RECIPROCITY, ["--seeds", "many"], "argument --seeds: invalid int value: 'many'"),
    (RECIPROCITY, ["--strength", "0"], "--strength 0.0: not allowed; allowed: a number > 0"),
    (RECIPROCITY, ["--workers", "0"], "--workers 0: 0 is not allowed; allowed: a whole number "
     ">= 1"),
    (RECIPROCITY, ["--workers", "2", "--cluster", "tcp://127.0.0.1:9"], "--workers applies to "
     "the local pool; allowed: --workers or --cluster, not both"),
    (EROSION, ["--n-stores", "0"], "--n-stores 0: parameter 'n_stores' = 0 is not allowed: "
     "expected a whole number >= 1"),
    (EROSION, ["--lever", "drivers", "--set", "driver_baseline=0.6"],
     "--set driver_baseline: not allowed with --lever drivers"),
    (EROSION, ["--set", "programme_confirmation"], "--set programme_confirmation: expected "
     "NAME=VALUE"),
    (LAYOFF, ["--set", "min_service_shar=0.4"], "--set min_service_shar=0.4: unknown parameter "
     "'min_service_shar'; did you mean 'min_service_share'?"),
    (LAYOFF, ["--seeds", "1"], "--seeds 1: 1 is not allowed; allowed: a whole number >= 2"),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, script, args, words):
    out = tmp_path / "out"
    result = _run(script, *args, "--out", out, "--no-progress", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"experiments/{script.name}: ")
    assert words in lines[0]
    assert not out.exists() and not (tmp_path / "results").exists()


ADOPT = EXPERIMENTS / "adopt_published_fit.py"


def test_the_defaults_are_what_adopting_the_committed_fit_gives():
    """Medians, reciprocity's distribution, ENGAGEMENT_SD and the effects it converts, the
    ODD's formulas and the interaction spec's level all agree with the fit the defaults cite."""
    from sim.model.sources import PUBLISHED_FIT

    result = _run(ADOPT, ROOT / PUBLISHED_FIT, "--check", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would change" not in result.stdout


def test_adopting_another_fit_rewrites_the_defaults_and_what_follows_from_them(tmp_path):
    """On a copy of the repository, adopting a fit whose supervisors spread staff more (a
    climate effect 1.8x the committed median) moves the fitted defaults, re-measures
    ENGAGEMENT_SD and so every converted effect; the copy's parameter tests then pass, and
    adopting the same fit again changes nothing."""
    import os
    import shutil

    from sim.model.sources import PUBLISHED_FIT

    copy = tmp_path / "repo"
    for part in ("sim", "docs", "tests", "README.md", "pyproject.toml"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / part)
    (copy / "experiments").mkdir()
    for name in (ADOPT.name, "calibration_published_long.yaml", "reciprocity_interaction.yaml"):
        shutil.copy(EXPERIMENTS / name, copy / "experiments" / name)
    fake = copy / "experiments" / "results" / "another_fit"
    shutil.copytree(ROOT / PUBLISHED_FIT, fake)
    posterior = pd.read_parquet(fake / "posterior.parquet")
    posterior["supervisor_climate_effect"] *= 1.8
    posterior["reciprocity_strength"] *= 1.5
    posterior.to_parquet(fake / "posterior.parquet")
    env = {**os.environ, "PYTHONPATH": str(copy)}

    def run(*args):
        return subprocess.run([sys.executable, *map(str, args)], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=600)

    adopted = run(copy / "experiments" / ADOPT.name, fake)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    again = run(copy / "experiments" / ADOPT.name, fake, "--check")
    assert again.returncode == 0 and "would change" not in again.stdout, again.stdout
    probe = run("-c", "from sim.model.parameters import Parameters as P; "
                "from sim.model import sources as s; p = P(); print(s.PUBLISHED_FIT, "
                "s.ENGAGEMENT_SD, p.supervisor_climate_effect, p.reciprocity_strength, "
                "p.coaching_effect, p.hr_effect, p.mission_effect)")
    fit, sd, climate, strength, coaching, hr, mission = probe.stdout.split()
    defaults = Parameters()
    assert fit == "experiments/results/another_fit"
    assert float(climate) == pytest.approx(1.8 * defaults.supervisor_climate_effect, rel=0.01)
    assert float(strength) == pytest.approx(1.5 * defaults.reciprocity_strength, rel=0.01)
    # Staff spread more, so the same published d is a larger step (about 0.13 against 0.103).
    assert float(sd) > 1.1 * 0.103
    for new, old in ((coaching, defaults.coaching_effect), (hr, defaults.hr_effect),
                     (mission, defaults.mission_effect)):
        assert float(new) / old == pytest.approx(float(sd) / 0.103, rel=0.05)
    recip = (copy / "experiments" / "reciprocity_interaction.yaml").read_text()
    assert f"reciprocity_strength: {{levels: [{strength}, 0.0]}}" in recip
    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                "tests/test_parameters.py", "-k", "published_fit or conversion or "
                "programme_effects or distribution_centred")
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert tests.stdout.splitlines()[-1].startswith("4 passed"), tests.stdout[-3000:]
