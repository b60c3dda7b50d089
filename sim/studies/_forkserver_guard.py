"""Imported only by the fork server of `sim.studies.runner` (as a preload module): makes the
fork server die with the process that started it, so no pool outlives its run."""

from sim.studies.runner import die_with_parent

die_with_parent()
