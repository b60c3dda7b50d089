"""`loyalty-sim run | validate | schema | list` end to end: exit codes, files written, the
table printed, one-line errors, and runs interrupted by Ctrl-C or a killed worker."""

from __future__ import annotations

import copy
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.model import MODEL_REPORTERS, STORE_COLUMNS
from sim.model.parameters import PARAMETER_NAMES
from sim.studies.labels import METRICS, RETURN, humanize
from sim.studies.scenario import SHIPPED_DIR, load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("loyalty-sim")

TINY = {
    "name": "tiny",
    "question": "Does coaching help a tiny chain?",
    "description": "Three small stores, coaching from week 5.",
    "horizon_weeks": 20,
    "replications": 3,
    "seed": 11,
    "parameters": {"n_stores": 3, "employees_per_store": 5, "customers_per_store": 100},
    "baseline": "baseline",
    "arms": {
        "baseline": {"description": "as usual"},
        "coaching": {"description": "coach", "events": [
            {"week": 5, "set": {"coaching_hours": 3.0}}]},
        "hr": {"description": "HR", "events": [{"week": 5, "set": {"hr_budget": 300.0}}]},
    },
}
RESULT_FILES = {"scenario.yaml", "manifest.json", "timeseries.parquet", "stores.parquet",
                "summary.csv", "replications.csv", "trajectories.png", "differences.png",
                "quadrant.png", "store_performance.png", "report.md", "report.html",
                "runs", "stores"}


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def write_scenario(folder: Path, data: dict, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("scenario"), TINY)


@pytest.fixture(scope="module")
def finished_run(tiny_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "one"
    result = invoke("run", tiny_file, "--workers", "1", "--out", out, "--no-progress")
    return result, out


# ------------------------------------------------------------------------------ run
def test_run_prints_the_comparison_table(finished_run):
    result, out = finished_run
    assert result.exit_code == 0, result.output
    text = result.stdout
    for arm in TINY["arms"]:
        assert humanize(arm) in text  # arms are shown by their labels
    diff_rows = [line for line in text.splitlines() if "│   vs baseline " in line]
    assert len(diff_rows) == 2
    for m in (*METRICS, RETURN):
        assert m.short in text
    assert f"Results: {out}" in text


def test_run_writes_every_result_file(finished_run):
    _, out = finished_run
    assert {p.name for p in out.iterdir()} == RESULT_FILES
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    for name in RESULT_FILES:
        if name in ("runs", "stores"):  # one file per replication, kept for `report`
            assert len(list((out / name).glob("run=*.parquet"))) == 9
        elif name.endswith(".png"):
            data = (out / name).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_timeseries_and_stores_hold_every_run_week_and_metric(finished_run):
    _, out = finished_run
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(MODEL_REPORTERS) | {"arm", "replication", "seed"} <= set(ts.columns)
    assert len(ts) == 3 * 3 * 20
    assert ts.groupby(["arm", "replication"]).size().eq(20).all()
    assert (ts["seed"] == 11 + ts["replication"]).all()
    stores = pd.read_parquet(out / "stores.parquet")
    assert set(STORE_COLUMNS) <= set(stores.columns)
    assert len(stores) == 3 * 3 * 20 * 3


def test_manifest_records_how_the_run_was_made(finished_run):
    _, out = finished_run
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and m["reason"] is None
    assert m["seeds"]["per_replication"] == [11, 12, 13]
    assert m["runs"]["planned"] == m["runs"]["finished"] == 9
    assert m["workers"] == 1 and m["wall_seconds"] > 0
    assert m["versions"]["mesa"] and m["versions"]["pandas"]
    assert "commit" in m["git"]
    again = yaml.safe_load((out / "scenario.yaml").read_text())
    assert again["arms"]["coaching"]["events"] == TINY["arms"]["coaching"]["events"]


def test_summary_pairs_each_arm_with_the_baseline(finished_run):
    _, out = finished_run
    summary = pd.read_csv(out / "summary.csv")
    profit = summary[summary["metric"] == "profit"].set_index("arm")
    assert profit.loc["baseline", "diff_n"] == 0 and pd.isna(profit.loc["baseline", "diff"])
    metrics = pd.read_csv(out / "replications.csv")
    for arm in ("coaching", "hr"):
        assert profit.loc[arm, "diff_n"] == 3
        per_rep = (metrics[metrics["arm"] == arm]["profit"].to_numpy()
                   - metrics[metrics["arm"] == "baseline"]["profit"].to_numpy())
        assert profit.loc[arm, "diff"] == pytest.approx(per_rep.mean())
        assert profit.loc[arm, "diff_ci_low"] < per_rep.mean() < profit.loc[arm, "diff_ci_high"]
    cost = summary[summary["metric"] == "policy_cost"].set_index("arm")
    assert cost.loc["coaching", "diff"] > 0 and cost.loc["hr", "diff"] > 0


def test_report_reads_as_an_answer_with_embedded_figures(finished_run):
    _, out = finished_run
    md = (out / "report.md").read_text()
    assert TINY["question"] in md
    assert "## In short" in md and "95% CI" in md
    for arm in TINY["arms"]:
        assert f"**{humanize(arm)}**" in md
    assert "| Policy | Total revenue ($M) |" in md
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert "<table>" in html


def test_one_and_two_workers_give_identical_summaries(tiny_file, finished_run, tmp_path):
    _, one = finished_run
    result = invoke("run", tiny_file, "--workers", "2", "--out", tmp_path / "two",
                    "--no-progress")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "two" / "summary.csv").read_bytes() == (one / "summary.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "two" / "timeseries.parquet"),
                                  pd.read_parquet(one / "timeseries.parquet"))


def test_overrides_change_what_is_run(tiny_file, tmp_path):
    out = tmp_path / "o"
    result = invoke("run", tiny_file, "--workers", "1", "--out", out, "--replications", "2",
                    "--seed", "5", "--horizon", "8", "--no-progress")
    assert result.exit_code == 0, result.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["seeds"]["per_replication"] == [5, 6] and m["horizon_weeks"] == 8
    assert pd.read_parquet(out / "timeseries.parquet")["week"].max() == 7
    assert yaml.safe_load((out / "scenario.yaml").read_text())["replications"] == 2


def test_default_results_folder_is_named_after_the_scenario(tiny_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", tiny_file, "--workers", "1", "--replications", "2",
                    "--horizon", "8", "--no-progress")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("tiny-") and (folder / "report.html").is_file()


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("args, expected", [
    (["--workers", "0"], "--workers 0: 0 is not allowed; allowed: a whole number >= 1"),
    (["--replications", "abc"], "Invalid value for '--replications'"),
    (["--replicatons", "3"], "No such option: --replicatons"),
    (["--horizon", "3"], "with --horizon 3: key 'arms.coaching.events.0.week': week 5 is "
                         "after the last simulated week (2)"),
    (["--seed", "-1"], "with --seed -1: key 'seed': -1 is not allowed"),
])
def test_bad_options_give_one_line_and_exit_2(tiny_file, tmp_path, args, expected):
    line = one_error_line(invoke("run", tiny_file, "--out", tmp_path / "x", *args))
    assert expected in line
    assert not list(tmp_path.iterdir())


def test_bad_files_give_one_line_and_exit_2(tmp_path):
    assert "no such file" in one_error_line(invoke("run", tmp_path / "nope.yaml"))
    assert "Missing argument" in one_error_line(invoke("run"))
    bad = copy.deepcopy(TINY)
    bad["arms"]["coaching"]["events"][0]["set"] = {"coachng_hours": 3}
    path = write_scenario(tmp_path, bad)
    line = one_error_line(invoke("run", path, "--out", tmp_path / "out"))
    assert line.startswith(f"{path}:")
    assert "did you mean 'coaching_hours'?" in line
    assert not (tmp_path / "out").exists()


def test_results_are_never_written_over(tiny_file, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    line = one_error_line(invoke("run", tiny_file, "--out", tmp_path / "taken"))
    assert "already exists" in line
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


def test_validate_checks_without_running(tiny_file, tmp_path):
    ok = invoke("validate", tiny_file)
    assert ok.exit_code == 0 and "ok: 'tiny', 3 arms x 3 replications x 20 weeks" in ok.stdout
    bad = write_scenario(tmp_path, {**TINY, "horizon_weeks": "ten"}, "bad.yaml")
    line = one_error_line(invoke("validate", bad))
    assert line.startswith(f"{bad}:4: key 'horizon_weeks': 'ten' is not allowed")
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_validate_accepts_every_shipped_scenario():
    files = sorted(SHIPPED_DIR.glob("*.yaml"))
    result = invoke("validate", *files)
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": ok: ") == len(files) >= 6


def test_schema_is_json_with_every_key():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert set(TINY) <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_list_shows_each_shipped_scenario_and_its_question():
    result = invoke("list")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    for path in SHIPPED_DIR.glob("*.yaml"):
        assert path.name in flat
        question = yaml.safe_load(path.read_text())["question"]
        assert " ".join(question.split()[:4]) in flat
    # Arms are listed by their plain-English labels, not their snake_case names (a label may
    # wrap inside its cell, so only the baseline's short label is looked for whole).
    scenario = load_scenario(SHIPPED_DIR / "coaching_vs_hr.yaml")
    assert f"{scenario.arm_label(scenario.baseline_arm)} (baseline)" in flat
    assert not [arm for arm in scenario.arms if "_" in arm and arm in flat]


# --------------------------------------------------------------- malformed files (hypothesis)
REQUIRED = ("name", "question", "horizon_weeks", "replications", "seed", "arms")
MAPPINGS = {  # where an unknown key can go, and the keys allowed there
    (): set(TINY) | {"events"},
    ("parameters",): None,  # model parameters
    ("arms", "baseline"): {"description", "parameters", "events"},
    ("arms", "coaching", "events", 0): {"week", "set", "crisis", "layoff"},
    ("arms", "coaching", "events", 0, "set"): None,
}
NOT_AN_INT = st.one_of(
    st.text(max_size=20), st.none(), st.booleans(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=10**12), st.integers(max_value=-1))
NOT_COACHING_HOURS = st.one_of(
    st.text(max_size=20), st.none(), st.booleans(), st.lists(st.floats(), max_size=2),
    st.floats(min_value=40.0, exclude_min=True), st.floats(max_value=0.0, exclude_max=True),
    st.just(float("nan")), st.integers(min_value=41), st.integers(max_value=-1))
BAD_VALUES = {
    ("horizon_weeks",): NOT_AN_INT,
    ("replications",): NOT_AN_INT,
    ("seed",): NOT_AN_INT,
    ("parameters", "n_stores"): NOT_AN_INT,
    ("arms", "coaching", "events", 0, "week"): NOT_AN_INT,
    ("arms", "coaching", "events", 0, "set", "coaching_hours"): NOT_COACHING_HOURS,
    ("name",): st.one_of(st.integers(), st.none(), st.lists(st.text(), max_size=2)),
    ("arms",): st.one_of(st.text(), st.integers(), st.none(), st.lists(st.text(), max_size=3)),
    ("arms", "hr", "events"): st.one_of(st.text(min_size=1), st.integers(),
                                        st.lists(st.integers(), min_size=1, max_size=3)),
}


def _at(data, path):
    for part in path:
        data = data[part]
    return data


@st.composite
def malformed_files(draw) -> bytes:
    kind = draw(st.sampled_from(["drop", "unknown", "value", "bytes", "text"]))
    data = copy.deepcopy(TINY)
    if kind == "drop":
        del data[draw(st.sampled_from(REQUIRED))]
    elif kind == "unknown":
        where = draw(st.sampled_from(sorted(MAPPINGS, key=len)))
        allowed = MAPPINGS[where] if MAPPINGS[where] is not None else set(PARAMETER_NAMES)
        key = draw(st.text(min_size=1, max_size=30).filter(lambda k: k not in allowed))
        _at(data, where)[key] = draw(st.one_of(st.integers(), st.text(max_size=10)))
    elif kind == "value":
        path = draw(st.sampled_from(sorted(BAD_VALUES, key=len)))
        _at(data, path[:-1])[path[-1]] = draw(BAD_VALUES[path])
    elif kind == "bytes":
        return draw(st.binary(min_size=1, max_size=300))
    else:  # text that is rarely YAML and never a scenario
        return draw(st.text(max_size=200)).encode("utf-8")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=malformed_files())
def test_malformed_files_never_give_a_traceback_or_a_results_folder(content, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    out_parent = tmp_path / "results"
    for command in (["run", path, "--workers", "1", "--out", out_parent / "x"],
                    ["validate", path]):
        line = one_error_line(invoke(*command))
        assert line.startswith(f"{path}:")
    assert not out_parent.exists()


# --------------------------------------------------------------- interruptions (real process)
SLOW = {**TINY, "horizon_weeks": 80, "replications": 40,
        "parameters": {"n_stores": 6, "employees_per_store": 8, "customers_per_store": 300}}


def _start(folder: Path, out: Path, workers: int) -> subprocess.Popen:
    path = write_scenario(folder, SLOW, "slow.yaml")
    return subprocess.Popen([str(EXE), "run", str(path), "--out", str(out), "--workers",
                             str(workers), "--no-progress"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoints(folder: Path, out: Path, n: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list(out.glob("runs/run=*.parquet"))) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no run finished in time")


def _check_kept(out: Path, reason: str) -> dict:
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "incomplete" and reason in m["reason"]
    finished = m["runs"]["finished"]
    assert 1 <= finished < m["runs"]["planned"] == 120
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == finished * 80
    kept = {(r["arm"], r["replication"]) for r in m["runs"]["finished_runs"]}
    assert set(map(tuple, ts[["arm", "replication"]].drop_duplicates().to_numpy())) == kept
    assert "incomplete" in (out / "report.md").read_text()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    return m


def test_ctrl_c_keeps_the_finished_replications(tmp_path):
    out = tmp_path / "out"
    proc = _start(tmp_path, out, workers=1)
    _wait_for_checkpoints(tmp_path, out, 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "incomplete: interrupted (Ctrl-C)" in stderr.strip().splitlines()[-1]
    _check_kept(out, "Ctrl-C")


def _workers_of(pid: int) -> list[int]:
    """Pool workers: processes forked by the fork server that the run started."""
    def children(p: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{p}/task").iterdir():
            try:
                found += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    workers = []
    for server in children(pid):
        if b"forkserver" in Path(f"/proc/{server}/cmdline").read_bytes():
            workers += children(server)
    return workers


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_killed_worker_keeps_the_finished_replications(tmp_path):
    out = tmp_path / "out"
    proc = _start(tmp_path, out, workers=2)
    _wait_for_checkpoints(tmp_path, out, 1, proc)
    workers = _workers_of(proc.pid)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    _check_kept(out, "worker process died")
