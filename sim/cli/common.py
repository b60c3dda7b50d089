"""What every `loyalty-sim` command shares: one-line errors and the exit codes.

Exit codes: 0 done; 1 the run failed or stopped short (a worker died, a run or the report
failed: what finished is kept); 2 bad input (file, option or results folder; nothing written);
130 stopped by Ctrl-C; 143 stopped by SIGTERM (what finished is kept in both cases).
"""

from __future__ import annotations

import warnings
from typing import TextIO

import typer
from typer.core import TyperCommand

from sim.studies import specfile
from sim.studies.runner import SIGTERM

# Typer ships its own copy of click; its UsageError is the base of BadParameter.
_UsageError = typer.BadParameter.__mro__[1]
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class OneLineErrors(TyperCommand):
    """A command whose bad options and arguments give one line on stderr and exit code 2."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _UsageError as err:
            typer.echo(specfile.one_line(f"loyalty-sim {info_name}: {err.format_message()}"),
                       err=True)
            raise SystemExit(EXIT_BAD_INPUT) from None


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print `message` as one line on stderr; return the Exit to raise."""
    typer.echo(specfile.one_line(message), err=True)
    return typer.Exit(code)


def one_line_warnings() -> None:
    """Show the project's own warnings (e.g. a damaged run file set aside) as one line each on
    stderr, like the command's other messages, instead of Python's two-line form with a
    source line; other packages' warnings are shown as before."""
    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if issubclass(category, UserWarning) and category.__module__.startswith("sim."):
            typer.echo(specfile.one_line(f"loyalty-sim: warning: {message}"), err=True)
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def stop_code(reason: str) -> int:
    """The exit code of a run stopped by a signal (`reason` from sim.studies.runner)."""
    return EXIT_TERMINATED if reason == SIGTERM else EXIT_INTERRUPTED


def check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise fail(f"--workers {workers}: {workers} is not allowed; allowed: a whole number "
                   ">= 1 (worker processes)")
