"""The workshop view in a real browser: Debian's chromium driven by playwright.

A Solara server for sim/ui/app.py is started on a free localhost port (and always stopped); the
page's web assets come from Solara's cache, filled from the npm registry by sim.ui.assets. Under
CI=true a missing chromium fails these tests; elsewhere it skips them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.cli.ui import server_command, server_environment
from sim.ui import charts as ui_charts
from sim.ui.assets import ensure_web_assets
from sim.ui.store_view import _TIME_CHARTS, STORE_CARDS
from sim.ui.store_view import _event_text as event_text
from sim.ui.timeline import event_markers
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


def _serve(tmp_path_factory, **environment):
    """The view served by `solara run sim/ui/app.py` on a free port; stopped afterwards."""
    chromium = _chromium()  # fail or skip before starting anything
    ensure_web_assets()
    port = _free_port()
    log_path = tmp_path_factory.mktemp("solara") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(server_command("127.0.0.1", port),
                                   env=server_environment(**environment),
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
def server(tmp_path_factory):
    yield from _serve(tmp_path_factory)


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

    def __init__(self, browser, url: str, width: int = 1366, height: int = 768):
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           accept_downloads=True)
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
    page.wait_for_charts(8)
    yield page
    page.close()


# The smallest text of the charts, and how far the page overflows sideways (px).
SMALLEST_CHART_TEXT = """() => Math.min(...[...document.querySelectorAll('.vega-embed svg text')]
    .filter(t => t.textContent.trim() !== '')
    .map(t => parseFloat(getComputedStyle(t).fontSize)))"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_page_loads_with_no_error_in_the_console(store_view):
    page = store_view.page
    for text in ("Store map", "Store view", "Compare arms"):
        assert page.get_by_text(text, exact=True).first.is_visible(), text
    for title, _ in STORE_CARDS:
        assert page.get_by_text(title, exact=True).count() >= 1, title
    for button in ("Reset", "▶", "Step"):
        assert page.get_by_role("button", name=button, exact=True).is_visible()
    # Mesa's developer settings are tucked away; the room gets a plain speed control.
    for hidden in ("Play Interval (ms)", "Render Interval (steps)", "Use Threads",
                   "Information"):
        assert page.get_by_text(hidden, exact=True).count() == 0, hidden
    for speed in ("slow", "normal", "fast"):
        assert page.get_by_role("button", name=speed).is_visible()
    assert page.get_by_text("runs on Solara").count() == 0
    assert store_view.errors == []


def test_projector_text_is_16px_and_nothing_overflows_at_1366(store_view):
    store_view.step(1)
    page = store_view.page
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 16
    assert page.evaluate(OVERFLOW) <= 0
    # Each chart fills its card's width (the store map keeps square tiles).
    widths = page.evaluate("""() => [...document.querySelectorAll('.loyalty-chart')].map(
        c => [c.querySelector('svg').getBoundingClientRect().width,
              c.getBoundingClientRect().width])""")
    assert len(widths) == 8
    assert all(svg >= 0.9 * card for svg, card in widths[1:]), widths
    assert store_view.errors == []


def test_key_figures_update_on_step(store_view):
    strip = store_view.page.locator(".key-figures")
    assert "before week 1" in strip.inner_text()

    def strip_shows_week(week: int) -> None:
        # The strip is its own component and can redraw after the "Week N of" label.
        store_view.page.wait_for_function(
            f"() => /Week\\s+{week}\\b/.test("
            "document.querySelector('.key-figures').innerText)")

    store_view.step(1)
    strip_shows_week(1)
    first = strip.inner_text()
    assert "Customers" in first and "Total profit" in first and "$" in first
    store_view.step(2)
    strip_shows_week(2)
    assert strip.inner_text() != first
    assert "since wk 1" in strip.inner_text()
    assert store_view.errors == []


def test_a_changed_lever_shows_the_reset_cue_until_reset(store_view):
    page = store_view.page
    cue = page.get_by_text("changed: press Reset to apply")
    assert cue.count() == 0
    coaching = page.locator(".v-slider", has_text="Coaching (hours per supervisor").get_by_role(
        "slider")
    coaching.focus()
    coaching.press("End")
    cue.wait_for()
    assert page.get_by_text("Coaching: 0.5 → 8").is_visible()
    store_view.press("Reset")
    cue.wait_for(state="detached")
    assert store_view.errors == []


def test_event_markers_appear_on_every_time_chart(store_view):
    preset = next(p for p in load_presets().values()
                  if any("layoff" in e for e in p.events))
    page = store_view.page
    page.locator(".v-select", has_text="Scenario arm").click()
    page.get_by_role("option", name=preset.label, exact=True).click()
    page.get_by_text(f"preset: {preset.label}").wait_for()
    store_view.wait_for_charts(8)
    store_view.step(1)
    labels = [label for _, label in event_markers(preset.events)]
    for label in labels:
        marked = page.locator(".vega-embed svg text", has_text=label)
        assert marked.count() >= len(_TIME_CHARTS), label
    # The story of the scenario is on the page.
    assert page.get_by_text("The question").is_visible()
    assert store_view.errors == []


def test_export_gives_a_png_of_a_chart_and_a_csv_of_the_run(store_view):
    page = store_view.page
    for week in (1, 2, 3):
        store_view.step(week)
    chart = page.locator(".loyalty-chart").nth(3)
    chart.locator("details summary").click()
    with page.expect_download() as png:
        chart.get_by_text("Save as PNG").click()
    data = Path(png.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with page.expect_download() as csv:
        page.get_by_role("button", name="Download the run (CSV)").click()
    text = Path(csv.value.path()).read_text()
    lines = text.splitlines()
    assert lines[0].startswith("week,") and len(lines) == 4  # a header and three weeks
    assert store_view.errors == []


def test_the_week_slider_looks_back_and_live_returns(store_view):
    page = store_view.page
    for week in (1, 2, 3, 4):
        store_view.step(week)
    week_shown = "() => document.querySelector('.key-figure .value').textContent"
    slider = page.locator(".v-slider", has_text="Look back at week").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    page.wait_for_function(f"{week_shown} === '1'")
    # every time chart marks the week looked at
    page.wait_for_function(f"""() => [...document.querySelectorAll('.vega-embed svg')]
        .filter(svg => svg.querySelector('[stroke="{ui_charts.VIEWING_COLOUR}"]')).length
        >= {len(_TIME_CHARTS)}""")
    store_view.press("Live")
    page.wait_for_function(f"{week_shown} === '4'")
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
    run = page.locator(".v-card", has_text="This run").last
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
    # Nothing changes until Reset; the levers that will change are listed. The server lists
    # the sliders' changes before the seed is typed: a redraw still on its way would reset a
    # text field that has not been committed yet (seen under load).
    for change in ("Stores in the chain: 20 \u2192 12", "Coaching: 0.5 \u2192 8"):
        page.get_by_text(change).wait_for()
    seed = page.get_by_label("Seed")
    seed.fill("7")
    seed.press("Enter")
    page.get_by_text("Seed: 42 \u2192 7").wait_for()
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
    run = page.locator(".v-card", has_text="This run").last
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


def test_compare_page_opens_on_the_question_and_runs_to_the_end(browser, server):
    view = Page(browser, server["url"] + "/compare")
    try:
        page = view.page
        page.get_by_text("Side by side").wait_for()
        view.wait_for_charts(3)
        summary = page.locator(".v-card", has_text="Side by side").last
        text = summary.inner_text()
        for arm in (load_presets()[label].arm_label for label in default_arms(load_presets())):
            assert arm in text
        assert page.evaluate(OVERFLOW) <= 0
        view.press("Run to the end")
        headline = page.locator(".headline")
        headline.filter(has_text="is ahead of").wait_for(timeout=180_000)
        horizon = max(load_presets()[a].horizon_weeks for a in default_arms(load_presets()))
        assert headline.inner_text().startswith(f"After {horizon} weeks ")
        assert re.search(r"by \$[\d.]+[kM]?[ ,]", headline.inner_text())
        view.wait_until_charts_settle()
        assert page.evaluate(SMALLEST_CHART_TEXT) >= 16
        assert page.locator(".vega-embed svg text", has_text="policies start").count() >= 3
        assert page.evaluate(OVERFLOW) <= 0
        assert view.errors == []
    finally:
        view.close()


# ------------------------------------------------------------------------------- game mode
@pytest.fixture(scope="module")
def game_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, game={"n_stores": 4, "rounds": 2, "seed": 7},
                      join_url="http://join.example/play")


def _join(browser, url: str, code: str, name: str, store: int) -> Page:
    player = Page(browser, url + "/play", width=412, height=900)  # a phone
    page = player.page
    page.get_by_label("Code on the screen").fill(code)
    page.get_by_label("Your name").fill(name)
    page.locator(".v-select", has_text="Store").click()
    page.get_by_role("option", name=f"Store {store} (free)").click()
    page.get_by_role("button", name="Join").click()
    page.get_by_text(f"Store {store} · {name}").wait_for()
    return player


def test_a_facilitator_and_three_participants_play_two_quarters(browser, game_server):
    game_browser = browser  # one chromium for the module; each person has their own context
    url = game_server["url"]
    host = Page(game_browser, url + "/game")
    players: list[Page] = []
    try:
        page = host.page
        page.get_by_text("http://join.example/play").wait_for()
        code = page.locator(".join-code").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-9]{4}", code)
        players = [_join(game_browser, url, code, name, store)
                   for name, store in (("Ann", 1), ("Bo", 2), ("Cy", 3))]
        # participants see their game only: no tabs to the facilitator's pages
        assert players[0].page.get_by_role("tab").count() == 0
        page.get_by_text("0 of 3 stores with players have decided").wait_for()
        ann, bo, cy = (p.page for p in players)
        # Ann coaches, Bo joins the HR programme, Cy keeps the default: all at once.
        coaching = ann.locator(".v-slider", has_text="Supervisor coaching").get_by_role("slider")
        cost = ann.get_by_text(re.compile(r"^Cost: \$"))
        coaching.focus()
        for _ in range(7):  # 0.5 -> 4 h/wk
            # One step at a time, each after the server has redrawn the cost it implies: a
            # press sent before the server's echo of the last one can be undone by that echo.
            before = cost.inner_text()
            coaching.press("ArrowRight")
            ann.wait_for_function("([el, text]) => el.innerText !== text",
                                  arg=[cost.element_handle(), before])
        assert coaching.get_attribute("aria-valuenow") == "4"
        bo.get_by_label("Join the company HR programme").check()
        for p in (ann, bo, cy):
            p.get_by_role("button", name="Submit decision").click()
        for p in (ann, bo, cy):
            p.get_by_text("Your decision is in").wait_for()
        page.get_by_text("3 of 3 stores with players have decided").wait_for()
        page.get_by_role("button", name="Play the quarter").click()
        for p in (ann, bo, cy):
            p.get_by_text("Quarter 2 of 2").wait_for()
        page.locator(".who-runs", has_text="coaching 4 h/wk").wait_for()
        who = page.locator(".who-runs").inner_text()
        assert "coaching 4 h/wk" in who and "HR programme" in who and "company default" in who
        # Bo reloads: back to his store, not to the join form.
        bo.reload()
        bo.get_by_text("Store 2 · Bo").wait_for()
        assert bo.get_by_text("Join the game").count() == 0
        # Cy's browser goes away; the game goes on without her.
        players[2].close()
        players = players[:2]
        for p in (ann, bo):
            p.get_by_role("button", name="Submit decision").click()
        page.get_by_text("2 of 3 stores with players have decided").wait_for()
        page.get_by_role("button", name="Play the quarter").click()
        page.get_by_text("Game over: 2 quarters played").wait_for()
        page.get_by_text("Debrief: which decisions paid").wait_for()
        assert page.locator(".debrief-table").inner_text().count("Company HR programme") == 1
        page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 2")
        # Each participant's page redraws on its own, after the facilitator's: wait for it.
        ann.get_by_text("Game over").first.wait_for()
        board = ann.locator(".leaderboard").inner_text()
        for name in ("Ann", "Bo", "Cy", "company default"):
            assert name in board
        assert page.evaluate(SMALLEST_CHART_TEXT) >= 16
        assert host.errors == [] and all(p.errors == [] for p in players)
    finally:
        for p in players:
            p.close()
        host.close()


def test_server_command_is_solara_run_on_the_app():
    command = server_command("127.0.0.1", 1234)
    assert command[:4] == [sys.executable, "-m", "solara", "run"]
    assert command[4].endswith(os.path.join("sim", "ui", "app.py"))
