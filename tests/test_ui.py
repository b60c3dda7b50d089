"""The workshop view without a browser: controls, Reset, presets, seed box, charts, CLI.

Pages are rendered with `solara.render` inside the app's router and layout, the way
`solara run` serves them; the sidebar's widgets are then found and driven like a user would.
"""

from __future__ import annotations

import functools
import json
import re
import socket

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from typer.testing import CliRunner

from sim import LoyaltyModel
from sim.cli import app as cli_app
from sim.model.checks import check_value
from sim.model.parameters import PARAMETER_NAMES, Parameters, parameter_fields
from sim.studies.labels import choice_label
from sim.studies.scenario import SHIPPED_DIR, load_scenario
from sim.ui import app, compare_view, store_view, time_charts, timeline
from sim.ui import assets as ui_assets
from sim.ui import charts as ui_charts
from sim.ui import workshop as ui_model
from sim.ui.vega import VegaView
from sim.ui.workshop import (
    CONTROLS,
    DEFAULT_SEED,
    MODEL_DEFAULTS,
    ArmsComparison,
    WorkshopModel,
    load_presets,
    model_params,
    parse_seed,
    preset_problems,
)

FIELDS = {f.name: f for f in parameter_fields()}
SLIDERS = [c for c in CONTROLS if c.kind in ("SliderInt", "SliderFloat")]


@pytest.fixture(autouse=True)
def _default_preset():
    """The preset is app state shared by renders in one process: start and end at defaults."""
    store_view.preset_label.set(MODEL_DEFAULTS)
    yield
    store_view.preset_label.set(MODEL_DEFAULTS)


@pytest.fixture
def built(monkeypatch) -> list[WorkshopModel]:
    """Every WorkshopModel the page builds, in order (the last one is on screen)."""
    models: list[WorkshopModel] = []
    original = WorkshopModel.__init__

    @functools.wraps(original)
    def recording(self, **kwargs):
        original(self, **kwargs)
        models.append(self)

    monkeypatch.setattr(WorkshopModel, "__init__", recording)
    return models


def render(view, path: str = "/"):
    """Render a page the way `solara run` does: inside the root route's layout."""
    layout = app.routes[0].layout
    page = solara.RoutingProvider(routes=app.routes, pathname=path,
                                  children=[layout(children=[view()])])
    return solara.render(page, handle_error=False)[1]


def slider(rc, label_start: str):
    found = [w for w in rc.find(v.Slider).widgets if w.label.startswith(label_start)]
    assert len(found) == 1, f"expected one slider labelled {label_start!r}, found {len(found)}"
    return found[0]


def select(rc, label: str):
    return rc.find(v.Select, label=label).widget


def texts(rc) -> list[str]:
    return [str(c) for w in rc.find(v.Html, tag="span").widgets for c in w.children]


def type_in(widget, text: str) -> None:
    """Type into a text box and leave it (Solara commits the text on focus-out)."""
    widget.v_model = text
    widget.fire_event("focusout", None)


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def html_text(rc) -> str:
    """The text of the page's HTML blocks (solara.HTML)."""
    return " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)


def vega_specs(rc) -> list[dict]:
    return [w.spec for w in rc.find(VegaView).widgets]


# ------------------------------------------------------------------------------------ controls
def test_store_view_has_every_lever_with_an_allowed_range():
    rc = render(store_view.StoreView)
    for control in SLIDERS:
        widget = slider(rc, control.label.split(" (")[0].split(" at week")[0])
        assert (widget.min, widget.max, widget.step) == (control.low, control.high, control.step)
        if control.name in FIELDS:
            # Both ends are values the model accepts, and the default is on the slider.
            for end in (widget.min, widget.max):
                # Sliders hand whole numbers to int parameters (SolaraViz's SliderInt).
                check_value(control.name, int(end) if control.kind == "SliderInt" else end)
            assert widget.min <= FIELDS[control.name].default <= widget.max
            assert widget.v_model == FIELDS[control.name].default
    for control in (c for c in CONTROLS if c.kind == "Select"):
        widget = select(rc, control.label)
        # Plain-English labels, one per allowed value, shared with the reports.
        assert widget.items == [choice_label(control.name, c)
                                for c in FIELDS[control.name].metadata["choices"]]
        assert widget.v_model == choice_label(control.name, FIELDS[control.name].default)
    crisis = [w for w in rc.find(v.Checkbox).widgets if w.label.startswith("Crisis")]
    assert len(crisis) == 1 and crisis[0].v_model is False
    seed = rc.find(v.TextField).widget
    assert seed.label.startswith("Seed") and seed.v_model == str(DEFAULT_SEED)
    assert {b.children[0] for b in rc.find(v.Btn).widgets} >= {"Reset", "▶", "Step"}
    presets = select(rc, "Scenario arm")
    assert presets.items == list(load_presets()) and presets.v_model == MODEL_DEFAULTS


def test_crisis_and_layoff_controls_are_allowed_event_values():
    ranges = {c.name: (c.low, c.high) for c in SLIDERS}
    low, high = ranges["crisis_severity"]
    for severity in (low, high):
        WorkshopModel(crisis=True, crisis_severity=severity, n_stores=1, employees_per_store=2,
                      customers_per_store=5)
    # 0 means "no layoff"; the largest share is a valid layoff.
    assert ranges["layoff_share"][0] == 0
    WorkshopModel(layoff_share=ranges["layoff_share"][1], n_stores=1, employees_per_store=2,
                  customers_per_store=5)


def test_changing_levers_and_pressing_reset_rebuilds_the_model_with_them(built):
    rc = render(store_view.StoreView)
    first = built[-1]
    assert first.params.coaching_hours == Parameters().coaching_hours
    slider(rc, "Coaching").v_model = 3.0
    slider(rc, "HR programme budget").v_model = 600
    slider(rc, "Stores in the chain").v_model = 6
    slider(rc, "Transparency").v_model = 0.8
    select(rc, "Who works the front line").v_model = choice_label("staffing_rule", "most_engaged")
    select(rc, "Service policy").v_model = choice_label("service_policy",
                                                        "first_contact_resolution")
    select(rc, "Coaching goes first to").v_model = choice_label("coaching_targeting", "random")
    [w for w in rc.find(v.Checkbox).widgets if w.label.startswith("Crisis")][0].v_model = True
    slider(rc, "Crisis severity").v_model = 0.8
    slider(rc, "Layoffs").v_model = 0.1
    assert built[-1] is first, "moving a lever alone must not rebuild the model"
    click(rc, "Reset")
    model = built[-1]
    assert model is not first
    p = model.params
    assert (p.coaching_hours, p.hr_budget, p.n_stores, p.transparency) == (3.0, 600.0, 6, 0.8)
    assert isinstance(p.hr_budget, float)
    assert (p.staffing_rule, p.service_policy, p.coaching_targeting) == (
        "most_engaged", "first_contact_resolution", "random")
    assert {"week": 26, "crisis": {"duration": 12, "severity": 0.8}} in model.scheduled
    assert {"week": 30, "layoff": {"share": 0.1}} in model.scheduled
    assert len(model.stores) == 6
    # The sidebar's summary reads the rebuilt model.
    assert any("coaching 3 h/wk (staff at random)" in t for t in texts(rc))


def test_seed_box_converts_text_and_survives_a_typo(built):
    rc = render(store_view.StoreView)
    seed = rc.find(v.TextField).widget
    type_in(seed, "7")
    click(rc, "Reset")
    assert built[-1].seed == 7
    # Same seed, same run: the page's model and a plain LoyaltyModel agree bit for bit.
    built[-1].run(3)
    plain = LoyaltyModel(rng=7).run(3)
    pd.testing.assert_frame_equal(built[-1].model_frame(), plain.model_frame())
    type_in(seed, "seven")
    click(rc, "Reset")
    assert built[-1].seed == DEFAULT_SEED
    assert any("'seven' is not a whole number" in str(w.children)
               for w in rc.find(v.Alert).widgets)


@pytest.mark.parametrize(("text", "seed", "ok"), [
    ("42", 42, True), (" 9 ", 9, True), (12, 12, True), ("", DEFAULT_SEED, False),
    ("-3", DEFAULT_SEED, False), ("1e3", DEFAULT_SEED, False), (None, DEFAULT_SEED, False),
    (True, DEFAULT_SEED, False), ("abc", DEFAULT_SEED, False)])
def test_parse_seed(text, seed, ok):
    value, notice = parse_seed(text)
    assert value == seed
    assert (notice == "") is ok


def test_step_advances_the_model_and_redraws_the_charts(built):
    rc = render(store_view.StoreView)
    before = vega_specs(rc)
    assert len(before) == len(store_view.STORE_CARDS) == 8
    click(rc, "Step")
    model = built[-1]
    assert model.week == 0
    assert any(t.startswith("Week 1 of 156") for t in texts(rc))
    after = vega_specs(rc)
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_key_figures_and_the_week_slider_follow_the_run(built):
    rc = render(store_view.StoreView)
    assert "before week 1" in html_text(rc)
    for _ in range(3):
        click(rc, "Step")
    shown = html_text(rc)
    assert "Customers" in shown and "since wk 1" in shown
    week = slider(rc, "Look back at week")
    assert (week.min, week.max, week.v_model) == (1, 3, 3)
    week.v_model = 1
    figures = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
               if "key-figure" in w.unsafe_innerHTML][0]
    assert "<div class='value'>1</div>" in figures  # the strip shows week 1
    # the charts mark the week looked at
    assert all(spec["datasets"].get("viewing") == [{"week": 0}]
               for spec in vega_specs(rc)[2:])
    click(rc, "Live")
    assert all("viewing" not in spec["datasets"] for spec in vega_specs(rc))


def test_a_changed_lever_is_named_until_reset(built):
    rc = render(store_view.StoreView)
    assert "changed: press Reset to apply" not in html_text(rc)
    slider(rc, "Coaching").v_model = 4.0
    select(rc, "Service policy").v_model = choice_label("service_policy",
                                                        "first_contact_resolution")
    assert "changed: press Reset to apply" in html_text(rc)
    assert any("Coaching: 0.5 → 4" in t for t in texts(rc))
    assert any("Service policy: short contacts → first-contact resolution" in t
               for t in texts(rc))
    click(rc, "Reset")
    assert "changed: press Reset to apply" not in html_text(rc)


def test_every_shipped_scenario_tells_its_story():
    for preset in load_presets().values():
        assert preset.question and preset.watch and preset.try_next
    shipped = [p for label, p in load_presets().items() if label != MODEL_DEFAULTS]
    assert all(p.watch != ui_model.Preset.watch for p in shipped)


def test_event_markers_label_every_kind_of_event():
    events = [{"week": 13, "set": {"coaching_hours": 4.0, "hr_budget": 450.0}},
              {"week": 26, "crisis": {"duration": 26, "severity": 0.6}},
              {"week": 28, "layoff": {"share": 0.15}},
              {"week": 52, "set": {"staffing_level": 1.0}}]
    assert timeline.event_markers(events) == [
        (13, "coaching 4 h/wk, HR programme $450/employee/yr"), (26, "crisis (severity 0.6)"),
        (28, "layoffs 15%"), (52, "re-hiring")]
    rows = time_charts.event_rows(timeline.event_markers(events))
    assert [r["week"] for r in rows] == [13, 26, 28, 52]
    assert rows[1]["offset"] != rows[2]["offset"]  # two weeks apart: not on one line
    assert timeline.policy_start(events) == 13 and timeline.policy_start([]) == 0


def test_preset_loads_an_arm_into_the_controls_and_the_model(built):
    # Any shipped arm with a crisis and layoffs shows both on the sidebar's controls.
    presets = load_presets()
    with_both = [p for p in presets.values()
                 if any("crisis" in e for e in p.events) and any("layoff" in e for e in p.events)]
    preset = with_both[0] if with_both else next(
        p for label, p in presets.items() if label != MODEL_DEFAULTS)
    settings = preset.settings()
    rc = render(store_view.StoreView)
    select(rc, "Scenario arm").v_model = preset.label
    model = built[-1]
    assert model.preset == preset.label and model.seed == preset.seed
    for name, value in preset.parameters.items():
        assert getattr(model.params, name) == value
    assert sorted(model.scheduled, key=str) == sorted(preset.events, key=str)
    assert slider(rc, "Crisis severity").v_model == settings["crisis_severity"]
    assert slider(rc, "Layoffs at week").v_model == settings["layoff_share"]
    crisis = [w for w in rc.find(v.Checkbox).widgets if w.label.startswith("Crisis")][0]
    assert crisis.v_model == settings["crisis"]
    assert rc.find(v.TextField).widget.v_model == str(preset.seed)
    # Reset keeps the arm's other settings (parameters without a control, later events).
    click(rc, "Reset")
    assert built[-1] is not model and built[-1].scheduled == model.scheduled
    assert built[-1].params == model.params


def test_every_shipped_arm_loads_as_a_preset():
    presets = load_presets()
    assert preset_problems() == ()
    assert len(presets) > 1
    for preset in presets.values():
        params = model_params(preset)
        for control in SLIDERS:
            entry = params[control.name]
            assert entry["min"] <= entry["value"] <= entry["max"]
        WorkshopModel(**{**preset.settings(), "n_stores": 1, "employees_per_store": 2,
                         "customers_per_store": 5})


def test_a_broken_scenario_file_is_left_out_with_its_reason(tmp_path):
    (tmp_path / "good.yaml").write_text(
        "name: good\nquestion: q?\nhorizon_weeks: 10\nreplications: 1\nseed: 1\n"
        "arms:\n  a: {}\n  b:\n    parameters: {coaching_hours: 2.0}\n")
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nquestion: q?\nhorizon_weeks: 10\nreplications: 1\nseed: 1\n"
        "arms:\n  a: {parameters: {coachng_hours: 2}}\n  b: {}\n")
    presets = load_presets(tmp_path)
    assert list(presets) == [MODEL_DEFAULTS, "Good: A", "Good: B"]
    problems = preset_problems(tmp_path)
    assert len(problems) == 1 and "bad.yaml" in problems[0] and "coachng_hours" in problems[0]
    assert "\n" not in problems[0]


def test_workshop_model_stops_at_the_horizon():
    model = WorkshopModel(horizon_weeks=3, n_stores=2, employees_per_store=3,
                          customers_per_store=20)
    model.run(2)
    assert model.running
    model.step()
    assert not model.running and model.week == 2


def test_unknown_parameter_is_not_silently_dropped():
    with pytest.raises(ValueError, match="did you mean 'coaching_hours'"):
        WorkshopModel(coachng_hours=2)


# ------------------------------------------------------------------------------- compare page
def test_compare_page_opens_on_the_question_and_says_who_is_ahead():
    presets = load_presets()
    rc = render(compare_view.CompareView, "/compare")
    arms = [select(rc, f"Arm {x}").v_model for x in ("A", "B")]
    arms.append(select(rc, "Arm C (optional)").v_model)
    # The flagship question: coaching against the HR programme, with both as a third arm.
    flagship = load_scenario(SHIPPED_DIR / "coaching_vs_hr.yaml")
    names = [flagship.arm_label(a) for a in ("coaching", "hr_programme", "both")]
    assert [presets[a].arm_label for a in arms] == names
    assert "Press" in html_text(rc)
    for _ in range(2):
        click(rc, "Step")
    shown = html_text(rc)
    # Before the policies start (week 13) the arms are the same chain.
    assert "After 2 weeks the arms are level: their policies differ from week 13." in shown
    for _ in range(16):
        click(rc, "Step")
    titles = [str(c) for w in rc.find(v.CardTitle).widgets for c in w.children]
    assert any(t.startswith("Side by side - week 18, seed") for t in titles)
    shown = html_text(rc)
    either = "|".join(re.escape(n) for n in names)
    assert re.search(rf"After 18 weeks ({either}) is ahead of ({either}) by \$[\d.,]+[kM]?",
                     shown), shown
    assert len(vega_specs(rc)) == len(compare_view.COMPARE_CARDS)


def test_compare_page_changes_arms_on_reset_and_runs_to_the_end(built):
    presets = load_presets()
    rc = render(compare_view.CompareView, "/compare")
    first, last = list(presets)[1], list(presets)[-1]
    select(rc, "Arm A").v_model, select(rc, "Arm B").v_model = first, last
    select(rc, "Arm C (optional)").v_model = ArmsComparison.NO_ARM
    type_in(rc.find(v.TextField).widget, "5")
    click(rc, "Reset")
    click(rc, "Run to the end")
    models = [w for w in built if w.preset in (first, last)]
    assert all(not m.running for m in models[-2:])
    titles = [str(c) for w in rc.find(v.CardTitle).widgets for c in w.children]
    horizon = max(presets[first].horizon_weeks, presets[last].horizon_weeks)
    assert f"Side by side - week {horizon}, seed 5" in titles
    shown = html_text(rc)
    assert first in shown and last in shown  # two scenarios: arms named in full


def test_arms_comparison_steps_arms_in_lock_step():
    arms = ui_model.default_arms(load_presets())
    trio = ArmsComparison(rng="3", arm_a=arms[0], arm_b=arms[1], arm_c=arms[2])
    for _ in range(4):
        trio.step()
    frames = [arm.model_frame() for arm in trio.arms]
    assert [len(f) for f in frames] == [4, 4, 4] and trio.week == 3
    assert {arm.seed for arm in trio.arms} == {3}
    # The same arm twice, same seed: identical weeks, no one ahead.
    same = ArmsComparison(rng="3", arm_a=arms[1], arm_b=arms[1])
    for _ in range(4):
        same.step()
    assert len(same.arms) == 2
    pd.testing.assert_frame_equal(*(arm.model_frame() for arm in same.arms))
    assert compare_view.headline(same) == "After 4 weeks the arms are level."
    unknown = ArmsComparison(arm_a="nope: nothing")
    assert "not a shipped arm" in unknown.notice and unknown.presets[0].label == arms[0]


# ------------------------------------------------------------------------------------- charts
def _data_names(spec) -> set[str]:
    """Names of the data sets a spec (or any of its layers) reads."""
    names = {spec["data"]["name"]} if "name" in spec.get("data", {}) else set()
    for layer in spec.get("layer", []):
        names |= _data_names(layer)
    return names


def test_charts_are_valid_vega_lite_before_and_after_steps():
    model = WorkshopModel(n_stores=5, employees_per_store=4, customers_per_store=40,
                          crisis=True, crisis_week=1, crisis_weeks=2)
    for _ in range(2):
        frame = ui_charts.weekly(model)
        events = time_charts.event_rows(timeline.event_markers(model.scheduled))
        specs = [ui_charts.store_map(model), ui_charts.quadrant(model),
                 *(build(frame, 10, events=events) for build in (
                     time_charts.customers, time_charts.churn, time_charts.money,
                     time_charts.engagement, time_charts.turnover, time_charts.segment_shares)),
                 *store_view.store_specs(model, view_week=0).values()]
        for spec in specs:
            ui_charts.validate(spec)
            # strict JSON, as the browser parses it: no NaN anywhere
            json.dumps(spec, allow_nan=False)
            used = _data_names(spec)
            # Every data set read is filled in, and every one filled in is read (the page swaps
            # data sets into the live chart by name).
            assert used and used == set(spec["datasets"])
        model.run(3)
    stores = ui_charts.stores(model)
    assert len(stores) == 5 and stores["engagement"].between(0, 1).all()
    assert np.allclose(stores["engagement"], (stores["employee_engagement"]
                                              + stores["customer_engagement"]) / 2)


def test_segment_shares_add_up_to_all_customers():
    model = WorkshopModel(n_stores=3, employees_per_store=4, customers_per_store=60).run(4)
    spec = time_charts.segment_shares(ui_charts.weekly(model), 10)
    shares = pd.DataFrame(spec["datasets"]["segments"])
    assert np.allclose(shares.groupby("week")["share"].sum(), 100, atol=0.5)


# ------------------------------------------------------------------------------ assets and CLI
def test_web_packages_follow_solara_and_ipyvue():
    packages = ui_assets.web_packages()
    import ipyvue

    vue3 = ipyvue.__version__.startswith("3")
    assert any(p.startswith("@widgetti/solara-vuetify3-app@") for p in packages) == vue3
    assert any(p.startswith("requirejs@") for p in packages)
    assert {"vega@5", "vega-lite@5", "vega-embed@6"} <= set(packages)


def test_missing_assets_without_npm_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(ui_assets.shutil, "which", lambda name: None)
    with pytest.raises(ui_assets.WebAssetsError) as err:
        ui_assets.ensure_web_assets(tmp_path)
    assert "npm is not installed" in str(err.value) and "\n" not in str(err.value)


def test_ui_command_rejects_bad_options_in_one_line():
    runner = CliRunner()
    for args, expected in ((["--port", "0"], "--port 0"),
                           (["--render-interval", "0"], "--render-interval 0"),
                           (["--scenarios", "/no/such/folder"], "no such folder"),
                           (["--game", "--stores", "0"], "--stores 0 is not allowed"),
                           (["--game", "--rounds", "99"], "--rounds 99 is not allowed")):
        result = runner.invoke(cli_app, ["ui", *args])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0]


def test_game_settings_reach_the_server(monkeypatch):
    from sim.cli.ui import server_environment
    from sim.ui import game_view

    env = server_environment(game={"n_stores": 5, "rounds": 3, "seed": 9},
                             join_url="http://10.0.0.2:8765/play")
    assert env["LOYALTY_SIM_GAME"] == "1" and env["LOYALTY_SIM_JOIN_URL"].endswith("/play")
    assert env["SOLARA_THEME_SHOW_BANNER"] == "False"  # the badge would cover the charts
    for name, value in env.items():
        if name.startswith("LOYALTY_SIM_"):
            monkeypatch.setenv(name, value)
    assert game_view.session_settings() == {"n_stores": 5, "rounds": 3, "seed": 9}
    assert game_view.game_enabled()


def test_ui_command_refuses_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["ui", "--port", str(port)])
    assert result.exit_code == 2 and f"port {port}" in result.output and "in use" in result.output


def test_control_names_are_parameters_or_ui_settings():
    settings = ui_model.Preset(MODEL_DEFAULTS).settings()
    for control in CONTROLS:
        assert control.name in PARAMETER_NAMES or control.name in settings


def test_web_assets_unpack_whole_and_once(tmp_path):
    import io
    import tarfile

    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, text in (("package/package.json", b"{}"), ("package/dist/a.js", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
    target = tmp_path / "cdn" / "@scope" / "pkg@1.0.0"
    ui_assets._unpack(tarball, target)
    assert (target / "dist" / "a.js").read_bytes() == b"x"
    ui_assets._unpack(tarball, target)  # a second unpack (another worker) is harmless
    assert sorted(p.name for p in target.parent.iterdir()) == ["pkg@1.0.0"]
    assert ui_assets.missing_web_packages(tmp_path / "cdn") == ui_assets.web_packages()
