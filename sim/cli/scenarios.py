"""Commands of `loyalty-sim` for strategists: run, report, validate, schema, list
(registered by sim.cli). A thin shell over `sim.studies.scenario_run.run_scenario`.

`run` simulates every arm x replication of a scenario (replication r of every arm uses the
seed `seed + r`), prints the comparison table and writes the results folder. The folder is
claimed before anything runs and each replication is stored as it finishes, so Ctrl-C,
SIGTERM, a failing figure or a crash never lose a finished replication: the manifest then
says "incomplete", `loyalty-sim report FOLDER` rewrites the report from what is stored, and
running the scenario into the same folder again runs only what is missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli import tables
from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OneLineErrors,
    check_workers,
    fail,
    stop_code,
)
from sim.studies import specfile
from sim.studies.runner import interrupt_on_sigterm, stop_reason
from sim.studies.scenario import SHIPPED_DIR, Overrides, Scenario, json_schema, load_scenario
from sim.studies.scenario_run import RunOutcome

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "register"]


def shipped_or_path(file: Path) -> Path:
    """`file`, or the shipped scenario of that name (`coaching_vs_hr`) if no such file
    exists here: an installed package runs its scenarios by name."""
    if not file.exists() and len(file.parts) == 1:
        shipped = SHIPPED_DIR / f"{file.stem}.yaml"
        if file.suffix in ("", ".yaml") and shipped.is_file():
            return shipped
    return file


def _load(file: Path) -> Scenario:
    try:
        return load_scenario(file)
    except specfile.SpecError as err:
        raise fail(str(err)) from None


def run(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML), e.g. "
                                         "scenarios/coaching_vs_hr.yaml, or the name of a "
                                         "shipped scenario (coaching_vs_hr).",
                                         show_default=False)],
    replications: Annotated[int | None, typer.Option(
        help="Replications per arm (default: the file's).", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: one per core; 1 runs in this process).",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        help="Results folder (default: a new results/<scenario>-<date>-<time>/): a new or "
             "empty folder, or the folder of an unfinished run of the same scenario (only "
             "the missing replications run).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of replication 0 (default: the file's).", show_default=False)] = None,
    horizon: Annotated[int | None, typer.Option(
        help="Weeks to simulate (default: the file's).", show_default=False)] = None,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Run a scenario's arms x replications, print the comparison and write the report."""
    with interrupt_on_sigterm():
        try:
            _run(file, replications, workers, out, seed, horizon, progress)
        except KeyboardInterrupt as err:  # outside the run itself: nothing to keep
            raise fail(f"{file}: {stop_reason(err)}", stop_code(stop_reason(err))) from None


def _run(file: Path, replications: int | None, workers: int | None, out: Path | None,
         seed: int | None, horizon: int | None, progress: bool) -> None:
    from sim.studies.scenario_run import NothingFinished, run_scenario
    from sim.studies.store import FolderError

    file = shipped_or_path(file)
    scenario = _load(file)
    try:
        scenario = Overrides(replications, seed, horizon).apply(scenario, file)
    except specfile.SpecError as err:
        raise fail(str(err)) from None
    check_workers(workers)
    try:
        outcome = run_scenario(scenario, file, out, workers=workers, progress=progress,
                               command=["loyalty-sim", *sys.argv[1:]])
    except FolderError as err:
        raise fail(str(err)) from None
    except NothingFinished as err:
        code = stop_code(err.reason) if err.by_user else EXIT_FAILED
        raise fail(f"{file}: {err.reason or 'stopped'} before any run finished; nothing "
                   "written", code) from None
    except OSError as err:
        where = out if out is not None else "results/"
        raise fail(f"{where}: cannot write the results ({err.strerror or err}); any run "
                   "already stored is kept", EXIT_FAILED) from None
    _finish(file, outcome, scenario)


def _finish(file: Path | str, outcome: RunOutcome, scenario: Scenario) -> None:
    if outcome.summary is not None and outcome.arms:
        tables.print_comparison(outcome, scenario)
    if outcome.status != "complete":
        code = stop_code(outcome.stopped_by) if outcome.stopped_by else EXIT_FAILED
        raise fail(f"{file}: incomplete: {outcome.reason}; kept {outcome.finished} of "
                   f"{outcome.planned} runs in {outcome.folder}", code)


def report_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by `loyalty-sim "
                                           "run`.", show_default=False)],
) -> None:
    """Write (again) a results folder's tables, figures and report from its stored runs,
    e.g. after an interrupted run or a failing figure."""
    from sim.studies.scenario_report import finish_folder
    from sim.studies.store import FolderError

    with interrupt_on_sigterm():
        try:
            outcome = finish_folder(folder)
            scenario = load_scenario(folder / "scenario.yaml")
        except FolderError as err:
            raise fail(str(err)) from None
        except OSError as err:
            raise fail(f"{folder}: cannot write the results ({err.strerror or err}); the "
                       "stored runs are kept", EXIT_FAILED) from None
        except KeyboardInterrupt as err:
            raise fail(f"{folder}: {stop_reason(err)}; the stored runs are kept",
                       stop_code(stop_reason(err))) from None
        _finish(folder, outcome, scenario)


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
        raise fail(f"--folder {folder}: no such folder; allowed: a folder of scenario files")
    found = shipped_scenarios(folder)
    if not found:
        raise fail(f"--folder {folder}: holds no .yaml scenario files")
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
        arms = ", ".join(f"{s.arm_label(a)}{' (baseline)' if a == s.baseline_arm else ''}"
                         for a in s.arms)
        table.add_row(escape(path.name), escape(s.question), escape(
            f"{arms}\n{s.replications} replications x {s.horizon_weeks} weeks"))
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("run", cls=OneLineErrors)(run)
    app.command("report", cls=OneLineErrors)(report_command)
    app.command("validate", cls=OneLineErrors)(validate)
    app.command("schema", cls=OneLineErrors)(schema)
    app.command("list", cls=OneLineErrors)(list_scenarios)
