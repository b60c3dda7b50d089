"""The `loyalty-sim` command. Each group of commands lives in its own module and registers
itself here: scenarios (run, validate, schema, list), sweeps (sweep), the browser view (ui),
calibration (calibrate)."""

from __future__ import annotations

import typer

from sim.cli import calibrate as cli_calibrate
from sim.cli import scenarios as cli_scenarios
from sim.cli import sweep as cli_sweep
from sim.cli import ui as cli_ui

app = typer.Typer(
    name="loyalty-sim",
    help="Simulate how the way a company treats its employees turns into customer loyalty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (cli_scenarios, cli_sweep, cli_ui, cli_calibrate):
    module.register(app)


def main() -> None:  # pragma: no cover - console entry point
    """The `loyalty-sim` command (see sim.__main__, which the console script calls)."""
    from sim.__main__ import main as entry

    entry()
