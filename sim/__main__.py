"""`loyalty-sim` (and `python -m sim`): the command's entry point.

Ctrl-C or SIGTERM may come at any moment, even while the command is still loading its
modules: they end it with one line and the documented exit code (130, 143), never a
traceback; once a command has written its outcome, later signals are ignored so that they
cannot change its exit code.

Start-up is handled in two steps. Until the command's modules are loaded nothing has been
written, so a signal prints its line and ends the process at once (`os._exit`): an exception
could land in a weak-reference callback or a library's bare `except` during an import and be
swallowed (observed: "Exception ignored ... KeyboardInterrupt", exit 0). Once the command
runs, Ctrl-C raises KeyboardInterrupt and SIGTERM `StartupTerminated`, which the commands
catch to stop cleanly and keep what finished.

Once the command runs, a Ctrl-C or SIGTERM can still land in a weak-reference callback (an
import's module lock) or a `__del__`, where Python cannot raise it: it would print "Exception
ignored ... Traceback" and drop it (observed: a second Ctrl-C while the report was being
written). `_redeliver` catches such an interrupt and delivers it again to the main code, so it
stops what it is meant to stop, with the command's one line.

This module imports nothing before `main` installs the first handler that the interpreter
has not already loaded (`_signal` and `os` are loaded during its own start-up; `signal`
would first import `enum`, several milliseconds on a cold start).
"""

import _signal
import _thread
import os
import sys

_LINES = {_signal.SIGINT: (130, "interrupted (Ctrl-C)"),
          _signal.SIGTERM: (143, "terminated (SIGTERM)")}


class StartupTerminated(KeyboardInterrupt):
    """SIGTERM before a command took over (it then installs its own handling)."""

    sigterm = True


def _quit_loading(signum: int, frame: object) -> None:
    code, what = _LINES[signum]
    os.write(2, f"loyalty-sim: {what} before it started; nothing written\n".encode())
    os._exit(code)


def _on_sigterm(signum: int, frame: object) -> None:
    raise StartupTerminated()


def _redeliver(unraisable: object) -> None:
    """sys.unraisablehook: an interrupt Python had to drop is delivered again to the main
    thread a millisecond later, from another thread, once this hook has returned (delivered
    at once, it would land in the hook and be dropped again); anything else is reported as
    Python would."""
    err = getattr(unraisable, "exc_value", None)
    if isinstance(err, KeyboardInterrupt):
        signum = _signal.SIGTERM if getattr(err, "sigterm", False) else _signal.SIGINT
        _thread.start_new_thread(_interrupt_main_soon, (signum,))
        return
    sys.__unraisablehook__(unraisable)


def _interrupt_main_soon(signum: int) -> None:
    import time

    time.sleep(0.001)
    _thread.interrupt_main(signum)


def _settle() -> None:
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)


def main() -> None:
    """Run the `loyalty-sim` command."""
    _signal.signal(_signal.SIGINT, _quit_loading)
    _signal.signal(_signal.SIGTERM, _quit_loading)
    from sim.cli import app
    from sim.cli.common import one_line_warnings

    one_line_warnings()
    sys.unraisablehook = _redeliver
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    _signal.signal(_signal.SIGTERM, _on_sigterm)
    try:
        try:
            app()
        finally:
            _settle()
    except KeyboardInterrupt as err:
        _settle()
        term = getattr(err, "sigterm", False)
        print(f"loyalty-sim: {'terminated (SIGTERM)' if term else 'interrupted (Ctrl-C)'} "
              "before it started; nothing written", file=sys.stderr)
        sys.exit(143 if term else 130)


if __name__ == "__main__":
    main()
