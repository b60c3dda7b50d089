"""Columnar storage for a vectorised population of agents (employees or customers).

One row per agent, one numpy array per attribute, and a stable integer id per agent that is
never reused. Departed agents are moved to an archive from time to time so that the weekly
rules only touch agents who are still there; the archive keeps them readable by id.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


class Population:
    """A growable table of agents with stable ids.

    Args:
        columns: column name -> numpy dtype.
        capacity: initial number of rows to allocate.
    """

    def __init__(self, columns: Mapping[str, np.dtype | type], capacity: int = 16):
        self.dtypes = {"id": np.dtype(np.int64), "active": np.dtype(bool)}
        self.dtypes.update({k: np.dtype(v) for k, v in columns.items()})
        capacity = max(int(capacity), 16)
        self._data = {k: np.zeros(capacity, dtype=d) for k, d in self.dtypes.items()}
        self.size = 0
        self.next_id = 0
        self._archive: list[dict[str, np.ndarray]] = []

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is not None and name in data:
            return data[name][: self.size]
        raise AttributeError(name)

    def column(self, name: str) -> np.ndarray:
        """Writable view of a column over the current rows."""
        return self._data[name][: self.size]

    def add(self, count: int, **values) -> slice:
        """Append `count` new active agents; returns the slice of their rows."""
        unknown = set(values) - set(self.dtypes)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        count = int(count)
        end = self.size + count
        if end > len(self._data["id"]):
            new_capacity = max(end, 2 * len(self._data["id"]))
            for k, arr in self._data.items():
                grown = np.zeros(new_capacity, dtype=arr.dtype)
                grown[: self.size] = arr[: self.size]
                self._data[k] = grown
        rows = slice(self.size, end)
        self._data["id"][rows] = np.arange(self.next_id, self.next_id + count)
        self._data["active"][rows] = True
        for k, v in values.items():
            self._data[k][rows] = v
        self.size = end
        self.next_id += count
        return rows

    @property
    def n_active(self) -> int:
        return int(np.count_nonzero(self.active))

    def compact(self, min_inactive_share: float = 0.125) -> bool:
        """Move departed rows to the archive when they are at least this share of rows."""
        active = self.active
        n_inactive = self.size - int(np.count_nonzero(active))
        if n_inactive == 0 or n_inactive < min_inactive_share * self.size:
            return False
        self._archive.append({k: arr[: self.size][~active].copy() for k, arr in
                              self._data.items()})
        keep = np.flatnonzero(active)
        for arr in self._data.values():
            arr[: len(keep)] = arr[keep]
        self.size = len(keep)
        return True

    def frame(self, include_departed: bool = False) -> pd.DataFrame:
        """The agents as a DataFrame indexed by id (active ones, or everyone ever)."""
        parts = [{k: arr[: self.size].copy() for k, arr in self._data.items()}]
        if include_departed:
            parts = self._archive + parts
        table = {k: np.concatenate([p[k] for p in parts]) for k in self.dtypes}
        df = pd.DataFrame(table).sort_values("id").set_index("id")
        if not include_departed:
            df = df[df["active"]]
        return df

    def lookup(self, agent_id: int) -> dict:
        """One agent's state by id, whether still present or departed."""
        ids = self._data["id"][: self.size]
        pos = int(np.searchsorted(ids, agent_id))
        if pos < self.size and ids[pos] == agent_id:
            return {k: arr[pos].item() for k, arr in self._data.items()}
        for part in self._archive:
            pos = int(np.searchsorted(part["id"], agent_id))
            if pos < len(part["id"]) and part["id"][pos] == agent_id:
                return {k: arr[pos].item() for k, arr in part.items()}
        raise KeyError(f"no agent with id {agent_id}")


def rank_within_store(store: np.ndarray, key: np.ndarray, n_stores: int) -> np.ndarray:
    """Rank (0 = first) of each row within its store, by ascending key."""
    order = np.lexsort((key, store))
    counts = np.bincount(store, minlength=n_stores)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(store), dtype=np.int64)
    rank[order] = np.arange(len(store)) - starts[store[order]]
    return rank


def weighted_pick_per_store(store: np.ndarray, weight: np.ndarray, counts: np.ndarray,
                            g: np.random.Generator) -> np.ndarray:
    """Rows to keep: `counts[s]` rows of each store s, drawn without replacement with
    probability proportional to `weight` (Efraimidis-Spirakis keys), in store order."""
    key = np.log(g.random(len(store))) / weight
    order = np.lexsort((-key, store))
    rank = np.empty(len(store), dtype=np.int64)
    starts = np.cumsum(np.bincount(store, minlength=len(counts))) - np.bincount(
        store, minlength=len(counts))
    rank[order] = np.arange(len(store)) - starts[store[order]]
    return np.flatnonzero(rank < counts[store])
