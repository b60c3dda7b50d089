"""The last step of a scenario run, repeatable at any time: assemble the stored replications of
a results folder into its tables, figures and report, and close its manifest.

`finish` is called by `sim.studies.scenario_run.run_scenario` after the runs; `finish_folder`
(the `loyalty-sim report FOLDER` command) does the same for a folder whose run or report was
interrupted. A failure or an interruption here never touches the stored runs: the manifest
says "incomplete" and why, and the step can simply be run again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.studies.runner import interrupt_on_sigterm, signals_deferred, stop_reason
from sim.studies.scenario import Scenario, load_scenario
from sim.studies.scenario_run import (
    SCENARIO_FILE,
    RunOutcome,
    ScenarioStore,
    executor_text,
    read_manifest,
)
from sim.studies.specfile import SpecError
from sim.studies.store import Claim, FolderError, atomic_parquet, now, run_file_name

REPORT_STOPPED = "interrupted while writing the report"


def finish(store: ScenarioStore, status: str, reason: str, clock: float) -> RunOutcome:
    """Assemble and report the stored runs; record the outcome in the manifest."""
    scenario = store.scenario
    runs = sorted(store.finished())
    planned = len(store.jobs)
    arms: list[str] = []
    summary = None
    try:
        summary, arms = _write_results(store, runs, status, reason, planned, clock)
    except KeyboardInterrupt as err:
        word = stop_reason(err)
        _close(store, runs, "incomplete", f"{REPORT_STOPPED} ({word}); finish it with "
               f"`loyalty-sim report {store.folder}`", clock)
        return RunOutcome(store.folder, "incomplete", f"{word} while writing the report",
                          None, arms, scenario.baseline_arm, len(runs), planned,
                          time.perf_counter() - clock, True, word)
    except Exception as err:  # a failing figure or report must not cost the runs
        why = f"the report could not be written ({type(err).__name__}: {err})"
        _close(store, runs, "incomplete", f"{why}; write it with `loyalty-sim report "
               f"{store.folder}`", clock)
        return RunOutcome(store.folder, "incomplete", why, summary, arms,
                          scenario.baseline_arm, len(runs), planned,
                          time.perf_counter() - clock)
    _close(store, runs, status, reason, clock)
    return RunOutcome(store.folder, status, reason, summary, arms, scenario.baseline_arm,
                      len(runs), planned, time.perf_counter() - clock)


def _close(store: ScenarioStore, runs: list[int], status: str, reason: str,
           clock: float) -> None:
    with signals_deferred():
        wall = time.perf_counter() - clock
        store.manifest["runs"]["finished"] = len(runs)
        store.manifest["runs"]["finished_runs"] = _finished_runs(store, runs)
        store.manifest["finished"] = now()
        store.manifest["wall_seconds"] = round(wall, 3)
        store.set_status(status, reason, finished=now(), seconds=round(wall, 3))


def _finished_runs(store: ScenarioStore, runs: list[int]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        job = store.jobs[run]
        meta = pq.read_schema(store.runs_dir / run_file_name(run)).metadata or {}
        seconds = float(meta.get(b"seconds", b"nan"))
        rows.append({"run": run, "arm": job.label,
                     "replication": job.seed - store.scenario.seed, "seed": job.seed,
                     "seconds": round(seconds, 3)})
    return rows


def _assemble(folder: Path, runs: list[int]) -> pd.DataFrame:
    tables = [pq.read_table(folder / run_file_name(r)) for r in runs]
    return pa.concat_tables(tables).replace_schema_metadata(None).to_pandas()


def _write_results(store: ScenarioStore, runs: list[int], status: str, reason: str,
                   planned: int, clock: float) -> tuple[pd.DataFrame, list[str]]:
    from sim.studies import report

    scenario, folder = store.scenario, store.folder
    # Job order (arm by arm, replication by replication), whatever order runs finished in.
    timeseries = _assemble(store.runs_dir, runs)
    stores = _assemble(store.stores_dir, runs)
    atomic_parquet(folder / "timeseries.parquet",
                   pa.Table.from_pandas(timeseries, preserve_index=False))
    atomic_parquet(folder / "stores.parquet", pa.Table.from_pandas(stores, preserve_index=False))
    warning = ""
    if status != "complete":
        warning = (f"this run is incomplete ({reason}): {len(runs)} of {planned} runs "
                   "finished. Comparisons pair only the replications finished in both arms.")
    written = report.write_scenario_report(
        folder, scenario, timeseries, stores, warning=warning,
        settings=settings(scenario, store.manifest, len(runs), planned, status,
                          time.perf_counter() - clock))
    return written.summary, written.arms


def finish_folder(folder: str | Path) -> RunOutcome:
    """Write (again) the tables, figures and report of a results folder from its stored runs,
    e.g. after Ctrl-C or a failing figure. Runs nothing: the replications still missing stay
    missing (run the folder's scenario.yaml into it to add them)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise FolderError(f"{folder}: is not a results folder; allowed: a folder written by "
                          "`loyalty-sim run`")
    manifest = read_manifest(folder)
    try:
        scenario = load_scenario(folder / SCENARIO_FILE)
    except SpecError as err:
        raise FolderError(f"{folder}: its {SCENARIO_FILE} cannot be used ({err})") from None
    clock = time.perf_counter()
    with Claim.take(folder, option=""), interrupt_on_sigterm():
        store = ScenarioStore(folder, scenario)
        if manifest.get("fingerprint") != store.fingerprint:
            raise FolderError(f"{folder}: its {SCENARIO_FILE} does not match its manifest; "
                              "allowed: a folder as `loyalty-sim run` wrote it")
        store.manifest = manifest
        runs = store.finished(check=True)
        if not runs:
            raise FolderError(f"{folder}: holds no finished run to report")
        status, reason = "complete", ""
        if len(runs) < len(store.jobs):
            status = "incomplete"
            reason = (f"{len(runs)} of {len(store.jobs)} runs finished; add the rest with "
                      f"`loyalty-sim run {folder / SCENARIO_FILE} --out {folder}`")
        return finish(store, status, reason, clock)


# --------------------------------------------------------------------------- settings
def chain_text(scenario: Scenario) -> str:
    from sim.model.parameters import Parameters

    p = Parameters(**scenario.arm_parameters(scenario.baseline_arm))
    return (f"{p.n_stores} stores, about {p.employees_per_store} staff and "
            f"{p.customers_per_store} customers per store")


def settings(scenario: Scenario, manifest: dict[str, Any], finished: int, planned: int,
             status: str, wall: float) -> list[tuple[str, str]]:
    seeds = scenario.seeds()
    source = manifest.get("source_file")
    workers = manifest.get("workers")
    where = manifest.get("executor") or executor_text(workers or 1, None)
    return [
        ("scenario file", f"`{source}`" if source else "(given in Python)"),
        ("chain", chain_text(scenario)),
        ("horizon", f"{scenario.horizon_weeks} weeks"),
        ("replications", f"{scenario.replications} per arm ({finished} of {planned} runs "
                         "finished)"),
        ("seeds", f"{seeds[0]} to {seeds[-1]}: replication r of every arm uses seed "
                  f"{scenario.seed} + r (common random numbers)"),
        ("run on", where),
        ("status", status),
        ("wall time to the report", f"{wall:.1f} s"),
    ]
