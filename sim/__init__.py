"""Loyalty simulation: how the way a company treats its employees turns into customer loyalty.

The layers are sub-packages: `sim.model` (the simulation), `sim.studies` (scenarios, sweeps,
validation, reports), `sim.ui` (the browser view) and `sim.cli` (the `loyalty-sim` command).
The names below are loaded on first use, so `import sim.model` stays light.
"""

# Nothing is imported here at run time: the `loyalty-sim` command's entry point
# (sim.__main__) is imported through this package, and every import before it installs its
# signal handlers widens the window in which Ctrl-C gives a traceback (`typing` alone costs
# 20-30 ms on a cold start). Type checkers read the name TYPE_CHECKING as True.
TYPE_CHECKING = False

_EXPORTS = {
    "LoyaltyModel": "sim.model",
    "Parameters": "sim.model.parameters",
    "Crisis": "sim.model.events",
    "Layoff": "sim.model.events",
    "PolicyChange": "sim.model.events",
    "parse_event": "sim.model.events",
    "sweep": "sim.studies.sweep",
    "load_sweep": "sim.studies.sweep_folder",
    "run_scenario": "sim.studies.scenario_run",
    "calibrate": "sim.studies.calibration",
    "load_calibration": "sim.studies.calibration",
}

__all__ = ["Crisis", "Layoff", "LoyaltyModel", "Parameters", "PolicyChange", "calibrate",
           "load_calibration", "load_sweep", "parse_event", "run_scenario", "sweep"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from typing import Any

    from sim.model import LoyaltyModel
    from sim.model.events import Crisis, Layoff, PolicyChange, parse_event
    from sim.model.parameters import Parameters
    from sim.studies.calibration import calibrate, load_calibration
    from sim.studies.scenario_run import run_scenario
    from sim.studies.sweep import sweep
    from sim.studies.sweep_folder import load_sweep


def __getattr__(name: str) -> "Any":
    import importlib

    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
