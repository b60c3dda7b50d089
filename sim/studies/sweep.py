"""Parameter sweeps: run a sweep spec locally or on a Dask cluster into a result store that
loses nothing.

    import sim
    runs = sim.sweep("experiments/policy_grid.yaml")          # one row per run
    runs = sim.sweep(spec, executor=client)                    # a distributed.Client
    runs = sim.load_sweep("results/sweeps/policy_grid-1a2b3c4d")

The store is a folder (`sim.studies.sweep_folder`): `manifest.json` (the spec, design points,
seeds, versions, status and each session), `spec.yaml`, and one Parquet file per finished run in
`runs/` (and its weekly series in `series/` if the spec keeps any). Each run's file is written
the moment the run finishes, to a hidden temporary name and renamed into place, so a file is
either whole or absent. Running the same sweep into the same folder again (after Ctrl-C, a crash
or `kill -9`) runs only the runs whose file is missing; a run has exactly one file name, so
there can be no duplicates. The folder's manifest carries a fingerprint of the runs (parameters,
events, seeds, horizon, outcomes and the model's default parameters): a different sweep is
refused.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd

from sim.studies.experiments import measure_run, outcome_columns
from sim.studies.runner import (
    ClusterUnavailable,  # noqa: F401  (raised by `sweep`; callers import it from here)
    RunInterrupted,
    connect,
    default_workers,
    interrupt_on_sigterm,
    run_jobs,
    signals_deferred,
    stop_reason,
)
from sim.studies.store import Claim, FolderError
from sim.studies.sweep_folder import (
    SweepFolderError,
    SweepInfo,
    SweepStore,
    load_sweep,
    new_manifest,
)
from sim.studies.sweep_spec import PlannedRun, SweepSpec, as_spec

DEFAULT_ROOT = Path("results") / "sweeps"


class SweepInterrupted(Exception):
    """The sweep stopped early; every run finished before is in the folder."""

    def __init__(self, folder: Path, reason: str, finished: int, planned: int):
        super().__init__(f"{reason}: {finished} of {planned} runs are in {folder}; run the "
                         "same sweep into the same folder to finish the rest")
        self.folder, self.reason, self.finished, self.planned = folder, reason, finished, planned


def default_folder(spec: SweepSpec, root: Path = DEFAULT_ROOT) -> Path:
    """results/sweeps/<name>-<first 8 hex digits of the fingerprint>: the same sweep always
    goes to the same folder (and resumes there); a changed one gets a new folder."""
    return Path(root) / f"{spec.name}-{spec.fingerprint()[:8]}"


def sweep(spec: SweepSpec | dict | str | Path, executor: Any = None, *,
          out: str | Path | None = None, workers: int | None = None, progress: bool = True,
          source: str | Path | None = None) -> pd.DataFrame:
    """Run a sweep (only the runs not already in its folder) and return every run's results.

    Args:
        spec: a SweepSpec, the same as a mapping, or the path of a YAML spec file.
        executor: None for a local process pool; a `distributed.Client`, a Dask scheduler
            address ("tcp://host:8786") or any concurrent.futures.Executor.
        out: the sweep's folder (default: `default_folder(spec)`).
        workers: local worker processes (default: one per core; 1 runs in this process).
        progress: show a progress bar (runs done, runs per second, time left).
        source: the spec file's path, recorded in the manifest.

    Returns:
        One row per run (see `load_sweep`).

    Raises:
        sim.studies.specfile.SpecError: the spec is not valid (one-line message).
        SweepFolderError: `out` holds another sweep.
        ClusterUnavailable: no scheduler at the given address.
        SweepInterrupted: the sweep stopped early (what finished is kept).
    """
    if isinstance(spec, str | Path) and source is None:
        source = spec
    spec = as_spec(spec)
    if workers is not None and workers < 1:
        raise ValueError(f"workers = {workers} is not allowed: expected a whole number >= 1")
    folder = Path(out) if out is not None else default_folder(spec)
    store = SweepStore(folder, spec)
    store.check(source)
    if store.manifest.get("status") == "complete" and store.intact():
        return load_sweep(folder)
    # Connect to a cluster before the folder is made: an unreachable one leaves nothing behind.
    pool, client_to_close, where = _resolve_executor(executor, workers)
    try:
        try:
            claim = Claim.take(folder, option="")
        except FolderError as err:
            raise SweepFolderError(str(err)) from None
        with claim, interrupt_on_sigterm():
            # Damaged files are set aside only by the process that holds the folder.
            done = store.finished_ids(check=True)
            missing = [r for r in store.plan if r.run not in done]
            _run_missing(store, spec, missing, pool, workers, progress, source, where)
    finally:
        if client_to_close is not None:
            with signals_deferred():
                client_to_close.close()
    if store.manifest["status"] != "complete":
        raise SweepInterrupted(folder, store.manifest["reason"] or "stopped",
                               len(store.finished_ids()), len(store.plan))
    return load_sweep(folder)


def _run_missing(store: SweepStore, spec: SweepSpec, missing: list[PlannedRun],
                 pool: Executor | None, workers: int | None, progress: bool,
                 source: str | Path | None, where: str) -> None:
    """Run the missing runs into the (claimed) folder on `pool` (None: our own processes) and
    close the session in its manifest."""
    if not missing:
        with signals_deferred():
            store.mark_complete()  # e.g. killed after its last run, before the manifest said so
        return
    store.open(source)
    ran, status, reason = 0, "complete", ""
    clock = time.perf_counter()
    simulate = functools.partial(measure_run, outcomes=tuple(spec.outcomes),
                                 series=tuple(spec.series))
    try:
        running = run_jobs([r.job for r in missing], workers=workers, executor=pool,
                           simulate=simulate, progress=progress, description=spec.name,
                           done=len(store.plan) - len(missing))
        try:
            for result in running:
                store.write_run(missing[result.index], result.model_frame,
                                result.stores_frame, result.seconds)
                ran += 1
        except RunInterrupted as err:
            status, reason = "incomplete", err.reason
        except KeyboardInterrupt as err:
            status, reason = "incomplete", stop_reason(err)
        finally:
            running.close()
    finally:
        with signals_deferred():
            if status == "complete" and len(store.finished_ids()) < len(store.plan):
                status, reason = "incomplete", reason or "stopped"
            store.close_session(ran, time.perf_counter() - clock, status, reason, where)


def _resolve_executor(executor: Any, workers: int | None) -> tuple[Executor | None, Any, str]:
    """(executor for run_jobs, a Dask client we opened and must close, a description)."""
    if executor is None:
        n = default_workers() if workers is None else workers
        return None, None, "in this process" if n == 1 else f"{n} local worker processes"
    if isinstance(executor, str):
        client = connect(executor)
        return client.get_executor(pure=False), client, f"Dask cluster at {executor}"
    if hasattr(executor, "get_executor"):  # a distributed.Client
        return executor.get_executor(pure=False), None, f"Dask cluster {executor.scheduler.address}"
    if isinstance(executor, Executor):
        return executor, None, type(executor).__name__
    raise TypeError("executor must be None, a distributed.Client, a scheduler address or a "
                    f"concurrent.futures.Executor, not {type(executor).__name__}")


def design_frame(spec: SweepSpec | dict | str | Path) -> pd.DataFrame:
    """The runs a sweep would make, without running them: run, point, arm, replication, seed
    and the factors (the frame `load_sweep` gives, less the outcomes). Handy to look at a
    design before paying for it."""
    spec = as_spec(spec)
    design, plan = spec.design_points(), spec.plan()
    frame = pd.DataFrame({
        "run": [r.run for r in plan], "point": [r.point for r in plan],
        "arm": [r.arm for r in plan], "replication": [r.replication for r in plan],
        "seed": [r.job.seed for r in plan],
        **{f: [design.values[r.point][f] for r in plan] for f in design.factors}})
    manifest = new_manifest(spec, design, len(plan), spec.fingerprint(),
                             outcome_columns(spec.outcomes), None)
    frame.attrs["sweep"] = SweepInfo(None, manifest)
    return frame
