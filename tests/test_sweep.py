"""Sweeps end to end: the result store (one file per run, resumed after `kill -9` with exactly
the missing runs), the same numbers whatever runs them (1 or 2 local workers, a real Dask
cluster), and `loyalty-sim sweep` with one-line errors."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.studies.sweep import sweep
from sim.studies.sweep_folder import SweepFolderError, load_sweep
from sim.studies.sweep_spec import spec_from_data

TINY = {
    "name": "tiny", "question": "Does coaching or HR help a tiny chain more?",
    "horizon_weeks": 10, "replications": 2, "seed": 7,
    "parameters": {"n_stores": 2, "employees_per_store": 5, "customers_per_store": 50},
    "factors": {"coaching_hours": {"levels": [0, 3]},
                "hr_budget": {"low": 0, "high": 900, "points": 2}},
    "outcomes": ["profit", "customer_churn_pct", "employee_engagement"],
}


def tiny(**changes) -> dict:
    data = copy.deepcopy(TINY)
    data.update(changes)
    return data


def numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Everything but the worker time of each run."""
    return frame.drop(columns=["seconds"])


def part_files(folder: Path) -> list[Path]:
    return sorted((folder / "runs").glob("run=*.parquet"))


# ------------------------------------------------------------------------------ the store
def test_every_run_has_one_file_and_loads_back_as_one_frame(tmp_path):
    spec = spec_from_data(tiny(series=["revenue", "customer_engagement"]))
    runs = sim.sweep(spec, out=tmp_path / "s", workers=1, progress=False)
    assert len(runs) == spec.run_count == 8
    assert runs["run"].tolist() == list(range(8))
    assert len(part_files(tmp_path / "s")) == 8
    assert set(runs["arm"]) == {"sweep"} and set(runs["seed"]) == {7, 8}
    assert runs[["profit", "customer_churn_pct", "employee_engagement"]].notna().all().all()
    # Different policies make different chains; the same policy and seed the same chain.
    assert runs.groupby("point")["employee_engagement"].mean().nunique() == 4
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"] == {"planned": 8,
                                                                      "finished": 8}
    assert manifest["design"]["points"][3] == {"coaching_hours": 3.0, "hr_budget": 900.0}
    assert manifest["sessions"][0]["versions"]["SALib"]
    weekly = load_sweep(tmp_path / "s", series=True)
    assert len(weekly) == 8 * 10 and weekly.groupby("run")["week"].max().eq(9).all()
    assert pd.testing.assert_frame_equal(numbers(load_sweep(tmp_path / "s")),
                                         numbers(runs)) is None


def test_running_again_runs_only_what_is_missing(tmp_path):
    out = tmp_path / "s"
    first = sweep(tiny(), out=out, workers=1, progress=False)
    kept = {p.name: p.stat().st_mtime_ns for p in part_files(out)}
    again = sweep(tiny(), out=out, workers=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in part_files(out)} == kept
    for name in ("run=000002.parquet", "run=000005.parquet"):
        (out / "runs" / name).unlink()
    (out / "runs" / ".run=000003.parquet.tmp-999999999").write_bytes(b"half")  # a dead writer
    resumed = sweep(tiny(), out=out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["ran"] == 2
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(kept)
    pd.testing.assert_frame_equal(numbers(resumed), numbers(first), check_exact=True)
    pd.testing.assert_frame_equal(numbers(again), numbers(first), check_exact=True)


def test_a_folder_of_another_sweep_is_refused(tmp_path):
    sweep(tiny(), out=tmp_path / "s", workers=1, progress=False)
    with pytest.raises(SweepFolderError, match="holds another sweep"):
        sweep(tiny(seed=8), out=tmp_path / "s", workers=1, progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepFolderError, match="not a sweep folder"):
        sweep(tiny(), out=tmp_path / "other", workers=1, progress=False)


def test_runs_of_other_model_code_are_never_mixed_in(tmp_path):
    """A real copy of the package, edited on disk between two commands: carrying on (or
    reusing) a sweep's folder, or an unfinished scenario run's, is refused with one line that
    says so, and a sweep's default folder is a new one."""
    import shutil

    code = tmp_path / "code"
    shutil.copytree(Path(sim.__file__).parent, code / "sim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(code)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)
    assert where.stdout.strip().startswith(str(code))
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(yaml.safe_dump(tiny(replications=1)))
    first = run("sweep", spec_file, "--out", tmp_path / "s", "--workers", 1, "--no-progress")
    assert first.returncode == 0, first.stderr
    default = run("sweep", spec_file, "--workers", 1, "--no-progress")
    assert default.returncode == 0, default.stderr
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump({
        "name": "tiny", "question": "q?", "horizon_weeks": 5, "replications": 2, "seed": 3,
        "parameters": TINY["parameters"],
        "arms": {"base": {}, "hr": {"parameters": {"hr_budget": 300.0}}}}))
    started = run("run", scenario_file, "--out", tmp_path / "r", "--workers", 1,
                  "--no-progress")
    assert started.returncode == 0, started.stderr
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    manifest["status"] = "incomplete"  # as if stopped before its last run
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(manifest))

    rules = code / "sim" / "model" / "rules.py"
    rules.write_text(rules.read_text() + "\n# an edit to the model\n")
    again = run("sweep", spec_file, "--out", tmp_path / "s", "--workers", 1, "--no-progress")
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "its runs were made by other model code" in lines[0], lines
    assert str(tmp_path / "s") in lines[0]
    resumed = run("run", scenario_file, "--out", tmp_path / "r", "--workers", 1,
                  "--no-progress")
    assert resumed.returncode == 2
    lines = resumed.stderr.strip().splitlines()
    assert len(lines) == 1 and "its runs were made by other model code" in lines[0], lines
    before = sorted(p.name for p in (tmp_path / "results" / "sweeps").iterdir())
    fresh = run("sweep", spec_file, "--workers", 1, "--no-progress")
    assert fresh.returncode == 0, fresh.stderr
    after = sorted(p.name for p in (tmp_path / "results" / "sweeps").iterdir())
    assert len(before) == 1 and len(after) == 2


KILLED_SPEC = tiny(name="killed", horizon_weeks=40, replications=6,
                   factors={"coaching_hours": {"levels": [0, 1, 2, 3]}})


def test_a_sweep_killed_mid_way_ends_with_exactly_the_full_set(tmp_path):
    spec_file = tmp_path / "killed.yaml"
    spec_file.write_text(yaml.safe_dump(KILLED_SPEC))
    out = tmp_path / "killed"
    total = spec_from_data(KILLED_SPEC).run_count
    code = "import sys; from sim.cli import app; sys.argv[0] = 'loyalty-sim'; app()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "sweep", str(spec_file), "--out", str(out),
         "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(part_files(out)) < 4:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait()
    survivors = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in part_files(out)}
    assert 4 <= len(survivors) < total, "kill the sweep mid-way"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    resumed = sweep(spec_file, out=out, workers=1, progress=False)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["sessions"][-1]["ran"] == total - len(survivors)
    assert resumed["run"].tolist() == list(range(total))  # no loss, no duplicate
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        f"run={i:06d}.parquet" for i in range(total)]  # no temporary file left either
    for name, digest in survivors.items():  # runs finished before the kill were kept as is
        assert hashlib.sha256((out / "runs" / name).read_bytes()).hexdigest() == digest
    clean = sweep(spec_file, out=tmp_path / "clean", workers=1, progress=False)
    pd.testing.assert_frame_equal(numbers(resumed), numbers(clean), check_exact=True)


# ------------------------------------------------------------------------------ executors
def test_two_local_workers_give_the_numbers_of_one(tmp_path):
    spec = tiny(compare={"coaching": {"parameters": {"staffing_rule": "most_engaged"}},
                         "hr": {}}, contrasts={"d": {"arm": "coaching", "minus": "hr"}})
    one = sweep(spec, out=tmp_path / "one", workers=1, progress=False)
    two = sweep(spec, out=tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(numbers(one), numbers(two), check_exact=True)
    assert len(one) == 16 and set(one["arm"]) == {"coaching", "hr"}


def test_a_dask_cluster_gives_the_numbers_of_a_local_run(tmp_path):
    from distributed import Client, LocalCluster

    spec = tiny(replications=3)
    local = sweep(spec, out=tmp_path / "local", workers=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = sweep(spec, client, out=tmp_path / "dask", progress=False)
        # The command line reaches the same cluster by its address.
        result = CliRunner().invoke(app, ["sweep", str(_spec_file(tmp_path, spec)),
                                          "--cluster", cluster.scheduler_address,
                                          "--out", str(tmp_path / "cli"), "--no-progress"])
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(numbers(on_dask), numbers(local), check_exact=True)
    pd.testing.assert_frame_equal(numbers(load_sweep(tmp_path / "cli")), numbers(local),
                                  check_exact=True)
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"].startswith("Dask cluster")


def _spec_file(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ------------------------------------------------------------------------------ the CLI
def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()
             and not line.startswith("Sweep '")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_runs_a_sweep_and_prints_means_with_intervals(tmp_path):
    path = _spec_file(tmp_path, tiny())
    result = invoke("sweep", path, "--workers", "1", "--out", tmp_path / "s", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "profit ($M)" in result.stdout and "±" in result.stdout
    summary = pd.read_csv(tmp_path / "s" / "summary.csv")
    assert set(summary["outcome"]) == set(TINY["outcomes"]) and (summary["n"] == 2).all()
    again = invoke("sweep", path, "--workers", "1", "--out", tmp_path / "s", "--no-progress")
    assert again.exit_code == 0 and "0 run now, 8 found done" in again.stdout


def test_cli_prints_sobol_indices_of_a_contrast(tmp_path):
    data = tiny(factors={"coaching_hours": {"low": 0, "high": 4, "arms": ["coaching"]},
                         "hr_budget": {"low": 0, "high": 1000, "arms": ["hr"]}},
                design={"method": "sobol", "samples": 2}, replications=1,
                compare={"coaching": {}, "hr": {}},
                contrasts={"coaching_minus_hr": {"arm": "coaching", "minus": "hr"}},
                outcomes=["policy_cost"])
    result = invoke("sweep", _spec_file(tmp_path, data), "--workers", "1", "--out",
                    tmp_path / "s", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "Sobol indices of Policy spend (Coaching minus HR)" in result.stdout
    indices = pd.read_csv(tmp_path / "s" / "indices.csv")
    assert set(indices["factor"]) == {"coaching_hours", "hr_budget"}


@pytest.mark.parametrize(("change", "words"), [
    ({"factors": {"coachng_hours": {"levels": [1]}}}, "did you mean 'coaching_hours'?"),
    ({"replications": -1}, "key 'replications'"),
    ({"design": {"method": "sobol", "samples": 3}}, "key 'factors.hr_budget.points'"),
    ({"design": {"method": "sobol", "samples": 3},
      "factors": {"coaching_hours": {"low": 0, "high": 2}, "hr_budget": {"low": 0, "high": 9}}},
     "power of two"),
])
def test_cli_bad_spec_is_one_line_and_exit_2(tmp_path, change, words):
    result = invoke("sweep", _spec_file(tmp_path, tiny(**change)), "--out", tmp_path / "s")
    line = one_error_line(result)
    assert words in line and line.startswith(str(tmp_path / "tiny.yaml"))
    assert not (tmp_path / "s").exists()


def test_an_unreachable_cluster_is_refused_before_the_folder_is_made(tmp_path):
    from sim.studies.sweep import ClusterUnavailable

    out = tmp_path / "sweeps" / "s"
    with pytest.raises(ClusterUnavailable, match="cannot connect to a Dask scheduler"):
        sweep(tiny(), "tcp://127.0.0.1:9", out=out, progress=False)
    assert not (tmp_path / "sweeps").exists()


def test_cli_bad_options_are_one_line_and_exit_2(tmp_path):
    path = _spec_file(tmp_path, tiny())
    assert "--workers 0" in one_error_line(invoke("sweep", path, "--workers", "0"))
    assert "not both" in one_error_line(invoke("sweep", path, "--workers", "1", "--cluster",
                                                "tcp://127.0.0.1:9"))
    assert "no such file" in one_error_line(invoke("sweep", tmp_path / "nope.yaml"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    line = one_error_line(invoke("sweep", path, "--workers", "1", "--out", tmp_path / "busy"))
    assert line.startswith(f"--out {tmp_path / 'busy'}: exists and is not a sweep folder")
