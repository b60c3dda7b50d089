"""Benchmark of the workshop view: how long a step with its redraw takes in a real browser.

    python -m sim.ui.bench [--steps 15] [--stores 20] [--size 1366x768]
    python -m sim.ui.bench --game [--participants 10]

Serves sim/ui/app.py on a free port, opens it in Debian's chromium (playwright), presses Step
`--steps` times and reports, for each, the time from the click to the last change of the charts
(the page is then quiet for 300 ms). With --game it plays a round of game mode with that many
participants, each in their own browser context, and reports how long joining, deciding and
the quarter (click to every participant's page showing the next quarter) take. Needs
playwright (the dev extra) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import time
import urllib.request

from sim.cli.ui import server_command, server_environment
from sim.ui.assets import ensure_web_assets

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Watch only the charts (not the button's ripple) and click from inside the page, so the
# figure is the page's own time, not the driver's.
WATCH_CHARTS = """() => {
    window.__last = performance.now();
    const grid = document.querySelector('.vega-embed').closest('[style*="grid-template-columns"]');
    new MutationObserver(() => { window.__last = performance.now(); })
        .observe(grid, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
CLICK_STEP = """() => {
    const step = [...document.querySelectorAll('button')]
        .find(b => b.innerText.trim().toUpperCase() === 'STEP');
    window.__t0 = performance.now();
    step.click();
    return window.__t0;
}"""


def measure(url: str, steps: int, stores: int, size: tuple[int, int] = (1366, 768)
            ) -> list[float]:
    """Milliseconds from pressing Step to the charts' last change, one per step."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text("Not started").wait_for()
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 8")
        if stores != 20:
            slider = page.locator(".v-slider", has_text="Stores in the chain").get_by_role(
                "slider")
            slider.focus()
            for _ in range(abs(stores - 20)):
                slider.press("ArrowRight" if stores > 20 else "ArrowLeft")
            page.get_by_role("button", name="Reset", exact=True).click()
            page.get_by_text(f"{stores} stores").first.wait_for()
        time.sleep(2)
        page.evaluate(WATCH_CHARTS)
        times = []
        for week in range(1, steps + 1):
            start = page.evaluate(CLICK_STEP)
            page.get_by_text(f"Week {week} of").wait_for()
            page.wait_for_function(
                "window.__last > window.__t0 && performance.now() - window.__last > 300",
                polling=20)
            times.append(page.evaluate("window.__last") - start)
        browser.close()
    return times


def measure_game(url: str, participants: int) -> dict[str, float]:
    """Seconds for a round of game mode with `participants` browser contexts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        host = browser.new_page(viewport={"width": 1366, "height": 768})
        host.set_default_timeout(120_000)
        host.goto(url + "game")
        code = host.locator(".join-code").inner_text().strip()
        pages = []
        start = time.perf_counter()
        for i in range(participants):
            page = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            page.goto(url + "play")
            page.get_by_label("Code on the screen").fill(code)
            page.get_by_label("Your name").fill(f"Player {i + 1}")
            page.locator(".v-select", has_text="Store").click()
            page.get_by_role("option", name=f"Store {i + 1} (free)").click()
            page.get_by_role("button", name="Join").click()
            pages.append(page)
        for page in pages:
            page.get_by_text("Your decision for quarter 1").wait_for()
        joined = time.perf_counter() - start
        start = time.perf_counter()
        for page in pages:
            page.get_by_role("button", name="Submit decision").click()
        host.get_by_text(f"{participants} of {participants} stores with players have "
                         "decided").wait_for()
        decided = time.perf_counter() - start
        start = time.perf_counter()
        host.get_by_role("button", name="Play the quarter").click()
        for page in pages:
            page.get_by_text("Your decision for quarter 2").wait_for()
        played = time.perf_counter() - start
        browser.close()
    return {"join": joined, "decide": decided, "quarter": played}


def _serve(env: dict[str, str]):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(server_command("127.0.0.1", port), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except OSError:
            time.sleep(0.3)
    return server, url


def main() -> None:  # pragma: no cover - benchmark entry point
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--size", default="1366x768", help="browser window, WIDTHxHEIGHT")
    parser.add_argument("--game", action="store_true", help="measure a round of game mode")
    parser.add_argument("--participants", type=int, default=10)
    args = parser.parse_args()
    ensure_web_assets()
    if args.game:
        stores = max(12, args.participants)
        server, url = _serve(server_environment(
            1, game={"n_stores": stores, "rounds": 4, "seed": 2024}))
        try:
            figures = measure_game(url, args.participants)
        finally:
            server.terminate()
            server.wait(timeout=15)
        print(f"game round, {args.participants} participants ({stores} stores, each with its "
              f"default twin): joining {figures['join']:.1f} s, all decisions in "
              f"{figures['decide']:.1f} s, quarter played and shown on every page "
              f"{figures['quarter']:.1f} s")
        return
    width, height = (int(x) for x in args.size.split("x"))
    server, url = _serve(server_environment(1))
    try:
        times = measure(url, args.steps, args.stores, (width, height))
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"step + redraw in the browser at {args.size}, {args.stores} stores, {args.steps} "
          f"steps: median {statistics.median(times):.0f} ms, first {times[0]:.0f} ms, max "
          f"{max(times):.0f} ms")


if __name__ == "__main__":  # pragma: no cover
    main()
