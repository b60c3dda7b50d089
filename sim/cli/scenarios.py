"""Commands of `loyalty-sim` for strategists: run, validate, schema, list (registered by
sim.cli).

`run` simulates every arm x replication of a scenario (replication r of every arm uses the
seed `seed + r`), prints the comparison table and writes the results folder. The folder is
assembled in a hidden temporary folder next to it and renamed into place at the end, so it is
never half-written; if the run is interrupted (Ctrl-C, a worker killed), the replications
already finished are kept and the manifest says "incomplete".
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from sim.cli import tables
from sim.studies import specfile
from sim.studies.provenance import git_state, package_versions
from sim.studies.runner import CTRL_C, RunInterrupted, default_workers, run_jobs
from sim.studies.scenario import SHIPPED_DIR, Overrides, Scenario, json_schema, load_scenario

# Typer ships its own copy of click; its UsageError is the base of BadParameter.
_UsageError = typer.BadParameter.__mro__[1]
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class OneLineErrors(TyperCommand):
    """A command whose bad options and arguments give one line on stderr and exit code 2."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _UsageError as err:
            typer.echo(specfile.one_line(f"loyalty-sim {info_name}: {err.format_message()}"),
                       err=True)
            raise SystemExit(EXIT_BAD_INPUT) from None


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(specfile.one_line(message), err=True)
    return typer.Exit(code)


def _load(file: Path) -> Scenario:
    try:
        return load_scenario(file)
    except specfile.SpecError as err:
        raise _fail(str(err)) from None


# ------------------------------------------------------------------------------ run
@dataclass
class RunOutcome:
    """What a scenario run produced."""

    folder: Path
    status: str  # "complete" or "incomplete"
    reason: str
    summary: Any  # pandas DataFrame
    arms: list[str]
    baseline: str
    finished: int
    planned: int
    wall_seconds: float
    interrupted_by_user: bool = False


def default_out_dir(scenario: Scenario, root: Path = Path("results")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = root / f"{scenario.name}-{stamp}"
    n = 2
    while out.exists():
        out = root / f"{scenario.name}-{stamp}-{n}"
        n += 1
    return out


def check_out_dir(out: Path) -> None:
    """Raise ValueError (a one-line message) if `out` holds anything: results never
    overwrite."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out}: already exists and is not an empty folder; allowed: a "
                         "new folder (results are never written over)")


def run_scenario(scenario: Scenario, source: Path, out: Path, *, workers: int,
                 progress: bool = False, executor: Any = None,
                 command: list[str] | None = None) -> RunOutcome:
    """Run a scenario and write its results folder `out` (created at the end, whole)."""
    import pandas as pd

    started = datetime.now().astimezone()
    clock = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; results are for sharing
    try:
        (tmp / "runs").mkdir()
        _write_scenario(tmp / "scenario.yaml", scenario, source)
        jobs = scenario.jobs()
        arms = list(scenario.arms)
        results, weekly, per_store = [], {}, {}
        status, reason, by_user = "complete", "", False
        label = f"{scenario.name}: {len(arms)} arms x {scenario.replications} replications"
        running = run_jobs(jobs, workers=workers, executor=executor, progress=progress,
                           description=label)
        try:
            for result in running:
                results.append(result)
                weekly[result.index] = _frame_of(result, scenario.seed)
                per_store[result.index] = _frame_of(result, scenario.seed, stores=True)
                # A checkpoint per finished replication (dropped once assembled).
                weekly[result.index].to_parquet(tmp / "runs" / f"{result.index:05d}.parquet",
                                                index=False)
        except RunInterrupted as err:
            status, reason, by_user = "incomplete", err.reason, err.by_user
        except KeyboardInterrupt:
            status, reason, by_user = "incomplete", CTRL_C, True
        finally:
            running.close()  # stops the workers if we leave early
        if not results:
            raise _NothingFinished(reason, by_user)
        # Job order (arm by arm, replication by replication), whatever order runs finished in.
        results.sort(key=lambda r: r.index)
        timeseries = pd.concat([weekly[r.index] for r in results], ignore_index=True)
        stores = pd.concat([per_store[r.index] for r in results], ignore_index=True)
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        stores.to_parquet(tmp / "stores.parquet", index=False)
        shutil.rmtree(tmp / "runs")

        from sim.studies import report

        warning = ""
        if status != "complete":
            warning = (f"this run is incomplete ({reason}): {len(results)} of {len(jobs)} "
                       "runs finished. Comparisons pair only the replications finished in "
                       "both arms.")
        wall = time.perf_counter() - clock
        written = report.write_scenario_report(
            tmp, scenario, timeseries, stores, warning=warning,
            settings=_settings(scenario, source, workers, executor, len(results), len(jobs),
                               status, wall))
        summary, finished_arms, baseline = written.summary, written.arms, scenario.baseline_arm
        wall = time.perf_counter() - clock
        manifest = _manifest(scenario, source, workers, executor, results, len(jobs), status,
                             reason, started, wall, command)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
        if out.exists():
            out.rmdir()  # an empty folder the user named: replaced whole
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunOutcome(out, status, reason, summary, finished_arms, baseline, len(results),
                      len(jobs), wall, by_user)


class _NothingFinished(Exception):
    def __init__(self, reason: str, by_user: bool):
        super().__init__(reason)
        self.reason = reason
        self.by_user = by_user


def _frame_of(result: Any, base_seed: int, stores: bool = False) -> Any:
    frame = (result.stores_frame if stores else result.model_frame).copy()
    frame.insert(0, "seed", result.job.seed)
    frame.insert(0, "replication", result.job.seed - base_seed)
    frame.insert(0, "arm", result.job.label)
    return frame


def _write_scenario(path: Path, scenario: Scenario, source: Path) -> None:
    import yaml

    header = (f"# The scenario as run (from {source}, with any command-line overrides).\n"
              "# Run it again with: loyalty-sim run <this file>\n")
    body = yaml.safe_dump(scenario.as_file_data(), sort_keys=False, allow_unicode=True,
                          width=100)
    path.write_text(header + body, encoding="utf-8")


def _chain_text(scenario: Scenario) -> str:
    from sim.model.parameters import Parameters

    p = Parameters(**scenario.arm_parameters(scenario.baseline_arm))
    return (f"{p.n_stores} stores, about {p.employees_per_store} staff and "
            f"{p.customers_per_store} customers per store")


def _executor_text(workers: int, executor: Any) -> str:
    if executor is not None:
        return type(executor).__name__
    return "in this process" if workers == 1 else f"{workers} worker processes"


def _settings(scenario: Scenario, source: Path, workers: int, executor: Any, finished: int,
              planned: int, status: str, wall: float) -> list[tuple[str, str]]:
    seeds = scenario.seeds()
    return [
        ("scenario file", f"`{source}`"),
        ("chain", _chain_text(scenario)),
        ("horizon", f"{scenario.horizon_weeks} weeks"),
        ("replications", f"{scenario.replications} per arm ({finished} of {planned} runs "
                         "finished)"),
        ("seeds", f"{seeds[0]} to {seeds[-1]}: replication r of every arm uses seed "
                  f"{scenario.seed} + r (common random numbers)"),
        ("uncertainty", "evidence: each replication drew the uncertain parameters (docs/ODD.md)"
         if scenario.uncertainty == "evidence" else "none: default parameters"),
        ("run on", _executor_text(workers, executor)),
        ("status", status),
        ("wall time to the report", f"{wall:.1f} s"),
    ]


def _manifest(scenario: Scenario, source: Path, workers: int, executor: Any, results: list,
              planned: int, status: str, reason: str, started: datetime, wall: float,
              command: list[str] | None) -> dict[str, Any]:
    try:
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    except OSError:
        digest = None
    return {
        "scenario": scenario.name,
        "question": scenario.question,
        "source_file": str(source),
        "source_sha256": digest,
        "command": command,
        "status": status,
        "reason": reason or None,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 3),
        "workers": workers if executor is None else None,
        "executor": _executor_text(workers, executor),
        "horizon_weeks": scenario.horizon_weeks,
        "arms": list(scenario.arms),
        "baseline": scenario.baseline_arm,
        "seeds": {"base": scenario.seed, "replications": scenario.replications,
                  "per_replication": scenario.seeds(),
                  "rule": "replication r of every arm uses seed base + r"},
        "runs": {"planned": planned, "finished": len(results),
                 "finished_runs": [{"arm": r.job.label, "replication": r.job.seed -
                                    scenario.seed, "seed": r.job.seed,
                                    "seconds": round(r.seconds, 3)} for r in results]},
        "versions": package_versions(),
        "git": git_state(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def run(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML), e.g. "
                                         "scenarios/coaching_vs_hr.yaml.", show_default=False)],
    replications: Annotated[int | None, typer.Option(
        help="Replications per arm (default: the file's).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: one per core; 1 runs in this process).",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results folder (default: results/<scenario>-<timestamp>/); must not exist or "
             "be empty.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of replication 0 (default: the file's).", show_default=False)] = None,
    horizon: Annotated[int | None, typer.Option(
        help="Weeks to simulate (default: the file's).", show_default=False)] = None,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Run a scenario's arms x replications, print the comparison and write the report."""
    scenario = _load(file)
    try:
        scenario = Overrides(replications, seed, horizon).apply(scenario, file)
    except specfile.SpecError as err:
        raise _fail(str(err)) from None
    n_workers = default_workers() if workers is None else workers
    if n_workers < 1:
        raise _fail(f"--workers {workers}: {workers} is not allowed; allowed: a whole number "
                    ">= 1 (worker processes)")
    out_dir = default_out_dir(scenario) if out is None else out
    try:
        check_out_dir(out_dir)
    except ValueError as err:
        raise _fail(str(err)) from None
    try:
        outcome = run_scenario(scenario, file, out_dir, workers=n_workers, progress=progress,
                               command=["loyalty-sim", *sys.argv[1:]])
    except _NothingFinished as err:
        code = EXIT_INTERRUPTED if err.by_user else EXIT_FAILED
        raise _fail(f"{file}: {err.reason or 'stopped'} before any run finished; nothing "
                    "written", code) from None
    except KeyboardInterrupt:
        raise _fail(f"{file}: interrupted while writing the results; nothing written",
                    EXIT_INTERRUPTED) from None
    except OSError as err:
        raise _fail(f"{out_dir}: cannot write the results ({err.strerror or err}); nothing "
                    "written", EXIT_FAILED) from None
    tables.print_comparison(outcome, scenario)
    if outcome.status != "complete":
        code = EXIT_INTERRUPTED if outcome.interrupted_by_user else EXIT_FAILED
        raise _fail(f"{file}: incomplete: {outcome.reason}; kept {outcome.finished} of "
                    f"{outcome.planned} runs in {outcome.folder}", code)


# ------------------------------------------------------------------------------ others
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.",
                                                show_default=False)],
) -> None:
    """Check scenario files without running them (one line per problem, exit code 2)."""
    bad = False
    for file in files:
        try:
            s = load_scenario(file)
        except specfile.SpecError as err:
            typer.echo(specfile.one_line(str(err)), err=True)
            bad = True
            continue
        typer.echo(f"{file}: ok: '{s.name}', {len(s.arms)} arms x {s.replications} "
                   f"replications x {s.horizon_weeks} weeks (baseline '{s.baseline_arm}')")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def schema() -> None:
    """Print the JSON schema of scenario files."""
    typer.echo(json.dumps(json_schema(), indent=2))


def list_scenarios(
    folder: Annotated[Path, typer.Option(help="Folder of scenario files.")] = SHIPPED_DIR,
) -> None:
    """List the shipped scenarios and the question each answers."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from sim.studies.scenario import shipped_scenarios

    if not folder.is_dir():
        raise _fail(f"--folder {folder}: no such folder; allowed: a folder of scenario files")
    found = shipped_scenarios(folder)
    if not found:
        raise _fail(f"--folder {folder}: holds no .yaml scenario files")
    table = Table(title=f"Scenarios in {folder}", title_justify="left", show_lines=True)
    table.add_column("file", no_wrap=True)
    table.add_column("question")
    table.add_column("arms")
    bad = False
    for path, s in found:
        if isinstance(s, str):
            table.add_row(escape(path.name), f"[red]{escape(s)}[/red]", "")
            bad = True
            continue
        arms = ", ".join(f"{a}{' (baseline)' if a == s.baseline_arm else ''}" for a in s.arms)
        table.add_row(escape(path.name), escape(s.question), escape(
            f"{arms}\n{s.replications} replications x {s.horizon_weeks} weeks"))
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("run", cls=OneLineErrors)(run)
    app.command("validate", cls=OneLineErrors)(validate)
    app.command("schema", cls=OneLineErrors)(schema)
    app.command("list", cls=OneLineErrors)(list_scenarios)
