"""`loyalty-sim ui`: serve the workshop view (sim/ui/app.py) here and print its address."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.ui.game import GAME_ENV, GAME_SETTINGS_ENV, JOIN_URL_ENV
from sim.ui.workshop import RENDER_INTERVAL_ENV, SCENARIOS_ENV

APP_PATH = Path(__file__).resolve().parents[1] / "ui" / "app.py"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def server_command(host: str, port: int) -> list[str]:
    """The command that serves the view (what `solara run sim/ui/app.py` does)."""
    return [sys.executable, "-m", "solara", "run", str(APP_PATH), "--host", host,
            "--port", str(port), "--production", "--no-open", "--log-level", "warning"]


def room_address() -> str:
    """This machine's address on the local network, for participants' phones (host names often
    do not resolve there); the host name if there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: picks the route, sends nothing
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def server_environment(render_interval: int | None = None, scenarios: Path | None = None,
                       game: dict[str, int] | None = None,
                       join_url: str | None = None) -> dict[str, str]:
    """Environment for the server: our settings, and no usage telemetry from Solara.

    `game`: game mode's settings (n_stores, rounds, seed); `join_url`: the address participants
    open, shown on the facilitator's screen.
    """
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env["SOLARA_THEME_SHOW_BANNER"] = "False"  # the badge covers the charts' corner
    # Solara warns on every page load that a plain-http localhost cookie falls back to
    # samesite=lax; that is expected here and would bury the address in the terminal.
    env["PYTHONWARNINGS"] = ",".join(filter(None, [
        env.get("PYTHONWARNINGS", ""), "ignore:Cookies with samesite=none:UserWarning"]))
    if render_interval is not None:
        env[RENDER_INTERVAL_ENV] = str(render_interval)
    if scenarios is not None:
        env[SCENARIOS_ENV] = str(scenarios)
    if game is not None:
        env[GAME_ENV] = "1"
        for name, value in game.items():
            env[GAME_SETTINGS_ENV[name]] = str(value)
        if join_url:
            env[JOIN_URL_ENV] = join_url
    return env


def ui(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 lets other "
                                      "machines in the room connect.")] = "127.0.0.1",
    render_interval: Annotated[int | None, typer.Option(
        "--render-interval", help="Weeks simulated per redraw while playing (default: 1 up "
        "to 50 stores, then one more per 50 stores).")] = None,
    scenarios: Annotated[Path | None, typer.Option(
        help="Folder of scenario files for the preset selector (default: scenarios/).")] = None,
    game: Annotated[bool, typer.Option(
        "--game", help="Game mode: participants join from their own devices, each runs a "
        "store quarter by quarter; the facilitator's screen is /game.")] = False,
    stores: Annotated[int, typer.Option(help="Game mode: stores in the chain.")] = 12,
    rounds: Annotated[int, typer.Option(help="Game mode: quarters (13 weeks each).")] = 8,
    seed: Annotated[int, typer.Option(help="Game mode: seed of store 1 (store i: seed + "
                                      "i - 1).")] = 2024,
) -> None:
    """Serve the workshop view in the browser: levers, store map, live charts, compare page,
    and with --game a game for the room."""
    if not 1 <= port <= 65535:
        _fail(f"--port {port} is not allowed: expected a whole number from 1 to 65535")
    if render_interval is not None and render_interval < 1:
        _fail(f"--render-interval {render_interval} is not allowed: expected a whole number "
              ">= 1 (weeks per redraw)")
    if scenarios is not None and not scenarios.is_dir():
        _fail(f"--scenarios {scenarios}: no such folder (expected a folder of scenario .yaml "
              "files)")
    if game:
        if not 1 <= stores <= 60:
            _fail(f"--stores {stores} is not allowed: expected a whole number from 1 to 60")
        if not 1 <= rounds <= 40:
            _fail(f"--rounds {rounds} is not allowed: expected a whole number from 1 to 40 "
                  "(quarters)")
        if not 0 <= seed <= 2**32 - 1:
            _fail(f"--seed {seed} is not allowed: expected a whole number >= 0")
    if not _port_free(host, port):
        _fail(f"port {port} on {host} is in use: choose another with --port")
    from sim.ui.assets import WebAssetsError, ensure_web_assets

    try:
        ensure_web_assets(echo=lambda line: typer.echo(line, err=True))
    except WebAssetsError as err:
        _fail(str(err))
    if host in ("127.0.0.1", "localhost"):
        shown = "localhost"
    elif host in ("0.0.0.0", "::"):
        shown = room_address()  # listening on every address: the one the room can reach
    else:
        shown = host
    typer.echo(f"Workshop view: http://{shown}:{port}/  (compare page: /compare)")
    settings = join_url = None
    if game:
        settings = {"n_stores": stores, "rounds": rounds, "seed": seed}
        join_url = f"http://{shown}:{port}/play"
        typer.echo(f"Game: facilitator http://{shown}:{port}/game, participants {join_url}")
        if shown == "localhost":
            typer.echo("Participants on other devices need --host 0.0.0.0.")
    typer.echo("Open it in a browser; press Ctrl+C here to stop.")
    server = subprocess.Popen(server_command(host, port),
                              env=server_environment(render_interval, scenarios, settings,
                                                     join_url))
    # A `kill` (SIGTERM) stops the server too, like Ctrl+C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        typer.echo("Stopped.")
        return
    if code != 0:
        _fail(f"the view's server stopped with exit code {code}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("ui")(ui)
