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
    field_validator,
    model_validator,
)

from sim.data import SCENARIOS
from sim.model.parameters import Parameters
from sim.studies import specfile
from sim.studies.runner import Job
from sim.studies.spec_blocks import (
    MAX_HORIZON_WEEKS,
    STRICT,
    Arm,
    EventSpec,
    ParameterSet,
    Question,
    Story,
    check_chain_size,
    given,
)

MAX_REPLICATIONS = 1000
MAX_SEED = 2**32 - 1
MAX_ARMS = 20
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SHIPPED_DIR = SCENARIOS  # the repository's scenarios/, shipped inside the package

class Study(BaseModel):
    """What scenario files and sweep specs share: names, horizon, replications, seeds and the
    parameters and events common to every run."""

    model_config = ConfigDict(**STRICT)
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
        "calibrate`) that `uncertainty: posterior` draws from, relative to this file.",
        json_schema_extra={"allowed": "the path of a calibration folder"})
    chain: str | None = Field(
        default=None, description="A chain file (chain.yaml written by `loyalty-sim calibrate "
        "--stores`), relative to this file: runs start from that chain's own stores, with its "
        "fitted parameters under the file's.",
        json_schema_extra={"allowed": "the path of a chain file"})

    @field_validator("calibration")
    @classmethod
    def _calibration_folder(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Resolve the folder against the spec file's folder, as `chain:` is."""
        from sim.studies.chain_file import resolve

        return None if value is None else str(resolve(value, (info.context or {}).get("base")))

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
            from sim.studies.uncertainty import draw_worlds

            return draw_worlds(self.seeds())
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

    model_config = ConfigDict(**STRICT, title="loyalty-sim scenario")
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
