"""Run many simulations in parallel and hand back their weekly frames as they finish.

A job is (label, params, events, seed, weeks). Each job builds `LoyaltyModel(rng=seed,
events=events, **params)`, runs it for `weeks` and returns its `model_frame()` and
`stores_frame()`. A job's result depends only on the job, never on which worker ran it or in
what order, so results are the same whatever the number of workers.

Jobs run in a process pool of our own (default: one worker per core), in this process when
`workers == 1`, or in any `concurrent.futures.Executor` handed in (e.g. a Dask
`Client.get_executor()`). If the run stops early (Ctrl-C, a worker killed, a job failing),
`run_jobs` raises `RunInterrupted` after every finished result has been yielded.

Our pool starts its workers from a fork server (never by forking a process that may hold
threads), so a script that calls `run_jobs` with more than one worker needs the usual
`if __name__ == "__main__":` guard, and a custom `simulate` must be a top-level function.
No process of the pool outlives the process that started it, even after `kill -9`: the fork
server and every worker get a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`), and each
worker also watches the starting process and exits when it is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

CTRL_C = "interrupted (Ctrl-C)"
SIGTERM = "terminated (SIGTERM)"
_PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C (see `interrupt_on_sigterm`)."""

    sigterm = True


def stop_reason(err: BaseException) -> str:
    """The words for what stopped a run: Ctrl-C or SIGTERM."""
    return SIGTERM if getattr(err, "sigterm", False) else CTRL_C


class Job(NamedTuple):
    """One simulation: a label (e.g. the arm), parameters, events, a seed, a horizon and, for a
    chain file's runs, the chain's own stores (`sim.model.setup.StoreProfile`)."""

    label: str
    params: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    seed: int
    weeks: int
    chain: Any = None


@dataclass
class JobResult:
    """A finished job: its position in the job list, the job and its frames."""

    index: int
    job: Job
    model_frame: pd.DataFrame
    stores_frame: pd.DataFrame
    seconds: float


class ClusterUnavailable(ValueError):
    """No Dask scheduler answered at the given address."""


def connect(address: str) -> Any:
    """A `distributed.Client` of the Dask scheduler at `address`; raise ClusterUnavailable
    (one line, with what is allowed) if none answers within 10 s."""
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterUnavailable(
            f"cannot connect to a Dask scheduler at {address} ({err}); allowed: the address "
            "of a running scheduler, e.g. tcp://host:8786") from None


class RunInterrupted(Exception):
    """The run stopped early; results finished before were already yielded."""

    def __init__(self, reason: str, finished: int, total: int, by_user: bool = False):
        super().__init__(f"{reason} after {finished} of {total} runs")
        self.reason = reason
        self.finished = finished
        self.total = total
        self.by_user = by_user  # Ctrl-C, as opposed to a failure


def simulate(job: Job) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Run one job; return its weekly model frame, its store frame and the seconds it took."""
    from sim.model import LoyaltyModel

    start = time.perf_counter()
    model = LoyaltyModel(rng=job.seed, events=list(job.events), chain=job.chain, **job.params)
    model.run(job.weeks)
    return model.model_frame(), model.stores_frame(), time.perf_counter() - start


def default_workers() -> int:
    return os.cpu_count() or 1


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (a KeyboardInterrupt) in the main thread,
    so a terminated run stops exactly as after Ctrl-C: finished work kept, workers ended.
    Does nothing outside the main thread (only it may set signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends (for a few file writes that must finish)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return


def _watch(pid: int) -> None:
    """Exit this process as soon as process `pid` has ended."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.5)
    os._exit(1)


def _init_worker(owner: int) -> None:
    # Ctrl-C reaches every process of the terminal's group; only the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()  # the parent is the fork server, which dies with `owner`
    threading.Thread(target=_watch, args=(owner,), daemon=True, name="owner-watch").start()


def _pool_context() -> multiprocessing.context.BaseContext:
    # Forking a process that has threads (progress bar, Dask, test runners) can deadlock;
    # a fork server started once with the model imported is safe and nearly as fast.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # The guard module's import makes the fork server die with this process.
        ctx.set_forkserver_preload(["sim.studies._forkserver_guard", "sim.studies.runner",
                                    "sim.model"])
        return ctx
    return multiprocessing.get_context("spawn")


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes that ignore Ctrl-C (the parent decides) and die with
    this process, however it ends."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                               initializer=_init_worker, initargs=(os.getpid(),))


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
    description: str = "simulating",
    done: int = 0,
    simulate: Callable[[Job], tuple[pd.DataFrame, pd.DataFrame, float]] = simulate,
) -> Iterator[JobResult]:
    """Run `jobs` and yield each JobResult as it finishes (in finishing order).

    Args:
        jobs: the simulations to run.
        workers: worker processes of our own pool (default: os.cpu_count()); 1 runs the jobs
            one after the other in this process. Ignored when `executor` is given.
        executor: any concurrent.futures.Executor to run the jobs instead (not shut down).
        progress: show a progress bar (on stderr).
        description: the progress bar's label.
        done: runs finished before (found in a results folder): the bar starts there and
            counts `done + len(jobs)` in all.
        simulate: the function a worker applies to a job (top-level, so it can be pickled).

    Raises:
        RunInterrupted: after yielding every finished result, if Ctrl-C was pressed, a worker
            died or a job failed.
    """
    jobs = list(jobs)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers = {workers} is not allowed: expected a whole number >= 1")
    with progress_bar(progress, description, done + len(jobs), done) as advance:
        if executor is None and workers == 1:
            yield from _run_here(jobs, simulate, advance)
        else:
            yield from _run_pooled(jobs, simulate, advance, executor, workers)


def _run_here(jobs: list[Job], simulate: Callable, advance: Callable) -> Iterator[JobResult]:
    done = 0
    for index, job in enumerate(jobs):
        try:
            model_frame, stores_frame, seconds = simulate(job)
        except KeyboardInterrupt as err:
            raise RunInterrupted(stop_reason(err), done, len(jobs), by_user=True) from None
        except Exception as err:
            raise RunInterrupted(_failed(job, err), done, len(jobs)) from err
        done += 1
        advance()
        yield JobResult(index, job, model_frame, stores_frame, seconds)


def _run_pooled(jobs: list[Job], simulate: Callable, advance: Callable,
                executor: Executor | None, workers: int) -> Iterator[JobResult]:
    own = executor is None
    if executor is None:
        executor = worker_pool(min(workers, max(len(jobs), 1)))
    futures: dict[Any, int] = {}
    handed: set[int] = set()
    failure = ""

    def result_of(future: Any) -> JobResult:
        index = futures[future]
        model_frame, stores_frame, seconds = future.result()
        handed.add(index)
        advance()
        return JobResult(index, jobs[index], model_frame, stores_frame, seconds)

    try:
        futures = {executor.submit(simulate, job): i for i, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                try:
                    result = result_of(future)
                except CancelledError:
                    continue
                except BrokenProcessPool:
                    # Every unfinished run fails at once; keep going to hand back the rest.
                    failure = failure or "a worker process died"
                    continue
                except Exception as err:
                    if not failure:
                        failure = _failed(jobs[futures[future]], err)
                        for other in futures:
                            other.cancel()
                    continue
                yield result
        except KeyboardInterrupt as err:
            failure = stop_reason(err)
            for other in futures:
                other.cancel()
            for future, index in futures.items():  # finished but not yet handed back
                if (index not in handed and future.done() and not future.cancelled()
                        and future.exception() is None):
                    yield result_of(future)
    finally:
        for future in futures:
            future.cancel()
        if own:
            if failure or len(handed) < len(jobs):
                stop_workers(executor)
            executor.shutdown(wait=True, cancel_futures=True)
    if failure:
        raise RunInterrupted(failure, len(handed), len(jobs),
                             by_user=failure in (CTRL_C, SIGTERM))


def stop_workers(executor: Executor) -> None:
    """End our own pool's workers now instead of letting them finish runs nobody will read."""
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def _failed(job: Job, err: BaseException) -> str:
    return f"run '{job.label}' with seed {job.seed} failed ({type(err).__name__}: {err})"


class _RateColumn:
    """'x.xx runs/s' from rich's recent-speed estimate (built lazily: rich loads on use)."""

    @staticmethod
    def make() -> Any:
        from rich.progress import ProgressColumn
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text("-.-- runs/s" if speed is None else f"{speed:.2f} runs/s")

        return Rate()


class progress_bar:
    """Context manager giving an `advance()` callable; a rich bar on stderr when shown (runs
    done of all, runs per second, time left). Started at `done`, so a resumed run shows its
    true position. The one progress bar of scenario runs and sweeps."""

    def __init__(self, show: bool, description: str, total: int, done: int = 0):
        self.show, self.description, self.total, self.done = show, description, total, done
        self._progress: Any = None

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("runs"), _RateColumn.make(), TimeElapsedColumn(), TextColumn("left"),
            TimeRemainingColumn(), console=Console(stderr=True), speed_estimate_period=60)
        self._progress.start()
        task = self._progress.add_task(escape(self.description), total=self.total,
                                       completed=self.done)
        return lambda: self._progress.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
