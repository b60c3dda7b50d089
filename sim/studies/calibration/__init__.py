"""Calibration as a feature: fit the model's parameters to observed summary statistics by
ABC-SMC (pyabc), and read back the calibration folder it writes.

`targets` holds the targets-file schema, `statistics` what is measured on simulated chains,
`engine` the fit and its folder, `report` the figures and tables.
"""

from sim.studies.calibration.engine import (
    Calibration,
    CalibrationError,
    calibrate,
    default_folder,
    load_calibration,
    load_unfinished,
    write_snapshot,
)
from sim.studies.calibration.targets import TargetsFile, load_targets, parse_targets

__all__ = ["Calibration", "CalibrationError", "TargetsFile", "calibrate", "default_folder",
           "load_calibration", "load_targets", "load_unfinished", "parse_targets",
           "write_snapshot"]
