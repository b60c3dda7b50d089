"""The workshop view in a real browser: Debian's chromium driven by playwright.

A Solara server for sim/ui/app.py is started on a free localhost port (and always stopped); the
page's web assets come from Solara's cache, filled from the npm registry by sim.ui.assets. Under
CI=true a missing chromium fails these tests; elsewhere it skips them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.cli.ui import server_command, server_environment
from sim.ui.app import _event_text as event_text
from sim.ui.assets import ensure_web_assets
from sim.ui.workshop import MODEL_DEFAULTS, Preset, default_arms, load_presets

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_S = 90
PAGE_READY_MS = 60_000


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    message = (f"chromium not found at {CHROMIUM} or on PATH: install Debian's chromium "
               "(apt-get install -y chromium; .ci/run does this)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The view served by `solara run sim/ui/app.py` on a free port; stopped afterwards."""
    chromium = _chromium()  # fail or skip before starting anything
    ensure_web_assets()
    port = _free_port()
    log_path = tmp_path_factory.mktemp("solara") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(server_command("127.0.0.1", port), env=server_environment(),
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Solara server exited ({process.returncode}): "
                            f"{log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Solara server did not answer within {SERVER_START_S} s: "
                            f"{log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield {"url": url, "chromium": chromium}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=server["chromium"],
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Page:
    """A fresh tab on the view that records the console's errors."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1920, "height": 1080})
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_READY_MS)
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.goto(url)

    def wait_for_charts(self, count: int) -> None:
        self.page.wait_for_function(
            f"document.querySelectorAll('.vega-embed svg').length >= {count}")
        self._watch_charts()
        self.wait_until_charts_settle()

    def _watch_charts(self) -> None:
        self.page.evaluate("""() => {
            window.__chartsChanged = performance.now();
            const grid = document.querySelector('.vega-embed')
                .closest('[style*="grid-template-columns"]');
            new MutationObserver(() => { window.__chartsChanged = performance.now(); })
                .observe(grid, {subtree: true, childList: true, attributes: true,
                                characterData: true});
        }""")

    def wait_until_charts_settle(self, quiet_ms: int = 400) -> None:
        self.page.wait_for_function(
            f"performance.now() - window.__chartsChanged > {quiet_ms}", polling=50)

    def press(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()

    def step(self, week: int) -> None:
        """Press Step and wait for week `week` and its redraw."""
        self.press("Step")
        self.page.get_by_text(f"Week {week} of").wait_for()
        self.page.wait_for_function("performance.now() - window.__chartsChanged < 5000")
        self.wait_until_charts_settle()

    def charts_picture(self) -> bytes:
        grid = self.page.locator('[style*="grid-template-columns"]').first
        return grid.screenshot()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def store_view(browser, server):
    page = Page(browser, server["url"] + "/")
    page.page.get_by_text("Not started").wait_for()
    page.wait_for_charts(6)
    yield page
    page.close()


def test_page_loads_with_no_error_in_the_console(store_view):
    page = store_view.page
    for text in ("Store map", "Staff vs customer engagement by store", "Customers and churn",
                 "Revenue and profit", "Employee engagement and turnover",
                 "Customer engagement segments", "Store view", "Compare arms"):
        assert page.get_by_text(text, exact=True).first.is_visible(), text
    for button in ("Reset", "▶", "Step"):
        assert page.get_by_role("button", name=button, exact=True).is_visible()
    assert store_view.errors == []


def test_stepping_changes_the_charts(store_view):
    before = store_view.charts_picture()
    for week in (1, 2, 3):
        store_view.step(week)
    after = store_view.charts_picture()
    assert after != before
    store_view.step(4)
    assert store_view.charts_picture() != after, "each week redraws the charts"
    assert store_view.errors == []


def test_changing_a_lever_and_resetting_changes_the_model(store_view):
    page = store_view.page
    run = page.locator(".v-card", has_text="This run")
    assert "coaching 0.5 h/wk" in run.inner_text()
    coaching = page.locator(".v-slider", has_text="Coaching (hours per supervisor").get_by_role(
        "slider")
    coaching.focus()
    coaching.press("End")  # the slider's top: 8 hours a week
    stores = page.locator(".v-slider", has_text="Stores in the chain").get_by_role("slider")
    stores.focus()
    for _ in range(8):
        stores.press("ArrowLeft")  # 20 -> 12 stores
    page.wait_for_function("""() => [...document.querySelectorAll('[role=slider]')]
        .some(s => s.getAttribute('aria-valuemax') === '200'
                   && s.getAttribute('aria-valuenow') === '12')""")
    assert coaching.get_attribute("aria-valuenow") == "8"
    seed = page.get_by_label("Seed")
    seed.fill("7")
    seed.press("Enter")
    # Nothing changes until Reset.
    assert "coaching 0.5 h/wk" in run.inner_text()
    store_view.press("Reset")
    page.get_by_text("Seed 7 · ").wait_for()
    assert "Seed 7 · 12 stores" in run.inner_text()
    assert "coaching 8 h/wk" in run.inner_text()
    store_view.step(1)
    tiles = page.locator(".vega-embed").first.locator("path[aria-roledescription='square']")
    assert tiles.count() == 12
    assert store_view.errors == []


def _arm_with_events() -> Preset:
    """A shipped arm with timed events (a crisis, say), else any shipped arm."""
    arms = [p for label, p in load_presets().items() if label != MODEL_DEFAULTS]
    assert arms, "no shipped scenario arms to load"
    return next((p for p in arms if p.events), arms[0])


def test_a_preset_loads_an_arm_and_reset_keeps_it(store_view):
    preset = _arm_with_events()
    page = store_view.page
    page.locator(".v-select", has_text="Scenario arm").click()
    page.get_by_role("option", name=preset.label, exact=True).click()
    run = page.locator(".v-card", has_text="This run")
    page.get_by_text(f"preset: {preset.label}").wait_for()
    assert page.get_by_label("Seed").input_value() == str(preset.seed)
    store_view.press("Step")
    page.get_by_text("Week 1 of").wait_for()
    store_view.press("Reset")
    page.get_by_text("Not started").wait_for()  # a new model, built by Mesa's Reset
    shown = run.inner_text()
    assert f"Seed {preset.seed} · " in shown and f"preset: {preset.label}" in shown
    for event in preset.events:
        assert event_text(event) in shown
    assert store_view.errors == []


def test_a_seed_that_is_not_a_number_is_reported_not_a_crash(store_view):
    page = store_view.page
    seed = page.get_by_label("Seed")
    seed.fill("forty-two")
    seed.press("Enter")
    store_view.press("Reset")
    page.get_by_text("is not a whole number").wait_for()
    store_view.step(1)
    assert store_view.errors == []


def test_compare_page_shows_both_arms(browser, server):
    view = Page(browser, server["url"] + "/compare")
    try:
        page = view.page
        page.get_by_text("Side by side").wait_for()
        view.wait_for_charts(3)
        summary = page.locator(".v-card", has_text="Side by side")
        for week in (1, 2):
            view.press("Step")
            page.get_by_text(f"Side by side - week {week}").wait_for()
        text = summary.inner_text()
        arm_a, arm_b = default_arms(load_presets())
        assert f"A: {arm_a}" in text and f"B: {arm_b}" in text
        assert "Gap (B - A)" in text and text.count("Cumulative profit") == 3
        for title in ("The gap as it builds", "Profit", "Churn"):
            assert page.get_by_text(title, exact=True).first.is_visible()
        assert view.errors == []
    finally:
        view.close()


def test_server_command_is_solara_run_on_the_app():
    command = server_command("127.0.0.1", 1234)
    assert command[:4] == [sys.executable, "-m", "solara", "run"]
    assert command[4].endswith(os.path.join("sim", "ui", "app.py"))
