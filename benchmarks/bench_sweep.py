"""Sweep throughput (`make bench-sweep`): runs per second of the default chain (20 stores,
about 20,000 customers, 156 weeks) with 1 and 2 workers, parallel efficiency, and the time
for 1,000 runs.

Each measurement is a real sweep through `sim.sweep` (result store, Parquet files, manifest)
into a fresh temporary folder: 1 worker runs in this process, N workers are the local process
pool (its start-up is included, as a user pays it; "steady" is the pace between the first
and the last run file, once the workers are up). Issue 4's target: 1,000 runs in under 10
minutes on 2 cores, with at least 80% parallel efficiency. The load average before and after
is printed: on a shared machine the figures are only as good as the machine is quiet.

    python benchmarks/bench_sweep.py                 # about 1 minute: 24 runs x 1, 48 x 2
    python benchmarks/bench_sweep.py --full          # also the 1,000 runs themselves
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

WEEKS = 156


def spec(runs: int, name: str) -> dict:
    """`runs` distinct runs of the default chain: coaching hours on a grid, 2 replications."""
    points = max(1, runs // 2)
    return {
        "name": name, "question": "How fast do sweeps run?", "horizon_weeks": WEEKS,
        "replications": 2 if runs > 1 else 1, "seed": 1,
        "factors": {"coaching_hours": {"low": 0.0, "high": 4.0, "points": points}}
        if points > 1 else {},
        "outcomes": ["revenue", "profit", "customer_churn_pct", "employee_turnover_pct",
                     "employee_engagement", "customer_engagement", "policy_cost"],
    }


def measure(runs: int, workers: int, root: Path, progress: bool) -> dict:
    from sim.studies.sweep import sweep

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    frame = sweep(spec(runs, f"bench-{workers}w-{runs}"), out=root / f"w{workers}-{runs}",
                  workers=workers, progress=progress)
    wall = time.perf_counter() - start
    # Between the first and the last run file: the pace once the workers are up.
    written = sorted(p.stat().st_mtime for p in (root / f"w{workers}-{runs}" / "runs").iterdir())
    steady = (len(written) - 1) / (written[-1] - written[0]) if len(written) > 2 else float("nan")
    return {"workers": workers, "runs": len(frame), "wall_s": wall,
            "runs_per_s": len(frame) / wall, "steady_runs_per_s": steady,
            "worker_s_per_run": float(frame["seconds"].mean()),
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs1", type=int, default=24, help="runs with 1 worker")
    parser.add_argument("--runs2", type=int, default=48, help="runs with 2 workers")
    parser.add_argument("--full", action="store_true", help="also time 1,000 runs")
    parser.add_argument("--workers", type=int, default=2, help="the parallel case's workers")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    args = parser.parse_args()

    print(f"cores: {os.cpu_count()}; load average now: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        one = measure(args.runs1, 1, root, args.progress)
        many = measure(args.runs2, args.workers, root, args.progress)
        efficiency = many["runs_per_s"] / (args.workers * one["runs_per_s"])
        steady = many["steady_runs_per_s"] / (args.workers * one["steady_runs_per_s"])
        print(f"{'workers':>8}{'runs':>7}{'wall s':>9}{'runs/s':>9}{'steady':>9}{'s/run':>8}"
              f"{'load before':>13}{'load after':>12}")
        for r in (one, many):
            print(f"{r['workers']:>8}{r['runs']:>7}{r['wall_s']:>9.1f}{r['runs_per_s']:>9.3f}"
                  f"{r['steady_runs_per_s']:>9.3f}{r['worker_s_per_run']:>8.2f}"
                  f"{r['load_before']:>13.2f}{r['load_after']:>12.2f}")
        projected = 1000 / many["runs_per_s"]
        print(f"parallel efficiency with {args.workers} workers: {efficiency:.0%} overall, "
              f"{steady:.0%} once the workers are up (target >= 80%)")
        print(f"1,000 runs with {args.workers} workers, projected: {projected / 60:.1f} min "
              "(target < 10 min)")
        result = {"one": one, "many": many, "efficiency": efficiency,
                  "steady_efficiency": steady,
                  "projected_1000_s": projected}
        if args.full:
            full = measure(1000, args.workers, root, args.progress)
            print(f"1,000 runs with {args.workers} workers, measured: "
                  f"{full['wall_s'] / 60:.1f} min ({full['runs_per_s']:.2f} runs/s, load "
                  f"{full['load_before']:.2f} -> {full['load_after']:.2f})")
            result["full"] = full
    print(json.dumps(result))


if __name__ == "__main__":
    main()
