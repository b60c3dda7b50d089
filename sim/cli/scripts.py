"""What the analysis scripts of `experiments/` share with the `loyalty-sim` command: their
simulations run as a sweep (one Parquet file per finished run, so Ctrl-C, SIGTERM or `kill -9`
loses nothing already finished and the same command carries on where it stopped; workers die
with the script; the same numbers with any number of workers), and bad input, an interruption
or a failure is one line on stderr with the command's exit codes (sim.cli.common), never a
traceback.

A script reads its sweep spec, applies its command line with `study`, and runs it with
`ScriptParser.run` (`run_study`):

    parser = ScriptParser(SCRIPT, __doc__)
    parser.add_study_options(seeds=40)
    args = parser.parse_args()
    spec = study(SCRIPT, SPEC, replications=args.seeds, seed=args.first_seed,
                 parameters=parser.study_parameters(args))
    runs = parser.run(spec, SPEC, args)

and ends with `raise SystemExit(guarded(SCRIPT, main))`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import typer

from sim.cli.common import EXIT_BAD_INPUT, stop_code
from sim.studies import specfile
from sim.studies.runner import interrupt_on_sigterm, stop_reason


def bad_input(script: str, message: str) -> SystemExit:
    """Print `script: message` as one line on stderr; return the exit (code 2) to raise."""
    typer.echo(specfile.one_line(f"{script}: {message}"), err=True)
    return SystemExit(EXIT_BAD_INPUT)


class ScriptParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, `script: problem` (exit code 2), and whose
    help shows the script's docstring as it is written."""

    def __init__(self, script: str, doc: str | None):
        super().__init__(prog=script, description=doc,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
        self.script = script

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise bad_input(self.script, f"{message}; see --help")

    def add_study_options(self, seeds: int) -> None:
        """The options of a script that runs a sweep over seeds of one chain: how many seeds
        from which, the chain's size, `--set NAME=VALUE` for any parameter, the workers, the
        sweep's folder and the progress bar."""
        self.add_argument("--seeds", type=int, default=seeds, help="seeds (replications)")
        self.add_argument("--first-seed", type=int, default=1)
        self.add_argument("--n-stores", type=int, default=20)
        self.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          help="a parameter for every run (repeatable)")
        self.add_cluster_options()
        self.add_argument("--out", type=Path, default=None,
                          help="the sweep's folder (default: under results/sweeps/)")
        self.add_argument("--no-progress", action="store_true", help="no progress bar")

    def add_cluster_options(self, workers: int | None = None) -> None:
        """`--workers` (local processes) and `--cluster` (a Dask scheduler's address)."""
        self.default_workers = workers
        self.add_argument("--workers", type=int, default=None,
                          help="local worker processes (default: "
                          + ("one per core" if workers is None else str(workers)) + ")")
        self.add_argument("--cluster", default=None, metavar="tcp://HOST:8786",
                          help="run on a Dask cluster instead (its scheduler's address)")

    def run(self, spec: Any, spec_file: Path, args: argparse.Namespace) -> Any:
        """`run_study` with the options of `add_study_options` or `add_cluster_options`."""
        cluster = getattr(args, "cluster", None)
        workers = args.workers
        if workers is None and cluster is None:
            workers = getattr(self, "default_workers", None)
        return run_study(self.script, spec, spec_file, cluster=cluster, workers=workers,
                         out=getattr(args, "out", None),
                         progress=not getattr(args, "no_progress", False))

    def study_parameters(self, args: argparse.Namespace) -> dict[str, Any]:
        """The parameters `--n-stores` and `--set` give every run (after checking that there
        are seeds enough for a confidence interval)."""
        at_least(self.script, "--seeds", args.seeds, 2, "seeds: a CI needs two")
        return {**settings(self.script, args.set),
                "n_stores": parameter_option(self.script, "--n-stores", "n_stores",
                                             args.n_stores)}


def settings(script: str, pairs: list[str]) -> dict[str, Any]:
    """`--set NAME=VALUE` pairs as model parameters, each checked against its declaration
    (a number, or a name for a choice parameter)."""
    from sim.model.checks import check_value

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = (part.strip() for part in pair.partition("="))
        if not sep or not name or not text:
            raise bad_input(script, f"--set {pair}: expected NAME=VALUE, e.g. --set "
                            "programme_confirmation=1.0")
        try:
            value: Any = float(text)
            value = int(value) if value.is_integer() and "." not in text else value
        except ValueError:
            value = text
        try:
            check_value(name, value)
        except ValueError as err:
            raise bad_input(script, f"--set {pair}: {err}") from None
        out[name] = value
    return out


def parameter_option(script: str, option: str, name: str, value: Any) -> Any:
    """`value` of an option that sets parameter `name`, checked against its declaration."""
    from sim.model.checks import check_value

    try:
        check_value(name, value)
    except ValueError as err:
        raise bad_input(script, f"{option} {value}: {err}") from None
    return value


def at_least(script: str, option: str, value: int, low: int, what: str) -> int:
    """`value` if it is a whole number >= `low`, else exit with one line."""
    if value < low:
        raise bad_input(script, f"{option} {value}: {value} is not allowed; allowed: a whole "
                        f"number >= {low} ({what})")
    return value


def study(script: str, spec_file: Path, **keys: Any) -> Any:
    """The sweep spec of `spec_file` with the keys the script's command line decides replaced
    whole (e.g. `replications`, `parameters`, `factors`); a spec they make invalid exits with
    one line."""
    from sim.studies.sweep_spec import load_spec, spec_from_data

    try:
        spec = load_spec(spec_file)
        if not keys:
            return spec
        data = spec.as_file_data()
        return spec_from_data({**data, **keys}, source=f"{spec_file.name} with the options")
    except specfile.SpecError as err:
        raise bad_input(script, str(err)) from None


def load_fit(script: str, folder: str | Path) -> Any:
    """A calibration folder, finished or not (`sim.load_calibration(..., unfinished=True)`);
    one that cannot be read exits with one line."""
    from sim.studies.calibration import CalibrationError, load_calibration

    try:
        return load_calibration(folder, unfinished=True)
    except CalibrationError as err:
        raise bad_input(script, str(err)) from None


def guarded(script: str, main: Any) -> int:
    """Run a script's `main()` so that Ctrl-C or SIGTERM anywhere (reading, running, the
    analysis after the runs) ends it with one line and the command's exit code, never a
    traceback; its finished runs are kept either way. Returns main's exit code (0 for None)."""
    with interrupt_on_sigterm():
        try:
            return main() or 0
        except KeyboardInterrupt as err:
            reason = stop_reason(err)
            typer.echo(specfile.one_line(f"{script}: {reason}; the finished runs are kept: "
                                         "run the same command again to carry on"), err=True)
            return stop_code(reason)


def run_study(script: str, spec: Any, spec_file: Path, *, workers: int | None = None,
              cluster: str | None = None, out: Path | None = None,
              progress: bool = True) -> Any:
    """Run `spec` as a sweep into `out` (default: the sweep's own folder under
    results/sweeps/), locally on `workers` processes or on the Dask cluster at `cluster`, and
    return every run (`sim.load_sweep`); exits with one line and the command's exit code if
    it cannot finish (what finished is kept)."""
    from sim.cli.sweep import run_sweep

    if workers is not None:
        at_least(script, "--workers", workers, 1, "worker processes; 1 runs in this process")
        if cluster is not None:
            raise bad_input(script, "--workers applies to the local pool; allowed: --workers "
                            "or --cluster, not both")
    with interrupt_on_sigterm():
        try:
            return run_sweep(spec, spec_file, cluster=cluster, workers=workers, out=out,
                             progress=progress)
        except typer.Exit as err:
            raise SystemExit(err.exit_code) from None
