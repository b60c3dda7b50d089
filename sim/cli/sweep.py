"""`loyalty-sim sweep FILE`: run a sweep spec locally or on a Dask cluster (registered by
sim.cli).

Runs go to the sweep's folder one Parquet file each as they finish; running the same command
again after an interruption runs only what is missing. At the end the command prints the
replication means (grid and Latin hypercube designs) or the Sobol / Morris indices, and writes
them beside the runs (summary.csv, indices.csv).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.common import EXIT_FAILED, OneLineErrors, check_workers, fail, stop_code
from sim.studies import specfile
from sim.studies.runner import CTRL_C, SIGTERM, interrupt_on_sigterm, stop_reason

MAX_ROWS_SHOWN = 30


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
    from sim.studies.sweep import (
        ClusterUnavailable,
        SweepFolderError,
        SweepInterrupted,
        default_folder,
        sweep,
    )
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
    typer.echo(f"Sweep '{spec.name}': {_count(spec.point_count, 'design point')} x "
               f"{_count(len(spec.arm_names), 'arm')} x "
               f"{_count(spec.replications, 'replication')} = "
               f"{_count(spec.run_count, 'run')} of {spec.horizon_weeks} weeks -> {folder}",
               err=True)
    before = (len(list((folder / "runs").glob("run=*.parquet")))
              if folder.is_dir() and not folder.is_symlink() else 0)
    try:
        runs = sweep(spec, cluster, out=folder, workers=workers, progress=progress,
                     source=file)
    except SweepFolderError as err:
        raise fail(f"--out {err}" if out is not None else str(err)) from None
    except ClusterUnavailable as err:
        raise fail(f"--cluster {cluster}: {err}") from None
    except SweepInterrupted as err:
        code = stop_code(err.reason) if err.reason in (CTRL_C, SIGTERM) else EXIT_FAILED
        raise fail(f"{file}: incomplete: {err}", code) from None
    except OSError as err:
        raise fail(f"{folder}: cannot write the results ({err.strerror or err}); finished "
                   "runs are kept", EXIT_FAILED) from None
    _report(runs, folder, before)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _report(runs: Any, folder: Path, before: int) -> None:
    from rich.console import Console

    from sim.studies import sensitivity

    info = sensitivity.sweep_info(runs)
    console = Console(width=None if sys.stdout.isatty() else 160)
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
                console.print(_indices_table(indices, target, outcome))
        if tables:
            import pandas as pd

            _write_csv(pd.concat(tables, ignore_index=True), folder / "indices.csv")
        console.print(f"Indices: {folder / 'indices.csv'}; means: {folder / 'summary.csv'}")
        return
    console.print(_means_table(summary, info))
    console.print(f"Means per design point: {folder / 'summary.csv'}; every run: "
                  f"sim.load_sweep('{folder}')")


def _write_csv(frame: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _pm(mean: float, half: float, scale: float = 1.0) -> str:
    if not math.isfinite(mean):
        return "-"
    text = f"{mean / scale:.3g}"
    return text + (f" ± {half / scale:.2g}" if math.isfinite(half) else "")


def _indices_table(indices: Any, target: str, outcome: str) -> Any:
    from rich.table import Table

    sobol = "S1" in indices.columns
    table = Table(title=f"{'Sobol' if sobol else 'Morris'} indices of {outcome} ({target}) "
                  f"over {indices.attrs['points']:,} design points", title_justify="left",
                  caption="± 95% bootstrap CI half-width", caption_justify="left")
    table.add_column("factor")
    if sobol:
        table.add_column("first order S1", justify="right")
        table.add_column("total ST", justify="right")
        for _, r in indices.sort_values("ST", ascending=False).iterrows():
            table.add_row(r["factor"], _pm(r["S1"], r["S1_ci95"]), _pm(r["ST"], r["ST_ci95"]))
    else:
        from sim.studies.sensitivity import outcome_label, outcome_scale

        scale = outcome_scale(outcome)
        table.add_column(f"mu* per factor range, {outcome_label(outcome)}", justify="right")
        table.add_column("sigma", justify="right")
        for _, r in indices.sort_values("mu_star", ascending=False).iterrows():
            table.add_row(r["factor"], _pm(r["mu_star"], r["mu_star_ci95"], scale),
                          _pm(r["sigma"], math.nan, scale))
    return table


def _means_table(summary: Any, info: Any) -> Any:
    from rich.table import Table

    from sim.studies.sensitivity import outcome_label, outcome_scale
    from sim.studies.sweep_spec import SINGLE_ARM

    factors = info.manifest["design"]["factors"]
    outcomes = info.manifest["columns"]
    table = Table(title=f"{info.manifest['name']}: {info.manifest['question']}",
                  title_justify="left", caption="mean ± 95% CI half-width over replications",
                  caption_justify="left")
    show_arm = info.manifest["arms"] != [SINGLE_ARM]
    for f in factors:
        table.add_column(f, justify="right")
    if show_arm:
        table.add_column("arm")
    for o in outcomes:
        table.add_column(outcome_label(o), justify="right")
    shown = 0
    for (point, arm), group in summary.groupby(["point", "arm"], sort=False):
        if shown == MAX_ROWS_SHOWN:
            table.add_row(*["..."] * (len(factors) + show_arm + len(outcomes)))
            break
        values = info.manifest["design"]["points"][point]
        cells = [f"{values[f]:.4g}" if isinstance(values[f], float) else str(values[f])
                 for f in factors]
        if show_arm:
            cells.append(arm)
        by = group.set_index("outcome")
        for o in outcomes:
            half = (by.at[o, "ci_high"] - by.at[o, "ci_low"]) / 2
            cells.append(_pm(by.at[o, "mean"], half, outcome_scale(o)))
        table.add_row(*cells)
        shown += 1
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("sweep", cls=OneLineErrors)(sweep_command)
