"""Issue 9's reproducers on real `loyalty-sim` processes: signals (Ctrl-C once or twice,
SIGTERM, kill -9) sent at real moments, name collisions, bad `--out`, a damaged store. After
each: the finished replications are in the folder, no process of the run is alive 5 s after
its parent died, no hidden leftovers, and the exit code is the documented one (0 done, 1
failed or stopped short, 2 bad input, 130 Ctrl-C, 143 SIGTERM)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from sim.studies import report
from sim.studies.calibration import CalibrationError, load_unfinished
from sim.studies.provenance import source_digest
from sim.studies.scenario_report import finish_folder
from sim.studies.scenario_run import run_scenario
from sim.studies.store import (
    FolderError,
    StoreWarning,
    atomic_parquet,
    finished_runs,
    run_file_name,
)
from sim.studies.sweep import sweep
from sim.studies.sweep_folder import load_sweep

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux")

EXE = Path(sys.executable).with_name("loyalty-sim")
CHAIN = {"n_stores": 3, "employees_per_store": 5, "customers_per_store": 100}
ARMS = {"baseline": {"description": "as usual"},
        "coaching": {"events": [{"week": 5, "set": {"coaching_hours": 3.0}}]}}
# Slow enough to be caught mid-way (about 0.2 s a run), small enough to finish when resumed.
SLOW = {"name": "slow", "question": "Does coaching help?", "horizon_weeks": 60,
        "replications": 8, "seed": 3, "parameters": CHAIN, "arms": ARMS}
QUICK = {**SLOW, "name": "quick", "horizon_weeks": 12, "replications": 2}


def _write(folder: Path, data: dict) -> Path:
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _start(cwd: Path, *args: object) -> subprocess.Popen:
    return subprocess.Popen([str(EXE), *map(str, args), "--no-progress"], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _runs(out: Path) -> int:
    return len(list(out.glob("runs/run=*.parquet")))


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _runs(out) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.02)


def _family(pid: int) -> set[int]:
    """The process and all its descendants (the fork server, its workers, the tracker)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        found.add(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if _running(p)}
        time.sleep(0.1)
    return alive


def _sigterm_stops_cleanly(proc: subprocess.Popen, workers: int) -> str:
    """SIGTERM a run with `workers` workers; check that it stops as promised (exit code 143,
    a last line saying so, no traceback, no process of its own left); return its stderr."""
    family = _family(proc.pid)
    assert len(family) >= workers + 2  # it, the fork server, the workers (and the tracker)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "incomplete: terminated (SIGTERM)" in stderr.strip().splitlines()[-1]
    assert not _gone_within(family, 5)
    return stderr


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _no_leftovers(folder: Path) -> None:
    hidden = [p for p in folder.rglob(".*")]
    assert not hidden, hidden


def _kept(out: Path) -> set[tuple[str, int]]:
    files = sorted(out.glob("runs/run=*.parquet"))
    frame = pd.concat([pd.read_parquet(p, columns=["arm", "replication"]) for p in files])
    return set(map(tuple, frame.drop_duplicates().to_numpy()))


def test_sigterm_keeps_finished_runs_and_leaves_no_process(tmp_path):
    out = tmp_path / "out"
    proc = _start(tmp_path, "run", _write(tmp_path, SLOW), "--out", out, "--workers", 2)
    _wait_for_runs(out, 2, proc)
    _sigterm_stops_cleanly(proc, workers=2)
    m = _manifest(out)
    assert m["status"] == "incomplete" and "SIGTERM" in m["reason"]
    assert m["runs"]["finished"] == _runs(out) >= 2
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(map(tuple, ts[["arm", "replication"]].drop_duplicates().to_numpy())) == _kept(out)
    _no_leftovers(tmp_path)


def test_kill_9_leaves_no_process_and_the_folder_is_finished_by_running_again(tmp_path):
    out = tmp_path / "out"
    scenario = _write(tmp_path, SLOW)
    proc = _start(tmp_path, "run", scenario, "--out", out, "--workers", 2)
    _wait_for_runs(out, 2, proc)
    family = _family(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert not _gone_within(family, 5)  # workers, fork server and tracker died with it
    before = _kept(out)
    assert _manifest(out)["status"] == "running"  # what a dead run looks like
    # `report` turns what is stored into a report, saying what is missing.
    done = subprocess.run([str(EXE), "report", str(out)], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"kept {len(before)} of 16 runs" in done.stderr
    assert _manifest(out)["status"] == "incomplete"
    assert (out / "report.html").is_file()
    # Running the scenario into the folder runs only what is missing.
    done = subprocess.run([str(EXE), "run", str(out / "scenario.yaml"), "--out", str(out),
                           "--workers", "1", "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    m = _manifest(out)
    assert m["status"] == "complete" and m["runs"]["finished"] == 16
    assert m["sessions"][-1]["already_done"] >= len(before)
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 16 * 60
    _no_leftovers(tmp_path)


def test_two_ctrl_c_keep_the_runs_and_a_second_run_cannot_take_the_folder(tmp_path):
    out = tmp_path / "out"
    scenario = _write(tmp_path, SLOW)
    proc = _start(tmp_path, "run", scenario, "--out", out, "--workers", 1)
    _wait_for_runs(out, 2, proc)
    proc.send_signal(signal.SIGSTOP)  # hold it mid-run while a second run tries the folder
    try:
        rival = subprocess.run([str(EXE), "run", str(scenario), "--out", str(out),
                                "--workers", "1", "--no-progress"], capture_output=True,
                               text=True)
    finally:
        proc.send_signal(signal.SIGCONT)
    assert rival.returncode == 2 and "being written by another" in rival.stderr
    proc.send_signal(signal.SIGINT)
    time.sleep(0.8)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    kept = _kept(out)
    assert len(kept) >= 2
    assert _manifest(out)["status"] == "incomplete"
    done = subprocess.run([str(EXE), "report", str(out)], capture_output=True, text=True)
    assert done.returncode == (0 if len(kept) == 16 else 1), done.stderr
    assert "Traceback" not in done.stderr
    assert _manifest(out)["runs"]["finished"] == len(kept)
    _no_leftovers(tmp_path)


def test_ctrl_c_once_the_runs_are_done_keeps_them_all(tmp_path):
    out = tmp_path / "out"
    proc = _start(tmp_path, "run", _write(tmp_path, QUICK), "--out", out, "--workers", 1)
    _wait_for_runs(out, 4, proc)  # every run is stored: the report is being written
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr
    assert _runs(out) == 4
    if proc.returncode == 130:  # caught while writing the report: finish it
        assert _manifest(out)["status"] == "incomplete"
        done = subprocess.run([str(EXE), "report", str(out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    else:  # the report was already written when the signal came
        assert proc.returncode == 0, stderr
    assert _manifest(out)["status"] == "complete"
    assert (out / "report.html").is_file()
    _no_leftovers(tmp_path)


def test_runs_started_together_get_their_own_folders(tmp_path):
    scenario = _write(tmp_path, QUICK)
    procs = [_start(tmp_path, "run", scenario, "--workers", 1, "--seed", seed)
             for seed in (1, 2)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2
    assert {_manifest(f)["seeds"]["base"] for f in folders} == {1, 2}
    _no_leftovers(tmp_path)


@pytest.mark.parametrize("kind", ["symlink", "file", "full"])
def test_a_bad_out_is_refused_before_anything_runs(tmp_path, kind):
    scenario = _write(tmp_path, QUICK)
    target = tmp_path / "target"
    target.mkdir()
    out = tmp_path / "out"
    if kind == "symlink":
        out.symlink_to(target)
    elif kind == "file":
        out.write_text("x")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    done = subprocess.run([str(EXE), "run", str(scenario), "--out", str(out), "--workers",
                           "1", "--no-progress"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and f"--out {out}" in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_a_failing_figure_keeps_the_runs_and_report_finishes_later(tmp_path, monkeypatch):
    scenario = _write(tmp_path, QUICK)

    def broken(*args, **kwargs):
        raise ValueError("no figure today")

    real = report.write_figures
    monkeypatch.setattr(report, "write_figures", broken)
    outcome = run_scenario(scenario, out=tmp_path / "out", workers=1)
    assert outcome.status == "incomplete" and "no figure today" in outcome.reason
    assert _runs(tmp_path / "out") == 4
    monkeypatch.setattr(report, "write_figures", real)
    outcome = finish_folder(tmp_path / "out")
    assert outcome.status == "complete"
    assert (tmp_path / "out" / "trajectories.png").stat().st_size > 10_000
    with pytest.raises(FolderError, match="already holds the complete results"):
        run_scenario(scenario, out=tmp_path / "out", workers=1)  # never written over


def test_a_sweep_killed_leaves_no_process(tmp_path):
    spec = {"name": "grid", "question": "q?", "horizon_weeks": 60, "replications": 6,
            "seed": 1, "parameters": CHAIN,
            "factors": {"coaching_hours": {"levels": [0.0, 2.0, 4.0]}},
            "outcomes": ["profit"]}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "sweep"
    proc = _start(tmp_path, "sweep", path, "--out", out, "--workers", 2)
    _wait_for_runs(out, 1, proc)
    family = _family(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert not _gone_within(family, 5)


def test_an_unreadable_run_file_is_run_again_with_a_warning(tmp_path):
    spec = {"name": "tiny", "question": "q?", "horizon_weeks": 8, "replications": 2,
            "seed": 1, "parameters": CHAIN,
            "factors": {"coaching_hours": {"levels": [0.0, 2.0]}}, "outcomes": ["profit"]}
    first = sweep(spec, out=tmp_path / "s", workers=1, progress=False)
    damaged = sorted((tmp_path / "s" / "runs").glob("run=*.parquet"))
    damaged[0].write_bytes(b"")  # a zero-byte file, as a full disk leaves it
    damaged[1].write_bytes(damaged[1].read_bytes()[:40])  # truncated
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = sweep(spec, out=tmp_path / "s", workers=1, progress=False)
    assert sum(issubclass(w.category, StoreWarning) for w in caught) == 2
    cols = ["run", "profit"]
    pd.testing.assert_frame_equal(first[cols], again[cols])
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "s")[cols], first[cols])
    assert os.path.getsize(damaged[0]) > 0
    assert not (tmp_path / "s" / "runs" / "damaged").exists()


def test_a_damaged_run_file_is_kept_until_its_run_is_stored_again(tmp_path):
    """One copy per run in runs/damaged/ while it is the only trace of the run; deleted (and
    the folder with it) once the run is stored again."""
    runs = tmp_path / "runs"
    runs.mkdir()
    table = pa.table({"x": [1.0]})
    for run in (0, 1, 2):
        atomic_parquet(runs / run_file_name(run), table)
    for run in (0, 1):
        (runs / run_file_name(run)).write_bytes(b"PAR1 torn")
    with pytest.warns(StoreWarning, match="kept in .*damaged/ until it is") as caught:
        assert finished_runs(runs, check=True) == {2}
    assert len(caught) == 2
    damaged = runs / "damaged"
    assert sorted(p.name for p in damaged.iterdir()) == [run_file_name(0), run_file_name(1)]
    (runs / run_file_name(0)).write_bytes(b"")  # damaged again before it was re-run
    with pytest.warns(StoreWarning):
        finished_runs(runs, check=True)
    assert len(list(damaged.iterdir())) == 2  # still one copy per run
    assert (damaged / run_file_name(0)).read_bytes() == b""  # the newest one
    atomic_parquet(runs / run_file_name(0), table)
    assert [p.name for p in damaged.iterdir()] == [run_file_name(1)]
    atomic_parquet(runs / run_file_name(1), table)
    assert not damaged.exists()
    assert finished_runs(runs, check=True) == {0, 1, 2}
    # Copies an earlier version kept forever as hidden .unreadable-* files follow the policy.
    (runs / f".unreadable-{run_file_name(2)}").write_bytes(b"")  # its run is stored again
    (runs / f".unreadable-{run_file_name(3)}").write_bytes(b"")  # its run is still missing
    assert finished_runs(runs, check=True) == {0, 1, 2}
    assert sorted(p.name for p in runs.iterdir()) == [
        "damaged", *(run_file_name(r) for r in (0, 1, 2))]
    assert [p.name for p in damaged.iterdir()] == [run_file_name(3)]


def test_a_run_counts_only_with_its_companion_files_readable(tmp_path):
    """A run whose series or stores file is torn or missing is made again whole: its run file
    goes, the torn companion is set aside with one warning."""
    runs, series = tmp_path / "runs", tmp_path / "series"
    runs.mkdir()
    series.mkdir()
    table = pa.table({"x": [1.0]})
    for run in (0, 1, 2):
        atomic_parquet(series / run_file_name(run), table)
        atomic_parquet(runs / run_file_name(run), table)
    (series / run_file_name(0)).write_bytes(b"PAR1 torn")
    (series / run_file_name(1)).unlink()
    assert finished_runs(runs, companions=(series,)) == {0, 1, 2}  # no check: nothing read
    with pytest.warns(StoreWarning) as caught:
        assert finished_runs(runs, check=True, companions=(series,)) == {2}
    assert sorted(str(w.message).split(":")[0] for w in caught) == [
        str(series / run_file_name(0)), str(series / run_file_name(1))]
    assert sorted(p.name for p in runs.iterdir()) == [run_file_name(2)]
    assert [p.name for p in (series / "damaged").iterdir()] == [run_file_name(0)]


def _damage(out: Path) -> list[str]:
    """Empty one stored run file and truncate another (as a full or dying disk leaves them);
    return their names."""
    files = sorted(out.glob("runs/run=*.parquet"))[:2]
    files[0].write_bytes(b"")
    files[1].write_bytes(files[1].read_bytes()[:40])
    return [p.name for p in files]


def _warned_once_each(stderr: str, names: list[str]) -> None:
    assert "Traceback" not in stderr
    for name in names:  # one line per file, nothing more about it
        lines = [line for line in stderr.splitlines() if name in line]
        assert len(lines) == 1, stderr
        assert lines[0].startswith("loyalty-sim: warning: ")
        assert "cannot be read" in lines[0] and "made again" in lines[0]
    assert stderr.count("warning") == len(names), stderr


def test_a_damaged_sweep_folder_is_healed_by_running_it_again(tmp_path):
    spec = {"name": "tiny", "question": "q?", "horizon_weeks": 8, "replications": 3,
            "seed": 1, "parameters": CHAIN,
            "factors": {"coaching_hours": {"levels": [0.0, 2.0]}}, "outcomes": ["profit"]}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    command = [str(EXE), "sweep", str(path), "--workers", "1", "--no-progress", "--out"]
    for out in ("clean", "s"):
        done = subprocess.run([*command, out], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    out = tmp_path / "s"
    names = _damage(out)
    again = subprocess.run([*command, "s"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    _warned_once_each(again.stderr, names)
    assert "(2 run now" in again.stdout and "4 found done" in again.stdout
    assert (out / "summary.csv").read_bytes() == (tmp_path / "clean" / "summary.csv").read_bytes()
    healed = load_sweep(out).drop(columns="seconds")
    pd.testing.assert_frame_equal(healed, load_sweep(tmp_path / "clean").drop(columns="seconds"))
    assert not (out / "runs" / "damaged").exists()  # the damaged copies went with the re-run
    _no_leftovers(tmp_path)


def test_a_damaged_scenario_folder_is_healed_by_running_it_again(tmp_path):
    scenario = _write(tmp_path, SLOW)
    clean = subprocess.run([str(EXE), "run", str(scenario), "--out", "clean", "--workers", "2",
                            "--no-progress"], cwd=tmp_path, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    out = tmp_path / "out"
    proc = _start(tmp_path, "run", scenario, "--out", out, "--workers", 1)
    _wait_for_runs(out, 3, proc)
    proc.send_signal(signal.SIGINT)  # stopped part-way, then the disk damages two files
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    kept = _runs(out)
    names = _damage(out)
    third = sorted(out.glob("stores/run=*.parquet"))[2]  # a run whose stores file is torn
    third.write_bytes(third.read_bytes()[:40])
    names.append(third.name)
    again = subprocess.run([str(EXE), "run", str(scenario), "--out", str(out), "--workers",
                            "2", "--no-progress"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    _warned_once_each(again.stderr, names)
    m = _manifest(out)
    assert m["status"] == "complete" and m["sessions"][-1]["already_done"] == kept - 3
    # What the store promises to be byte-identical for the same seeds (run files differ only
    # in their timing metadata, so their data are compared).
    for name in ("summary.csv", "replications.csv", "timeseries.parquet", "stores.parquet"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name
    for run in sorted((tmp_path / "clean" / "runs").glob("run=*.parquet")):
        pd.testing.assert_frame_equal(pd.read_parquet(out / "runs" / run.name),
                                      pd.read_parquet(run))
    assert not (out / "runs" / "damaged").exists()
    assert not (out / "stores" / "damaged").exists()
    _no_leftovers(tmp_path)


FIT = {
    "name": "fit",
    "fit": {"supervisor_quality_mean": {"low": 0.3, "high": 0.7}},
    "targets": {"employee_engagement_mean": {"observed": 0.5, "se": 0.01}},
    "simulation": {"statistics": "chain", "n_stores": 5, "weeks": 30, "window_weeks": 8},
    "abc": {"population_size": 16, "generations": 3, "predictive_draws": 2, "seed": 2},
}


@pytest.fixture(scope="module")
def uninterrupted_fit(tmp_path_factory) -> pd.DataFrame:
    """The posterior of FIT run through on one worker: what every stopped and resumed fit must
    give. One run serves the three signals on every xdist worker: the first to need it runs it
    under a lock in the session's shared temporary folder; the others wait and read it."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist the workers' folders share a parent of this session's own; without it the
    # parent is shared with earlier sessions, whose fit may come from other code.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "uninterrupted_fit"
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        posterior = folder / "clean" / "posterior.parquet"
        if not posterior.is_file():
            path = folder / "fit.yaml"
            path.write_text(yaml.safe_dump(FIT))
            clean = _start(folder, "calibrate", path, "--out", folder / "clean", "--workers", 1)
            _, stderr = clean.communicate(timeout=600)
            assert clean.returncode == 0, stderr
        return pd.read_parquet(posterior)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_calibration_stopped_leaves_no_process_and_carries_on(tmp_path, stop,
                                                                 uninterrupted_fit):
    path = tmp_path / "fit.yaml"
    path.write_text(yaml.safe_dump(FIT))
    out = tmp_path / "cal"
    proc = _start(tmp_path, "calibrate", path, "--out", out, "--workers", 2)
    journal = tmp_path / ".cal.partial" / "journal"
    deadline = time.monotonic() + 120
    family: set[int] = set()
    # Stopped once its workers run and have drawn a few particles.
    drawn: set[Path] = set()
    while len(family) < 4 or len(drawn) < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the fit's workers did not start"
        time.sleep(0.02)
        family = _family(proc.pid)
        drawn = {p.relative_to(journal) for p in journal.glob("t*/*.pickle")}
    proc.send_signal(stop)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr
    if stop != signal.SIGKILL:
        assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[stop], stderr
        assert "the particles drawn since are kept" in stderr
    assert not _gone_within(family, 5)
    assert not out.exists()  # a calibration folder is whole or absent
    # The particles drawn before the signal are not lost: still in the journal, or (if their
    # generation was completed while the signal was on its way) in the stored history.
    kept = {p.relative_to(journal) for p in journal.glob("t*/*.pickle")}
    generation = max(int(p.parts[0][1:]) for p in drawn)  # t-1 is the calibration sample
    try:
        stored = len(load_unfinished(out).generations)
    except CalibrationError:  # no generation finished yet
        stored = 0
    assert drawn <= kept or stored > max(generation, 0), (drawn - kept, stored)
    again = _start(tmp_path, "calibrate", path, "--out", out, "--workers", 2)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert (out / "calibration.json").is_file()
    # Stopped part-way and carried on on two workers, the fit is the one that ran through on
    # one.
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"), uninterrupted_fit)
    # The finished fit says whether its intervals can be trusted, criterion by criterion.
    assert "Converged: " in stdout and "  ess: " in stdout and "  median_shift: " in stdout
    # Each session records the code it ran and the generation it started drawing.
    sessions = json.loads((out / "calibration.json").read_text())["sessions"]
    assert [s["first_generation"] for s in sessions] == [0, stored]
    assert {s["code"]["source_sha256"] for s in sessions} == {source_digest()}
