"""The targets file of a calibration: what to fit, to which observed statistics, and how.

A targets file (YAML) names the parameters to fit with their priors, the summary statistics of
simulated runs with each one's observed value and uncertainty, the statistics held out of the
fit (checked afterwards), how each candidate chain is simulated and the ABC-SMC settings.
Problems are reported as one line naming file, line and key (`sim.studies.specfile`).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.model.parameters import PARAMETER_NAMES, Parameters, parameter_fields
from sim.studies import specfile
from sim.studies.calibration.statistics import STATISTICS
from sim.studies.specfile import SpecValueError

_FIELDS = {f.name: f for f in parameter_fields()}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prior(Strict):
    """A prior: uniform between bounds (default: the parameter's bounds in parameters.py), or a
    normal distribution truncated to those bounds."""

    distribution: Literal["uniform", "normal"] = "uniform"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Prior:
        if self.distribution == "normal" and (self.mean is None or self.sd is None):
            raise SpecValueError("a normal prior needs its mean and sd", key=("mean",),
                                 allowed="distribution: normal with mean and sd")
        return self


class Target(Strict):
    """An observed summary statistic: its value and either a standard error or a band."""

    observed: float
    se: Annotated[float, Field(gt=0)] | None = None
    band: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _uncertainty(self) -> Target:
        if (self.se is None) == (self.band is None):
            raise SpecValueError("needs its uncertainty: exactly one of se or band",
                                 allowed="se: a number > 0, or band: [low, high]")
        if self.band is not None and not self.band[0] < self.band[1]:
            raise SpecValueError(f"band {list(self.band)} is empty", key=("band",),
                                 allowed="[low, high] with low < high")
        return self

    @property
    def scale(self) -> float:
        """The statistic's standard error; a band is read as a 95% interval."""
        if self.se is not None:
            return float(self.se)
        low, high = self.band  # type: ignore[misc]
        return (high - low) / (2 * 1.96)

    @property
    def interval(self) -> tuple[float, float]:
        """The observed 95% interval."""
        if self.band is not None:
            return float(self.band[0]), float(self.band[1])
        return self.observed - 1.96 * self.scale, self.observed + 1.96 * self.scale


class Simulation(Strict):
    """How one candidate parameter set is simulated."""

    statistics: Literal["published", "chain"] = "published"
    n_stores: Annotated[int, Field(ge=5, le=5000)] = 50
    weeks: Annotated[int, Field(ge=8, le=1040)] = 156
    window_weeks: Annotated[int, Field(ge=4, le=520)] = 52
    replications: Annotated[int, Field(ge=1, le=100)] = 1
    fixed: dict[str, Any] = Field(default_factory=dict, json_schema_extra={
        "allowed": "a mapping of model parameters to values held fixed"})
    chain: str | None = None

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, v in value.items():
            _check_parameter(name, ("fixed", name))
            try:
                Parameters().replace(**{name: v})
            except ValueError as err:
                raise SpecValueError(str(err), key=(name,)) from None
        return value

    @model_validator(mode="after")
    def _window(self) -> Simulation:
        if self.window_weeks >= self.weeks:
            raise SpecValueError(f"{self.window_weeks} is not shorter than weeks "
                                 f"({self.weeks})", key=("window_weeks",),
                                 allowed="a window shorter than the run")
        return self


class Convergence(Strict):
    """When a fit is called converged (`sim.studies.calibration.convergence`); it then stops."""

    epsilon_decrease: Annotated[float, Field(gt=0, lt=1)] = 0.05
    ess_fraction: Annotated[float, Field(gt=0, le=1)] = 0.3
    median_shift: Annotated[float, Field(gt=0, lt=1)] = 0.05


class Abc(Strict):
    """ABC-SMC settings (pyabc)."""

    population_size: Annotated[int, Field(ge=5, le=100_000)] = 100
    generations: Annotated[int, Field(ge=1, le=100)] = 8
    min_epsilon: Annotated[float, Field(ge=0)] = 0.5
    min_acceptance_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    max_minutes: Annotated[float, Field(gt=0)] | None = None
    seed: Annotated[int, Field(ge=0)] = 1
    predictive_draws: Annotated[int, Field(ge=0, le=10_000)] = 40
    # Width of pyabc's multivariate normal kernel relative to its Silverman bandwidth. At 1
    # the importance weights degenerate with the 7-13 parameters this model's fits have (21
    # chain fits: ESS 1.1-22 of 40, 90% intervals holding 73% of true values; the published
    # fit: 4.8 of 60); 2 keeps the ESS near half the population (docs/ODD.md
    # section 9), as Beaumont et al. (2009) widen theirs to twice the particles' covariance.
    kernel_scaling: Annotated[float, Field(gt=0, le=10)] = 2.0
    convergence: Convergence = Convergence()


class TargetsFile(Strict):
    """A whole targets file."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$",
                               json_schema_extra={"allowed": "letters, digits, _ . -"})]
    description: str = ""
    fit: dict[str, Prior] = Field(json_schema_extra={
        "allowed": "a mapping of model parameters to priors ({} for the parameter's bounds)"})
    targets: dict[str, Target]
    held_out: dict[str, Target] = Field(default_factory=dict)
    simulation: Simulation = Simulation()
    abc: Abc = Abc()

    @model_validator(mode="after")
    def _consistent(self) -> TargetsFile:
        if not self.fit:
            raise SpecValueError("names no parameter", key=("fit",),
                                 allowed="at least one model parameter to fit")
        if not self.targets:
            raise SpecValueError("names no statistic", key=("targets",),
                                 allowed="at least one summary statistic")
        for name, prior in self.fit.items():
            _check_parameter(name, ("fit", name))
            if name in self.simulation.fixed:
                raise SpecValueError("is both fitted and fixed", key=("fit", name),
                                     allowed="a parameter in fit or simulation.fixed, not both")
            low, high = prior_bounds(name, prior)
            if not (math.isfinite(low) and math.isfinite(high)):
                raise SpecValueError("has no upper bound in parameters.py", key=("fit", name),
                                     allowed="a prior with low and high")
            if not low < high:
                raise SpecValueError(f"bounds [{low:g}, {high:g}] are empty", key=("fit", name),
                                     allowed=f"low < high within {_declared(name)}")
        known = sorted(STATISTICS[self.simulation.statistics])
        for group in ("targets", "held_out"):
            for stat in getattr(self, group):
                if stat not in STATISTICS[self.simulation.statistics]:
                    raise SpecValueError(
                        f"unknown statistic '{stat}'", key=(group, stat),
                        allowed=f"{self.simulation.statistics} statistics: {', '.join(known)}",
                        choices=known, value=stat)
        both = sorted(set(self.targets) & set(self.held_out))
        if both:
            raise SpecValueError("is both fitted and held out", key=("held_out", both[0]),
                                 allowed="each statistic in targets or held_out, not both")
        return self

    def fingerprint(self) -> str:
        """A short hash of everything that changes the result (not the description)."""
        data = self.model_dump(mode="json", exclude={"description"})
        # A setting added later is left out while it holds the value every fit had before it
        # existed, so older folders keep their fingerprint (a default changed since counts).
        for key, before in _SETTINGS_BEFORE_THEY_EXISTED.items():
            if data["abc"][key] == before:
                del data["abc"][key]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


_SETTINGS_BEFORE_THEY_EXISTED = {"kernel_scaling": 1.0,
                                 "convergence": Convergence().model_dump(mode="json")}


def _check_parameter(name: str, key: tuple) -> None:
    if name not in PARAMETER_NAMES:
        raise SpecValueError(f"unknown parameter '{name}'", key=key,
                             allowed="a model parameter (docs/ODD.md)", choices=PARAMETER_NAMES,
                             value=name)
    f = _FIELDS[name]
    if f.metadata["choices"]:
        raise SpecValueError("is a choice, not a number", key=key,
                             allowed="a numeric model parameter")


def _declared(name: str) -> str:
    meta = _FIELDS[name].metadata
    low = -math.inf if meta["low"] is None else meta["low"]
    high = math.inf if meta["high"] is None else meta["high"]
    return f"[{low:g}, {high:g}]"


def prior_bounds(name: str, prior: Prior) -> tuple[float, float]:
    """The prior's support: the file's bounds, within the parameter's declared bounds."""
    meta = _FIELDS[name].metadata
    low = -math.inf if meta["low"] is None else float(meta["low"])
    high = math.inf if meta["high"] is None else float(meta["high"])
    if prior.low is not None:
        if prior.low < low:
            raise SpecValueError(f"low {prior.low:g} is below the parameter's bound",
                                 key=("fit", name, "low"), allowed=_declared(name))
        low = float(prior.low)
    if prior.high is not None:
        if prior.high > high:
            raise SpecValueError(f"high {prior.high:g} is above the parameter's bound",
                                 key=("fit", name, "high"), allowed=_declared(name))
        high = float(prior.high)
    return low, high


def load_targets(path: str | Path) -> TargetsFile:
    """Read and validate a targets file; raise SpecError (one line) if it cannot be used."""
    doc = specfile.load_yaml(path)
    return specfile.validate(TargetsFile, doc)


def parse_targets(data: dict, path: str | Path = "<targets>") -> TargetsFile:
    """Validate targets given as a mapping (e.g. built by the chain module)."""
    doc = specfile.SpecDocument(path=Path(path), data=data, root=None)
    return specfile.validate(TargetsFile, doc)
