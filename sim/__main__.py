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

This module imports nothing before `main` installs the first handler that the interpreter
has not already loaded (`_signal` and `os` are loaded during its own start-up; `signal`
would first import `enum`, several milliseconds on a cold start).
"""

import _signal
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
