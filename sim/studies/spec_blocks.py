"""The blocks scenario files and sweep specs are made of, as pydantic models: the parameter
set (built from the one declaration in `sim.model.parameters`), timed events (built from
`sim.model.events`), arms, the workshop story and the questions a report answers."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from sim.model.checks import chain_size_problem, describe_allowed
from sim.model.events import FIXED_AT_SETUP, Crisis, Event, Layoff, declared_fields, parse_event
from sim.model.parameters import Parameters, parameter_fields
from sim.model.sources import PROVENANCE, UNCERTAIN
from sim.studies import specfile
from sim.studies.labels import QUESTION_METRICS

MAX_HORIZON_WEEKS = 1040  # 20 years

STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


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
        "ModelParameters", __config__=STRICT,
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
    return create_model(f"{event_type.__name__}Spec", __config__=STRICT,
                        __doc__=(event_type.__doc__ or "").strip(), **fields)


CrisisSpec = _event_body_model(Crisis)
LayoffSpec = _event_body_model(Layoff)
_WEEK = next(f for f in dataclasses.fields(Crisis) if f.name == "week")


EVENT_KINDS = ("set", "crisis", "layoff")


class EventSpec(BaseModel):
    """A timed event: `week` and exactly one of `set`, `crisis`, `layoff`."""

    model_config = ConfigDict(**STRICT, json_schema_extra={
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

    model_config = STRICT
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

    model_config = STRICT
    watch: str = Field(min_length=1, description="What the room should watch as it runs, in "
                       "a sentence or two.")
    try_next: str = Field(min_length=1, description="What to try next: a lever to move or an "
                          "arm to compare, and what it shows.")


QUESTION_KINDS = ("arms", "contrast", "combined")


class Question(BaseModel):
    """A sub-question of the scenario's question, and the comparison that answers it."""

    model_config = STRICT
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
