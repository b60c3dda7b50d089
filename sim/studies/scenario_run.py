"""Run a scenario into a results folder that never loses a finished replication.

    import sim
    outcome = sim.run_scenario("scenarios/coaching_vs_hr.yaml", workers=2)
    outcome.folder, outcome.status, outcome.summary

A scenario run is a study run by the same runner (`sim.studies.runner`) and result store
(`sim.studies.store`) as a sweep:

1. The results folder is claimed before anything runs: a new folder is made with an atomic
   `mkdir` (default `results/<scenario>-<date>-<time>`, `-2`, `-3`... if taken) and locked; a
   symbolic link, a file, a folder holding anything else, or a folder another process is
   writing is refused at once.
2. Each replication is written the moment it finishes: `runs/run=NNNNNN.parquet` (its weekly
   series) and `stores/run=NNNNNN.parquet` (its stores), each whole or absent (fsynced, then
   renamed). `manifest.json` says "running", then "complete" or "incomplete" and why.
3. The results (timeseries, summary, figures, report) are assembled from the stored runs
   (`sim.studies.scenario_report`), a step that can be repeated at any time: after Ctrl-C,
   SIGTERM, `kill -9` or a failing figure, `loyalty-sim report FOLDER` rewrites them, and
   running the same scenario into the same folder runs only the replications still missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim.studies.provenance import git_state, package_versions, source_digest
from sim.studies.runner import (
    RunInterrupted,
    default_workers,
    interrupt_on_sigterm,
    run_jobs,
    signals_deferred,
    stop_reason,
)
from sim.studies.scenario import Scenario, load_scenario
from sim.studies.store import (
    LOCK,
    Claim,
    FolderError,
    atomic_json,
    atomic_parquet,
    atomic_write,
    finished_runs,
    now,
    remove_stale_temporaries,
    run_file_name,
)

KIND = "loyalty-sim scenario run"
MANIFEST = "manifest.json"
SCENARIO_FILE = "scenario.yaml"
RUNS_DIR = "runs"
STORES_DIR = "stores"
DEFAULT_ROOT = Path("results")


@dataclass
class RunOutcome:
    """What a scenario run produced."""

    folder: Path
    status: str  # "complete" or "incomplete"
    reason: str
    summary: Any  # pandas DataFrame (None if the report step failed before it)
    arms: list[str]
    baseline: str
    finished: int
    planned: int
    wall_seconds: float
    interrupted_by_user: bool = False
    stopped_by: str = ""  # runner.CTRL_C or runner.SIGTERM when a signal stopped it


class NothingFinished(Exception):
    """The run stopped before any replication finished; nothing was kept."""

    def __init__(self, reason: str, by_user: bool):
        super().__init__(reason)
        self.reason = reason
        self.by_user = by_user


def fingerprint(scenario: Scenario, model: str | None = None) -> str:
    """A digest of what the runs are (parameters, events, seeds, horizon, the model's
    defaults and its code: `model`, the digest of the `sim` source, default the code on disk
    now): a folder only resumes the very same runs."""
    from sim.model.parameters import Parameters

    jobs = [[j.label, j.params, list(j.events), j.seed, j.weeks] for j in scenario.jobs()]
    chain = scenario.chain_file()  # its stores, when runs start from a chain file
    code = source_digest() if model is None else model
    text = json.dumps([jobs, Parameters().as_dict(), code,
                       *([repr(chain.profile)] if chain else [])], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class ScenarioStore:
    """A scenario's results folder (see the module docstring)."""

    def __init__(self, folder: Path, scenario: Scenario):
        self.folder = Path(folder)
        self.scenario = scenario
        self.jobs = scenario.jobs()
        self.fingerprint = fingerprint(scenario)
        self.manifest: dict[str, Any] = {}

    @property
    def runs_dir(self) -> Path:
        return self.folder / RUNS_DIR

    @property
    def stores_dir(self) -> Path:
        return self.folder / STORES_DIR

    def check(self, option: str = "--out") -> None:
        """Read the folder's manifest; refuse a folder of other runs, a complete run or a
        folder holding anything else. Writes nothing."""
        path = self.folder / MANIFEST
        if path.exists():
            manifest = read_manifest(self.folder)
            made_by = manifest.get("model_source_sha256")
            if (manifest.get("fingerprint") != self.fingerprint and made_by
                    and fingerprint(self.scenario, made_by) == manifest.get("fingerprint")):
                raise FolderError(f"{option} {self.folder}: its runs were made by other model "
                                  f"code (sim source {made_by[:8]}, now "
                                  f"{source_digest()[:8]}), and carrying on would mix two "
                                  "models; allowed: a new folder, or the code that made them")
            if manifest.get("fingerprint") != self.fingerprint:
                raise FolderError(f"{option} {self.folder}: holds the results of other runs "
                                  f"('{manifest.get('scenario')}'); allowed: a new folder, or "
                                  "the folder of an unfinished run of the same scenario")
            if manifest.get("status") == "complete":
                raise FolderError(f"{option} {self.folder}: already holds the complete results "
                                  "of this scenario; allowed: a new folder (results are never "
                                  "written over)")
            self.manifest = manifest
            return
        if any(p.name != LOCK for p in self.folder.iterdir()):
            raise FolderError(f"{option} {self.folder}: already exists and is not an empty "
                              "folder; allowed: a new folder (results are never written over)")

    def finished(self, *, check: bool = False) -> set[int]:
        """Ids (job positions) of the stored runs; with `check`, a run whose files cannot be
        read is set aside with a warning and counts as missing."""
        return finished_runs(self.runs_dir, check=check, companions=(self.stores_dir,))

    def open(self, source: Path | None, command: list[str] | None, where: str) -> None:
        """Start (or resume) the run: scenario file, folders and a session in the manifest."""
        self.runs_dir.mkdir(exist_ok=True)
        self.stores_dir.mkdir(exist_ok=True)
        remove_stale_temporaries(self.folder, self.runs_dir, self.stores_dir)
        if not (self.folder / SCENARIO_FILE).exists():
            atomic_write(self.folder / SCENARIO_FILE, scenario_text(self.scenario, source))
        if not self.manifest:
            self.manifest = new_manifest(self.scenario, source, self.fingerprint, command)
        self.manifest["sessions"].append({
            "started": now(), "finished": None, "pid": os.getpid(), "ran": 0,
            "already_done": len(self.finished()), "executor": where,
            "versions": package_versions(), "git": git_state(),
            "platform": platform.platform(), "cpu_count": os.cpu_count()})
        self.set_status("running", "")

    def write_run(self, run: int, model_frame: Any, stores_frame: Any, seconds: float) -> None:
        """Store one finished replication (its stores first: the run file marks it done)."""
        job = self.jobs[run]
        meta = {b"seconds": repr(float(seconds)).encode()}
        for frame, folder in ((stores_frame, self.stores_dir), (model_frame, self.runs_dir)):
            frame = frame.copy()
            frame.insert(0, "seed", job.seed)
            frame.insert(0, "replication", job.seed - self.scenario.seed)
            frame.insert(0, "arm", job.label)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
            atomic_parquet(folder / run_file_name(run), table)

    def set_status(self, status: str, reason: str, **session: Any) -> None:
        self.manifest["status"] = status
        self.manifest["reason"] = reason or None
        if session and self.manifest["sessions"]:
            self.manifest["sessions"][-1].update(session)
        self.save()

    def save(self) -> None:
        atomic_json(self.folder / MANIFEST, self.manifest)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FolderError(f"{folder}: is not a results folder of `loyalty-sim run` (no "
                          f"{MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise FolderError(f"{path}: cannot be read ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise FolderError(f"{path}: is not the manifest of a `loyalty-sim run` results folder")
    return manifest


def scenario_text(scenario: Scenario, source: Path | None) -> bytes:
    import yaml

    header = (f"# The scenario as run{f' (from {source})' if source else ''}, with any "
              "command-line overrides.\n# Run it again with: loyalty-sim run <this file>; "
              "finish an interrupted run with: loyalty-sim run <this file> --out <this "
              "folder>\n")
    body = yaml.safe_dump(scenario.as_file_data(), sort_keys=False, allow_unicode=True,
                          width=100)
    return (header + body).encode()


def new_manifest(scenario: Scenario, source: Path | None, digest: str,
                 command: list[str] | None) -> dict[str, Any]:
    try:
        source_sha = None if source is None else hashlib.sha256(
            Path(source).read_bytes()).hexdigest()
    except OSError:
        source_sha = None
    return {
        "kind": KIND, "format": 1, "scenario": scenario.name, "question": scenario.question,
        "fingerprint": digest, "model_source_sha256": source_digest(),
        "source_file": None if source is None else str(source),
        "source_sha256": source_sha, "command": command, "status": "planned", "reason": None,
        "started": now(), "finished": None, "wall_seconds": None, "workers": None,
        "executor": None, "horizon_weeks": scenario.horizon_weeks,
        "arms": list(scenario.arms), "baseline": scenario.baseline_arm,
        "seeds": {"base": scenario.seed, "replications": scenario.replications,
                  "per_replication": scenario.seeds(),
                  "rule": "replication r of every arm uses seed base + r"},
        "runs": {"planned": len(scenario.jobs()), "finished": 0, "finished_runs": []},
        "versions": package_versions(), "git": git_state(), "platform": platform.platform(),
        "cpu_count": os.cpu_count(), "sessions": []}


def default_stem(scenario: Scenario) -> str:
    return f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def executor_text(workers: int, executor: Any) -> str:
    if executor is not None:
        return type(executor).__name__
    return "in this process" if workers == 1 else f"{workers} worker processes"


def run_scenario(scenario: Scenario | str | Path, source: str | Path | None = None,
                 out: str | Path | None = None, *, workers: int | None = None,
                 progress: bool = False, executor: Any = None,
                 command: list[str] | None = None, root: str | Path = DEFAULT_ROOT
                 ) -> RunOutcome:
    """Run a scenario's arms x replications into a results folder and write its report.

    Args:
        scenario: a Scenario, or the path of a scenario file.
        source: the file the scenario came from (recorded; default: `scenario` if a path).
        out: the results folder: new, empty, or an unfinished run of the same scenario (then
            only the missing replications run). Default: a new folder under `root`.
        workers: worker processes (default: one per core; 1 runs in this process).
        progress: show a progress bar on stderr.
        executor: any concurrent.futures.Executor to run the replications instead.
        command: the command line, recorded in the manifest.
        root: where default folders go.

    Returns:
        A RunOutcome; `status` is "incomplete" (with `reason`) if the run or its report
        stopped early, and every finished replication is in `folder` either way.

    Raises:
        sim.studies.specfile.SpecError: the scenario file is not valid.
        sim.studies.store.FolderError: `out` cannot hold this run (nothing was written).
        NothingFinished: stopped before any replication finished (nothing was kept).
    """
    if isinstance(scenario, str | Path):
        source = Path(scenario) if source is None else source
        scenario = load_scenario(scenario)
    source = None if source is None else Path(source)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers = {workers} is not allowed: expected a whole number >= 1")
    if out is not None:
        probe = ScenarioStore(Path(out), scenario)
        if Path(out).is_dir() and not Path(out).is_symlink():
            probe.check()  # refuse before creating or locking anything
    claim = (Claim.new(Path(root), default_stem(scenario)) if out is None
             else Claim.take(Path(out)))
    with claim, interrupt_on_sigterm():
        store = ScenarioStore(claim.folder, scenario)
        store.check()
        return _run(store, claim, source, workers, progress, executor, command)


def _run(store: ScenarioStore, claim: Claim, source: Path | None, workers: int,
         progress: bool, executor: Any, command: list[str] | None) -> RunOutcome:
    from sim.studies.scenario_report import finish

    clock = time.perf_counter()
    scenario = store.scenario
    done = store.finished(check=True)
    missing = [i for i in range(len(store.jobs)) if i not in done]
    where = executor_text(workers, executor)
    status, reason, stopped_by = "complete", "", ""
    try:
        store.open(source, command, where)
        store.manifest["workers"] = workers if executor is None else None
        store.manifest["executor"] = where
        label = (f"{scenario.name}: {len(scenario.arms)} arms x {scenario.replications} "
                 "replications")
        running = run_jobs([store.jobs[i] for i in missing], workers=workers,
                           executor=executor, progress=progress, description=label,
                           done=len(done))
        try:
            for result in running:
                store.write_run(missing[result.index], result.model_frame,
                                result.stores_frame, result.seconds)
        finally:
            running.close()  # stops the workers if we leave early
    except RunInterrupted as err:
        status, reason = "incomplete", err.reason
        stopped_by = err.reason if err.by_user else ""
    except KeyboardInterrupt as err:
        status, reason = "incomplete", stop_reason(err)
        stopped_by = reason
    finished = store.finished()
    if not finished:
        with signals_deferred():
            _forget(store, claim)
        raise NothingFinished(reason or "stopped", bool(stopped_by))
    if status == "complete" and len(finished) < len(store.jobs):
        status, reason = "incomplete", "stopped"
    outcome = finish(store, status, reason, clock)
    if stopped_by:
        outcome.interrupted_by_user, outcome.stopped_by = True, stopped_by
    return outcome


def _forget(store: ScenarioStore, claim: Claim) -> None:
    """Undo a run that kept nothing: remove the folder we made, or what we put in a folder
    that was already there (a resumed run keeps its manifest, now saying why it stopped)."""
    if claim.created and not any(p for p in store.folder.iterdir()
                                 if p.name not in (LOCK, MANIFEST, SCENARIO_FILE, RUNS_DIR,
                                                   STORES_DIR)):
        shutil.rmtree(store.folder, ignore_errors=True)
        return
    if len(store.manifest.get("sessions", [])) <= 1:
        for name in (MANIFEST, SCENARIO_FILE):
            (store.folder / name).unlink(missing_ok=True)
        for sub in (store.runs_dir, store.stores_dir):
            shutil.rmtree(sub, ignore_errors=True)
