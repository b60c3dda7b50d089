"""What the workshop view runs: presets from the shipped scenarios, the levers in the sidebar, and
the models Mesa's SolaraViz re-creates on Reset.

SolaraViz rebuilds a model with ``type(model)(**controls)``, so the controls that are not model
parameters (crisis on/off, its severity, layoffs, a seed typed as text) are translated here, in
`WorkshopModel`, into the events and seed `LoyaltyModel` takes. `ArmsComparison` runs two arms of
the shipped scenarios side by side on one seed for the compare page. The events' short labels
for the charts are in `sim.ui.timeline`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa

from sim.model import LoyaltyModel
from sim.model.events import Crisis, Layoff, parse_event
from sim.model.parameters import (
    COACHING_TARGETS,
    SERVICE_POLICIES,
    STAFFING_RULES,
    Parameters,
    parameter_fields,
)
from sim.studies.labels import CHOICE_LABELS, choice_label, choice_value, humanize
from sim.studies.scenario import shipped_scenarios

DEFAULT_SEED = 42
DEFAULT_HORIZON_WEEKS = 156
# The crisis the sidebar switches on: a pandemic-like shock at week 26 lasting 12 weeks; layoffs,
# when chosen, come four weeks into it (the usual sequence: demand falls, then jobs go).
CRISIS_WEEK = 26
CRISIS_WEEKS = 12
LAYOFF_DELAY_WEEKS = 4
DEFAULT_CRISIS_SEVERITY = 0.6
MODEL_DEFAULTS = "Model defaults"
# Settings `loyalty-sim ui` hands to the server process (the presets and sim.ui.store_view
# read them).
SCENARIOS_ENV = "LOYALTY_SIM_SCENARIOS"
RENDER_INTERVAL_ENV = "LOYALTY_SIM_RENDER_INTERVAL"
# Above this many stores a redraw per week is more than the room needs; render every k weeks.
STORES_PER_RENDERED_STEP = 50

_FIELDS = {f.name: f for f in parameter_fields()}


@dataclass(frozen=True)
class Control:
    """One sidebar control: a SolaraViz `model_params` entry with a plain-language label."""

    name: str
    kind: str  # SolaraViz input type: SliderInt, SliderFloat, Select, Checkbox, InputText
    label: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    values: tuple[str, ...] = ()


# The levers of issue 5, in the order the facilitator reads them. Slider ranges are the part of
# each parameter's allowed range that is worth showing a room (tests check they are allowed).
CONTROLS: tuple[Control, ...] = (
    Control("rng", "InputText", "Seed (a whole number; same seed, same run)"),
    Control("n_stores", "SliderInt", "Stores in the chain", 1, 200, 1),
    Control("coaching_hours", "SliderFloat", "Coaching (hours per supervisor per week)",
            0.0, 8.0, 0.25),
    Control("coaching_targeting", "Select", "Coaching goes first to",
            values=tuple(choice_label("coaching_targeting", c) for c in COACHING_TARGETS)),
    Control("hr_budget", "SliderInt", "HR programme budget ($ per employee per year)",
            0, 2000, 50),
    Control("staffing_rule", "Select", "Who works the front line",
            values=tuple(choice_label("staffing_rule", c) for c in STAFFING_RULES)),
    Control("service_policy", "Select", "Service policy",
            values=tuple(choice_label("service_policy", c) for c in SERVICE_POLICIES)),
    Control("transparency", "SliderFloat", "Transparency and listening (0 = none, 1 = full)",
            0.0, 1.0, 0.05),
    Control("crisis", "Checkbox", "Crisis"),
    Control("crisis_severity", "SliderFloat", "Crisis severity (0-1)", 0.1, 1.0, 0.05),
    Control("layoff_share", "SliderFloat", "Layoffs (share of staff; 0 = none)", 0.0, 0.3, 0.01),
)
PARAMETER_CONTROLS = tuple(c.name for c in CONTROLS if c.name in _FIELDS)


@dataclass(frozen=True)
class Preset:
    """An arm of a shipped scenario (or the model's defaults) as the sidebar loads it."""

    label: str
    description: str = "The model's default calibration, no events."
    parameters: dict[str, Any] = field(default_factory=dict)
    events: tuple[dict[str, Any], ...] = ()
    horizon_weeks: int = DEFAULT_HORIZON_WEEKS
    seed: int = DEFAULT_SEED
    arm_label: str = MODEL_DEFAULTS  # the arm's own label, without its scenario's
    scenario: str = ""  # the scenario's name ("" for the model's defaults)
    baseline: bool = False
    question: str = ("What happens in a chain run the usual way? Move a lever, press Reset "
                     "and Play to find out.")
    watch: str = ("Staff engagement (green) and customer engagement (blue): the stores that "
                  "turn green on the map first have strong supervisors.")
    try_next: str = ("Raise coaching to 4 hours a week, press Reset, and watch churn a few "
                     "months later; or load a scenario arm above.")

    def settings(self) -> dict[str, Any]:
        """The preset as WorkshopModel keyword arguments: the sidebar's controls and the rest."""
        settings: dict[str, Any] = {
            "rng": str(self.seed),
            "crisis": False,
            "crisis_severity": DEFAULT_CRISIS_SEVERITY,
            "crisis_week": CRISIS_WEEK,
            "crisis_weeks": CRISIS_WEEKS,
            "layoff_share": 0.0,
            "layoff_week": None,
            "scheduled_events": [],
            "horizon_weeks": self.horizon_weeks,
            "preset": self.label,
        }
        for name in PARAMETER_CONTROLS:
            settings[name] = _FIELDS[name].default
        settings.update(self.parameters)
        for name in CHOICE_LABELS:  # the sidebar's drop-downs show plain-English labels
            if name in settings:
                settings[name] = choice_label(name, settings[name])
        crisis_seen = layoff_seen = False
        for spec in self.events:
            event = parse_event(spec)
            if isinstance(event, Crisis) and not crisis_seen:
                crisis_seen = True
                settings.update(crisis=True, crisis_severity=float(event.severity),
                                crisis_week=event.week, crisis_weeks=event.duration)
            elif isinstance(event, Layoff) and not layoff_seen:
                layoff_seen = True
                settings.update(layoff_share=float(event.share), layoff_week=event.week)
            else:
                settings["scheduled_events"].append(spec)
        return settings


def parse_seed(text: Any) -> tuple[int, str]:
    """The seed typed in the seed box as an int, and a one-line notice when it was not usable.

    Mesa's text input hands the seed over as a string; anything but a whole number >= 0 falls
    back to the default seed with a notice, so a typo never stops the workshop.
    """
    if isinstance(text, bool):
        text = None
    if isinstance(text, int) and text >= 0:
        return text, ""
    stripped = str(text).strip() if text is not None else ""
    if stripped.isdigit():
        return int(stripped), ""
    return DEFAULT_SEED, (f"seed {stripped!r} is not a whole number >= 0: using seed "
                          f"{DEFAULT_SEED}")


def recommended_render_interval(n_stores: int) -> int:
    """Weeks per redraw that keep play smooth for a chain of this size (1 up to 50 stores)."""
    return max(1, math.ceil(n_stores / STORES_PER_RENDERED_STEP))


def _as_field_type(name: str, value: Any) -> Any:
    """Sliders hand over ints for float parameters (and floats for int ones); store each as
    the type Parameters declares so parameters compare equal to a scenario's."""
    kind = _FIELDS[name].type
    if kind in ("float", float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in ("int", int) and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class WorkshopModel(LoyaltyModel):
    """LoyaltyModel built from the workshop sidebar: the crisis and layoff controls become
    events, the seed box's text becomes the seed, and the run stops at the preset's horizon."""

    def __init__(
        self,
        *,
        rng: Any = str(DEFAULT_SEED),
        crisis: bool = False,
        crisis_severity: float = DEFAULT_CRISIS_SEVERITY,
        crisis_week: int = CRISIS_WEEK,
        crisis_weeks: int = CRISIS_WEEKS,
        layoff_share: float = 0.0,
        layoff_week: int | None = None,
        scheduled_events: list | tuple = (),
        horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
        preset: str = MODEL_DEFAULTS,
        scenario: Any = None,
        **parameters: Any,
    ):
        # Mesa's Reset hands over a default mesa Scenario as `scenario`; the seed box is the
        # seed here, so it is not used.
        del scenario
        seed, notice = parse_seed(rng)
        events = list(scheduled_events)
        if crisis:
            events.append({"week": int(crisis_week),
                           "crisis": {"duration": int(crisis_weeks),
                                      "severity": float(crisis_severity)}})
        if layoff_share > 0:
            week = layoff_week if layoff_week is not None else crisis_week + LAYOFF_DELAY_WEEKS
            events.append({"week": int(week), "layoff": {"share": float(layoff_share)}})
        self.settings = {"rng": rng, "crisis": crisis, "crisis_severity": crisis_severity,
                         "layoff_share": layoff_share, **parameters}
        parameters = {k: _as_field_type(k, choice_value(k, v)) if k in _FIELDS else v
                      for k, v in parameters.items()}
        super().__init__(rng=seed, events=events, **parameters)
        self.seed = seed
        self.notice = notice
        self.preset = preset
        self.horizon_weeks = int(horizon_weeks)
        self.scheduled = tuple(events)

    def step(self) -> None:
        super().step()
        if self.week + 1 >= self.horizon_weeks:
            self.running = False


class ArmsComparison(mesa.Model):
    """Arms of the shipped scenarios on the same seed, stepped together (compare page).

    `arm_a` and `arm_b` are always shown; `arm_c` is optional ("" or "none": two arms).
    """

    NO_ARM = "(none)"

    def __init__(self, *, rng: Any = str(DEFAULT_SEED), arm_a: str = "", arm_b: str = "",
                 arm_c: str = "", scenarios_dir: str | None = None):
        seed, notice = parse_seed(rng)
        super().__init__(rng=seed)
        presets = load_presets(scenarios_dir)
        defaults = default_arms(presets)
        notices = [notice] if notice else []
        chosen = []
        for slot, (given, fallback) in enumerate(zip((arm_a, arm_b, arm_c), defaults,
                                                     strict=False)):
            if slot == 2 and given in ("", self.NO_ARM):
                continue
            if given not in presets:
                if given:
                    notices.append(f"arm {given!r} is not a shipped arm: showing {fallback!r}")
                given = fallback
            chosen.append(presets[given])
        self.seed = seed
        self.notice = "; ".join(notices)
        self.presets = tuple(chosen)
        # Arms of one scenario are named by their own labels; across scenarios, in full.
        one_scenario = len({p.scenario for p in chosen}) == 1
        self.labels = tuple(p.arm_label if one_scenario else p.label for p in chosen)
        settings = [dict(p.settings(), rng=str(seed)) for p in chosen]
        self.arms = tuple(WorkshopModel(**s) for s in settings)
        self.horizon_weeks = max(a.horizon_weeks for a in self.arms)

    @property
    def week(self) -> int:
        """Index of the last simulated week of every arm (-1 before any step)."""
        return self.steps - 1

    def step(self) -> None:
        for arm in self.arms:
            if arm.running:
                arm.step()
        self.running = any(arm.running for arm in self.arms)


# ----------------------------------------------------------------------------------- presets
def scenarios_directory(directory: str | os.PathLike | None = None) -> Path:
    """Where the shipped scenario files are: the argument, $LOYALTY_SIM_SCENARIOS, or the
    shipped scenarios (the repository's scenarios/ folder, packaged with sim)."""
    if directory:
        return Path(directory)
    if os.environ.get(SCENARIOS_ENV):
        return Path(os.environ[SCENARIOS_ENV])
    from sim.data import SCENARIOS  # the shipped files, in an installed package too

    return SCENARIOS


_PRESET_CACHE: dict[tuple, tuple[dict[str, Preset], tuple[str, ...]]] = {}


def load_presets(directory: str | os.PathLike | None = None) -> dict[str, Preset]:
    """Every arm of every scenario file, labelled 'Scenario: arm label' in plain words, after
    the model's defaults."""
    return _presets_and_problems(directory)[0]


def preset_problems(directory: str | os.PathLike | None = None) -> tuple[str, ...]:
    """One line per scenario file (or arm) the presets had to leave out, and why."""
    return _presets_and_problems(directory)[1]


def default_arms(presets: dict[str, Preset]) -> tuple[str, ...]:
    """The compare page's opening arms: the first scenario's arms other than its baseline (up to
    three: for the shipped files coaching, the HR programme and both), else any two."""
    arms = [p for label, p in presets.items() if label != MODEL_DEFAULTS]
    if not arms:
        return (MODEL_DEFAULTS, MODEL_DEFAULTS)
    first = [p for p in arms if p.scenario == arms[0].scenario]
    policies = [p.label for p in first if not p.baseline]
    if len(policies) >= 2:
        return tuple(policies[:3])
    if len(first) >= 2:
        return tuple(p.label for p in first[:3])
    return (MODEL_DEFAULTS, arms[0].label)


def _presets_and_problems(directory) -> tuple[dict[str, Preset], tuple[str, ...]]:
    folder = scenarios_directory(directory)
    files = sorted(folder.glob("*.yaml"))
    key = (str(folder), tuple((str(f), f.stat().st_mtime_ns) for f in files))
    if key not in _PRESET_CACHE:
        presets = {MODEL_DEFAULTS: Preset(MODEL_DEFAULTS)}
        problems: list[str] = []
        # The scenario files are read one way, by sim.studies.scenario; a file it rejects is left
        # out of the list with its one-line reason rather than stopping the workshop.
        for path, scenario in shipped_scenarios(folder):
            if isinstance(scenario, str):
                problems.append(scenario)
                continue
            if scenario.chain is not None:
                # The view's levers and map build a generic chain; offering these arms would
                # show them on stores that are not the chain's.
                problems.append(f"{path}: runs on the chain file {scenario.chain}, which the "
                                "browser view does not load; run it with `loyalty-sim run`")
                continue
            story = scenario.story
            for arm_name, arm in scenario.arms.items():
                label = f"{humanize(scenario.name)}: {scenario.arm_label(arm_name)}"
                presets[label] = Preset(
                    label=label,
                    description=(arm.description or scenario.description).strip(),
                    parameters=scenario.arm_parameters(arm_name),
                    events=tuple(scenario.arm_events(arm_name)),
                    horizon_weeks=scenario.horizon_weeks,
                    seed=scenario.seed,
                    arm_label=scenario.arm_label(arm_name),
                    scenario=scenario.name,
                    baseline=arm_name == scenario.baseline_arm,
                    question=scenario.question.strip(),
                    watch=story.watch.strip() if story else Preset.watch,
                    try_next=story.try_next.strip() if story else Preset.try_next)
        _PRESET_CACHE.clear()
        _PRESET_CACHE[key] = (presets, tuple(problems))
    return _PRESET_CACHE[key]


# ----------------------------------------------------------------------------------- controls
def model_params(preset: Preset) -> dict[str, Any]:
    """SolaraViz `model_params` for a preset: the sidebar's controls start at the preset's values
    and everything else the preset sets is passed through unchanged on every Reset."""
    settings = preset.settings()
    params: dict[str, Any] = {}
    for control in CONTROLS:
        value = settings[control.name]
        entry: dict[str, Any] = {"type": control.kind, "value": value, "label": control.label}
        if control.kind in ("SliderInt", "SliderFloat"):
            # A preset outside the usual range widens the slider rather than being clipped.
            low, high = control.low, control.high
            assert low is not None and high is not None
            entry.update(min=min(low, value), max=max(high, value), step=control.step)
        elif control.kind == "Select":
            entry["values"] = list(control.values)
        if control.name == "crisis":
            entry["label"] = (f"Crisis from week {settings['crisis_week']} for "
                              f"{settings['crisis_weeks']} weeks")
        if control.name == "layoff_share":
            week = settings["layoff_week"]
            week = week if week is not None else settings["crisis_week"] + LAYOFF_DELAY_WEEKS
            entry["label"] = f"Layoffs at week {week} (share of staff; 0 = none)"
        params[control.name] = entry
    for name, value in settings.items():
        if name not in params:
            params[name] = value
    return params


def parameters_of(model: LoyaltyModel) -> dict[str, Any]:
    """The lever values a model runs with, for the status line."""
    return {name: getattr(model.params, name) for name in PARAMETER_CONTROLS}


def changed_parameters(preset: Preset) -> dict[str, Any]:
    """What a preset sets that differs from the model's defaults."""
    defaults = dataclasses.asdict(Parameters())
    return {k: v for k, v in preset.parameters.items() if defaults.get(k) != v}
