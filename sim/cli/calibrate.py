"""`loyalty-sim calibrate TARGETS.yaml` (or `--stores CHAIN.csv`): fit the model by ABC-SMC and
write a calibration folder with its report (registered by sim.cli).

Running the same command again after an interruption carries on from the last finished
generation. Bad input gives one line naming file, line or row, and key or column; exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import stop_code
from sim.cli.scenarios import EXIT_BAD_INPUT, EXIT_FAILED, OneLineErrors
from sim.studies import specfile


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(specfile.one_line(message), err=True)
    return typer.Exit(code)


def calibrate_command(
    targets: Annotated[Path | None, typer.Argument(
        help="Targets file (YAML), e.g. experiments/calibration_published.yaml.",
        show_default=False)] = None,
    stores: Annotated[Path | None, typer.Option(
        help="Fit a chain to its own store data instead (CSV, one row per store; schema in "
             "the README).", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        help="The calibration folder (default: results/calibrations/<name>-<fingerprint>/).",
        show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per core; 1 runs in this process). The "
             "same seed gives the same posterior whatever this is.", show_default=False)] = None,
    cluster: Annotated[str | None, typer.Option(
        help="Run on a Dask cluster: the scheduler's address, e.g. tcp://host:8786.",
        show_default=False)] = None,
    size: Annotated[str, typer.Option(
        help="With --stores: the fit's size, 'full' or 'quick' (a small fit for a first "
             "look).")] = "full",
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar.")] = True,
    status: Annotated[bool, typer.Option(
        "--status", help="Do not fit: show how far the fit of these targets (and --out) has "
                         "come, while it runs or after it was stopped: its generations, "
                         "convergence and posterior so far.")] = False,
    snapshot: Annotated[Path | None, typer.Option(
        help="With --status: also write that posterior so far to this new folder, as a "
             "calibration folder (without a predictive check) that runs can draw from "
             "(`calibration: FOLDER`).", show_default=False)] = None,
) -> None:
    """Fit the model's parameters by ABC-SMC (pyabc) to a targets file or a chain's store data;
    write the posterior, diagnostics and report to a calibration folder."""
    from sim.studies.calibration import CalibrationError, calibrate
    from sim.studies.runner import ClusterUnavailable

    if (targets is None) == (stores is None):
        raise _fail("loyalty-sim calibrate: give a targets file or --stores CHAIN.csv; allowed:"
                    " exactly one of them")
    if workers is not None and workers < 1:
        raise _fail(f"--workers {workers}: not allowed; allowed: a whole number >= 1")
    if size not in ("full", "quick"):
        raise _fail(f"--size {size!r}: not allowed; allowed: 'full' or 'quick'")
    if snapshot is not None and not status:
        raise _fail(f"--snapshot {snapshot}: not allowed without --status; allowed: "
                    "--status --snapshot FOLDER")
    if status:
        _show_status(targets, stores, out, size, snapshot)
        return
    try:
        if stores is not None:
            from sim.studies.chain import ChainDataError, calibrate_chain

            try:
                cal = calibrate_chain(stores, out=out, workers=workers, cluster=cluster,
                                      progress=progress, quick=size == "quick")
            except ChainDataError as err:
                raise _fail(str(err)) from None
        else:
            cal = calibrate(targets, out=out, workers=workers, cluster=cluster,
                            progress=progress)
    except specfile.SpecError as err:
        raise _fail(str(err)) from None
    except CalibrationError as err:
        raise _fail(str(err)) from None
    except ClusterUnavailable as err:
        raise _fail(f"--cluster {cluster}: {err}") from None
    except KeyboardInterrupt as err:
        from sim.studies.runner import stop_reason

        reason = stop_reason(err)
        raise _fail(f"{reason}: the finished generations and the particles drawn since are "
                    "kept; run the same command again to carry on", stop_code(reason)) from None
    except OSError as err:
        raise _fail(f"cannot write the calibration ({err.strerror or err})",
                    EXIT_FAILED) from None
    from sim.studies.calibration.report import posterior_summary, target_check

    typer.echo(posterior_summary(cal).to_string(index=False, float_format="{:.4g}".format))
    typer.echo("")
    check = target_check(cal)[["statistic", "role", "observed", "simulated", "simulated_low",
                               "simulated_high", "pass"]]
    typer.echo(check.to_string(index=False, float_format="{:.4g}".format))
    _echo_convergence(cal.info["convergence"])
    report = cal.folder / "report" / "report.md"
    typer.echo(f"\nCalibration folder: {cal.folder} (report: {report})")
    if (cal.folder / "chain.yaml").is_file():
        typer.echo(f"Chain file: {cal.folder / 'chain.yaml'} (name it in a scenario or sweep "
                   "file as `chain: PATH`, relative to that file, to run on these stores)")


def _show_status(targets: Path | None, stores: Path | None, out: Path | None,
                 size: str, snapshot: Path | None = None) -> None:
    """Print an unfinished fit's generations, convergence verdict and posterior so far (and
    write that posterior to `snapshot`)."""
    from sim.studies.calibration import CalibrationError, load_targets, load_unfinished
    from sim.studies.calibration.engine import default_folder, unfinished_folder
    from sim.studies.calibration.report import posterior_summary

    try:
        if stores is not None:
            from sim.studies.chain import ChainDataError, chain_fit_folders, read_chain_csv

            try:
                spec, folder, fit = chain_fit_folders(read_chain_csv(stores), stores, out,
                                                      size == "quick")
            except ChainDataError as err:
                raise _fail(str(err)) from None
        else:
            spec = load_targets(targets)
            folder = fit = out if out is not None else default_folder(spec)
        if (folder / "calibration.json").is_file():
            if snapshot is not None:
                raise _fail(f"--snapshot {snapshot}: {folder} has finished and is itself a "
                            "calibration folder; allowed: --snapshot for an unfinished fit")
            typer.echo(f"{folder}: finished; run the same command without --status to see "
                       "its summary")
            return
        if fit != folder and (fit / "calibration.json").is_file():
            typer.echo(f"{folder}: the chain-level fit has finished and the stores' estimates "
                       "are under way (or were stopped: run the command again to finish them)")
            return
        if not (unfinished_folder(fit) / "state.json").is_file():
            raise _fail(f"{folder}: no fit has started here; allowed: the --out folder (or "
                        "the default one) of a fit that has started")
        cal = load_unfinished(fit)
    except specfile.SpecError as err:
        raise _fail(str(err)) from None
    except CalibrationError as err:
        raise _fail(str(err)) from None
    info = cal.info
    if info["fingerprint"] != spec.fingerprint():
        raise _fail(f"{folder}: holds an unfinished fit of other targets; allowed: the targets "
                    "file (or chain data and --size) it was started with")
    minutes = sum(s.get("seconds") or 0 for s in info["sessions"]) / 60
    typer.echo(f"{folder}: unfinished, {info['generations']} generations, "
               f"{info['simulations']} simulations, {len(info['sessions'])} sessions "
               f"({minutes // 60:.0f} h {minutes % 60:02.0f} min of fitting on record)")
    code = _code_history(info["sessions"])
    if code:
        typer.echo("code: " + "; ".join(code))
    if info["particles_drawn"]:
        pace = info["particles_per_minute"]
        left = ("" if pace is None else f"; {pace:.2g} particles a minute lately, about "
                f"{(info['population_size'] - info['particles_drawn']) / pace:.0f} min to go")
        typer.echo(f"generation {info['generations']} under way: {info['particles_drawn']} of "
                   f"{info['population_size']} particles drawn (kept if the fit is stopped)"
                   f"{left}")
        share = info.get("ess_share_so_far")
        if share is not None:
            typer.echo(f"  their weights' effective sample size so far: {share:.0%} of them "
                       f"(convergence asks {spec.abc.convergence.ess_fraction:.0%} of the "
                       "finished generation)")
    typer.echo(cal.generations[["generation", "epsilon", "samples", "acceptance_rate", "ess"]]
               .to_string(index=False, float_format="{:.4g}".format))
    _echo_convergence(info["convergence"])
    typer.echo(f"\nPosterior so far (generation {info['generations'] - 1}):")
    typer.echo(posterior_summary(cal).to_string(index=False, float_format="{:.4g}".format))
    if snapshot is not None:
        from sim.studies.calibration import write_snapshot

        try:
            write_snapshot(cal, snapshot)
        except CalibrationError as err:
            raise _fail(str(err)) from None
        except OSError as err:
            raise _fail(f"--snapshot {snapshot}: cannot write ({err.strerror or err})",
                        EXIT_FAILED) from None
        typer.echo(f"\nPosterior so far written to {snapshot} (use it as `calibration: "
                   f"{snapshot}`)")


def _code_history(sessions: list[dict]) -> list[str]:
    """Which code drew which generations, one phrase per change the sessions record."""
    phrases, last = [], None
    for session in sessions:
        code = session.get("code")
        if code is None or code.get("source_sha256") == last:
            continue
        last = code.get("source_sha256")
        commit = (code.get("commit") or "outside git")[:10] + (
            " with changes" if code.get("dirty") else "")
        phrases.append(f"from generation {session['first_generation']}, {commit} (source "
                       f"{last[:8]})")
    if phrases and sessions and sessions[0].get("code") is None:
        phrases.insert(0, "earlier sessions did not record theirs")
    return phrases


def _echo_convergence(verdict: dict) -> None:
    """The convergence verdict, one line a criterion: whether the intervals can be trusted
    (an ESS far below the population means a few particles carry the posterior)."""
    typer.echo(f"\nConverged: {'yes' if verdict['converged'] else 'no'}")
    for name, c in verdict["criteria"].items():
        typer.echo(f"  {name}: {'held' if c['held'] else 'not yet'} ({c['detail']}; "
                   f"threshold {c['threshold']:g})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("calibrate", cls=OneLineErrors)(calibrate_command)
