"""Scenario files: the policies a strategist compares, as a validated pydantic model.

A scenario names a question, a horizon, a number of replications, a seed, base parameters and
two or more arms. Each arm overrides parameters from week 0 and/or adds timed events (a policy
change from a week, a crisis, a round of layoffs). Replication r of every arm uses the seed
`seed + r` (common random numbers), so arms differ only by their policy. See
`scenarios/coaching_vs_hr.yaml` for an annotated example.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from sim.data import SCENARIOS
from sim.model.checks import chain_size_problem, describe_allowed
from sim.model.events import FIXED_AT_SETUP, Crisis, Event, Layoff, declared_fields, parse_event
from sim.model.parameters import Parameters, parameter_fields
from sim.model.sources import PROVENANCE, UNCERTAIN
from sim.studies import specfile
from sim.studies.labels import QUESTION_METRICS
from sim.studies.runner import Job

MAX_HORIZON_WEEKS = 1040  # 20 years
MAX_REPLICATIONS = 1000
MAX_SEED = 2**32 - 1
MAX_ARMS = 20
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SHIPPED_DIR = SCENARIOS  # the repository's scenarios/, shipped inside the package

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


@cache
def parameter_model() -> type[BaseModel]:
    """A pydantic model with every model parameter as an optional key (sim.model.parameters)."""
    fields: dict[str, Any] = {}
    for f in parameter_fields():
        meta = f.metadata
        if meta["choices"]:
            annotation: Any = Literal[tuple(meta["choices"])]
        elif f.type in ("int", int):
            annotation = int
        else:
            annotation = float
        allowed = describe_allowed(f.name)
        if not meta["choices"]:
            allowed += f" ({meta['unit']})"
        fields[f.name] = (annotation, Field(
            default=f.default, ge=meta["low"], le=meta["high"],
            description=f"{meta['doc']} [{meta['unit']}]",
            json_schema_extra={
                "allowed": allowed, "unit": meta["unit"], "group": meta["group"],
                "provenance": str(PROVENANCE[f.name]),
                **({"uncertainty": UNCERTAIN[f.name].describe()} if f.name in UNCERTAIN
                   else {})},
        ))
    model = create_model(
        "ModelParameters", __config__=_STRICT,
        __doc__="Model parameters to set; any parameter left out keeps its default.", **fields)
    # Read by sim.studies.specfile for "unknown key" messages: 90 names are too many for one line.
    model.spec_allowed_keys = ("the model's parameters (listed with units in docs/ODD.md and "
                               "by `loyalty-sim schema`)")
    return model


ParameterSet = parameter_model()


def given(parameters: BaseModel | None) -> dict[str, Any]:
    """The parameters a file actually sets (not the defaults)."""
    return {} if parameters is None else parameters.model_dump(exclude_unset=True)


def check_chain_size(params: dict[str, Any], key: tuple[str | int, ...]) -> None:
    """Refuse a chain too big to simulate (the largest values `params` can take), naming
    `key`; the same limits as `Parameters` (scenarios, sweep specs and the model agree)."""
    defaults = Parameters()
    size = [params.get(n, getattr(defaults, n)) for n in
            ("n_stores", "employees_per_store", "customers_per_store")]
    problem = chain_size_problem(*size)
    if problem:
        raise specfile.SpecValueError(problem[0], key=key, allowed=problem[1])


def _event_field(f: dataclasses.Field, cap: int | None = None) -> tuple[Any, Any]:
    """A pydantic field from an event field's declaration (sim.model.events); `cap` adds the
    study's limit on weeks."""
    meta = f.metadata
    le = meta["le"] if cap is None else cap
    return (int if meta["whole"] else float, Field(
        ge=meta["ge"], gt=meta["gt"], le=le, lt=meta["lt"],
        description=f"{meta['doc']} [{meta['unit']}]" if meta["unit"] else meta["doc"],
        json_schema_extra={"allowed": meta["allowed"]}))


def _event_body_model(event_type: type) -> type[BaseModel]:
    """The pydantic model of an event's body (what follows `crisis:` or `layoff:`), generated
    from the event's dataclass so that the model and the files share one schema."""
    fields = {f.name: _event_field(f, MAX_HORIZON_WEEKS if f.metadata["unit"] == "weeks"
                                   else None)
              for f in declared_fields(event_type)}
    return create_model(f"{event_type.__name__}Spec", __config__=_STRICT,
                        __doc__=(event_type.__doc__ or "").strip(), **fields)


CrisisSpec = _event_body_model(Crisis)
LayoffSpec = _event_body_model(Layoff)
_WEEK = next(f for f in dataclasses.fields(Crisis) if f.name == "week")


EVENT_KINDS = ("set", "crisis", "layoff")


class EventSpec(BaseModel):
    """A timed event: `week` and exactly one of `set`, `crisis`, `layoff`."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={
        "oneOf": [{"required": [kind]} for kind in EVENT_KINDS]})
    week: int = _event_field(_WEEK, MAX_HORIZON_WEEKS)[1]
    set: ParameterSet | None = Field(  # type: ignore[valid-type]
        default=None, description="Parameters that take new values from `week` on.")
    crisis: CrisisSpec | None = None  # type: ignore[valid-type]
    layoff: LayoffSpec | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_kind(self) -> EventSpec:
        kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        allowed = "'week' and exactly one of 'set', 'crisis', 'layoff'"
        if len(kinds) != 1:
            problem = ("the event says neither what happens" if not kinds
                       else "the event mixes " + " and ".join(f"'{k}'" for k in kinds))
            raise specfile.SpecValueError(problem, allowed=allowed)
        changes = given(self.set)
        if self.set is not None and not changes:
            raise specfile.SpecValueError("sets no parameter", key=("set",),
                                          allowed="a mapping of parameter: value")
        for name in changes:
            if name in FIXED_AT_SETUP:
                raise specfile.SpecValueError(
                    "is fixed when the chain is set up and cannot change during a run",
                    key=("set", name), allowed="set it in the scenario's or the arm's "
                    "'parameters' instead")
        try:
            parse_event(self.as_dict())
        except ValueError as err:
            raise specfile.SpecValueError(str(err), allowed=allowed) from None
        return self

    def event(self) -> Event:
        """The event itself (sim.model.events), e.g. to `describe()` it."""
        return parse_event(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        """The dict form that `sim.model.events.parse_event` and `LoyaltyModel(events=...)` read."""
        if self.set is not None:
            return {"week": self.week, "set": given(self.set)}
        if self.crisis is not None:
            return {"week": self.week, "crisis": self.crisis.model_dump()}
        assert self.layoff is not None
        return {"week": self.week, "layoff": self.layoff.model_dump()}


class Arm(BaseModel):
    """One policy to compare."""

    model_config = _STRICT
    label: str | None = Field(default=None, max_length=80, description="A short plain-English "
                              "name shown in reports and the browser view (default: the arm's "
                              "name as words).")
    description: str = Field(default="", description="What this arm does, in plain words.")
    parameters: ParameterSet = Field(  # type: ignore[valid-type]
        default_factory=ParameterSet, description="Parameters this arm sets from week 0, on "
        "top of the scenario's parameters.")
    events: list[EventSpec] = Field(default_factory=list, description="This arm's timed "
                                    "events, after the scenario's own events.")


class Story(BaseModel):
    """The narrative a workshop follows: what to watch as it runs and what to try next (the
    question is the study's `question`). Shown in the browser view beside the charts."""

    model_config = _STRICT
    watch: str = Field(min_length=1, description="What the room should watch as it runs, in "
                       "a sentence or two.")
    try_next: str = Field(min_length=1, description="What to try next: a lever to move or an "
                          "arm to compare, and what it shows.")


QUESTION_KINDS = ("arms", "contrast", "combined")


class Question(BaseModel):
    """A sub-question of the scenario's question, and the comparison that answers it."""

    model_config = _STRICT
    text: str = Field(min_length=1, max_length=300, description="The sub-question, in one "
                      "sentence.")
    arms: list[str] | None = Field(default=None, min_length=1, description="Arms each "
                                   "compared with the baseline.")
    contrast: list[str] | None = Field(default=None, min_length=2, max_length=2, description=
                                       "Two arms: the first minus the second, paired by seed.")
    combined: str | None = Field(default=None, description="An arm doing two policies at "
                                 "once; with `parts`, answered by the interaction: combined - "
                                 "(part 1 + part 2 - baseline).")
    parts: list[str] | None = Field(default=None, min_length=2, max_length=2, description=
                                    "The two arms that each do one of `combined`'s policies.")
    metrics: list[Literal[QUESTION_METRICS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["profit"], min_length=1, description="Outcomes the answer "
        "gives: " + ", ".join(QUESTION_METRICS) + " (default: profit).")

    @model_validator(mode="after")
    def _one_kind(self) -> Question:
        kinds = [k for k in QUESTION_KINDS if getattr(self, k) is not None]
        allowed = "'text' and exactly one of 'arms', 'contrast', 'combined' (with 'parts')"
        if len(kinds) != 1:
            problem = ("the question says no comparison" if not kinds
                       else "the question mixes " + " and ".join(f"'{k}'" for k in kinds))
            raise specfile.SpecValueError(problem, allowed=allowed)
        if (self.combined is None) != (self.parts is None):
            raise specfile.SpecValueError("'combined' and 'parts' go together",
                                          allowed=allowed)
        return self

    def arm_names(self) -> list[str]:
        """Every arm the answer reads (the baseline aside)."""
        return [*(self.arms or []), *(self.contrast or []),
                *([self.combined] if self.combined else []), *(self.parts or [])]


class Study(BaseModel):
    """What scenario files and sweep specs share: names, horizon, replications, seeds and the
    parameters and events common to every run."""

    model_config = ConfigDict(**_STRICT)
    name: str = Field(pattern=NAME_PATTERN, description="Short name, used for the results "
                      "folder.", json_schema_extra={
                          "allowed": "lowercase letters, digits, '-' and '_' (at most 64)"})
    question: str = Field(min_length=1, description="The question it answers, in one "
                          "sentence.")
    description: str = Field(default="", description="Longer description: what is compared "
                             "or swept, and why.")
    horizon_weeks: int = Field(ge=1, le=MAX_HORIZON_WEEKS, description="Weeks simulated.",
                               json_schema_extra={"allowed": f"a whole number of weeks >= 1 "
                                                  f"and <= {MAX_HORIZON_WEEKS}"})
    replications: int = Field(ge=1, le=MAX_REPLICATIONS, description="Runs per arm (and design "
                              "point); replication r of every arm uses the seed `seed + r`.")
    seed: int = Field(ge=0, le=MAX_SEED, description="Seed of replication 0.")
    parameters: ParameterSet = Field(  # type: ignore[valid-type]
        default_factory=ParameterSet, description="Parameters shared by every run (e.g. the "
        "chain's size).")
    events: list[EventSpec] = Field(default_factory=list, description="Events in every run "
                                    "(e.g. a crisis).")
    story: Story | None = Field(default=None, description="Optional narrative for a workshop: "
                                "what to watch and what to try next.")
    uncertainty: Literal["none", "evidence", "posterior"] = Field(
        default="none", description="Where each replication's parameters come from: 'none' "
        "(the defaults and the file's values); 'evidence' (each replication draws the "
        "uncertain parameters - policy effect sizes and persistence, ... - from the "
        "distributions their sources give, docs/ODD.md); 'posterior' (replication r runs draw r "
        "of the calibration's posterior). Either way the draw is the same in every arm and "
        "parameters the file sets win over it.",
        json_schema_extra={"allowed": "'none', 'evidence' or 'posterior'"})
    calibration: str | None = Field(
        default=None, description="The calibration folder (written by `loyalty-sim "
        "calibrate`) that `uncertainty: posterior` draws from.",
        json_schema_extra={"allowed": "the path of a calibration folder"})
    chain: str | None = Field(
        default=None, description="A chain file (chain.yaml written by `loyalty-sim calibrate "
        "--stores`), relative to this file: runs start from that chain's own stores, with its "
        "fitted parameters under the file's.",
        json_schema_extra={"allowed": "the path of a chain file"})

    @field_validator("chain")
    @classmethod
    def _chain_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Resolve the chain file against the spec file's folder and check it reads."""
        if value is None:
            return None
        from sim.studies.chain_file import ChainFileError, load_chain_file, resolve

        path = str(resolve(value, (info.context or {}).get("base")))
        try:
            load_chain_file(path)
        except ChainFileError as err:
            raise specfile.SpecValueError(str(err), key=("chain",),
                                          allowed="the path of a chain file") from None
        return path

    def chain_file(self) -> Any:
        """The chain file's contents (`sim.studies.chain_file.ChainFile`), or None."""
        if self.chain is None:
            return None
        from sim.studies.chain_file import load_chain_file

        return load_chain_file(self.chain)

    def chain_parameters(self) -> dict[str, Any]:
        """The chain file's parameters (under the file's own), or nothing."""
        chain = self.chain_file()
        return {} if chain is None else chain.parameters

    @model_validator(mode="after")
    def _chain_size(self) -> Study:
        given_n = given(self.parameters).get("n_stores")
        chain = self.chain_file()
        if chain is not None and given_n is not None and given_n != chain.profile.n_stores:
            raise specfile.SpecValueError(
                f"is {given_n} but the chain file has {chain.profile.n_stores} stores",
                key=("parameters", "n_stores"), allowed="leave n_stores out with a chain file")
        return self

    @model_validator(mode="after")
    def _posterior(self) -> Study:
        if self.uncertainty == "posterior" and self.calibration is None:
            raise specfile.SpecValueError("is missing (required with uncertainty: posterior)",
                                          key=("calibration",),
                                          allowed="the path of a calibration folder")
        if self.calibration is not None:
            if self.uncertainty != "posterior":
                raise specfile.SpecValueError(
                    "is only read with uncertainty: posterior", key=("calibration",),
                    allowed="uncertainty: posterior with calibration: FOLDER")
            from sim.studies.calibration import CalibrationError

            try:
                _posterior_draws(self.calibration, 1, 0)
            except CalibrationError as err:
                raise specfile.SpecValueError(str(err), key=("calibration",)) from None
        return self

    def replication_parameters(self) -> list[dict[str, Any]]:
        """Per replication, the parameters drawn for it (empty under 'none'); the same for every
        arm and design point (common random numbers). 'evidence' draws from the published
        distributions (sim.studies.uncertainty), 'posterior' from the calibration folder."""
        if self.uncertainty == "evidence":
            from sim.studies.uncertainty import draw_parameters

            return [draw_parameters(seed) for seed in self.seeds()]
        if self.uncertainty != "posterior" or self.calibration is None:
            return [{} for _ in range(self.replications)]
        return [dict(d) for d in _posterior_draws(self.calibration, self.replications,
                                                  self.seed)]


    def _check_event_weeks(self, arms_key: str, arms: dict[str, Arm]) -> None:
        """Every event, shared or an arm's, falls within the horizon."""
        last = self.horizon_weeks - 1
        where = [(("events", i), e) for i, e in enumerate(self.events)]
        for name, arm in arms.items():
            where += [((arms_key, name, "events", i), e) for i, e in enumerate(arm.events)]
        for key, event in where:
            if event.week > last:
                raise specfile.SpecValueError(
                    f"week {event.week} is after the last simulated week ({last})",
                    key=(*key, "week"), allowed=f"a week from 0 to {last} (0-based; the "
                    f"horizon is {self.horizon_weeks} weeks)")


class Scenario(Study):
    """A comparison of policies (arms) over replications with common random numbers."""

    model_config = ConfigDict(**_STRICT, title="loyalty-sim scenario")
    baseline: str | None = Field(default=None, description="The arm others are compared "
                                 "with (default: the first arm).")
    arms: dict[str, Arm] = Field(min_length=2, max_length=MAX_ARMS,
                                 description="The policies compared, by name.",
                                 json_schema_extra={"allowed": "a mapping of 2 to "
                                                    f"{MAX_ARMS} arms, each name: "
                                                    "{description, parameters, events}"})

    questions: list[Question] = Field(default_factory=list, max_length=10, description=
                                      "Optional sub-questions of `question`, each with the "
                                      "comparison of arms that answers it; the report's "
                                      "summary answers each.")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = list(self.arms)
        for i, q in enumerate(self.questions):
            for arm in q.arm_names():
                if arm not in self.arms:
                    raise specfile.SpecValueError(
                        f"no arm is called {specfile.show_value(arm)}", key=("questions", i),
                        allowed="one of " + ", ".join(f"'{n}'" for n in names),
                        choices=names, value=arm)
        for name in names:
            if not name or len(name) > 64 or any(c in name for c in "/\\\0\n"):
                raise specfile.SpecValueError(
                    "is not a usable arm name", key=("arms", name),
                    allowed="a name of 1 to 64 characters without slashes")
        if self.baseline is not None and self.baseline not in self.arms:
            raise specfile.SpecValueError(
                f"no arm is called {specfile.show_value(self.baseline)}", key=("baseline",),
                allowed="one of " + ", ".join(f"'{n}'" for n in names), choices=names,
                value=self.baseline)
        self._check_event_weeks("arms", self.arms)
        for name in names:
            params = self.arm_parameters(name)
            sizes = given(self.arms[name].parameters).keys() & {
                "n_stores", "customers_per_store", "employees_per_store"}
            where = ("arms", name, "parameters") if sizes else ("parameters",)
            check_chain_size(params, where)
            try:
                Parameters(**params)
            except ValueError as err:
                raise specfile.SpecValueError(str(err), key=("arms", name, "parameters"),
                                              allowed="values that fit together") from None
        return self

    def arm_label(self, arm: str) -> str:
        """The arm's plain-English label: its `label`, or its name as words."""
        from sim.studies.labels import humanize

        return self.arms[arm].label or humanize(arm)

    @property
    def baseline_arm(self) -> str:
        return self.baseline if self.baseline is not None else next(iter(self.arms))

    def arm_parameters(self, arm: str) -> dict[str, Any]:
        """The scenario's parameters with the arm's on top (only those set in the file)."""
        return {**given(self.parameters), **given(self.arms[arm].parameters)}

    def arm_events(self, arm: str) -> list[dict[str, Any]]:
        """The scenario's events followed by the arm's, in the dict form the model reads."""
        return [e.as_dict() for e in [*self.events, *self.arms[arm].events]]

    def seeds(self) -> list[int]:
        return [self.seed + r for r in range(self.replications)]

    def jobs(self) -> list[Job]:
        """Every (arm, replication) run, arm by arm; replication r has seed `seed + r` (and,
        under `uncertainty: evidence` or `posterior`, the world drawn for that replication)."""
        drawn = self.replication_parameters()
        base, chain = self.chain_parameters(), self.chain_file()
        profile = chain.profile if chain is not None else None
        return [Job(arm, {**base, **drawn[r], **self.arm_parameters(arm)},
                    tuple(self.arm_events(arm)), seed, self.horizon_weeks, profile)
                for arm in self.arms for r, seed in enumerate(self.seeds())]

    def as_file_data(self) -> dict[str, Any]:
        """The scenario as plain data in file form (only what was set), for writing back."""
        data: dict[str, Any] = {
            "name": self.name, "question": self.question, "description": self.description,
            "horizon_weeks": self.horizon_weeks, "replications": self.replications,
            "seed": self.seed, "baseline": self.baseline_arm,
            **({"uncertainty": self.uncertainty} if self.uncertainty != "none" else {}),
            "parameters": given(self.parameters),
            "events": [e.as_dict() for e in self.events], "arms": {}}
        if self.story is not None:
            data["story"] = self.story.model_dump()
        if self.uncertainty != "none":
            data.update(uncertainty=self.uncertainty, calibration=self.calibration)
        if self.chain is not None:
            data["chain"] = self.chain
        if self.questions:
            data["questions"] = [q.model_dump(exclude_none=True) for q in self.questions]
        for name, arm in self.arms.items():
            data["arms"][name] = {**({"label": arm.label} if arm.label else {}),
                                  "description": arm.description,
                                  "parameters": given(arm.parameters),
                                  "events": [e.as_dict() for e in arm.events]}
        return data


@cache
def _posterior_draws(folder: str, n: int, seed: int) -> tuple[tuple[tuple[str, float], ...], ...]:
    """`n` draws of a calibration's posterior (cached: a spec asks for them often)."""
    from sim.studies.calibration import load_calibration

    return tuple(tuple(d.items()) for d in load_calibration(folder).draws(n, seed))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise specfile.SpecError (one line) if it is bad."""
    doc = specfile.load_yaml(path)
    return specfile.validate(Scenario, doc, context={"base": Path(path).parent})


@dataclasses.dataclass(frozen=True)
class Overrides:
    """Command-line overrides of a scenario's settings (None: keep the file's)."""

    replications: int | None = None
    seed: int | None = None
    horizon_weeks: int | None = None

    OPTIONS = {"replications": "--replications", "seed": "--seed",
               "horizon_weeks": "--horizon"}

    def apply(self, scenario: Scenario, path: str | Path) -> Scenario:
        """The scenario with the overrides; raise SpecError naming the option if one is bad."""
        changes = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if not changes:
            return scenario
        data = {**scenario.as_file_data(), **changes}
        try:
            return Scenario.model_validate(data)
        except ValidationError as err:
            doc = specfile.SpecDocument(Path(path), data, None)
            problem = specfile.describe_error(Scenario, doc, err.errors()[0])
            options = " ".join(f"{self.OPTIONS[k]} {v}" for k, v in changes.items())
            raise specfile.SpecError(specfile.one_line(
                f"{path}: with {options}: {problem.text()}")) from None


def shipped_scenarios(folder: Path = SHIPPED_DIR) -> list[tuple[Path, Scenario | str]]:
    """The scenario files in `folder`, each with its Scenario or the error that stops it."""
    found: list[tuple[Path, Scenario | str]] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            found.append((path, load_scenario(path)))
        except specfile.SpecError as err:
            found.append((path, str(err)))
    return found


def json_schema() -> dict[str, Any]:
    """The JSON schema of scenario files."""
    return Scenario.model_json_schema()
