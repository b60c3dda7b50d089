"""The swept parameters of a sweep spec: how a factor is declared (levels, a range or a
distribution), checked against its parameter's allowed values, and turned into values."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.model.checks import check_value, describe_allowed
from sim.model.parameters import parameter_fields
from sim.studies import specfile

DISTRIBUTIONS = ("uniform", "loguniform", "normal", "lognormal", "triangular")
# Every spec mapping: unknown keys, values of another type and inf/nan are errors.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
_FIELDS = {f.name: f for f in parameter_fields()}
# Keys each way of declaring a factor uses (besides `arms`).
_DIST_KEYS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "lognormal": ("median", "sigma", "low", "high"),
    "triangular": ("low", "mode", "high"),
}
_DIST_REQUIRED = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "triangular": ("low", "mode", "high"),
}
_VALUE_KEYS = ("levels", "low", "high", "log", "points", "distribution", "mean", "sd",
               "median", "sigma", "mode")


class Factor(BaseModel):
    """One swept parameter: `levels`, a range (`low`, `high`, optional `log` and `points`)
    or a `distribution` with its own keys."""

    model_config = STRICT
    levels: list[int | float | str] | None = Field(
        default=None, min_length=1, description="The values to try (numbers or, for a choice "
        "parameter, names).", json_schema_extra={"allowed": "a list of values"})
    low: float | None = Field(default=None, description="Lowest value of a range (or of a "
                              "uniform, loguniform or triangular distribution, or where a "
                              "normal or lognormal one is cut off).")
    high: float | None = Field(default=None, description="Highest value (as `low`).")
    log: bool = Field(default=False, description="Spread a range evenly on a log scale "
                      "(low must be > 0).")
    points: int | None = Field(default=None, ge=2, le=10_000, description="Grid design only: "
                               "number of evenly spread values of a range, ends included.")
    distribution: Literal[DISTRIBUTIONS] | None = Field(  # type: ignore[valid-type]
        default=None, description="Draw values from a distribution (designs lhs, sobol, "
        "morris). normal(mean, sd) and lognormal(median, sigma) are cut off at low/high, "
        "which default to the parameter's own bounds.")
    mean: float | None = Field(default=None, description="Mean of a normal distribution.")
    sd: float | None = Field(default=None, gt=0, description="Standard deviation of a normal "
                             "distribution.")
    median: float | None = Field(default=None, gt=0, description="Median of a lognormal "
                                 "distribution.")
    sigma: float | None = Field(default=None, gt=0, description="Log-scale standard "
                                "deviation of a lognormal distribution.")
    mode: float | None = Field(default=None, description="Most likely value of a triangular "
                               "distribution.")
    arms: list[str] | None = Field(default=None, min_length=1, description="Apply the factor "
                                   "only in these arms of `compare` (default: every arm).")

    @model_validator(mode="after")
    def _one_way(self) -> Factor:
        set_keys = [k for k in _VALUE_KEYS if k in self.model_fields_set]
        ways = "levels: [...], a range (low, high; optional log, points) or a distribution"
        if self.levels is not None:
            others = [k for k in set_keys if k != "levels"]
            if others:
                raise specfile.SpecValueError(
                    "is not used with levels", key=(others[0],),
                    allowed="levels alone (or a range or distribution instead of levels)")
            return self
        if self.distribution is None:
            if self.low is None or self.high is None:
                missing = "low" if self.low is None else "high"
                if not set_keys:
                    raise specfile.SpecValueError("says neither levels, a range nor a "
                                                  "distribution", allowed=ways)
                raise specfile.SpecValueError(
                    f"a range needs both 'low' and 'high' ('{missing}' is missing)",
                    allowed=ways)
            extra = [k for k in set_keys if k not in ("low", "high", "log", "points")]
            if extra:
                raise specfile.SpecValueError(
                    f"is not used by a range; give 'distribution' to use '{extra[0]}'",
                    key=(extra[0],), allowed="low, high, log, points")
            self._check_order("low", "high")
            if self.log and self.low <= 0:
                raise specfile.SpecValueError(
                    f"{self.low:g} is not allowed with log: true", key=("low",),
                    allowed="a number > 0 for a log range")
            return self
        dist = self.distribution
        for k in set_keys:
            if k != "distribution" and k not in _DIST_KEYS[dist]:
                raise specfile.SpecValueError(
                    f"is not used by a {dist} distribution", key=(k,),
                    allowed=", ".join(_DIST_KEYS[dist]))
        for k in _DIST_REQUIRED[dist]:
            if getattr(self, k) is None:
                raise specfile.SpecValueError(
                    f"a {dist} distribution needs '{k}'",
                    allowed=", ".join(_DIST_KEYS[dist]))
        if self.low is not None and self.high is not None:
            self._check_order("low", "high")
        if dist == "loguniform" and self.low <= 0:
            raise specfile.SpecValueError(f"{self.low:g} is not allowed for a loguniform "
                                          "distribution", key=("low",), allowed="a number > 0")
        if dist == "triangular" and not self.low <= self.mode <= self.high:
            raise specfile.SpecValueError(
                f"{self.mode:g} is outside low..high", key=("mode",),
                allowed=f"a number from {self.low:g} to {self.high:g}")
        return self

    def _check_order(self, low: str, high: str) -> None:
        if not getattr(self, low) < getattr(self, high):
            raise specfile.SpecValueError(
                f"{getattr(self, high):g} is not above low ({getattr(self, low):g})",
                key=(high,), allowed=f"a number > {getattr(self, low):g}")

    @property
    def kind(self) -> str:
        """'levels', 'range' or 'distribution' (uniform and loguniform count as ranges)."""
        if self.levels is not None:
            return "levels"
        if self.distribution in (None, "uniform", "loguniform"):
            return "range"
        return "distribution"

    @property
    def is_log(self) -> bool:
        return self.log or self.distribution == "loguniform"


# ---------------------------------------------------------------------------- values
def check_factor_values(name: str, factor: Factor) -> None:
    """Every value a factor can take must be allowed for its parameter."""
    key = ("factors", name)
    meta = _FIELDS[name].metadata
    allowed = describe_allowed(name) + (f" ({meta['unit']})" if not meta["choices"] else "")

    def check(value: Any, *where: str | int) -> None:
        try:
            check_value(name, value)
        except ValueError:
            raise specfile.SpecValueError(
                f"{specfile.show_value(value)} is not allowed for '{name}'",
                key=(*key, *where), allowed=allowed, choices=meta["choices"] or (),
                value=value) from None

    if meta["choices"] and factor.kind != "levels":
        raise specfile.SpecValueError(
            f"'{name}' is a choice, not a number", key=key,
            allowed=f"levels: a list of {allowed}")
    if factor.kind == "levels":
        for i, value in enumerate(factor.levels):
            check(value, "levels", i)
        if len(set(map(repr, factor.levels))) < len(factor.levels):
            raise specfile.SpecValueError("lists a value twice", key=(*key, "levels"),
                                          allowed="each level once")
        return
    for k in ("low", "high", "mode"):
        if getattr(factor, k) is not None:
            check(getattr(factor, k), k)
    if factor.distribution in ("normal", "lognormal"):
        for k in ("low", "high"):
            bound = meta[k]
            if getattr(factor, k) is None and bound is None and not (
                    k == "low" and factor.distribution == "lognormal"):
                raise specfile.SpecValueError(
                    f"a {factor.distribution} distribution for '{name}' needs '{k}': the "
                    f"parameter has no {'lower' if k == 'low' else 'upper'} bound to cut it "
                    "off at", key=key, allowed=f"{k}: a value that is {allowed}")
        lo, hi = _truncation(name, factor)
        centre = factor.mean if factor.distribution == "normal" else factor.median
        if not lo < centre < hi:
            where = "mean" if factor.distribution == "normal" else "median"
            raise specfile.SpecValueError(
                f"{centre:g} is outside the cut-off range {lo:g} to {hi:g}", key=(*key, where),
                allowed=f"a number between {lo:g} and {hi:g}")


def _truncation(name: str, factor: Factor) -> tuple[float, float]:
    meta = _FIELDS[name].metadata
    lo = factor.low if factor.low is not None else meta["low"]
    hi = factor.high if factor.high is not None else meta["high"]
    if factor.distribution == "lognormal":
        lo = 0.0 if lo is None else lo
    return float(lo), float(hi)


def _is_int(name: str) -> bool:
    return _FIELDS[name].type in ("int", int)


def _typed(name: str, value: Any) -> Any:
    """A value in its parameter's type (whole numbers rounded for integer parameters)."""
    if _FIELDS[name].metadata["choices"]:
        return value
    if _is_int(name):
        return int(round(float(value)))
    return float(value)


def grid_levels(name: str, factor: Factor) -> list[Any]:
    """The values a grid design tries for a factor, each once, in its parameter's type."""
    if factor.kind == "levels":
        return [_typed(name, v) for v in factor.levels]
    if factor.is_log:
        raw = np.geomspace(factor.low, factor.high, factor.points)
    else:
        raw = np.linspace(factor.low, factor.high, factor.points)
    values = [_typed(name, v) for v in raw]
    return list(dict.fromkeys(values))  # rounding integer parameters may repeat a value


def transform(name: str, factor: Factor, u: np.ndarray) -> list[Any]:
    """Map draws in [0, 1] to the factor's values (inverse CDF)."""
    from scipy import stats

    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    if factor.kind == "levels":
        k = len(factor.levels)
        idx = np.minimum((u * k).astype(int), k - 1)
        return [_typed(name, factor.levels[i]) for i in idx]
    if factor.kind == "range":
        if factor.is_log:
            raw = np.exp(np.log(factor.low) + u * (np.log(factor.high) - np.log(factor.low)))
        else:
            raw = factor.low + u * (factor.high - factor.low)
    elif factor.distribution == "triangular":
        width = factor.high - factor.low
        raw = stats.triang(c=(factor.mode - factor.low) / width, loc=factor.low,
                           scale=width).ppf(u)
    else:
        dist = (stats.norm(factor.mean, factor.sd) if factor.distribution == "normal"
                else stats.lognorm(s=factor.sigma, scale=factor.median))
        lo, hi = _truncation(name, factor)
        f_lo, f_hi = dist.cdf(lo), dist.cdf(hi)
        raw = np.clip(dist.ppf(f_lo + u * (f_hi - f_lo)), lo, hi)
    return [_typed(name, v) for v in raw]
