"""Chain files: a chain's own stores and fitted parameters, for scenario and sweep runs.

`loyalty-sim calibrate --stores my_chain.csv` writes `chain.yaml` into its calibration folder
(`sim.studies.chain`): the chain-level parameters (posterior medians and the data's size) and,
per store, its headcount, customers, supervisor quality and local market with 90% intervals.
A scenario or sweep file that names it (`chain: path/to/chain.yaml`, relative to the file)
runs on those stores: the model starts from `StoreProfile` instead of its generic draws, and
the chain's parameters sit under the file's own (the file's win).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sim.model.checks import unknown_parameter_message
from sim.model.parameters import PARAMETER_NAMES, Parameters
from sim.model.setup import StoreProfile

ALLOWED = "a chain file (the chain.yaml that `loyalty-sim calibrate --stores` writes)"
# Per store: key -> (lowest, highest) allowed.
STORE_KEYS = {"headcount": (1, 100_000), "customers": (1, 100_000_000),
              "supervisor_quality": (0, 1), "local_market": (0, 1)}


class ChainFileError(Exception):
    """A chain file cannot be used; `str(err)` is one line naming file, key and what is
    allowed."""


@dataclass(frozen=True)
class ChainFile:
    """A read chain file: its stores and its parameters."""

    path: str
    name: str
    profile: StoreProfile
    parameter_items: tuple[tuple[str, Any], ...]

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.parameter_items)


def resolve(value: str, base: Path | None) -> Path:
    """A chain file's path as given in a spec file: relative to that file's folder."""
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.resolve()


def load_chain_file(path: str) -> ChainFile:
    """Read and check a chain file (cached while it is unchanged on disk); raise
    ChainFileError (one line)."""
    where = Path(path)
    if where.is_dir():
        where = where / "chain.yaml"  # the calibration folder holding it
    try:
        stat = where.stat()
    except OSError:
        return _load(where, 0, -1)  # _load says what is wrong
    return _load(where, stat.st_mtime_ns, stat.st_size)


@cache
def _load(where: Path, mtime_ns: int, size: int) -> ChainFile:
    try:
        doc = yaml.safe_load(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChainFileError(f"{where}: no such file; allowed: {ALLOWED}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        text = " ".join(str(err).split())
        raise ChainFileError(f"{where}: cannot be read ({text}); allowed: {ALLOWED}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("stores"), list):
        raise ChainFileError(f"{where}: key 'stores' is missing; allowed: {ALLOWED}")
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise ChainFileError(f"{where}: key 'parameters' is not a mapping; allowed: "
                             "parameter: value lines")
    for name in params:
        if name not in PARAMETER_NAMES:
            raise ChainFileError(f"{where}: parameters.{name}: "
                                 f"{unknown_parameter_message(str(name))}")
    columns: dict[str, list[Any]] = {"ids": [], **{k: [] for k in STORE_KEYS}}
    for i, store in enumerate(doc["stores"]):
        if not isinstance(store, dict):
            raise ChainFileError(f"{where}: stores[{i}]: is not a mapping; allowed: id, "
                                 f"{', '.join(STORE_KEYS)}")
        columns["ids"].append(str(store.get("id", i + 1)))
        for key, (low, high) in STORE_KEYS.items():
            value = store.get(key)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and (
                math.isfinite(value) and low <= value <= high)
            if not ok:
                raise ChainFileError(f"{where}: stores[{i}].{key}: {value!r} is not allowed; "
                                     f"allowed: a number from {low:g} to {high:g}")
            columns[key].append(float(value))
    if len(set(columns["ids"])) != len(columns["ids"]) or not columns["ids"]:
        raise ChainFileError(f"{where}: stores: ids are empty or repeated; allowed: one "
                             "entry per store with a distinct id")
    params = {**params, "n_stores": len(columns["ids"])}
    try:
        Parameters(**params)
    except (TypeError, ValueError) as err:
        raise ChainFileError(f"{where}: parameters: {err}") from None
    profile = StoreProfile(**{k: tuple(v) for k, v in columns.items()})
    return ChainFile(str(where), str(doc.get("chain", where.parent.name)), profile,
                     tuple(sorted(params.items())))
