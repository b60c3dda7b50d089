"""`loyalty-sim` (and `python -m sim`): the command's entry point.

Ctrl-C or SIGTERM may come at any moment, even while the command is still loading its
modules: they end it with one line and the documented exit code (130, 143), never a
traceback; once a command has written its outcome, later signals are ignored so that they
cannot change its exit code.
"""

from __future__ import annotations

import signal
import sys


class StartupTerminated(KeyboardInterrupt):
    """SIGTERM before a command took over (it then installs its own handling)."""

    sigterm = True


def _on_sigterm(signum: int, frame: object) -> None:
    raise StartupTerminated()


def _settle() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main() -> None:
    """Run the `loyalty-sim` command."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from sim.cli import app

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
