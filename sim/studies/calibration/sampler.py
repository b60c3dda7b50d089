"""A pyabc sampler whose generations do not depend on how many workers draw them.

pyabc's multicore and Dask samplers reseed their workers from the operating system and keep
particles in the order they finish, so the same seed gives a different posterior with two
workers than with one. Here each particle of a generation is one job with its own seed, drawn
in this process from numpy's global generator (which the engine seeds): the job draws
candidates from its seed until one is accepted, and `map` hands the jobs back in order. The
generation is then the same whether the jobs run in this process, on a pool of local processes
or on a Dask cluster (through its `concurrent.futures` executor, `Client.get_executor()`).

The price is static scheduling: a generation waits for its slowest job (pyabc's
`MappingSampler` has the same), which matters little with many more particles than workers.
"""

from __future__ import annotations

import functools
import random
import threading
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler

from sim.studies import runner

# pyabc and the model draw from the process's global generators, so jobs that share a process
# (threads of a Dask worker, or this process) take turns.
_GLOBAL_GENERATORS = threading.Lock()


class SeededSampler(MappingSampler):
    """One seeded job per particle, mapped in this process (1 worker), on a local pool
    (`workers` > 1) or on the Dask cluster at `cluster`. `close()` ends the pool."""

    def __init__(self, workers: int = 1, cluster: str | None = None):
        super().__init__(map_=map)
        self.workers, self.cluster = workers, cluster
        self._pool: Any = None
        self._client: Any = None

    @property
    def where(self) -> str:
        """Where the jobs run, in words (for the calibration's record)."""
        if self.cluster is not None:
            return f"the Dask cluster at {self.cluster}"
        return "this process" if self.workers <= 1 else f"{self.workers} local processes"

    def _mapper(self) -> Any:
        if self.cluster is not None:
            if self._client is None:
                from distributed import Client

                self._client = Client(self.cluster)
            return self._client.get_executor().map
        if self.workers > 1:
            if self._pool is None:
                self._pool = runner.worker_pool(self.workers)
            return self._pool.map
        return map

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
        results = list(self._mapper()(job, seeds))
        self.nr_evaluations_ = sum(tried for _, tried in results)
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        return sample

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
