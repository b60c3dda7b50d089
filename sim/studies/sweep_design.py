"""The design of a sweep: how its factors become design points (full grid, Latin hypercube,
Sobol or Morris via SALib), deterministically for a given seed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from sim.studies.scenario import MAX_SEED
from sim.studies.sweep_factors import STRICT, grid_levels, transform

if TYPE_CHECKING:
    from sim.studies.sweep_spec import SweepSpec

METHODS = ("grid", "lhs", "sobol", "morris")
MAX_SAMPLES = 100_000


class Design(BaseModel):
    """How the factors become design points."""

    model_config = STRICT
    method: Literal[METHODS] = Field(  # type: ignore[valid-type]
        default="grid", description="grid: every combination of the factors' levels; lhs: "
        "Latin hypercube of `samples` points; sobol: Saltelli/Sobol sample for Sobol indices "
        "(`samples` = N, a power of two; N x (2k+2) points for k factors, N x (k+2) without "
        "second order); morris: `samples` trajectories of k+1 points on a grid of `levels`.")
    samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES, description="Size of "
                                "the sample (see method).")
    levels: int = Field(default=4, ge=2, le=100, description="Morris only: grid levels.")
    second_order: bool = Field(default=False, description="Sobol only: also estimate "
                               "second-order indices (more points).")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="Seed of the "
                             "sampler (default: the spec's seed).")


@dataclass(frozen=True)
class DesignPoints:
    """Factor values at each design point; `unit` is the sampler's draw in [0, 1]^k (None
    for a grid)."""

    method: str
    factors: tuple[str, ...]
    values: list[dict[str, Any]]
    unit: np.ndarray | None


def make_design(spec: SweepSpec) -> DesignPoints:
    """Design points of a spec (deterministic: the samplers are seeded)."""
    names = tuple(spec.factors)
    d = spec.design
    if d.method == "grid":
        grids = [grid_levels(n, spec.factors[n]) for n in names]
        values = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]
        return DesignPoints("grid", names, values, None)
    seed = spec.seed if d.seed is None else d.seed
    problem = unit_problem(names)
    if d.method == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, d.samples, seed=seed)
    elif d.method == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(problem, d.samples, calc_second_order=d.second_order,
                            scramble=True, seed=seed)
    else:
        from SALib.sample import morris

        unit = morris.sample(problem, d.samples, num_levels=d.levels, seed=seed)
    columns = {n: transform(n, spec.factors[n], unit[:, j]) for j, n in enumerate(names)}
    values = [{n: columns[n][i] for n in names} for i in range(len(unit))]
    return DesignPoints(d.method, names, values, np.asarray(unit, dtype=float))


def unit_problem(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """SALib's problem over the unit cube: values are mapped to each factor afterwards, so
    ranges, levels and distributions are all sampled the same way."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
