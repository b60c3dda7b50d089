"""A sweep's folder: `manifest.json` (the spec, design points, seeds, versions, status and
each session), `spec.yaml`, one Parquet file per finished run in `runs/` (and its weekly series
in `series/` if the spec keeps any), and reading it back (`load_sweep`).

Each run's file is written the moment the run finishes, to a hidden temporary name and renamed
into place, so a file is either whole or absent; a run has exactly one file name, so there can
be no duplicates. The manifest carries a fingerprint of the runs: a different sweep is refused.
"""

from __future__ import annotations

import functools
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.model.parameters import parameter_fields
from sim.studies.experiments import outcome_columns
from sim.studies.provenance import git_state, package_versions, source_digest
from sim.studies.store import (
    RUN_FILE,
    FolderError,
    atomic_json,
    atomic_parquet,
    atomic_write,
    finished_runs,
    now,
    readable,
    remove_stale_temporaries,
    run_file_name,
)
from sim.studies.sweep_design import DesignPoints
from sim.studies.sweep_spec import PlannedRun, SweepSpec, as_spec

FORMAT = 1
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
SERIES_DIR = "series"
ID_COLUMNS = ("run", "point", "arm", "replication", "seed")
_PART = RUN_FILE
_FIELD_TYPES = {f.name: f for f in parameter_fields()}


class SweepFolderError(FolderError):
    """The folder cannot hold this sweep (it holds another one, or is not a sweep folder)."""


@dataclass(frozen=True, eq=False)
class SweepInfo:
    """What a results frame comes from; attached as `frame.attrs["sweep"]`."""

    folder: Path | None  # None for a design not run (design_frame)
    manifest: dict[str, Any]

    def __deepcopy__(self, memo: dict) -> SweepInfo:
        return self  # immutable in use; pandas deep-copies attrs on many operations

    @functools.cached_property
    def spec(self) -> SweepSpec:
        return as_spec(self.manifest["spec"])

    @property
    def design(self) -> DesignPoints:
        d = self.manifest["design"]
        unit = None if d["unit"] is None else np.asarray(d["unit"], dtype=float)
        return DesignPoints(d["method"], tuple(d["factors"]), d["points"], unit)

    @property
    def status(self) -> str:
        return self.manifest["status"]

    @property
    def planned(self) -> int:
        return self.manifest["runs"]["planned"]


def _arrow_type(name: str) -> pa.DataType:
    f = _FIELD_TYPES[name]
    if f.metadata["choices"]:
        return pa.string()
    return pa.int64() if f.type in ("int", int) else pa.float64()


class SweepStore:
    """A sweep's folder: manifest, spec and one Parquet file per finished run."""

    def __init__(self, folder: Path, spec: SweepSpec):
        self.folder = Path(folder)
        self.spec = spec
        self.design = spec.design_points()
        self.plan = spec.plan()
        self.fingerprint = spec.fingerprint()
        self.columns = outcome_columns(spec.outcomes)
        self.manifest: dict[str, Any] = {}

    @property
    def runs_dir(self) -> Path:
        return self.folder / RUNS_DIR

    def check(self, source: str | Path | None) -> None:
        """Read the folder's manifest, or prepare a new one; refuse another sweep's folder.
        Writes nothing."""
        path = self.folder / MANIFEST
        if path.exists():
            manifest = _read_manifest(self.folder)
            if manifest.get("fingerprint") != self.fingerprint:
                made_by = manifest.get("model_source_sha256")
                if made_by and self.spec.fingerprint(made_by) == manifest.get("fingerprint"):
                    raise SweepFolderError(
                        f"{self.folder}: its runs were made by other model code (sim source "
                        f"{made_by[:8]}, now {source_digest()[:8]}), and carrying on or reusing "
                        "them would mix two models; allowed: another folder, or the code that "
                        "made them")
                raise SweepFolderError(
                    f"{self.folder}: holds another sweep ('{manifest.get('name')}', "
                    f"{manifest.get('runs', {}).get('planned')} runs) or the same one with "
                    "other model defaults or code; allowed: the same spec, or another folder")
            self.manifest = manifest
        elif self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise SweepFolderError(f"{self.folder}: exists and is not a sweep folder (no "
                                   f"{MANIFEST}); allowed: a new or empty folder")
        else:
            self.manifest = self._new_manifest(source)

    def open(self, source: str | Path | None) -> None:
        """Create the folder (if new) and start a session in the manifest."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        if self.spec.series:
            (self.folder / SERIES_DIR).mkdir(exist_ok=True)
        remove_stale_temporaries(self.folder, self.runs_dir, self.folder / SERIES_DIR)
        if not (self.folder / "spec.yaml").exists():
            self._write_spec(source)
        self.manifest["status"] = "running"
        self.manifest["reason"] = None
        self.manifest["sessions"].append({
            "started": now(), "finished": None, "ran": 0,
            "already_done": len(self.finished_ids()), "executor": None,
            "versions": package_versions(), "git": git_state(), "platform": platform.platform(),
            "cpu_count": os.cpu_count()})
        self._save_manifest()

    def _new_manifest(self, source: str | Path | None) -> dict[str, Any]:
        return new_manifest(self.spec, self.design, len(self.plan), self.fingerprint,
                             self.columns, source)

    def _write_spec(self, source: str | Path | None) -> None:
        import yaml

        header = (f"# The sweep as run{f' (from {source})' if source else ''}.\n"
                  "# Run it again (or finish it) with: loyalty-sim sweep <this file> --out "
                  "<this folder>\n")
        body = yaml.safe_dump(self.spec.as_file_data(), sort_keys=False, allow_unicode=True,
                              width=100)
        atomic_write(self.folder / "spec.yaml", (header + body).encode())

    def mark_complete(self) -> None:
        if self.manifest.get("status") != "complete":
            self.manifest["runs"]["finished"] = len(self.plan)
            self.manifest["status"], self.manifest["reason"] = "complete", None
            self._save_manifest()

    def intact(self) -> bool:
        """Whether every planned run is stored and its files can be read (changes nothing)."""
        folders = [self.runs_dir, *((self.folder / SERIES_DIR,) if self.spec.series else ())]
        return all(readable(f / run_file_name(r.run)) for r in self.plan for f in folders)

    def finished_ids(self, *, check: bool = False) -> set[int]:
        """Ids of the runs stored; with `check`, unreadable run files are set aside (with a
        warning) so that those runs are made again."""
        series = (self.folder / SERIES_DIR,) if self.spec.series else ()
        return finished_runs(self.runs_dir, check=check, companions=series)

    def write_run(self, planned: PlannedRun, row: pd.DataFrame, weekly: pd.DataFrame,
                  seconds: float) -> None:
        """Write one finished run (its series first: the run file marks it finished)."""
        ids = {"run": pa.array([planned.run], pa.int64()),
               "point": pa.array([planned.point], pa.int64()),
               "arm": pa.array([planned.arm], pa.string()),
               "replication": pa.array([planned.replication], pa.int64()),
               "seed": pa.array([planned.job.seed], pa.int64())}
        values = self.design.values[planned.point]
        factors = {n: pa.array([values[n]], _arrow_type(n)) for n in self.design.factors}
        outcomes = {c: pa.array([float(row[c].iloc[0])], pa.float64()) for c in self.columns}
        name = run_file_name(planned.run)
        if self.spec.series:
            n = len(weekly)
            cols = {k: pa.array(np.repeat(v.to_numpy(zero_copy_only=False), n), v.type)
                    for k, v in ids.items()}
            cols["week"] = pa.array(weekly["week"].to_numpy(np.int64))
            for s in self.spec.series:
                cols[s] = pa.array(weekly[s].to_numpy(np.float64))
            atomic_parquet(self.folder / SERIES_DIR / name, pa.table(cols))
        table = pa.table({**ids, **factors, **outcomes,
                          "seconds": pa.array([float(seconds)], pa.float64())})
        atomic_parquet(self.runs_dir / name, table)

    def close_session(self, ran: int, seconds: float, status: str, reason: str,
                      executor: str) -> None:
        finished = len(self.finished_ids())
        session = self.manifest["sessions"][-1]
        session.update(finished=now(), ran=ran, seconds=round(seconds, 3), executor=executor,
                       runs_per_second=round(ran / seconds, 4) if seconds > 0 else None)
        self.manifest["runs"]["finished"] = finished
        self.manifest["status"] = status
        self.manifest["reason"] = reason or None
        self._save_manifest()

    def _save_manifest(self) -> None:
        atomic_json(self.folder / MANIFEST, self.manifest, default=_json_default)


def new_manifest(spec: SweepSpec, design: DesignPoints, planned: int, fingerprint: str,
                  columns: list[str], source: str | Path | None) -> dict[str, Any]:
    """The manifest of a sweep not run yet (status 'planned', no sessions)."""
    return {
        "format": FORMAT, "kind": "loyalty-sim sweep", "name": spec.name,
        "question": spec.question, "fingerprint": fingerprint,
        "model_source_sha256": source_digest(),
        "source_file": None if source is None else str(source),
        "spec": spec.as_file_data(),
        "design": {"method": design.method, "factors": list(design.factors),
                   "points": design.values,
                   "unit": None if design.unit is None else design.unit.tolist()},
        "arms": spec.arm_names,
        "contrasts": {k: c.model_dump() for k, c in spec.contrasts.items()},
        "horizon_weeks": spec.horizon_weeks,
        "seeds": {"base": spec.seed, "replications": spec.replications,
                  "rule": "replication r of every design point and arm uses seed base + r"},
        "outcomes": spec.outcomes, "columns": columns, "series": spec.series,
        "runs": {"planned": planned, "finished": 0},
        "status": "planned", "reason": None, "created": now(), "sessions": [],
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the manifest")


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepFolderError(f"{folder}: is not a sweep folder (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise SweepFolderError(f"{path}: cannot be read ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "loyalty-sim sweep":
        raise SweepFolderError(f"{path}: is not a loyalty-sim sweep manifest")
    return manifest


def load_sweep(folder: str | Path, *, series: bool = False) -> pd.DataFrame:
    """Every finished run of a sweep folder as one DataFrame, sorted by run id.

    Columns: run, point (design point), arm, replication, seed, one column per factor (the
    design point's value; a factor limited to some arms is applied only in those), one per
    outcome (units in sim.studies.experiments.COLUMN_UNITS), and seconds (worker time of the run).
    With `series=True`: the weekly series instead, one row per run and week.
    `frame.attrs["sweep"]` is a SweepInfo (folder, manifest, spec, design).
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    info = SweepInfo(folder, manifest)
    runs_dir = folder / RUNS_DIR
    files = sorted(p for p in runs_dir.glob("run=*.parquet") if _PART.match(p.name))
    if series:
        if not manifest["series"]:
            raise ValueError(f"{folder}: the sweep keeps no weekly series (its spec has no "
                             "'series')")
        files = [folder / SERIES_DIR / p.name for p in files]
        files = [p for p in files if p.exists()]
    frame = _read_parts(files)
    if frame is None:
        columns = (list(ID_COLUMNS) + (["week", *manifest["series"]] if series else
                                       [*manifest["design"]["factors"], *manifest["columns"],
                                        "seconds"]))
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    else:
        frame = frame.sort_values(["run", "week"] if series else "run", kind="stable")
        frame = frame.reset_index(drop=True)
    frame.attrs["sweep"] = info
    return frame


def _read_parts(files: list[Path]) -> pd.DataFrame | None:
    if not files:
        return None
    import pyarrow.dataset as ds

    table = ds.dataset([str(p) for p in files], format="parquet").to_table()
    return table.to_pandas()
