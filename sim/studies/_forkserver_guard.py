"""Imported only by the fork server of `sim.studies.runner` (as a preload module): makes the
fork server die with the process that started it, so no pool outlives its run, and keeps a
worker that starts while its run is being stopped from printing a traceback."""

import sys

from sim.studies.runner import die_with_parent

die_with_parent()
_default_hook = sys.excepthook


def _quiet_start_failure(kind, value, tb):  # type: ignore[no-untyped-def]
    # A worker forked while its run stops finds the run's queues and locks already gone
    # (FileNotFoundError, EOFError...): that is the stop, not an error for the user's terminal.
    frames, step = [], tb
    while step is not None:
        frames.append(step.tb_frame.f_code.co_filename)
        step = step.tb_next
    starting = any(f.endswith(("multiprocessing/spawn.py", "multiprocessing/forkserver.py"))
                   for f in frames)
    if starting and issubclass(kind, OSError | EOFError):
        return
    _default_hook(kind, value, tb)


sys.excepthook = _quiet_start_failure
