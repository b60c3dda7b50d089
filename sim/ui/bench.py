"""Benchmark of the workshop view: how long a step with its redraw takes in a real browser.

    python -m sim.ui.bench [--steps 15] [--stores 20]

Serves sim/ui/app.py on a free port, opens it in Debian's chromium (playwright), presses Step
`--steps` times and reports, for each, the time from the click to the last change of the charts
(the page is then quiet for 300 ms). Needs playwright (the dev extra) and /usr/bin/chromium.
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


def measure(url: str, steps: int, stores: int) -> list[float]:
    """Milliseconds from pressing Step to the charts' last change, one per step."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text("Not started").wait_for()
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 6")
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


def main() -> None:  # pragma: no cover - benchmark entry point
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--stores", type=int, default=20)
    args = parser.parse_args()
    ensure_web_assets()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(server_command("127.0.0.1", port), env=server_environment(1),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                time.sleep(0.3)
        times = measure(url, args.steps, args.stores)
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"step + redraw in the browser, {args.stores} stores, {args.steps} steps: median "
          f"{statistics.median(times):.0f} ms, first {times[0]:.0f} ms, max {max(times):.0f} ms")


if __name__ == "__main__":  # pragma: no cover
    main()
