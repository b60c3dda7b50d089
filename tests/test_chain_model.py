"""A chain file's own stores: the model starts from them, scenario and sweep files name them,
and the runs are the same whatever the number of workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.model import LoyaltyModel
from sim.model.setup import StoreProfile
from sim.studies import specfile
from sim.studies.chain_file import ChainFileError, load_chain_file
from sim.studies.runner import run_jobs
from sim.studies.scenario import load_scenario
from sim.studies.sweep_spec import load_spec

QUALITY = (0.15, 0.85, 0.4, 0.6, 0.3)
MARKET = (0.70, 0.78, 0.74, 0.72, 0.76)


def chain_doc() -> dict:
    stores = [{"id": f"S{i + 1}", "headcount": h, "customers": c, "supervisor_quality": q,
               "supervisor_quality_q05": max(q - 0.1, 0), "supervisor_quality_q95": q + 0.1,
               "local_market": m}
              for i, (h, c, q, m) in enumerate(zip((6, 12, 8, 9, 7), (100, 240, 150, 170, 130),
                                                   QUALITY, MARKET, strict=True))]
    return {"chain": "test", "parameters": {"customers_per_store": 158,
                                            "employees_per_store": 8, "basket": 40.0},
            "stores": stores}


def write_chain(folder: Path, doc: dict | None = None) -> Path:
    path = folder / "fit" / "chain.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc or chain_doc()), encoding="utf-8")
    return path


def write_scenario(folder: Path, chain: str = "fit/chain.yaml", **extra) -> Path:
    doc = {"name": "own-chain", "question": "Where does coaching pay?", "horizon_weeks": 6,
           "replications": 2, "seed": 5, "chain": chain,
           "arms": {"baseline": {}, "coaching": {"parameters": {"coaching_hours": 2.0}}},
           **extra}
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_model_starts_from_the_chains_own_stores(tmp_path):
    chain = load_chain_file(str(write_chain(tmp_path)))
    model = LoyaltyModel(rng=3, chain=chain.profile, **chain.parameters)
    assert model.n_stores == 5 and model.store_ids == ("S1", "S2", "S3", "S4", "S5")
    np.testing.assert_allclose(model.supervisor_quality, QUALITY)
    np.testing.assert_allclose(model.chain.local_expectation, MARKET)
    # customers_per_store 158 is the data's mean, so every store keeps its own size
    np.testing.assert_array_equal(model.chain.initial_customers, [100, 240, 150, 170, 130])
    np.testing.assert_array_equal(model.chain.planned_staff, [6, 12, 8, 9, 7])
    assert model.customers.size == 790
    # the stores' order of staff follows the data (the spin-up moves headcounts only a bit)
    heads = np.bincount(model.employees.store[model.employees.active], minlength=5)
    assert np.argmax(heads) == 1 and np.argmin(heads) == 0


def test_customers_per_store_scales_the_chain_keeping_its_ratios(tmp_path):
    chain = load_chain_file(str(write_chain(tmp_path)))
    model = LoyaltyModel(rng=3, chain=chain.profile, customers_per_store=79)
    np.testing.assert_array_equal(model.chain.initial_customers, [50, 120, 75, 85, 65])
    np.testing.assert_array_equal(model.chain.planned_staff, [3, 6, 4, 4, 4])


def test_a_chain_fixes_the_number_of_stores():
    profile = StoreProfile(("a", "b"), (5, 5), (100, 100), (0.5, 0.5), (0.7, 0.7))
    with pytest.raises(ValueError, match="n_stores = 3 is not allowed with a chain of 2"):
        LoyaltyModel(rng=1, chain=profile, n_stores=3)
    with pytest.raises(ValueError, match="supervisor_quality must be >= 0 and <= 1"):
        StoreProfile(("a",), (5,), (100,), (1.5,), (0.7,))


def test_without_a_chain_the_generic_draws_are_unchanged(small_chain):
    a = LoyaltyModel(rng=9, **small_chain).run(3)
    b = LoyaltyModel(rng=9, chain=None, **small_chain).run(3)
    pd.testing.assert_frame_equal(a.stores_frame(), b.stores_frame())
    assert a.store_ids is None


def test_a_scenario_file_names_its_chain_relative_to_itself(tmp_path, monkeypatch):
    write_chain(tmp_path)
    path = write_scenario(tmp_path)
    monkeypatch.chdir("/")
    scenario = load_scenario(path)
    assert Path(scenario.chain) == (tmp_path / "fit" / "chain.yaml").resolve()
    jobs = scenario.jobs()
    assert all(j.chain is not None and j.chain.n_stores == 5 for j in jobs)
    assert jobs[0].params["basket"] == 40.0 and jobs[0].params["n_stores"] == 5
    coached = [j for j in jobs if j.label == "coaching"][0]
    assert coached.params["coaching_hours"] == 2.0
    # the folder of a calibration holding chain.yaml works too
    assert load_scenario(write_scenario(tmp_path, chain="fit")).chain_file().profile.n_stores == 5


@pytest.mark.parametrize(("chain", "problem"), [
    ("missing.yaml", "no such file"),
    ("bad.yaml", "stores[1].supervisor_quality: 1.7 is not allowed"),
])
def test_a_bad_chain_file_is_one_line_naming_the_key(tmp_path, chain, problem):
    doc = chain_doc()
    doc["stores"][1]["supervisor_quality"] = 1.7
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(specfile.SpecError) as err:
        load_scenario(write_scenario(tmp_path, chain=chain))
    text = str(err.value)
    assert "\n" not in text and "chain" in text and problem in text
    assert str(tmp_path / "scenario.yaml") in text


def test_a_chain_file_and_a_different_store_count_are_refused(tmp_path):
    write_chain(tmp_path)
    with pytest.raises(specfile.SpecError, match="n_stores.*chain file has 5 stores"):
        load_scenario(write_scenario(tmp_path, parameters={"n_stores": 7}))


def test_chain_file_errors_name_the_parameter(tmp_path):
    doc = chain_doc()
    doc["parameters"]["baskets"] = 3
    with pytest.raises(ChainFileError, match=r"parameters\.baskets"):
        load_chain_file(str(write_chain(tmp_path, doc)))


def test_a_sweep_spec_runs_on_the_chain(tmp_path):
    write_chain(tmp_path)
    spec = {"name": "own-sweep", "question": "q", "horizon_weeks": 4, "replications": 1,
            "seed": 1, "chain": "fit/chain.yaml",
            "factors": {"coaching_hours": {"levels": [0.0, 2.0]}}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    loaded = load_spec(path)
    runs = loaded.plan()
    assert all(r.job.chain.n_stores == 5 for r in runs)
    other = tmp_path / "other.yaml"
    doc = chain_doc()
    doc["stores"][0]["supervisor_quality"] = 0.9
    other.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert loaded.fingerprint() != load_spec(path).replace(chain=str(other)).fingerprint()
    from sim.studies.sweep import load_sweep, sweep

    results = sweep(path, out=tmp_path / "out", workers=1, progress=False)
    assert len(results) == 2
    again = load_sweep(tmp_path / "out")  # the stored spec still finds its chain file
    assert len(again) == 2


def test_same_seed_same_results_for_one_or_two_workers(tmp_path):
    write_chain(tmp_path)
    jobs = load_scenario(write_scenario(tmp_path)).jobs()

    def frames(workers):
        out = {}
        for res in run_jobs(jobs, workers=workers, progress=False):
            out[res.index] = (res.model_frame, res.stores_frame)
        return out

    one, two = frames(1), frames(2)
    assert sorted(one) == list(range(len(jobs)))
    for i in one:
        pd.testing.assert_frame_equal(one[i][0], two[i][0], check_exact=True)
        pd.testing.assert_frame_equal(one[i][1], two[i][1], check_exact=True)
    # and the chain's stores are what ran: the best supervisor's store is store 1
    stores = one[0][1]
    assert stores.loc[stores["store"] == 1, "supervisor_quality"].iloc[0] == pytest.approx(0.85)


def test_the_report_adds_each_stores_gain_and_the_chains_quadrant(tmp_path):
    from sim.studies.chain_report import GAINS_FIGURE, GAINS_FILE, QUADRANT_FIGURE
    from sim.studies.scenario_run import run_scenario

    write_chain(tmp_path)
    path = write_scenario(tmp_path)
    outcome = run_scenario(path, out=tmp_path / "out", workers=1, root=tmp_path)
    assert outcome.status == "complete"
    folder = tmp_path / "out"
    gains = pd.read_csv(folder / GAINS_FILE)
    assert len(gains) == 5 and set(gains["arm"]) == {"coaching"}
    assert sorted(gains["store_id"]) == ["S1", "S2", "S3", "S4", "S5"]
    assert (gains["replications"] == 2).all()
    assert (gains["profit_gain_low"] <= gains["profit_gain"]).all()
    assert (gains["profit_gain"] <= gains["profit_gain_high"]).all()
    # the gains are the paired store differences of the stored runs
    stores = pd.read_parquet(folder / "stores.parquet")
    s2 = stores[stores["store"] == 1].groupby(["arm", "replication"])["profit"].sum()
    expected = (s2["coaching"] - s2["baseline"]).mean()
    assert gains.set_index("store_id").at["S2", "profit_gain"] == pytest.approx(expected)
    report = (folder / "report.md").read_text()
    assert "## Your chain, store by store" in report
    assert report.index("## Your chain") < report.index("## How this was run")
    assert "profit gain, $ (95% CI)" in report and "| S2 |" in report
    assert (folder / GAINS_FIGURE).stat().st_size > 0
    assert (folder / QUADRANT_FIGURE).stat().st_size > 0
    html = (folder / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 6  # four standard figures and two more
    # a folder resumes only the same runs: another chain file's stores are other runs
    from sim.studies.scenario_run import fingerprint

    before = fingerprint(load_scenario(path))
    doc = chain_doc()
    doc["stores"][0]["supervisor_quality"] = 0.9
    write_chain(tmp_path, doc)
    assert fingerprint(load_scenario(path)) != before


def test_the_browser_view_leaves_a_chain_scenario_out_of_its_presets_saying_why(tmp_path):
    """The view builds generic chains: a chain file's arms would be shown on the wrong stores."""
    from sim.ui.workshop import MODEL_DEFAULTS, load_presets, preset_problems

    write_chain(tmp_path)
    write_scenario(tmp_path)
    assert list(load_presets(tmp_path)) == [MODEL_DEFAULTS]
    (problem,) = preset_problems(tmp_path)
    assert "scenario.yaml" in problem and "chain.yaml" in problem and "loyalty-sim run" in problem
    assert "\n" not in problem
