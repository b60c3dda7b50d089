"""A pyabc sampler whose generations do not depend on how many workers draw them.

pyabc's multicore and Dask samplers reseed their workers from the operating system and keep
particles in the order they finish, so the same seed gives a different posterior with two
workers than with one. Here each particle of a generation is one job with its own seed, drawn
in this process from numpy's global generator (which the engine seeds): the job draws
candidates from its seed until one is accepted, and the jobs are put back in seed order. The
generation is then the same whether the jobs run in this process, on a pool of local processes
or on a Dask cluster (through its `concurrent.futures` executor, `Client.get_executor()`).

With a `journal` folder, each job's result is written there the moment it finishes, so a
generation stopped part-way (Ctrl-C, SIGTERM, kill -9, the end of a working session) keeps the
particles it has drawn: run again, the generation asks for the same seeds (the engine keeps the
state of the generator they are drawn from, `engine.start_generation`) and only the missing
jobs run. A generation of a long fit can then take more than one session.

The price is static scheduling: a generation waits for its slowest job (pyabc's
`MappingSampler` has the same), which matters little with many more particles than workers.
"""

from __future__ import annotations

import functools
import pickle
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler

from sim.studies import runner, store

# pyabc and the model draw from the process's global generators, so jobs that share a process
# (threads of a Dask worker, or this process) take turns.
_GLOBAL_GENERATORS = threading.Lock()


class SeededSampler(MappingSampler):
    """One seeded job per particle, run in this process (1 worker), on a local pool
    (`workers` > 1) or on the Dask cluster at `cluster`; finished jobs are kept in `journal`
    (a folder) until their generation is stored. `on_particle(t, drawn, n, tried)`, when set,
    hears of each particle as it is drawn (those the journal held first): the generation, the
    particles drawn of `n` and the candidates they took. `close()` ends the pool."""

    def __init__(self, workers: int = 1, cluster: str | None = None,
                 journal: Path | None = None):
        super().__init__(map_=map)
        self.workers, self.cluster, self.journal = workers, cluster, journal
        self.on_particle: Callable[[int, int, int, int], None] | None = None
        self._pool: Any = None
        self._client: Any = None

    @property
    def where(self) -> str:
        """Where the jobs run, in words (for the calibration's record)."""
        if self.cluster is not None:
            return f"the Dask cluster at {self.cluster}"
        return "this process" if self.workers <= 1 else f"{self.workers} local processes"

    def _executor(self) -> Any:
        """The executor the jobs go to, or None to run them in this process."""
        if self.cluster is not None:
            if self._client is None:
                from distributed import Client

                self._client = Client(self.cluster)
            return self._client.get_executor()
        if self.workers > 1:
            if self._pool is None:
                self._pool = runner.worker_pool(self.workers)
            return self._pool
        return None

    def _run(self, job: Any, seeds: dict[int, int]) -> Iterator[tuple[int, Any]]:
        """(index, result) of each job as it finishes."""
        executor = self._executor()
        if executor is None:
            for i, seed in seeds.items():
                yield i, job(seed)
            return
        futures = {executor.submit(job, seed): i for i, seed in seeds.items()}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def map_function(self, simulate_one: Any, seed: int) -> tuple[Any, int]:
        """Draw candidates from `seed` until one is accepted; leave the caller's generators
        as they were (in this process they are the engine's own stream)."""
        simulate_one = self.unpickle(simulate_one)
        with _GLOBAL_GENERATORS:
            states = np.random.get_state(), random.getstate()  # noqa: NPY002
            np.random.seed(seed)  # noqa: NPY002 (pyabc and the model draw from the global one)
            random.seed(seed)
            try:
                sample, tried = self._create_empty_sample(), 0
                while True:
                    particle = simulate_one()
                    tried += 1
                    sample.append(particle)
                    if particle.accepted:
                        return sample, tried
            finally:
                np.random.set_state(states[0])  # noqa: NPY002
                random.setstate(states[1])

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        seeds = [int(s) for s in np.random.randint(2**31 - 1, size=n)]  # noqa: NPY002
        job = functools.partial(self.map_function, self.pickle(simulate_one))
        kept = None if self.journal is None else self.journal / f"t{t}"
        results = {} if kept is None else _read_journal(kept, seeds)
        todo = {i: s for i, s in enumerate(seeds) if i not in results}
        if kept is not None and todo:
            kept.mkdir(parents=True, exist_ok=True)
        tried = sum(count for _, count in results.values())
        if self.on_particle is not None:
            self.on_particle(t, len(results), n, tried)
        for i, result in self._run(job, todo):
            results[i] = result
            tried += result[1]
            if kept is not None:
                store.atomic_write(kept / _entry(i, seeds[i]), pickle.dumps(result))
            if self.on_particle is not None:
                self.on_particle(t, len(results), n, tried)
        self.nr_evaluations_ = tried
        sample = self._create_empty_sample()
        for i in range(n):
            sample += results[i][0]
        return sample

    def forget(self) -> None:
        """Drop the journal: every generation it held is stored in the history."""
        if self.journal is not None:
            shutil.rmtree(self.journal, ignore_errors=True)

    def close(self, interrupted: bool = False) -> None:
        """End the local pool (at once if `interrupted`) and the cluster client."""
        if self._pool is not None:
            if interrupted:
                runner.stop_workers(self._pool)
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None


def _entry(index: int, seed: int) -> str:
    return f"{index}-{seed}.pickle"


def _read_journal(folder: Path, seeds: list[int]) -> dict[int, Any]:
    """The results of this generation's jobs that an earlier session finished (written whole
    or not at all; a file that cannot be read is drawn again)."""
    found: dict[int, Any] = {}
    for i, seed in enumerate(seeds):
        path = folder / _entry(i, seed)
        if path.is_file():
            try:
                found[i] = pickle.loads(path.read_bytes())
            except Exception:  # noqa: BLE001 (any damage: draw the particle again)
                path.unlink(missing_ok=True)
    return found
