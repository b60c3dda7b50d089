"""The parallel runner (same results whatever the workers, finished work kept when a run
stops) and the confidence intervals used in scenario reports."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sim.studies.runner import Job, RunInterrupted, run_jobs, simulate
from sim.studies.stats import mean_ci, mean_ci_rows, paired_difference_ci

TINY = {"n_stores": 3, "employees_per_store": 5, "customers_per_store": 100}


def jobs(n: int = 4, weeks: int = 12) -> list[Job]:
    return [Job(f"arm{i % 2}", dict(TINY, coaching_hours=float(i % 2) * 2),
                ({"week": 3, "set": {"hr_budget": 100.0}},), 40 + i // 2, weeks)
            for i in range(n)]


def by_index(results) -> dict:
    return {r.index: r for r in results}


def test_results_do_not_depend_on_workers_or_executor():
    work = jobs(6)
    serial = by_index(run_jobs(work, workers=1))
    pooled = by_index(run_jobs(work, workers=2))
    with ThreadPoolExecutor(2) as pool:
        threaded = by_index(run_jobs(work, executor=pool))
    assert sorted(serial) == sorted(pooled) == sorted(threaded) == list(range(6))
    for i in range(6):
        assert serial[i].job == work[i]
        for other in (pooled[i], threaded[i]):
            assert other.model_frame.equals(serial[i].model_frame)
            assert other.stores_frame.equals(serial[i].stores_frame)
    # and the jobs really differ from one another
    assert not serial[0].model_frame.equals(serial[2].model_frame)


def _kill_self_on_boom(job: Job):
    if job.label == "boom":
        os.kill(os.getpid(), signal.SIGKILL)
    return simulate(job)


def _fail_on_boom(job: Job):
    if job.label == "boom":
        raise ValueError("bad luck")
    return simulate(job)


def _interrupt_on_boom(job: Job):
    if job.label == "boom":
        raise KeyboardInterrupt
    return simulate(job)


def test_a_killed_worker_stops_the_run_and_keeps_what_finished():
    work = jobs(3) + [Job("boom", TINY, (), 1, 12)]
    got = []
    with pytest.raises(RunInterrupted) as info:
        for result in run_jobs(work, workers=2, simulate=_kill_self_on_boom):
            got.append(result)
    assert info.value.reason == "a worker process died"
    assert info.value.finished == len(got) and info.value.total == 4
    assert all(r.job.label != "boom" and len(r.model_frame) == 12 for r in got)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_run_is_named_and_the_others_are_kept(workers):
    work = [Job("boom", TINY, (), 1, 12)] + jobs(2)
    got = []
    with pytest.raises(RunInterrupted) as info:
        for result in run_jobs(work, workers=workers, simulate=_fail_on_boom):
            got.append(result)
    assert "run 'boom' with seed 1 failed (ValueError: bad luck)" in info.value.reason
    assert all(r.job.label != "boom" for r in got)


def test_ctrl_c_in_this_process_keeps_the_runs_before_it():
    work = jobs(2) + [Job("boom", TINY, (), 1, 12)] + jobs(2)
    got = []
    with pytest.raises(RunInterrupted, match="interrupted"):
        for result in run_jobs(work, workers=1, simulate=_interrupt_on_boom):
            got.append(result)
    assert [r.index for r in got] == [0, 1]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers = 0 is not allowed"):
        list(run_jobs(jobs(1), workers=0))


# ------------------------------------------------------------------------------ stats
def test_mean_ci_covers_the_true_mean_95_percent_of_the_time():
    # 4,000 samples of 5 from N(10, 3): the t interval should cover 10 in 95% of them
    # (binomial sd 0.34 percentage points; tolerance 1.2).
    rng = np.random.default_rng(7)
    samples = rng.normal(10.0, 3.0, size=(4000, 5))
    covered = [(e.low <= 10.0 <= e.high) for e in map(mean_ci, samples)]
    assert np.mean(covered) == pytest.approx(0.95, abs=0.012)
    # the normal (z) interval would be too narrow for n = 5: it covers clearly less
    z_half = 1.96 * samples.std(axis=1, ddof=1) / np.sqrt(5)
    z_cover = np.mean(np.abs(samples.mean(axis=1) - 10.0) <= z_half)
    assert z_cover < 0.92


def test_paired_difference_removes_what_the_pair_shares():
    rng = np.random.default_rng(3)
    shared = rng.normal(0, 10, 20)  # e.g. chain size: the same in both arms with one seed
    base = shared + rng.normal(0, 1, 20)
    treated = shared + 2.0 + rng.normal(0, 1, 20)
    paired = paired_difference_ci(treated, base)
    unpaired_half = mean_ci(treated).half_width + mean_ci(base).half_width
    assert paired.low < 2.0 < paired.high and paired.excludes_zero()
    assert paired.half_width < unpaired_half / 5


def test_too_few_values_give_no_interval_and_missing_pairs_are_dropped():
    one = mean_ci([4.0])
    assert one.mean == 4.0 and np.isnan(one.low) and one.n == 1
    assert mean_ci([]).n == 0
    d = paired_difference_ci([1.0, np.nan, 3.0, 5.0], [0.0, 1.0, 1.0, 2.0])
    assert d.n == 3 and d.mean == pytest.approx(2.0)
    with pytest.raises(ValueError, match="same length"):
        paired_difference_ci([1.0], [1.0, 2.0])


def test_row_wise_intervals_match_one_row_at_a_time():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(7, 6))
    x[2, 1] = np.nan
    x[4, :5] = np.nan
    mean, low, high = mean_ci_rows(x)
    for i, row in enumerate(x):
        e = mean_ci(row)
        assert mean[i] == pytest.approx(e.mean)
        if e.n >= 2:
            assert (low[i], high[i]) == (pytest.approx(e.low), pytest.approx(e.high))
        else:
            assert np.isnan(low[i]) and np.isnan(high[i])
