"""Sweep specs: which parameters vary, how they are sampled, what each run measures.

A sweep spec (YAML in `experiments/`, or the same mapping in Python) names the chain
(`parameters`, `events`), the swept parameters (`factors`, `sim.studies.sweep_factors`), a
`design` that turns the factors into design points (full grid, Latin hypercube, Sobol or Morris
via SALib; `sim.studies.sweep_design`), `replications` per design point, the horizon, the
`outcomes` each run reports and optionally weekly `series`. With `compare`, every design point
runs each arm (e.g. coaching and HR programmes); named `contrasts` then take arm-minus-arm
differences pair by pair (same seed). The schema of the file is `SweepSpec` below.

Replication r of every design point and every arm uses the seed `seed + r` (common random
numbers), so points and arms differ only by their parameters. Files are read and checked by
`sim.studies.specfile`: any problem is one line, FILE:LINE: key ...: problem; allowed ...
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.model.parameters import PARAMETER_NAMES, Parameters
from sim.studies import specfile
from sim.studies.experiments import OUTCOMES, SERIES_NAMES
from sim.studies.provenance import source_digest
from sim.studies.runner import Job
from sim.studies.scenario import Study
from sim.studies.spec_blocks import Arm, check_chain_size, given
from sim.studies.sweep_design import Design, DesignPoints, make_design
from sim.studies.sweep_factors import STRICT, Factor, check_factor_values, grid_levels

DEFAULT_OUTCOMES = ("revenue", "profit", "customer_churn_pct", "employee_turnover_pct",
                    "employee_engagement", "customer_engagement", "policy_cost")
SINGLE_ARM = "sweep"  # the arm label of a sweep without `compare`
MAX_RUNS = 1_000_000
_SIZES = {"n_stores", "employees_per_store", "customers_per_store"}
_PARAMETERS_ALLOWED = ("the model's parameters (listed with units in docs/ODD.md and by "
                       "`loyalty-sim schema`)")


def _listed(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


class Contrast(BaseModel):
    """`arm` minus `minus`, replication by replication (same seeds), at each design point."""

    model_config = STRICT
    arm: str = Field(description="The arm whose outcomes are taken.")
    minus: str = Field(description="The arm subtracted.")


class SweepSpec(Study):
    """A parameter sweep: factors, a design, replications, a horizon and outcomes."""

    model_config = ConfigDict(**STRICT, title="loyalty-sim sweep spec")
    factors: dict[str, Factor] = Field(default_factory=dict, description="The swept "
                                       "parameters, by name.", json_schema_extra={
                                           "allowed": "a mapping of parameter name: {levels "
                                           "| low, high | distribution ...}"})
    design: Design = Field(default_factory=Design, description="How factors become points.")
    compare: dict[str, Arm] | None = Field(
        default=None, min_length=1, description="Arms run at every design point (each with "
        "its own parameters and events), e.g. coaching and hr.", json_schema_extra={
            "allowed": "a mapping of arm name: {description, parameters, events}"})
    contrasts: dict[str, Contrast] = Field(default_factory=dict, description="Named "
                                           "differences between two arms.")
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1,
                                description="Scalar summaries each run reports (see "
                                "sim.studies.experiments.OUTCOMES).")
    series: list[str] = Field(default_factory=list, description="Weekly series to keep for "
                              "each run (columns of the model frame).")

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        arms = list(self.compare or {})
        for name in arms:
            if not name or len(name) > 64 or any(c in name for c in "/\\\0\n"):
                raise specfile.SpecValueError(
                    "is not a usable arm name", key=("compare", name),
                    allowed="a name of 1 to 64 characters without slashes")
        self._check_factors(arms)
        self._check_design()
        for name, contrast in self.contrasts.items():
            for key in ("arm", "minus"):
                value = getattr(contrast, key)
                if value not in arms:
                    raise specfile.SpecValueError(
                        f"no arm is called {specfile.show_value(value)}",
                        key=("contrasts", name, key), allowed=(
                            "one of " + _listed(arms) if arms else "arms named in 'compare'"),
                        choices=arms, value=value)
            if contrast.arm == contrast.minus:
                raise specfile.SpecValueError("takes an arm from itself",
                                              key=("contrasts", name, "minus"),
                                              allowed="another arm")
        self._check_outcomes()
        self._check_events()
        self._check_sizes()
        for arm in self.arm_names:
            try:
                Parameters(**self.arm_parameters(arm))
            except ValueError as err:
                key = ("compare", arm, "parameters") if self.compare else ("parameters",)
                raise specfile.SpecValueError(str(err), key=key,
                                              allowed="values that fit together") from None
        if self.run_count > MAX_RUNS:
            raise specfile.SpecValueError(
                f"the sweep has {self.run_count:,} runs", key=("design",),
                allowed=f"at most {MAX_RUNS:,} runs (design points x arms x replications)")
        return self

    # ------------------------------------------------------------------ checks
    def _check_sizes(self) -> None:
        """The largest chain any run can have stays within the model's limits."""
        for arm in self.arm_names:
            params = self.arm_parameters(arm)
            key: tuple[str | int, ...] = (
                ("compare", arm, "parameters") if self.compare and given(
                    self.compare[arm].parameters).keys() & _SIZES else ("parameters",))
            for name in self.factors_of(arm):
                if name in _SIZES:
                    factor = self.factors[name]
                    params[name] = (max(factor.levels) if factor.kind == "levels"
                                    else factor.high)
                    key = ("factors", name)
            check_chain_size(params, key)

    def _check_factors(self, arms: list[str]) -> None:
        base = given(self.parameters)
        for name, factor in self.factors.items():
            key = ("factors", name)
            if name not in PARAMETER_NAMES:
                raise specfile.SpecValueError("unknown parameter", key=key,
                                              allowed=_PARAMETERS_ALLOWED,
                                              choices=PARAMETER_NAMES, value=name)
            if name in base:
                raise specfile.SpecValueError(
                    "is also set in 'parameters'", key=key,
                    allowed="each parameter either fixed in 'parameters' or swept in "
                    "'factors'")
            check_factor_values(name, factor)
            applies = factor.arms if factor.arms is not None else arms
            if factor.arms is not None:
                if not arms:
                    raise specfile.SpecValueError(
                        "names arms but the spec has no 'compare'", key=(*key, "arms"),
                        allowed="'arms' only with 'compare'")
                for i, arm in enumerate(factor.arms):
                    if arm not in arms:
                        raise specfile.SpecValueError(
                            f"no arm is called {specfile.show_value(arm)}",
                            key=(*key, "arms", i), allowed="one of " + _listed(arms),
                            choices=arms, value=arm)
            for arm in applies:
                if name in given(self.compare[arm].parameters):
                    raise specfile.SpecValueError(
                        f"is also swept in 'factors', which applies to arm '{arm}'",
                        key=("compare", arm, "parameters", name),
                        allowed=f"set it in one place (limit the factor to some arms with "
                        f"'factors.{name}.arms')")

    def _check_design(self) -> None:
        d = self.design
        method = d.method
        if method != "morris" and "levels" in d.model_fields_set:
            raise specfile.SpecValueError("is only used by the morris design",
                                          key=("design", "levels"), allowed="no 'levels' "
                                          f"with method '{method}'")
        if method != "sobol" and "second_order" in d.model_fields_set:
            raise specfile.SpecValueError("is only used by the sobol design",
                                          key=("design", "second_order"),
                                          allowed=f"no 'second_order' with method '{method}'")
        if method == "grid":
            if d.samples is not None:
                raise specfile.SpecValueError(
                    "is not used by a grid design", key=("design", "samples"),
                    allowed="levels or points in each factor (or method lhs, sobol, morris)")
            for name, factor in self.factors.items():
                if factor.kind == "distribution" or (
                        factor.kind == "range" and factor.points is None):
                    raise specfile.SpecValueError(
                        "has no grid levels", key=("factors", name),
                        allowed="levels: [...], or low and high with points: N (or a design "
                        "method lhs, sobol or morris to draw values)")
            return
        for name, factor in self.factors.items():
            if factor.points is not None:
                raise specfile.SpecValueError(
                    f"is only used by the grid design, not '{method}'",
                    key=("factors", name, "points"), allowed="low and high alone")
        if not self.factors:
            raise specfile.SpecValueError(
                f"the {method} design needs at least one factor", key=("factors",),
                allowed="a mapping of parameter name: {low, high | levels | distribution}")
        if d.samples is None:
            raise specfile.SpecValueError(
                f"the {method} design needs 'samples'", key=("design",),
                allowed={"lhs": "samples: number of points",
                         "sobol": "samples: N, a power of two (e.g. 64)",
                         "morris": "samples: number of trajectories (e.g. 10)"}[method])
        if method == "sobol" and d.samples & (d.samples - 1):
            raise specfile.SpecValueError(
                f"{d.samples} is not a power of two", key=("design", "samples"),
                allowed="a power of two (e.g. 32, 64, 128, 256): Sobol sequences are "
                "balanced only then")
        if method == "sobol" and len(self.factors) < 2:
            raise specfile.SpecValueError(
                "a sobol design needs at least two factors", key=("factors",),
                allowed="two or more factors (with one, sweep it with a grid)")
        if method == "morris" and d.samples < 2:
            raise specfile.SpecValueError(
                f"{d.samples} trajectory is too few", key=("design", "samples"),
                allowed="a whole number >= 2 (trajectories)")

    def _check_outcomes(self) -> None:
        seen: set[str] = set()
        for i, name in enumerate(self.outcomes):
            outcome = OUTCOMES.get(name)
            if outcome is None:
                raise specfile.SpecValueError(
                    f"{specfile.show_value(name)} is not an outcome", key=("outcomes", i),
                    allowed="one of " + ", ".join(OUTCOMES), choices=list(OUTCOMES),
                    value=name)
            if name in seen:
                raise specfile.SpecValueError("is listed twice", key=("outcomes", i),
                                              allowed="each outcome once")
            seen.add(name)
            if self.horizon_weeks < outcome.min_weeks:
                raise specfile.SpecValueError(
                    f"needs a horizon of at least {outcome.min_weeks} weeks",
                    key=("outcomes", i), allowed=f"horizon_weeks >= {outcome.min_weeks} "
                    f"({outcome.doc})")
            if outcome.own_arms and (self.compare or self.events):
                raise specfile.SpecValueError(
                    "runs its own arms and ignores 'compare' and 'events'",
                    key=("outcomes", i), allowed="this outcome in a spec without 'compare' "
                    "and 'events'")
        for i, name in enumerate(self.series):
            if name not in SERIES_NAMES:
                raise specfile.SpecValueError(
                    f"{specfile.show_value(name)} is not a weekly series",
                    key=("series", i), allowed="columns of the model frame, e.g. revenue, "
                    "profit, customer_engagement (see sim.model.MODEL_REPORTERS)",
                    choices=SERIES_NAMES, value=name)

    def _check_events(self) -> None:
        self._check_event_weeks("compare", self.compare or {})

    # ------------------------------------------------------------------ the plan
    @property
    def arm_names(self) -> list[str]:
        return list(self.compare) if self.compare else [SINGLE_ARM]

    def arm_parameters(self, arm: str) -> dict[str, Any]:
        """Fixed parameters of an arm: the spec's with the arm's on top."""
        own = given(self.compare[arm].parameters) if self.compare else {}
        return {**given(self.parameters), **own}

    def arm_events(self, arm: str) -> list[dict[str, Any]]:
        own = self.compare[arm].events if self.compare else []
        return [e.as_dict() for e in [*self.events, *own]]

    def factors_of(self, arm: str) -> list[str]:
        """The factors applied in an arm."""
        return [name for name, f in self.factors.items()
                if f.arms is None or arm in f.arms]

    @property
    def point_count(self) -> int:
        d = self.design
        k = len(self.factors)
        if d.method == "grid":
            return math.prod(len(grid_levels(n, f)) for n, f in self.factors.items())
        if d.method == "lhs":
            return d.samples
        if d.method == "sobol":
            return d.samples * (2 * k + 2 if d.second_order else k + 2)
        return d.samples * (k + 1)

    @property
    def run_count(self) -> int:
        return self.point_count * len(self.arm_names) * self.replications

    def seeds(self) -> list[int]:
        return [self.seed + r for r in range(self.replications)]

    def design_points(self) -> DesignPoints:
        """The design: one row of factor values per point (and, for sampled designs, the
        point in the unit cube the sampler drew)."""
        return make_design(self)

    def plan(self) -> list[PlannedRun]:
        """Every run, point by point, arm by arm, replication by replication."""
        design = self.design_points()
        drawn = self.replication_parameters()
        base, chain = self.chain_parameters(), self.chain_file()
        profile = chain.profile if chain is not None else None
        runs = []
        for point, values in enumerate(design.values):
            for arm in self.arm_names:
                fixed = self.arm_parameters(arm)
                applied = {n: values[n] for n in self.factors_of(arm)}
                events = tuple(self.arm_events(arm))
                for r, seed in enumerate(self.seeds()):
                    params = {**base, **drawn[r], **fixed, **applied}
                    runs.append(PlannedRun(len(runs), point, arm, r, Job(
                        arm, params, events, seed, self.horizon_weeks, profile)))
        return runs

    def as_file_data(self) -> dict[str, Any]:
        """The spec as plain data in file form (only what was set)."""
        return self.model_dump(mode="json", exclude_unset=True)

    def replace(self, **changes: Any) -> SweepSpec:
        """A copy with some keys changed; mappings (parameters, design, factors, ...) are
        merged one level deep. Raises specfile.SpecError (one line) if the result is bad."""
        data = self.as_file_data()
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return spec_from_data(data, source="replace(" + ", ".join(changes) + ")")

    def fingerprint(self, model: str | None = None) -> str:
        """A hash of everything that decides the results: the runs (parameters, events,
        seeds, horizon), the outcomes and series kept, the model's default parameters and its
        code (`model`: the digest of the `sim` source, default the code on disk now)."""
        content = {
            "model": source_digest() if model is None else model,
            "runs": [[r.point, r.arm, r.replication, r.job.params, list(r.job.events),
                      r.job.seed, r.job.weeks] for r in self.plan()],
            "outcomes": self.outcomes, "series": self.series,
            "defaults": Parameters().as_dict(),
            **({"chain": repr(self.chain_file().profile)} if self.chain else {}),
        }
        text = json.dumps(content, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: its id, design point, arm, replication and simulation job."""

    run: int
    point: int
    arm: str
    replication: int
    job: Job


# ---------------------------------------------------------------------------- loading
def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file; raise specfile.SpecError (one line) if bad."""
    doc = specfile.load_yaml(path)
    return specfile.validate(SweepSpec, doc, context={"base": Path(path).parent})


def spec_from_data(data: dict[str, Any], source: str = "<spec>") -> SweepSpec:
    """Validate a spec given as a Python mapping (errors name `source` instead of a file)."""
    doc = specfile.SpecDocument(Path(source), data, None)
    try:
        return specfile.validate(SweepSpec, doc)
    except specfile.SpecError as err:
        # No file, so no line numbers: drop the ':1' that stands for "somewhere".
        raise specfile.SpecError(str(err).replace(f"{source}:1:", f"{source}:", 1)) from None


def as_spec(spec: SweepSpec | dict[str, Any] | str | Path) -> SweepSpec:
    """A SweepSpec from a spec, a mapping or a YAML file path."""
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, dict):
        return spec_from_data(spec)
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise TypeError(f"a sweep spec is a SweepSpec, a mapping or a YAML file path, not "
                    f"{type(spec).__name__}")


def json_schema() -> dict[str, Any]:
    """The JSON schema of sweep spec files."""
    return SweepSpec.model_json_schema()


__all__ = ["Contrast", "PlannedRun", "SweepSpec", "as_spec", "json_schema", "load_spec",
           "spec_from_data"]
