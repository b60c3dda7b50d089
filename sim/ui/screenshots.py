"""The README's screenshots of the workshop view, taken with Debian's chromium.

    python -m sim.ui.screenshots [--out docs/img]

Serves the view (in game mode) on a free port and saves store-view.png (a scenario arm after a
year), compare.png (the compare page run to the end) and game-debrief.png (three participants
after two quarters). Needs playwright (the dev extra) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.cli.ui import server_environment
from sim.ui.assets import ensure_web_assets
from sim.ui.bench import CHROMIUM, CHROMIUM_ARGS, _serve

SIZE = {"width": 1366, "height": 900}
PRESET = "Coaching vs HR: Coaching"


def take(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=SIZE)
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 8")
        page.locator(".v-select", has_text="Scenario arm").click()
        page.get_by_role("option", name=PRESET, exact=True).click()
        page.get_by_text(f"preset: {PRESET}").wait_for()
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 8")
        for week in range(1, 53):
            page.get_by_role("button", name="Step", exact=True).click()
            page.get_by_text(f"Week {week} of").wait_for()
        time.sleep(2)
        page.screenshot(path=out / "store-view.png")

        page.goto(url + "compare")
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 3")
        page.get_by_role("button", name="Run to the end").click()
        page.locator(".headline", has_text="is ahead of").wait_for()
        time.sleep(3)
        page.screenshot(path=out / "compare.png")

        host = browser.new_page(viewport=SIZE)
        host.goto(url + "game")
        code = host.locator(".join-code").inner_text().strip()
        players = []
        for i, (name, hours, hr) in enumerate((("Ann", 7, False), ("Bo", 0, True),
                                               ("Cy", 3, False))):
            player = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
            player.goto(url + "play")
            player.get_by_label("Code on the screen").fill(code)
            player.get_by_label("Your name").fill(name)
            player.locator(".v-select", has_text="Store").click()
            player.get_by_role("option", name=f"Store {i + 1} (free)").click()
            player.get_by_role("button", name="Join").click()
            slider = player.locator(".v-slider", has_text="Supervisor coaching").get_by_role(
                "slider")
            slider.focus()
            for _ in range(hours):
                slider.press("ArrowRight")
            if hr:
                player.get_by_label("Join the company HR programme").check()
            player.get_by_role("button", name="Submit decision").click()
            players.append(player)
        players[0].screenshot(path=out / "game-participant.png")
        for quarter in (1, 2):
            host.get_by_role("button", name="Play the quarter").click()
            host.get_by_text("Game over" if quarter == 2 else "Quarter 2 of").first.wait_for()
        host.get_by_text("Debrief: which decisions paid").wait_for()
        host.locator(".debrief-headline").evaluate(
            "e => e.closest('.v-card').scrollIntoView({block: 'start'})")
        time.sleep(2)
        host.screenshot(path=out / "game-debrief.png")
        browser.close()


def main() -> None:  # pragma: no cover - script entry point
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_web_assets()
    server, url = _serve(server_environment(
        1, game={"n_stores": 6, "rounds": 2, "seed": 2024},
        join_url="http://192.168.1.20:8765/play"))
    try:
        take(url, out)
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"screenshots in {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
