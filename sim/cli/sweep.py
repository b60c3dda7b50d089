"""`loyalty-sim sweep FILE`: run a sweep spec locally or on a Dask cluster (registered by
sim.cli).

Runs go to the sweep's folder one Parquet file each as they finish; running the same command
again after an interruption runs only what is missing. At the end the command prints the
replication means (grid and Latin hypercube designs) or the Sobol / Morris indices, and writes
them beside the runs (summary.csv, indices.csv).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli import tables as cli_tables
from sim.cli.common import EXIT_FAILED, OneLineErrors, check_workers, fail, stop_code
from sim.studies import specfile
from sim.studies.runner import CTRL_C, SIGTERM, interrupt_on_sigterm, stop_reason


def sweep_command(
    file: Annotated[Path, typer.Argument(help="Sweep spec (YAML), e.g. "
                                         "experiments/policy_grid.yaml.", show_default=False)],
    cluster: Annotated[str | None, typer.Option(
        help="Run on a Dask cluster: the scheduler's address, e.g. tcp://host:8786 (default: "
             "a local process pool).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per core; 1 runs in this process).",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        help="The sweep's folder (default: results/sweeps/<name>-<fingerprint>/). Running "
             "again into the same folder runs only the runs still missing.",
        show_default=False)] = None,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube, Sobol or Morris design) and print its
    replication means or sensitivity indices."""
    with interrupt_on_sigterm():
        try:
            _sweep(file, cluster, workers, out, progress)
        except KeyboardInterrupt as err:  # before or after the runs: nothing to keep
            raise fail(f"{file}: {stop_reason(err)}", stop_code(stop_reason(err))) from None


def _sweep(file: Path, cluster: str | None, workers: int | None, out: Path | None,
           progress: bool) -> None:
    from sim.studies.store import readable
    from sim.studies.sweep import default_folder
    from sim.studies.sweep_spec import load_spec

    try:
        spec = load_spec(file)
    except specfile.SpecError as err:
        raise fail(str(err)) from None
    check_workers(workers)
    if workers is not None and cluster is not None:
        raise fail("--workers applies to the local pool; allowed: --workers or --cluster, not "
                   "both (the cluster's own workers run a sweep given --cluster)")
    folder = default_folder(spec) if out is None else out
    # Damaged run files are not done: the sweep sets them aside and runs them again.
    before = (sum(readable(p) for p in (folder / "runs").glob("run=*.parquet"))
              if folder.is_dir() and not folder.is_symlink() else 0)
    runs = run_sweep(spec, file, cluster=cluster, workers=workers, out=out, progress=progress)
    _report(runs, folder, before)


def run_sweep(spec: Any, source: Path | str, *, cluster: str | None = None,
              workers: int | None = None, out: Path | None = None,
              progress: bool = True) -> Any:
    """Run a checked sweep spec into its folder (only the runs still missing) and return every
    run; any problem is one line on stderr and a `typer.Exit` with the command's exit code.
    `source` names the spec in messages (its file). Ctrl-C and SIGTERM are the caller's to
    catch (`KeyboardInterrupt`) before and after the runs; during them they stop the sweep,
    whose finished runs are kept."""
    from sim.studies.sweep import ClusterUnavailable, SweepInterrupted, default_folder, sweep
    from sim.studies.sweep_folder import SweepFolderError, SweepStore

    folder = default_folder(spec) if out is None else out
    try:
        SweepStore(folder, spec).check(source)  # a folder it may not use: the one line only
        typer.echo(f"Sweep '{spec.name}': {_count(spec.point_count, 'design point')} x "
                   f"{_count(len(spec.arm_names), 'arm')} x "
                   f"{_count(spec.replications, 'replication')} = "
                   f"{_count(spec.run_count, 'run')} of {spec.horizon_weeks} weeks -> {folder}",
                   err=True)
        return sweep(spec, cluster, out=folder, workers=workers, progress=progress,
                     source=source)
    except SweepFolderError as err:
        raise fail(f"--out {err}" if out is not None else str(err)) from None
    except ClusterUnavailable as err:
        raise fail(f"--cluster {cluster}: {err}") from None
    except SweepInterrupted as err:
        code = stop_code(err.reason) if err.reason in (CTRL_C, SIGTERM) else EXIT_FAILED
        raise fail(f"{source}: incomplete: {err}", code) from None
    except OSError as err:
        raise fail(f"{folder}: cannot write the results ({err.strerror or err}); finished "
                   "runs are kept", EXIT_FAILED) from None


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _report(runs: Any, folder: Path, before: int) -> None:
    from sim.studies import sensitivity

    info = sensitivity.sweep_info(runs)
    console = cli_tables.console()
    ran = len(runs) - before
    rate = info.manifest["sessions"][-1].get("runs_per_second") if ran else None
    console.print(f"{len(runs):,} runs in {folder} ({ran:,} run now"
                  + (f" at {rate:.2f} runs/s" if rate else "") + f", {before:,} found done)")
    summary = sensitivity.replication_summary(runs)
    _write_csv(summary, folder / "summary.csv")
    method = info.manifest["design"]["method"]
    if method in ("sobol", "morris"):
        targets = list(info.manifest["contrasts"]) or info.manifest["arms"]
        tables = []
        for target in targets:
            for outcome in info.manifest["columns"]:
                compute = (sensitivity.sobol_indices if method == "sobol"
                           else sensitivity.morris_indices)
                try:
                    indices = compute(runs, outcome, target)
                except ValueError as err:
                    console.print(f"[yellow]{target} {outcome}: {err}[/yellow]")
                    continue
                tables.append(indices.assign(arm=target, outcome=outcome))
                console.print(cli_tables.indices_table(indices, target, outcome))
        if tables:
            import pandas as pd

            _write_csv(pd.concat(tables, ignore_index=True), folder / "indices.csv")
        console.print(f"Indices: {folder / 'indices.csv'}; means: {folder / 'summary.csv'}")
        return
    console.print(*cli_tables.means_tables(summary, info, console.width))
    console.print(f"Means per design point: {folder / 'summary.csv'}; every run: "
                  f"sim.load_sweep('{folder}')")


def _write_csv(frame: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("sweep", cls=OneLineErrors)(sweep_command)
